//! The Multipath Detection Algorithm's stopping rule, and the links between hops it lets one draw.
//!
//! A per-flow load balancer sends each flow to one of its next hops. Having seen `k` distinct next hops, MDA keeps
//! probing with new flows until the chance that a `k+1`-th one exists and was missed by every probe is below the
//! failure bound `α` (5 % at the usual 95 % [`Confidence`], split over the `k+1` hypotheses):
//! `n_k = ⌈ln(α / (k+1)) / ln(k / (k+1))⌉` probes, which gives 6, 11, 16, 21, 27, 33… for k = 1, 2, 3, 4, 5, 6… at
//! 95 %, 8, 15, 21, 28, 36, 43… at 99 % and 11, 20, 29, 39, 48, 58… at 99.9 %.
//!
//! The rule holds at every hop twice over. For the hop as a whole: `n_k` flows for the `k` interfaces seen at that
//! TTL. And for each interface of the hop before (as MDA has it): of the flows that crossed that interface, `n_k`
//! must be probed one TTL further, `k` being how many next hops they showed. Which interface a flow crosses is
//! learnt by probing it at the earlier TTL too (flow `i` is the `i`-th probe at every TTL), so a hop of several
//! interfaces is probed in as many flows as the next hop needs. (Behind a single interface every flow crossed it;
//! behind a hop that left most of its flows unanswered, rate limiting ICMP say, the hop's own rule stands alone.)

use core::net::IpAddr;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use crate::result::Hop;

pub use crate::config::Confidence;

pub mod per_packet;

/// More responders than this at one hop are not chased further (97 flows for the hop's own rule).
const MAX_RESPONDERS: usize = 16;

pub use crate::config::MAX_FLOWS;

/// Probes a hop needs at `confidence` once `responders` distinct responders have been seen there (at least one is
/// assumed).
pub fn probes_needed(confidence: Confidence, responders: usize) -> usize {
    type Table = [usize; MAX_RESPONDERS + 1];
    static TABLES: OnceLock<[Table; 3]> = OnceLock::new();
    let tables = TABLES.get_or_init(|| {
        Confidence::ALL.map(|level| {
            core::array::from_fn(|k| {
                let k = k.max(1) as f64;
                let failure = level.failure() / (k + 1.0);
                (failure.ln() / (k / (k + 1.0)).ln()).ceil() as usize
            })
        })
    });
    tables[confidence as usize][responders.clamp(1, MAX_RESPONDERS)]
}

/// The flows `hop` needs (flows `0..n`) for the stopping rule at `confidence`, given the hop one TTL before it, if
/// probed: its own `n_k`, and enough flows through each interface of `previous`.
pub fn flows_needed(confidence: Confidence, previous: Option<&Hop>, hop: &Hop) -> usize {
    let own = probes_needed(confidence, hop.responders().len());
    // Behind a single interface (or none seen) every flow crossed it: the hop's own rule is the whole rule.
    let Some(previous) = previous.filter(|previous| previous.responders().len() > 1) else { return own };
    own.max(flows_needed_per_predecessor(confidence, previous, hop)).min(MAX_FLOWS)
}

/// The flows (`0..n`) `hop` needs so that each interface of `previous` saw `n_k` of them probed at `hop`: up to
/// the first flow where the rule holds, or up to the first whose interface at `previous` is not known yet (it
/// must be probed there, or its answer awaited), or one past all probed. Where `previous` left more of its flows
/// unanswered than answered (a rate-limited or lossy hop), flows cannot be told apart by interface: 0, the hop's
/// own rule stands alone.
fn flows_needed_per_predecessor(confidence: Confidence, previous: &Hop, hop: &Hop) -> usize {
    // Which interface of `previous` each flow crossed (`None`: unanswered there); absent while not known.
    let crossed: BTreeMap<u16, Option<IpAddr>> = previous
        .current()
        .filter(|probe| probe.status.is_resolved())
        .map(|probe| (probe.flow, probe.responder()))
        .collect();
    let unanswered = crossed.values().filter(|interface| interface.is_none()).count();
    if unanswered > crossed.len() - unanswered {
        return 0;
    }
    let mut probed: Vec<(u16, Option<IpAddr>)> = hop.current().map(|probe| (probe.flow, probe.responder())).collect();
    probed.sort_unstable_by_key(|&(flow, _)| flow);
    // Per interface of `previous`: flows through it probed at `hop`, and the next hops they showed.
    let mut through: BTreeMap<IpAddr, (usize, BTreeSet<IpAddr>)> =
        previous.responders().into_iter().map(|addr| (addr, (0, BTreeSet::new()))).collect();
    for &(flow, next) in &probed {
        match crossed.get(&flow) {
            None => return usize::from(flow) + 1,
            Some(None) => {}
            Some(Some(interface)) => {
                if let Some((flows, next_hops)) = through.get_mut(interface) {
                    *flows += 1;
                    next_hops.extend(next);
                }
            }
        }
        if through.values().all(|(flows, next_hops)| *flows >= probes_needed(confidence, next_hops.len())) {
            return usize::from(flow) + 1;
        }
    }
    probed.last().map_or(0, |&(flow, _)| usize::from(flow) + 1) + 1
}

