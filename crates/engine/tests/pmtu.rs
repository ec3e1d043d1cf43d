//! Path MTU discovery and retries of lost probes.

mod common;

use common::*;
use hoptrace_engine::sim::SimNetwork;
use hoptrace_engine::{ErrorClass, Method, Outcome, ProbeStatus, Protocol, Resend, RetryScope, Trace};

/// client —1500— r1 —1500— r2 —1400— r3 —1280— r4 — dst
fn narrowing_path(ipv6: bool) -> SimNetwork {
    let mut network = SimNetwork::chain(ipv6, 4, 10 * MS);
    network.routers[1].mtu = Some(1400);
    network.routers[2].mtu = Some(1280);
    network
}

#[test]
fn too_big_probes_are_resent_smaller_at_the_same_ttl() {
    for ipv6 in [false, true] {
        let mut network = narrowing_path(ipv6);
        let mut config = config(&network, Method::classic(Protocol::Udp));
        config.packet_len = 1500;
        config.discover_mtu = true;
        config.probes_per_hop = 1;
        config.max_in_flight = 1; // as tracepath and `--mtu` probe: one at a time, each at the latest size
        let (trace, _) = run(&mut network, config);
        assert_eq!(trace.outcome(), Some(Outcome::Reached { ttl: 5 }));
        let hops = trace.hops();
        // Every TTL ends with one answer that stands for it, from the router at that TTL.
        assert_eq!(responders(&trace), expected_path(&network, 1));
        let hop3: Vec<_> = hops[2].probes.iter().map(|p| (p.size, p.resent)).collect();
        assert_eq!(hop3, [(1500, Some(Resend::Smaller)), (1400, None)], "ipv6 {ipv6}");
        let too_big = hops[2].probes[0].status.answer().unwrap();
        assert_eq!(too_big.from(), network.router_addr(2));
        let error = too_big.icmp_error().unwrap();
        assert_eq!((error.class, error.mtu), (ErrorClass::PacketTooBig, Some(1400)));
        let hop4: Vec<_> = hops[3].probes.iter().map(|p| (p.size, p.resent)).collect();
        assert_eq!(hop4, [(1400, Some(Resend::Smaller)), (1280, None)]);
        assert_eq!(hops[4].probes[0].size, 1280);
    }
}

#[test]
fn a_local_too_big_shrinks_the_probes_to_the_link_mtu() {
    let network = SimNetwork::chain(false, 2, 10 * MS);
    let mut config = config(&network, Method::classic(Protocol::Udp));
    config.packet_len = 65_535;
    config.discover_mtu = true;
    config.probes_per_hop = 1;
    let mut trace = Trace::new(config).unwrap();
    let now = std::time::Instant::now();
    let first = trace.poll_probe(now).unwrap();
    trace.send_too_big(first.id, 1500);
    let second = trace.poll_probe(now).unwrap();
    assert_eq!(second.ttl, 1);
    let hop = &trace.hops()[0];
    assert_eq!(hop.probes[0].status, ProbeStatus::TooBigLocally { mtu: 1500 });
    assert_eq!(hop.probes[0].resent, Some(Resend::Smaller));
    assert_eq!(hop.probes[1].size, 1500);
}

/// More than a probe can be (IPv6, above 65535 bytes): probes are cut to 65535 bytes, the size asked for waits for
/// the caller to check it against the local MTU; a local MTU of 65536 (loopback's) is recorded, probes stay 65535.
#[test]
fn an_ipv6_size_above_the_largest_probe_is_checked_against_the_local_mtu() {
    for ipv6 in [false, true] {
        let network = SimNetwork::chain(ipv6, 2, 10 * MS);
        let mut config = config(&network, Method::classic(Protocol::Udp));
        config.packet_len = 128_000;
        config.discover_mtu = true;
        config.probes_per_hop = 1;
        let mut trace = Trace::new(config).unwrap();
        assert_eq!(trace.oversized(), ipv6.then_some(128_000), "ipv6 {ipv6}");
        let now = std::time::Instant::now();
        let first = trace.poll_probe(now).unwrap();
        assert_eq!(trace.hops()[0].probes[0].size, 65_535);
        if !ipv6 {
            continue;
        }
        trace.send_too_big(first.id, 65_536);
        assert_eq!(trace.oversized(), None);
        let second = trace.poll_probe(now).unwrap();
        assert_eq!(second.ttl, 1);
        let hop = &trace.hops()[0];
        assert_eq!(hop.probes[0].status, ProbeStatus::TooBigLocally { mtu: 65_536 });
        assert_eq!(hop.probes[0].resent, Some(Resend::Smaller));
        assert_eq!(hop.probes[1].size, 65_535);
    }
}

