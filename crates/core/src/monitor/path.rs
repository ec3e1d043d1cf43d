//! Path identity and path-change detection, from what each round of a target's trace saw on its fixed Paris flow.
//!
//! A round gives an [`Observation`]: the address that answered at each TTL (`None` where nothing did) and the TTL
//! at which the destination answered, if it did. A silence says nothing: a lost probe, a rate-limited router, a
//! trace cut short. Two observations *conflict* only where both saw an answer at the same TTL from different
//! addresses. (The destination's TTL alone is no evidence: when every probe at its distance is lost, it answers
//! the next TTL's probe instead. A path that grows or shrinks shows as a router where the destination was, or the
//! destination where a router was; only a new router that never answers goes unseen.)
//!
//! The [`PathTracker`] holds the established path. A round that conflicts with it starts a candidate; the candidate
//! becomes the path once [`PathTracker::confirm`] rounds in a row conflict with the old path and agree with the
//! candidate (rounds that are silent where it matters count for neither and reset nothing). One odd answer or a
//! burst of silence therefore never counts as a change; a real route change does, once.

use core::net::IpAddr;
use std::borrow::Cow;

use engine::{Hop, Verdict};

/// What one round saw on the fixed flow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observation {
    /// By TTL from 1: who answered there.
    pub hops: Vec<Option<IpAddr>>,
    /// The TTL at which the destination answered.
    pub reached: Option<u8>,
    /// TTLs where more than one address answered the round's one flow: a per-packet load balancer there (or a
    /// route that changed mid-round). Their entry in `hops` is `None`: such a round says nothing of them.
    pub per_packet: Vec<u8>,
}

impl Observation {
    /// Whether `self` and `other` contradict each other (see the module's rule).
    pub fn conflicts(&self, other: &Observation) -> bool {
        self.hops.iter().zip(&other.hops).any(|pair| matches!(pair, (Some(a), Some(b)) if a != b))
    }

    /// Fills what `self` did not see with what `other` saw (which must not conflict).
    fn merge(&mut self, other: &Observation) {
        if self.hops.len() < other.hops.len() {
            self.hops.resize(other.hops.len(), None);
        }
        for (mine, theirs) in self.hops.iter_mut().zip(&other.hops) {
            if mine.is_none() {
                *mine = *theirs;
            }
        }
        // The destination answered at its distance or, when those probes were lost, farther.
        self.reached = match (self.reached, other.reached) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(reached) = self.reached {
            self.hops.truncate(usize::from(reached));
        }
    }

    /// Whether nothing answered at all.
    pub fn is_silent(&self) -> bool {
        self.hops.iter().all(Option::is_none)
    }

    /// The path identity: a stable 48-bit hash (FNV-1a) of the answering address per TTL, silences included, and
    /// the destination's TTL. 48 bits stay exact in a Prometheus sample (a 64-bit float).
    pub fn id(&self) -> u64 {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |bytes: &[u8]| {
            for &byte in bytes {
                hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
            }
        };
        for hop in &self.hops {
            match hop {
                None => eat(&[0]),
                Some(IpAddr::V4(addr)) => {
                    eat(&[4]);
                    eat(&addr.octets());
                }
                Some(IpAddr::V6(addr)) => {
                    eat(&[6]);
                    eat(&addr.octets());
                }
            }
        }
        eat(&[0xff, self.reached.unwrap_or(0)]);
        hash & 0xffff_ffff_ffff
    }
}

/// A path change: the path before and the path seen stably since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathChange {
    /// The established path before.
    pub old: Observation,
    /// The new path, as merged over the rounds that confirmed it.
    pub new: Observation,
}

/// The established path of one target and the candidate that may replace it.
#[derive(Debug, Clone)]
pub struct PathTracker {
    confirm: u32,
    /// The established path and its identity (fixed when it was established).
    path: Option<(Observation, u64)>,
    /// A path that conflicts with the established one, and the rounds in a row it was seen.
    candidate: Option<(Observation, u32)>,
    /// TTLs seen balanced per packet, with the rounds that saw it; from [`PER_PACKET_ROUNDS`] on, what any round
    /// sees there is no evidence of the path (one probe of the flow goes one way, the next another).
    per_packet: Vec<(u8, u32)>,
}

