//! The tracing state machine.

use core::time::Duration;
use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use crate::config::{ConfigError, RetryScope, TraceConfig};
use crate::probe::{self, MatchKey, Probe, ProbeFactory, ProbeId, ProbeTransport};
use crate::reply::{ErrorClass, QuotedProbe, Reply, ReplyKind};
use crate::result::{Answer, Event, Hop, Outcome, ProbeRecord, ProbeStatus, Stats, Verdict};

/// Extra wait added to a measured RTT before scaling it, as `traceroute(8)` does.
const WAIT_PRECISION: Duration = Duration::from_millis(1);

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
    hops: Vec<Hop>,
    /// Where each probe's record lives: (hop index, probe index), by probe number.
    locations: Vec<(usize, usize)>,
    by_key: HashMap<MatchKey, ProbeId>,
    in_flight: Vec<ProbeId>,
    last_sent_at: Option<Instant>,
    /// The lowest TTL at which the destination answered or an unreachable ended the trace.
    stop_ttl: Option<u8>,
    /// Hops reported complete so far.
    reported: usize,
    /// Whether the gap limit ended the trace.
    stopped_by_gap: bool,
    outcome: Option<Outcome>,
    events: VecDeque<Event>,
    stats: Stats,
}

/// What became of a reply pushed into the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
            config,
            hops: Vec::new(),
            locations: Vec::new(),
            by_key: HashMap::new(),
            in_flight: Vec::new(),
            last_sent_at: None,
            stop_ttl: None,
            reported: 0,
            stopped_by_gap: false,
            outcome: None,
            events: VecDeque::new(),
            stats: Stats::default(),
        })
    }

    /// The configuration this trace runs with.
    pub fn config(&self) -> &TraceConfig {
        &self.config
    }

    /// The next probe to send now, if the schedule allows one. The probe counts as sent at `now`.
    pub fn poll_probe(&mut self, now: Instant) -> Option<Probe> {
        if self.outcome.is_some() || self.in_flight.len() >= self.config.max_in_flight {
            return None;
        }
        if self.next_send_at().is_some_and(|at| at > now) {
            return None;
        }
        let (ttl, hop_index) = self.next_slot()?;
        if hop_index == self.hops.len() {
            self.hops.push(Hop { ttl, probes: Vec::new() });
        }
        // The i-th probe standing for a hop is in flow i, at every hop (a resend keeps the flow it replaces).
        let flow = if self.config.mda { first_free_flow(&self.hops[hop_index]) } else { self.config.flow };
        let id = ProbeId(self.locations.len() as u32);
        let (probe, key) = self.factory.build(id, ttl, flow);
        let hop = &mut self.hops[hop_index];
        self.locations.push((hop_index, hop.probes.len()));
        hop.probes.push(ProbeRecord {
            id,
            sent_at: now,
            size: self.factory.packet_len(),
            flow,
            status: ProbeStatus::InFlight,
            superseded: false,
        });
        self.by_key.insert(key, id);
        self.in_flight.push(id);
        self.last_sent_at = Some(now);
        self.stats.sent += 1;
        self.events.push_back(Event::ProbeSent { id, ttl });
        Some(probe)
    }

    /// The TTL of the next probe and the index of its hop, if any probe is left to send: the lowest hop of the window
    /// short of probes (retries and resends fill earlier hops), else the next TTL in it. The window spans
    /// [`Self::window`] TTLs from the first hop not yet reported complete, as many as the in-flight limit holds
    /// whole, so that a path no longer than it is probed whole within one round trip.
    ///
    /// Within the window the probes go out TTL by TTL, all of one before the next, not the first probe of every TTL
    /// before the second of any: the whole window leaves at once either way, and a destination that limits its
    /// ICMP errors (Linux: a burst of 6) spends its burst on the probes it gets first — its own TTL's this way,
    /// rather than one of its own and the first of every TTL past it.
    fn next_slot(&self) -> Option<(u8, usize)> {
        let last_ttl = self.last_ttl();
        let first = match self.hops.get(self.reported) {
            Some(hop) => u16::from(hop.ttl),
            None => self.hops.last().map_or(u16::from(self.config.first_ttl), |hop| u16::from(hop.ttl) + 1),
        };
        let end = first + self.window() as u16; // TTLs below `end` are in the window
        let in_window = |ttl: u8| ttl <= last_ttl && u16::from(ttl) < end;
        // Hops already reported complete need nothing more: start after them.
        let short = (self.reported..self.hops.len())
            .find(|&index| in_window(self.hops[index].ttl) && self.hops[index].current().count() < self.wanted(index));
        if let Some(index) = short {
            return Some((self.hops[index].ttl, index));
        }
        match self.hops.last() {
            None => Some((self.config.first_ttl, 0)),
            Some(hop) => hop.ttl.checked_add(1).filter(|&ttl| in_window(ttl)).map(|ttl| (ttl, self.hops.len())),
        }
    }

    /// How many TTLs are probed at once: as many as the in-flight limit holds whole (`-N` over `-q`, or over the
    /// first MDA stopping point; at least one).
    fn window(&self) -> usize {
        let per_hop = if self.config.mda {
            crate::mda::probes_needed(self.config.confidence, 1)
        } else {
            usize::from(self.config.probes_per_hop)
        };
        self.config.max_in_flight.div_ceil(per_hop).max(1)
    }

    fn next_send_at(&self) -> Option<Instant> {
        let interval = self.config.send_interval;
        self.last_sent_at.filter(|_| !interval.is_zero()).map(|at| at + interval)
    }

    /// Corrects the send time of probe `id` to when it actually left (`poll_probe` assumed `now`).
    pub fn on_sent(&mut self, id: ProbeId, at: Instant) {
        if let Some(record) = self.record_mut(id) {
            record.sent_at = at;
        }
    }

    /// Records that probe `id` was too big for the local link, whose MTU is `mtu`. With path MTU discovery the
    /// probe is resent smaller; otherwise it counts as a failed send.
    pub fn send_too_big(&mut self, id: ProbeId, mtu: u32) {
        if self.record(id).is_none_or(|record| record.status != ProbeStatus::InFlight) {
            return;
        }
        let discover = self.resend_smaller(id, mtu);
        let Some(record) = self.record_mut(id) else {
            return;
        };
        record.status = ProbeStatus::TooBigLocally { mtu };
        record.superseded = discover;
        self.in_flight.retain(|&p| p != id);
        self.progress();
    }

    /// Whether probe `id`, too big for a link of `mtu`, is to be resent smaller — it was bigger than that and
    /// `mtu` is a legal size — and if so makes the following probes fit.
    fn resend_smaller(&mut self, id: ProbeId, mtu: u32) -> bool {
        let minimum = if self.config.target.is_ipv6() { 1280 } else { 68 };
        let Some(size) = self.record(id).map(|record| u32::from(record.size)) else {
            return false;
        };
        if !self.config.discover_mtu || mtu >= size || mtu < minimum {
            return false;
        }
        if mtu < u32::from(self.factory.packet_len()) {
            self.factory.set_packet_len(mtu as u16);
        }
        true
    }

    /// Records that probe `id` could not be sent: it will show as a failure, not a timeout.
    pub fn send_failed(&mut self, id: ProbeId) {
        if let Some(record) = self.record_mut(id) {
            if record.status == ProbeStatus::InFlight {
                record.status = ProbeStatus::SendFailed;
                self.in_flight.retain(|&p| p != id);
                self.progress();
            }
        }
    }

    /// Pushes in a reply received at `now`.
    pub fn handle_reply(&mut self, reply: Reply, now: Instant) -> Disposition {
        let disposition = self.match_reply(&reply);
        match disposition {
            Disposition::Accepted(id) => {
                self.stats.matched += 1;
                self.accept(id, reply, now);
            }
            Disposition::Duplicate(_) => self.stats.duplicates += 1,
            Disposition::Late(_) => self.stats.late += 1,
            Disposition::Unmatched => self.stats.unmatched += 1,
        }
        disposition
    }

    fn match_reply(&self, reply: &Reply) -> Disposition {
        let key = match &reply.kind {
            ReplyKind::IcmpError(error) => self.factory.key_of_quote(&error.quote),
            ReplyKind::EchoReply { .. } | ReplyKind::Tcp(_) => self.factory.key_of_answer(reply),
        };
        let by_key = key
            .and_then(|key| self.by_key.get(&key).copied())
            .filter(|&id| self.raw_fields_match(id, reply) && self.source_believed(id, reply));
        let Some(id) = by_key.or_else(|| self.match_by_ip_id(reply)) else {
            return Disposition::Unmatched;
        };
        match self.record(id).map(|record| &record.status) {
            Some(ProbeStatus::InFlight) => Disposition::Accepted(id),
            Some(ProbeStatus::Answered(_)) => Disposition::Duplicate(id),
            Some(_) => Disposition::Late(id),
            None => Disposition::Unmatched,
        }
    }

    /// Paris UDP identifies probes by checksum, which a middlebox may have changed in a way not turned back by
    /// [`probe::unrewritten`] (a NAT that restored the quoted address but not the checksum). With raw sockets the
    /// IP ID identifies the probe too: take it if the quote's destination and ports are that probe's. The quoted
    /// source is not checked: the IP ID is ours and the source port is reserved on every local address.
    fn match_by_ip_id(&self, reply: &Reply) -> Option<ProbeId> {
        let ReplyKind::IcmpError(error) = &reply.kind else { return None };
        if !self.config.raw_send || self.config.method != crate::Method::UdpParis {
            return None;
        }
        let QuotedProbe::Udp { src_port: quoted_src, dst_port: quoted_dst, .. } = error.quote.probe else {
            return None;
        };
        let id = self.factory.id_of_ip_id(error.quote.ip_id?, self.locations.len())?;
        if error.quote.dst != self.config.target {
            return None;
        }
        let (probe, _) = self.rebuild(id)?;
        let ProbeTransport::Udp { src_port, dst_port, .. } = probe.transport else { return None };
        ((quoted_src, quoted_dst) == (src_port, dst_port)).then_some(id)
    }

    /// A quote of our probe from another source address is a NAT's rewrite that it did not undo. Believe it only
    /// from raw sockets (an ordinary socket's error queue shows no quoted source: the net layer fills in ours) and
    /// where the probe is ours by more than ports and identifiers: the quoted IPv4 IP ID is checked as ours by
    /// [`Self::raw_fields_match`], and a quoted UDP checksum, turned back for the NAT's address, must be the one
    /// sent.
    fn source_believed(&self, id: ProbeId, reply: &Reply) -> bool {
        let ReplyKind::IcmpError(error) = &reply.kind else { return true };
        let (Some(quoted), Some(ours)) = (error.quote.src, self.config.source) else { return true };
        if quoted == ours {
            return true;
        }
        let checksum_ok = match error.quote.probe {
            QuotedProbe::Udp { checksum: Some(checksum), .. } => {
                self.sent_udp_checksum(id).is_some_and(|sent| sent == probe::unrewritten(checksum, quoted, ours))
            }
            _ => true,
        };
        self.config.raw_send && checksum_ok && (self.config.target.is_ipv6() || error.quote.ip_id.is_some())
    }

    /// Whether the quote in `reply` shows probe `id` altered on its way (another source address, or a UDP checksum
    /// other than the one sent): a NAT or other middlebox rewrote the probe and did not restore the quote.
    fn quote_rewritten(&self, id: ProbeId, reply: &Reply) -> bool {
        let ReplyKind::IcmpError(error) = &reply.kind else { return false };
        if matches!((error.quote.src, self.config.source), (Some(quoted), Some(ours)) if quoted != ours) {
            return true;
        }
        let QuotedProbe::Udp { checksum: Some(quoted), .. } = error.quote.probe else { return false };
        self.sent_udp_checksum(id).is_some_and(|sent| sent != quoted)
    }

    /// The UDP checksum probe `id` was sent with, if it can be rebuilt as sent.
    fn sent_udp_checksum(&self, id: ProbeId) -> Option<u16> {
        let (source, &(hop_index, index)) = (self.config.source?, self.locations.get(id.0 as usize)?);
        if self.hops[hop_index].probes[index].size != self.factory.packet_len() {
            return None; // built at another size (path MTU discovery): cannot be rebuilt as sent
        }
        let (probe, _) = self.rebuild(id)?;
        let sent = probe.transport_bytes(source, self.config.target);
        let field = sent.get(6..8)?;
        matches!(probe.transport, ProbeTransport::Udp { .. }).then(|| u16::from_be_bytes([field[0], field[1]]))
    }

    /// Probe `id` built again as it was sent (the size aside, which path MTU discovery may have changed since).
    fn rebuild(&self, id: ProbeId) -> Option<(Probe, MatchKey)> {
        let &(hop_index, index) = self.locations.get(id.0 as usize)?;
        let hop = self.hops.get(hop_index)?;
        Some(self.factory.build(id, hop.ttl, hop.probes.get(index)?.flow))
    }

    /// With raw sockets the IP ID and TCP sequence number are ours too: where a reply carries them, they must match.
    fn raw_fields_match(&self, id: ProbeId, reply: &Reply) -> bool {
        if !self.config.raw_send {
            return true;
        }
        match &reply.kind {
            ReplyKind::IcmpError(error) => {
                let ip_id_ok = error.quote.ip_id.is_none_or(|quoted| quoted == probe::ip_id(self.factory.sequence(id)));
                let seq_ok = match error.quote.probe {
                    QuotedProbe::Tcp { seq: Some(seq), .. } => seq == probe::tcp_seq(self.factory.sequence(id)),
                    _ => true,
                };
                ip_id_ok && seq_ok
            }
            ReplyKind::Tcp(answer) => {
                answer.ack.is_none_or(|ack| ack == probe::tcp_seq(self.factory.sequence(id)).wrapping_add(1))
            }
            ReplyKind::EchoReply { .. } => true,
        }
    }

    fn accept(&mut self, id: ProbeId, reply: Reply, now: Instant) {
        self.in_flight.retain(|&p| p != id);
        let target = self.config.target;
        let resend_smaller = match &reply.kind {
            ReplyKind::IcmpError(error) if error.class == ErrorClass::PacketTooBig => {
                error.mtu.is_some_and(|mtu| self.resend_smaller(id, mtu))
            }
            _ => false,
        };
        let quote_rewritten = self.quote_rewritten(id, &reply);
        let Some(record) = self.record_mut(id) else {
            return;
        };
        let answer = Answer { rtt: now.saturating_duration_since(record.sent_at), reply, quote_rewritten };
        let verdict = if resend_smaller { Verdict::Continue } else { answer.verdict(target) };
        record.status = ProbeStatus::Answered(answer);
        record.superseded = resend_smaller;
        let ttl = self.hops[self.locations[id.0 as usize].0].ttl;
        self.events.push_back(Event::Answered { id, ttl });
        if verdict != Verdict::Continue {
            self.stop_at(ttl, false);
        }
        self.progress();
    }

    /// The trace ends at `ttl`: probes beyond it are no longer needed.
    fn stop_at(&mut self, ttl: u8, by_gap: bool) {
        if self.stop_ttl.is_some_and(|stop| stop <= ttl) {
            return;
        }
        self.stop_ttl = Some(ttl);
        self.stopped_by_gap = by_gap;
        for hop in self.hops.iter_mut().filter(|hop| hop.ttl > ttl) {
            for record in &mut hop.probes {
                if record.status == ProbeStatus::InFlight {
                    record.status = ProbeStatus::Cancelled;
                    self.in_flight.retain(|&p| p != record.id);
                }
            }
        }
    }

    /// When [`Trace::handle_timeout`] should next be called, if anything is pending.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.outcome.is_some() {
            return None;
        }
        let give_up = self.in_flight.iter().filter_map(|&id| self.deadline(id)).min();
        let can_send = self.in_flight.len() < self.config.max_in_flight && self.next_slot().is_some();
        let send = self.next_send_at().filter(|_| can_send);
        give_up.into_iter().chain(send).min()
    }

    /// Gives up the probes whose wait has run out by `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let expired: Vec<ProbeId> =
            self.in_flight.iter().copied().filter(|&id| self.deadline(id).is_some_and(|at| at <= now)).collect();
        if expired.is_empty() {
            return;
        }
        for &id in &expired {
            let retry = self.may_retry(id);
            if let Some(record) = self.record_mut(id) {
                record.status = ProbeStatus::TimedOut;
                record.superseded = retry;
            }
        }
        self.in_flight.retain(|id| !expired.contains(id));
        self.progress();
    }

    /// Whether a lost probe `id` may be stood in for by another: its hop has retries left.
    fn may_retry(&self, id: ProbeId) -> bool {
        let Some(&(hop_index, _)) = self.locations.get(id.0 as usize) else {
            return false;
        };
        let hop = &self.hops[hop_index];
        let retried = hop.probes.iter().filter(|p| p.superseded && p.status == ProbeStatus::TimedOut).count();
        let in_scope = match self.config.retry_scope {
            RetryScope::AllHops => true,
            RetryScope::Lossy => {
                let farthest = self.farthest_answer();
                hop.is_answered()
                    || farthest.map_or(hop.ttl == self.config.first_ttl, |f| f.checked_add(1) == Some(hop.ttl))
            }
        };
        in_scope && retried < usize::from(self.config.retries) && self.stop_ttl.is_none_or(|stop| hop.ttl <= stop)
    }

    /// When probe `id` is given up, under the wait policy and the replies seen so far.
    fn deadline(&self, id: ProbeId) -> Option<Instant> {
        let &(hop_index, index) = self.locations.get(id.0 as usize)?;
        let hop = self.hops.get(hop_index)?;
        let is_retry = hop.probes[..index].iter().any(|p| p.superseded && p.status == ProbeStatus::TimedOut);
        Some(hop.probes.get(index)?.sent_at + self.wait_for(hop_index, is_retry))
    }

    /// The wait policy applied to a probe of hop `hop_index` (see [`crate::WaitPolicy`]).
    fn wait_for(&self, hop_index: usize, is_retry: bool) -> Duration {
        let policy = &self.config.wait;
        let first_rtt = |hop: &Hop| hop.answers().next().map(|answer| answer.rtt);
        // Factors are validated finite and non-negative; a product beyond any Duration is just "the longest".
        let scaled = |rtt: Duration, factor: f64| {
            Duration::try_from_secs_f64((rtt + WAIT_PRECISION).as_secs_f64() * factor).unwrap_or(policy.max)
        };
        let here =
            (policy.here > 0.0).then(|| first_rtt(&self.hops[hop_index])).flatten().map(|rtt| scaled(rtt, policy.here));
        let near = || {
            (policy.near > 0.0)
                .then(|| self.hops[hop_index + 1..].iter().find_map(first_rtt))
                .flatten()
                .map(|rtt| scaled(rtt, policy.near))
        };
        let tail =
            || {
                (policy.near > 0.0 && !policy.tail_floor.is_zero())
                    .then(|| self.hops[..hop_index].iter().rev().find_map(first_rtt))
                    .flatten()
                    // A retry comes after the first wait already covered hops farther than anything seen.
                    .map(|rtt| {
                        if is_retry {
                            scaled(rtt, policy.near)
                        } else {
                            scaled(rtt, policy.near).max(policy.tail_floor)
                        }
                    })
            };
        here.or_else(near).or_else(tail).map_or(policy.max, |wait| wait.min(policy.max))
    }

    /// Reports completed hops in order and decides whether the trace is over.
    fn progress(&mut self) {
        self.check_gap();
        let last_ttl = self.last_ttl();
        while let Some(hop) = self.hops.get(self.reported) {
            let all_sent = hop.current().count() >= self.wanted(self.reported);
            if hop.ttl > last_ttl || !all_sent || !hop.is_complete() || !self.next_hop_settled(self.reported) {
                break;
            }
            self.events.push_back(Event::HopComplete { ttl: hop.ttl });
            self.reported += 1;
        }
        let done =
            self.reported.checked_sub(1).and_then(|last| self.hops.get(last)).is_some_and(|hop| hop.ttl == last_ttl);
        if done && self.outcome.is_none() {
            let outcome = self.final_outcome(last_ttl);
            self.outcome = Some(outcome);
            self.in_flight.clear();
            self.events.push_back(Event::Finished(outcome));
        }
    }

    /// The gap limit: once that many TTLs past the farthest answer are complete and silent, the trace ends there.
    fn check_gap(&mut self) {
        let Some(gap) = self.config.gap_limit.filter(|_| self.stop_ttl.is_none()) else {
            return;
        };
        let farthest = self.farthest_answer();
        let silent = (0..self.hops.len())
            .skip_while(|&index| farthest.is_some_and(|farthest| self.hops[index].ttl <= farthest))
            .take_while(|&index| {
                let hop = &self.hops[index];
                hop.current().count() >= self.wanted(index) && hop.is_complete() && !hop.is_answered()
            })
            .count();
        if silent >= usize::from(gap) {
            let last = farthest.unwrap_or(self.config.first_ttl - 1).saturating_add(gap);
            self.stop_at(last, true);
        }
    }

    fn final_outcome(&self, last_ttl: u8) -> Outcome {
        if self.stopped_by_gap {
            return Outcome::GapLimit { ttl: last_ttl };
        }
        if self.stop_ttl.is_none() {
            return Outcome::MaxTtl;
        }
        let target = self.config.target;
        let reached = self
            .hops
            .iter()
            .filter(|hop| hop.ttl == last_ttl)
            .flat_map(Hop::answers)
            .any(|answer| answer.verdict(target) == Verdict::Reached);
        if reached {
            Outcome::Reached { ttl: last_ttl }
        } else {
            Outcome::Unreachable { ttl: last_ttl }
        }
    }

    /// The next event, if any.
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

    /// The hops probed so far, up to the TTL where the trace ends.
    pub fn hops(&self) -> &[Hop] {
        let last_ttl = self.last_ttl();
        let visible = self.hops.iter().take_while(|hop| hop.ttl <= last_ttl).count();
        &self.hops[..visible]
    }

    /// The record of probe `id`, if this trace sent it.
    pub fn probe(&self, id: ProbeId) -> Option<&ProbeRecord> {
        self.record(id)
    }

    /// What the engine did with replies so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// How many probes (not superseded) hop `index` needs: `probes_per_hop`, or with multipath discovery the MDA
    /// stopping point for what was seen so far — its own, or the next hop's if more (the flows the next hop is
    /// probed in are probed here too, to learn which interface each crossed).
    ///
    /// With multipath discovery hop `i` stands for flows `0..wanted`: a flow left without a standing probe (a lost
    /// one that may be retried) below the highest keeps the hop short until it is sent again.
    fn wanted(&self, index: usize) -> usize {
        if !self.config.mda {
            return usize::from(self.config.probes_per_hop);
        }
        let hop = &self.hops[index];
        let (previous, next) = crate::mda::neighbours(&self.hops, index);
        let highest = hop.current().map(|probe| usize::from(probe.flow) + 1).max().unwrap_or(0);
        crate::mda::stopping_point(self.config.confidence, previous, hop, next).max(highest)
    }

    /// With multipath discovery and several interfaces at hop `index`, whether the hop after it (whose needs decide
    /// how many flows `index` is probed in) has all it needs and every answer, or the trace ends at `index`. Always
    /// so otherwise.
    fn next_hop_settled(&self, index: usize) -> bool {
        let hop = &self.hops[index];
        if !self.config.mda || hop.responders().len() < 2 || hop.ttl >= self.last_ttl() {
            return true;
        }
        crate::mda::neighbours(&self.hops, index).1.is_some_and(|next| {
            next.is_complete()
                && next.current().count() >= crate::mda::flows_needed(self.config.confidence, Some(hop), next)
        })
    }

    /// The TTL the trace ends at, as far as is known: where it stopped, else the maximum.
    fn last_ttl(&self) -> u8 {
        self.stop_ttl.unwrap_or(self.config.max_ttl)
    }

    /// The highest TTL that got an answer.
    fn farthest_answer(&self) -> Option<u8> {
        self.hops.iter().rev().find(|hop| hop.is_answered()).map(|hop| hop.ttl)
    }

    fn record(&self, id: ProbeId) -> Option<&ProbeRecord> {
        let &(hop, index) = self.locations.get(id.0 as usize)?;
        self.hops.get(hop)?.probes.get(index)
    }

    fn record_mut(&mut self, id: ProbeId) -> Option<&mut ProbeRecord> {
        let &(hop, index) = self.locations.get(id.0 as usize)?;
        self.hops.get_mut(hop)?.probes.get_mut(index)
    }
}

/// The lowest flow none of `hop`'s standing probes is in: the next one, or the one a lost probe stood for.
fn first_free_flow(hop: &Hop) -> u16 {
    let used: std::collections::BTreeSet<u16> = hop.current().map(|probe| probe.flow).collect();
    (0..=u16::MAX).find(|flow| !used.contains(flow)).unwrap_or(u16::MAX)
}