/// The probes `hop` needs by the stopping rule at `confidence`, given the hops one TTL before and after it where
/// probed: its own flows, or where it has several interfaces and the next hop needs more flows, the next hop's.
pub fn stopping_point(confidence: Confidence, previous: Option<&Hop>, hop: &Hop, next: Option<&Hop>) -> usize {
    let own = flows_needed(confidence, previous, hop);
    match next.filter(|_| hop.responders().len() > 1) {
        Some(next) => own.max(flows_needed(confidence, Some(hop), next)),
        None => own,
    }
}

/// The stopping point at `confidence` of each of `hops`, the hops of one trace in TTL order. A trace that lost no
/// probe spends exactly these.
pub fn stopping_points(confidence: Confidence, hops: &[Hop]) -> Vec<usize> {
    (0..hops.len())
        .map(|index| {
            let (previous, next) = neighbours(hops, index);
            stopping_point(confidence, previous, &hops[index], next)
        })
        .collect()
}

/// The hops one TTL before and one TTL after `hops[index]`, where `hops` (in TTL order) holds them.
pub fn neighbours(hops: &[Hop], index: usize) -> (Option<&Hop>, Option<&Hop>) {
    let ttl = hops[index].ttl;
    let previous =
        index.checked_sub(1).map(|previous| &hops[previous]).filter(|hop| hop.ttl.checked_add(1) == Some(ttl));
    let next = hops.get(index + 1).filter(|hop| ttl.checked_add(1) == Some(hop.ttl));
    (previous, next)
}

/// How far a hop got with the stopping rule: the flows it has answers in against the flows the rule needs. A hop
/// left short (its rate limiting outlasted `--mda-wait`, or a branch never answers) is not settled: a next hop may
/// have been missed there with more than the promised probability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settlement {
    /// Flows answered, of the first `needed`.
    pub answered: usize,
    /// Flows the rule needs answered (its own `n_k`, and the flows through each interface of the hop before).
    pub needed: usize,
}

impl Settlement {
    /// Whether the rule is met.
    pub fn is_settled(&self) -> bool {
        self.answered >= self.needed
    }
}

/// `hop`'s standing against the stopping rule at `confidence`, given the hop one TTL before it if probed; `None`
/// for a hop that never answered (silent: nothing to settle).
pub fn settlement(confidence: Confidence, previous: Option<&Hop>, hop: &Hop) -> Option<Settlement> {
    if !hop.is_answered() {
        return None;
    }
    let needed = flows_needed(confidence, previous, hop);
    let answered =
        hop.current().filter(|probe| usize::from(probe.flow) < needed && probe.status.answer().is_some()).count();
    Some(Settlement { answered, needed })
}

/// The longest a hop of `hops` waited for a rate limiter, with its TTL: from the first of its probes that was lost
/// and probed again to its last probe. `None` if none was probed again.
pub fn limiter_wait(hops: &[Hop]) -> Option<(u8, core::time::Duration)> {
    hops.iter()
        .filter_map(|hop| {
            let first = hop.probes.iter().find(|probe| probe.resent == Some(crate::result::Resend::Retry))?.sent_at;
            let last = hop.probes.iter().map(|probe| probe.sent_at).max()?;
            Some((hop.ttl, last.saturating_duration_since(first)))
        })
        .max_by_key(|&(_, wait)| wait)
}

/// The links between two consecutive hops: pairs of responders that answered the same flow.
pub fn links(near: &Hop, far: &Hop) -> BTreeSet<(IpAddr, IpAddr)> {
    let answered =
        |hop: &Hop| hop.current().filter_map(|probe| Some((probe.flow, probe.responder()?))).collect::<Vec<_>>();
    let far = answered(far);
    answered(near)
        .into_iter()
        .flat_map(|(flow, from)| far.iter().filter(move |(f, _)| *f == flow).map(move |(_, to)| (from, *to)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first stopping points at each confidence (95 % as Paris traceroute's table; all three worked out apart
    /// from this code), and the rule's shape: growing with `k` and with the confidence.
    #[test]
    fn stopping_points_at_each_confidence() {
        let points = |level| (1..=6).map(|k| probes_needed(level, k)).collect::<Vec<_>>();
        assert_eq!(points(Confidence::Percent95), [6, 11, 16, 21, 27, 33]);
        assert_eq!(points(Confidence::Percent99), [8, 15, 21, 28, 36, 43]);
        assert_eq!(points(Confidence::Percent99_9), [11, 20, 29, 39, 48, 58]);
        for level in Confidence::ALL {
            assert!((1..16).all(|k| probes_needed(level, k + 1) > probes_needed(level, k)));
            assert_eq!(probes_needed(level, 0), probes_needed(level, 1));
            assert_eq!(probes_needed(level, 100), probes_needed(level, 16));
        }
        assert!((1..=16).all(|k| {
            probes_needed(Confidence::Percent95, k) < probes_needed(Confidence::Percent99, k)
                && probes_needed(Confidence::Percent99, k) < probes_needed(Confidence::Percent99_9, k)
        }));
    }

    #[test]
    fn confidence_is_written_and_read_as_a_percentage() {
        let written: Vec<String> = Confidence::ALL.iter().map(ToString::to_string).collect();
        assert_eq!(written, ["95", "99", "99.9"]);
        assert!(Confidence::ALL.iter().all(|&level| Confidence::from_percent(&level.to_string()) == Some(level)));
        assert_eq!(Confidence::from_percent("90"), None);
        assert_eq!(Confidence::default(), Confidence::Percent95);
    }
}
