//! The command line: `traceroute(8)`'s flags, same letters, same meanings.

use core::net::IpAddr;

use clap::Parser;

/// Print the route packets take to a network host.
#[derive(Debug, Parser)]
#[command(name = "hoptrace", version, about)]
pub struct Args {
    /// Use IPv4.
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// Use IPv6.
    #[arg(short = '6')]
    pub ipv6: bool,
    /// Use ICMP ECHO for tracerouting.
    #[arg(short = 'I', long = "icmp", conflicts_with_all = ["tcp", "udp"])]
    pub icmp: bool,
    /// Use TCP SYN for tracerouting (default port 80).
    #[arg(short = 'T', long = "tcp", conflicts_with = "udp")]
    pub tcp: bool,
    /// Use UDP to a particular port for tracerouting (default port 53).
    #[arg(short = 'U', long = "udp")]
    pub udp: bool,
    /// Do not resolve IP addresses to their domain names.
    #[arg(short = 'n')]
    pub numeric: bool,
    /// Start from the first_ttl hop (instead of 1).
    #[arg(short = 'f', long = "first", value_name = "first_ttl", default_value_t = 1,
          value_parser = clap::value_parser!(u8).range(1..))]
    pub first_ttl: u8,
    /// Set the max number of hops (max TTL to be reached).
    #[arg(short = 'm', long = "max-hops", value_name = "max_ttl", default_value_t = 30,
          value_parser = clap::value_parser!(u8).range(1..))]
    pub max_ttl: u8,
    /// Set the number of probes per each hop.
    #[arg(short = 'q', long = "queries", value_name = "nqueries", default_value_t = 3,
          value_parser = clap::value_parser!(u8).range(1..=10))]
    pub queries: u8,
    /// Wait for a probe no more than MAX seconds, HERE times a same-hop RTT, NEAR times a farther hop's RTT.
    #[arg(short = 'w', long = "wait", value_name = "MAX,HERE,NEAR", default_value = "5.0,3,10")]
    pub wait: String,
    /// Set the number of probes to be tried simultaneously.
    #[arg(short = 'N', long = "sim-queries", value_name = "squeries", default_value_t = 16,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub sim_queries: u16,
    /// Minimal time interval between probes (seconds, or milliseconds if above 10).
    #[arg(short = 'z', long = "sendwait", value_name = "sendwait", default_value = "0")]
    pub sendwait: String,
    /// The destination port base (UDP), or the port (TCP, UDP with -U).
    #[arg(short = 'p', long = "port", value_name = "port")]
    pub port: Option<u16>,
    /// Use source address.
    #[arg(short = 's', long = "source", value_name = "src_addr")]
    pub source: Option<IpAddr>,
    /// Specify a network interface to operate with.
    #[arg(short = 'i', long = "interface", value_name = "device")]
    pub interface: Option<String>,
    /// Set the TOS (IPv4 type of service) or TC (IPv6 traffic class) value for outgoing packets.
    #[arg(short = 't', long = "tos", value_name = "tos")]
    pub tos: Option<u8>,
    /// Do not fragment packets.
    #[arg(short = 'F', long = "dont-fragment")]
    pub dont_fragment: bool,
    /// Use ordinary sockets even when raw sockets are allowed.
    #[arg(long = "unprivileged")]
    pub unprivileged: bool,
    /// The host to trace.
    pub host: String,
    /// The full packet length (default 60 for IPv4, 80 for IPv6).
    pub packet_len: Option<u16>,
}

/// Parses the command line, exiting with clap's message on bad input.
pub fn parse() -> Args {
    Args::parse()
}
