//! Multipath discovery over simulated ECMP: every branch found, within the MDA-95 probe budget.

mod common;

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use common::*;
use hoptrace_engine::mda::per_packet::repeats_needed;
use hoptrace_engine::mda::{links, probes_needed, stopping_points, MAX_FLOWS};
use hoptrace_engine::sim::{RateLimit, SimNetwork};
use hoptrace_engine::{Confidence, Hop, Method, Outcome, Protocol};

/// Two diamonds in a row: 2 branches over TTLs 2 and 3 (one ECMP group), then 3 branches at TTL 5.
fn two_diamonds(ipv6: bool) -> SimNetwork {
    let mut network = SimNetwork::chain(ipv6, 6, 10 * MS);
    for (index, group, width) in [(1, 1, 2), (2, 1, 2), (4, 2, 3)] {
        let router = &mut network.routers[index];
        router.addrs = (0..width)
            .map(|branch| {
                if ipv6 {
                    IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 10 + branch, 0, 0, 0, 0, index as u16 + 1))
                } else {
                    IpAddr::V4(Ipv4Addr::new(198, 18, 10 + branch as u8, index as u8 + 1))
                }
            })
            .collect();
        router.ecmp_group = group;
    }
    network
}

/// Checks MDA's rule per interface from the raw results, without the engine's own accounting: behind a hop of
/// several interfaces, of the flows each interface answered, `n_k` were probed one TTL further, `k` being the next
/// hops they showed — unless that hop left more flows unanswered than answered, where the rule cannot apply.
fn assert_rule_per_interface(confidence: Confidence, hops: &[Hop], what: &str) {
    for pair in hops.windows(2) {
        let (near, far) = (&pair[0], &pair[1]);
        let answered: Vec<(u16, IpAddr)> =
            near.current().filter_map(|probe| Some((probe.flow, probe.responder()?))).collect();
        let unanswered = near.current().filter(|probe| probe.status.answer().is_none()).count();
        if near.responders().len() < 2 || unanswered > answered.len() {
            continue;
        }
        for interface in near.responders() {
            let flows: BTreeSet<u16> =
                answered.iter().filter(|(_, from)| *from == interface).map(|&(f, _)| f).collect();
            let probed: Vec<_> = far.current().filter(|probe| flows.contains(&probe.flow)).collect();
            let next_hops: BTreeSet<IpAddr> = probed.iter().filter_map(|probe| probe.responder()).collect();
            assert!(
                probed.len() >= probes_needed(confidence, next_hops.len()).min(MAX_FLOWS),
                "{what}: TTL {}: {interface} passed {} probed flows on to {} next hops",
                near.ttl,
                probed.len(),
                next_hops.len()
            );
        }
    }
}

