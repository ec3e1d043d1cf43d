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

/// Whether the flow stays the same for every probe of a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// What is written to stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// The text layout of the [`Mode`], hop by hop.
    Text,
    /// One RIPE Atlas traceroute result (JSON) per trace (`--json`).
    Ripe,
    /// mtr's report over the rounds (`--report`, `--csv`, `--dot`).
    Report(ReportFormat),
    /// mtr's report redrawn on the terminal after every round (`--live`), printed at the end.
    Live,
}

/// How a report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// mtr's text report (`--report`).
    Text,
    /// mtr's JSON report (`--report --json`).
    Json,
    /// mtr's CSV (`--csv`).
    Csv,
    /// A Graphviz graph (`--dot`).
    Dot,
}

/// A complete request: one trace or several rounds, and how to show them.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Layout and defaults.
    pub mode: Mode,
    /// The host as given.
    pub host: String,
    /// More hosts, traced side by side with the first (`--live A B C`).
    pub more_hosts: Vec<String>,
    /// `Some(false)` for `-4`, `Some(true)` for `-6`.
    pub ipv6: Option<bool>,
    /// The probe protocol, as a classic method (Paris variants chosen by `flows`), or Paris UDP for `-U`.
    pub method: Method,
    /// Paris or classic probing.
    pub flows: Flows,
    /// Multipath discovery (`--mda`).
    pub mda: bool,
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
    /// What is written.
    pub output: Output,
    /// Traces run one after another (`-c`).
    pub rounds: u32,
    /// Flows the rounds cycle through (`--flows`): round r probes in flow r mod this, so a report follows each of
    /// them across per-flow load balancers (Paris methods).
    pub flow_count: u16,
    /// Pause between two rounds (`--interval`).
    pub round_interval: Duration,
    /// Colours on the live screen (`--no-color` clears it).
    pub color: bool,
}

impl Settings {
    /// Every host to trace, the first one first.
    pub fn hosts(&self) -> Vec<String> {
        [&self.host].into_iter().chain(&self.more_hosts).cloned().collect()
    }

    /// The method that probes: the requested protocol, Paris or classic as `flows` (and `raw`, whether raw sockets
    /// send) decide. Multipath discovery is always Paris.
    pub fn method(&self, raw: bool) -> Method {
        let asked = self.mda || self.flows == Flows::Paris;
        let paris = asked
            || match self.flows {
                Flows::Paris => true,
                Flows::Classic => false,
                Flows::Auto => raw || self.method == Method::Icmp,
            };
        match (self.method, paris) {
            (Method::Udp, true) => Method::UdpParis,
            (Method::Icmp, true) => Method::IcmpParis,
            // Paris TCP sets sequence numbers: asked for without raw sockets, the engine says so.
            (Method::Tcp, true) if raw || asked => Method::TcpParis,
            (method, _) => method,
        }
    }

    /// The flow round `round` probes in: the rounds cycle through `flow_count` flows.
    pub fn flow_of_round(&self, round: u32) -> u16 {
        (round % u32::from(self.flow_count.max(1))) as u16
    }

    /// The engine configuration for tracing `target`, raw sockets sending or not.
    pub fn trace_config(&self, target: IpAddr, raw: bool) -> TraceConfig {
        let mut config = TraceConfig::new(target, self.method(raw));
        config.mda = self.mda;
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
