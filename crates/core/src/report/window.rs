//! A report over a sliding window: the report statistics (`--report`'s, rate-limit rule included) of the last
//! few rounds only, so that the numbers follow the path as it is now.
//!
//! The window forgets its oldest round hop by hop. Counters are subtracted; round-trip times are kept as exact
//! integer sums ([`Samples`]); the responders' and flows' order of first appearance stays as it is when the next
//! round probed the hop and saw first what the one leaving saw, in the same order (the usual case);
//! the rate-limit evidence only shrinks its burst when every probe leaving was answered, and is replayed from the
//! probes' send times otherwise. Any other case works that one hop out again from the window's rounds, as
//! [`Report::add_round`] would: either way the report is the one rebuilt from the rounds in the window.

use core::net::IpAddr;
use std::collections::VecDeque;

use engine::Hop;

use super::digest::{HopRound, RoundDigest};
use super::rate_limit::Beyond;
use super::samples::Samples;
use super::{HopSummary, ProbeOutcome, RateLimitEvidence, Report, RttStats};

/// What a hop's summary cannot forget by itself, kept beside it.
#[derive(Debug, Clone)]
struct Kept {
    ttl: u8,
    /// The number of the first round in the window that probed the hop.
    first: u64,
    rtt: Samples,
    /// Per followed flow, in the summary's order; none while the hop has one flow (whose samples are `rtt`'s:
    /// every probe the summary counted was of that flow), as the monitor's Paris rounds have.
    flows: Vec<Samples>,
    /// Rounds in which the destination answered at this hop.
    reached: u32,
    /// Rounds in which the target only, or another address, answered at a farther hop.
    beyond: [u32; 2],
}

impl Kept {
    fn new(ttl: u8, first: u64) -> Self {
        Kept { ttl, first, rtt: Samples::default(), flows: Vec::new(), reached: 0, beyond: [0; 2] }
    }

    /// Adds a round of the hop, already recorded into `summary`.
    fn add(&mut self, hop: &HopRound, summary: &HopSummary) {
        let single = summary.flows.len() <= 1;
        if !single && self.flows.is_empty() {
            // A second flow, new in this round: the first's samples so far are the hop's.
            self.flows.push(self.rtt.clone());
        }
        for probe in &hop.probes {
            let Some(answer) = &probe.answer else { continue };
            self.rtt.add(answer.rtt);
            if single {
                continue;
            }
            if let Some(index) = summary.flows.iter().position(|flow| flow.flow == probe.flow) {
                if self.flows.len() <= index {
                    self.flows.resize_with(index + 1, Samples::default);
                }
                self.flows[index].add(answer.rtt);
            }
        }
        self.reached += u32::from(hop.reached());
        match hop.beyond {
            Beyond::Nobody => {}
            Beyond::Target => self.beyond[0] += 1,
            Beyond::Others => self.beyond[1] += 1,
        }
    }

    /// The round-trip times of the summary's flow `index`.
    fn flow_stats(&self, index: usize) -> RttStats {
        match self.flows.get(index) {
            Some(samples) => samples.stats(),
            None if self.flows.is_empty() && index == 0 => self.rtt.stats(),
            None => RttStats::default(),
        }
    }
}

/// The last rounds of one target, and their report.
#[derive(Debug, Clone)]
pub struct Window {
    rounds: VecDeque<RoundDigest>,
    /// The number of the oldest round in the window (rounds are numbered from 0 as they come).
    oldest: u64,
    size: usize,
    report: Report,
    /// By TTL, beside each of the report's hops (a `Vec`: a map's node would keep room for 11).
    kept: Vec<Kept>,
    /// Hops worked out again rather than forgotten by subtraction.
    #[cfg(test)]
    replayed: usize,
}

