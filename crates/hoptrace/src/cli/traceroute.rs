//! `traceroute(8)`'s command line: its flags, same letters, same meanings, same complaints.

use core::time::Duration;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::{ArgAction, Parser, ValueHint};
use hoptrace_core::{Confidence, Options, Privilege, Protocol, Rounds, SocketOptions};

use super::values::{number, port, queries, radix_number, seconds, sendwait, source, ttl_range, wait_policy};
use super::{bad_arg, family, CliError};
use crate::settings::{Flows, Mode, Naming, Output, ReportFormat, Settings, WartsTo};

/// Print the route packets trace to network host.
#[derive(Debug, Parser)]
#[command(name = "hoptrace", version = env!("HOPTRACE_VERSION"), about, long_about = LONG_ABOUT)]
#[command(disable_help_flag = true, arg_required_else_help = true, args_override_self = true)]
#[command(after_help = "Run as `tracepath`, or with --tracepath, for tracepath(8)'s options and layout. \
    Not supported: -g (source routing), -D (DCCP), -P (raw protocol), -UL (UDP-Lite), -O (module options).\n\
    `hoptrace monitor --help`: many targets watched around the clock, with Prometheus metrics.\n\
    `hoptrace bulk --help`: many targets at a set rate, caracal's contract (also when run as `caracal`).")]