/// Rounds that must see a TTL balanced per packet before its answers are ignored: one could be a route change
/// in the middle of a round.
const PER_PACKET_ROUNDS: u32 = 2;

impl PathTracker {
    /// A tracker that needs `confirm` rounds (at least 1) in a row to believe a path.
    pub fn new(confirm: u32) -> Self {
        PathTracker { confirm: confirm.max(1), path: None, candidate: None, per_packet: Vec::new() }
    }

    /// Rounds needed to confirm a path.
    pub fn confirm(&self) -> u32 {
        self.confirm
    }

    /// The established path, if any.
    pub fn path(&self) -> Option<&Observation> {
        self.path.as_ref().map(|(path, _)| path)
    }

    /// The established path's identity, if any.
    pub fn id(&self) -> Option<u64> {
        self.path.as_ref().map(|&(_, id)| id)
    }

    /// `seen` with its answers at the TTLs known to be balanced per packet taken out (no copy when there are none).
    fn without_per_packet<'a>(&self, seen: &'a Observation) -> Cow<'a, Observation> {
        let ignored = self.per_packet.iter().filter(|&&(_, rounds)| rounds >= PER_PACKET_ROUNDS);
        let mut seen = Cow::Borrowed(seen);
        for &(ttl, _) in ignored {
            if seen.hops.get(index(ttl)).is_some_and(Option::is_some) {
                seen.to_mut().hops[index(ttl)] = None;
            }
        }
        seen
    }

    /// Takes one round's observation; returns the change it confirmed, if it did. The first path established is
    /// not a change.
    pub fn observe(&mut self, seen: &Observation) -> Option<PathChange> {
        for &ttl in &seen.per_packet {
            match self.per_packet.iter_mut().find(|(known, _)| *known == ttl) {
                Some((_, rounds)) => *rounds += 1,
                None => self.per_packet.push((ttl, 1)),
            }
        }
        let masked = self.without_per_packet(seen);
        let seen: &Observation = &masked;
        if seen.is_silent() {
            return None;
        }
        if let Some((path, _)) = &mut self.path {
            if !seen.conflicts(path) {
                path.merge(seen);
                // Back on the old path, or nothing said about it: a candidate it contradicts is dropped.
                if self.candidate.as_ref().is_some_and(|(candidate, _)| seen.conflicts(candidate)) {
                    self.candidate = None;
                }
                return None;
            }
        }
        let count = match &mut self.candidate {
            Some((candidate, count)) if !seen.conflicts(candidate) => {
                candidate.merge(seen);
                *count += 1;
                *count
            }
            slot => {
                *slot = Some((seen.clone(), 1));
                1
            }
        };
        if count < self.confirm {
            return None;
        }
        let (new, _) = self.candidate.take()?;
        let id = new.id();
        let old = self.path.replace((new.clone(), id)).map(|(old, _)| old);
        old.map(|old| PathChange { old, new })
    }
}

/// The TTLs at which two paths differ: both answered, from different addresses, or one path ends there.
pub fn changed_ttls(old: &Observation, new: &Observation) -> Vec<u8> {
    let len = old.hops.len().max(new.hops.len());
    (0..len)
        .filter(|&index| {
            let (a, b) = (old.hops.get(index).copied().flatten(), new.hops.get(index).copied().flatten());
            matches!((a, b), (Some(a), Some(b)) if a != b)
                || (a.is_some() != b.is_some() && (index >= old.hops.len() || index >= new.hops.len()))
        })
        .map(|index| (index + 1) as u8)
        .collect()
}

/// Where TTL `ttl` is in [`Observation::hops`].
fn index(ttl: u8) -> usize {
    usize::from(ttl.max(1)) - 1
}

