//! A received ICMP message into caracal's reply row, or the reason it is none.

use core::net::{IpAddr, Ipv6Addr};

use packet::QuotedTransport;
use packet::{Extensions, Icmpv4Packet, Icmpv4Repr, Icmpv6Packet, Icmpv6Repr, IpProtocol, Ipv4Packet, QuotedDatagram};

use super::row::Row;
use super::tag::{rtt_tenth_ms, tag, tenth_ms};

/// What a raw socket delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival<'a> {
    /// A whole IPv4 packet, as a raw IPv4 ICMP socket delivers it.
    V4(&'a [u8]),
    /// An ICMPv6 message, as a raw ICMPv6 socket delivers it, with what the kernel says beside it.
    V6 {
        /// The ICMPv6 message.
        message: &'a [u8],
        /// Its sender.
        from: Ipv6Addr,
        /// Its destination (our address).
        to: Ipv6Addr,
        /// Its hop limit on arrival.
        hop_limit: u8,
    },
}

/// How replies are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Check {
    /// The identifier mixed into every probe's integrity tag (`--caracal-id`).
    pub caracal_id: u16,
    /// Whether a reply whose tag does not match is rejected (caracal's default; `--no-integrity-check` clears it).
    pub integrity: bool,
}

/// Why a received message gives no row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Not a reply to a probe: another ICMP type, or an error quoting something else.
    Unrelated,
    /// Bytes that do not parse (or an ICMP checksum that does not verify).
    Malformed,
    /// A reply to a probe whose integrity tag does not match: forged, corrupted or another prober's.
    Integrity,
    /// A reply too short to carry its probe's integrity tag (an Echo Reply of 0–2 payload bytes, an ICMPv6 error
    /// quoting no payload): no genuine reply is, so it is dropped like a tag that does not match.
    Untagged,
}

impl From<packet::Error> for Rejection {
    fn from(_: packet::Error) -> Self {
        Rejection::Malformed
    }
}

/// The outer facts of a reply.
struct Outer {
    from: IpAddr,
    to: IpAddr,
    protocol: u8,
    icmp_type: u8,
    icmp_code: u8,
    ttl: u8,
    size: u16,
}

/// Decodes a reply captured at `capture_micros` (microseconds since the Unix epoch) into caracal's row.
///
/// Echo Replies, Time Exceeded and Destination Unreachable (either family) give rows, like caracal; an error must
/// quote a UDP datagram or an Echo Request. The integrity tag is checked where the reply carries it: in the quoted
/// IPv4 identification for ICMPv4 errors (as caracal does), else in the payload bytes after the checksum tweak,
/// which must then be there: a reply that stops before them is [`Rejection::Untagged`].
pub fn decode(arrival: Arrival<'_>, capture_micros: u64, check: Check) -> Result<Row, Rejection> {
    let now = tenth_ms(capture_micros);
    let mut row = match arrival {
        Arrival::V4(bytes) => {
            let ip = Ipv4Packet::new_checked(bytes)?;
            if ip.next_header() != IpProtocol::Icmp {
                return Err(Rejection::Unrelated);
            }
            let icmp = Icmpv4Packet::new_checked(ip.payload())?;
            let outer = Outer {
                from: IpAddr::V4(ip.src_addr()),
                to: IpAddr::V4(ip.dst_addr()),
                protocol: 1,
                icmp_type: icmp.msg_type(),
                icmp_code: icmp.msg_code(),
                ttl: ip.ttl(),
                size: ip.total_len(),
            };
            match Icmpv4Repr::parse(&icmp)? {
                Icmpv4Repr::EchoReply { ident, seq_no, data } => echo(&outer, ident, seq_no, data, now, check),
                Icmpv4Repr::TimeExceeded { quote, extensions, .. }
                | Icmpv4Repr::DstUnreachable { quote, extensions, .. } => error(&outer, quote, extensions, now, check),
                _ => Err(Rejection::Unrelated),
            }
        }
        Arrival::V6 { message, from, to, hop_limit } => {
            let icmp = Icmpv6Packet::new_checked(message)?;
            let outer = Outer {
                from: IpAddr::V6(from),
                to: IpAddr::V6(to),
                protocol: 58,
                icmp_type: icmp.msg_type(),
                icmp_code: icmp.msg_code(),
                ttl: hop_limit,
                size: u16::try_from(message.len()).map_err(|_| Rejection::Malformed)?,
            };
            match Icmpv6Repr::parse(&icmp, &from, &to)? {
                Icmpv6Repr::EchoReply { ident, seq_no, data } => echo(&outer, ident, seq_no, data, now, check),
                Icmpv6Repr::TimeExceeded { quote, extensions, .. }
                | Icmpv6Repr::DstUnreachable { quote, extensions, .. } => error(&outer, quote, extensions, now, check),
                _ => Err(Rejection::Unrelated),
            }
        }
    }?;
    row.capture_timestamp = capture_micros;
    Ok(row)
}

