//! Probes the system refused to send: recorded as such, and never taken for silence on the path.

mod common;

use std::time::Instant;

use common::*;
use hoptrace_engine::sim::SimNetwork;
use hoptrace_engine::{Method, Outcome, ProbeStatus, Protocol, Trace};

#[test]
fn send_failures_are_not_silence_for_the_gap_limit() {
    let network = SimNetwork::chain(false, 3, 10 * MS);
    let mut config = config(&network, Method::classic(Protocol::Udp));
    config.gap_limit = Some(2);
    config.max_ttl = 6;
    config.probes_per_hop = 1;
    let mut trace = Trace::new(config).unwrap();
    let start = Instant::now();
    // Every probe fails to leave: no TTL is silent, so the trace goes on to the maximum.
    while let Some(probe) = trace.poll_probe(start) {
        trace.send_failed(probe.id);
    }
    assert_eq!(trace.outcome(), Some(Outcome::MaxTtl));
    assert_eq!(trace.hops().len(), 6);
    assert!(trace.hops().iter().all(|hop| hop.probes[0].status == ProbeStatus::SendFailed));
}
