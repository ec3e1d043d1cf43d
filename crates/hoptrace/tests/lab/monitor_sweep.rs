//! `hoptrace monitor` (ICMP over its shared ping socket, where an 8-byte quote names a probe by its sequence number
//! alone) against a forger on the path sweeping every sequence number: the established path stays, no change is
//! counted, and no probe budget is spent on fake hops.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use netlab::{Family, Sweep};

use crate::monitor::{http_get, monitor, sample, signal, wait_for, Scratch, METRICS};
use crate::support::*;

#[test]
fn a_sweeping_forger_changes_no_monitored_path() {
    let _machine = shared_machine();
    // client — r1 (the forger) — r2 — r3 (silent) — dst (drops everything): probes past r2 wait out -w, long
    // enough for the sweeps to meet them.
    let silent = netlab::RouterOpts { silent: true, ..netlab::RouterOpts::default() };
    let (lab, client, routers, dst) = crate::chain(3, |spec, routers, _| spec.router_opts(routers[2], silent));
    let status = lab.command(dst, "iptables").args(["-A", "INPUT", "-j", "DROP"]).status().expect("iptables runs");
    assert!(status.success(), "the destination drops everything");
    let scratch = Scratch::new("monitor-sweep");
    let events_path = scratch.0.join("events.ndjson");
    let forger = Ipv4Addr::new(198, 19, 254, 1);
    let (IpAddr::V4(target), IpAddr::V4(client_addr)) =
        (lab.addr(dst, Family::V4), lab.hop_addr(client, routers[0], Family::V4))
    else {
        panic!("IPv4 addresses")
    };
    let name = target.to_string();
    let args: Vec<String> =
        [&name, "--every", "0.5", "-q", "1", "-w", "1", "-n", "--detail", "hops", "--events", "--prometheus", METRICS]
            .map(String::from)
            .to_vec();
    let mut hoptrace = monitor(&lab, client, &args, &events_path);
    let metrics = || http_get(&lab, client, &format!("http://{METRICS}/metrics"));
    let path_id = format!("hoptrace_path_id{{target=\"{name}\"}}");
    let probes = format!("hoptrace_probes_sent_total{{target=\"{name}\"}}");
    let changes = format!("hoptrace_path_changes_total{{target=\"{name}\"}}");
    let before = wait_for(Duration::from_secs(20), "a path", || metrics().filter(|m| sample(m, &path_id).is_some()));
    let rounds = || {
        let events = std::fs::read_to_string(&events_path).unwrap_or_default();
        events.lines().filter(|line| line.contains("\"target_round\"")).count() as f64
    };
    let (id, sent_before, rounds_before) =
        (sample(&before, &path_id), sample(&before, &probes).unwrap_or(0.0), rounds());
    // Four whole sweeps of the 16-bit field. (A sustained flood at full speed, 1.4 M packets in 12 s, made rounds
    // cost 42 probes rather than 19, with no forged hop shown nor path changed: not yet explained.)
    let sweep = Sweep { client: client_addr, target, forger, sweeps: 4, duration: Duration::from_secs(12) };
    let sweeping = lab.sweep(routers[0], sweep).expect("the forger starts");
    let forged = sweeping.join().expect("the forger ran");
    std::thread::sleep(Duration::from_secs(1));
    let after = metrics().expect("/metrics answers");
    let rounds_after = rounds();
    signal(&hoptrace.0, "INT");
    let status = wait_for(Duration::from_secs(10), "the monitor to stop", || hoptrace.0.try_wait().unwrap());
    assert!(status.success(), "{status}");
    let sent_after = sample(&after, &probes).unwrap_or(0.0);
    let fake: Vec<&str> = after
        .lines()
        .filter(|line| line.starts_with("hoptrace_hop_info"))
        .filter(|line| [forger, target].iter().any(|addr| line.contains(&format!("address=\"{addr}\""))))
        .collect();
    eprintln!(
        "{forged} forged replies sent; probes {sent_before} in {rounds_before} rounds -> {sent_after} in {rounds_after}; changes {:?}; \
         id {id:?} -> {:?}; series naming the forger: {fake:?}",
        sample(&after, &changes),
        sample(&after, &path_id)
    );
    assert!(forged >= 65_536, "only {forged} forged replies sent");
    assert_eq!(sample(&after, &changes), Some(0.0), "{after}");
    assert!(fake.is_empty(), "forged hops in the window's report: {fake:#?}");
    assert_eq!(sample(&after, &path_id), id, "{after}");
    let changed = std::fs::read_to_string(&events_path).unwrap_or_default();
    assert!(!changed.contains("\"path_changed\""), "{changed}");
    // A round here ends at the gap limit; fake hops out to the max TTL (30) would cost 30 probes or more.
    let during = (sent_after - sent_before) / (rounds_after - rounds_before);
    assert!(during < 24.0, "{during} probes a round during the sweep");
}
