//! mtr 0.95's command line, when run as `mtr` or with `--mtr`: its letters, its meanings, its outputs.

use core::net::IpAddr;
use core::time::Duration;

use clap::{ArgAction, Parser};
use hoptrace_core::{Options, Protocol, Rounds, SocketOptions, WaitPolicy};

use super::{family, CliError};
use crate::settings::{Flows, Mode, MtrFormat, MtrStyle, Naming, Output, Settings};

/// mtr's field letters, in its order.
pub const FIELD_LETTERS: &str = " LDRSNBAWVGJMXI";

/// Traces the route to a host over and over, and reports loss and round-trip times per hop (mtr's options).
#[derive(Debug, Parser)]
#[command(name = "mtr", about, disable_help_flag = true, disable_version_flag = true)]
#[command(args_override_self = true)]
#[command(after_help = "Not supported: -F (hosts from a file), -S (SCTP), -g (GTK), -y (IP info services).")]
pub struct MtrArgs {
    /// Use IPv4 only.
    #[arg(short = '4', long = "inet")]
    ipv4: bool,
    /// Use IPv6 only.
    #[arg(short = '6', long = "inet6", conflicts_with = "ipv4")]
    ipv6: bool,
    /// Use UDP instead of ICMP echo.
    #[arg(short = 'u', long = "udp")]
    udp: bool,
    /// Use TCP instead of ICMP echo.
    #[arg(short = 'T', long = "tcp")]
    tcp: bool,
    /// Use the named network interface.
    #[arg(short = 'I', long = "interface", value_name = "NAME")]
    interface: Option<String>,
    /// Bind the outgoing socket to ADDRESS.
    #[arg(short = 'a', long = "address", value_name = "ADDRESS")]
    address: Option<String>,
    /// Set what TTL to start.
    #[arg(short = 'f', long = "first-ttl", value_name = "NUMBER")]
    first_ttl: Option<String>,
    /// Maximum number of hops.
    #[arg(short = 'm', long = "max-ttl", value_name = "NUMBER")]
    max_ttl: Option<String>,
    /// Maximum unknown (silent) hops.
    #[arg(short = 'U', long = "max-unknown", value_name = "NUMBER")]
    max_unknown: Option<String>,
    /// Target port number for TCP or UDP.
    #[arg(short = 'P', long = "port", value_name = "PORT")]
    port: Option<String>,
    /// Source port number for UDP.
    #[arg(short = 'L', long = "localport", value_name = "LOCALPORT")]
    localport: Option<String>,
    /// Packet size in bytes, headers included (negative: random, up to its size).
    #[arg(short = 's', long = "psize", value_name = "PACKETSIZE", allow_hyphen_values = true)]
    psize: Option<String>,
    /// Bit pattern of the payload (reported in --json and --xml).
    #[arg(short = 'B', long = "bitpattern", value_name = "NUMBER")]
    bitpattern: Option<String>,
    /// Seconds between rounds (default 1).
    #[arg(short = 'i', long = "interval", value_name = "SECONDS", allow_hyphen_values = true)]
    interval: Option<String>,
    /// Seconds to keep waiting for replies after the last probe (accepted; each probe waits up to -Z).
    #[arg(short = 'G', long = "gracetime", value_name = "SECONDS")]
    gracetime: Option<String>,
    /// Type of service field in the IP header.
    #[arg(short = 'Q', long = "tos", value_name = "NUMBER")]
    tos: Option<String>,
    /// Display information from ICMP extensions (MPLS).
    #[arg(short = 'e', long = "mpls")]
    mpls: bool,
    /// Seconds to keep a probe's socket open (how long a probe waits for its reply, default 10).
    #[arg(short = 'Z', long = "timeout", value_name = "SECONDS")]
    timeout: Option<String>,
    /// Mark each sent packet (SO_MARK).
    #[arg(short = 'M', long = "mark", value_name = "MARK")]
    mark: Option<String>,
    /// Output using report mode.
    #[arg(short = 'r', long = "report")]
    report: bool,
    /// Output wide report (host names not cut).
    #[arg(short = 'w', long = "report-wide")]
    report_wide: bool,
    /// Output comma separated values.
    #[arg(short = 'C', long = "csv")]
    csv: bool,
    /// Output raw format.
    #[arg(short = 'l', long = "raw")]
    raw: bool,
    /// Output for a split-user interface.
    #[arg(short = 'p', long = "split")]
    split: bool,
    /// Output the curses interface (the live screen).
    #[arg(short = 't', long = "curses")]
    curses: bool,
    /// The live screen's starting display mode (accepted; keys switch views).
    #[arg(long = "displaymode", value_name = "MODE")]
    displaymode: Option<String>,
    /// Output xml.
    #[arg(short = 'x', long = "xml")]
    xml: bool,
    /// Output json.
    #[arg(short = 'j', long = "json")]
    json: bool,
    /// Do not resolve host names.
    #[arg(short = 'n', long = "no-dns")]
    no_dns: bool,
    /// Show IP numbers and host names.
    #[arg(short = 'b', long = "show-ips")]
    show_ips: bool,
    /// Select output fields: letters of LDRSNBAWVGJMXI and spaces.
    #[arg(short = 'o', long = "order", value_name = "FIELDS", allow_hyphen_values = true)]
    order: Option<String>,
    /// Display AS number.
    #[arg(short = 'z', long = "aslookup")]
    aslookup: bool,
    /// Number of pings sent to each hop (default 10 in the report modes; the screen runs until q).
    #[arg(short = 'c', long = "report-cycles", value_name = "COUNT")]
    cycles: Option<String>,
    /// mtr's options from here on (as when run as `mtr`).
    #[arg(long = "mtr", hide = true)]
    mtr: bool,
    /// Refused by name.
    #[arg(short = 'F', long = "filename", hide = true)]
    filename: Option<String>,
    #[arg(short = 'S', long = "sctp", hide = true)]
    sctp: bool,
    #[arg(short = 'g', long = "gtk", hide = true)]
    gtk: bool,
    #[arg(short = 'y', long = "ipinfo", hide = true)]
    ipinfo: Option<String>,
    /// Display this help and exit.
    #[arg(short = 'h', long = "help", action = ArgAction::Help)]
    help: Option<bool>,
    /// Output version information and exit.
    #[arg(short = 'v', long = "version")]
    pub version: bool,
    /// The host to trace (default localhost).
    host: Option<String>,
    /// The display flag given last (mtr's getopt loop keeps the last).
    #[arg(skip)]
    last_display: Option<&'static str>,
}

