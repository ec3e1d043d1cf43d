//! The monitor's loop on the simulated network, on its virtual clock: no sockets, no sleeps.

use core::net::IpAddr;
use core::time::Duration;
use std::collections::HashMap;
use std::time::SystemTime;

use hoptrace_core::monitor::{Lookup, Monitor, MonitorEvent, MonitorOptions, Notice, Traces};
use hoptrace_core::sim::{SimNetwork, SimTraces};
use hoptrace_core::{Error, Options, Protocol};

const EVERY: Duration = Duration::from_secs(10);

fn options(confirm: u32, jitter: f64) -> MonitorOptions {
    let mut probing = Options::new(Protocol::Udp);
    probing.flows = hoptrace_core::Flows::Paris;
    probing.max_ttl = 8;
    MonitorOptions { every: EVERY, jitter, window: 5, confirm, probing, seed: Some(7) }
}

/// Names from a table; a name fails as many times as `failures` says first. Answers come a step later.
#[derive(Default)]
struct Table {
    names: HashMap<String, IpAddr>,
    failures: HashMap<String, u32>,
    asked: Vec<String>,
    pending: Vec<String>,
}

impl Lookup for Table {
    fn ask(&mut self, name: &str) {
        self.asked.push(name.to_owned());
        self.pending.push(name.to_owned());
    }

    fn answers(&mut self) -> Vec<(String, Result<IpAddr, Error>)> {
        let pending = std::mem::take(&mut self.pending);
        pending
            .into_iter()
            .map(|name| {
                let left = self.failures.entry(name.clone()).or_default();
                let answer = match self.names.get(&name) {
                    Some(&addr) if *left == 0 => Ok(addr),
                    _ => Err(Error::UnknownHost(name.clone())),
                };
                *left = left.saturating_sub(1);
                (name, answer)
            })
            .collect()
    }
}

/// Steps `monitor` until virtual time `until` (from the start), returning every notice with its virtual time.
fn run(monitor: &mut Monitor, traces: &mut SimTraces, lookup: &mut Table, until: Duration) -> Vec<(Duration, Notice)> {
    let mut notices = Vec::new();
    for _ in 0..100_000 {
        if traces.elapsed() >= until {
            break;
        }
        for notice in monitor.step(traces, lookup).expect("a step") {
            notices.push((traces.elapsed(), notice));
        }
    }
    notices
}

fn rounds(notices: &[(Duration, Notice)]) -> Vec<&hoptrace_core::monitor::RoundDone> {
    notices
        .iter()
        .filter_map(|(_, notice)| if let Notice::Round(round) = notice { Some(round) } else { None })
        .collect()
}

fn changes(notices: &[(Duration, Notice)]) -> Vec<&MonitorEvent> {
    notices
        .iter()
        .filter_map(|(_, n)| if let Notice::Event(e @ MonitorEvent::PathChanged { .. }) = n { Some(e) } else { None })
        .collect()
}

fn one_target(confirm: u32) -> (Monitor, SimTraces, Table, IpAddr) {
    let network = SimNetwork::chain(false, 3, Duration::from_millis(5));
    let destination = network.destination.addr;
    let mut traces = SimTraces::new(network, SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000));
    let mut monitor = Monitor::new(options(confirm, 0.0));
    monitor.set_targets(&[destination.to_string()], &mut traces);
    (monitor, traces, Table::default(), destination)
}

#[test]
fn a_path_change_is_confirmed_after_confirm_rounds_and_told_once() {
    let (mut monitor, mut traces, mut table, destination) = one_target(3);
    let before = run(&mut monitor, &mut traces, &mut table, EVERY * 4);
    let established = rounds(&before).last().and_then(|round| round.path_id).expect("a path after 3 rounds");
    assert!(changes(&before).is_empty(), "the first path is no change");
    let old_router = traces.network.router_addr(2);
    let new_router: IpAddr = "198.18.0.77".parse().unwrap();
    traces.network.routers[1].addrs = vec![new_router];
    let after = run(&mut monitor, &mut traces, &mut table, EVERY * 12);
    let after_rounds = rounds(&after);
    // Rounds 1 and 2 on the new path: candidates; round 3 confirms it.
    assert_eq!(after_rounds.iter().map(|round| round.changed).collect::<Vec<_>>()[..4], [false, false, true, false]);
    assert_eq!(after_rounds[0].path_id, Some(established));
    assert_ne!(after_rounds[2].path_id, Some(established));
    let changes = changes(&after);
    assert_eq!(changes.len(), 1, "{changes:?}");
    let MonitorEvent::PathChanged { target, old, new, ttls, .. } = changes[0] else { unreachable!() };
    assert_eq!(target, &destination.to_string());
    assert_eq!(ttls, &[2]);
    assert_eq!((old[1], new[1]), (Some(old_router), Some(new_router)));
    assert_eq!(new.last(), Some(&Some(destination)));
}

#[test]
fn a_forged_round_is_never_a_path_change() {
    let (mut monitor, mut traces, mut table, _) = one_target(3);
    let before = run(&mut monitor, &mut traces, &mut table, EVERY * 4);
    let established = rounds(&before).last().and_then(|round| round.path_id).expect("a path");
    let real = traces.network.routers[1].addrs.clone();
    // One round answered at TTL 2 by another address, then the real router again.
    traces.network.routers[1].addrs = vec!["198.18.0.66".parse().unwrap()];
    let until = traces.elapsed() + EVERY;
    let odd = run(&mut monitor, &mut traces, &mut table, until);
    assert_eq!(rounds(&odd).len(), 1);
    traces.network.routers[1].addrs = real;
    let later = run(&mut monitor, &mut traces, &mut table, EVERY * 20);
    assert!(rounds(&later).len() >= 10);
    assert!(changes(&odd).is_empty() && changes(&later).is_empty());
    assert!(rounds(&later).iter().all(|round| round.path_id == Some(established) && !round.changed));
}

