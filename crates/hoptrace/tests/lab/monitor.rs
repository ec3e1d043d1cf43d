//! `hoptrace monitor` in the lab, scraped by a real Prometheus (Debian's `prometheus`) in the client's namespace:
//! series for every hop of every target, exactly one path change where a route changed and none elsewhere, none
//! under loss and ICMP rate limiting; the NDJSON `path_changed` event; a clean stop, prompt whatever scrapers do.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use netlab::{Family, Lab, LabSpec, Link, NodeId, RouterOpts};
use serde_json::Value;

use crate::support::*;

/// Where the monitor serves its metrics, inside the client's namespace.
pub(crate) const METRICS: &str = "127.0.0.1:9120";
/// Where Prometheus listens, inside the client's namespace.
const PROMETHEUS: &str = "127.0.0.1:9090";

/// A scratch directory, removed when dropped.
pub(crate) struct Scratch(pub(crate) PathBuf);

impl Scratch {
    pub(crate) fn new(what: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("hoptrace-{what}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process stopped (SIGTERM, then waited for) when dropped, so that a failing test leaves nothing running.
pub(crate) struct Running(pub(crate) Child);

impl Drop for Running {
    fn drop(&mut self) {
        signal(&self.0, "TERM");
        let _ = self.0.wait();
    }
}

pub(crate) fn signal(child: &Child, name: &str) {
    // `ip netns exec` executes the program in its own process: the child's pid is the program's.
    let _ = Command::new("kill").args([&format!("-{name}"), &child.id().to_string()]).stderr(Stdio::null()).status();
}

/// `hoptrace monitor` in `client` with `args`, its stdout (the events) going to `events` and its stderr beside it
/// (`.stderr`): a file, never a pipe nobody reads.
pub(crate) fn monitor(lab: &Lab, client: NodeId, args: &[String], events: &PathBuf) -> Running {
    let out = File::create(events).expect("the events file");
    let err = File::create(events.with_extension("stderr")).expect("the stderr file");
    let child = hoptrace_command(lab, client)
        .arg("monitor")
        .args(args)
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .expect("hoptrace monitor starts");
    Running(child)
}

/// GETs `url` from inside `client`'s namespace (python3's urllib: no curl needed); `None` when it cannot connect.
pub(crate) fn http_get(lab: &Lab, client: NodeId, url: &str) -> Option<String> {
    let script =
        "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())";
    let output = lab.command(client, "python3").args(["-c", script, url]).output().expect("python3 runs");
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// A Prometheus instant query: `(labels, value)` per series.
fn query(lab: &Lab, client: NodeId, promql: &str) -> Vec<(Value, f64)> {
    let url = format!("http://{PROMETHEUS}/api/v1/query?query={}", encode(promql));
    let Some(body) = http_get(lab, client, &url) else { return Vec::new() };
    let answer: Value = serde_json::from_str(&body).unwrap_or_else(|error| panic!("{promql}: {error}: {body}"));
    assert_eq!(answer["status"], "success", "{promql}: {body}");
    let series = answer["data"]["result"].as_array().cloned().unwrap_or_default();
    series.into_iter().map(|s| (s["metric"].clone(), s["value"][1].as_str().unwrap().parse().unwrap())).collect()
}

/// Percent-encodes a query string value.
pub(crate) fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (byte as char).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// Polls `check` every half second until it gives `Some`, failing the test with `what` after `limit`.
pub(crate) fn wait_for<T>(limit: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let until = Instant::now() + limit;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < until, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Prometheus scraping the monitor every second, in `client`'s namespace, with its own data directory.
pub(crate) fn prometheus(lab: &Lab, client: NodeId, scratch: &Scratch) -> Running {
    let config = scratch.0.join("prometheus.yml");
    let text = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: hoptrace\n    \
         static_configs:\n      - targets: ['{METRICS}']\n"
    );
    std::fs::write(&config, text).expect("prometheus.yml");
    let child = lab
        .command(client, "prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", scratch.0.join("data").display()))
        .arg(format!("--web.listen-address={PROMETHEUS}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus starts (Debian package `prometheus`)");
    Running(child)
}

/// `series` by its `target` label: the value of each.
fn by_target(series: &[(Value, f64)]) -> Vec<(String, f64)> {
    let mut values: Vec<(String, f64)> = series
        .iter()
        .map(|(labels, value)| (labels["target"].as_str().unwrap_or_default().to_owned(), *value))
        .collect();
    values.sort_by(|a, b| a.0.cmp(&b.0));
    values
}

/// The `ttl` labels of `series` for `target`, sorted.
fn ttls(series: &[(Value, f64)], target: &str) -> Vec<u8> {
    let mut ttls: Vec<u8> = series
        .iter()
        .filter(|(labels, _)| labels["target"] == target)
        .map(|(labels, _)| labels["ttl"].as_str().unwrap().parse().unwrap())
        .collect();
    ttls.sort_unstable();
    ttls
}

/// The `/24` of an IPv4 address.
fn subnet(addr: IpAddr) -> String {
    let IpAddr::V4(addr) = addr else { panic!("{addr}: IPv4 wanted") };
    let [a, b, c, _] = addr.octets();
    format!("{a}.{b}.{c}.0/24")
}

/// The events written so far, parsed.
fn events(path: &PathBuf) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))).collect()
}

