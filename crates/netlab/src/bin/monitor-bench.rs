//! The monitoring benchmark: `hoptrace monitor` watching 50 targets at `--every 1` for 60 s, beside
//! mtr-exporter's way of doing it (one `mtr --json -c 10` per target, all at once): CPU seconds, peak RSS (at 10 s
//! and at 60 s for the monitor), probes sent per second.
//!
//! For mtr, "rss@10s" is the sum over its 50 processes 8 s in, "rss@end" the largest single one.
//!
//! Then at scale: 10,000 targets (198.19.0.0/17, AnyIP) at `--every 60`, default detail: the steady RSS once every
//! target has had its first round, then 8 scrapers (gzip, as Prometheus) every 15 s for a minute: their waits
//! (p50, max), the peak RSS meanwhile, the monitor's CPU over that minute (`cpu %`: probing and serving) and over
//! the 10 s before it (`probe %`: probing alone), the rounds run against `--every`'s, and the machine's load average.
//!
//! `monitor-bench HOPTRACE_BINARY [--scale [BEFORE_BINARY]]` (`--scale`: the table at scale only; with another
//! binary, default detail only, the two in turn, three runs each, and the ratios of their medians) — needs root,
//! `python3` and the Debian package `mtr-tiny` (scripts/bench.sh installs it). The lab: client — r1 — r2 — r3 — dst, dst answering for 198.19.224.0/24 (AnyIP).

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

/// The machine's load average over the last minute, as `/proc/loadavg` says.
fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace().next().unwrap_or("?").to_owned()
}

/// Targets at scale: 198.19.0.1 onwards.
const MANY: u32 = 10_000;
/// Their period.
const MANY_EVERY: u64 = 60;
/// Scrapers at once, and their interval.
const SCRAPERS: u32 = 8;
const SCRAPE_EVERY: u64 = 15;
/// Runs of each binary when two are compared at scale.
const PAIRS: usize = 3;

fn lab() -> Result<(Lab, NodeId, Vec<IpAddr>), hoptrace_netlab::Error> {
    let mut spec = LabSpec::new();
    let (client, routers, dst) = spec.chain(3, |_| Default::default());
    spec.anyip(dst, IpAddr::from([198, 19, 224, 0]), 24);
    spec.anyip(dst, IpAddr::from([198, 19, 0, 0]), 17);
    let lab = Lab::build(&spec)?;
    // The kernel's global ICMP caps would set the rate at scale, not the prober.
    for node in routers.into_iter().chain([dst]) {
        let caps = ["net.ipv4.icmp_msgs_per_sec=100000", "net.ipv4.icmp_msgs_burst=10000", "net.ipv4.icmp_ratelimit=0"];
        let _ = lab.command(node, "sysctl").arg("-qw").args(caps).status();
    }
    let targets = (1..=TARGETS).map(|n| IpAddr::from([198, 19, 224, n])).collect();
    Ok((lab, client, targets))
}

