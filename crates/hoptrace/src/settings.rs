//! What the user asked for, whichever command line it came from.

use core::net::IpAddr;
use core::time::Duration;

use engine::{Method, RetryScope, TraceConfig, WaitPolicy};
use net::SocketOptions;

/// Which tool's behaviour and layout to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `traceroute(8)`.
    Traceroute,
    /// iputils `tracepath(8)`.
    Tracepath,
}

/// How hop addresses are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    /// The address only (`-n`).
    Numeric,
    /// `name (address)`, the address standing in for a missing name (traceroute's default).
    NameAndAddress,
    /// The name only, `???` when there is none (tracepath's default).
    NameOnly,
    /// `name (address)`, `???` standing in for a missing name (tracepath `-b`).
    Both,
}

/// A complete request: one trace and how to show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Layout and defaults.
    pub mode: Mode,
    /// The host as given.
    pub host: String,
    /// `Some(false)` for `-4`, `Some(true)` for `-6`.
    pub ipv6: Option<bool>,
    /// The probe method.
    pub method: Method,
    /// Use ordinary sockets even as root.
    pub unprivileged: bool,
    /// How addresses are shown.
    pub naming: Naming,
    /// First TTL.
    pub first_ttl: u8,
    /// Last TTL.
    pub max_ttl: u8,
    /// Probes per hop.
    pub queries: u8,
    /// Extra probes a hop may get for lost ones.
    pub retries: u8,
    /// Which hops get them.
    pub retry_scope: RetryScope,
    /// Stop after this many silent TTLs past the farthest answer.
    pub gap_limit: Option<u8>,
    /// When to give a probe up.
    pub wait: WaitPolicy,
    /// Probes in flight at once.
    pub sim_queries: u16,
    /// Least time between probes.
    pub sendwait: Duration,
    /// Destination port (base for classic UDP).
    pub port: Option<u16>,
    /// Socket options.
    pub sockets: SocketOptions,
    /// Path MTU discovery (`--mtu`, tracepath).
    pub discover_mtu: bool,
    /// Show the number of hops back when it differs (`--back`).
    pub back: bool,
    /// Show AS numbers (`-A`).
    pub as_lookups: bool,
    /// Show ICMP extensions (`-e`).
    pub extensions: bool,
    /// Probe size, headers included.
    pub packet_len: Option<u16>,
}

impl Settings {
    /// The engine configuration for tracing `target`.
    pub fn trace_config(&self, target: IpAddr) -> TraceConfig {
        let mut config = TraceConfig::new(target, self.method);
        config.first_ttl = self.first_ttl;
        config.max_ttl = self.max_ttl;
        config.probes_per_hop = self.queries;
        config.retries = self.retries;
        config.retry_scope = self.retry_scope;
        config.gap_limit = self.gap_limit;
        config.max_in_flight = usize::from(self.sim_queries);
        config.wait = self.wait;
        config.send_interval = self.sendwait;
        config.discover_mtu = self.discover_mtu;
        if let Some(len) = self.packet_len {
            config.packet_len = len;
        }
        if let Some(port) = self.port {
            config.dst_port = port;
        }
        config
    }
}