#[test]
fn prometheus_sees_every_hop_and_exactly_one_path_change() {
    let _machine = shared_machine();
    // client — r1 — r2a — r3 — dst, with r1 — r2b — r3 beside r2a, and r1 — side (a second target).
    let mut spec = LabSpec::new();
    let client = spec.node("client");
    let [r1, r2a, r2b, r3] = ["r1", "r2a", "r2b", "r3"].map(|name| spec.router(name));
    let (dst, side) = (spec.node("dst"), spec.node("side"));
    for (a, b) in [(client, r1), (r1, r2a), (r1, r2b), (r2a, r3), (r2b, r3), (r3, dst), (r1, side)] {
        spec.link(a, b);
    }
    let lab = Lab::build(&spec).expect("the lab builds (this test needs root)");
    allow_ping_sockets(&lab, client);
    let dst4 = lab.addr(dst, Family::V4);
    let route_via = |router: NodeId| {
        let via = lab.iface_addr(router, r1, Family::V4).to_string();
        stdout_of(lab.command(r1, "ip").args(["route", "replace", &subnet(dst4), "via", &via]), "ip route replace");
    };
    // IPv4 to dst through r2a only; IPv6 stays as the lab made it (both branches, one per flow).
    route_via(r2a);

    let scratch = Scratch::new("monitor-prometheus");
    let events_path = scratch.0.join("events.ndjson");
    let targets = [dst4, lab.addr(dst, Family::V6), lab.addr(side, Family::V4)].map(|addr| addr.to_string());
    let mut args: Vec<String> = targets.to_vec();
    args.extend(
        ["--every", "1", "-q", "1", "-w", "1", "-n", "--detail", "hops", "--events", "--prometheus", METRICS]
            .map(String::from),
    );
    let mut hoptrace = monitor(&lab, client, &args, &events_path);
    // A second monitor of the changing target, in text mode.
    let text_path = scratch.0.join("text");
    let text_args: Vec<String> = [&targets[0], "--every", "1", "-q", "1", "-w", "1", "-n"].map(String::from).to_vec();
    let mut text = monitor(&lab, client, &text_args, &text_path);
    let _prometheus = prometheus(&lab, client, &scratch);

    // Loss and RTT series for every hop of every target: dst at 4 hops, side at 2.
    let expected: [(&String, Vec<u8>); 3] =
        [(&targets[0], vec![1, 2, 3, 4]), (&targets[1], vec![1, 2, 3, 4]), (&targets[2], vec![1, 2])];
    wait_for(Duration::from_secs(60), "loss and RTT series of every hop in Prometheus", || {
        let loss = query(&lab, client, "hoptrace_hop_loss_ratio");
        let rtt = query(&lab, client, "hoptrace_hop_rtt_seconds{stat=\"avg\"}");
        let complete =
            expected.iter().all(|(target, hops)| &ttls(&loss, target) == hops && &ttls(&rtt, target) == hops);
        let established = query(&lab, client, "hoptrace_path_id").len() == targets.len();
        (complete && established).then_some(())
    });
    let changes = || by_target(&query(&lab, client, "hoptrace_path_changes_total"));
    let mut none: Vec<(String, f64)> = targets.iter().map(|target| (target.clone(), 0.0)).collect();
    none.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(changes(), none, "no change before the route changes");

    route_via(r2b);
    let mut one = none.clone();
    one.iter_mut().find(|(target, _)| target == &targets[0]).unwrap().1 = 1.0;
    wait_for(Duration::from_secs(30), "the path change in Prometheus", || (changes() == one).then_some(()));
    // Several more rounds, scraped: still exactly one.
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(changes(), one);

    // A clean stop on SIGINT: exit status 0, the listener closed, the events complete.
    signal(&hoptrace.0, "INT");
    let stopped = Instant::now();
    let status = wait_for(Duration::from_secs(10), "the monitor to stop", || hoptrace.0.try_wait().unwrap());
    assert!(status.success(), "{status}");
    assert!(stopped.elapsed() < Duration::from_secs(5), "took {:?} to stop", stopped.elapsed());
    assert_eq!(http_get(&lab, client, &format!("http://{METRICS}/metrics")), None, "the listener is closed");

    let changed: Vec<Value> = events(&events_path).into_iter().filter(|e| e["event"] == "path_changed").collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
    let event = &changed[0];
    assert_eq!(event["target"], targets[0].as_str());
    assert_eq!(event["ttls"], serde_json::json!([2, 3]), "{event}");
    let addr = |node, peer| Value::from(lab.iface_addr(node, peer, Family::V4).to_string());
    assert_eq!(event["old"][1], addr(r2a, r1), "{event}");
    assert_eq!(event["new"][1], addr(r2b, r1), "{event}");
    assert_eq!(event["old"][2], addr(r3, r2a), "{event}");
    assert_eq!(event["new"][2], addr(r3, r2b), "{event}");
    assert!(event["at"].as_f64().is_some_and(|at| at > 1.6e9), "{event}");

    // The text line: the same change, one line.
    signal(&text.0, "INT");
    let status = wait_for(Duration::from_secs(10), "the text monitor to stop", || text.0.try_wait().unwrap());
    assert!(status.success(), "{status}");
    let expected = format!(
        "{}: path changed ({} -> {}): TTL 2 {} -> {}, TTL 3 {} -> {}",
        targets[0],
        event["old_id"].as_str().unwrap(),
        event["new_id"].as_str().unwrap(),
        addr(r2a, r1).as_str().unwrap(),
        addr(r2b, r1).as_str().unwrap(),
        addr(r3, r2a).as_str().unwrap(),
        addr(r3, r2b).as_str().unwrap(),
    );
    let printed = std::fs::read_to_string(&text_path).unwrap();
    println!("{printed}{event}");
    assert_eq!(printed, format!("{expected}\n"));
}

