//! What a trace is asked to do.

use core::fmt;
use core::net::IpAddr;
use core::time::Duration;

/// Ports a classic method moves through, one per probe, before it starts over: more than any one trace sends, so
/// that its probes never share a port, and few enough that the ports stay in their range whatever the sequence.
pub const PORT_WINDOW: u32 = 4096;

/// The most flows one hop is probed in with multipath discovery: where the rule would need more (an interface
/// that gets a tiny share of the flows), the hop stops here.
pub const MAX_FLOWS: usize = 256;

/// The protocol probes are carried in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// UDP datagrams: classic probes are told apart by their destination port (one more per probe, as
    /// `traceroute(8)`), Paris probes by their UDP checksum, which the payload is crafted to produce.
    Udp,
    /// ICMP (ICMPv6) echo requests, told apart by their sequence number; Paris probes keep the ICMP checksum (the
    /// flow) constant, the payload compensating for the sequence number.
    Icmp,
    /// TCP SYNs: classic probes are told apart by their source port, Paris probes (raw sockets only) by their
    /// sequence number.
    Tcp,
}

/// How probes are built and told apart: a protocol, and whether the flow stays the same for every probe of the
/// trace (Paris) or changes with each (classic).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Method {
    /// The protocol.
    pub protocol: Protocol,
    /// Paris: one flow (5-tuple, or ICMP checksum) for the whole trace.
    pub paris: bool,
}

impl Method {
    /// Classic probing with `protocol`: a new flow per probe, as `traceroute(8)`.
    pub const fn classic(protocol: Protocol) -> Self {
        Method { protocol, paris: false }
    }

    /// Paris probing with `protocol`: one flow for the whole trace.
    pub const fn paris(protocol: Protocol) -> Self {
        Method { protocol, paris: true }
    }

    /// The IP protocol the probes are carried in, for the given family.
    pub fn ip_protocol(self, ipv6: bool) -> packet::IpProtocol {
        match self.protocol {
            Protocol::Udp => packet::IpProtocol::Udp,
            Protocol::Tcp => packet::IpProtocol::Tcp,
            Protocol::Icmp if ipv6 => packet::IpProtocol::Icmpv6,
            Protocol::Icmp => packet::IpProtocol::Icmp,
        }
    }

    /// Whether probes are TCP SYNs.
    pub fn is_tcp(self) -> bool {
        self.protocol == Protocol::Tcp
    }

    /// Bytes of IP and transport header in front of a probe's payload, in the given family.
    pub fn header_len(self, ipv6: bool) -> u16 {
        let ip = if ipv6 { 40 } else { 20 };
        let transport = if self.is_tcp() { 24 } else { 8 };
        ip + transport
    }

    /// The payload of a probe `len` bytes long, headers included, as far as the method allows: TCP SYNs carry
    /// none, Paris probes at least the 2 bytes that set their checksum.
    pub(crate) fn payload_len(self, ipv6: bool, len: u16) -> u16 {
        let least = if self.is_paris() { 2 } else { 0 };
        if self.is_tcp() {
            0
        } else {
            len.saturating_sub(self.header_len(ipv6)).max(least)
        }
    }

    /// Whether the flow identifier stays constant across every probe of the trace.
    pub fn is_paris(self) -> bool {
        self.paris
    }
}

/// How sure MDA is to be, at each hop, that no next hop was missed: its stopping points grow with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Confidence {
    /// 95 %, as scamper and Paris traceroute have it.
    #[default]
    Percent95,
    /// 99 %.
    Percent99,
    /// 99.9 %.
    Percent99_9,
}

impl Confidence {
    /// Every level, lowest first.
    pub const ALL: [Confidence; 3] = [Confidence::Percent95, Confidence::Percent99, Confidence::Percent99_9];

