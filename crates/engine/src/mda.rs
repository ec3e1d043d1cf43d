//! The Multipath Detection Algorithm's stopping rule, applied per hop, and the links between hops it lets one draw.
//!
//! A per-flow load balancer sends each flow to one of its next hops. Having seen `k` distinct next hops, MDA keeps
//! probing with new flows until the chance that a `k+1`-th one exists and was missed by every probe is below 5 %
//! (with the failure budget split over the `k+1` hypotheses): `n_k = ⌈ln(0.05 / (k+1)) / ln(k / (k+1))⌉` probes,
//! which gives 6, 11, 16, 21, 27, 33… for k = 1, 2, 3, 4, 5, 6…
//!
//! Applied per hop (the interfaces seen at a TTL, whatever their predecessor), this is the full 95 % only where a
//! hop has one predecessor; behind a split each predecessor forwards a share of the flows, so a balancer there is
//! probed less. Full MDA would count flows per predecessor interface (not done).

use core::net::IpAddr;
use std::collections::BTreeSet;

use crate::result::Hop;

/// Confidence that no next hop was missed.
const CONFIDENCE: f64 = 0.95;

/// More responders than this at one hop are not chased further (97 probes a hop).
const MAX_RESPONDERS: usize = 16;

/// Probes a hop needs once `responders` distinct responders have been seen there (at least one is assumed).
pub fn probes_needed(responders: usize) -> usize {
    let k = responders.clamp(1, MAX_RESPONDERS) as f64;
    let failure = (1.0 - CONFIDENCE) / (k + 1.0);
    (failure.ln() / (k / (k + 1.0)).ln()).ceil() as usize
}

/// The links between two consecutive hops: pairs of responders that answered the same flow.
pub fn links(near: &Hop, far: &Hop) -> BTreeSet<(IpAddr, IpAddr)> {
    let answered = |hop: &Hop| {
        hop.current().filter_map(|probe| Some((probe.flow, probe.status.answer()?.from()))).collect::<Vec<_>>()
    };
    let far = answered(far);
    answered(near)
        .into_iter()
        .flat_map(|(flow, from)| far.iter().filter(move |(f, _)| *f == flow).map(move |(_, to)| (from, *to)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopping_points_at_95_percent() {
        let points: Vec<usize> = (1..=6).map(probes_needed).collect();
        assert_eq!(points, [6, 11, 16, 21, 27, 33]);
        assert!((1..16).all(|k| probes_needed(k + 1) > probes_needed(k)));
        assert_eq!(probes_needed(0), 6);
        assert_eq!(probes_needed(100), probes_needed(16));
    }
}