#[test]
fn loss_and_rate_limiting_are_no_path_change() {
    let _machine = shared_machine();
    // 30% loss each way on r1 — r2, and r2 at the kernel's default ICMP rate limit (1 s a token, burst 6).
    let lossy = |n| if n == 1 { Link { loss: Some(0.3), ..Link::default() } } else { Link::default() };
    let limited = RouterOpts { icmp_ratelimit_ms: Some(1000), ..RouterOpts::default() };
    let (lab, client, _, dst) = crate::chain_with_links(3, lossy, |spec, routers, _| {
        spec.router_opts(routers[1], limited);
    });
    let scratch = Scratch::new("monitor-lossy");
    let events_path = scratch.0.join("events.ndjson");
    let target = lab.addr(dst, Family::V4).to_string();
    // 120 rounds, as many as the issue's 2 minutes at --every 1, in 60 s: 3 probes per hop every half second.
    let args: Vec<String> = [
        &target,
        "--every",
        "0.5",
        "-q",
        "3",
        "-w",
        "1",
        "-n",
        "--detail",
        "hops",
        "--events",
        "--prometheus",
        METRICS,
    ]
    .map(String::from)
    .to_vec();
    let mut hoptrace = monitor(&lab, client, &args, &events_path);
    std::thread::sleep(Duration::from_secs(60));
    let metrics = http_get(&lab, client, &format!("http://{METRICS}/metrics")).expect("/metrics answers");
    signal(&hoptrace.0, "INT");
    let status = wait_for(Duration::from_secs(10), "the monitor to stop", || hoptrace.0.try_wait().unwrap());
    assert!(status.success(), "{status}");
    let mut per_hop: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("hoptrace_hop_loss_ratio") || l.starts_with("hoptrace_hop_rate_limited"))
        .collect();
    per_hop.sort_unstable();
    eprintln!("{}", per_hop.join("\n"));

    let events = events(&events_path);
    let rounds = events.iter().filter(|e| e["event"] == "target_round").count();
    assert!(rounds >= 100, "{rounds} rounds in 60 s");
    let changed: Vec<&Value> = events.iter().filter(|e| e["event"] == "path_changed").collect();
    assert!(changed.is_empty(), "{changed:?}");
    let line = format!("hoptrace_path_changes_total{{target=\"{target}\"}} 0");
    assert!(metrics.lines().any(|l| l == line), "{metrics}");
    assert!(metrics.contains(&format!("hoptrace_path_id{{target=\"{target}\"}}")), "a path was established: {metrics}");
    // The test means something: replies were lost beyond the lossy link.
    let lossy_hops = metrics
        .lines()
        .filter(|l| l.starts_with("hoptrace_hop_loss_ratio"))
        .filter(|l| l.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()).is_some_and(|v| v > 0.0))
        .count();
    assert!(lossy_hops >= 2, "{metrics}");
}

