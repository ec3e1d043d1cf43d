//! One target of the live view: its report over the rounds, the round in progress, and per TTL the history of its
//! last probes and what its latest answers carried (MPLS labels, a NAT's rewrite).

use std::collections::{BTreeMap, VecDeque};

use hoptrace_core::{Hop, MplsLabel, ProbeRecord, ProbeStatus};

use crate::render::TraceInfo;
use hoptrace_core::Report;

/// How many probes per TTL the history keeps (more than the widest terminal shows).
pub const HISTORY: usize = 256;

/// What the view knows of one TTL beyond the report's statistics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HopTrail {
    /// The last probes, oldest first: round-trip time in milliseconds, `None` when lost.
    pub history: VecDeque<Option<f64>>,
    /// The MPLS labels of the latest answer that had any.
    pub mpls: Vec<MplsLabel>,
    /// Whether an answer's quote showed the probe rewritten by a NAT.
    pub nat: bool,
}

impl HopTrail {
    /// A probe's outcome: its answer as it comes in, or its loss once its hop is complete.
    fn record(&mut self, probe: &ProbeRecord) {
        let sample = match &probe.status {
            ProbeStatus::Answered(answer) => {
                self.nat |= answer.quote_rewritten;
                if let Some(error) = answer.icmp_error().filter(|error| !error.mpls.is_empty()) {
                    self.mpls.clone_from(&error.mpls);
                }
                Some(answer.rtt.as_secs_f64() * 1000.0)
            }
            ProbeStatus::TimedOut | ProbeStatus::SendFailed | ProbeStatus::TooBigLocally { .. } => None,
            // Undecided, given up, or a kind this view does not know: nothing to show.
            _ => return,
        };
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(sample);
    }
}

/// One target (one tab).
#[derive(Debug, Clone, Default)]
pub struct TargetView {
    /// The host as the user gave it.
    pub host: String,
    /// The first round's facts (its start time), the latest round's flow.
    pub info: Option<TraceInfo>,
    /// The rounds done.
    pub report: Report,
    /// The hops of the round in progress, as they complete.
    round: Vec<Hop>,
    /// By TTL.
    pub trails: BTreeMap<u8, HopTrail>,
}

impl TargetView {
    /// A target not yet probed.
    pub fn new(host: &str) -> Self {
        TargetView { host: host.to_owned(), ..TargetView::default() }
    }

    /// A round starts.
    pub fn start(&mut self, info: TraceInfo) {
        match &mut self.info {
            Some(first) => first.flow = info.flow,
            None => self.info = Some(info),
        }
    }

    /// A probe at `ttl` was answered: its history has it at once.
    pub fn reply(&mut self, ttl: u8, probe: &ProbeRecord) {
        self.trails.entry(ttl).or_default().record(probe);
    }

    /// A hop of the round in progress is complete (its answers are in its history already, its losses now).
    pub fn hop(&mut self, hop: Hop) {
        let trail = self.trails.entry(hop.ttl).or_default();
        for probe in hop.current().filter(|probe| probe.status.answer().is_none()) {
            trail.record(probe);
        }
        self.round.push(hop);
    }

    /// The round in progress is over.
    pub fn done(&mut self) {
        let Some(info) = &self.info else { return };
        for hop in self.round.drain(..) {
            self.report.add_hop(hop);
        }
        self.report.end_round(info.target);
    }

    /// Forgets every statistic and history (`r`).
    pub fn reset(&mut self) {
        self.report = Report::new();
        self.round.clear();
        self.trails.clear();
    }

