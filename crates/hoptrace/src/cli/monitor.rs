//! `hoptrace monitor`'s command line: the targets, the schedule, the outputs, and the trace options it shares
//! with `traceroute(8)` (read through [`TracerouteArgs`], so the defaults are the same).

use core::net::SocketAddr;
use core::time::Duration;
use std::ffi::OsString;
use std::path::PathBuf;

use clap::{ArgAction, Parser};

use super::{CliError, TracerouteArgs};
use crate::monitor::MonitorSettings;

/// Trace many targets around the clock: per-hop loss and RTT over a sliding window, path changes, Prometheus.
#[derive(Debug, Parser)]
#[command(name = "hoptrace monitor", version, disable_help_flag = true)]
pub struct MonitorArgs {
    /// Hosts to trace.
    targets: Vec<String>,
    /// A file of more targets (white space separated, `#` comments), re-read on SIGHUP.
    #[arg(long = "targets", value_name = "FILE")]
    targets_file: Option<PathBuf>,
    /// Seconds between two rounds of a target (default 60).
    #[arg(long = "every", value_name = "SECONDS", default_value = "60")]
    every: f64,
    /// The largest random shift of a round, as a fraction of --every (default 0.1).
    #[arg(long = "jitter", value_name = "FRACTION", default_value = "0.1")]
    jitter: f64,
    /// Rounds the per-hop statistics cover (default 10).
    #[arg(long = "window", value_name = "ROUNDS", default_value = "10")]
    window: usize,
    /// Rounds in a row a new path must be seen in before it counts as a change (default 3).
    #[arg(long = "confirm", value_name = "ROUNDS", default_value = "3")]
    confirm: u32,
    /// Serve Prometheus metrics at http://ADDR:PORT/metrics.
    #[arg(long = "prometheus", value_name = "ADDR:PORT")]
    prometheus: Option<String>,
    /// Write every event as one JSON object per line (NDJSON) instead of a text line per path change.
    #[arg(long = "events")]
    events: bool,
    /// Use IPv4.
    #[arg(short = '4')]
    ipv4: bool,
    /// Use IPv6.
    #[arg(short = '6', conflicts_with = "ipv4")]
    ipv6: bool,
    /// Probe with UDP to one port (default: ICMP echo).
    #[arg(short = 'U', long = "udp")]
    udp: bool,
    /// Probe with TCP SYN (default port 80).
    #[arg(short = 'T', long = "tcp", conflicts_with = "udp")]
    tcp: bool,
    /// Do not look up hop names for hoptrace_hop_info.
    #[arg(short = 'n', long = "numeric")]
    numeric: bool,
    /// Look up AS numbers for hoptrace_hop_info.
    #[arg(short = 'A', long = "as-path-lookups")]
    as_lookups: bool,
    /// The max TTL (default 30).
    #[arg(short = 'm', long = "max-hops", value_name = "max_ttl")]
    max_hops: Option<String>,
    /// Probes per hop in each round (default 3).
    #[arg(short = 'q', long = "queries", value_name = "nqueries")]
    queries: Option<String>,
    /// Wait for a probe at most MAX seconds, as traceroute's -w.
    #[arg(short = 'w', long = "wait", value_name = "MAX,HERE,NEAR")]
    wait: Option<String>,
    /// Destination port (UDP and TCP).
    #[arg(short = 'p', long = "port", value_name = "port")]
    port: Option<String>,
    /// Send from this address.
    #[arg(short = 's', long = "source", value_name = "src_addr")]
    source: Option<String>,
    /// Send through this interface.
    #[arg(short = 'i', long = "interface", value_name = "device")]
    interface: Option<String>,
    /// Use ordinary sockets even when raw sockets are allowed.
    #[arg(long = "unprivileged")]
    unprivileged: bool,
    /// Read this help and exit.
    #[arg(long = "help", action = ArgAction::Help)]
    help: Option<bool>,
}

impl MonitorArgs {
    /// The settings, or the one-line complaint.
    pub fn into_settings(self) -> Result<MonitorSettings, CliError> {
        if !(self.every.is_finite() && self.every >= 0.1) {
            return Err(CliError::new(format!("--every {}: at least 0.1 seconds", self.every)));
        }
        if !(0.0..=1.0).contains(&self.jitter) {
            return Err(CliError::new(format!("--jitter {}: a fraction in 0..=1", self.jitter)));
        }
        if self.window == 0 || self.confirm == 0 {
            return Err(CliError::new("--window and --confirm need at least one round"));
        }
        if self.targets.is_empty() && self.targets_file.is_none() {
            return Err(CliError::new("no targets: name some, or --targets FILE"));
        }
        let prometheus = self
            .prometheus
            .as_deref()
            .map(|addr| {
                addr.parse::<SocketAddr>()
                    .map_err(|_| CliError::new(format!("--prometheus {addr}: expected ADDR:PORT, e.g. 127.0.0.1:9120")))
            })
            .transpose()?;
        let trace = self.trace_args()?.into_settings()?;
        Ok(MonitorSettings {
            targets: self.targets,
            targets_file: self.targets_file,
            every: Duration::from_secs_f64(self.every),
            jitter: self.jitter,
            window: self.window,
            confirm: self.confirm,
            prometheus,
            events: self.events,
            trace,
        })
    }

    /// The trace options as a `traceroute` command line: always Paris (one flow, so the path has an identity).
    fn trace_args(&self) -> Result<TracerouteArgs, CliError> {
        let mut args: Vec<OsString> = vec!["hoptrace".into(), "--paris".into()];
        let mut flag = |on: bool, name: &str| {
            if on {
                args.push(name.into());
            }
        };
        flag(self.ipv4, "-4");
        flag(self.ipv6, "-6");
        flag(self.udp, "-U");
        flag(self.tcp, "-T");
        flag(!self.udp && !self.tcp, "-I");
        flag(self.numeric, "-n");
        flag(self.as_lookups, "-A");
        flag(self.unprivileged, "--unprivileged");
        for (name, value) in [
            ("-m", &self.max_hops),
            ("-q", &self.queries),
            ("-w", &self.wait),
            ("-p", &self.port),
            ("-s", &self.source),
            ("-i", &self.interface),
        ] {
            if let Some(value) = value {
                args.extend([name.into(), value.into()]);
            }
        }
        args.push("monitor-target".into());
        TracerouteArgs::try_parse_from(args).map_err(|error| super::one_line(&error))
    }
}
