//! What the user asked for, whichever command line it came from.

use core::time::Duration;

use engine::{Confidence, Method, RetryScope, WaitPolicy};
pub use hoptrace_core::Flows;
use hoptrace_core::{Options, Protocol, Rounds};
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
}

impl Settings {
    /// What the library is asked to do: the probing half of these settings.
    pub fn options(&self) -> Options {
        let protocol = match self.method {
            Method::Udp | Method::UdpParis => Protocol::Udp,
            Method::Icmp | Method::IcmpParis => Protocol::Icmp,
            Method::Tcp | Method::TcpParis => Protocol::Tcp,
        };
        let mut options = Options::new(protocol);
        options.ipv6 = self.ipv6;
        // `-U` is Paris UDP whatever else is asked.
        options.flows = if self.method == Method::UdpParis { Flows::Paris } else { self.flows };
        options.mda = self.mda;
        options.confidence = self.confidence;
        options.unprivileged = self.unprivileged;
        options.first_ttl = self.first_ttl;
        options.max_ttl = self.max_ttl;
        options.queries = self.queries;
        options.retries = self.retries;
        options.retry_scope = self.retry_scope;
        options.gap_limit = self.gap_limit;
        options.wait = self.wait;
        options.in_flight = self.sim_queries;
        options.send_interval = self.sendwait;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{self, Request};

    fn options(args: &[&str]) -> Options {
        let argv = ["hoptrace"].iter().chain(args).map(Into::into);
        let Ok(Request::Trace(settings)) = cli::parse(argv) else { panic!("{args:?}") };
        settings.options()
    }

    #[test]
    fn the_library_defaults_are_the_command_lines() {
        assert_eq!(options(&["198.18.0.1"]), Options::default());
        assert_eq!(options(&["-I", "198.18.0.1"]), Options::new(Protocol::Icmp));
        assert_eq!(options(&["-T", "198.18.0.1"]), Options::new(Protocol::Tcp));
    }

    #[test]
    fn dash_u_is_paris_udp_to_port_53() {
        let options = options(&["-U", "--classic", "198.18.0.1"]);
        assert_eq!((options.protocol, options.flows, options.port), (Protocol::Udp, Flows::Paris, Some(53)));
        assert_eq!(options.method(false), Method::UdpParis);
    }
}