/// What a round's hops say about the path on its flow: the first address that answered at each TTL, and the TTL
/// at which the destination answered.
///
/// An answer only a 16-bit field vouches for (an 8-byte quote to an ordinary socket) counts only when `forgery_seen`
/// is false: an off-path forger has to guess that field, and its misses show as replies that matched no probe.
pub fn observe(hops: &[Hop], target: IpAddr, forgery_seen: bool) -> Observation {
    let mut seen = Observation::default();
    for hop in hops {
        let index = index(hop.ttl);
        if seen.hops.len() <= index {
            seen.hops.resize(index + 1, None);
        }
        // An answer only a 16-bit field vouches for may be a forger's sweep: evidence of the path only in a round
        // that saw no forgery.
        let mut believed = hop.answers().filter(|answer| !answer.unverified || !forgery_seen);
        let Some(answer) = believed.next() else { continue };
        if believed.any(|other| other.from() != answer.from()) {
            seen.per_packet.push(hop.ttl);
        } else {
            seen.hops[index] = Some(answer.from());
        }
        if answer.verdict(target) == Verdict::Reached {
            seen.reached = Some(seen.reached.map_or(hop.ttl, |ttl| ttl.min(hop.ttl)));
        }
    }
    if let Some(reached) = seen.reached {
        seen.hops.truncate(usize::from(reached));
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(n: u8) -> Option<IpAddr> {
        Some(IpAddr::from([198, 18, n, 1]))
    }

    fn seen(hops: &[Option<IpAddr>], reached: bool) -> Observation {
        Observation { hops: hops.to_vec(), reached: reached.then_some(hops.len() as u8), ..Observation::default() }
    }

    #[test]
    fn silences_never_conflict() {
        let full = seen(&[addr(1), addr(2), addr(3)], true);
        let holes = Observation { hops: vec![None, addr(2), None], ..Observation::default() };
        assert!(!full.conflicts(&holes) && !holes.conflicts(&full));
        assert!(full.conflicts(&seen(&[addr(1), addr(9), addr(3)], true)));
        // Every probe at the destination's distance lost, the next TTL's answered by it: no evidence of a change.
        let farther = seen(&[addr(1), addr(2), None, addr(3)], true);
        assert!(!full.conflicts(&farther));
        let mut merged = full.clone();
        merged.merge(&farther);
        assert_eq!(merged, full);
        // A router where the destination was: the path grew.
        assert!(full.conflicts(&seen(&[addr(1), addr(2), addr(4), addr(3)], true)));
    }

    #[test]
    fn a_per_packet_balancer_is_no_path_and_no_change() {
        // TTL 2 balanced per packet between two routers: three probes a round, each one way or the other.
        let mut tracker = PathTracker::new(3);
        let round = |twos: &[u8]| {
            let mut seen = seen(&[addr(1), None, addr(3)], true);
            match twos {
                [only] => seen.hops[1] = addr(*only),
                _ => seen.per_packet.push(2),
            }
            seen
        };
        // Every run of one-way rounds a fair coin gives, between rounds that saw both: never a change.
        let rounds: [&[u8]; 12] = [&[2, 7], &[2], &[7, 2], &[7], &[7], &[2, 7], &[7], &[7], &[7], &[7], &[2], &[2]];
        for (n, twos) in rounds.iter().enumerate() {
            assert_eq!(tracker.observe(&round(twos)), None, "round {n}");
        }
        let id = tracker.id().expect("a path established");
        // A real change elsewhere is still seen.
        let moved = seen(&[addr(9), addr(2), addr(3)], true);
        let changes: Vec<_> = (0..3).filter_map(|_| tracker.observe(&moved)).collect();
        assert_eq!(changes.len(), 1);
        assert_ne!(tracker.id(), Some(id));
    }

    #[test]
    fn first_path_needs_confirming_and_is_no_change() {
        let mut tracker = PathTracker::new(3);
        let path = seen(&[addr(1), addr(2), addr(3)], true);
        assert_eq!(tracker.observe(&path), None);
        assert_eq!(tracker.observe(&path), None);
        assert_eq!(tracker.id(), None);
        assert_eq!(tracker.observe(&path), None);
        assert_eq!(tracker.id(), Some(path.id()));
    }

    #[test]
    fn loss_and_rate_limiting_are_not_changes() {
        let mut tracker = PathTracker::new(3);
        let path = seen(&[addr(1), addr(2), addr(3), addr(4)], true);
        for _ in 0..3 {
            tracker.observe(&path);
        }
        let id = tracker.id();
        // Every pattern of silence over many rounds: never a change, and the identity stays.
        for round in 0u32..200 {
            let hops = (0..4).map(|ttl| if (round >> ttl) & 1 == 1 { None } else { path.hops[ttl] }).collect();
            let reached = (round & 8 == 0).then_some(4);
            assert_eq!(
                tracker.observe(&Observation { hops, reached, ..Observation::default() }),
                None,
                "round {round}"
            );
        }
        assert_eq!(tracker.id(), id);
        // The destination's own probes lost, the next TTL's answered by it, round after round.
        let farther = Observation {
            hops: vec![addr(1), addr(2), addr(3), None, addr(4)],
            reached: Some(5),
            ..Observation::default()
        };
        for _ in 0..10 {
            assert_eq!(tracker.observe(&farther), None);
        }
        assert_eq!(tracker.path(), Some(&path));
    }

    #[test]
    fn a_new_path_seen_stably_is_one_change() {
        let mut tracker = PathTracker::new(3);
        let old = seen(&[addr(1), addr(2), addr(3)], true);
        let new = seen(&[addr(1), addr(7), addr(3)], true);
        for _ in 0..3 {
            tracker.observe(&old);
        }
        // One odd round, then back: nothing.
        assert_eq!(tracker.observe(&new), None);
        assert_eq!(tracker.observe(&old), None);
        // Two rounds of the new path, a silent round between (it neither counts nor resets), then the third.
        assert_eq!(tracker.observe(&new), None);
        assert_eq!(tracker.observe(&seen(&[None, None, None], false)), None);
        assert_eq!(tracker.observe(&new), None);
        let change = tracker.observe(&seen(&[addr(1), addr(7), None], false)).expect("a change");
        assert_eq!(change.old, old);
        assert_eq!(change.new, new);
        assert_eq!(changed_ttls(&change.old, &change.new), vec![2]);
        assert_eq!(tracker.id(), Some(new.id()));
        // The new path goes on: no more changes.
        for _ in 0..10 {
            assert_eq!(tracker.observe(&new), None);
        }
    }

    #[test]
    fn candidate_fills_its_silences() {
        let mut tracker = PathTracker::new(2);
        let old = seen(&[addr(1), addr(2), addr(3)], true);
        tracker.observe(&old);
        tracker.observe(&old);
        tracker.observe(&Observation { hops: vec![None, addr(7), None], reached: None, ..Observation::default() });
        let change = tracker.observe(&Observation {
            hops: vec![addr(1), None, addr(3)],
            reached: Some(3),
            ..Observation::default()
        });
        // The second round agrees with the old path as much as the new: no conflict with the path, no change yet.
        assert_eq!(change, None);
        let change = tracker.observe(&Observation {
            hops: vec![addr(1), addr(7), None],
            reached: None,
            ..Observation::default()
        });
        assert_eq!(change.expect("a change").new.hops, vec![addr(1), addr(7), None]);
    }

    #[test]
    fn longer_path_is_a_change_at_its_end() {
        let old = seen(&[addr(1), addr(2)], true);
        let new = seen(&[addr(1), addr(5), addr(2)], true);
        assert_eq!(changed_ttls(&old, &new), vec![2, 3]);
        assert_ne!(old.id(), new.id());
        assert!(old.id() < 1 << 48);
    }
}
