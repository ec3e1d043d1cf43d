//! One reply as caracal writes it: a row of its 17-column CSV.

use core::net::Ipv6Addr;
use std::io::{self, Write};

use packet::MplsLabel;

/// A reply to a probe, in caracal's terms. Addresses are IPv6, IPv4 ones mapped (`::ffff:a.b.c.d`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// When the reply was captured, in microseconds since the Unix epoch (written in seconds, as caracal does).
    pub capture_timestamp: u64,
    /// The probe's protocol number (1, 17, 58).
    pub probe_protocol: u8,
    /// The probe's source: the reply's destination.
    pub probe_src_addr: Ipv6Addr,
    /// The probe's destination (for an Echo Reply, its sender).
    pub probe_dst_addr: Ipv6Addr,
    /// UDP source port, or the ICMP flow identifier.
    pub probe_src_port: u16,
    /// UDP destination port; 0 for ICMP.
    pub probe_dst_port: u16,
    /// The TTL the probe was sent with, from its length.
    pub probe_ttl: u8,
    /// The TTL the quoted probe had on arrival at the replier (0 for an Echo Reply).
    pub quoted_ttl: u8,
    /// Who replied.
    pub reply_src_addr: Ipv6Addr,
    /// The reply's protocol number (1 or 58).
    pub reply_protocol: u8,
    /// ICMP type.
    pub reply_icmp_type: u8,
    /// ICMP code.
    pub reply_icmp_code: u8,
    /// The reply's TTL or hop limit on arrival.
    pub reply_ttl: u8,
    /// IPv4 total length, or the IPv6 payload length.
    pub reply_size: u16,
    /// RFC 4950 MPLS label stack entries, outermost first.
    pub reply_mpls_labels: Vec<MplsLabel>,
    /// Round-trip time in tenths of a millisecond.
    pub rtt: u16,
}

impl Row {
    /// Caracal's header line (without the newline).
    pub const HEADER: &'static str = "capture_timestamp,probe_protocol,probe_src_addr,probe_dst_addr,probe_src_port,\
probe_dst_port,probe_ttl,quoted_ttl,reply_src_addr,reply_protocol,reply_icmp_type,reply_icmp_code,reply_ttl,\
reply_size,reply_mpls_labels,rtt,round";

    /// Writes the row and a newline, `round` in the last column: MPLS entries as `"[(label,exp,bottom,ttl),…]"`.
    pub fn write_csv(&self, out: &mut impl Write, round: &str) -> io::Result<()> {
        write!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},\"[",
            self.capture_timestamp / 1_000_000,
            self.probe_protocol,
            self.probe_src_addr,
            self.probe_dst_addr,
            self.probe_src_port,
            self.probe_dst_port,
            self.probe_ttl,
            self.quoted_ttl,
            self.reply_src_addr,
            self.reply_protocol,
            self.reply_icmp_type,
            self.reply_icmp_code,
            self.reply_ttl,
            self.reply_size,
        )?;
        for (i, l) in self.reply_mpls_labels.iter().enumerate() {
            let comma = if i == 0 { "" } else { "," };
            write!(out, "{comma}({},{},{},{})", l.label, l.tc, u8::from(l.bottom), l.ttl)?;
        }
        writeln!(out, "]\",{},{round}", self.rtt)
    }

    /// Whether the reply is a Time Exceeded message (ICMP 11 or ICMPv6 3).
    pub fn is_time_exceeded(&self) -> bool {
        matches!((self.reply_protocol, self.reply_icmp_type), (1, 11) | (58, 3))
    }

    /// Whether the reply came from the probe's destination (an Echo Reply or an Unreachable from the target).
    pub fn from_destination(&self) -> bool {
        self.reply_src_addr == self.probe_dst_addr
    }
}
