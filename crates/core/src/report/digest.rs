//! A round as the report reads it: per hop its settled probes, each answer's round-trip time, source, verdict and
//! mark, worked out once. [`Report`](super::Report) folds these in; [`Window`](super::Window) keeps them to forget.

use core::net::IpAddr;
use core::time::Duration;
use std::time::Instant;

use engine::{Hop, Verdict};

use super::rate_limit::Beyond;
use super::settled;
use crate::mark::mark;

/// One answer, as the report counts it.
#[derive(Debug, Clone)]
pub(super) struct AnswerDigest {
    pub rtt: Duration,
    pub from: IpAddr,
    pub verdict: Verdict,
    pub mark: Option<String>,
}

/// One settled probe (answered or given up).
#[derive(Debug, Clone)]
pub(super) struct ProbeDigest {
    pub sent_at: Instant,
    pub flow: u16,
    pub answer: Option<AnswerDigest>,
}

/// One hop of one round that had a settled probe.
#[derive(Debug, Clone)]
pub(super) struct HopRound {
    pub ttl: u8,
    /// Boxed: exactly as many as there are (a `Vec` collected from a filter keeps room for 4).
    pub probes: Box<[ProbeDigest]>,
    /// Who answered at a farther TTL of the round.
    pub beyond: Beyond,
}

impl HopRound {
    /// The answers, in order.
    pub fn answers(&self) -> impl Iterator<Item = &AnswerDigest> {
        self.probes.iter().filter_map(|probe| probe.answer.as_ref())
    }

    /// Whether an answer ended the trace here.
    pub fn ended(&self) -> bool {
        self.answers().any(|answer| answer.verdict != Verdict::Continue)
    }

    /// Whether the destination answered here.
    pub fn reached(&self) -> bool {
        self.answers().any(|answer| answer.verdict == Verdict::Reached)
    }
}

/// One round: the hops that had a settled probe, by TTL, and what the report needs of the whole round.
#[derive(Debug, Clone)]
pub(super) struct RoundDigest {
    pub hops: Box<[HopRound]>,
    /// The most probes a hop of the round had (what a hop the round did not probe counts as unanswered).
    pub per_round: u32,
    /// Whether the round ended at an answer that ends a trace, every probe settled.
    pub finished: bool,
    /// Whether the target was an IPv6 address.
    pub ipv6: bool,
}

impl RoundDigest {
    /// The round `round`, a trace to `target` with its hops in TTL order.
    pub fn new(round: &[Hop], target: IpAddr) -> Self {
        let per_round = round.iter().map(|hop| hop.current().count()).max().unwrap_or(0) as u32;
        // A round that ended — the destination answered, or an unreachable, at its last TTL — rather than one under
        // way (the live view shows those) or cut short.
        let ended =
            round.last().is_some_and(|hop| hop.answers().any(|answer| answer.verdict(target) != Verdict::Continue));
        let finished = ended && round.iter().all(|hop| hop.current().all(settled));
        let mut hops: Vec<HopRound> = round
            .iter()
            .enumerate()
            .filter(|(_, hop)| hop.current().any(settled))
            .map(|(index, hop)| HopRound {
                ttl: hop.ttl,
                probes: hop
                    .current()
                    .filter(|probe| settled(probe))
                    .map(|probe| ProbeDigest {
                        sent_at: probe.sent_at,
                        flow: probe.flow,
                        answer: probe.status.answer().map(|answer| AnswerDigest {
                            rtt: answer.rtt,
                            from: answer.from(),
                            verdict: answer.verdict(target),
                            mark: mark(answer),
                        }),
                    })
                    .collect(),
                beyond: beyond(&round[index + 1..], target),
            })
            .collect();
        // Hops at different TTLs are independent; one TTL's hops keep their order.
        hops.sort_by_key(|hop| hop.ttl);
        RoundDigest { hops: hops.into_boxed_slice(), per_round, finished, ipv6: target.is_ipv6() }
    }

    /// The hops at `ttl` (normally one, or none).
    pub fn at(&self, ttl: u8) -> &[HopRound] {
        let start = self.hops.partition_point(|hop| hop.ttl < ttl);
        let end = start + self.hops[start..].partition_point(|hop| hop.ttl == ttl);
        &self.hops[start..end]
    }
}

/// Who of `farther` (a round's hops past one) answered: another address than `target`, else the target, else nobody.
fn beyond(farther: &[Hop], target: IpAddr) -> Beyond {
    let mut answers = farther.iter().flat_map(Hop::answers).map(|answer| answer.from()).peekable();
    if answers.peek().is_none() {
        Beyond::Nobody
    } else if answers.any(|from| from != target) {
        Beyond::Others
    } else {
        Beyond::Target
    }
}
