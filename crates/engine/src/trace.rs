//! The tracing state machine: the schedule of probes, and the rules (matching, waits, resends, stop) applied as
//! time passes and replies come in. Each rule lives in its own module; this one ties them to the probe log.

use std::collections::VecDeque;
use std::time::Instant;

use crate::config::{ConfigError, Method, Protocol, TraceConfig};
use crate::log::ProbeLog;
use crate::matching::Matcher;
use crate::pace::Pacer;
use crate::probe::{Probe, ProbeFactory, ProbeId};
use crate::reply::{ErrorClass, Reply, ReplyKind};
use crate::resend;
use crate::result::{Answer, Event, Hop, Outcome, ProbeRecord, ProbeStatus, Resend, Stats, Verdict};
use crate::stop::Stop;
use crate::waits;
use window::first_free_flow;

mod window;

/// One trace to one target: a sans-IO state machine.
///
/// The caller owns the sockets and the clock. It pulls probes with [`Trace::poll_probe`], sends them, pushes every
/// reply into [`Trace::handle_reply`], sleeps until [`Trace::poll_timeout`] (or the next reply) and then calls
/// [`Trace::handle_timeout`], printing hops as [`Trace::poll_event`] reports them complete, until
/// [`Trace::is_finished`].
#[derive(Debug)]
pub struct Trace {
    config: TraceConfig,
    factory: ProbeFactory,
    log: ProbeLog,
    in_flight: Vec<ProbeId>,
    last_sent_at: Option<Instant>,
    stop: Stop,
    /// Hops reported complete so far.
    reported: usize,
    outcome: Option<Outcome>,
    /// Checksum shifts seen in quotes matched by IP ID alone, with the probe each named (see
    /// [`Matcher::probe_of`]).
    checksum_shifts: Vec<(u16, ProbeId)>,
    events: VecDeque<Event>,
    stats: Stats,
    /// Multipath discovery's pace at hops that limit their answers.
    pacer: Pacer,
    /// The size asked for, more than a probe can be, until a too-big probe cuts it ([`Trace::oversized`]).
    oversized: Option<u32>,
}

/// How much earlier than its probe's departure a reply's arrival may seem, from the error of turning a kernel's
/// wall-clock receive stamp into an instant (two clocks read one after the other, on a loaded machine).
const CLOCK_SLACK: core::time::Duration = core::time::Duration::from_millis(10);

/// Replies refused in one trace past which a forger is taken to be sweeping the 16-bit fields that tell probes
/// apart: from then on, a match that rests on such a field alone ([`crate::Answer::unverified`]) is refused too.
const SWEEP_SIGNAL: u32 = 256;

/// The most checksum shifts remembered.
const MAX_CHECKSUM_SHIFTS: usize = 64;

/// A reply's probe, as [`Trace::claim`] found it for [`Trace::handle_claimed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim(ProbeId);

/// What became of a reply pushed into the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Disposition {
    /// Matched to a probe in flight, and recorded.
    Accepted(ProbeId),
    /// Matched to a probe that was already answered.
    Duplicate(ProbeId),
    /// Matched to a probe already given up (timed out or cancelled).
    Late(ProbeId),
    /// Not a reply to any probe of this trace.
    Unmatched,
}

