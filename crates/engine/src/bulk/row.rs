//! One reply in caracal's terms: a row of its 17-column CSV (written by the command line's renderer).

use core::net::Ipv6Addr;

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
    /// Whether the reply is a Time Exceeded message (ICMP 11 or ICMPv6 3).
    pub fn is_time_exceeded(&self) -> bool {
        matches!((self.reply_protocol, self.reply_icmp_type), (1, 11) | (58, 3))
    }

    /// Whether the reply came from the probe's destination (an Echo Reply or an Unreachable from the target).
    pub fn from_destination(&self) -> bool {
        self.reply_src_addr == self.probe_dst_addr
    }
}
