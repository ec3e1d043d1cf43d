//! The window of a trace: which TTL is probed next, how many probes each hop wants, and the pace multipath
//! discovery sets for a hop.

use std::time::Instant;

use super::Trace;
use crate::pace::budget_end;
use crate::result::{Hop, Verdict};

impl Trace {
    /// The TTL of the next probe and the index of its hop, if any probe is left to send: the lowest hop of the window
    /// short of probes (retries and resends fill earlier hops), else the next TTL in it. The window spans
    /// [`Self::window`] TTLs from the first hop not yet reported complete, as many as the in-flight limit holds
    /// whole, so that a path no longer than it is probed whole within one round trip.
    ///
    /// Within the window the probes go out TTL by TTL, all of one before the next, not the first probe of every TTL
    /// before the second of any: the whole window leaves at once either way, and a destination that limits its
    /// ICMP errors (Linux: a burst of 6) spends its burst on the probes it gets first — its own TTL's this way,
    /// rather than one of its own and the first of every TTL past it.
    ///
    /// A hop paced by multipath discovery waits its turn at `now` (`None`: whatever the pace).
    pub(super) fn next_slot(&self, now: Option<Instant>) -> Option<(u8, usize)> {
        let hops = self.log.hops();
        let mut short = self.short_hops();
        let ready =
            |index: usize| self.pace_next(index).is_none_or(|at| at.is_some_and(|at| now.is_none_or(|now| at <= now)));
        if let Some(index) = short.find(|&index| now.is_none() || ready(index)) {
            return Some((hops[index].ttl, index));
        }
        match hops.last() {
            None => Some((self.config.first_ttl, 0)),
            Some(hop) => hop.ttl.checked_add(1).filter(|&ttl| self.in_window(ttl)).map(|ttl| (ttl, hops.len())),
        }
    }

    /// The hops of the window short of probes, lowest first (hops already reported complete need nothing more).
    pub(super) fn short_hops(&self) -> impl Iterator<Item = usize> + '_ {
        let hops = self.log.hops();
        (self.reported..hops.len()).filter(move |&index| {
            self.in_window(hops[index].ttl)
                && (hops[index].current().count() < self.wanted(index) || self.repeat_flow(index).is_some())
        })
    }

    /// With multipath discovery, the flow hop `index` is to be probed in again once it has every flow it wants, if
    /// any (see [`crate::mda::per_packet`]).
    pub(super) fn repeat_flow(&self, index: usize) -> Option<u16> {
        let hop = self.log.hops().get(index).filter(|_| self.config.mda)?;
        if hop.current().count() < self.wanted(index) {
            return None;
        }
        crate::mda::per_packet::next_repeat(self.config.confidence, hop)
    }

    /// Whether `ttl` is in the window (see [`Self::next_slot`]): within the in-flight limit of the first hop not yet
    /// reported, and not past [`TraceConfig::known_distance`] while nothing says the path grew — with one probe a
    /// hop, one TTL past it, whose probe stands in for the destination's when that one is lost (else the round would
    /// wait the tail's long timeout there, [`crate::WaitPolicy::tail_floor`]: nothing answered beyond).
    ///
    /// [`TraceConfig::known_distance`]: crate::TraceConfig::known_distance
    pub(super) fn in_window(&self, ttl: u8) -> bool {
        let hops = self.log.hops();
        let first = match hops.get(self.reported) {
            Some(hop) => u16::from(hop.ttl),
            None => hops.last().map_or(u16::from(self.config.first_ttl), |hop| u16::from(hop.ttl) + 1),
        };
        ttl <= self.last_ttl()
            && u16::from(ttl) < first + self.window() as u16
            && self.config.known_distance.is_none_or(|distance| {
                let spare = u8::from(self.config.probes_per_hop < 2);
                ttl <= distance.saturating_add(spare) || self.grew(distance, first)
            })
    }

    /// Whether the path is longer than `distance`: its hop there was reported (silent, or a router: the trace
    /// goes on), or a router answered at or past it. `first` is the first TTL not yet reported.
    fn grew(&self, distance: u8, first: u16) -> bool {
        let target = self.config.target;
        first > u16::from(distance)
            || self
                .log
                .hops()
                .iter()
                .filter(|hop| hop.ttl >= distance)
                .any(|hop| hop.answers().any(|answer| answer.verdict(target) == Verdict::Continue))
    }

    /// How many TTLs are probed at once: as many as the in-flight limit holds whole (`-N` over `-q`, or over the
    /// first MDA stopping point; at least one).
    pub(super) fn window(&self) -> usize {
        let per_hop = if self.config.mda {
            crate::mda::probes_needed(self.config.confidence, 1)
        } else {
            usize::from(self.config.probes_per_hop)
        };
        self.config.max_in_flight.div_ceil(per_hop).max(1)
    }

    pub(super) fn next_send_at(&self) -> Option<Instant> {
        let interval = self.config.send_interval;
        self.last_sent_at.filter(|_| !interval.is_zero()).map(|at| at + interval)
    }

    /// How many probes (not resent) hop `index` needs: `probes_per_hop`, or with multipath discovery the MDA
    /// stopping point for what was seen so far — its own, or the next hop's if more (the flows the next hop is
    /// probed in are probed here too, to learn which interface each crossed).
    ///
    /// With multipath discovery hop `i` stands for flows `0..wanted`: a flow left without a standing probe (a lost
    /// one that may be retried) below the highest keeps the hop short until it is sent again.
    pub(super) fn wanted(&self, index: usize) -> usize {
        if !self.config.mda {
            return usize::from(self.config.probes_per_hop);
        }
        let hops = self.log.hops();
        let (previous, next) = crate::mda::neighbours(hops, index);
        let highest = hops[index].current().map(|probe| usize::from(probe.flow) + 1).max().unwrap_or(0);
        crate::mda::stopping_point(self.config.confidence, previous, &hops[index], next).max(highest)
    }

    /// With multipath discovery and several interfaces at hop `index`, whether the hop after it (whose needs decide
    /// how many flows `index` is probed in) has all it needs and every answer, or the trace ends at `index`. Always
    /// so otherwise.
    pub(super) fn next_hop_settled(&self, index: usize) -> bool {
        let hops = self.log.hops();
        let hop = &hops[index];
        if !self.config.mda || hop.responders().len() < 2 || hop.ttl >= self.last_ttl() {
            return true;
        }
        crate::mda::neighbours(hops, index).1.is_some_and(|next| {
            next.is_complete()
                && next.current().count() >= crate::mda::flows_needed(self.config.confidence, Some(hop), next)
        })
    }

    /// When hop `index` may next be probed, if multipath discovery paces it (see [`Pacer::next_at`]).
    pub(super) fn pace_next(&self, index: usize) -> Option<Option<Instant>> {
        let hop = &self.log.hops()[index];
        self.pacer.next_at(index, hop, budget_end(hop, self.config.mda_wait))
    }

    /// The TTL the trace ends at, as far as is known: where it stopped, else the maximum.
    pub(super) fn last_ttl(&self) -> u8 {
        self.stop.last_ttl(self.config.max_ttl)
    }
}

/// The lowest flow none of `hop`'s standing probes is in: the next one, or the one a lost probe stood for.
pub(super) fn first_free_flow(hop: &Hop) -> u16 {
    let used: std::collections::BTreeSet<u16> = hop.current().map(|probe| probe.flow).collect();
    (0..=u16::MAX).find(|flow| !used.contains(flow)).unwrap_or(u16::MAX)
}
