//! Multipath discovery before a per-packet load balancer: MDA probes answered flows again at a hop of several
//! interfaces, and says the balancing is per packet when one flow reaches more than one of them.

mod common;

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use common::*;
use hoptrace_engine::mda::per_packet::{repeats_needed, verdict};
use hoptrace_engine::sim::SimNetwork;
use hoptrace_engine::{Confidence, Method, Outcome, Protocol, Resend};

/// A 2-way split at TTL 2, joined again at TTL 3 by a router answering from the interface a packet came in on (one
/// group: the same branch at both), per packet or per flow.
fn split(ipv6: bool, per_packet: bool, seed: u64) -> SimNetwork {
    let mut network = SimNetwork::chain(ipv6, 4, 10 * MS);
    network.seed(seed);
    for index in [1, 2] {
        let router = &mut network.routers[index];
        router.addrs = (0..2u8)
            .map(|branch| match ipv6 {
                true => IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 20 + u16::from(branch), 0, 0, 0, 0, index as u16)),
                false => IpAddr::V4(Ipv4Addr::new(198, 18, 20 + branch, index as u8)),
            })
            .collect();
        router.ecmp_group = 7;
        router.per_packet = per_packet;
    }
    network
}

#[test]
fn a_per_packet_balancer_is_told_at_every_confidence() {
    for confidence in Confidence::ALL {
        let (mut runs, mut complete, mut split_hops, mut told) = (0, 0, 0, 0);
        for ipv6 in [false, true] {
            for seed in 0..20 {
                let what = format!("{confidence}% ipv6 {ipv6} seed {seed}");
                let mut network = split(ipv6, true, seed);
                let mut config = config(&network, Method::paris(Protocol::Udp));
                config.mda = true;
                config.confidence = confidence;
                let (trace, _) = run(&mut network, config);
                assert_eq!(trace.outcome(), Some(Outcome::Reached { ttl: 5 }), "{what}");
                let hops = trace.hops();
                runs += 1;
                // Never an interface that is not there; every one, but for MDA's own failure bound.
                let mut found_all = true;
                for (index, router) in network.routers.iter().enumerate() {
                    let seen: BTreeSet<IpAddr> = hops[index].responders().into_iter().collect();
                    let all: BTreeSet<IpAddr> = router.addrs.iter().copied().collect();
                    assert!(seen.is_subset(&all) && !seen.is_empty(), "{what}: TTL {}: {seen:?}", index + 1);
                    found_all &= seen == all;
                }
                complete += usize::from(found_all);
                // A hop where both interfaces answered is probed again, and told per packet but for 1 in 2^repeats
                // (1/32 at 95 %); the single-interface hops are not probed again, nor told.
                for hop in &hops[1..3] {
                    if hop.responders().len() == 2 {
                        split_hops += 1;
                        told += usize::from(verdict(hop).is_some_and(|told| told.interfaces.len() == 2));
                    }
                }
                for index in [0, 3, 4] {
                    assert_eq!(verdict(&hops[index]), None, "{what}");
                    assert!(hops[index].probes.iter().all(|probe| probe.resent != Some(Resend::Repeat)), "{what}");
                }
            }
        }
        eprintln!("{confidence}%: {complete} of {runs} runs complete; {told} of {split_hops} split hops told");
        assert!(complete * 10 >= runs * 9, "{confidence}%: {complete} of {runs} runs found every interface");
        assert!(told * 10 >= split_hops * 9, "{confidence}%: {told} of {split_hops} split hops told per packet");
    }
}

#[test]
fn a_per_flow_balancer_is_never_told_per_packet() {
    for confidence in Confidence::ALL {
        for ipv6 in [false, true] {
            for seed in 0..5 {
                let what = format!("{confidence}% ipv6 {ipv6} seed {seed}");
                let mut network = split(ipv6, false, seed);
                let mut config = config(&network, Method::paris(Protocol::Udp));
                config.mda = true;
                config.confidence = confidence;
                let (trace, _) = run(&mut network, config);
                let hops = trace.hops();
                for (index, hop) in hops.iter().enumerate() {
                    assert_eq!(verdict(hop), None, "{what}: TTL {}", index + 1);
                    // The repeats were sent (and answered as their flows were), and stand for no flow.
                    let repeats = hop.probes.iter().filter(|probe| probe.resent == Some(Resend::Repeat)).count();
                    assert_eq!(repeats, repeats_needed(confidence, hop), "{what}: TTL {}", index + 1);
                }
                let want = [5, 7, 10][confidence as usize];
                assert_eq!(repeats_needed(confidence, &hops[1]), want, "{what}");
            }
        }
    }
}

#[test]
fn a_lost_repeat_is_not_retried_and_stands_for_no_flow() {
    let mut network = split(false, false, 1);
    network.routers[1].loss = 0.3;
    let mut config = config(&network, Method::paris(Protocol::Udp));
    config.mda = true;
    config.wait.max = Duration::from_millis(200);
    let (trace, _) = run(&mut network, config);
    let hop = &trace.hops()[1];
    let repeats: Vec<_> = hop.probes.iter().filter(|probe| probe.resent == Some(Resend::Repeat)).collect();
    assert!(!repeats.is_empty() && repeats.len() <= 5, "{repeats:?}");
    // Each flow stands once, whatever its repeats.
    let flows: Vec<u16> = hop.current().map(|probe| probe.flow).collect();
    assert_eq!(flows.len(), flows.iter().collect::<BTreeSet<_>>().len(), "{flows:?}");
}
