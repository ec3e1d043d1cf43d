//! What a simulated path is made of: routers, the destination, forged replies, and packets on the wire.

use core::net::IpAddr;
use core::time::Duration;
use std::time::Instant;

use packet::MplsLabel;

/// A router on the simulated path; the n-th router is TTL n.
#[derive(Debug, Clone, PartialEq)]
pub struct Router {
    /// Its address; several make an ECMP hop, chosen per flow.
    pub addrs: Vec<IpAddr>,
    /// Routers with the same non-zero group pick the same branch for a flow (one diamond).
    pub ecmp_group: u32,
    /// Picks its branch per packet, at random, not per flow (a per-packet load balancer before this hop): routers
    /// of its group still agree, per packet.
    pub per_packet: bool,
    /// Round-trip time from the tracer to this router.
    pub rtt: Duration,
    /// Sends no ICMP errors at all.
    pub silent: bool,
    /// Probability that a probe is lost on the link into this router.
    pub loss: f64,
    /// ICMP error rate limit.
    pub rate_limit: Option<RateLimit>,
    /// Rejects forwarded probes with this Destination Unreachable code (ICMPv4 or ICMPv6 numbering).
    pub reject: Option<u8>,
    /// MTU of the link leaving this router towards the destination.
    pub mtu: Option<u16>,
    /// Sends every reply twice.
    pub duplicate: bool,
    /// Delay added to its replies beyond its RTT (to make them late).
    pub extra_delay: Duration,
    /// How many bytes of the probe it quotes (Linux: up to 548; RFC 792 routers: IP header + 8).
    pub quote_len: usize,
    /// MPLS labels it reports in an RFC 4950 extension.
    pub mpls: Vec<MplsLabel>,
    /// Rewrites the source address of the probes it forwards to its own, as a NAT does (updating the checksums),
    /// and does not restore the quotes of the errors that come back (it does pass them, and the destination's
    /// answers, on to the tracer).
    pub nat: bool,
    /// Hops its replies take back to the tracer, when not the same as the way there (asymmetric routing). Replies
    /// start with TTL 64.
    pub hops_back: Option<u8>,
    tokens: f64,
    refilled_at: Option<Instant>,
}

/// A token bucket for ICMP errors, like Linux's `icmp_ratelimit`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Errors that may be sent at once.
    pub burst: u32,
    /// One more error allowed per interval.
    pub interval: Duration,
}

impl Router {
    /// An answering router at `addr` with round-trip time `rtt`.
    pub fn new(addr: IpAddr, rtt: Duration) -> Self {
        Router {
            addrs: vec![addr],
            ecmp_group: 0,
            per_packet: false,
            rtt,
            silent: false,
            loss: 0.0,
            rate_limit: None,
            reject: None,
            mtu: None,
            duplicate: false,
            extra_delay: Duration::ZERO,
            quote_len: 548,
            mpls: Vec::new(),
            hops_back: None,
            nat: false,
            tokens: 0.0,
            refilled_at: None,
        }
    }

    /// Whether its rate limit lets it send an error at `now` (and spends a token if so).
    pub(super) fn may_send_error(&mut self, now: Instant) -> bool {
        take_token(self.rate_limit, &mut self.tokens, &mut self.refilled_at, now)
    }
}

/// Whether the token bucket of `limit` (holding `tokens`, last refilled at `refilled_at`) lets an error out at
/// `now`, spending a token if so.
fn take_token(limit: Option<RateLimit>, tokens: &mut f64, refilled_at: &mut Option<Instant>, now: Instant) -> bool {
    let Some(limit) = limit else {
        return true;
    };
    let refill = match *refilled_at {
        None => f64::from(limit.burst),
        Some(at) => now.saturating_duration_since(at).as_secs_f64() / limit.interval.as_secs_f64(),
    };
    *tokens = (*tokens + refill).min(f64::from(limit.burst));
    *refilled_at = Some(now);
    if *tokens >= 1.0 {
        *tokens -= 1.0;
        true
    } else {
        false
    }
}

/// The destination host.
#[derive(Debug, Clone, PartialEq)]
pub struct Destination {
    /// Its address.
    pub addr: IpAddr,
    /// Round-trip time from the tracer.
    pub rtt: Duration,
    /// Answers UDP probes with Port Unreachable.
    pub answers_udp: bool,
    /// Answers Echo Requests.
    pub answers_icmp: bool,
    /// Answers TCP SYNs (SYN-ACK when `tcp_open`, else RST).
    pub answers_tcp: bool,
    /// Whether the probed TCP port is open.
    pub tcp_open: bool,
    /// ICMP error (Port Unreachable) rate limit.
    pub rate_limit: Option<RateLimit>,
    pub(super) tokens: f64,
    pub(super) refilled_at: Option<Instant>,
}

impl Destination {
    /// Whether its rate limit lets it send an error at `now` (and spends a token if so).
    pub(super) fn may_send_error(&mut self, now: Instant) -> bool {
        take_token(self.rate_limit, &mut self.tokens, &mut self.refilled_at, now)
    }
}

/// A reply in flight back to the tracer, as a raw socket would deliver it: a whole IPv4 packet, or for IPv6 the
/// ICMPv6/TCP message with the source address and hop limit the kernel reports beside it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Wire {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// For IPv6: the sender and the hop limit.
    pub v6_meta: Option<(IpAddr, u8, u8)>,
}

/// A forged or stray ICMP error sent for each probe at a chosen TTL: it quotes the probe with `mutate` applied
/// to the quoted bytes (IP header first), from a chosen address, ahead of any real reply.
pub struct Forgery {
    /// The forger's address.
    pub from: IpAddr,
    /// Forge for probes with this TTL.
    pub ttl: u8,
    /// Alters the quoted probe.
    pub mutate: fn(&mut Vec<u8>),
}

impl core::fmt::Debug for Forgery {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Forgery").field("from", &self.from).field("ttl", &self.ttl).finish()
    }
}
