//! `hoptrace bulk`'s command line: caracal's flags, with caracal's meanings and defaults.

use core::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use clap::Parser;

/// Stateless probing in caracal's manner: probe specifications `dst_addr,src_port,dst_port,ttl,protocol` on stdin,
/// caracal's reply CSV on stdout, logs and a summary on stderr. Needs raw sockets (root or CAP_NET_RAW).
#[derive(Debug, Clone, Parser)]
#[command(name = "hoptrace bulk", version, about, long_about = None, disable_version_flag = true)]
pub struct BulkArgs {
    /// Probing rate in packets per second.
    #[arg(short = 'r', long = "probing-rate", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub probing_rate: u64,
    /// Interface from which to send the packets.
    #[arg(short = 'z', long)]
    pub interface: Option<String>,
    /// Route each probe through the routing table (and the firewall's OUTPUT rules), rather than hand them all to
    /// the interface for one gateway, as caracal does.
    #[arg(long)]
    pub routed: bool,
    /// Number of probes to send before calling the rate limiter.
    #[arg(short = 'B', long = "batch-size", default_value_t = 128, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub batch_size: u64,
    /// Minimum log level (accepted for caracal's sake; only warnings and the summary are written).
    #[arg(short = 'L', long = "log-level", default_value = "info")]
    pub log_level: String,
    /// Number of packets to send per probe.
    #[arg(short = 'N', long = "n-packets", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=255))]
    pub n_packets: u64,
    /// Maximum number of probes to send (unlimited by default).
    #[arg(short = 'P', long = "max-probes")]
    pub max_probes: Option<u64>,
    /// The IPv4 source address of the probes (default: the route's).
    #[arg(long = "source-address-v4")]
    pub source_v4: Option<Ipv4Addr>,
    /// The IPv6 source address of the probes (default: the route's).
    #[arg(long = "source-address-v6")]
    pub source_v6: Option<Ipv6Addr>,
    /// Time in seconds to wait after sending the probes to stop the sniffer (fractions allowed; with --targets,
    /// also the wait between passes).
    #[arg(short = 'W', long = "sniffer-wait-time", default_value_t = 1.0, value_parser = seconds)]
    pub sniffer_wait_time: f64,
    /// Method to limit the rate (accepted for caracal's sake: hoptrace always sleeps between batches).
    #[arg(long = "rate-limiting-method", default_value = "auto", value_parser = ["auto", "active", "sleep", "none"])]
    pub rate_limiting_method: String,
    /// Do not send probes to prefixes specified in file (deny list).
    #[arg(long = "filter-from-prefix-file-excl")]
    pub prefix_excl: Option<PathBuf>,
    /// Do not send probes to prefixes *not* specified in file (allow list).
    #[arg(long = "filter-from-prefix-file-incl")]
    pub prefix_incl: Option<PathBuf>,
    /// Do not send probes with ttl < min_ttl.
    #[arg(long = "filter-min-ttl")]
    pub filter_min_ttl: Option<u8>,
    /// Do not send probes with ttl > max_ttl.
    #[arg(long = "filter-max-ttl")]
    pub filter_max_ttl: Option<u8>,
    /// Identifier encoded in the probes (random by default).
    #[arg(long = "caracal-id")]
    pub caracal_id: Option<u16>,
    /// Value of the round column in the CSV output.
    #[arg(long = "meta-round", default_value = "1")]
    pub meta_round: String,
    /// Do not check that replies match valid probes.
    #[arg(long = "no-integrity-check")]
    pub no_integrity_check: bool,
    /// Probe broadcast, unspecified, loopback and multicast destinations too (by default they are skipped, and
    /// counted in the summary).
    #[arg(long = "allow-special-destinations")]
    pub allow_special: bool,
    /// At most this many probes per destination address per second (0: no cap); a probe over it waits.
    #[arg(long = "max-per-destination", default_value_t = 100)]
    pub max_per_destination: u32,
    /// Trace the targets in FILE (`-`: stdin) instead of reading probe specifications: one address, name or prefix
    /// per line (a prefix: one address in each /24 or /64 of it); one trace per target on stdout.
    #[arg(long = "targets", value_name = "FILE")]
    pub targets: Option<std::path::PathBuf>,
    /// With --targets: the highest TTL probed.
    #[arg(short = 'm', long = "max-ttl", default_value_t = 30, value_parser = clap::value_parser!(u8).range(1..=64))]
    pub max_ttl: u8,
    /// With --targets: stop a target after this many silent TTLs past its farthest answer.
    #[arg(long = "gap-limit", default_value_t = 5, value_parser = clap::value_parser!(u8).range(1..))]
    pub gap_limit: u8,
    /// With --targets: the probes' protocol (Paris: one flow per target).
    #[arg(long = "protocol", default_value = "udp", value_parser = ["udp", "icmp"])]
    pub protocol: String,
    /// With --targets: one JSON line per target, in the schema of `hoptrace --json` (the default).
    #[arg(long = "json", requires = "targets", conflicts_with = "text")]
    pub json: bool,
    /// With --targets: traceroute's text instead of JSON lines.
    #[arg(long = "text")]
    pub text: bool,
    /// With --targets: MDA — each hop probed in new flows until its stopping point (one JSON graph per target, as
    /// `hoptrace --mda --json`).
    #[arg(long = "mda")]
    pub mda: bool,
    /// With --mda: the confidence that no branch is missed at a hop, in percent: 95, 99 or 99.9.
    #[arg(long = "confidence", default_value = "95", value_parser = confidence)]
    pub confidence: hoptrace_core::Confidence,
    /// With --targets: scamper's warts on stdout instead; with =FILE, into FILE beside the JSON (or text).
    #[arg(long = "warts", value_name = "FILE", num_args = 0..=1, require_equals = true, default_missing_value = "-")]
    pub warts: Option<std::path::PathBuf>,
}