/// The display flags, by argument id.
const DISPLAYS: [&str; 8] = ["curses", "json", "xml", "csv", "raw", "split", "report", "report_wide"];

/// What `mtr --version` prints: mtr's version, whose formats these are, then hoptrace's.
pub fn version() -> String {
    format!("mtr 0.95 (hoptrace {})", env!("HOPTRACE_VERSION"))
}

/// mtr's complaint about a value.
fn invalid(text: &str) -> CliError {
    CliError::new(format!("invalid argument: '{text}'"))
}

/// A whole number as `strtonum_or_err` reads it.
fn int(value: &Option<String>, default: i64) -> Result<i64, CliError> {
    match value {
        None => Ok(default),
        Some(text) => text.trim().parse().map_err(|_| invalid(text)),
    }
}

/// A number of seconds as `strtofloat_or_err` reads it.
fn float(value: &Option<String>, default: f64) -> Result<f64, CliError> {
    match value {
        None => Ok(default),
        Some(text) => text.trim().parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| invalid(text)),
    }
}

impl MtrArgs {
    /// Notes which display flag came last on the command line.
    pub fn display_from(mut self, matches: &clap::ArgMatches) -> Self {
        let given =
            |id: &&'static str| matches.get_flag(id).then(|| matches.index_of(id)).flatten().map(|at| (at, *id));
        self.last_display = DISPLAYS.iter().filter_map(given).max().map(|(_, id)| id);
        self
    }