#[test]
fn mda_finds_every_branch_of_two_diamonds_within_its_budget() {
    for confidence in Confidence::ALL {
        for ipv6 in [false, true] {
            for method in [Method::paris(Protocol::Udp), Method::paris(Protocol::Icmp)] {
                let what = format!("{confidence}% {method:?} ipv6 {ipv6}");
                let mut network = two_diamonds(ipv6);
                let mut config = config(&network, method);
                config.mda = true;
                config.confidence = confidence;
                let (trace, _) = run(&mut network, config);
                assert_eq!(trace.outcome(), Some(Outcome::Reached { ttl: 7 }), "{what}");
                let hops = trace.hops();
                for (index, router) in network.routers.iter().enumerate() {
                    let seen: BTreeSet<IpAddr> = hops[index].responders().into_iter().collect();
                    let all: BTreeSet<IpAddr> = router.addrs.iter().copied().collect();
                    assert_eq!(seen, all, "{what}: TTL {}", index + 1);
                }
                // Exactly the stopping points at this confidence for what was seen: no probe more, none fewer.
                let counts: Vec<usize> = hops.iter().map(|hop| hop.current().count()).collect();
                assert_eq!(counts, stopping_points(confidence, hops), "{what}");
                assert_rule_per_interface(confidence, hops, &what);
                // At least each hop's own stopping point for its interfaces.
                for (hop, &count) in hops.iter().zip(&counts) {
                    assert!(count >= probes_needed(confidence, hop.responders().len()), "{what}: {counts:?}");
                }
                // The 2-way diamond holds one branch per flow over both of its hops: two links, not four. Each
                // branch of a diamond is probed in enough flows to find where it leads: every closing link is seen.
                assert_eq!(links(&hops[1], &hops[2]).len(), 2, "{what}");
                assert_eq!(links(&hops[2], &hops[3]).len(), 2, "{what}");
                assert_eq!(links(&hops[3], &hops[4]).len(), 3, "{what}");
                assert_eq!(links(&hops[4], &hops[5]).len(), 3, "{what}");
                // Besides, the answered flows each hop of several interfaces probed again (per-packet balancing).
                let spent: usize = hops.iter().map(|hop| hop.probes.len()).sum();
                let repeats: usize = hops.iter().map(|hop| repeats_needed(confidence, hop)).sum();
                assert_eq!(spent, counts.iter().sum::<usize>() + repeats, "{what}: no probe lost, none retried");
                // The single-interface hops spend exactly n_1 at this confidence.
                assert_eq!(counts[0], probes_needed(confidence, 1), "{what}");
            }
        }
    }
}

#[test]
fn every_interface_of_a_split_is_probed_until_its_own_next_hops_are_known() {
    // TTL 2 splits two ways and TTL 3 three ways, independently: behind each TTL-2 interface all three TTL-3
    // interfaces lie. MDA asks for n(3) = 16 flows through each of the two, so all six links are found; the hop's
    // own rule alone (16 flows at TTL 3, about 8 through each) would often miss one.
    for seed in 0..8u32 {
        let mut network = SimNetwork::chain(false, 4, 10 * MS);
        for (index, width) in [(1usize, 2u8), (2, 3)] {
            let router = &mut network.routers[index];
            router.addrs =
                (0..width).map(|branch| IpAddr::V4(Ipv4Addr::new(198, 18, 20 + branch, index as u8))).collect();
            router.ecmp_group = index as u32 + 10 * seed;
        }
        let mut config = config(&network, Method::paris(Protocol::Udp));
        config.mda = true;
        let (trace, _) = run(&mut network, config);
        let hops = trace.hops();
        assert_eq!(links(&hops[1], &hops[2]).len(), 6, "seed {seed}");
        for interface in hops[1].responders() {
            let flows: BTreeSet<u16> = hops[1]
                .current()
                .filter(|probe| probe.responder() == Some(interface))
                .map(|probe| probe.flow)
                .collect();
            let probed = hops[2].current().filter(|probe| flows.contains(&probe.flow)).count();
            assert!(
                probed >= probes_needed(Confidence::Percent95, 3),
                "seed {seed}: {interface} crossed by {probed} flows probed at TTL 3"
            );
        }
    }
}

#[test]
fn mda_needs_a_paris_method() {
    let network = SimNetwork::chain(false, 1, MS);
    let mut config = config(&network, Method::classic(Protocol::Udp));
    config.mda = true;
    assert_eq!(hoptrace_engine::Trace::new(config).err(), Some(hoptrace_engine::ConfigError::MdaNeedsParis));
}

#[test]
fn a_paris_trace_in_another_flow_may_take_another_branch_but_never_mixes() {
    let mut paths = BTreeSet::new();
    for flow in 0..8 {
        let mut network = two_diamonds(false);
        let mut config = config(&network, Method::paris(Protocol::Udp));
        config.flow = flow;
        let (trace, _) = run(&mut network, config);
        let hops: Vec<Vec<IpAddr>> = trace.hops().iter().map(|hop| hop.responders()).collect();
        assert!(hops.iter().all(|responders| responders.len() == 1), "flow {flow}: {hops:?}");
        assert!(trace.hops().iter().flat_map(|hop| &hop.probes).all(|probe| probe.flow == flow));
        paths.insert(hops);
    }
    assert!(paths.len() >= 3, "8 flows took {} paths", paths.len());
}

