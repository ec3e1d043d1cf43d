//! mtr's report mode: what many rounds of a trace found, per hop — loss, round-trip statistics, responders, and
//! whether silences are ICMP rate limiting rather than loss. Memory per hop is bounded whatever the number of
//! rounds: counters, [`RttStats`], and at most [`MAX_RESPONDERS`] addresses.

mod digest;
mod rate_limit;
mod samples;
mod serialize;
mod stats;
mod window;

use core::net::IpAddr;

use engine::{Hop, ProbeRecord, ProbeStatus, Verdict};

use crate::event::Event;
use digest::{AnswerDigest, HopRound, RoundDigest};

pub use rate_limit::{ProbeOutcome, RateLimitEvidence, MAX_RATE, MIN_SPAN};
pub use stats::RttStats;
pub use window::Window;

/// The most responders listed for one hop (mtr's `MAXPATH`).
pub const MAX_RESPONDERS: usize = 8;

/// One address that answered at a hop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Responder {
    /// Its address.
    pub addr: IpAddr,
    /// traceroute's mark for its latest answer (`!X`, `!H`, …), if it had one.
    pub mark: Option<String>,
}

/// The most flows followed separately at one hop.
pub const MAX_FLOWS_FOLLOWED: usize = 16;

/// One flow at one hop over every round: where it went and how it fared.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowSummary {
    /// The flow (see `TraceConfig::flow`).
    pub flow: u16,
    /// Who answered it (a per-flow load balancer sends a flow one way: normally one address).
    pub responders: Vec<IpAddr>,
    /// Probes sent in this flow.
    pub sent: u32,
    /// Probes of this flow answered.
    pub received: u32,
    /// Round-trip times of its answers.
    pub rtt: RttStats,
}

impl FlowSummary {
    /// Unanswered probes of this flow, as a percentage of those sent.
    pub fn loss_percent(&self) -> f64 {
        if self.sent == 0 {
            return 0.0;
        }
        100.0 * f64::from(self.sent - self.received) / f64::from(self.sent)
    }
}

/// One TTL over every round.
#[derive(Debug, Clone, PartialEq)]
pub struct HopSummary {
    /// The TTL.
    pub ttl: u8,
    /// Who answered, in order of first answer (at most [`MAX_RESPONDERS`]).
    pub responders: Vec<Responder>,
    /// Round-trip times of the answers.
    pub rtt: RttStats,
    /// Probes sent.
    pub sent: u32,
    /// Probes answered.
    pub received: u32,
    /// Rounds this TTL took part in.
    pub rounds: u32,
    /// Rounds whose trace an answer at this TTL ended (the destination's, or an unreachable).
    pub ended_rounds: u32,
    /// Whether the destination answered at this TTL in any round.
    pub reached: bool,
    /// Per flow (at most [`MAX_FLOWS_FOLLOWED`]), in order of first probe.
    pub flows: Vec<FlowSummary>,
    rate_limit: RateLimitEvidence,
    /// Whether every farther hop shown that answered is rate-limited itself (rule 5's exception).
    limiters_beyond: bool,
}

impl HopSummary {
    /// A hop on the way to an IPv6 target (`ipv6`) or an IPv4 one, not yet recorded.
    fn new(ttl: u8, ipv6: bool) -> Self {
        HopSummary {
            ttl,
            responders: Vec::new(),
            rtt: RttStats::default(),
            sent: 0,
            received: 0,
            rounds: 0,
            ended_rounds: 0,
            reached: false,
            flows: Vec::new(),
            rate_limit: RateLimitEvidence::new(ipv6),
            limiters_beyond: false,
        }
    }

    /// Whether the hop's silences are ICMP rate limiting (see [`RateLimitEvidence::is_rate_limited`]).
    pub fn is_rate_limited(&self) -> bool {
        self.rate_limit.is_rate_limited_beside(self.limiters_beyond, self.reached)
    }

    /// Probes counted as lost: the unanswered ones, unless the hop is rate-limited.
    pub fn lost(&self) -> u32 {
        if self.is_rate_limited() {
            0
        } else {
            self.sent - self.received
        }
    }

    /// [`HopSummary::lost`] as a percentage of the probes sent.
    pub fn loss_percent(&self) -> f64 {
        if self.sent == 0 {
            return 0.0;
        }
        100.0 * f64::from(self.lost()) / f64::from(self.sent)
    }

    fn record(&mut self, hop: &HopRound) {
        let mut outcomes = Vec::with_capacity(hop.probes.len());
        let mut ended = false;
        for probe in &hop.probes {
            self.sent += 1;
            let answer = probe.answer.as_ref();
            outcomes.push(ProbeOutcome { sent_at: probe.sent_at, answered: answer.is_some() });
            self.record_flow(probe.flow, answer);
            let Some(answer) = answer else { continue };
            self.received += 1;
            self.rtt.add(answer.rtt);
            ended |= answer.verdict != Verdict::Continue;
            self.reached |= answer.verdict == Verdict::Reached;
            let mark = answer.mark.clone();
            match self.responders.iter().position(|responder| responder.addr == answer.from) {
                Some(index) => self.responders[index].mark = mark,
                None if self.responders.len() < MAX_RESPONDERS => {
                    self.responders.push(Responder { addr: answer.from, mark })
                }
                None => {}
            }
        }
        self.rate_limit.record_round(outcomes, hop.answered_beyond);
        self.rounds += 1;
        self.ended_rounds += u32::from(ended);
    }

