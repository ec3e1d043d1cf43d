//! The flood benchmark: hoptrace beside traceroute(8) and mtr while the client receives 20k, 100k and 300k ICMP
//! errors a second that answer none of its probes (half quoting the target with other ports, half another
//! destination). Per rate and tool: whether every hop was still found, wall time, CPU seconds and peak RSS, and
//! the rate the flood reached. Not a test: it prints figures.
//!
//! `lab-flood-bench HOPTRACE_BINARY` — needs root and the Debian packages `traceroute`, `mtr-tiny` and `time`
//! (scripts/bench-flood.sh installs them). Each flood lasts as long as one tool's run, at most a minute.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use hoptrace_netlab::{Family, Flood, Lab, LabSpec, Link, NodeId};

/// Routers between the client and the destination.
const ROUTERS: usize = 6;

/// The flood rates, errors a second (0: none, for reference).
const RATES: [u32; 4] = [0, 20_000, 100_000, 300_000];

/// Only these rates, when the environment names some (`RATES=300000`).
fn rates() -> Vec<u32> {
    std::env::var("RATES")
        .ok()
        .map_or(RATES.to_vec(), |rates| rates.split(',').filter_map(|r| r.parse().ok()).collect())
}

/// The tools, with their arguments besides the target: a trace each, and a 50-round report each.
const TOOLS: [(&str, &str, &[&str]); 4] = [
    ("hoptrace", "hoptrace", &["-n"]),
    ("traceroute", "traceroute", &["-n"]),
    ("hoptrace report", "hoptrace", &["-n", "--report", "-c", "50", "--interval", "0.1"]),
    ("mtr report", "mtr", &["-n", "--report", "-c", "50", "-i", "0.1"]),
];

fn main() -> ExitCode {
    let Some(hoptrace) = std::env::args().nth(1) else {
        eprintln!("usage: lab-flood-bench HOPTRACE_BINARY");
        return ExitCode::from(2);
    };
    let mut spec = LabSpec::new();
    let (client, routers, dst) = spec.chain(ROUTERS, |_| Link::default());
    let lab = match Lab::build(&spec) {
        Ok(lab) => lab,
        Err(error) => {
            eprintln!("lab-flood-bench: {error}");
            return ExitCode::FAILURE;
        }
    };
    let target = lab.addr(dst, Family::V4);
    let client_addr = lab.hop_addr(client, routers[0], Family::V4);
    println!("client {client_addr}, target {target} at hop {}; floods from r1", ROUTERS + 1);
    println!(
        "{:>8} {:<16} {:>8} {:>8} {:>8} {:>9} {:>10}",
        "rate/s", "tool", "hops ok", "wall s", "cpu s", "rss MiB", "flood/s"
    );
    for rate in rates() {
        for (name, program, args) in TOOLS {
            let program = if program == "hoptrace" { hoptrace.as_str() } else { program };
            let flood = Flood { to: client_addr, quoted_dst: target, rate, duration: Duration::from_secs(60) };
            let flooding = match (rate > 0).then(|| lab.flood(routers[0], flood)).transpose() {
                Ok(flooding) => flooding,
                Err(error) => {
                    eprintln!("lab-flood-bench: {error}");
                    return ExitCode::FAILURE;
                }
            };
            std::thread::sleep(Duration::from_millis(200));
            let flood_started = Instant::now();
            let measure = measure(&lab, client, program, args, target);
            let sent = flooding.map_or(Ok(0), |flooding| flooding.stop()).unwrap_or(0);
            // The flood ran from 200 ms before the tool started to its end.
            let reached = sent as f64 / (flood_started.elapsed().as_secs_f64() + 0.2);
            let hops_ok = if measure.hops == ROUTERS + 1 { "yes" } else { "NO" };
            println!(
                "{rate:>8} {name:<16} {:>8} {:>8.2} {:>8.3} {:>9.1} {:>10.0}",
                format!("{hops_ok} {}", measure.hops),
                measure.wall,
                measure.cpu,
                measure.rss_kib as f64 / 1024.0,
                reached
            );
        }
    }
    ExitCode::SUCCESS
}

/// One run of one tool.
struct Measure {
    wall: f64,
    cpu: f64,
    rss_kib: u64,
    hops: usize,
}

/// CPU time (user + system) of every child waited for so far.
fn children_cpu() -> Duration {
    use nix::sys::resource::{getrusage, UsageWho};
    getrusage(UsageWho::RUSAGE_CHILDREN).map_or(Duration::ZERO, |usage| {
        let time = |t: nix::sys::time::TimeVal| Duration::new(t.tv_sec() as u64, t.tv_usec() as u32 * 1000);
        time(usage.user_time()) + time(usage.system_time())
    })
}

/// Runs `program` in the client's namespace: wall time from here, CPU time from the kernel's accounting of
/// children, peak RSS from GNU time.
fn measure(lab: &Lab, client: NodeId, program: &str, args: &[&str], target: IpAddr) -> Measure {
    let stats = std::env::temp_dir().join(format!("lab-flood-bench-{}", std::process::id()));
    let cpu_before = children_cpu();
    let started = Instant::now();
    let output = lab
        .command(client, "/usr/bin/time")
        .args(["-f", "%M", "-o"])
        .arg(&stats)
        .arg(program)
        .args(args)
        .arg(target.to_string())
        .output();
    let wall = started.elapsed().as_secs_f64();
    let cpu = (children_cpu() - cpu_before).as_secs_f64();
    let rss_kib = std::fs::read_to_string(&stats).ok().and_then(|text| text.trim().parse().ok()).unwrap_or(0);
    let _ = std::fs::remove_file(&stats);
    let (stdout, stderr) = output.map_or_else(
        |error| (String::new(), error.to_string()),
        |output| {
            (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
        },
    );
    let hops = hops_found(&stdout);
    if hops != ROUTERS + 1 {
        eprintln!("{program} {args:?}:\n{stdout}{stderr}");
    }
    Measure { wall, cpu, rss_kib, hops }
}

/// How many TTLs got an answer (no loss, for reports), from traceroute-style or mtr-style output.
fn hops_found(stdout: &str) -> usize {
    let mut ttls = BTreeSet::new();
    for line in stdout.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(first) = words.first() else { continue };
        let (ttl, answered) = match first.strip_suffix(".|--") {
            // `  3.|-- 198.18.2.2   0.0%   50 …`: a hop of a report, found if it lost nothing.
            Some(ttl) => {
                (ttl, words.get(1).is_some_and(|w| w.parse::<IpAddr>().is_ok()) && words.get(2) == Some(&"0.0%"))
            }
            None => (*first, words[1..].iter().any(|word| word.parse::<IpAddr>().is_ok()) && !line.contains('*')),
        };
        if let (Ok(ttl), true) = (ttl.parse::<u8>(), answered) {
            ttls.insert(ttl);
        }
    }
    ttls.len()
}