impl Window {
    /// A window of `size` rounds (at least 1).
    pub fn new(size: usize) -> Self {
        Window {
            rounds: VecDeque::new(),
            oldest: 0,
            size: size.max(1),
            report: Report::new(),
            kept: Vec::new(),
            #[cfg(test)]
            replayed: 0,
        }
    }

    /// Adds a round's hops (a trace to `target`), forgetting the oldest round beyond the window's size.
    pub fn push(&mut self, hops: Vec<Hop>, target: IpAddr) {
        if self.rounds.len() == self.size {
            self.forget_oldest();
        }
        let round = RoundDigest::new(&hops, target);
        let number = self.oldest + self.rounds.len() as u64;
        self.report.add_digest(&round);
        for hop in &round.hops {
            let Ok(index) = self.report.hops.binary_search_by_key(&hop.ttl, |summary| summary.ttl) else { continue };
            let at = match self.kept.binary_search_by_key(&hop.ttl, |kept| kept.ttl) {
                Ok(at) => at,
                Err(at) => {
                    self.kept.insert(at, Kept::new(hop.ttl, number));
                    at
                }
            };
            self.kept[at].add(hop, &self.report.hops[index]);
        }
        self.rounds.push_back(round);
        // The summaries' round-trip times are the windows' (the report's own cannot forget).
        for summary in &mut self.report.hops {
            let Ok(at) = self.kept.binary_search_by_key(&summary.ttl, |kept| kept.ttl) else { continue };
            let kept = &self.kept[at];
            summary.rtt = kept.rtt.stats();
            for (index, flow) in summary.flows.iter_mut().enumerate() {
                flow.rtt = kept.flow_stats(index);
            }
        }
    }

    /// Forgets the oldest round, hop by hop.
    fn forget_oldest(&mut self) {
        let Some(leaving) = self.rounds.pop_front() else { return };
        let number = self.oldest;
        self.oldest += 1;
        let mut gone = Vec::new();
        for summary in &mut self.report.hops {
            let Ok(at) = self.kept.binary_search_by_key(&summary.ttl, |kept| kept.ttl) else { continue };
            let kept = &mut self.kept[at];
            if kept.first > number {
                // A round before the hop's first: counted as its probes unanswered, at the first round's count.
                let first = &self.rounds[(kept.first - self.oldest) as usize];
                summary.rounds -= 1;
                summary.sent -= first.per_round;
                continue;
            }
            if forget_simply(summary, kept, leaving.at(summary.ttl), &self.rounds) {
                kept.first = number + 1;
                continue;
            }
            #[cfg(test)]
            {
                self.replayed += 1;
            }
            match replay(summary.ttl, &self.rounds, self.oldest) {
                Some((again, kept_again)) => (*summary, *kept) = (again, kept_again),
                None => gone.push(summary.ttl),
            }
        }
        self.report.hops.retain(|summary| !gone.contains(&summary.ttl));
        self.kept.retain(|kept| !gone.contains(&kept.ttl));
        self.report.rounds -= 1;
    }

    /// Rounds in the window.
    pub fn len(&self) -> usize {
        self.rounds.len()
    }

    /// Whether no round was added yet.
    pub fn is_empty(&self) -> bool {
        self.rounds.is_empty()
    }

    /// The report over the rounds in the window.
    pub fn report(&self) -> &Report {
        &self.report
    }
}

/// The distinct items of `items`, in order of first appearance.
fn distinct<T: PartialEq>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut seen = Vec::new();
    for item in items {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen
}

