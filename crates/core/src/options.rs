//! What a trace is asked to do, with the command line's defaults, and the one place that turns it into the
//! engine's configuration: the method policy (what Paris means per protocol and privilege) lives here.

use core::time::Duration;

pub use engine::Protocol;
use engine::{Confidence, Method, RetryScope, TraceConfig, WaitPolicy};
use net::SocketOptions;

/// Whether the flow stays the same for every probe of a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Flows {
    /// Paris wherever it identifies probes robustly: ICMP always, UDP and TCP with raw sockets. (Unprivileged UDP
    /// stays classic: the error queue gives back only what a router quoted after the UDP header, and routers that
    /// quote just 8 bytes would leave Paris probes unidentifiable.)
    Auto,
    /// Paris: one flow for the whole trace (`--paris`).
    Paris,
    /// Classic: a new flow per probe, as traceroute(8) (`--classic`).
    Classic,
}

/// Which address family to trace in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Family {
    /// The host's first address, whichever its family.
    #[default]
    Any,
    /// IPv4 only (`-4`).
    V4,
    /// IPv6 only (`-6`).
    V6,
}

impl Family {
    /// `Some(true)` for IPv6 only, `Some(false)` for IPv4 only, `None` for either.
    pub fn ipv6(self) -> Option<bool> {
        match self {
            Family::Any => None,
            Family::V4 => Some(false),
            Family::V6 => Some(true),
        }
    }

    /// Whether `addr` is of this family.
    pub fn admits(self, addr: core::net::IpAddr) -> bool {
        match self {
            Family::Any => true,
            Family::V4 => addr.is_ipv4(),
            Family::V6 => addr.is_ipv6(),
        }
    }
}

/// Which sockets probes go through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Privilege {
    /// Raw sockets when this process may open them (root or `CAP_NET_RAW`), else ordinary ones.
    #[default]
    Auto,
    /// Raw sockets, or an error saying why not.
    Raw,
    /// Ordinary sockets even when raw ones are allowed (`--unprivileged`): UDP and TCP with the error queue, ICMP
    /// through ping sockets.
    Unprivileged,
}

/// What a command can probe through when the choice is left to it ([`Privilege::Auto`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Want {
    /// A trace: raw sockets when this process may open them (they see every reply), else ordinary ones.
    PreferRaw,
    /// The monitor: ordinary sockets first (one socket set shared by every target reads only its own replies),
    /// raw ones where those cannot be opened.
    PreferOrdinary,
    /// Bulk probing: raw sockets only (its probes leave by a packet socket).
    RawOnly,
}

impl Privilege {
    /// The sockets to try, in order, for a command that `want`s them so: [`Privilege::Raw`] or
    /// [`Privilege::Unprivileged`], never `Auto`; none if nothing will do (raw only, and this process may not open
    /// raw sockets or was told not to). The one place that decides.
    pub fn decide(self, want: Want) -> Option<&'static [Privilege]> {
        self.decide_with(want, net::Privilege::detect() == net::Privilege::Raw)
    }

    /// [`Privilege::decide`] for a process that may open raw sockets (`raw_allowed`) or not.
    fn decide_with(self, want: Want, raw_allowed: bool) -> Option<&'static [Privilege]> {
        const RAW: &[Privilege] = &[Privilege::Raw];
        const ORDINARY: &[Privilege] = &[Privilege::Unprivileged];
        match (self, want) {
            // Asked for: opening them says why not.
            (Privilege::Raw, _) => Some(RAW),
            (Privilege::Unprivileged, Want::RawOnly) => None,
            (Privilege::Unprivileged, _) => Some(ORDINARY),
            (Privilege::Auto, Want::PreferOrdinary) => Some(&[Privilege::Unprivileged, Privilege::Raw]),
            (Privilege::Auto, _) if raw_allowed => Some(RAW),
            (Privilege::Auto, Want::PreferRaw) => Some(ORDINARY),
            (Privilege::Auto, Want::RawOnly) => None,
        }
    }

    /// Whether raw sockets send.
    pub fn is_raw(self) -> bool {
        self == Privilege::Raw
    }

    /// As net has it.
    pub(crate) fn to_net(self) -> net::Privilege {
        if self == Privilege::Raw {
            net::Privilege::Raw
        } else {
            net::Privilege::Unprivileged
        }
    }

    /// For a trace, as net has it: decided ([`Want::PreferRaw`]).
    pub(crate) fn for_trace(self) -> net::Privilege {
        self.decide(Want::PreferRaw)
            .and_then(|tries| tries.first())
            .map_or(net::Privilege::Unprivileged, |p| p.to_net())
    }
}

