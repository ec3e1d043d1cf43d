//! `bulk --targets`' planner on the simulated network, on a virtual clock: probes paced one per `PACE`, replies
//! decoded by the bulk codec from the sim's bytes.

use core::net::IpAddr;
use core::time::Duration;
use std::collections::HashMap;
use std::time::Instant;

use hoptrace_engine::bulk::{
    decode, encode, tenth_ms, timestamp, Arrival, Check, PlanConfig, Planner, ProbeSpec, Protocol, MAX_PROBE_LEN,
};
use hoptrace_engine::mda::{probes_needed, stopping_points};
use hoptrace_engine::sim::{RateLimit, SimNetwork};
use hoptrace_engine::{Confidence, Outcome};

const MS: Duration = Duration::from_millis(1);
const CHECK: Check = Check { caracal_id: 7, integrity: true };
/// The time between two probes (1,000 a second).
const PACE: Duration = MS;

/// `n` IPv4 targets in 198.19.0.0/16.
fn targets(n: u8) -> Vec<IpAddr> {
    (1..=n).map(|i| IpAddr::from([198, 19, i, 1])).collect()
}

fn config(wait: Duration) -> PlanConfig {
    PlanConfig { wait, seed: 0x5eed, ..PlanConfig::new() }
}

/// Each probe sent: when (since the start), and what.
type Sent = Vec<(Duration, ProbeSpec)>;

/// Runs `planner` over `network` (every target at the end of its path) until it has nothing more to send and no
/// reply is on its way; returns the probes sent.
fn drive(planner: &mut Planner, network: &mut SimNetwork) -> Sent {
    let start = Instant::now();
    let micros = |at: Instant| 1_700_000_000_000_000 + (at - start).as_micros() as u64;
    let (mut now, mut sent) = (start, Vec::new());
    for _ in 0..1_000_000 {
        for (wire, at) in network.deliver(now) {
            let arrival = match (wire.v6_meta, network.source) {
                (None, _) => Arrival::V4(&wire.bytes),
                (Some((IpAddr::V6(from), _, hop_limit)), IpAddr::V6(to)) => {
                    Arrival::V6 { message: &wire.bytes, from, to, hop_limit }
                }
                _ => continue,
            };
            if let Ok(row) = decode(arrival, micros(at), CHECK) {
                planner.handle_row(at, row);
            }
        }
        let next_probe = match planner.poll_probe(now) {
            Some(spec) => {
                let mut buf = [0; MAX_PROBE_LEN];
                let stamp = timestamp(tenth_ms(micros(now)));
                let len = encode(&spec, network.source, CHECK.caracal_id, stamp, &mut buf);
                network.send_packet(buf[..len].to_vec(), now);
                sent.push((now - start, spec));
                Some(now + PACE)
            }
            None => planner.poll_timeout(),
        };
        match [next_probe, network.next_delivery()].into_iter().flatten().min() {
            Some(at) => now = at.max(now),
            None => break,
        }
    }
    assert!(planner.is_finished());
    sent
}

/// When each (target index, TTL) was sent, in order.
fn times(planner: &Planner, sent: &Sent) -> HashMap<(usize, u8), Vec<Duration>> {
    let mut times: HashMap<(usize, u8), Vec<Duration>> = HashMap::new();
    for (at, spec) in sent {
        let target = planner.targets().iter().position(|t| *t == spec.dst).unwrap();
        times.entry((target, spec.ttl)).or_default().push(*at);
    }
    times
}

#[test]
fn a_lost_probe_is_probed_again_in_the_second_pass() {
    let mut network = SimNetwork::chain(false, 4, MS);
    network.routers[1].loss = 0.3;
    let wait = 100 * MS;
    let mut planner = Planner::new(targets(20), config(wait), Instant::now());
    let sent = drive(&mut planner, &mut network);
    let times = times(&planner, &sent);
    let first_pass_end = times.values().map(|t| t[0]).max().unwrap();
    let resent: Vec<_> = times.iter().filter(|(_, t)| t.len() > 1).map(|(k, t)| (*k, t.clone())).collect();
    assert!(!resent.is_empty());
    for ((target, ttl), t) in &resent {
        // Once more only, after the first pass and its wait.
        assert_eq!(t.len(), 2);
        assert!(t[1] >= first_pass_end + wait, "{target} {ttl}: {t:?}");
    }
    // Every answer comes within 5 ms, long before the second pass: one resent and answered was lost the first time.
    assert!(resent.iter().any(|((target, ttl), _)| planner.is_answered(*target, *ttl)));
    // Nothing answered in the first pass went again.
    assert!(resent.iter().all(|((target, ttl), _)| planner.row(*target, *ttl, 0).is_none_or(|row| row.rtt < 1000)));
}

#[test]
fn no_ttl_past_the_gap_limit_is_probed_once_the_gap_is_silent() {
    // Three answering routers, then silence: a destination that answers nothing.
    let mut network = SimNetwork::chain(false, 3, MS);
    network.destination.answers_udp = false;
    let wait = 20 * MS;
    let config = PlanConfig { gap_limit: 3, ..config(wait) };
    let mut planner = Planner::new(targets(10), config, Instant::now());
    let sent = drive(&mut planner, &mut network);
    let times = times(&planner, &sent);
    let mut skipped = 0;
    for target in 0..10 {
        assert_eq!(planner.outcome(target), Outcome::GapLimit { ttl: 6 });
        assert_eq!(planner.hops(target).len(), 6);
        // When TTLs 1 to 6 had all gone `wait` before (their answers in), no TTL past 6 is probed.
        let gap_known = (1..=6).map(|ttl| times[&(target, ttl)][0]).max().unwrap() + wait;
        for ttl in 7..=30 {
            match times.get(&(target, ttl)) {
                Some(t) => assert!(t.iter().all(|at| *at < gap_known), "{target} {ttl}: {t:?} {gap_known:?}"),
                None => skipped += 1,
            }
        }
    }
    // A TTL past 6 goes after all of 1 to 6 about a seventh of the time.
    assert!(skipped >= 20, "{skipped} of 240 skipped");
}