    /// The report to show: the rounds done and, counted in, the hops of the round in progress.
    pub fn shown(&self) -> Report {
        let mut report = self.report.clone();
        if let (Some(info), false) = (&self.info, self.round.is_empty()) {
            for hop in &self.round {
                report.add_hop(hop.clone());
            }
            report.end_round(info.target);
        }
        report
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use core::net::IpAddr;
    use core::time::Duration;
    use hoptrace_core::Event;
    use hoptrace_core::{Answer, ErrorClass, IcmpError, Quote, QuotedProbe, Reply, ReplyKind};
    use std::time::Instant;

    /// A hop at `ttl` whose one probe `from` answered in `rtt_ms` (Time Exceeded), or was lost.
    pub fn hop(ttl: u8, answer: Option<(&str, f64)>) -> Hop {
        hop_with(ttl, answer, ErrorClass::TimeExceeded)
    }

    /// Like [`hop`], the answer of class `class`.
    pub fn hop_with(ttl: u8, answer: Option<(&str, f64)>, class: ErrorClass) -> Hop {
        let status = match answer {
            Some((from, rtt_ms)) => {
                let from: IpAddr = from.parse().expect("an address");
                let probe = QuotedProbe::Udp { src_port: 1, dst_port: 2, checksum: None, tag: None };
                let quote = Quote { src: None, dst: from, ttl: None, ip_id: None, probe };
                let error = IcmpError { class, icmp_type: 11, icmp_code: 0, mtu: None, quote, mpls: Vec::new() };
                let reply = Reply { from, ttl: None, size: None, kind: ReplyKind::IcmpError(error) };
                ProbeStatus::Answered(Answer {
                    rtt: Duration::from_secs_f64(rtt_ms / 1000.0),
                    reply,
                    quote_rewritten: false,
                    unverified: false,
                })
            }
            None => ProbeStatus::TimedOut,
        };
        let probe = ProbeRecord {
            id: hoptrace_core::ProbeId(u32::from(ttl)),
            sent_at: Instant::now(),
            size: 60,
            flow: 0,
            status,
            resent: None,
        };
        Hop { ttl, probes: vec![probe] }
    }

    /// Facts about a trace to `target`.
    pub fn info(target: &str) -> TraceInfo {
        let config = hoptrace_core::TraceConfig::new(
            target.parse().expect("an address"),
            hoptrace_core::Method::paris(hoptrace_core::Protocol::Udp),
        );
        TraceInfo::new(target, &config, std::time::UNIX_EPOCH)
    }

    /// A round to `target` starts.
    pub fn started(target: &str) -> Event {
        Event::RoundStarted { round: 0, info: info(target) }
    }

    /// The replies of `hop`, then `hop` complete.
    pub fn answered(hop: Hop) -> Vec<Event> {
        let mut events: Vec<Event> = hop
            .probes
            .iter()
            .filter(|probe| probe.status.answer().is_some())
            .map(|probe| Event::Reply { round: 0, probe: probe.clone(), ttl: hop.ttl })
            .collect();
        events.push(complete(hop));
        events
    }

    /// `hop` complete.
    pub fn complete(hop: Hop) -> Event {
        Event::HopComplete { round: 0, hop, complete: true }
    }

    /// The round is over.
    pub fn done() -> Event {
        Event::RoundDone { round: 0, outcome: None, stats: hoptrace_core::Stats::default() }
    }

    /// `hop`'s replies, then `hop` complete.
    fn through(view: &mut TargetView, hop: Hop) {
        for probe in hop.probes.iter().filter(|probe| probe.status.answer().is_some()) {
            view.reply(hop.ttl, probe);
        }
        view.hop(hop);
    }

    #[test]
    fn the_round_in_progress_counts_in_what_is_shown_and_reset_forgets_all() {
        let mut view = TargetView::new("lab");
        view.start(info("198.18.1.2"));
        through(&mut view, hop(1, Some(("198.18.0.1", 1.5))));
        assert_eq!(view.report.hops().len(), 0);
        let shown = view.shown();
        assert_eq!(shown.hops().len(), 1);
        assert_eq!((shown.hops()[0].sent, shown.hops()[0].received), (1, 1));
        through(&mut view, hop(2, None));
        view.done();
        view.start(info("198.18.1.2"));
        through(&mut view, hop(1, None));
        let hops: Vec<(u32, u32)> = view.shown().hops().iter().map(|hop| (hop.sent, hop.received)).collect();
        assert_eq!(hops, [(2, 1), (1, 0)]);
        assert_eq!(view.trails[&1].history, [Some(1.5), None]);
        assert_eq!(view.trails[&2].history, [None]);
        view.reset();
        assert!(view.shown().hops().is_empty() && view.trails.is_empty());
    }

    #[test]
    fn the_history_keeps_the_last_probes_only() {
        let mut view = TargetView::new("lab");
        view.start(info("198.18.1.2"));
        for n in 0..HISTORY + 10 {
            through(&mut view, hop(1, Some(("198.18.0.1", n as f64))));
        }
        let history = &view.trails[&1].history;
        assert_eq!(history.len(), HISTORY);
        assert_eq!((history[0], history[HISTORY - 1]), (Some(10.0), Some((HISTORY + 9) as f64)));
    }
}