/// Everything a [`crate::Tracer`] can be told; [`Options::default`] is what `hoptrace HOST` does.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Options {
    /// The address family.
    pub family: Family,
    /// The probe protocol.
    pub protocol: Protocol,
    /// Paris or classic probing.
    pub flows: Flows,
    /// Multipath discovery (`--mda`): always Paris.
    pub mda: bool,
    /// Its confidence (`--confidence`): 95 %, 99 % or 99.9 %.
    pub confidence: Confidence,
    /// How long MDA probes again a hop that rate-limits its answers (`--mda-wait`), from the hop's first probe.
    pub mda_wait: Duration,
    /// Raw or ordinary sockets.
    pub privilege: Privilege,
    /// First TTL (`-f`).
    pub first_ttl: u8,
    /// Last TTL (`-m`).
    pub max_ttl: u8,
    /// Probes per hop (`-q`).
    pub probes_per_hop: u8,
    /// Extra probes a hop may get for lost ones (`--retries`).
    pub retries: u8,
    /// Which hops get them.
    pub retry_scope: RetryScope,
    /// Stop after this many silent TTLs past the farthest answer (`--gap-limit`; `None`: probe on to `max_ttl`).
    pub gap_limit: Option<u8>,
    /// When to give a probe up (`-w`).
    pub wait: WaitPolicy,
    /// Probes in flight at once (`-N`; the command line's default is 16 hops' worth, 16 × `probes_per_hop`).
    pub max_in_flight: u16,
    /// Least time between two probes (`-z`).
    pub send_interval: Duration,
    /// Destination port (`-p`; the first one for classic UDP); `None` for the protocol's default.
    pub port: Option<u16>,
    /// Probe size, headers included; `None` for the default. Probes are at most 65535 bytes: see
    /// [`TraceConfig::packet_len`].
    pub packet_len: Option<u32>,
    /// Path MTU discovery (`--mtu`).
    pub discover_mtu: bool,
    /// Socket options: source, interface, TOS, Don't Fragment.
    pub sockets: SocketOptions,
}

impl Default for Options {
    /// traceroute's defaults as hoptrace's command line has them: UDP, Paris where it is robust, TTLs 1 to 64
    /// (past traceroute's 30, as scamper and trippy go: the gap limit ends a trace long before where nothing
    /// answers), 3 probes per hop, 1 retry for lossy hops, a gap limit of 5, 48 probes in flight (16 hops' worth:
    /// a path of up to 16 hops takes one round trip).
    fn default() -> Self {
        Options {
            family: Family::Any,
            protocol: Protocol::Udp,
            flows: Flows::Auto,
            mda: false,
            confidence: Confidence::default(),
            mda_wait: Duration::from_secs(60),
            privilege: Privilege::Auto,
            first_ttl: 1,
            max_ttl: 64,
            probes_per_hop: 3,
            retries: 1,
            retry_scope: RetryScope::Lossy,
            gap_limit: Some(5),
            wait: WaitPolicy::default(),
            max_in_flight: 48,
            send_interval: Duration::ZERO,
            port: None,
            packet_len: None,
            discover_mtu: false,
            sockets: SocketOptions::default(),
        }
    }
}

impl Options {
    /// Options with these defaults, probing with `protocol`.
    pub fn new(protocol: Protocol) -> Self {
        Options { protocol, ..Options::default() }
    }

    /// Whether probes are Paris (one flow per trace), raw sockets sending (`raw`) or not. Multipath discovery and
    /// `--paris` always are; automatically ICMP always is, UDP and TCP only with raw sockets.
    pub fn is_paris(&self, raw: bool) -> bool {
        match self.flows {
            _ if self.mda => true,
            Flows::Paris => true,
            Flows::Classic => false,
            Flows::Auto => raw || self.protocol == Protocol::Icmp,
        }
    }

