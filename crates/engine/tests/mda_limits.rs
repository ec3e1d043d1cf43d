//! Multipath discovery against routers that rate-limit their ICMP errors: the stopping rule counts answered flows,
//! lost flows are probed again at the pace the hop answers at, and a hop that cannot be settled in time says so.

mod common;

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use common::*;
use hoptrace_engine::mda::{limiter_wait, neighbours, settlement};
use hoptrace_engine::sim::{RateLimit, SimNetwork};
use hoptrace_engine::{Confidence, Method, Outcome, Protocol};

/// Two diamonds in a row, as the lab's: one router at TTL 1, 2 branches at TTL 2, one router answering from 2
/// interfaces at TTL 3, 3 branches at TTL 4, one router of 3 interfaces at TTL 5, the destination at TTL 6. Every
/// router (and the destination) limits its errors with `limit`.
fn limited_diamonds(ipv6: bool, limit: RateLimit) -> SimNetwork {
    let mut network = SimNetwork::chain(ipv6, 5, 2 * MS);
    for (index, group, width) in [(1, 1, 2), (2, 1, 2), (3, 2, 3), (4, 2, 3)] {
        let router = &mut network.routers[index];
        router.addrs = (0..width)
            .map(|branch| match ipv6 {
                true => IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 10 + branch, 0, 0, 0, 0, index as u16 + 1)),
                false => IpAddr::V4(Ipv4Addr::new(198, 18, 10 + branch as u8, index as u8 + 1)),
            })
            .collect();
        router.ecmp_group = group;
    }
    for router in &mut network.routers {
        router.rate_limit = Some(limit);
    }
    network.destination.rate_limit = Some(limit);
    network
}

/// Runs MDA at `confidence` over `network`; asserts every interface was found and every hop settled; returns the
/// virtual time taken and the least time the limiters allow (per hop, answers beyond the burst times the interval:
/// the most of any hop, as each hop is one limiter here).
fn discover(network: &mut SimNetwork, confidence: Confidence, limit: RateLimit, what: &str) -> (Duration, Duration) {
    let mut config = config(network, Method::paris(Protocol::Udp));
    config.mda = true;
    config.confidence = confidence;
    let (trace, run) = run(network, config);
    assert_eq!(trace.outcome(), Some(Outcome::Reached { ttl: 6 }), "{what}");
    let hops = trace.hops();
    for (index, router) in network.routers.iter().enumerate() {
        let seen: BTreeSet<IpAddr> = hops[index].responders().into_iter().collect();
        let all: BTreeSet<IpAddr> = router.addrs.iter().copied().collect();
        assert_eq!(seen, all, "{what}: TTL {}", index + 1);
    }
    for index in 0..hops.len() {
        let state = settlement(confidence, neighbours(hops, index).0, &hops[index]);
        let flows: Vec<(u16, bool, bool)> = hops[index]
            .probes
            .iter()
            .map(|probe| (probe.flow, probe.status.answer().is_some(), probe.resent.is_some()))
            .collect();
        assert!(state.is_some_and(|state| state.is_settled()), "{what}: TTL {}: {state:?} {flows:?}", index + 1);
    }
    let busiest = hops.iter().map(|hop| hop.answers().count()).max().unwrap_or(0);
    let bound = limit.interval * busiest.saturating_sub(limit.burst as usize) as u32;
    eprintln!("{what}: {} probes, {:?} against the limiters' {bound:?}", trace.stats().sent, run.elapsed);
    (run.elapsed, bound)
}

#[test]
fn mda_under_a_per_destination_limit_finds_every_interface_in_little_more_than_the_limit_allows() {
    // Linux's default per destination: a burst of 6, then one error a second.
    let limit = RateLimit { burst: 6, interval: Duration::from_secs(1) };
    for ipv6 in [false, true] {
        for confidence in [Confidence::Percent95, Confidence::Percent99] {
            let what = format!("{confidence}% ipv6 {ipv6}");
            let mut network = limited_diamonds(ipv6, limit);
            let (elapsed, bound) = discover(&mut network, confidence, limit, &what);
            assert!(bound >= Duration::from_secs(10), "{what}: the limiter should have mattered: {bound:?}");
            assert!(elapsed.as_secs_f64() <= 1.5 * bound.as_secs_f64(), "{what}: {elapsed:?} against {bound:?}");
        }
    }
}

#[test]
fn mda_under_a_fast_global_limit_loses_nothing_and_little_time() {
    // Bursts of probes drain a small bucket that refills fast, as Linux's global limit does.
    let limit = RateLimit { burst: 5, interval: Duration::from_millis(1) };
    let mut network = limited_diamonds(false, limit);
    let (elapsed, _) = discover(&mut network, Confidence::Percent99, limit, "global");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
}

#[test]
fn a_hop_whose_limit_outlasts_the_budget_is_left_not_settled() {
    let limit = RateLimit { burst: 6, interval: Duration::from_secs(1) };
    let mut network = limited_diamonds(false, limit);
    let mut config = config(&network, Method::paris(Protocol::Udp));
    config.mda = true;
    config.confidence = Confidence::Percent99;
    config.mda_wait = Duration::from_secs(5);
    let (trace, run) = run(&mut network, config);
    assert!(run.elapsed < Duration::from_secs(15), "{:?}", run.elapsed);
    let hops = trace.hops();
    let states: Vec<_> = (0..hops.len())
        .map(|index| settlement(Confidence::Percent99, neighbours(hops, index).0, &hops[index]))
        .collect();
    let short = states.iter().flatten().filter(|state| !state.is_settled()).count();
    assert!(short > 0, "{states:?}");
    // It waited, and no longer than its budget (plus a paced probe's wait).
    let (_, waited) = limiter_wait(hops).expect("a hop was probed again");
    assert!(waited > Duration::from_secs(1) && waited <= Duration::from_secs(6), "{waited:?}");
}
