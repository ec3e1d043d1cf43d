//! Multipath discovery over simulated ECMP: every branch found, within the MDA-95 probe budget.

mod common;

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use common::*;
use hoptrace_engine::mda::{links, probes_needed};
use hoptrace_engine::sim::SimNetwork;
use hoptrace_engine::{Method, Outcome};

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

#[test]
fn mda_finds_every_branch_of_two_diamonds_within_its_budget() {
    for ipv6 in [false, true] {
        for method in [Method::UdpParis, Method::IcmpParis] {
            let mut network = two_diamonds(ipv6);
            let mut config = config(&network, method);
            config.mda = true;
            let (trace, _) = run(&mut network, config);
            assert_eq!(trace.outcome(), Some(Outcome::Reached { ttl: 7 }), "{method:?}");
            let hops = trace.hops();
            for (index, router) in network.routers.iter().enumerate() {
                let seen: BTreeSet<IpAddr> = hops[index].responders().into_iter().collect();
                let all: BTreeSet<IpAddr> = router.addrs.iter().copied().collect();
                assert_eq!(seen, all, "{method:?} ipv6 {ipv6}: TTL {}", index + 1);
                // Exactly the MDA-95 stopping point for what was seen: no probe more.
                assert_eq!(hops[index].current().count(), probes_needed(all.len()), "TTL {}", index + 1);
            }
            // The 2-way diamond holds one branch per flow over both of its hops: two links, not four.
            assert_eq!(links(&hops[1], &hops[2]).len(), 2, "{method:?}");
            assert_eq!(links(&hops[3], &hops[4]).len(), 3, "{method:?}");
            assert_eq!(links(&hops[4], &hops[5]).len(), 3, "{method:?}");
            let spent: usize = hops.iter().map(|hop| hop.probes.len()).sum();
            let budget: usize = [1, 2, 2, 1, 3, 1, 1].iter().map(|&k| probes_needed(k)).sum();
            assert_eq!(spent, budget, "{method:?} ipv6 {ipv6}");
        }
    }
}

#[test]
fn mda_needs_a_paris_method() {
    let network = SimNetwork::chain(false, 1, MS);
    let mut config = config(&network, Method::Udp);
    config.mda = true;
    assert_eq!(hoptrace_engine::Trace::new(config).err(), Some(hoptrace_engine::ConfigError::MdaNeedsParis));
}

#[test]
fn a_paris_trace_in_another_flow_may_take_another_branch_but_never_mixes() {
    let mut paths = BTreeSet::new();
    for flow in 0..8 {
        let mut network = two_diamonds(false);
        let mut config = config(&network, Method::UdpParis);
        config.flow = flow;
        let (trace, _) = run(&mut network, config);
        let hops: Vec<Vec<IpAddr>> = trace.hops().iter().map(|hop| hop.responders()).collect();
        assert!(hops.iter().all(|responders| responders.len() == 1), "flow {flow}: {hops:?}");
        assert!(trace.hops().iter().flat_map(|hop| &hop.probes).all(|probe| probe.flow == flow));
        paths.insert(hops);
    }
    assert!(paths.len() >= 3, "8 flows took {} paths", paths.len());
}
