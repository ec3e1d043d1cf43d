//! Per-packet load balancing: a balancer that spreads packets at random rather than by flow.
//!
//! MDA's rule assumes per-flow balancers (one flow, one next hop). Behind a per-packet balancer one flow reaches
//! several next hops, and the links drawn from flows are not paths. At a hop where several interfaces answered,
//! MDA probes some answered flows once more ([`repeats_needed`] of them, each probe a
//! [`Resend::Repeat`] that the stopping rule does not count); if a repeat reaches
//! another interface than its flow did, the balancing before the hop is per packet ([`verdict`]). A 2-way per-packet
//! balancer escapes `r` repeats with probability `2^-r`: `r` is the least that keeps this under the confidence's
//! failure bound (5, 7 and 10 repeats at 95, 99 and 99.9 %).

use core::net::IpAddr;
use std::collections::{BTreeMap, BTreeSet};

use crate::config::Confidence;
use crate::result::{Hop, Resend};

/// How many answered flows of `hop` are probed again at `confidence`: none while fewer than two interfaces answered
/// there; then `⌈log2(1/α)⌉`, as many as `hop` has answered flows.
pub fn repeats_needed(confidence: Confidence, hop: &Hop) -> usize {
    if hop.responders().len() < 2 {
        return 0;
    }
    let wanted = (confidence.failure().ln() / 0.5f64.ln()).ceil() as usize;
    wanted.min(answered_flows(hop).len())
}

/// The flow to probe `hop` in again next at `confidence`, if any: the lowest answered flow not repeated yet.
pub fn next_repeat(confidence: Confidence, hop: &Hop) -> Option<u16> {
    let repeated = repeats(hop).map(|(flow, _)| flow).collect::<BTreeSet<u16>>();
    if repeated.len() >= repeats_needed(confidence, hop) {
        return None;
    }
    answered_flows(hop).into_keys().find(|flow| !repeated.contains(flow))
}

/// A flow that reached more than one interface of a hop: the sign of per-packet balancing before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerPacket {
    /// The flow.
    pub flow: u16,
    /// The interfaces it reached, in address order.
    pub interfaces: Vec<IpAddr>,
}

/// Whether one flow of `hop` reached more than one interface there (repeats included): the first such flow.
pub fn verdict(hop: &Hop) -> Option<PerPacket> {
    let mut reached: BTreeMap<u16, BTreeSet<IpAddr>> = BTreeMap::new();
    for probe in &hop.probes {
        if let Some(from) = probe.responder() {
            reached.entry(probe.flow).or_default().insert(from);
        }
    }
    reached
        .into_iter()
        .find(|(_, interfaces)| interfaces.len() > 1)
        .map(|(flow, interfaces)| PerPacket { flow, interfaces: interfaces.into_iter().collect() })
}

/// `hop`'s answered standing flows, with the interface each reached.
fn answered_flows(hop: &Hop) -> BTreeMap<u16, IpAddr> {
    hop.current().filter_map(|probe| Some((probe.flow, probe.responder()?))).collect()
}

/// `hop`'s repeats, with who answered each.
fn repeats(hop: &Hop) -> impl Iterator<Item = (u16, Option<IpAddr>)> + '_ {
    hop.probes.iter().filter(|probe| probe.resent == Some(Resend::Repeat)).map(|probe| (probe.flow, probe.responder()))
}