    /// The level written as a percentage (`95`, `99`, `99.9`), if it is one of [`Confidence::ALL`].
    pub fn from_percent(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|level| level.to_string() == text.trim())
    }

    /// The chance of a missed next hop allowed at each hop (α).
    pub fn failure(self) -> f64 {
        match self {
            Confidence::Percent95 => 0.05,
            Confidence::Percent99 => 0.01,
            Confidence::Percent99_9 => 0.001,
        }
    }

    /// The level as a percentage.
    pub fn percent(self) -> f64 {
        match self {
            Confidence::Percent95 => 95.0,
            Confidence::Percent99 => 99.0,
            Confidence::Percent99_9 => 99.9,
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.percent())
    }
}

/// How long to wait for a probe's reply: `traceroute(8)`'s `-w MAX,HERE,NEAR`, and a rule of ours for the tail.
///
/// A probe is given up after `here` times the RTT of a reply already seen from the same hop, else after `near`
/// times the RTT of a reply from the nearest farther hop (traceroute's rules); else, past the farthest answer,
/// after `near` times the RTT of the farthest answer but no less than `tail_floor`; else after `max`. Never more
/// than `max`. A factor of 0 disables its rule; a zero `tail_floor` disables the tail rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaitPolicy {
    /// The longest wait for any probe.
    pub max: Duration,
    /// Multiple of a same-hop reply's RTT.
    pub here: f64,
    /// Multiple of a farther hop's reply RTT.
    pub near: f64,
    /// The shortest wait past the farthest answer, where hops may simply be farther than anything seen.
    pub tail_floor: Duration,
}

impl WaitPolicy {
    /// `traceroute(8)`'s rules alone: MAX, HERE and NEAR, no tail rule.
    pub fn traceroute(max: Duration, here: f64, near: f64) -> Self {
        WaitPolicy { max, here, near, tail_floor: Duration::ZERO }
    }
}

impl Default for WaitPolicy {
    /// 5 s and 3× as `traceroute(8)`; NEAR 3× rather than its 10× (measured in the lab bench: a silent hop between
    /// answering ones then costs a third of the time, and no answering hop was lost); 1.1 s past the farthest
    /// answer, long enough for a Linux host's ICMP rate limit (one error a second after a burst) to allow one more.
    fn default() -> Self {
        WaitPolicy { max: Duration::from_secs(5), here: 3.0, near: 3.0, tail_floor: Duration::from_millis(1100) }
    }
}

/// Which lost probes get another try (up to [`TraceConfig::retries`] per hop).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryScope {
    /// Every hop: each TTL gets its tries, as tracepath does.
    AllHops,
    /// Lossy hops (hops that answered other probes), and the first silent TTL past the farthest answer, where a
    /// destination whose ICMP rate limit is spent stays silent until its budget refills.
    Lossy,
}