    /// Counts `rounds` rounds that did not probe this TTL, of `per_round` probes each, as unanswered.
    fn count_absent_rounds(&mut self, rounds: u32, per_round: u32) {
        self.rounds += rounds;
        self.sent += rounds * per_round;
    }

    /// Whether the path ends at this TTL: the destination answered here (as mtr stops at the destination), or
    /// most rounds ended here (a one-off unreachable from a router does not cut the report).
    pub fn ends_path(&self) -> bool {
        self.reached || self.ended_rounds * 2 > self.rounds
    }

    /// The flows to show for this hop: for Paris probes (`paris`) at a hop with several responders, each flow;
    /// otherwise none (classic probes change flow with every probe: there is no flow to follow).
    pub fn flows_to_show(&self, paris: bool) -> &[FlowSummary] {
        if paris && self.responders.len() > 1 {
            &self.flows
        } else {
            &[]
        }
    }

    fn record_flow(&mut self, flow: u16, answer: Option<&AnswerDigest>) {
        let index = match self.flows.iter().position(|summary| summary.flow == flow) {
            Some(index) => index,
            None if self.flows.len() < MAX_FLOWS_FOLLOWED => {
                let summary =
                    FlowSummary { flow, responders: Vec::new(), sent: 0, received: 0, rtt: RttStats::default() };
                self.flows.push(summary);
                self.flows.len() - 1
            }
            None => return,
        };
        let summary = &mut self.flows[index];
        summary.sent += 1;
        if let Some(answer) = answer {
            summary.received += 1;
            summary.rtt.add(answer.rtt);
            if !summary.responders.contains(&answer.from) && summary.responders.len() < MAX_RESPONDERS {
                summary.responders.push(answer.from);
            }
        }
    }
}

/// Whether a probe counts for loss and RTTs: answered or given up, not in flight or cancelled.
fn settled(probe: &ProbeRecord) -> bool {
    !matches!(probe.status, ProbeStatus::InFlight | ProbeStatus::Cancelled)
}

/// Hop summaries built round by round: from whole rounds ([`Report::add_round`]), from the event stream
/// ([`Report::apply`]), or hop by hop ([`Report::add_hop`], [`Report::end_round`]).
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// By TTL, ascending.
    hops: Vec<HopSummary>,
    /// The hops of the round in progress.
    round: Vec<Hop>,
    /// The target of the round in progress, from its [`Event::RoundStarted`].
    target: Option<IpAddr>,
    rounds: u32,
}

impl Report {
    /// An empty report.
    pub fn new() -> Self {
        Self::default()
    }

