//! Where a trace stops: what an answer means ([`Answer::verdict`]), the TTL the trace ends at, the gap limit, and
//! how it ended.

use core::net::IpAddr;

use crate::reply::{ErrorClass, ReplyKind, Unreachable};
use crate::result::{Answer, Hop, Outcome, ProbeStatus, Verdict};

impl Answer {
    /// What this answer means for a trace to `target`. Only what is plausible ends it: the destination's own
    /// answers, and unreachables of a known meaning (a Port Unreachable from another address than the target's —
    /// a host that answers for a whole range — ends it too, as in traceroute); an unknown code, or a Packet Too Big
    /// with an MTU no link may have (IPv6: below 1280; IPv4: below 68, where 0 is an old router's "unknown"), is
    /// shown and probed past.
    pub fn verdict(&self, target: IpAddr) -> Verdict {
        match &self.reply.kind {
            ReplyKind::EchoReply { .. } | ReplyKind::Tcp(_) => Verdict::Reached,
            ReplyKind::IcmpError(error) => match error.class {
                ErrorClass::TimeExceeded | ErrorClass::Unreachable(Unreachable::Other) => Verdict::Continue,
                ErrorClass::Unreachable(Unreachable::Port | Unreachable::Protocol) if self.reply.from == target => {
                    Verdict::Reached
                }
                ErrorClass::PacketTooBig if !plausible_mtu(error.mtu, target.is_ipv6()) => Verdict::Continue,
                ErrorClass::Unreachable(_) | ErrorClass::PacketTooBig => Verdict::Unreachable,
            },
        }
    }
}

/// Whether a Packet Too Big's `mtu` is one a link may have.
fn plausible_mtu(mtu: Option<u32>, ipv6: bool) -> bool {
    match (mtu, ipv6) {
        (Some(mtu), true) => mtu >= 1280,
        (None, true) => false,
        (Some(mtu), false) => mtu >= 68,
        (None, false) => true,
    }
}

/// Where the trace ends, as far as is known.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Stop {
    /// The lowest TTL at which the destination answered, an unreachable ended the trace, or the gap limit struck.
    ttl: Option<u8>,
    /// Whether it was the gap limit.
    by_gap: bool,
}

impl Stop {
    /// The TTL the trace ends at: where it stopped, else `max_ttl`.
    pub(crate) fn last_ttl(&self, max_ttl: u8) -> u8 {
        self.ttl.unwrap_or(max_ttl)
    }

    /// Whether the trace is known to end somewhere short of the maximum TTL.
    pub(crate) fn is_known(&self) -> bool {
        self.ttl.is_some()
    }

    /// Ends the trace at `ttl` (by the gap limit, or not) unless it already ends at or below it; whether it moved.
    pub(crate) fn stop_at(&mut self, ttl: u8, by_gap: bool) -> bool {
        if self.ttl.is_some_and(|stop| stop <= ttl) {
            return false;
        }
        *self = Stop { ttl: Some(ttl), by_gap };
        true
    }

    /// The gap limit: once `gap` TTLs past the farthest answer (`farthest`) are settled and silent, the TTL the
    /// trace ends at. `settled(index)` says whether hop `index` of `hops` has all its probes and their outcomes.
    pub(crate) fn gap_end(
        gap: u8,
        first_ttl: u8,
        hops: &[Hop],
        farthest: Option<u8>,
        settled: impl Fn(usize) -> bool,
    ) -> Option<u8> {
        let silent = (0..hops.len())
            .skip_while(|&index| farthest.is_some_and(|farthest| hops[index].ttl <= farthest))
            // A TTL with a probe that could not be sent is no evidence of silence: it ends the count.
            .take_while(|&index| {
                settled(index)
                    && !hops[index].is_answered()
                    && hops[index].probes.iter().all(|probe| probe.status != ProbeStatus::SendFailed)
            })
            .count();
        (silent >= usize::from(gap)).then(|| farthest.unwrap_or(first_ttl - 1).saturating_add(gap))
    }

    /// How the trace ended, its hops reported up to `last_ttl`.
    pub(crate) fn outcome(&self, hops: &[Hop], target: IpAddr, last_ttl: u8) -> Outcome {
        if self.by_gap {
            return Outcome::GapLimit { ttl: last_ttl };
        }
        if self.ttl.is_none() {
            return Outcome::MaxTtl;
        }
        let reached = hops
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
}