/// Everything the engine needs to know to run one trace.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceConfig {
    /// The host being traced.
    pub target: IpAddr,
    /// The local address probes leave from, when known. Paris UDP needs it (the checksum covers it); when set,
    /// quoted probes must carry it.
    pub source: Option<IpAddr>,
    /// How probes are built.
    pub method: Method,
    /// The first TTL probed (`-f`).
    pub first_ttl: u8,
    /// The last TTL probed (`-m`).
    pub max_ttl: u8,
    /// Probes sent per TTL (`-q`).
    pub probes_per_hop: u8,
    /// Probes in flight at once (`-N`). As many TTLs as the limit holds whole are probed at once, so a path of up to
    /// `max_in_flight / probes_per_hop` hops is probed whole within one round trip.
    pub max_in_flight: usize,
    /// Minimal time between two probes (`-z`).
    pub send_interval: Duration,
    /// When a probe is given up.
    pub wait: WaitPolicy,
    /// Source port (UDP, UDP Paris; the first source port for TCP).
    pub src_port: u16,
    /// Destination port (the first one for classic UDP, which adds one per probe).
    pub dst_port: u16,
    /// ICMP echo identifier.
    pub icmp_ident: u16,
    /// Size asked for each probe's IP packet, headers included (`packet_len`). Probes are at most 65535 bytes: a
    /// larger IPv6 size is first checked against the local link's MTU ([`crate::Trace::oversized`]).
    pub packet_len: u32,
    /// Path MTU discovery (`--mtu`, tracepath): a probe that is too big for a link is resent at the same TTL with
    /// the size the link allows, instead of ending the trace.
    pub discover_mtu: bool,
    /// How many extra probes a hop may get to stand in for lost ones.
    pub retries: u8,
    /// Which hops get them.
    pub retry_scope: RetryScope,
    /// Stop after this many consecutive silent TTLs past the farthest answer (`None`: probe up to `max_ttl`).
    pub gap_limit: Option<u8>,
    /// Where probes' identifying numbers (ports, sequence numbers, checksums) start counting: a trace that follows
    /// another over the same sockets starts past the previous one's, so late replies cannot match.
    pub sequence_start: u32,
    /// The flow of every probe, for Paris methods without multipath discovery: traces with different flows may take
    /// different branches of a per-flow load balancer (report mode cycles through flows).
    pub flow: u16,
    /// Multipath discovery (MDA): probe each hop with as many flows as it takes to see, at [`Self::confidence`], every
    /// next hop a per-flow load balancer may choose (6, 11, 16, 21, 27, 33… probes for 1, 2, 3, 4, 5, 6… responders
    /// seen), instead of `probes_per_hop`. Needs a Paris method: the flow of the i-th probe of every hop is flow i.
    pub mda: bool,
    /// The key of the fields that identify probes (IPv4 ID, sequence numbers, checksums, part of the payload):
    /// keyed pseudo-random permutations of the probe number, unpredictable without it. Draw it at random for every
    /// run; the default (zeros) is for deterministic tests.
    pub secret: [u8; 16],
    /// How sure multipath discovery is to be that no next hop was missed at each hop: its stopping points.
    pub confidence: Confidence,
    /// How long multipath discovery keeps re-probing, from a hop's first probe, the flows a rate-limited hop left
    /// unanswered (paced to the limiter's refill); a hop whose rule is not met by then is left not settled.
    pub mda_wait: Duration,
    /// Whether probes go out through raw sockets, so their IPv4 ID and TCP sequence number are the engine's:
    /// then quotes and TCP answers must carry them too.
    pub raw_send: bool,
    /// The destination's distance when it is known (the monitor's last round's): probes go no farther (one TTL
    /// farther with one probe a hop) until an answer at or past that TTL (or its silence) shows the path grew, as
    /// mtr stops at the last hop it found. Not for report rounds a second or less apart: a destination that limits
    /// its errors falls silent there, and the rate-limit rule reads its pace from the probes sent past it.
    pub known_distance: Option<u8>,
}

impl TraceConfig {
    /// A configuration with `traceroute(8)`'s defaults for `target` and `method`.
    pub fn new(target: IpAddr, method: Method) -> Self {
        let ipv6 = target.is_ipv6();
        TraceConfig {
            target,
            source: None,
            method,
            first_ttl: 1,
            max_ttl: 30,
            probes_per_hop: 3,
            max_in_flight: 48, // 16 hops of 3 probes, all in one round trip
            send_interval: Duration::ZERO,
            wait: WaitPolicy::default(),
            src_port: 33433,
            dst_port: if method.is_tcp() { 80 } else { 33434 },
            icmp_ident: 0x4854,
            packet_len: if ipv6 { 80 } else { 60 },
            raw_send: false,
            secret: [0; 16],
            flow: 0,
            mda: false,
            confidence: Confidence::default(),
            mda_wait: Duration::from_secs(60),
            sequence_start: 0,
            discover_mtu: false,
            retries: 0,
            retry_scope: RetryScope::Lossy,
            gap_limit: None,
            known_distance: None,
        }
    }

    /// The size of the probes a trace of this configuration sends first, IP header included: `packet_len` raised
    /// to the method's least (its headers, and a Paris probe's 2 checksum bytes), or TCP's fixed SYN.
    pub fn probe_len(&self) -> u16 {
        let ipv6 = self.target.is_ipv6();
        self.method.header_len(ipv6).saturating_add(self.method.payload_len(ipv6, self.largest_probe()))
    }