/// GETs `url` inside `node`'s namespace.
fn http_get(lab: &Lab, node: NodeId, url: &str) -> String {
    // Gzipped, as Prometheus and the scrapers ask: the bench's own reads do not add a plain page to the peak.
    let script = "import gzip, sys, urllib.request\n\
                  answer = urllib.request.urlopen(urllib.request.Request(sys.argv[1], headers={'Accept-Encoding': 'gzip'}))\n\
                  body = answer.read()\n\
                  zipped = answer.headers.get('Content-Encoding') == 'gzip'\n\
                  sys.stdout.write((gzip.decompress(body) if zipped else body).decode())";
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

/// A process's CPU seconds (`/proc/PID/stat`'s utime and stime; 100 ticks a second).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or_default().split_whitespace().collect();
    let ticks = |at: usize| fields.get(at).and_then(|t| t.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// `SCRAPERS` threads in `node` scraping `url` (gzip) every `SCRAPE_EVERY` s, `times` each: every wait, sorted.
fn scrape_together(lab: &Lab, node: NodeId, url: &str, times: u32) -> Vec<f64> {
    let script = "import sys, time, threading, urllib.request\n\
                  url, n, every, times = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])\n\
                  waits = []\n\
                  def scrape():\n\
                  \x20   for i in range(times):\n\
                  \x20       time.sleep(max(0.0, start + i * every - time.monotonic()))\n\
                  \x20       t = time.monotonic()\n\
                  \x20       r = urllib.request.Request(url, headers={'Accept-Encoding': 'gzip'})\n\
                  \x20       urllib.request.urlopen(r, timeout=120).read()\n\
                  \x20       waits.append(time.monotonic() - t)\n\
                  start = time.monotonic()\n\
                  threads = [threading.Thread(target=scrape) for _ in range(n)]\n\
                  [t.start() for t in threads]\n\
                  [t.join() for t in threads]\n\
                  print(' '.join(str(w) for w in waits))";
    let (n, every, times) = (SCRAPERS.to_string(), SCRAPE_EVERY.to_string(), times.to_string());
    let output = lab.command(node, "python3").args(["-c", script, url, &n, &every, &times]).output();
    let text = output.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
    let mut waits: Vec<f64> = text.split_whitespace().filter_map(|w| w.parse().ok()).collect();
    waits.sort_by(f64::total_cmp);
    waits
}

/// One run at scale: what the table shows.
struct Scale {
    what: String,
    steady_kib: u64,
    peak_kib: u64,
    waits: Vec<f64>,
    cpu_percent: f64,
    probe_percent: f64,
    rounds: f64,
    probes_a_round: f64,
    page_mib: f64,
    series: usize,
}

impl Scale {
    /// Its row of the table.
    fn line(&self) -> String {
        let waits = &self.waits;
        let quantile =
            |q: f64| waits.get(((waits.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(f64::NAN);
        format!(
            "{:<28} {:>8.0} {:>9.1} {:>8.2} {:>8.2} {:>7.1} {:>8.1} {:>9.2} {:>8.1} {:>9.1} {:>9} {:>6}",
            self.what,
            self.steady_kib as f64 / 1024.0,
            self.peak_kib as f64 / 1024.0,
            quantile(0.5),
            quantile(1.0),
            self.cpu_percent,
            self.probe_percent,
            self.rounds,
            self.probes_a_round,
            self.page_mib,
            self.series,
            load_average(),
        )
    }
}

/// The monitor `hoptrace` on `MANY` targets at `--every MANY_EVERY` with `extra`, scraped as Prometheus would.
fn at_scale(lab: &Lab, client: NodeId, hoptrace: &str, what: &str, extra: &[&str]) -> Scale {
    let list = std::env::temp_dir().join(format!("monitor-bench-{}.targets", std::process::id()));
    let base = u32::from(std::net::Ipv4Addr::new(198, 19, 0, 0));
    let names: Vec<String> = (1..=MANY).map(|n| std::net::Ipv4Addr::from(base + n).to_string()).collect();
    std::fs::write(&list, names.join("\n")).expect("the targets file");
    let mut child = lab
        .command(client, hoptrace)
        .args(["monitor", "--targets", &list.display().to_string(), "--every", &MANY_EVERY.to_string()])
        .args(["-n", "--prometheus", METRICS])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("hoptrace monitor starts");
    let pid = child.id();
    let url = format!("http://{METRICS}/metrics");
    let runs = |page: &str| counter_sum(page, "hoptrace_runs_total");
    // Every target's first round is somewhere in the first period; then steady: probing alone for 10 s.
    std::thread::sleep(Duration::from_secs(MANY_EVERY));
    let (probing_before, probing_started) = (cpu_seconds(pid), Instant::now());
    std::thread::sleep(Duration::from_secs(10));
    let probing = (cpu_seconds(pid) - probing_before) / probing_started.elapsed().as_secs_f64();
    let steady = status_kib(pid, "VmRSS:");
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5"); // VmHWM from here
    let (cpu_before, started) = (cpu_seconds(pid), Instant::now());
    let first = http_get(lab, client, &url);
    let times = (MANY_EVERY / SCRAPE_EVERY) as u32;
    let waits = scrape_together(lab, client, &url, times);
    // CPU over whole scrape periods: up to when the next round of scrapes would start (ending at the last round's
    // answers counted four pages' work in three periods and a bit).
    let periods = Duration::from_secs(SCRAPE_EVERY * u64::from(times));
    std::thread::sleep(periods.saturating_sub(started.elapsed()));
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds(pid) - cpu_before;
    let peak = status_kib(pid, "VmHWM:");
    let last = http_get(lab, client, &url);
    let counted = started.elapsed().as_secs_f64();
    let page_mib = last.len() as f64 / 1048576.0;
    let series = last.lines().filter(|line| !line.starts_with('#')).count();
    let _ = Command::new("kill").args(["-INT", &pid.to_string()]).status();
    let _ = child.wait();
    let _ = std::fs::remove_file(&list);
    let ran = runs(&last) - runs(&first);
    let probes = counter_sum(&last, "hoptrace_probes_sent_total") - counter_sum(&first, "hoptrace_probes_sent_total");
    Scale {
        what: format!("{what} {}", extra.join(" ")).trim_end().to_owned(),
        steady_kib: steady,
        peak_kib: peak,
        waits,
        cpu_percent: 100.0 * cpu / wall,
        probe_percent: 100.0 * probing,
        rounds: ran / (counted * f64::from(MANY) / MANY_EVERY as f64),
        probes_a_round: probes / ran.max(1.0),
        page_mib,
        series,
    }
}

/// Prints the medians of `value` over the runs before and after, and their ratio.
fn compare(name: &str, runs: &[Vec<Scale>; 2], value: impl Fn(&Scale) -> f64) {
    let median = |runs: &[Scale]| {
        let mut values: Vec<f64> = runs.iter().map(&value).collect();
        values.sort_by(f64::total_cmp);
        values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let (before, after) = (median(&runs[0]), median(&runs[1]));
    println!("median {name:<13} before {before:>7.2}  after {after:>7.2}  after/before {:.2}", after / before);
}

fn main() -> ExitCode {
    let Some(hoptrace) = std::env::args().nth(1) else {
        eprintln!("usage: monitor-bench HOPTRACE_BINARY [--scale [BEFORE_BINARY]]");
        return ExitCode::from(2);
    };
    let (lab, client, targets) = match lab() {
        Ok(built) => built,
        Err(error) => {
            eprintln!("monitor-bench: {error}");
            return ExitCode::FAILURE;
        }
    };
    // `--scale`: the table at scale only.
    let scale_only = std::env::args().nth(2).as_deref() == Some("--scale");
    let rows = if scale_only {
        Vec::new()
    } else {
        vec![
            monitor(&lab, client, &hoptrace, &targets, &[]),
            monitor(&lab, client, &hoptrace, &targets, &["--raw"]),
            mtr(&lab, client, &targets),
        ]
    };
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
    if !rows.is_empty() {
        println!("load average {}", load_average());
    }
    println!();
    println!("{MANY} targets, --every {MANY_EVERY}, {SCRAPERS} scrapers every {SCRAPE_EVERY} s (gzip) for a minute");
    println!(
        "{:<28} {:>8} {:>9} {:>8} {:>8} {:>7} {:>8} {:>9} {:>8} {:>9} {:>9} {:>6}",
        "",
        "rss MiB",
        "peak MiB",
        "p50 s",
        "max s",
        "cpu %",
        "probe %",
        "rounds/x",
        "probes/r",
        "page MiB",
        "series",
        "load"
    );
    match std::env::args().nth(3) {
        None => {
            for extra in [&[][..], &["--detail", "hops"][..]] {
                println!("{}", at_scale(&lab, client, &hoptrace, &format!("{MANY} targets"), extra).line());
            }
        }
        // Another binary: the two in turn, default detail, and the medians' ratios.
        Some(before) => {
            let mut runs: [Vec<Scale>; 2] = [Vec::new(), Vec::new()];
            for _ in 0..PAIRS {
                for (side, (binary, what)) in [(&before, "before"), (&hoptrace, "after")].into_iter().enumerate() {
                    let run = at_scale(&lab, client, binary, what, &[]);
                    println!("{}", run.line());
                    runs[side].push(run);
                }
            }
            compare("cpu %", &runs, |run| run.cpu_percent);
            compare("probe %", &runs, |run| run.probe_percent);
            compare("probes/round", &runs, |run| run.probes_a_round);
        }
    }
    ExitCode::SUCCESS
}