pub struct TracerouteArgs {
    /// Use IPv4.
    #[arg(short = '4', long = "ipv4")]
    ipv4: bool,
    /// Use IPv6.
    #[arg(short = '6', long = "ipv6", conflicts_with = "ipv4")]
    ipv6: bool,
    /// Use ICMP ECHO for tracerouting.
    #[arg(short = 'I', long = "icmp")]
    icmp: bool,
    /// Use TCP SYN for tracerouting (default port is 80).
    #[arg(short = 'T', long = "tcp", conflicts_with = "icmp")]
    tcp: bool,
    /// Use UDP to a particular port for tracerouting (default port is 53), Paris-style: one flow for every probe.
    #[arg(short = 'U', long = "udp", conflicts_with_all = ["icmp", "tcp"])]
    udp: bool,
    /// Use the specified traceroute method: default, udp, icmp, tcp or tcpconn.
    #[arg(short = 'M', long = "module", value_name = "name", conflicts_with_all = ["icmp", "tcp", "udp"])]
    #[arg(value_parser = ModuleName)]
    module: Option<String>,
    /// Do not resolve IP addresses to their domain names.
    #[arg(short = 'n', long = "numeric")]
    numeric: bool,
    /// Start from the first_ttl hop (instead of 1).
    #[arg(short = 'f', long = "first", value_name = "first_ttl")]
    first: Option<String>,
    /// Set the max number of hops (max TTL to be reached). Default is 64: the gap limit ends a trace long before
    /// on an ordinary path.
    #[arg(short = 'm', long = "max-hops", value_name = "max_ttl")]
    max_hops: Option<String>,
    /// Set the number of probes per each hop. Default is 3.
    #[arg(short = 'q', long = "queries", value_name = "nqueries")]
    queries: Option<String>,
    /// Wait for a probe no more than MAX seconds (default 5.0), HERE times (default 3) a reply from the same hop,
    /// or NEAR times (default 3) a reply from a farther hop.
    #[arg(short = 'w', long = "wait", value_name = "MAX,HERE,NEAR", allow_hyphen_values = true)]
    wait: Option<String>,
    /// Set the number of probes to be tried simultaneously (default 16 hops' worth: 16 times -q, so a path of up to
    /// 16 hops takes one round trip).
    #[arg(short = 'N', long = "sim-queries", value_name = "squeries")]
    sim_queries: Option<String>,
    /// Minimal time interval between probes (default 0): seconds, or milliseconds above 10.
    #[arg(short = 'z', long = "sendwait", value_name = "sendwait")]
    sendwait: Option<String>,
    /// Set the destination port to use: the initial value for UDP (incremented by each probe), the constant one
    /// for TCP and `-U`.
    #[arg(short = 'p', long = "port", value_name = "port")]
    port: Option<String>,
    /// Use source src_addr for outgoing packets.
    #[arg(short = 's', long = "source", value_name = "src_addr")]
    source: Option<String>,
    /// Use source port num for outgoing packets (UDP and TCP; the first of consecutive ports for classic TCP).
    /// Implies -N 1.
    #[arg(long = "sport", value_name = "num")]
    sport: Option<String>,
    /// Set firewall mark for outgoing packets (SO_MARK; needs CAP_NET_ADMIN).
    #[arg(long = "fwmark", value_name = "num")]
    fwmark: Option<String>,
    /// Use specified flow_label for IPv6 packets (ICMP ones need raw sockets: ping sockets send none).
    #[arg(short = 'l', long = "flowlabel", value_name = "flow_label")]
    flowlabel: Option<String>,
    /// Bypass the normal routing and send directly to a host on an attached network (IPv4: Linux ignores it for
    /// IPv6).
    #[arg(short = 'r')]
    dont_route: bool,
    /// Enable socket level debugging: accepted for traceroute's sake, no effect.
    #[arg(short = 'd', long = "debug")]
    debug: bool,
    /// Specify a network interface to operate with.
    #[arg(short = 'i', long = "interface", value_name = "device")]
    interface: Option<String>,
    /// Set the TOS (IPv4 type of service) or TC (IPv6 traffic class) value for outgoing packets.
    #[arg(short = 't', long = "tos", value_name = "tos")]
    tos: Option<String>,
    /// Do not fragment packets.
    #[arg(short = 'F', long = "dont-fragment")]
    dont_fragment: bool,
    /// Discover MTU along the path being traced. Implies -F -N 1.
    #[arg(long = "mtu")]
    mtu: bool,
    /// Guess the number of hops in the backward path and print if it differs.
    #[arg(long = "back")]
    back: bool,
    /// Perform AS path lookups in routing registries and print results directly after the corresponding addresses.
    #[arg(short = 'A', long = "as-path-lookups")]
    as_lookups: bool,
    /// Show ICMP extensions (if present), including MPLS.
    #[arg(short = 'e', long = "extensions")]
    extensions: bool,
    /// Stop after this many silent hops past the farthest answer (default 5; 0 probes on to max_ttl).
    #[arg(long = "gap-limit", value_name = "hops")]
    gap_limit: Option<String>,
    /// Extra probes a hop may get for lost ones: at lossy hops, and at the first silent hop past the farthest
    /// answer (a rate-limited destination). Default 1.
    #[arg(long = "retries", value_name = "n")]
    retries: Option<String>,
    /// Paris probing: one flow (5-tuple, or ICMP checksum) for every probe, so that per-flow load balancers keep it
    /// on one real path. The default for ICMP, and for UDP and TCP with raw sockets.
    #[arg(long = "paris")]
    paris: bool,
    /// Classic probing, as traceroute(8): every probe its own flow.
    #[arg(long = "classic", conflicts_with_all = ["paris", "mda"])]
    classic: bool,
    /// Multipath discovery (MDA): find every branch of per-flow load balancing, probing each hop with new flows
    /// until, at 95% confidence (--confidence), none is missed.
    #[arg(long = "mda")]
    mda: bool,
    /// MDA's confidence that no branch is missed at a hop, in percent: 95 (default), 99 or 99.9. Higher costs
    /// more probes per hop (6, 8 or 11 for one interface; 11, 15 or 20 for two).
    #[arg(long = "confidence", value_name = "percent")]
    confidence: Option<String>,
    /// With --mda, how long a hop that rate-limits its answers is probed again (paced to its limit) before it is
    /// reported not settled, in seconds from its first probe (default 60).
    #[arg(long = "mda-wait", value_name = "seconds")]
    mda_wait: Option<String>,
    /// Print one JSON document per trace in RIPE Atlas's traceroute result format; with --report, mtr's JSON report.
    #[arg(short = 'j', long = "json")]
    json: bool,
    /// mtr's report mode: trace COUNT times (-c), then print per hop loss, round-trip statistics and jitter.
    #[arg(long = "report")]
    report: bool,
    /// Rounds to run (default 10 with --report, else 1); without --json, --csv or --dot it implies --report.
    #[arg(short = 'c', long = "report-cycles", value_name = "COUNT")]
    cycles: Option<String>,
    /// Seconds between two rounds (default 1).
    #[arg(long = "interval", value_name = "SECONDS", allow_hyphen_values = true)]
    interval: Option<String>,
    /// Rounds cycle through this many flows (Paris), and the report follows each one (default 1).
    #[arg(long = "flows", value_name = "N")]
    flows: Option<String>,
    /// Print the report as CSV, in mtr's columns.
    #[arg(short = 'C', long = "csv", conflicts_with = "json")]
    csv: bool,
    /// Print the report as a Graphviz graph: a node per responder, edges between consecutive hops.
    #[arg(long = "dot", conflicts_with_all = ["json", "csv"])]
    dot: bool,
    /// mtr's live screen, redrawn as hops answer, until q (or COUNT rounds with -c); then the report is printed.
    /// Several hosts (`--live A B C`) are traced side by side, a tab each. Keys: h for help.
    #[arg(long = "live", conflicts_with_all = ["json", "csv", "dot", "report", "mda"])]
    live: bool,
    /// No colours on the live screen (as the NO_COLOR variable).
    #[arg(long = "no-color")]
    no_color: bool,
    /// Print the event stream: one JSON object per line for every round started, probe sent, reply, hop
    /// complete, round done and the end (with -c, over COUNT rounds).
    #[arg(long = "events", conflicts_with_all = ["json", "csv", "dot", "report", "live"])]
    events: bool,
    /// Use ordinary sockets even when raw sockets are allowed (what any user can do).
    #[arg(long = "unprivileged")]
    unprivileged: bool,
    /// tracepath(8)'s options and layout from here on (as when run as `tracepath`).
    #[arg(long = "tracepath")]
    tracepath: bool,
    /// traceroute's options hoptrace does not support, refused by name.
    #[arg(short = 'g', long = "gateway", hide = true)]
    gateway: Option<String>,
    #[arg(short = 'D', long = "dccp", hide = true)]
    dccp: bool,
    #[arg(short = 'P', long = "protocol", hide = true)]
    protocol: Option<String>,
    #[arg(short = 'L', hide = true)]
    udplite: bool,
    #[arg(short = 'O', long = "options", hide = true)]
    module_options: Option<String>,
    /// scamper's binary format (warts) on stdout, as -O warts; with =FILE, into FILE beside the usual output.
    #[arg(long = "warts", value_name = "FILE", num_args = 0..=1, require_equals = true, default_missing_value = "-")]
    warts: Option<std::path::PathBuf>,
    /// Read this help and exit (`-h`: no traceroute(8) flag, so help here as everywhere).
    #[arg(short = 'h', long = "help", action = ArgAction::Help)]
    help: Option<bool>,
    /// The host to trace.
    #[arg(value_hint = ValueHint::Hostname)]
    host: String,
    /// The full packet length (default is the length of an IP header plus 40). Can be ignored or increased to a
    /// minimal allowed value.
    packet_len: Option<String>,
    /// With --live, more hosts traced side by side (the packet length is then taken for a host too).
    more_hosts: Vec<String>,
}