#[test]
fn without_discovery_a_locally_too_big_probe_ends_the_trace_at_its_ttl() {
    let network = SimNetwork::chain(false, 2, 10 * MS);
    let mut config = config(&network, Method::classic(Protocol::Udp));
    config.packet_len = 1600;
    config.probes_per_hop = 1;
    let mut trace = Trace::new(config).unwrap();
    let now = std::time::Instant::now();
    let first = trace.poll_probe(now).unwrap();
    assert_eq!(first.ttl, 1);
    trace.send_too_big(first.id, 1500);
    while let Some(probe) = trace.poll_probe(now) {
        trace.send_too_big(probe.id, 1500);
    }
    assert_eq!(trace.outcome(), Some(Outcome::Unreachable { ttl: 1 }));
    let statuses: Vec<_> = trace.hops().iter().flat_map(|hop| hop.current().map(|p| p.status.clone())).collect();
    assert_eq!(statuses, [ProbeStatus::TooBigLocally { mtu: 1500 }]);
}

#[test]
fn without_discovery_a_too_big_probe_ends_the_trace() {
    let mut network = narrowing_path(false);
    let mut config = config(&network, Method::classic(Protocol::Udp));
    config.packet_len = 1500;
    let (trace, _) = run(&mut network, config);
    assert_eq!(trace.outcome(), Some(Outcome::Unreachable { ttl: 3 }));
}

#[test]
fn lost_probes_are_retried_up_to_the_limit() {
    let mut network = SimNetwork::chain(false, 4, 10 * MS);
    network.routers[1].silent = true;
    let mut config = config(&network, Method::classic(Protocol::Udp));
    config.probes_per_hop = 1;
    config.retries = 2;
    config.retry_scope = RetryScope::AllHops;
    let (trace, _) = run(&mut network, config);
    let hop2 = &trace.hops()[1];
    assert_eq!(hop2.probes.len(), 3);
    assert!(hop2.probes.iter().all(|p| p.status == ProbeStatus::TimedOut));
    assert_eq!(hop2.current().count(), 1);
    // Answering hops need no retries.
    assert!(trace.hops().iter().filter(|hop| hop.ttl != 2).all(|hop| hop.probes.len() == 1));
    assert_eq!(trace.outcome(), Some(Outcome::Reached { ttl: 5 }));
}

#[test]
fn a_retry_that_gets_through_stands_for_the_lost_probe() {
    let mut network = SimNetwork::chain(false, 3, 10 * MS);
    network.routers[2].loss = 0.5;
    network.seed(6);
    let mut config = config(&network, Method::classic(Protocol::Icmp));
    config.probes_per_hop = 3;
    config.retries = 3;
    let (trace, _) = run(&mut network, config);
    let hop3 = &trace.hops()[2];
    let lost = hop3.probes.iter().filter(|p| p.resent == Some(Resend::Retry)).count();
    assert!(lost > 0, "seed 6 loses probes at hop 3");
    assert_eq!(hop3.current().count(), 3);
    assert!(hop3.current().filter_map(|p| p.status.answer()).count() >= 2);
}

#[test]
fn lossy_scope_retries_lossy_hops_and_the_first_silent_ttl_only() {
    let mut network = SimNetwork::chain(false, 6, 10 * MS);
    network.routers[1].silent = true; // between answering hops: no retry
    network.routers[3].loss = 0.5; // lossy: retried
    network.destination.answers_udp = false; // the first silent TTL past the farthest answer: retried
    network.seed(5);
    let mut config = config(&network, Method::classic(Protocol::Udp));
    config.retries = 1;
    config.gap_limit = Some(3);
    let (trace, _) = run(&mut network, config);
    let retried =
        |ttl: u8| trace.hops()[usize::from(ttl) - 1].probes.iter().filter(|p| p.resent == Some(Resend::Retry)).count();
    assert_eq!(retried(2), 0);
    assert!(retried(4) <= 1);
    assert_eq!(retried(7), 1);
    assert_eq!(retried(8), 0);
    assert_eq!(trace.outcome(), Some(Outcome::GapLimit { ttl: 9 }));
}
