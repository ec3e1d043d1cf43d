//! The bulk benchmark: `hoptrace bulk` at 10k, 50k, 100k probes/s and as fast as it goes (also with `--routed`:
//! each probe routed by the kernel, as the bare loop's are, rather than handed to the interface), beside scamper at its
//! own maximum (`-p 10000`) and a bare C `sendmmsg` loop that sends the same probes and reads nothing, all on one
//! lab in one run. Prints, per run: probes sent, achieved rate, replies matched, CPU per probe (user and system,
//! of the whole process) and peak RSS; then hoptrace's fastest run against the bare loop in alternated pairs, and
//! the goals (the ratios' medians over the pairs) and whether they are met (exit status 1 if not).
//!
//! `bulk-bench HOPTRACE BARE_SENDMMSG` — needs root and the Debian packages `scamper` and `time`
//! (scripts/bench-bulk.sh installs them, compiles the C loop and builds hoptrace in release mode).

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use hoptrace_netlab::{Family, Lab, LabSpec, NodeId};

/// The destinations: 8,192 addresses answered by one namespace.
const RANGE: (Ipv4Addr, u8, u32) = (Ipv4Addr::new(198, 19, 224, 0), 19, 8192);
/// TTL of every probe: past the destination (two hops away), so every probe gets an Echo Reply.
const TTL: u8 = 8;

/// One measured run.
#[derive(Debug, Default, Clone)]
struct Run {
    name: String,
    sent: u64,
    seconds: f64,
    /// Replies matched (hoptrace), received (scamper), or counted by the client's kernel (bare loop).
    replies: u64,
    user: f64,
    system: f64,
    rss_kib: u64,
}

impl Run {
    fn rate(&self) -> f64 {
        self.sent as f64 / self.seconds.max(1e-9)
    }
    fn per_probe_us(&self, cpu: f64) -> f64 {
        cpu * 1e6 / self.sent.max(1) as f64
    }
}

/// Alternated pairs of the fastest hoptrace run and the bare loop.
const PAIRS: usize = 5;
/// A rate that means "as fast as it goes".
const MAX: u64 = 100_000_000;