impl Trace {
    /// Starts a trace.
    pub fn new(config: TraceConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Trace {
            factory: ProbeFactory::new(&config),
            oversized: resend::oversized(&config),
            config,
            log: ProbeLog::default(),
            in_flight: Vec::new(),
            last_sent_at: None,
            stop: Stop::default(),
            reported: 0,
            outcome: None,
            checksum_shifts: Vec::new(),
            events: VecDeque::new(),
            stats: Stats::default(),
            pacer: Pacer::default(),
        })
    }

    /// The configuration this trace runs with.
    pub fn config(&self) -> &TraceConfig {
        &self.config
    }

    /// The size asked for while it is more than a probe can be (IPv6, above 65535 bytes): the probes are cut to
    /// 65535 bytes, so the caller checks the size asked for against the local MTU, as the kernel would, and reports
    /// a probe that stands for a packet too big for it with [`Trace::send_too_big`].
    pub fn oversized(&self) -> Option<u32> {
        self.oversized
    }

    /// The next probe to send now, if the schedule allows one. The probe counts as sent at `now`.
    #[must_use]
    pub fn poll_probe(&mut self, now: Instant) -> Option<Probe> {
        if self.outcome.is_some() || self.in_flight.len() >= self.config.max_in_flight {
            return None;
        }
        if self.next_send_at().is_some_and(|at| at > now) {
            return None;
        }
        let (ttl, hop_index) = self.next_slot(Some(now))?;
        // The i-th probe standing for a hop is in flow i, at every hop (a resend keeps the flow it replaces); a hop
        // with all its flows may want one probed again (a repeat, see crate::mda::per_packet).
        let repeat = self.repeat_flow(hop_index);
        let flow = match self.log.hops().get(hop_index) {
            _ if repeat.is_some() => repeat.unwrap_or_default(),
            Some(hop) if self.config.mda => first_free_flow(hop),
            None if self.config.mda => 0,
            _ => self.config.flow,
        };
        let id = ProbeId(self.log.len() as u32);
        let (probe, key) = self.factory.build(id, ttl, flow);
        let size = self.factory.packet_len();
        let resent = repeat.map(|_| Resend::Repeat);
        let record = ProbeRecord { id, sent_at: now, size, flow, status: ProbeStatus::InFlight, resent };
        self.log.push(hop_index, ttl, record, key);
        if self.config.method == Method::paris(Protocol::Udp) {
            if let Some(tag) = self.factory.payload_tag(id) {
                self.log.index_tag(tag, id);
            }
        }
        self.pacer.sent(hop_index, now);
        self.in_flight.push(id);
        self.last_sent_at = Some(now);
        self.stats.sent += 1;
        self.events.push_back(Event::ProbeSent { id, ttl });
        Some(probe)
    }

    /// Corrects the send time of probe `id` to when it actually left (`poll_probe` assumed `now`): just before the
    /// system call, and again when the kernel says when the packet went out. A probe already answered keeps its
    /// time.
    pub fn on_sent(&mut self, id: ProbeId, at: Instant) {
        if let Some(record) = self.log.record_mut(id).filter(|record| record.status == ProbeStatus::InFlight) {
            record.sent_at = at;
        }
    }

    /// Records that probe `id` was too big for the local link, whose MTU is `mtu`. With path MTU discovery the
    /// probe is resent smaller; otherwise no probe of that size can leave, and the trace ends at its TTL (as
    /// traceroute's `!F-MTU` does).
    pub fn send_too_big(&mut self, id: ProbeId, mtu: u32) {
        if self.log.record(id).is_none_or(|record| record.status != ProbeStatus::InFlight) {
            return;
        }
        let smaller = self.resend_smaller(id, mtu);
        let Some(ttl) = self.log.hop_of(id).map(|hop| hop.ttl) else { return };
        let Some(record) = self.log.record_mut(id) else { return };
        record.status = ProbeStatus::TooBigLocally { mtu };
        record.resent = smaller;
        self.in_flight.retain(|&p| p != id);
        if smaller.is_none() {
            self.stop_at(ttl, false);
        }
        self.progress();
    }

    /// Whether probe `id`, too big for a link of `mtu`, is sent again smaller — and if so makes the following
    /// probes fit.
    fn resend_smaller(&mut self, id: ProbeId, mtu: u32) -> Option<Resend> {
        let size = u32::from(self.log.record(id)?.size);
        let size = self.oversized.take().unwrap_or(size);
        if !resend::may_resend_smaller(&self.config, size, mtu) {
            return None;
        }
        if mtu < u32::from(self.factory.packet_len()) {
            self.factory.set_packet_len(mtu as u16);
        }
        Some(Resend::Smaller)
    }

    /// Records that probe `id` could not be sent: it will show as a failure, not a timeout.
    pub fn send_failed(&mut self, id: ProbeId) {
        if let Some(record) = self.log.record_mut(id) {
            if record.status == ProbeStatus::InFlight {
                record.status = ProbeStatus::SendFailed;
                self.in_flight.retain(|&p| p != id);
                self.progress();
            }
        }
    }

    /// Pushes in a reply received at `now`.
    pub fn handle_reply(&mut self, reply: Reply, now: Instant) -> Disposition {
        match self.claim(&reply) {
            Some(claim) => self.handle_claimed(claim, reply, now),
            None => {
                self.handle_unclaimed(&reply);
                Disposition::Unmatched
            }
        }
    }

    /// Whether `reply` answers one of this trace's probes (answered already or not), by the rules
    /// [`Trace::handle_reply`] applies; nothing is recorded or learned. Of several traces sharing sockets, the first
    /// to claim a reply is the one to push it into, with [`Trace::handle_claimed`]; one that none claims goes to
    /// [`Trace::handle_unclaimed`] of each to its probe's target.
    #[must_use]
    pub fn claim(&self, reply: &Reply) -> Option<Claim> {
        self.matcher().probe_of(reply).map(Claim)
    }

    /// Pushes in `reply`, received at `now`, that [`Trace::claim`] claimed for this trace.
    pub fn handle_claimed(&mut self, claim: Claim, reply: Reply, now: Instant) -> Disposition {
        let Claim(id) = claim;
        let disposition = match self.log.record(id) {
            // An answer that arrived before its probe left was made up before anyone saw the probe.
            Some(record) if now + CLOCK_SLACK < record.sent_at => Disposition::Unmatched,
            Some(record) => match &record.status {
                ProbeStatus::InFlight => Disposition::Accepted(id),
                ProbeStatus::Answered(_) => Disposition::Duplicate(id),
                _ => Disposition::Late(id),
            },
            None => Disposition::Unmatched,
        };
        match disposition {
            Disposition::Accepted(id) => {
                self.stats.matched += 1;
                self.accept(id, reply, now);
            }
            Disposition::Duplicate(_) => self.stats.duplicates += 1,
            Disposition::Late(_) => self.stats.late += 1,
            Disposition::Unmatched => self.handle_unclaimed(&reply),
        }
        disposition
    }

    /// Counts `reply` as matching none of this trace's probes, and learns from it what it may show of a middlebox
    /// on the way: the checksum shift of a Paris UDP quote that names one of them by IP ID alone, which lets the
    /// next quote with that shift be believed.
    pub fn handle_unclaimed(&mut self, reply: &Reply) {
        self.stats.unmatched += 1;
        self.stats.short_quotes += u32::from(self.matcher().too_short_to_tell(reply));
        if let Some(candidate) = self.matcher().ip_id_candidate(reply) {
            if !self.checksum_shifts.contains(&candidate) && self.checksum_shifts.len() < MAX_CHECKSUM_SHIFTS {
                self.checksum_shifts.push(candidate);
            }
        }
    }

    fn matcher(&self) -> Matcher<'_> {
        Matcher {
            config: &self.config,
            factory: &self.factory,
            log: &self.log,
            checksum_shifts: &self.checksum_shifts,
            under_sweep: self.stats.unmatched >= SWEEP_SIGNAL,
        }
    }

    fn accept(&mut self, id: ProbeId, reply: Reply, now: Instant) {
        self.in_flight.retain(|&p| p != id);
        let resent = match &reply.kind {
            ReplyKind::IcmpError(error) if error.class == ErrorClass::PacketTooBig => {
                error.mtu.and_then(|mtu| self.resend_smaller(id, mtu))
            }
            // A repeat stays one (it stands for no flow).
            _ => self.log.record(id).and_then(|record| record.resent.filter(|&why| why == Resend::Repeat)),
        };
        let quote_rewritten = self.matcher().quote_rewritten(id, &reply);
        let unverified = !self.matcher().verified(id, &reply);
        let target = self.config.target;
        let Some(ttl) = self.log.hop_of(id).map(|hop| hop.ttl) else { return };
        self.pacer.answered(self.log.hops(), self.log.location(id));
        let Some(record) = self.log.record_mut(id) else { return };
        let rtt = now.saturating_duration_since(record.sent_at);
        let answer = Answer { rtt, reply, quote_rewritten, unverified };
        let verdict =
            if resent.is_some_and(|why| why != Resend::Repeat) { Verdict::Continue } else { answer.verdict(target) };
        record.status = ProbeStatus::Answered(answer);
        record.resent = resent;
        self.events.push_back(Event::Answered { id, ttl });
        if verdict != Verdict::Continue {
            self.stop_at(ttl, false);
        }
        self.progress();
    }

    /// The trace ends at `ttl`: probes beyond it are no longer needed.
    fn stop_at(&mut self, ttl: u8, by_gap: bool) {
        if !self.stop.stop_at(ttl, by_gap) {
            return;
        }
        for record in self.log.records_beyond(ttl) {
            if record.status == ProbeStatus::InFlight {
                record.status = ProbeStatus::Cancelled;
                self.in_flight.retain(|&p| p != record.id);
            }
        }
    }

    /// When [`Trace::handle_timeout`] should next be called, if anything is pending.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.outcome.is_some() {
            return None;
        }
        let give_up = self.in_flight.iter().filter_map(|&id| self.deadline(id)).min();
        let can_send = self.in_flight.len() < self.config.max_in_flight && self.next_slot(None).is_some();
        let send = self.next_send_at().filter(|_| can_send);
        // A paced hop's turn, once the send interval allows (a hop no longer paced then is sent at once).
        let paced = self
            .short_hops()
            .filter_map(|index| self.pace_next(index).flatten())
            .min()
            .filter(|_| can_send)
            .map(|at| self.next_send_at().map_or(at, |send| send.max(at)));
        give_up.into_iter().chain(send).chain(paced).min()
    }

    /// Gives up the probes whose wait has run out by `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let expired: Vec<ProbeId> =
            self.in_flight.iter().copied().filter(|&id| self.deadline(id).is_some_and(|at| at <= now)).collect();
        if expired.is_empty() {
            return;
        }
        for &id in &expired {
            // A lost repeat stays one: it never stands for its flow, and is not retried.
            let repeat = self.log.record(id).is_some_and(|record| record.resent == Some(Resend::Repeat));
            let resent = if repeat { Some(Resend::Repeat) } else { self.may_retry(id, now).then_some(Resend::Retry) };
            if let Some(record) = self.log.record_mut(id) {
                record.status = ProbeStatus::TimedOut;
                record.resent = resent;
            }
        }
        self.in_flight.retain(|id| !expired.contains(id));
        self.progress();
    }

    /// Whether lost probe `id` may be stood in for by another (with multipath discovery: its flow probed again at
    /// its hop's pace, see [`crate::pace`]).
    fn may_retry(&mut self, id: ProbeId, now: Instant) -> bool {
        if self.config.mda {
            let last_ttl = self.last_ttl();
            return self.pacer.lost(self.log.hops(), self.log.location(id), last_ttl, self.config.mda_wait, now);
        }
        let farthest = self.log.farthest_answer();
        self.log.hop_of(id).is_some_and(|hop| resend::may_retry(&self.config, hop, farthest, self.last_ttl()))
    }

    /// When probe `id` is given up.
    fn deadline(&self, id: ProbeId) -> Option<Instant> {
        let (hop_index, index) = self.log.location(id)?;
        waits::deadline(&self.config.wait, self.log.hops(), hop_index, index)
    }

    /// Reports completed hops in order and decides whether the trace is over.
    fn progress(&mut self) {
        self.check_gap();
        let last_ttl = self.last_ttl();
        while let Some(hop) = self.log.hops().get(self.reported) {
            if hop.ttl > last_ttl || !self.settled(self.reported) || !self.next_hop_settled(self.reported) {
                break;
            }
            self.events.push_back(Event::HopComplete { ttl: hop.ttl });
            self.reported += 1;
        }
        let hops = self.log.hops();
        let done = self.reported.checked_sub(1).and_then(|last| hops.get(last)).is_some_and(|hop| hop.ttl == last_ttl);
        if done && self.outcome.is_none() {
            let outcome = self.stop.outcome(hops, self.config.target, last_ttl);
            self.outcome = Some(outcome);
            self.in_flight.clear();
            self.events.push_back(Event::Finished(outcome));
        }
    }

    /// Whether hop `index` has every probe it needs, each with an outcome.
    fn settled(&self, index: usize) -> bool {
        let hop = &self.log.hops()[index];
        hop.current().count() >= self.wanted(index) && self.repeat_flow(index).is_none() && hop.is_complete()
    }

    /// The gap limit: once that many TTLs past the farthest answer are settled and silent, the trace ends there.
    fn check_gap(&mut self) {
        let Some(gap) = self.config.gap_limit.filter(|_| !self.stop.is_known()) else { return };
        let farthest = self.log.farthest_answer();
        let end = Stop::gap_end(gap, self.config.first_ttl, self.log.hops(), farthest, |index| self.settled(index));
        if let Some(ttl) = end {
            self.stop_at(ttl, true);
        }
    }

    /// The next event, if any.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Whether the trace is over.
    pub fn is_finished(&self) -> bool {
        self.outcome.is_some()
    }

    /// How the trace ended, once it has.
    pub fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }

    /// The TTL it reached the destination at, if it did: the next round's [`TraceConfig::known_distance`].
    pub fn distance(&self) -> Option<u8> {
        match self.outcome {
            Some(Outcome::Reached { ttl }) => Some(ttl),
            _ => None,
        }
    }

    /// The hops probed so far, up to the TTL where the trace ends.
    pub fn hops(&self) -> &[Hop] {
        let last_ttl = self.last_ttl();
        let hops = self.log.hops();
        &hops[..hops.iter().take_while(|hop| hop.ttl <= last_ttl).count()]
    }

    /// The record of probe `id`, if this trace sent it.
    pub fn probe(&self, id: ProbeId) -> Option<&ProbeRecord> {
        self.log.record(id)
    }

    /// What the engine did with replies so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }
}