/// An Echo Reply: the probe's TTL from the echoed payload's length, its destination the replier (as caracal).
fn echo(outer: &Outer, ident: u16, seq: u16, data: &[u8], now: u64, check: Check) -> Result<Row, Rejection> {
    let probe_ttl = (data.len() as u8).wrapping_sub(2);
    let expected = tag(check.caracal_id, outer.from, ident, probe_ttl);
    if check.integrity {
        payload_tag(data, expected, probe_ttl)?;
    }
    Ok(row(outer, outer.from, (outer.protocol, ident, 0), probe_ttl, 0, Vec::new(), rtt_tenth_ms(now, seq)))
}

/// An ICMP error quoting a probe.
fn error(outer: &Outer, quote: &[u8], extensions: Option<&[u8]>, now: u64, check: Check) -> Result<Row, Rejection> {
    let datagram = QuotedDatagram::parse(quote)?;
    let ip = datagram.ip;
    // Bytes of the probe's payload past the header of its transport, when quoted.
    let payload = datagram.transport_bytes.get(8..).unwrap_or_default();
    let (protocol, src_port, dst_port, probe_ttl, stamp) = match datagram.transport {
        Some(QuotedTransport::Udp { src_port, dst_port, len, checksum }) => {
            (17, src_port, dst_port, (len as u8).wrapping_sub(10), checksum)
        }
        Some(QuotedTransport::Icmp { msg_type: 8 | 128, code: 0, ident, seq, .. }) => {
            let transport_len = ip.total_len.wrapping_sub(ip.header_len as u32);
            (outer.protocol, ident, 0, (transport_len as u8).wrapping_sub(10), seq)
        }
        Some(_) => return Err(Rejection::Unrelated),
        None => return Err(Rejection::Malformed),
    };
    if check.integrity {
        let expected = tag(check.caracal_id, ip.dst, src_port, probe_ttl);
        match ip.ident {
            Some(ident) if ident != expected => return Err(Rejection::Integrity),
            Some(_) => {}
            None => payload_tag(payload, expected, probe_ttl)?,
        }
    }
    let mpls =
        extensions.and_then(|e| Extensions::parse(e).ok()).map(|e| e.mpls_labels().collect()).unwrap_or_default();
    Ok(row(outer, ip.dst, (protocol, src_port, dst_port), probe_ttl, ip.ttl, mpls, rtt_tenth_ms(now, stamp)))
}

/// Checks the tag bytes after the two-byte tweak of a probe's `payload` against `expected` (as many as a probe of
/// `ttl` carries). A payload cut before them, or a probe that carries none (TTL 0), is [`Rejection::Untagged`]:
/// anyone could send it, for probes never sent.
fn payload_tag(payload: &[u8], expected: u16, ttl: u8) -> Result<(), Rejection> {
    let room = usize::from(ttl).min(2);
    let bytes = payload.get(2..2 + room).filter(|bytes| !bytes.is_empty()).ok_or(Rejection::Untagged)?;
    // Byte by byte: a slice comparison would call `memcmp` for two bytes, on the path of every reply.
    if bytes.iter().zip(expected.to_be_bytes()).all(|(a, b)| *a == b) {
        Ok(())
    } else {
        Err(Rejection::Integrity)
    }
}

fn row(
    outer: &Outer,
    probe_dst: IpAddr,
    (probe_protocol, probe_src_port, probe_dst_port): (u8, u16, u16),
    probe_ttl: u8,
    quoted_ttl: u8,
    reply_mpls_labels: Vec<packet::MplsLabel>,
    rtt: u16,
) -> Row {
    Row {
        capture_timestamp: 0,
        probe_protocol,
        probe_src_addr: packet::ip::to_v6(outer.to),
        probe_dst_addr: packet::ip::to_v6(probe_dst),
        probe_src_port,
        probe_dst_port,
        probe_ttl,
        quoted_ttl,
        reply_src_addr: packet::ip::to_v6(outer.from),
        reply_protocol: outer.protocol,
        reply_icmp_type: outer.icmp_type,
        reply_icmp_code: outer.icmp_code,
        reply_ttl: outer.ttl,
        reply_size: outer.size,
        reply_mpls_labels,
        rtt,
    }
}
