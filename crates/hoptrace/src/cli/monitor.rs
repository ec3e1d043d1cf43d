//! `hoptrace monitor`'s command line: the targets, the schedule, the outputs, and the trace options it shares
//! with `traceroute(8)` (read by the same value parsers, so the defaults and complaints are the same).

use core::time::Duration;
use std::path::PathBuf;

use clap::{ArgAction, Parser};
use hoptrace_core::{Options, Privilege, Protocol, Rounds, SocketOptions};

use super::values::{port, queries, source, ttl_range, wait_policy};
use super::{family, CliError};
use crate::commands::monitor::{Detail, ListenAddress, MonitorSettings};
use crate::settings::{Flows, Mode, Naming, Output, Settings};

/// The longest `--every`, in seconds: a day. (Longer would not be a monitor, and a period near the clock's range
/// would overflow it.)
const MAX_EVERY: f64 = 86_400.0;

/// The most rounds `--window` keeps: each round's hops are kept (what the report reads of them), and a hop whose
/// oldest round cannot simply be subtracted is worked out again from them.
const MAX_WINDOW: usize = 1000;

/// Trace many targets around the clock: per-hop loss and RTT over a sliding window, path changes, Prometheus.
#[derive(Debug, Parser)]
#[command(name = "hoptrace monitor", bin_name = "hoptrace monitor", version = env!("HOPTRACE_VERSION"))]
#[command(disable_help_flag = true)]
pub struct MonitorArgs {
    /// Hosts to trace.
    targets: Vec<String>,
    /// A file of more targets (white space separated, `#` comments), re-read on SIGHUP.
    #[arg(long = "targets", value_name = "FILE")]
    targets_file: Option<PathBuf>,
    /// Seconds between two rounds of a target.
    #[arg(long = "every", value_name = "SECONDS", default_value = "60")]
    every: f64,
    /// The largest random shift of a round, as a fraction of --every.
    #[arg(long = "jitter", value_name = "FRACTION", default_value = "0.1")]
    jitter: f64,
    /// Rounds the per-hop statistics cover.
    #[arg(long = "window", value_name = "ROUNDS", default_value = "10")]
    window: usize,
    /// Rounds in a row a new path must be seen in before it counts as a change.
    #[arg(long = "confirm", value_name = "ROUNDS", default_value = "3")]
    confirm: u32,
    /// Serve Prometheus metrics at http://HOST:PORT/metrics: HOST an address, a name (its first address) or
    /// nothing for every address (`:9120`).
    #[arg(long = "prometheus", value_name = "HOST:PORT")]
    prometheus: Option<String>,
    /// Which hops have series of their own: `hops` (every hop), `path` (the destination's and the path's
    /// summary) or `none`.
    #[arg(long = "detail", value_name = "LEVEL", default_value = "path")]
    detail: String,
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
    /// The max TTL (default 64, as for a trace).
    #[arg(short = 'm', long = "max-hops", value_name = "max_ttl")]
    max_hops: Option<String>,
    /// Probes per hop in each round.
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
    /// Use ordinary sockets only (by default they are tried first, raw sockets where they fail).
    #[arg(long = "unprivileged")]
    unprivileged: bool,
    /// Use raw sockets only (each target's raw socket then reads every ICMP message the host receives).
    #[arg(long = "raw", conflicts_with = "unprivileged")]
    raw: bool,
    /// Read this help and exit.
    #[arg(short = 'h', long = "help", action = ArgAction::Help)]
    help: Option<bool>,
}

impl MonitorArgs {
    /// The settings, or the one-line complaint.
    pub fn into_settings(self) -> Result<MonitorSettings, CliError> {
        if !(self.every.is_finite() && self.every >= 0.1) {
            return Err(CliError::new(format!("--every {}: at least 0.1 seconds", self.every)));
        }
        if self.every > MAX_EVERY {
            return Err(CliError::new(format!("--every {}: at most {MAX_EVERY} seconds (a day)", self.every)));
        }
        if !(0.0..=1.0).contains(&self.jitter) {
            return Err(CliError::new(format!("--jitter {}: a fraction in 0..=1", self.jitter)));
        }
        if self.window == 0 || self.confirm == 0 {
            return Err(CliError::new("--window and --confirm need at least one round"));
        }
        if self.window > MAX_WINDOW {
            return Err(CliError::new(format!("--window {}: at most {MAX_WINDOW} rounds", self.window)));
        }
        if self.targets.is_empty() && self.targets_file.is_none() {
            return Err(CliError::new("no targets: name some, or --targets FILE"));
        }
        let prometheus = self
            .prometheus
            .as_deref()
            .map(|addr| {
                ListenAddress::parse(addr).ok_or_else(|| {
                    CliError::new(format!("--prometheus {addr}: expected HOST:PORT, e.g. localhost:9120"))
                })
            })
            .transpose()?;
        let detail = self.detail.parse::<Detail>().map_err(CliError::new)?;
        let trace = self.trace_settings()?;
        Ok(MonitorSettings {
            targets: self.targets,
            targets_file: self.targets_file,
            every: Duration::from_secs_f64(self.every),
            jitter: self.jitter,
            window: self.window,
            confirm: self.confirm,
            prometheus,
            detail,
            events: self.events,
            raw: self.raw,
            trace,
        })
    }