/// The man page's DESCRIPTION.
const LONG_ABOUT: &str = "hoptrace traces the route IP packets take to a host: it sends probes with growing TTL (hop \
limit) and lists, hop by hop, the routers whose ICMP Time Exceeded or Destination Unreachable replies come back, with \
their round-trip times. It takes traceroute(8)'s options and prints its layout (or tracepath(8)'s, when run as \
tracepath or given --tracepath), over UDP, ICMP echo or TCP SYN, IPv4 or IPv6; it also writes RIPE Atlas JSON, \
mtr's reports (--report, --json, --csv), a Graphviz graph (--dot), mtr's live screen (--live) and finds every path \
through per-flow load balancers (--mda).";

/// `traceroute(8)`'s largest packet.
const MAX_PACKET_LEN: u32 = 65_000;

impl TracerouteArgs {
    /// Checks every value the way `traceroute(8)` does, with its messages.
    pub fn into_settings(self) -> Result<Settings, CliError> {
        self.refuse_unsupported()?;
        let (protocol, paris) = self.protocol()?;
        let (first_ttl, max_ttl) = ttl_range(&self.first, &self.max_hops)?;
        let output = self.output();
        let report = matches!(output, Output::Report(_) | Output::Live);
        if self.mda
            && (self.cycles.is_some() || matches!(output, Output::Report(ReportFormat::Text | ReportFormat::Csv)))
        {
            return Err(CliError::new("--mda is a single trace: use it alone, with --json or with --dot"));
        }
        if self.confidence.is_some() && !self.mda {
            return Err(CliError::new("--confidence goes with --mda"));
        }
        if self.mda_wait.is_some() && !self.mda {
            return Err(CliError::new("--mda-wait goes with --mda"));
        }
        if self.flows.is_some() && !report {
            return Err(CliError::new("--flows goes with a report (--report, -c, --csv, --dot, --live)"));
        }
        // A report measures: one probe per hop and round as mtr, and no retries standing in for lost probes.
        let queries = queries(&self.queries, if report { 1 } else { 3 })?;
        // 16 hops' probes at once: a path of up to 16 hops is probed whole within one round trip.
        let sim_queries = number(&self.sim_queries, "-N", 16 * u32::from(queries))?.clamp(1, 1024);
        let source_port = match &self.sport {
            Some(text) => {
                Some(u16::try_from(number(&self.sport, "--sport", 0)?).map_err(|_| bad_arg("--sport", text))?)
            }
            None => None,
        };
        let flow_label = match &self.flowlabel {
            Some(text) => {
                Some(radix_number(text).filter(|&label| label <= 0xf_ffff).ok_or_else(|| bad_arg("-l", text))?)
            }
            None => None,
        };
        let fwmark = self.fwmark.as_deref().map(|text| radix_number(text).ok_or_else(|| bad_arg("--fwmark", text)));
        let (packet_len, more_hosts) = self.packet_len_and_more_hosts()?;
        // `-U` and `-M udp`: traceroute's udp module, to port 53 unless told otherwise.
        let port = port(&self.port, self.udp || self.module.as_deref() == Some("udp"))?;
        let source = source(self.source.as_deref())?;
        let tos = match &self.tos {
            Some(text) => Some(u8::try_from(number(&self.tos, "-t", 0)?).map_err(|_| bad_arg("-t", text))?),
            None => None,
        };
        let sockets = SocketOptions {
            source,
            interface: self.interface.clone(),
            tos,
            dont_fragment: self.dont_fragment || self.mtu,
            source_port,
            fwmark: fwmark.transpose()?,
            flow_label,
            dont_route: self.dont_route,
        };
        let mut probing = Options::new(protocol);
        probing.family = family(self.ipv4, self.ipv6);
        probing.flows = match (paris || self.paris, self.classic) {
            // `-U` is Paris UDP whatever else is asked.
            (true, _) => Flows::Paris,
            (_, true) => Flows::Classic,
            _ => Flows::Auto,
        };
        probing.mda = self.mda;
        if let Some(text) = &self.confidence {
            probing.confidence = Confidence::from_percent(text).ok_or_else(|| bad_arg("--confidence", text))?;
        }
        probing.mda_wait = seconds(self.mda_wait.as_deref(), "--mda-wait", probing.mda_wait)?;
        if self.unprivileged || self.module.as_deref() == Some("tcpconn") {
            probing.privilege = Privilege::Unprivileged;
        }
        probing.first_ttl = first_ttl;
        probing.max_ttl = max_ttl;
        probing.probes_per_hop = queries;
        probing.retries = number(&self.retries, "--retries", u32::from(!report))?.min(10) as u8;
        probing.gap_limit = Some(number(&self.gap_limit, "--gap-limit", 5)?.min(255) as u8).filter(|&gap| gap > 0);
        probing.wait = wait_policy(self.wait.as_deref())?;
        // One probe at a time from one source port, as traceroute's `--sport`.
        probing.max_in_flight = if self.mtu || source_port.is_some() { 1 } else { sim_queries as u16 };
        probing.send_interval = sendwait(self.sendwait.as_deref())?;
        probing.port = port;
        probing.sockets = sockets;
        probing.discover_mtu = self.mtu;
        // `--mtu` starts from the largest probe, as traceroute does, and lets the path cut it down.
        probing.packet_len = packet_len.or(self.mtu.then_some(MAX_PACKET_LEN));
        Ok(Settings {
            mode: Mode::Traceroute,
            probing,
            naming: if self.numeric { Naming::Numeric } else { Naming::NameAndAddress },
            back: self.back,
            as_lookups: self.as_lookups,
            extensions: self.extensions,
            rounds: Rounds {
                count: self.rounds()?,
                flows: match &self.flows {
                    Some(text) => u16::try_from(number(&self.flows, "--flows", 1)?)
                        .ok()
                        .filter(|&n| (1..=crate::report::MAX_FLOWS_FOLLOWED as u16).contains(&n))
                        .ok_or_else(|| bad_arg("--flows", text))?,
                    None => 1,
                },
                interval: seconds(self.interval.as_deref(), "--interval", Duration::from_secs(1))?,
            },
            warts: self.warts_to(output)?,
            output,
            host: self.host,
            more_hosts,
            color: !self.no_color,
            mtr: None,
        })
    }