#[test]
fn a_hop_behind_a_very_wide_split_stops_at_the_flow_cap() {
    // 64 interfaces at TTL 2, each wanting 6 of its flows probed at TTL 3: more than any trace should spend.
    let mut network = SimNetwork::chain(false, 3, 10 * MS);
    network.routers[1].addrs = (0..64).map(|n| IpAddr::V4(Ipv4Addr::new(198, 18, 30, n))).collect();
    network.routers[1].ecmp_group = 3;
    let mut config = config(&network, Method::paris(Protocol::Udp));
    config.mda = true;
    let (trace, _) = run(&mut network, config);
    assert_eq!(trace.outcome(), Some(Outcome::Reached { ttl: 4 }));
    let counts: Vec<usize> = trace.hops().iter().map(|hop| hop.current().count()).collect();
    assert_eq!(counts[1..3], [MAX_FLOWS, MAX_FLOWS], "{counts:?}");
}

/// TTL 2 splits two ways and TTL 3 three ways, each hop its own hash.
fn split_then_split(seed: u32) -> SimNetwork {
    let mut network = SimNetwork::chain(false, 4, 10 * MS);
    for (index, width) in [(1usize, 2u8), (2, 3)] {
        let router = &mut network.routers[index];
        router.addrs = (0..width).map(|branch| IpAddr::V4(Ipv4Addr::new(198, 18, 40 + branch, index as u8))).collect();
        router.ecmp_group = index as u32 + 10 * seed;
    }
    network
}

#[test]
fn lost_and_retried_probes_at_a_split_leave_the_rule_whole() {
    for seed in 0..20u32 {
        let mut network = split_then_split(seed);
        network.seed(u64::from(seed));
        for router in &mut network.routers[1..3] {
            router.loss = 0.05;
        }
        let mut config = config(&network, Method::paris(Protocol::Udp));
        config.mda = true;
        config.retries = 3;
        config.retry_scope = hoptrace_engine::RetryScope::AllHops;
        let (trace, _) = run(&mut network, config);
        assert!(trace.outcome().is_some(), "seed {seed}");
        let hops = trace.hops();
        assert_rule_per_interface(Confidence::Percent95, hops, &format!("seed {seed}"));
        for hop in hops {
            // Flows 0..n, none missing: a lost probe's flow was probed again.
            let flows: Vec<u16> = hop.current().map(|probe| probe.flow).collect();
            let highest = flows.iter().max().map_or(0, |&flow| usize::from(flow) + 1);
            assert_eq!(flows.len(), highest, "seed {seed}: TTL {} flows {flows:?}", hop.ttl);
        }
    }
}

#[test]
fn a_split_hop_that_rate_limits_its_errors_costs_no_more_than_its_own_rule() {
    // A 4-way split whose routers answer a burst of 6, then one a second: most flows go unanswered there, so which
    // interface they crossed is unknown and the rule per interface gives way to the next hop's own.
    let mut network = SimNetwork::chain(false, 4, 10 * MS);
    network.routers[1].addrs = (0..4).map(|n| IpAddr::V4(Ipv4Addr::new(198, 18, 50, n))).collect();
    network.routers[1].ecmp_group = 7;
    network.routers[1].rate_limit = Some(RateLimit { burst: 6, interval: Duration::from_secs(1) });
    let mut config = config(&network, Method::paris(Protocol::Udp));
    config.mda = true;
    let (trace, _) = run(&mut network, config);
    assert_eq!(trace.outcome(), Some(Outcome::Reached { ttl: 5 }));
    let counts: Vec<usize> = trace.hops().iter().map(|hop| hop.current().count()).collect();
    assert!(counts.iter().all(|&count| count <= 40), "{counts:?}");
}