    /// The trace options, read as `traceroute` reads the same flags (its defaults, its complaints): always Paris
    /// (one flow, so the path has an identity), ICMP unless `-U` or `-T`.
    fn trace_settings(&self) -> Result<Settings, CliError> {
        let (first_ttl, max_ttl) = ttl_range(&None, &self.max_hops)?;
        let probes_per_hop = queries(&self.queries, 3)?;
        let port = port(&self.port, self.udp)?;
        let source = source(self.source.as_deref())?;
        let protocol = match (self.udp, self.tcp) {
            (true, _) => Protocol::Udp,
            (_, true) => Protocol::Tcp,
            _ => Protocol::Icmp,
        };
        let mut probing = Options::new(protocol);
        probing.family = family(self.ipv4, self.ipv6);
        probing.flows = Flows::Paris;
        if self.unprivileged {
            probing.privilege = Privilege::Unprivileged;
        }
        probing.first_ttl = first_ttl;
        probing.max_ttl = max_ttl;
        probing.probes_per_hop = probes_per_hop;
        probing.wait = wait_policy(self.wait.as_deref())?;
        // One probe per TTL of the window in flight, not `-q` of each: a round's other probes then go only to the
        // TTLs up to the destination, whose answers come before they leave (traceroute's default sends all three
        // to every TTL of the window at once, for a result within one round trip that a monitor does not need).
        probing.max_in_flight = 16;
        probing.port = port;
        probing.sockets = SocketOptions { source, interface: self.interface.clone(), ..SocketOptions::default() };
        Ok(Settings {
            mode: Mode::Traceroute,
            host: String::new(),
            more_hosts: Vec::new(),
            probing,
            naming: if self.numeric { Naming::Numeric } else { Naming::NameAndAddress },
            back: false,
            as_lookups: self.as_lookups,
            extensions: false,
            output: Output::Text,
            rounds: Rounds::new(1),
            color: true,
            warts: None,
            mtr: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::{parse, Request};
    use crate::settings::Flows;

    fn monitor(args: &[&str]) -> Result<crate::commands::monitor::MonitorSettings, String> {
        let args = ["hoptrace", "monitor"].iter().chain(args).map(Into::into);
        match parse(args) {
            Ok(Request::Monitor(settings)) => Ok(*settings),
            Ok(_) => Err("not a monitor request".to_owned()),
            Err(error) => Err(error.to_string()),
        }
    }

    #[test]
    fn defaults_and_flags() {
        let settings = monitor(&["198.18.3.2", "--prometheus", "127.0.0.1:9120"]).unwrap();
        assert_eq!(settings.targets, ["198.18.3.2"]);
        assert_eq!(settings.every.as_secs(), 60);
        assert_eq!((settings.window, settings.confirm, settings.jitter), (10, 3, 0.1));
        let listen = settings.prometheus.unwrap();
        assert_eq!((listen.host.as_str(), listen.port), ("127.0.0.1", 9120));
        // A name, as every exporter's --web.listen-address takes (looked up when the monitor starts).
        let listen = monitor(&["x", "--prometheus", "localhost:9120"]).unwrap().prometheus.unwrap();
        assert_eq!((listen.host.as_str(), listen.port), ("localhost", 9120));
        // Always one flow: the path has an identity. ICMP unless asked otherwise.
        assert_eq!(settings.trace.probing.flows, Flows::Paris);
        assert_eq!(settings.trace.probing.protocol, hoptrace_core::Protocol::Icmp);
        let tcp = monitor(&["-T", "-q", "1", "-m", "12", "--every", "5", "--raw", "x"]).unwrap();
        let probing = &tcp.trace.probing;
        assert_eq!(probing.protocol, hoptrace_core::Protocol::Tcp);
        assert_eq!((probing.probes_per_hop, probing.max_ttl, tcp.every.as_secs(), tcp.raw), (1, 12, 5, true));
        assert_eq!(probing.max_in_flight, 16);
        assert_eq!(settings.detail, crate::commands::monitor::Detail::Path);
        assert_eq!(monitor(&["x", "--detail", "hops"]).unwrap().detail, crate::commands::monitor::Detail::Hops);
        assert_eq!(monitor(&["x", "--detail", "none"]).unwrap().detail, crate::commands::monitor::Detail::None);
    }

    #[test]
    fn bad_input_is_one_line() {
        assert_eq!(
            monitor(&["x", "--prometheus", "nonsense"]).unwrap_err(),
            "--prometheus nonsense: expected HOST:PORT, e.g. localhost:9120"
        );
        assert_eq!(monitor(&["x", "--every", "0"]).unwrap_err(), "--every 0: at least 0.1 seconds");
        // Not a panic on a period the clock cannot hold.
        for huge in ["1e300", "1e20", "86401"] {
            let error = monitor(&["x", "--every", huge]).unwrap_err();
            assert!(error.ends_with(": at most 86400 seconds (a day)"), "{error}");
        }
        assert!(monitor(&["x", "--every", "86400"]).is_ok());
        assert_eq!(monitor(&["x", "--window", "0"]).unwrap_err(), "--window and --confirm need at least one round");
        assert_eq!(monitor(&["x", "--window", "1001"]).unwrap_err(), "--window 1001: at most 1000 rounds");
        assert_eq!(monitor(&["x", "--window", "-1"]).unwrap_err().lines().count(), 1);
        assert_eq!(monitor(&["x", "--jitter", "2"]).unwrap_err(), "--jitter 2: a fraction in 0..=1");
        assert_eq!(monitor(&[]).unwrap_err(), "no targets: name some, or --targets FILE");
        assert_eq!(monitor(&["x", "-q", "0"]).unwrap_err(), "no more than 10 probes per hop");
        assert_eq!(monitor(&["x", "--detail", "all"]).unwrap_err(), "--detail all: one of hops, path, none");
    }

    /// The trace settings as monitor once made them: its flags as a `traceroute` command line, parsed again.
    fn through_traceroute(args: &[&str]) -> Result<crate::settings::Settings, String> {
        use clap::Parser;
        let mut argv = vec!["hoptrace", "--paris", "-N", "16"];
        let mut rest = args.iter().copied().filter(|arg| *arg != "--raw").peekable();
        let mut protocol = "-I";
        while let Some(arg) = rest.next() {
            match arg {
                "-U" | "-T" => protocol = arg,
                "-4" | "-6" | "-n" | "-A" | "--unprivileged" => argv.push(arg),
                _ if arg.starts_with('-') => argv.extend([arg, rest.next().unwrap()]),
                _ => {}
            }
        }
        if protocol != "-I" || !args.contains(&"-I") {
            argv.push(protocol);
        }
        argv.push("monitor-target");
        let parsed = crate::cli::TracerouteArgs::try_parse_from(argv).map_err(|error| error.to_string())?;
        parsed.into_settings().map_err(|error| error.to_string())
    }

    #[test]
    fn the_same_options_as_through_traceroute() {
        let cases: &[&[&str]] = &[
            &["x"],
            &["-U", "x"],
            &["-T", "-p", "443", "x"],
            &["-4", "-n", "-A", "-q", "1", "-m", "12", "x"],
            &["-6", "--unprivileged", "-w", "2,3,10", "-s", "2001:db8::1", "-i", "lo", "x"],
            &["-U", "-p", "33434", "-q", "10", "-m", "255", "--raw", "x"],
        ];
        for args in cases {
            let direct = monitor(args).unwrap().trace;
            let reparsed = through_traceroute(args).unwrap();
            assert_eq!(format!("{:?}", direct.probing), format!("{:?}", reparsed.probing), "{args:?}");
            assert_eq!((direct.naming, direct.as_lookups), (reparsed.naming, reparsed.as_lookups), "{args:?}");
        }
        // The same complaints, in the same words.
        let bad: &[&[&str]] = &[
            &["-q", "11", "x"],
            &["-q", "abc", "x"],
            &["-m", "256", "x"],
            &["-m", "0", "x"],
            &["-m", "x1", "x"],
            &["-p", "70000", "x"],
            &["-p", "http", "x"],
            &["-s", "nowhere", "x"],
            &["-w", "1,-2", "x"],
            &["-w", "a,b", "x"],
            &["-w", "1,2,3,4", "x"],
        ];
        for args in bad {
            assert_eq!(monitor(args).unwrap_err(), through_traceroute(args).unwrap_err(), "{args:?}");
        }
    }
}
