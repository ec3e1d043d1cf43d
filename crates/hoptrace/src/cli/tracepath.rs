//! iputils `tracepath(8)`'s command line: `-4 -6 -n -b -l -m -p`.

use core::time::Duration;

use clap::{ArgAction, Parser};
use hoptrace_core::{Options, Privilege, Protocol, RetryScope, Rounds, SocketOptions, WaitPolicy};

use super::{bad_arg, family, CliError};
use crate::settings::{Flows, Mode, Naming, Output, Settings};

/// Traces path to a network host discovering MTU along this path.
#[derive(Debug, Parser)]
#[command(name = "tracepath", version = env!("HOPTRACE_VERSION"), about, disable_help_flag = true)]
#[command(arg_required_else_help = true, args_override_self = true)]
pub struct TracepathArgs {
    /// Use IPv4 only.
    #[arg(short = '4')]
    ipv4: bool,
    /// Use IPv6 only.
    #[arg(short = '6', conflicts_with = "ipv4")]
    ipv6: bool,
    /// Print both name and IP.
    #[arg(short = 'b')]
    both: bool,
    /// Use packet pktlen (bytes, headers included).
    #[arg(short = 'l', value_name = "pktlen")]
    pktlen: Option<String>,
    /// Use maximum max_hops (default 30).
    #[arg(short = 'm', value_name = "max_hops")]
    max_hops: Option<String>,
    /// No DNS name resolution.
    #[arg(short = 'n')]
    numeric: bool,
    /// Use destination port.
    #[arg(short = 'p', value_name = "port")]
    port: Option<String>,
    /// Print help and exit.
    #[arg(short = 'h', long = "help", action = ArgAction::Help)]
    help: Option<bool>,
    /// The host to trace.
    host: String,
}

impl TracepathArgs {
    /// Checks the values as `tracepath(8)` does.
    pub fn into_settings(self) -> Result<Settings, CliError> {
        let max_ttl = match &self.max_hops {
            None => 30,
            Some(text) => text.parse::<u8>().ok().filter(|&m| m > 0).ok_or_else(|| bad_arg("-m", text))?,
        };
        let port = self.port.as_deref().map(|text| text.parse::<u16>().map_err(|_| bad_arg("-p", text))).transpose()?;
        // iputils asks for 128000 bytes on IPv6, more than any packet: refused locally, it learns the local MTU
        // (loopback's 65536, more than a probe's 65535). On IPv4 it asks for 65535, where 128000 is cut to here.
        let packet_len = match &self.pktlen {
            None => 128_000,
            Some(text) => text
                .parse::<u32>()
                .ok()
                .filter(|&len| (28..=i32::MAX as u32).contains(&len))
                .ok_or_else(|| bad_arg("-l", text))?,
        };
        let naming = match (self.numeric, self.both) {
            (true, _) => Naming::Numeric,
            (false, true) => Naming::Both,
            (false, false) => Naming::NameOnly,
        };
        let mut probing = Options::new(Protocol::Udp);
        probing.family = family(self.ipv4, self.ipv6);
        probing.flows = Flows::Classic;
        probing.privilege = Privilege::Unprivileged;
        probing.max_ttl = max_ttl;
        // One probe per TTL, up to three tries, one at a time, each waiting up to a second: tracepath's way.
        probing.probes_per_hop = 1;
        probing.retries = 2;
        probing.retry_scope = RetryScope::AllHops;
        probing.gap_limit = None;
        probing.wait = WaitPolicy::traceroute(Duration::from_secs(1), 0.0, 0.0);
        probing.max_in_flight = 1;
        probing.port = Some(port.unwrap_or(44444));
        probing.sockets = SocketOptions { dont_fragment: true, ..SocketOptions::default() };
        probing.discover_mtu = true;
        probing.packet_len = Some(packet_len);
        Ok(Settings {
            mode: Mode::Tracepath,
            host: self.host,
            more_hosts: Vec::new(),
            probing,
            naming,
            back: false,
            as_lookups: false,
            extensions: false,
            output: Output::Text,
            rounds: Rounds { interval: Duration::ZERO, ..Rounds::new(1) },
            color: true,
            warts: None,
            mtr: None,
        })
    }
}