/// Forgets the hop's oldest round `leaving` by subtraction, when the next round probed the hop too and keeps
/// everything's order: the responders, flows and per-flow responders first seen in `leaving` are the first seen in
/// the next round, in the same order. The
/// rate-limit evidence only shrinks its burst when every probe leaving was answered; otherwise it is replayed from
/// the probes left (`rounds`, the window without `leaving`). Whether it could.
fn forget_simply(
    summary: &mut HopSummary,
    kept: &mut Kept,
    leaving: &[HopRound],
    rounds: &VecDeque<RoundDigest>,
) -> bool {
    let next = rounds.front().map_or(&[][..], |round| round.at(summary.ttl));
    let ([leaving], [next]) = (leaving, next) else { return false };
    let flow_answers = |hop: &HopRound, flow: u16| {
        let probes = hop.probes.iter().filter(|probe| probe.flow == flow);
        distinct(probes.filter_map(|probe| probe.answer.as_ref().map(|answer| answer.from)))
    };
    // What `leaving` saw first, `next` sees first, in the same order: no order of first appearance changes.
    let responders = |hop: &HopRound| distinct(hop.answers().map(|answer| answer.from));
    let flows = |hop: &HopRound| distinct(hop.probes.iter().map(|probe| probe.flow));
    if !responders(next).starts_with(&responders(leaving))
        || !flows(next).starts_with(&flows(leaving))
        || leaving
            .probes
            .iter()
            .any(|probe| !flow_answers(next, probe.flow).starts_with(&flow_answers(leaving, probe.flow)))
    {
        return false;
    }
    let (sent, answered) = (leaving.probes.len() as u32, leaving.answers().count() as u32);
    summary.sent -= sent;
    summary.received -= answered;
    summary.rounds -= 1;
    summary.ended_rounds -= u32::from(leaving.ended());
    kept.reached -= u32::from(leaving.reached());
    summary.reached = kept.reached > 0;
    match leaving.beyond {
        Beyond::Nobody => {}
        Beyond::Target => kept.beyond[0] -= 1,
        Beyond::Others => kept.beyond[1] -= 1,
    }
    if answered == sent {
        summary.rate_limit.forget_answered_round(sent, kept.beyond.map(|rounds| rounds > 0));
    } else {
        // The hop's first round is now the next one, which says the family.
        let mut evidence = RateLimitEvidence::new(rounds.front().is_some_and(|round| round.ipv6));
        for hop in rounds.iter().flat_map(|round| round.at(summary.ttl)) {
            let outcomes = hop
                .probes
                .iter()
                .map(|probe| ProbeOutcome { sent_at: probe.sent_at, answered: probe.answer.is_some() });
            evidence.record_round(outcomes, hop.beyond);
        }
        summary.rate_limit = evidence;
    }
    kept.rtt.forget(answered as usize);
    for (index, flow) in summary.flows.iter_mut().enumerate() {
        let probes = leaving.probes.iter().filter(|probe| probe.flow == flow.flow);
        let (sent, answered) =
            probes.fold((0, 0), |(sent, answered), probe| (sent + 1, answered + u32::from(probe.answer.is_some())));
        flow.sent -= sent;
        flow.received -= answered;
        if let Some(samples) = kept.flows.get_mut(index) {
            samples.forget(answered as usize);
        }
    }
    true
}

/// The summary of the hop at `ttl` over `rounds` (numbered from `oldest`), as [`Report::add_round`] makes it, and
/// what is kept beside it; none if no round probed it.
fn replay(ttl: u8, rounds: &VecDeque<RoundDigest>, oldest: u64) -> Option<(HopSummary, Kept)> {
    let mut found: Option<(HopSummary, Kept)> = None;
    for (index, round) in rounds.iter().enumerate() {
        let hops = round.at(ttl);
        if found.is_none() && !hops.is_empty() {
            let mut summary = HopSummary::new(ttl, round.ipv6);
            summary.count_absent_rounds(index as u32, round.per_round);
            found = Some((summary, Kept::new(ttl, oldest + index as u64)));
        }
        let Some((summary, kept)) = &mut found else { continue };
        for hop in hops {
            summary.record(hop);
            kept.add(hop, summary);
        }
        if round.finished && summary.rounds == index as u32 {
            summary.count_absent_rounds(1, round.per_round);
        }
    }
    found
}

#[cfg(test)]
#[path = "window_tests.rs"]
mod tests;