    /// `-O warts` and `--warts[=FILE]`: warts on stdout instead of the text, or into FILE.
    fn warts_to(&self, output: Output) -> Result<Option<WartsTo>, CliError> {
        match &self.warts {
            Some(path) if path.as_os_str() != "-" => Ok(Some(WartsTo::File(path.clone()))),
            None if self.module_options.is_none() => Ok(None),
            _ if output != Output::Text => Err(CliError::new("warts on stdout goes alone: --warts=FILE for both")),
            _ => Ok(Some(WartsTo::Stdout)),
        }
    }

    /// The trailing packet length, and the hosts after the first: with `--live`, words after the host are hosts
    /// unless there is just one number.
    fn packet_len_and_more_hosts(&self) -> Result<(Option<u32>, Vec<String>), CliError> {
        let trailing: Vec<String> = self.packet_len.iter().chain(&self.more_hosts).cloned().collect();
        match trailing.as_slice() {
            [] => Ok((None, Vec::new())),
            [len] if !self.live || len.parse::<u32>().is_ok() => Ok((Some(packet_len(len)?), Vec::new())),
            _ if self.live => Ok((None, trailing)),
            _ => Err(CliError::new(format!("several hosts go with --live only (`{}')", trailing[trailing.len() - 1]))),
        }
    }