    /// Folds in one event of a run: a round's hops as they complete, the round when it is done.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::RoundStarted { info, .. } => self.target = Some(info.target),
            Event::HopComplete { hop, .. } => self.add_hop(hop.clone()),
            Event::RoundDone { .. } => {
                if let Some(target) = self.target {
                    self.end_round(target);
                }
            }
            _ => {}
        }
    }

    /// Adds a hop of the round in progress.
    pub fn add_hop(&mut self, hop: Hop) {
        self.round.push(hop);
    }

    /// Ends the round in progress, a trace to `target`, folding its hops into the summaries ([`Self::add_round`]).
    pub fn end_round(&mut self, target: IpAddr) {
        let mut round = core::mem::take(&mut self.round);
        round.sort_by_key(|hop| hop.ttl);
        self.add_round(&round, target);
    }

    /// Folds in a whole round: the hops of a trace to `target`, in TTL order. A hop none of whose probes was
    /// settled (an interrupted round: never probed, or its probes still in flight) is left out: it was neither
    /// answered nor lost. Every row counts every round that ended (at an answer that ends a trace): a TTL such a
    /// round did not probe (it ended short of it), or that earlier rounds did not (it is new), counts those rounds'
    /// probes as sent and unanswered.
    pub fn add_round(&mut self, round: &[Hop], target: IpAddr) {
        self.add_digest(&RoundDigest::new(round, target));
    }

    /// Folds in a round read by [`RoundDigest::new`].
    fn add_digest(&mut self, round: &RoundDigest) {
        for hop in &round.hops {
            let position = match self.hops.binary_search_by_key(&hop.ttl, |summary| summary.ttl) {
                Ok(position) => position,
                Err(position) => {
                    let mut summary = HopSummary::new(hop.ttl, round.ipv6);
                    summary.count_absent_rounds(self.rounds, round.per_round);
                    self.hops.insert(position, summary);
                    position
                }
            };
            self.hops[position].record(hop);
        }
        for summary in self.hops.iter_mut().filter(|_| round.finished) {
            if summary.rounds == self.rounds {
                summary.count_absent_rounds(1, round.per_round);
            }
        }
        self.rounds += 1;
        // From the farthest hop shown back: whether every farther one that answered is a limiter itself.
        let shown = self.hops().len();
        let mut limiters_beyond = true;
        for summary in self.hops[..shown].iter_mut().rev() {
            summary.limiters_beyond = limiters_beyond;
            if summary.received > 0 {
                limiters_beyond &= summary.is_rate_limited();
            }
        }
    }

    /// Rounds ended so far.
    pub fn rounds(&self) -> u32 {
        self.rounds
    }

    /// The hops to show: up to the nearest TTL at which most rounds ended (the destination, or where the path
    /// stops), else all.
    pub fn hops(&self) -> &[HopSummary] {
        let shown = self.hops.iter().position(HopSummary::ends_path).map_or(self.hops.len(), |index| index + 1);
        &self.hops[..shown]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::time::Duration;
    use engine::{Answer, ProbeId, ProbeRecord, Reply, ReplyKind};
    use std::time::Instant;

    const TARGET: IpAddr = IpAddr::V4(core::net::Ipv4Addr::new(198, 18, 0, 9));

    /// Hop `ttl` of one probe, answered by the target (`Some(true)`), a router (`Some(false)`) or no one.
    fn hop(ttl: u8, answered: Option<bool>) -> Hop {
        let status = match answered {
            None => ProbeStatus::TimedOut,
            Some(by_target) => {
                let from = if by_target { TARGET } else { IpAddr::from([198, 18, 0, ttl]) };
                let kind = ReplyKind::EchoReply { ident: 1, seq: 1, tag: None };
                let reply = Reply { from, ttl: None, size: None, kind };
                ProbeStatus::Answered(Answer {
                    rtt: Duration::from_millis(1),
                    reply,
                    quote_rewritten: false,
                    unverified: false,
                })
            }
        };
        let probe = ProbeRecord { id: ProbeId(0), sent_at: Instant::now(), size: 60, flow: 0, status, resent: None };
        Hop { ttl, probes: vec![probe] }
    }

    #[test]
    fn every_row_counts_every_round() {
        let mut report = Report::new();
        // Round 1 ends at TTL 1; round 2 reaches the target at TTL 3; round 3 ends at TTL 2.
        for round in [vec![hop(1, Some(true))], vec![hop(1, Some(false)), hop(2, None), hop(3, Some(true))]] {
            for hop in round {
                report.add_hop(hop);
            }
            report.end_round(TARGET);
        }
        report.add_hop(hop(1, Some(false)));
        report.add_hop(hop(2, Some(false)));
        report.end_round(TARGET);
        let rows: Vec<(u8, u32, u32, u32)> =
            report.hops.iter().map(|hop| (hop.ttl, hop.rounds, hop.sent, hop.received)).collect();
        assert_eq!(rows, [(1, 3, 3, 3), (2, 3, 3, 1), (3, 3, 3, 1)]);
    }

    /// A router's Time Exceeded quoting an ICMP probe to the target.
    fn time_exceeded() -> ReplyKind {
        let probe = engine::QuotedProbe::Icmp { ident: 1, seq: 1, checksum: None, tag: None };
        let quote = engine::Quote { src: None, dst: TARGET, ttl: Some(1), ip_id: None, probe };
        let class = engine::ErrorClass::TimeExceeded;
        ReplyKind::IcmpError(engine::IcmpError { class, icmp_type: 11, icmp_code: 0, mtu: None, quote, mpls: vec![] })
    }

    #[test]
    fn limiters_that_run_dry_together_are_rate_limited_not_lossy() {
        // Two routers and the destination, each Linux's limiter (6 tokens, one a second), probed in rounds of
        // 60 ms, or 1.1 s when the destination leaves the round waiting: all fall silent in the same rounds.
        let start = Instant::now();
        let mut credit = [Duration::from_secs(6); 3];
        let (mut at, mut last) = (Duration::ZERO, Duration::ZERO);
        let mut report = Report::new();
        for _ in 0..40 {
            let mut answered = false;
            for (index, credit) in credit.iter_mut().enumerate() {
                *credit = (*credit + (at - last)).min(Duration::from_secs(6));
                answered = *credit >= Duration::from_secs(1);
                if answered {
                    *credit -= Duration::from_secs(1);
                }
                let mut hop = hop(index as u8 + 1, answered.then_some(index == 2));
                hop.probes[0].sent_at = start + at;
                if let ProbeStatus::Answered(answer) = &mut hop.probes[0].status {
                    if index < 2 {
                        answer.reply.kind = time_exceeded();
                    }
                }
                report.add_hop(hop);
            }
            report.end_round(TARGET);
            last = at;
            at += Duration::from_millis(if answered { 60 } else { 1100 });
        }
        let rows: Vec<(u8, bool, u32)> =
            report.hops().iter().map(|hop| (hop.ttl, hop.is_rate_limited(), hop.lost())).collect();
        assert_eq!(rows, [(1, true, 0), (2, true, 0), (3, true, 0)], "{:?}", report.hops());
    }
}
