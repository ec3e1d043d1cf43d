//! Every face of hoptrace run once against a zoo lab: a plain trace, `--report`, `--mda`, `monitor` and
//! `bulk --targets`, each read into what the zoo tests compare with the lab's truth.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::Duration;

use hoptrace_core::monitor::{hex_id, Observation};
use netlab::{Lab, NodeId};
use serde_json::Value;

use crate::monitor::{monitor, signal, wait_for, Scratch};
use crate::support::*;

/// One hop of a JSON report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportHop {
    pub ttl: u64,
    pub loss: f64,
    pub rate_limited: bool,
    pub sent: u64,
    pub received: u64,
    pub responders: Vec<IpAddr>,
}

/// A plain trace as root (`-n`, then `args`): its stdout.
pub fn trace(lab: &Lab, client: NodeId, target: IpAddr, args: &[&str]) -> String {
    trace_len(lab, client, target, args, None)
}

/// [`trace`] with probes of `len` bytes.
pub fn trace_len(lab: &Lab, client: NodeId, target: IpAddr, args: &[&str], len: Option<u16>) -> String {
    let mut command = hoptrace_command(lab, client);
    command.arg("-n").args(args).arg(target.to_string()).args(len.map(|len| len.to_string()));
    stdout_of(&mut command, &format!("hoptrace {args:?}"))
}

/// A plain trace's whole output (stdout and stderr), whatever its exit status.
pub fn trace_output(lab: &Lab, client: NodeId, target: IpAddr, args: &[&str]) -> std::process::Output {
    let mut command = hoptrace_command(lab, client);
    command.arg("-n").args(args).arg(target.to_string());
    command.output().expect("hoptrace runs")
}

/// Per hop of traceroute-style or MDA text (continuation lines folded in), the addresses shown.
pub fn shown(stdout: &str) -> Vec<BTreeSet<IpAddr>> {
    let mut hops: Vec<BTreeSet<IpAddr>> = Vec::new();
    for line in stdout.lines().skip(1) {
        let addrs = line.split_whitespace().filter_map(|word| word.parse::<IpAddr>().ok());
        if line.starts_with("    ") {
            hops.last_mut().into_iter().for_each(|hop| hop.extend(addrs.clone()));
        } else if line.trim_start().starts_with(|c: char| c.is_ascii_digit()) && !line.contains("probes sent") {
            hops.push(addrs.collect());
        }
    }
    hops
}

/// The method flags of a plain trace: UDP, Paris UDP, ICMP, TCP.
pub const METHODS: [&[&str]; 4] = [&[], &["-U"], &["-I"], &["-T"]];

/// Raw sockets (root's default), then ordinary ones.
pub const PRIVILEGES: [&[&str]; 2] = [&[], &["--unprivileged"]];

/// The addresses of each hop line of a plain trace's stdout (after its header), and its lines.
pub fn trace_hops(stdout: &str) -> Vec<(Vec<IpAddr>, String)> {
    stdout
        .lines()
        .skip(1)
        .map(|line| {
            let addrs = line.split_whitespace().skip(1).filter_map(|word| word.parse().ok()).collect();
            (addrs, line.to_owned())
        })
        .collect()
}

/// `--report --json` with `args`.
pub fn report(lab: &Lab, client: NodeId, target: IpAddr, args: &[&str]) -> (Vec<ReportHop>, String) {
    let mut command = hoptrace_command(lab, client);
    command.args(["-n", "--report", "--json"]).args(args).arg(target.to_string());
    let stdout = stdout_of(&mut command, "hoptrace --report");
    let json: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let hops = json["report"]["hubs"]
        .as_array()
        .expect("hubs")
        .iter()
        .map(|hub| ReportHop {
            ttl: hub["count"].as_u64().unwrap(),
            loss: hub["Loss%"].as_f64().unwrap(),
            rate_limited: hub["hoptrace"]["rate_limited"].as_bool().unwrap(),
            sent: hub["Snt"].as_u64().unwrap(),
            received: hub["hoptrace"]["received"].as_u64().unwrap(),
            responders: hub["hoptrace"]["responders"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["address"].as_str().unwrap().parse().unwrap())
                .collect(),
        })
        .collect();
    (hops, stdout)
}

