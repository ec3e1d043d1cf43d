//! What the user asked for, whichever command line it came from.

use core::time::Duration;

use engine::{Confidence, Method, RetryScope, WaitPolicy};
pub use hoptrace_core::Flows;
use hoptrace_core::{Options, Rounds};
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
    /// The event stream, one JSON object per line (`--events`).
    Events,
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
    /// Its confidence (`--confidence`).
    pub confidence: Confidence,
    /// Use ordinary sockets even as root.
    pub unprivileged: bool,
    /// How addresses are shown.
    pub naming: Naming,
    /// First TTL.
    pub first_ttl: u8,
    /// Last TTL.
    pub max_ttl: u8,
    /// Probes per hop.
    pub probes_per_hop: u8,
    /// Extra probes a hop may get for lost ones.
    pub retries: u8,
    /// Which hops get them.
    pub retry_scope: RetryScope,
    /// Stop after this many silent TTLs past the farthest answer.
    pub gap_limit: Option<u8>,
    /// When to give a probe up.
    pub wait: WaitPolicy,
    /// Probes in flight at once.
    pub max_in_flight: u16,
    /// Least time between probes.
    pub send_interval: Duration,
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

    /// What the library is asked to do: the probing half of these settings.
    pub fn options(&self) -> Options {
        let mut options = Options::new(self.method.protocol);
        options.ipv6 = self.ipv6;
        // `-U` is Paris UDP whatever else is asked.
        options.flows = if self.method.paris { Flows::Paris } else { self.flows };
        options.mda = self.mda;
        options.confidence = self.confidence;
        options.unprivileged = self.unprivileged;
        options.first_ttl = self.first_ttl;
        options.max_ttl = self.max_ttl;
        options.probes_per_hop = self.probes_per_hop;
        options.retries = self.retries;
        options.retry_scope = self.retry_scope;
        options.gap_limit = self.gap_limit;
        options.wait = self.wait;
        options.max_in_flight = self.max_in_flight;
        options.send_interval = self.send_interval;
        options.port = self.port;
        options.packet_len = self.packet_len;
        options.discover_mtu = self.discover_mtu;
        options.sockets = self.sockets.clone();
        options
    }

    /// The rounds asked for.
    pub fn rounds(&self) -> Rounds {
        Rounds { count: self.rounds, interval: self.round_interval, flows: self.flow_count }
    }
}
