//! The monitoring benchmark: `hoptrace monitor` watching 50 targets at `--every 1` for 60 s, beside
//! mtr-exporter's way of doing it (one `mtr --json -c 10` per target, all at once): CPU seconds, peak RSS (at 10 s
//! and at 60 s for the monitor), probes sent per second.
//!
//! For mtr, "rss@10s" is the sum over its 50 processes 8 s in, "rss@end" the largest single one.
//!
//! `monitor-bench HOPTRACE_BINARY` — needs root, `python3` and the Debian package `mtr-tiny` (scripts/bench.sh
//! installs it). The lab: client — r1 — r2 — r3 — dst, dst answering for 198.19.224.0/24 (AnyIP).

use std::net::IpAddr;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use hoptrace_netlab::{Lab, LabSpec, NodeId};
use nix::sys::resource::{getrusage, UsageWho};

/// The targets: 198.19.224.1 to 198.19.224.50.
const TARGETS: u8 = 50;
/// How long the monitor runs.
const RUN: Duration = Duration::from_secs(60);
/// When its first RSS reading is taken.
const EARLY: Duration = Duration::from_secs(10);
/// Where the monitor serves its metrics, in the client's namespace.
const METRICS: &str = "127.0.0.1:9120";

/// CPU seconds and the largest peak RSS (KiB) of the children waited for so far.
fn children_usage() -> (f64, i64) {
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN).expect("getrusage");
    let seconds = |time: nix::sys::time::TimeVal| time.tv_sec() as f64 + time.tv_usec() as f64 / 1e6;
    (seconds(usage.user_time()) + seconds(usage.system_time()), usage.max_rss())
}

/// A line of `/proc/PID/status` in KiB (`VmHWM`, `VmRSS`).
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let line = status.lines().find(|line| line.starts_with(field)).unwrap_or_default();
    line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()).unwrap_or(0)
}

fn lab() -> Result<(Lab, NodeId, Vec<IpAddr>), hoptrace_netlab::Error> {
    let mut spec = LabSpec::new();
    let (client, _, dst) = spec.chain(3, |_| Default::default());
    spec.anyip(dst, IpAddr::from([198, 19, 224, 0]), 24);
    let lab = Lab::build(&spec)?;
    let targets = (1..=TARGETS).map(|n| IpAddr::from([198, 19, 224, n])).collect();
    Ok((lab, client, targets))
}

/// GETs `url` inside `node`'s namespace.
fn http_get(lab: &Lab, node: NodeId, url: &str) -> String {
    let script = "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())";
    let output = lab.command(node, "python3").args(["-c", script, url]).output().expect("python3 runs");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The sum of a counter's samples in a `/metrics` text.
fn counter_sum(metrics: &str, name: &str) -> f64 {
    let lines = metrics.lines().filter(|line| line.starts_with(name));
    lines.filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok()).sum()
}

struct Row {
    what: String,
    wall: f64,
    cpu: f64,
    rss_early_kib: u64,
    rss_kib: u64,
    probes: f64,
}

fn monitor(lab: &Lab, client: NodeId, hoptrace: &str, targets: &[IpAddr], extra: &[&str]) -> Row {
    let (cpu_before, _) = children_usage();
    let started = Instant::now();
    let mut child: Child = lab
        .command(client, hoptrace)
        .arg("monitor")
        .args(targets.iter().map(IpAddr::to_string))
        .args(["--every", "1", "-n", "--prometheus", METRICS])
        .args(extra)
        .stdout(Stdio::null())
        .spawn()
        .expect("hoptrace monitor starts");
    std::thread::sleep(EARLY);
    let rss_early_kib = status_kib(child.id(), "VmHWM:");
    std::thread::sleep(RUN - EARLY);
    let rss_kib = status_kib(child.id(), "VmHWM:");
    let metrics = http_get(lab, client, &format!("http://{METRICS}/metrics"));
    let wall = started.elapsed().as_secs_f64();
    let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
    let _ = child.wait();
    let (cpu_after, _) = children_usage();
    let probes = counter_sum(&metrics, "hoptrace_probes_sent_total");
    let what = format!("hoptrace monitor {}", extra.join(" ")).trim_end().to_owned();
    Row { what, wall, cpu: cpu_after - cpu_before, rss_early_kib, rss_kib, probes }
}

fn mtr(lab: &Lab, client: NodeId, targets: &[IpAddr]) -> Row {
    let (cpu_before, _) = children_usage();
    let started = Instant::now();
    let children: Vec<Child> = targets
        .iter()
        .map(|target| {
            let mut command = lab.command(client, "mtr");
            command.args(["--json", "-n", "-c", "10", &target.to_string()]).stdout(Stdio::piped());
            command.spawn().expect("mtr starts (Debian package mtr-tiny)")
        })
        .collect();
    // Every mtr at once (mtr-packet, its helper, not counted): their peak RSS summed, late in their run.
    std::thread::sleep(Duration::from_secs(8));
    let rss_sum_kib = children.iter().map(|child| status_kib(child.id(), "VmHWM:")).sum();
    let mut probes = 0.0;
    for child in children {
        let output = child.wait_with_output().expect("mtr runs");
        probes += mtr_probes(&String::from_utf8_lossy(&output.stdout));
    }
    let wall = started.elapsed().as_secs_f64();
    let (cpu_after, max_rss) = children_usage();
    Row {
        what: "mtr --json -c 10, one per target".to_owned(),
        wall,
        cpu: cpu_after - cpu_before,
        rss_early_kib: rss_sum_kib,
        rss_kib: max_rss as u64,
        probes,
    }
}

/// The probes an `mtr --json` report says it sent: its hubs' `"Snt"` summed.
fn mtr_probes(json: &str) -> f64 {
    let counts = json.split("\"Snt\":").skip(1);
    counts.filter_map(|rest| rest.trim_start().split([',', '}']).next()?.trim().parse::<f64>().ok()).sum()
}

fn main() -> ExitCode {
    let Some(hoptrace) = std::env::args().nth(1) else {
        eprintln!("usage: monitor-bench HOPTRACE_BINARY");
        return ExitCode::from(2);
    };
    let (lab, client, targets) = match lab() {
        Ok(built) => built,
        Err(error) => {
            eprintln!("monitor-bench: {error}");
            return ExitCode::FAILURE;
        }
    };
    let rows = [
        monitor(&lab, client, &hoptrace, &targets, &[]),
        monitor(&lab, client, &hoptrace, &targets, &["--raw"]),
        mtr(&lab, client, &targets),
    ];
    println!("{TARGETS} targets, 4 hops each");
    println!(
        "{:<36} {:>7} {:>7} {:>9} {:>13} {:>13} {:>8} {:>10}",
        "", "wall s", "cpu s", "probes", "rss@10s MiB", "rss@end MiB", "probes/s", "cpu ms/100"
    );
    for row in &rows {
        let early =
            if row.rss_early_kib > 0 { format!("{:.1}", row.rss_early_kib as f64 / 1024.0) } else { "-".into() };
        println!(
            "{:<36} {:>7.1} {:>7.2} {:>9.0} {:>13} {:>13.1} {:>8.0} {:>10.2}",
            row.what,
            row.wall,
            row.cpu,
            row.probes,
            early,
            row.rss_kib as f64 / 1024.0,
            row.probes / row.wall,
            100_000.0 * row.cpu / row.probes.max(1.0),
        );
    }
    ExitCode::SUCCESS
}