#[test]
fn no_ttl_past_the_destination_is_probed_once_it_answered() {
    let mut network = SimNetwork::chain(false, 4, MS);
    let mut planner = Planner::new(targets(10), config(50 * MS), Instant::now());
    let sent = drive(&mut planner, &mut network);
    let times = times(&planner, &sent);
    let rtt = network.destination.rtt;
    let mut skipped = 0;
    for target in 0..10 {
        assert_eq!(planner.outcome(target), Outcome::Reached { ttl: 5 });
        assert_eq!(planner.hops(target).len(), 5);
        let answered = times[&(target, 5)][0] + rtt;
        for ttl in 6..=30 {
            match times.get(&(target, ttl)) {
                Some(t) => assert!(t.len() == 1 && t[0] < answered, "{target} {ttl}: {t:?} {answered:?}"),
                None => skipped += 1,
            }
        }
    }
    assert!(skipped > 100, "{skipped} of 250 skipped");
}

#[test]
fn mda_rounds_add_flows_until_every_hop_has_its_stopping_point() {
    // A diamond of two at TTL 2.
    let mut network = SimNetwork::chain(false, 3, MS);
    network.routers[1].addrs = (1..=2).map(|i| IpAddr::from([198, 18, 2, i])).collect();
    let confidence = Confidence::Percent95;
    let config = PlanConfig { mda: Some(confidence), ..config(20 * MS) };
    let mut planner = Planner::new(targets(3), config, Instant::now());
    let sent = drive(&mut planner, &mut network);
    // Rounds one after another (a wait before each), settled before the cap of ten.
    let waits = sent.windows(2).filter(|w| w[1].0 - w[0].0 >= 20 * MS).count();
    assert!((3..10).contains(&waits), "{waits}");
    for target in 0..3 {
        let hops = planner.hops(target);
        let responders: std::collections::BTreeSet<IpAddr> =
            hops[1].probes.iter().filter_map(|p| p.status.answer().map(|a| a.reply.from)).collect();
        assert_eq!(responders.len(), 2, "{hops:?}");
        // Every hop got the flows its stopping point asks, no more.
        let flows: Vec<u16> = (1..=4).map(|ttl| planner.flows(target, ttl)).collect();
        let needed: Vec<u16> = stopping_points(confidence, &hops).into_iter().map(|n| n as u16).collect();
        assert_eq!(flows, needed);
        assert!(usize::from(flows[1]) >= probes_needed(confidence, 2));
    }
    assert_eq!(sent.iter().filter(|(_, spec)| spec.protocol != Protocol::Udp).count(), 0);
}

#[test]
fn a_rate_limited_hop_stays_silent_where_it_ran_out_and_the_traces_go_on() {
    // Hop 2 answers two errors, then one per 10 s: most targets' hop 2 is silent, in both passes.
    let mut network = SimNetwork::chain(false, 4, MS);
    network.routers[1].rate_limit = Some(RateLimit { burst: 2, interval: Duration::from_secs(10) });
    let mut planner = Planner::new(targets(10), config(50 * MS), Instant::now());
    let sent = drive(&mut planner, &mut network);
    let times = times(&planner, &sent);
    let answered = (0..10).filter(|&target| planner.is_answered(target, 2)).count();
    assert_eq!(answered, 2);
    for target in 0..10 {
        assert_eq!(planner.outcome(target), Outcome::Reached { ttl: 5 });
        let silent = !planner.is_answered(target, 2);
        assert_eq!(times[&(target, 2)].len(), if silent { 2 } else { 1 });
    }
}

#[test]
fn mda_probes_again_the_flows_a_rate_limited_hop_left_unanswered() {
    // A diamond of two at TTL 2 whose routers answer 4 errors at once, then one per 10 ms: each round loses flows
    // there, and the next round (20 ms later) probes them again until every flow the rule needs is answered.
    let mut network = SimNetwork::chain(false, 3, MS);
    network.routers[1].addrs = (1..=2).map(|i| IpAddr::from([198, 18, 2, i])).collect();
    network.routers[1].rate_limit = Some(RateLimit { burst: 4, interval: 10 * MS });
    let config = PlanConfig { mda: Some(Confidence::Percent95), ..config(20 * MS) };
    let mut planner = Planner::new(targets(3), config, Instant::now());
    let sent = drive(&mut planner, &mut network);
    let mut again = 0;
    for target in 0..3 {
        let hop = &planner.hops(target)[1];
        let flows = planner.flows(target, 2);
        let answered = hop.probes.iter().filter(|probe| probe.status.answer().is_some()).count();
        assert_eq!(answered, usize::from(flows), "target {target}: {answered} of {flows} flows answered");
        let dst = planner.targets()[target];
        let probes: Vec<u16> =
            sent.iter().filter(|(_, s)| s.dst == dst && s.ttl == 2).map(|(_, s)| s.src_port).collect();
        again += probes.len() - usize::from(flows);
    }
    assert!(again > 0, "no flow was probed again");
}