    /// traceroute's options hoptrace has not got: one line that says so.
    fn refuse_unsupported(&self) -> Result<(), CliError> {
        let refused = [
            (self.gateway.is_some(), "-g (source routing through gateways)"),
            (self.dccp, "-D (DCCP probes)"),
            (self.protocol.is_some(), "-P (raw probes of another protocol)"),
            (self.udplite, "-UL (UDP-Lite probes)"),
            (self.module_options.as_deref().is_some_and(|o| o != "warts"), "-O (module options)"),
        ];
        match refused.iter().find(|(given, _)| *given) {
            Some((_, what)) => Err(CliError::new(format!("{what} is not supported"))),
            None => Ok(()),
        }
    }

    /// `--json`, `--report`, `--csv`, `--dot` and `-c`, combined.
    fn output(&self) -> Output {
        if self.live {
            return Output::Live;
        }
        if self.events {
            return Output::Events;
        }
        let report = self.report || self.csv || self.dot || (self.cycles.is_some() && !self.json);
        match (report, self.json, self.csv, self.dot) {
            (false, false, ..) => Output::Text,
            (false, true, ..) => Output::Ripe,
            (true, true, ..) => Output::Report(ReportFormat::Json),
            (true, _, true, _) => Output::Report(ReportFormat::Csv),
            (true, _, _, true) => Output::Report(ReportFormat::Dot),
            (true, ..) => Output::Report(ReportFormat::Text),
        }
    }

    /// `-c`: at least one round; 10 by default with `--report`, as mtr; until stopped with `--live`.
    fn rounds(&self) -> Result<Option<u32>, CliError> {
        let default = if self.live { None } else { Some(if self.report { 10 } else { 1 }) };
        match &self.cycles {
            None => Ok(default),
            Some(text) => match number(&self.cycles, "-c", 1)? {
                0 => Err(bad_arg("-c", text)),
                rounds => Ok(Some(rounds)),
            },
        }
    }

    /// The probe protocol, and whether it must be Paris (`-U`, `-M udp`: traceroute's udp module is).
    fn protocol(&self) -> Result<(Protocol, bool), CliError> {
        Ok(match (self.module.as_deref(), self.icmp, self.tcp, self.udp) {
            (Some("icmp"), ..) | (None, true, _, _) => (Protocol::Icmp, false),
            (Some("tcp" | "tcpconn"), ..) | (None, _, true, _) => (Protocol::Tcp, false),
            (Some("udp"), ..) | (None, _, _, true) => (Protocol::Udp, true),
            (Some("default") | None, ..) => (Protocol::Udp, false),
            (Some(name @ ("udplite" | "raw" | "dccp")), ..) => {
                return Err(CliError::new(format!("-M {name} is not supported (default, udp, icmp, tcp, tcpconn are)")))
            }
            (Some(other), ..) => return Err(CliError::new(format!("unknown traceroute module {other}"))),
        })
    }
}

/// `-M`'s names, offered to shell completion; any other is refused later with traceroute's message.
#[derive(Debug, Clone, Copy)]
struct ModuleName;

impl TypedValueParser for ModuleName {
    type Value = String;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        Ok(value.to_string_lossy().into_owned())
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(["default", "udp", "icmp", "tcp", "tcpconn"].into_iter().map(PossibleValue::new)))
    }
}

/// The trailing packet length.
fn packet_len(text: &str) -> Result<u32, CliError> {
    let len: u32 = text.parse().map_err(|_| CliError::new(format!("cannot handle packetlen `{text}'")))?;
    if len > MAX_PACKET_LEN {
        return Err(CliError::new(format!("too big packetlen {len} specified")));
    }
    Ok(len)
}