fn confidence(text: &str) -> Result<hoptrace_core::Confidence, String> {
    hoptrace_core::Confidence::from_percent(text).ok_or_else(|| format!("`{text}' is not 95, 99 or 99.9"))
}

fn seconds(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|s| (0.0..=3600.0).contains(s))
        .ok_or_else(|| format!("`{text}' is not 0 to 3600 seconds"))
}

#[cfg(test)]
mod tests {
    use crate::cli::{parse, Request};

    fn bulk(args: &[&str]) -> Result<super::BulkArgs, String> {
        match parse(args.iter().map(Into::into)) {
            Ok(Request::Bulk(args)) => Ok(*args),
            Ok(other) => Err(format!("not bulk: {other:?}")),
            Err(error) => Err(error.to_string()),
        }
    }

    #[test]
    fn caracals_flags_and_defaults() {
        let args = bulk(&["hoptrace", "bulk"]).unwrap();
        assert_eq!((args.probing_rate, args.batch_size, args.n_packets, args.sniffer_wait_time), (100, 128, 1, 1.0));
        assert_eq!((args.meta_round.as_str(), args.no_integrity_check, args.caracal_id), ("1", false, None));
        let args = bulk(&[
            "/usr/bin/caracal",
            "-r",
            "5000",
            "-B",
            "64",
            "-N",
            "2",
            "-P",
            "10",
            "-W",
            "0.5",
            "-z",
            "eth0",
            "--meta-round",
            "7",
            "--caracal-id",
            "42",
            "--no-integrity-check",
            "--filter-min-ttl",
            "2",
            "--filter-max-ttl",
            "30",
            "--source-address-v4",
            "198.18.0.1",
            "--source-address-v6",
            "2001:db8::1",
        ])
        .unwrap();
        assert_eq!((args.probing_rate, args.batch_size, args.n_packets, args.max_probes), (5000, 64, 2, Some(10)));
        assert_eq!(
            (args.sniffer_wait_time, args.interface.as_deref(), args.meta_round.as_str()),
            (0.5, Some("eth0"), "7")
        );
        assert_eq!((args.caracal_id, args.no_integrity_check), (Some(42), true));
        assert_eq!((args.filter_min_ttl, args.filter_max_ttl), (Some(2), Some(30)));
        assert!(args.source_v4.is_some() && args.source_v6.is_some());
    }

    #[test]
    fn bad_values_are_one_line_each() {
        for (args, word) in [
            (&["hoptrace", "bulk", "-r", "0"][..], "--probing-rate"),
            (&["hoptrace", "bulk", "-W", "forever"], "forever"),
            (&["caracal", "--confidence", "50"], "confidence"),
            (&["caracal", "--protocol", "tcp"], "protocol"),
            (&["caracal", "--json"], "--targets"),
            (&["caracal", "--targets", "-", "--json", "--text"], "--text"),
        ] {
            let error = bulk(args).unwrap_err();
            assert!(error.contains(word) && !error.contains('\n'), "{args:?}: {error}");
        }
    }
}
