//! What a trace found: per TTL, per probe.

use core::net::IpAddr;
use core::time::Duration;
use std::time::Instant;

use crate::probe::ProbeId;
use crate::reply::{IcmpError, Reply, ReplyKind};

/// One TTL of the trace and its probes, in the order they were sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Hop {
    /// The TTL the probes were sent with.
    pub ttl: u8,
    /// The probes sent (or still to send) with this TTL.
    pub probes: Vec<ProbeRecord>,
}

impl Hop {
    /// Whether every probe of this hop has an outcome.
    pub fn is_complete(&self) -> bool {
        self.probes.iter().all(|p| p.status.is_resolved())
    }

    /// The distinct responders of the probes standing for this hop (not resent), in order of first answer.
    pub fn responders(&self) -> Vec<IpAddr> {
        let mut responders = Vec::new();
        for answer in self.current().filter_map(|probe| probe.status.answer()) {
            if !responders.contains(&answer.from()) {
                responders.push(answer.from());
            }
        }
        responders
    }

    /// Whether any probe of this hop was answered.
    pub fn is_answered(&self) -> bool {
        self.probes.iter().any(|p| p.status.answer().is_some())
    }

    /// The probes that stand for this hop: all but those another probe was sent in place of.
    pub fn current(&self) -> impl Iterator<Item = &ProbeRecord> {
        self.probes.iter().filter(|p| p.resent.is_none())
    }

    /// The answers received at this hop (those of resent probes included).
    pub fn answers(&self) -> impl Iterator<Item = &Answer> {
        self.probes.iter().filter_map(|p| p.status.answer())
    }
}

/// One probe and what became of it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeRecord {
    /// The probe.
    pub id: ProbeId,
    /// When it was sent.
    pub sent_at: Instant,
    /// Its size: the IP packet, headers included.
    pub size: u16,
    /// Its flow: with multipath discovery the i-th probe of every hop is flow i; otherwise the trace's flow.
    pub flow: u16,
    /// What became of it.
    pub status: ProbeStatus,
    /// Whether a later probe at the same TTL stands in for it, and why (or that it is a repeat, standing for no
    /// flow). Views of the hop's probes usually skip
    /// such a probe.
    pub resent: Option<Resend>,
}

/// Why another probe was sent in place of one (or beside it: [`Resend::Repeat`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Resend {
    /// It was lost, and its hop had a retry left.
    Retry,
    /// It was too big for a link on the way (or the local one), and path MTU discovery sent it again at the size
    /// the link allows.
    Smaller,
    /// Not a stand-in: a second probe in the flow of an earlier one at a hop of several interfaces, to tell a
    /// per-packet load balancer before it (see [`crate::mda::per_packet`]). It never stands for its flow.
    Repeat,
}

impl ProbeRecord {
    /// Who answered it, if anyone did.
    pub fn responder(&self) -> Option<IpAddr> {
        self.status.answer().map(Answer::from)
    }
}

/// What became of a probe.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ProbeStatus {
    /// Sent, no reply yet, not yet given up.
    InFlight,
    /// A reply was matched to it.
    Answered(Answer),
    /// No reply within its wait (`*`).
    TimedOut,
    /// The socket refused to send it.
    SendFailed,
    /// Too big for the local link: the kernel refused it and told this MTU.
    TooBigLocally {
        /// The MTU of the route out.
        mtu: u32,
    },
    /// Given up unanswered because the trace ended at a lower TTL.
    Cancelled,
}

impl ProbeStatus {
    /// Whether the probe has an outcome (anything but in flight).
    pub fn is_resolved(&self) -> bool {
        !matches!(self, ProbeStatus::InFlight)
    }

    /// The answer, if one was matched.
    pub fn answer(&self) -> Option<&Answer> {
        match self {
            ProbeStatus::Answered(answer) => Some(answer),
            _ => None,
        }
    }
}

/// A reply matched to a probe.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// Round-trip time.
    pub rtt: Duration,
    /// The reply, as pushed in.
    pub reply: Reply,
    /// The quoted probe differs from what was sent (its UDP checksum): a NAT or other middlebox on the way
    /// rewrote it and did not restore the quote.
    pub quote_rewritten: bool,
    /// Nothing unpredictable vouches for the match beyond one 16-bit field (an 8-byte quote on an ordinary
    /// socket, say): a forger sweeping that field could have made it. Shown as such.
    pub unverified: bool,
}

impl Answer {
    /// Who answered.
    pub fn from(&self) -> IpAddr {
        self.reply.from
    }

    /// The ICMP error, when the answer was one.
    pub fn icmp_error(&self) -> Option<&IcmpError> {
        match &self.reply.kind {
            ReplyKind::IcmpError(error) => Some(error),
            _ => None,
        }
    }
}

/// What an answer means for the trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// A router on the way: go on.
    Continue,
    /// The destination answered: the trace ends at this TTL.
    Reached,
    /// An unreachable ended the trace at this TTL.
    Unreachable,
}

/// How a trace ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The destination answered at this TTL.
    Reached {
        /// The destination's distance in hops.
        ttl: u8,
    },
    /// A Destination Unreachable (or Packet Too Big) ended the trace at this TTL.
    Unreachable {
        /// The TTL that got the unreachable.
        ttl: u8,
    },
    /// The maximum TTL was probed without reaching the destination.
    MaxTtl,
    /// The gap limit: the TTLs up to this one were silent past the farthest answer, so the trace stopped.
    GapLimit {
        /// The last TTL probed.
        ttl: u8,
    },
}

/// Counters of what the engine did with replies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Probes sent.
    pub sent: u32,
    /// Replies matched to a probe in flight.
    pub matched: u32,
    /// Replies that matched no probe of this trace (strays, forgeries, other traces).
    pub unmatched: u32,
    /// Replies for probes already given up.
    pub late: u32,
    /// Second and later replies for one probe.
    pub duplicates: u32,
    /// Of the unmatched, errors that quote too little of a Paris UDP probe to tell which it was: the UDP header
    /// alone (a router quoting 8 bytes), whose checksum an ordinary socket's error queue does not give back.
    pub short_quotes: u32,
}

/// Something the caller may want to act on at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A probe was handed out by [`crate::Trace::poll_probe`] (its send time is corrected by `on_sent`).
    ProbeSent {
        /// The probe.
        id: ProbeId,
        /// Its TTL.
        ttl: u8,
    },
    /// A reply was matched to a probe in flight and recorded: its hop shows it now.
    Answered {
        /// The probe answered.
        id: ProbeId,
        /// Its TTL.
        ttl: u8,
    },
    /// Every probe at this TTL and below has an outcome: the hop can be printed.
    HopComplete {
        /// The hop's TTL.
        ttl: u8,
    },
    /// The trace is over.
    Finished(Outcome),
}