/// A hoptrace run: its name, rate, probe count and extra arguments.
type Setting = (&'static str, u64, u64, &'static [&'static str]);
/// The paced runs.
const PACED: [Setting; 3] = [
    ("hoptrace -r 10000", 10_000, 20_000, &[]),
    ("hoptrace -r 50000", 50_000, 100_000, &[]),
    ("hoptrace -r 100000", 100_000, 200_000, &[]),
];
/// As fast as it goes, against the bare loop.
const FASTEST: Setting = ("hoptrace (max)", MAX, 400_000, &[]);
/// As fast as it goes, each probe routed as the bare loop's are.
const ROUTED: Setting = ("hoptrace --routed", MAX, 400_000, &["--routed"]);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, hoptrace, bare_path] = &args[..] else {
        eprintln!("usage: bulk-bench HOPTRACE BARE_SENDMMSG");
        return ExitCode::from(2);
    };
    let mut spec = LabSpec::new();
    let client = spec.node("client");
    let router = spec.router("r1");
    let dst = spec.node("dst");
    spec.link(client, router);
    spec.link(router, dst);
    spec.anyip(dst, IpAddr::V4(RANGE.0), RANGE.1);
    let lab = match Lab::build(&spec) {
        Ok(lab) => lab,
        Err(error) => {
            eprintln!("bulk-bench: {error}");
            return ExitCode::FAILURE;
        }
    };
    let dir = std::env::temp_dir().join(format!("bulk-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");

    let hoptrace_run = |setting: &Setting| hoptrace_run(&lab, client, hoptrace, setting, &dir);
    let mut runs: Vec<Run> = PACED.iter().map(hoptrace_run).collect();
    let (max, routed) = (hoptrace_run(&FASTEST), hoptrace_run(&ROUTED));
    let bare = bare_run(&lab, client, bare_path, 400_000, &dir);
    runs.extend([max.clone(), routed.clone(), scamper_run(&lab, client, 20_000, &dir), bare.clone()]);

    println!(
        "{:<20} {:>8} {:>10} {:>9} {:>13} {:>13} {:>8}",
        "", "probes", "probes/s", "replies", "user µs/probe", "sys µs/probe", "RSS MiB"
    );
    for run in &runs {
        println!(
            "{:<20} {:>8} {:>10.0} {:>8.1}% {:>13.2} {:>13.2} {:>8.1}",
            run.name,
            run.sent,
            run.rate(),
            run.replies as f64 * 100.0 / run.sent.max(1) as f64,
            run.per_probe_us(run.user),
            run.per_probe_us(run.system),
            run.rss_kib as f64 / 1024.0
        );
    }
    let cpu = |run: &Run| run.per_probe_us(run.user + run.system);
    // The machine's speed drifts from run to run (the bare loop alone swings by a third): the ratios are taken
    // over alternated pairs, and their medians compared with the goals. So is the user CPU: the kernel splits a
    // process's time into user and system by sampling at its ticks, which can charge a run's user time many times
    // over.
    let pair =
        |ours: &Run, theirs: &Run| (ours.rate() / theirs.rate(), cpu(ours) / cpu(theirs), ours.per_probe_us(ours.user));
    let mut pairs = vec![pair(&max, &bare)];
    for _ in 1..PAIRS {
        let ours = hoptrace_run(&FASTEST);
        let theirs = bare_run(&lab, client, bare_path, 400_000, &dir);
        pairs.push(pair(&ours, &theirs));
    }
    let _ = std::fs::remove_dir_all(&dir);
    let median = |pick: fn(&(f64, f64, f64)) -> f64| {
        let mut values: Vec<f64> = pairs.iter().map(pick).collect();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let (rate_ratio, cpu_ratio, user) = (median(|pair| pair.0), median(|pair| pair.1), median(|pair| pair.2));
    println!(
        "hoptrace --routed against the first bare run (rate / CPU per probe): {:.0} % / {:.2}x",
        100.0 * routed.rate() / bare.rate(),
        cpu(&routed) / cpu(&bare)
    );
    let shown: Vec<String> = pairs.iter().map(|(rate, cpu, _)| format!("{:.0} % / {cpu:.2}x", rate * 100.0)).collect();
    println!("hoptrace (max) against bare, {PAIRS} alternated pairs (rate / CPU per probe): {}", shown.join(", "));
    let goals = [
        (max.rate() >= 100_000.0, format!("at least 100,000 probes/s end to end: {:.0}", max.rate())),
        (
            rate_ratio >= 0.9,
            format!("at least 90 % of the bare sender's rate (median of {PAIRS} pairs): {:.0} %", 100.0 * rate_ratio),
        ),
        (
            max.sent > 0 && max.replies * 100 >= max.sent * 99,
            format!("at least 99 % matched: {:.2} %", max.replies as f64 * 100.0 / max.sent as f64),
        ),
        (
            cpu_ratio <= 1.5,
            format!("CPU per probe within 1.5x the bare sender's (median of {PAIRS} pairs): {cpu_ratio:.2}x"),
        ),
        (user < 0.5, format!("user CPU under 0.5 µs per probe (median of {PAIRS} runs): {user:.2} µs")),
    ];
    let mut report = String::new();
    for (met, goal) in &goals {
        let _ = writeln!(report, "{} {goal}", if *met { "met:    " } else { "NOT MET:" });
    }
    print!("{report}");
    if goals.iter().all(|(met, _)| *met) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `/usr/bin/time`'s user and system seconds and peak RSS (KiB), written to `file`.
fn read_time(file: &std::path::Path) -> (f64, f64, u64) {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let words: Vec<&str> = text.split_whitespace().collect();
    let number = |i: usize| words.get(i).and_then(|w| w.parse::<f64>().ok()).unwrap_or(0.0);
    (number(0), number(1), number(2) as u64)
}

/// A command for `program` in `node`'s namespace under `/usr/bin/time`.
fn timed(lab: &Lab, node: NodeId, time_file: &std::path::Path, program: &str) -> Command {
    let mut command = Command::new("/usr/bin/time");
    command.arg("-f").arg("%U %S %M").arg("-o").arg(time_file);
    command.args(["ip", "netns", "exec", lab.ns(node), program]);
    command
}

fn destination(n: u64) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(RANGE.0) + (n % u64::from(RANGE.2)) as u32)
}

fn hoptrace_run(lab: &Lab, client: NodeId, hoptrace: &str, setting: &Setting, dir: &std::path::Path) -> Run {
    let &(name, rate, count, extra) = setting;
    let probes = dir.join("probes.csv");
    let mut text = String::with_capacity(count as usize * 40);
    for n in 0..count {
        let _ = writeln!(text, "{},{},33434,{TTL},icmp", destination(n), 24000 + n / u64::from(RANGE.2));
    }
    std::fs::write(&probes, text).expect("the probe file");
    let time_file = dir.join("time");
    let output = timed(lab, client, &time_file, hoptrace)
        .args(["bulk", "-r", &rate.to_string(), "-W", "1", "--max-per-destination", "0"])
        .args(extra)
        .stdin(std::fs::File::open(&probes).expect("the probe file"))
        .stdout(Stdio::null())
        .output()
        .expect("hoptrace runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let summary = stderr.lines().find(|line| line.contains("probes sent")).unwrap_or_default();
    let words: Vec<&str> = summary.split_whitespace().collect();
    let after = |word: &str, offset: usize| -> f64 {
        words
            .iter()
            .position(|w| *w == word)
            .and_then(|i| words.get(i + offset))
            .and_then(|w| w.parse().ok())
            .unwrap_or(0.0)
    };
    let before = |word: &str| -> f64 {
        words.iter().position(|w| *w == word).and_then(|i| words.get(i - 1)).and_then(|w| w.parse().ok()).unwrap_or(0.0)
    };
    let (user, system, rss_kib) = read_time(&time_file);
    if !output.status.success() || summary.is_empty() {
        eprintln!("{name}: hoptrace failed: {stderr}");
    }
    Run {
        name: name.into(),
        sent: before("probes") as u64,
        seconds: after("in", 1),
        replies: before("replies") as u64,
        user,
        system,
        rss_kib,
    }
}

fn scamper_run(lab: &Lab, client: NodeId, count: u64, dir: &std::path::Path) -> Run {
    let targets = dir.join("targets.txt");
    let text: String = (0..count).map(|n| format!("{}\n", destination(n))).collect();
    std::fs::write(&targets, text).expect("the target file");
    let time_file = dir.join("time");
    let start = Instant::now();
    let output = timed(lab, client, &time_file, "scamper")
        .args(["-p", "10000", "-c", "ping -c 1", "-O", "text", "-f"])
        .arg(&targets)
        .output()
        .expect("scamper runs (Debian package scamper)");
    let seconds = start.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let replies = stdout.lines().filter(|line| line.starts_with("1 packets transmitted, 1 packets received")).count();
    let (user, system, rss_kib) = read_time(&time_file);
    Run { name: "scamper -p 10000".into(), sent: count, seconds, replies: replies as u64, user, system, rss_kib }
}

/// Echo Replies the client's kernel has received so far.
fn echo_replies(lab: &Lab, client: NodeId) -> u64 {
    let output = lab.command(client, "cat").arg("/proc/net/snmp").output().expect("cat runs");
    let text = String::from_utf8_lossy(&output.stdout);
    let mut icmp = text.lines().filter(|line| line.starts_with("Icmp:"));
    let (Some(names), Some(values)) = (icmp.next(), icmp.next()) else { return 0 };
    let at = names.split_whitespace().position(|name| name == "InEchoReps");
    at.and_then(|i| values.split_whitespace().nth(i)).and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn bare_run(lab: &Lab, client: NodeId, bare: &str, count: u64, dir: &std::path::Path) -> Run {
    let time_file = dir.join("time");
    let before = echo_replies(lab, client);
    let src = lab.addr(client, Family::V4).to_string();
    let output = timed(lab, client, &time_file, bare)
        .args([&src, &RANGE.0.to_string(), &RANGE.2.to_string(), &count.to_string(), &TTL.to_string()])
        .output()
        .expect("the bare sender runs");
    std::thread::sleep(std::time::Duration::from_secs(1));
    let replies = echo_replies(lab, client) - before;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let seconds = stdout.split_whitespace().nth(3).and_then(|s| s.parse().ok()).unwrap_or(0.0);
    let (user, system, rss_kib) = read_time(&time_file);
    Run { name: "bare sendmmsg (C)".into(), sent: count, seconds, replies, user, system, rss_kib }
}