#[test]
fn a_name_that_fails_to_resolve_is_backed_off_and_retried() {
    let network = SimNetwork::chain(false, 2, Duration::from_millis(5));
    let destination = network.destination.addr;
    let mut traces = SimTraces::new(network, SystemTime::UNIX_EPOCH);
    let mut table = Table::default();
    table.names.insert("flaky.test".into(), destination);
    table.failures.insert("flaky.test".into(), 4);
    let mut monitor = Monitor::new(options(1, 0.0));
    monitor.set_targets(&["flaky.test".to_owned()], &mut traces);
    let notices = run(&mut monitor, &mut traces, &mut table, EVERY * 12);
    let failed: Vec<(f64, f64)> = notices
        .iter()
        .filter_map(|(_, n)| match n {
            Notice::Event(MonitorEvent::TargetFailed { backoff, retry_in, error, .. }) => {
                assert_eq!(error, "unknown host flaky.test");
                Some((*backoff, (*retry_in * 10.0).round() / 10.0))
            }
            _ => None,
        })
        .collect();
    // Two failures at the period, then the period doubling; each retry_in is the period plus the back-off.
    assert_eq!(failed, [(0.0, 10.0), (0.0, 10.0), (10.0, 20.0), (20.0, 30.0)]);
    let reached = rounds(&notices);
    assert!(reached.len() >= 2 && reached.iter().all(|round| round.reached && round.address == destination));
    // The retries came when announced: the starts of the traces, 10 s apart once the name resolved.
    let starts: Vec<Duration> = traces.log.iter().map(|(_, at)| *at - traces.log[0].1).collect();
    assert_eq!(starts[..3], [Duration::ZERO, EVERY, EVERY * 2]);
    assert_eq!(table.asked.len(), 4 + reached.len());
}

#[test]
fn rounds_come_on_schedule_for_every_target() {
    let network = SimNetwork::chain(false, 2, Duration::from_millis(5));
    let destination = network.destination.addr;
    let mut traces = SimTraces::new(network, SystemTime::UNIX_EPOCH);
    let mut table = Table::default();
    table.names.insert("dst.test".into(), destination);
    let mut monitor = Monitor::new(options(1, 0.1));
    let targets = ["dst.test".to_owned(), destination.to_string()];
    let (added, dropped) = monitor.set_targets(&targets, &mut traces);
    assert_eq!((added.len(), dropped.len()), (2, 0));
    run(&mut monitor, &mut traces, &mut table, EVERY * 30);
    for target in &targets {
        let starts: Vec<Duration> = traces
            .log
            .iter()
            .filter(|(key, _)| key == target)
            .map(|(_, at)| *at - (traces.now() - traces.elapsed()))
            .collect();
        assert!(starts[0] <= EVERY, "{target}: first round within the first period");
        assert!(starts.len() >= 27, "{target}: {} rounds", starts.len());
        for gap in starts.windows(2).map(|pair| pair[1] - pair[0]) {
            assert!(gap >= EVERY.mul_f64(0.9) && gap <= EVERY.mul_f64(1.1), "{target}: a round {gap:?} after the last");
        }
    }
    // The name is looked up each round; the address never.
    assert!(table.asked.iter().all(|name| name == "dst.test") && table.asked.len() >= 27);
    // A target dropped: its rounds stop.
    let (_, dropped) = monitor.set_targets(&targets[..1], &mut traces);
    assert_eq!(dropped, [destination.to_string()]);
    let count = |traces: &SimTraces| traces.log.iter().filter(|(key, _)| *key == targets[1]).count();
    let before = count(&traces);
    run(&mut monitor, &mut traces, &mut table, EVERY * 40);
    assert_eq!(count(&traces), before);
}

#[test]
fn rounds_after_the_first_probe_no_farther_than_the_destination() {
    let (mut monitor, mut traces, mut table, destination) = one_target(3);
    let before = run(&mut monitor, &mut traces, &mut table, EVERY * 4);
    // The first round probes every TTL up to -m 8 at once; the next ones stop at the destination's TTL 4.
    assert_eq!(rounds(&before).iter().map(|round| round.sent).collect::<Vec<_>>(), [24, 12, 12, 12]);
    let established = rounds(&before).last().and_then(|round| round.path_id).expect("a path after 3 rounds");
    // The path grows by a router: the rounds find the destination farther and the change is told.
    let extra = traces.network.routers[2].clone();
    traces.network.routers[2].addrs = vec!["198.18.0.77".parse().unwrap()];
    traces.network.routers.push(extra);
    let after = run(&mut monitor, &mut traces, &mut table, EVERY * 12);
    let after_rounds = rounds(&after);
    assert!(after_rounds.iter().all(|round| round.reached), "{after_rounds:?}");
    // A router answering at TTL 4 opens the window to -m; the rounds after stop at TTL 5.
    assert_eq!(after_rounds.iter().map(|round| round.sent).collect::<Vec<_>>()[..3], [24, 15, 15]);
    let changes = changes(&after);
    assert_eq!(changes.len(), 1, "{changes:?}");
    let MonitorEvent::PathChanged { new, .. } = changes[0] else { unreachable!() };
    assert_eq!((new.len(), new.last()), (5, Some(&Some(destination))));
    assert_ne!(after_rounds.last().and_then(|round| round.path_id), Some(established));
}