/// The value of the sample `series` (name and labels, as written) in a `/metrics` text.
pub(crate) fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// The one line a command that failed at start wrote, after checking its exit status.
pub(crate) fn start_failure(lab: &Lab, client: NodeId, args: &[&str], status: i32) -> String {
    let output = hoptrace_command(lab, client).arg("monitor").args(args).output().expect("hoptrace runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(status), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    assert!(output.stdout.is_empty(), "{args:?}");
    stderr.trim_end().to_owned()
}

#[test]
fn faults_show_in_the_metrics_and_bad_listeners_fail_at_start() {
    let _machine = shared_machine();
    let (lab, client, _, dst) = crate::chain(2, |spec, _, dst| {
        spec.firewall(dst, &["-A INPUT -j DROP"]);
    });
    let dead = lab.addr(dst, Family::V4).to_string();
    // No resolver is reachable from the lab: the name never resolves, and no query leaves.
    let unknown = "no-such-host.invalid";

    let line = start_failure(&lab, client, &[&dead, "--prometheus", "nonsense"], 2);
    assert_eq!(line, "hoptrace: --prometheus nonsense: expected HOST:PORT, e.g. localhost:9120");
    let line = start_failure(&lab, client, &[&dead, "--prometheus", "198.18.250.1:9120"], 1);
    assert!(line.starts_with("hoptrace: cannot listen on 198.18.250.1:9120: "), "{line}");

    let scratch = Scratch::new("monitor-faults");
    let events_path = scratch.0.join("events.ndjson");
    let args: Vec<String> = [
        &dead,
        unknown,
        "--every",
        "0.3",
        "-q",
        "1",
        "-w",
        "0.3",
        "-n",
        "--detail",
        "hops",
        "--events",
        "--prometheus",
        METRICS,
    ]
    .map(String::from)
    .to_vec();
    let mut hoptrace = monitor(&lab, client, &args, &events_path);
    let metrics = wait_for(Duration::from_secs(30), "both targets backing off", || {
        let metrics = http_get(&lab, client, &format!("http://{METRICS}/metrics"))?;
        let backing_off = [&dead, unknown].iter().all(|target| {
            sample(&metrics, &format!("hoptrace_target_backoff_seconds{{target=\"{target}\"}}"))
                .is_some_and(|s| s > 0.0)
        });
        backing_off.then_some(metrics)
    });
    // The port is taken now.
    let line = start_failure(&lab, client, &[&dead, "--prometheus", METRICS], 1);
    assert!(line.starts_with(&format!("hoptrace: cannot listen on {METRICS}: ")), "{line}");

    let errors = sample(&metrics, &format!("hoptrace_target_errors_total{{target=\"{unknown}\",error=\"resolve\"}}"));
    assert!(errors.is_some_and(|n| n >= 3.0), "{metrics}");
    let failed = sample(&metrics, &format!("hoptrace_runs_total{{target=\"{unknown}\",result=\"failed\"}}"));
    assert_eq!(failed, errors, "{metrics}");
    let unreached = sample(&metrics, &format!("hoptrace_runs_total{{target=\"{dead}\",result=\"unreached\"}}"));
    assert!(unreached.is_some_and(|n| n >= 3.0), "{metrics}");
    assert_eq!(sample(&metrics, &format!("hoptrace_destination_reached{{target=\"{dead}\"}}")), Some(0.0));
    // The routers before the dead destination are still watched.
    assert!(metrics.contains(&format!("hoptrace_hop_loss_ratio{{target=\"{dead}\",ttl=\"2\"}} 0")), "{metrics}");

    signal(&hoptrace.0, "TERM");
    let status = wait_for(Duration::from_secs(10), "the monitor to stop", || hoptrace.0.try_wait().unwrap());
    assert!(status.success(), "{status}");
    let failures: Vec<Value> = events(&events_path).into_iter().filter(|e| e["event"] == "target_failed").collect();
    for target in [&dead, unknown] {
        assert!(failures.iter().any(|e| e["target"] == target && e["backoff"].as_f64() > Some(0.0)), "{failures:?}");
    }
}

#[test]
fn targets_file_is_read_again_on_sighup() {
    let _machine = shared_machine();
    let (lab, client, _, dst) = crate::chain(1, |_, _, _| {});
    let [v4, v6] = [Family::V4, Family::V6].map(|family| lab.addr(dst, family).to_string());
    let scratch = Scratch::new("monitor-sighup");
    let file = scratch.0.join("targets");
    std::fs::write(&file, format!("# the lab\n{v4}\n")).unwrap();
    let args: Vec<String> = ["--targets", &file.display().to_string(), "--every", "0.3", "-q", "1", "-n"]
        .into_iter()
        .chain(["--prometheus", METRICS])
        .map(String::from)
        .collect();
    let mut hoptrace = monitor(&lab, client, &args, &scratch.0.join("stdout"));
    let has = |metrics: &str, target: &str| metrics.contains(&format!("hoptrace_hops{{target=\"{target}\"}}"));
    let scrape = || http_get(&lab, client, &format!("http://{METRICS}/metrics"));
    wait_for(Duration::from_secs(20), "the first target's series", || scrape().filter(|m| has(m, &v4)));

    std::fs::write(&file, format!("{v6} # instead\n")).unwrap();
    signal(&hoptrace.0, "HUP");
    let metrics = wait_for(Duration::from_secs(20), "the second target's series", || scrape().filter(|m| has(m, &v6)));
    assert!(!metrics.contains(&format!("target=\"{v4}\"")), "the removed target's series are gone: {metrics}");

    signal(&hoptrace.0, "INT");
    let status = wait_for(Duration::from_secs(10), "the monitor to stop", || hoptrace.0.try_wait().unwrap());
    assert!(status.success(), "{status}");
    // Text mode prints path changes only: there were none.
    assert_eq!(std::fs::read_to_string(scratch.0.join("stdout")).unwrap(), "");
}

/// Scrapers that never read, in python3: one asks for the metrics 2,000 times in a row on one connection
/// (megabytes of answers, were they all written), one sends half a request; then "ready", and they wait.
const STALLING: &str = r#"
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
flood = socket.socket()
flood.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
flood.connect((host, int(port)))
flood.settimeout(2)
try:
    flood.sendall(b"GET /metrics HTTP/1.1\r\nHost: lab\r\n\r\n" * 2000)
except OSError:
    pass
half = socket.create_connection((host, int(port)))
half.sendall(b"GET /metrics HTTP/1.1\r\n")
print("ready", flush=True)
time.sleep(60)
"#;

#[test]
fn sigint_stops_the_monitor_at_once_whatever_its_scrapers_do() {
    let _machine = shared_machine();
    let (lab, client, _, dst) = crate::chain(1, |_, _, _| {});
    let target = lab.addr(dst, Family::V4).to_string();
    let scratch = Scratch::new("monitor-stalled");
    let args: Vec<String> =
        [&target, "--every", "0.3", "-q", "1", "-n", "--prometheus", METRICS].map(String::from).to_vec();
    let mut hoptrace = monitor(&lab, client, &args, &scratch.0.join("stdout"));
    let scrape = || http_get(&lab, client, &format!("http://{METRICS}/metrics"));
    wait_for(Duration::from_secs(20), "/metrics", scrape);

    let mut stalling = lab.command(client, "python3");
    let mut stalling = Running(stalling.args(["-c", STALLING, METRICS]).stdout(Stdio::piped()).spawn().unwrap());
    let mut ready = String::new();
    BufReader::new(stalling.0.stdout.as_mut().unwrap()).read_line(&mut ready).unwrap();
    assert_eq!(ready, "ready\n", "the stalling scrapers are connected");
    let metrics = scrape().expect("a scrape beside them is answered");
    assert!(metrics.contains(&format!("hoptrace_hops{{target=\"{target}\"}}")), "{metrics}");

    signal(&hoptrace.0, "INT");
    let stopped = Instant::now();
    let status = loop {
        if let Some(status) = hoptrace.0.try_wait().unwrap() {
            break status;
        }
        assert!(stopped.elapsed() < Duration::from_secs(5), "still running 5 s after SIGINT");
        std::thread::sleep(Duration::from_millis(10));
    };
    let took = stopped.elapsed();
    eprintln!("stopped {took:?} after SIGINT");
    assert!(status.success(), "{status}");
    assert!(took < Duration::from_secs(1), "took {took:?} to stop");
    drop(stalling);
}