    /// `packet_len`, cut to the largest probe (65535 bytes).
    pub(crate) fn largest_probe(&self) -> u16 {
        u16::try_from(self.packet_len).unwrap_or(u16::MAX)
    }

    /// Checks the configuration for values the engine cannot work with.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.first_ttl == 0 {
            return Err(ConfigError::FirstTtlZero);
        }
        if self.first_ttl > self.max_ttl {
            return Err(ConfigError::FirstTtlAboveMax);
        }
        if self.probes_per_hop == 0 {
            return Err(ConfigError::NoProbes);
        }
        if self.max_in_flight == 0 {
            return Err(ConfigError::NothingInFlight);
        }
        if let Some(source) = self.source {
            if source.is_ipv6() != self.target.is_ipv6() {
                return Err(ConfigError::MixedFamilies);
            }
        }
        let checksum_covers_source = self.method.paris
            && match self.method.protocol {
                Protocol::Udp => true,
                Protocol::Icmp => self.target.is_ipv6(),
                Protocol::Tcp => false,
            };
        if checksum_covers_source && self.source.is_none() {
            return Err(ConfigError::ParisNeedsSource);
        }
        if self.method == Method::paris(Protocol::Tcp) && !self.raw_send {
            return Err(ConfigError::ParisTcpNeedsRaw);
        }
        if self.mda && !self.method.is_paris() {
            return Err(ConfigError::MdaNeedsParis);
        }
        // The port a classic method or a flow moves furthest from the configured one.
        let port_span = if self.method.is_paris() { MAX_FLOWS as u32 } else { PORT_WINDOW };
        let moving_port = if self.method.is_tcp() { self.src_port } else { self.dst_port };
        if self.method.protocol != Protocol::Icmp && u32::from(moving_port) + port_span > 65_535 {
            return Err(ConfigError::PortTooHigh);
        }
        let factor_ok = |factor: f64| factor.is_finite() && factor >= 0.0;
        if !(factor_ok(self.wait.here) && factor_ok(self.wait.near)) {
            return Err(ConfigError::BadWaitFactor);
        }
        Ok(())
    }
}

/// Why a [`TraceConfig`] was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The first TTL is 0.
    FirstTtlZero,
    /// The first TTL is above the maximum.
    FirstTtlAboveMax,
    /// Zero probes per hop.
    NoProbes,
    /// Zero probes allowed in flight.
    NothingInFlight,
    /// The source and target addresses are of different families.
    MixedFamilies,
    /// Paris UDP (and Paris ICMPv6) needs the source address to craft its checksums.
    ParisNeedsSource,
    /// Paris TCP sets sequence numbers, which only raw sockets can.
    ParisTcpNeedsRaw,
    /// Multipath discovery varies the flow deliberately, which classic methods do by accident.
    MdaNeedsParis,
    /// The ports probes move through would pass 65535.
    PortTooHigh,
    /// A wait factor is negative, infinite or not a number.
    BadWaitFactor,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConfigError::FirstTtlZero => "first hop out of range",
            ConfigError::FirstTtlAboveMax => "first hop out of range",
            ConfigError::NoProbes => "no probes per hop",
            ConfigError::NothingInFlight => "no probes allowed in flight",
            ConfigError::MixedFamilies => "source and destination are of different address families",
            ConfigError::ParisNeedsSource => "Paris probing needs the source address",
            ConfigError::ParisTcpNeedsRaw => "Paris TCP needs raw sockets (root or CAP_NET_RAW)",
            ConfigError::MdaNeedsParis => "multipath discovery needs a Paris method",
            ConfigError::PortTooHigh => "port too high: probes would run past 65535",
            ConfigError::BadWaitFactor => "bad wait specifications",
        })
    }
}

impl std::error::Error for ConfigError {}