    /// Checks the values as mtr 0.95 does, with its limits and messages.
    pub fn into_settings(self) -> Result<Settings, CliError> {
        let refused = [
            (self.filename.is_some(), "-F (hosts from a file)"),
            (self.sctp, "-S (SCTP probes)"),
            (self.gtk, "-g (the GTK interface)"),
            (self.ipinfo.is_some(), "-y (IP info services)"),
        ];
        if let Some((_, what)) = refused.iter().find(|(given, _)| *given) {
            return Err(CliError::new(format!("{what} is not supported")));
        }
        if u8::from(self.udp) + u8::from(self.tcp) > 1 {
            return Err(CliError::new("-u , -T and -S are mutually exclusive"));
        }
        let protocol = match (self.udp, self.tcp) {
            (true, _) => Protocol::Udp,
            (_, true) => Protocol::Tcp,
            _ => Protocol::Icmp,
        };
        let max_ttl = int(&self.max_ttl, 30)?.clamp(1, 255);
        let first_ttl = int(&self.first_ttl, 1)?.clamp(1, max_ttl);
        let max_unknown = int(&self.max_unknown, 12)?.clamp(1, 255);
        let port = match &self.port {
            Some(text) => {
                let port = int(&self.port, 0)?;
                Some(
                    u16::try_from(port)
                        .ok()
                        .filter(|&p| p > 0)
                        .ok_or_else(|| CliError::new(format!("Illegal port number: {}", text.trim())))?,
                )
            }
            None => (protocol == Protocol::Tcp).then_some(80),
        };
        let localport = match &self.localport {
            Some(text) => Some(
                u16::try_from(int(&self.localport, 0)?)
                    .ok()
                    .filter(|&p| p >= 1024)
                    .ok_or_else(|| CliError::new(format!("Illegal port number: {}", text.trim())))?,
            ),
            None => None,
        };
        let psize = int(&self.psize, 64)?;
        let bitpattern = int(&self.bitpattern, 0)?;
        // mtr: a TOS out of range is 0.
        let tos = u8::try_from(int(&self.tos, 0)?).unwrap_or(0);
        let interval = float(&self.interval, 1.0)?;
        if interval <= 0.0 {
            return Err(CliError::new("wait time must be positive"));
        }
        if float(&self.gracetime, 5.0)? <= 0.0 {
            return Err(CliError::new("wait time must be positive"));
        }
        let timeout = int(&self.timeout, 10)?;
        let mark = match &self.mark {
            Some(text) => Some(u32::try_from(int(&self.mark, 0)?).map_err(|_| invalid(text))?),
            None => None,
        };
        let source = match &self.address {
            Some(text) => Some(text.parse::<IpAddr>().map_err(|_| invalid(text))?),
            None => None,
        };
        let fields = match &self.order {
            Some(order) => fields(order)?,
            None => "LS NABWV".to_owned(),
        };
        if let Some(mode) = &self.displaymode {
            if !matches!(mode.trim().parse::<u8>(), Ok(0..=2)) {
                return Err(CliError::new(format!("value out of range (0 - 2): {mode}")));
            }
        }
        let output = self.output();
        let live = output == Output::Live;
        let rounds = match (&self.cycles, live) {
            (Some(text), _) => {
                Some(u32::try_from(int(&self.cycles, 0)?).ok().filter(|&c| c > 0).ok_or_else(|| invalid(text))?)
            }
            (None, true) => None,
            (None, false) => Some(10),
        };
        // mtr's packet: its IP and ICMP headers and the payload; a negative size asks for random sizes up to it.
        let packet_len = u16::try_from(psize.unsigned_abs().max(28)).map_err(|_| invalid(&psize.to_string()))?;

        let mut probing = Options::new(protocol);
        probing.family = family(self.ipv4, self.ipv6);
        probing.flows = Flows::Auto;
        probing.first_ttl = first_ttl as u8;
        probing.max_ttl = max_ttl as u8;
        // One probe per hop and round, none resent: mtr's count of what is lost.
        probing.probes_per_hop = 1;
        probing.retries = 0;
        probing.gap_limit = Some(max_unknown as u8);
        probing.wait = WaitPolicy {
            max: Duration::from_secs(u64::try_from(timeout).unwrap_or(0).clamp(1, 3600)),
            ..WaitPolicy::default()
        };
        probing.port = port;
        probing.packet_len = Some(u32::from(packet_len));
        probing.sockets = SocketOptions {
            source,
            interface: self.interface.clone(),
            tos: Some(tos).filter(|&tos| tos != 0),
            source_port: localport,
            fwmark: mark,
            ..SocketOptions::default()
        };
        if localport.is_some() {
            probing.max_in_flight = 1;
        }
        Ok(Settings {
            mode: Mode::Traceroute,
            host: self.host.unwrap_or_else(|| "localhost".to_owned()),
            more_hosts: Vec::new(),
            probing,
            naming: if self.no_dns { Naming::Numeric } else { Naming::NameAndAddress },
            back: false,
            as_lookups: self.aslookup,
            extensions: self.mpls,
            output,
            rounds: Rounds {
                count: rounds,
                flows: 1,
                interval: Duration::try_from_secs_f64(interval).map_err(|_| invalid(&interval.to_string()))?,
            },
            color: true,
            warts: None,
            mtr: Some(MtrStyle {
                fields,
                wide: self.report_wide,
                show_ips: self.show_ips && !self.no_dns,
                tos,
                bitpattern: u8::try_from(bitpattern).ok(),
                psize: psize as i32,
            }),
        })
    }

    /// The last display flag given wins, as in mtr; without one, the live screen.
    fn output(&self) -> Output {
        let format = match self.last_display {
            Some("json") => Some(MtrFormat::Json),
            Some("xml") => Some(MtrFormat::Xml),
            Some("csv") => Some(MtrFormat::Csv),
            Some("raw") => Some(MtrFormat::Raw),
            Some("split") => Some(MtrFormat::Split),
            Some("report" | "report_wide") => Some(MtrFormat::Report),
            Some(_) => None,
            None => self.any_display(),
        };
        format.map_or(Output::Live, Output::Mtr)
    }

    /// A display flag, when their order is not known.
    fn any_display(&self) -> Option<MtrFormat> {
        if self.curses {
            None
        } else if self.json {
            Some(MtrFormat::Json)
        } else if self.xml {
            Some(MtrFormat::Xml)
        } else if self.csv {
            Some(MtrFormat::Csv)
        } else if self.raw {
            Some(MtrFormat::Raw)
        } else if self.split {
            Some(MtrFormat::Split)
        } else if self.report || self.report_wide {
            Some(MtrFormat::Report)
        } else {
            None
        }
    }
}

/// `-o`'s letters, checked as mtr checks them.
fn fields(order: &str) -> Result<String, CliError> {
    if order.chars().count() > 2 * FIELD_LETTERS.len() {
        return Err(CliError::new(format!("Too many fields: {order}")));
    }
    match order.chars().find(|letter| !FIELD_LETTERS.contains(*letter)) {
        Some(letter) => {
            Err(CliError::new(format!("Unknown field identifier: {}", crate::escape::escape(&letter.to_string()))))
        }
        None => Ok(order.to_owned()),
    }
}