/// `--mda` with `args`: per hop the addresses shown and whether it says it is not settled.
pub fn mda(lab: &Lab, client: NodeId, target: IpAddr, args: &[&str]) -> (Vec<(BTreeSet<IpAddr>, bool)>, String) {
    let mut command = hoptrace_command(lab, client);
    command.args(["-n", "--mda"]).args(args).arg(target.to_string());
    let stdout = stdout_of(&mut command, "hoptrace --mda");
    let hops = crate::mda_limits::mda_hops(&stdout).into_iter().map(|(addrs, _, _, unsettled)| (addrs, unsettled));
    (hops.collect(), stdout)
}

/// What a monitor run saw: the path identity after each round, and the path changes it announced.
pub struct MonitorRun {
    pub path_ids: Vec<Option<String>>,
    pub changes: Vec<Value>,
    pub events: String,
}

/// `hoptrace monitor` of `target` (`--every 0.5 -n --events`, `-q 1` unless `args` give `-q`, then `args`) until
/// `rounds` rounds are over.
pub fn monitor_rounds(lab: &Lab, client: NodeId, target: IpAddr, args: &[&str], rounds: usize) -> MonitorRun {
    static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let scratch = Scratch::new(&format!("zoo-monitor-{run}"));
    let path = scratch.0.join("events.ndjson");
    let mut all: Vec<String> = [&target.to_string(), "--every", "0.5", "-n", "--events"].map(String::from).to_vec();
    if !args.contains(&"-q") {
        all.extend(["-q", "1"].map(String::from));
    }
    all.extend(args.iter().map(|arg| arg.to_string()));
    let mut running = monitor(lab, client, &all, &path);
    let read = || std::fs::read_to_string(&path).unwrap_or_default();
    // Rounds every ½ s, or slower at a rate-limited destination's pace.
    let limit = Duration::from_secs_f64(5.0 + 1.5 * rounds as f64);
    wait_for(limit, &format!("{rounds} monitor rounds"), || {
        (read().matches("\"target_round\"").count() >= rounds).then_some(())
    });
    signal(&running.0, "INT");
    let status = wait_for(Duration::from_secs(10), "the monitor to stop", || running.0.try_wait().unwrap());
    assert!(status.success(), "{status}: {}", std::fs::read_to_string(path.with_extension("stderr")).unwrap());
    let events = read();
    let parsed: Vec<Value> = events.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let path_ids = parsed
        .iter()
        .filter(|e| e["event"] == "target_round")
        .map(|e| e["path_id"].as_str().map(String::from))
        .collect();
    let changes = parsed.into_iter().filter(|e| e["event"] == "path_changed").collect();
    MonitorRun { path_ids, changes, events }
}

/// The monitor's identity of the path through `hops` (every TTL answered) to a destination at the last one.
pub fn path_id(hops: &[IpAddr]) -> String {
    let seen = Observation {
        hops: hops.iter().copied().map(Some).collect(),
        reached: Some(hops.len() as u8),
        ..Observation::default()
    };
    hex_id(seen.id())
}

/// `bulk --targets -` (JSON, `-W 1 -m 10`, then `args`) of `targets`: per target, the responders of each TTL.
pub fn bulk(lab: &Lab, client: NodeId, targets: &[IpAddr], args: &[&str]) -> Vec<(IpAddr, Vec<BTreeSet<IpAddr>>)> {
    let mut command = hoptrace_command(lab, client);
    command.args(["bulk", "--targets", "-", "-W", "1", "-m", "10"]).args(args);
    let input: String = targets.iter().map(|target| format!("{target}\n")).collect();
    let output = crate::bulk::run_with_input(command, &input);
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{stderr}");
    stdout
        .lines()
        .map(|line| {
            let trace: Value = serde_json::from_str(line).expect("one JSON document a line");
            let target = trace["dst_addr"].as_str().unwrap().parse().unwrap();
            let hops = trace["result"]
                .as_array()
                .expect("result")
                .iter()
                .map(|hop| {
                    let replies = hop["result"].as_array().expect("replies");
                    replies.iter().filter_map(|reply| reply["from"].as_str()).map(|f| f.parse().unwrap()).collect()
                })
                .collect();
            (target, hops)
        })
        .collect()
}