    /// The engine's method: the protocol, Paris or classic. (Paris TCP sets sequence numbers, which only raw
    /// sockets can: asked for without them, the engine's configuration check says so.)
    pub fn method(&self, raw: bool) -> Method {
        let asked = self.mda || self.flows == Flows::Paris;
        let paris = self.is_paris(raw) && (self.protocol != Protocol::Tcp || raw || asked);
        Method { protocol: self.protocol, paris }
    }

    /// The engine configuration for tracing `target`, raw sockets sending or not. The socket-given fields (source,
    /// ports, ICMP identifier) are for net's `Endpoint::configure` to fill in.
    pub fn trace_config(&self, target: core::net::IpAddr, raw: bool) -> TraceConfig {
        let mut config = TraceConfig::new(target, self.method(raw));
        config.mda = self.mda;
        config.confidence = self.confidence;
        config.mda_wait = self.mda_wait;
        config.first_ttl = self.first_ttl;
        config.max_ttl = self.max_ttl;
        config.probes_per_hop = self.probes_per_hop;
        config.retries = self.retries;
        config.retry_scope = self.retry_scope;
        config.gap_limit = self.gap_limit;
        config.max_in_flight = usize::from(self.max_in_flight);
        config.wait = self.wait;
        config.send_interval = self.send_interval;
        config.discover_mtu = self.discover_mtu;
        config.raw_send = raw;
        if let Some(len) = self.packet_len {
            config.packet_len = len;
        }
        if let Some(port) = self.port {
            config.dst_port = port;
        }
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paris_follows_the_protocol_the_privilege_and_the_request() {
        let method = |protocol, flows, raw| Options { flows, ..Options::new(protocol) }.method(raw);
        assert_eq!(method(Protocol::Udp, Flows::Auto, false), Method::classic(Protocol::Udp));
        assert_eq!(method(Protocol::Udp, Flows::Auto, true), Method::paris(Protocol::Udp));
        assert_eq!(method(Protocol::Icmp, Flows::Auto, false), Method::paris(Protocol::Icmp));
        assert_eq!(method(Protocol::Icmp, Flows::Classic, true), Method::classic(Protocol::Icmp));
        assert_eq!(method(Protocol::Tcp, Flows::Auto, false), Method::classic(Protocol::Tcp));
        assert_eq!(method(Protocol::Tcp, Flows::Auto, true), Method::paris(Protocol::Tcp));
        // Asked for: Paris TCP even unprivileged, for the configuration check to refuse with its reason.
        assert_eq!(method(Protocol::Tcp, Flows::Paris, false), Method::paris(Protocol::Tcp));
        let mda = Options { mda: true, flows: Flows::Classic, ..Options::new(Protocol::Udp) };
        assert_eq!(mda.method(false), Method::paris(Protocol::Udp));
    }

    #[test]
    fn one_table_decides_the_sockets_of_every_command() {
        use Privilege::{Auto, Raw, Unprivileged};
        let (raw, ordinary, either): (&[Privilege], &[Privilege], &[Privilege]) =
            (&[Raw], &[Unprivileged], &[Unprivileged, Raw]);
        // (asked, wanted, may open raw sockets) → what to try, in order.
        let table = [
            (Auto, Want::PreferRaw, true, Some(raw)),
            (Auto, Want::PreferRaw, false, Some(ordinary)),
            (Auto, Want::PreferOrdinary, true, Some(either)),
            (Auto, Want::PreferOrdinary, false, Some(either)),
            (Auto, Want::RawOnly, true, Some(raw)),
            (Auto, Want::RawOnly, false, None),
            (Raw, Want::PreferRaw, false, Some(raw)),
            (Raw, Want::PreferOrdinary, false, Some(raw)),
            (Raw, Want::RawOnly, false, Some(raw)),
            (Unprivileged, Want::PreferRaw, true, Some(ordinary)),
            (Unprivileged, Want::PreferOrdinary, true, Some(ordinary)),
            (Unprivileged, Want::RawOnly, true, None),
        ];
        for (asked, want, allowed, tries) in table {
            assert_eq!(asked.decide_with(want, allowed), tries, "{asked:?} {want:?} raw allowed: {allowed}");
        }
    }
}
