//! Lenient parsing of the datagram quoted inside an ICMP error.
//!
//! Routers quote the IP header and at least 8 bytes of the transport header
//! (RFC 792), often more (RFC 1812, RFC 4443), and sometimes with mangled
//! lengths or checksums. Only the IP header itself is required here;
//! claimed lengths are reported but never used as bounds, and the quoted
//! IPv4 header checksum is reported (routers rewrite the TTL) but not
//! enforced.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::{be16, be32, checksum, Error, IpProtocol, Result};

/// IP-level facts about a quoted datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QuotedIp {
    /// Source address (our probe's source).
    pub src: IpAddr,
    /// Destination address (our probe's target).
    pub dst: IpAddr,
    /// Upper-layer protocol; for IPv6, after skipping complete extension
    /// headers (an extension header number if one was cut off).
    pub protocol: IpProtocol,
    /// TTL / hop limit as it arrived at the quoting router.
    pub ttl: u8,
    /// IPv4 identification (`None` for IPv6).
    pub ident: Option<u16>,
    /// Claimed length of the whole datagram including the IP header
    /// (IPv4 total length; IPv6 40 + payload length). Not trusted.
    pub total_len: u32,
    /// IPv4 TOS byte / IPv6 traffic class.
    pub tos: u8,
    /// IPv6 flow label (`None` for IPv4).
    pub flow_label: Option<u32>,
    /// Bytes of IP header skipped (IHL × 4, or 40 + extension headers).
    pub header_len: usize,
    /// Fragment offset in bytes (IPv4 header or IPv6 fragment header).
    pub frag_offset: u16,
    /// Whether the quoted IPv4 header checksum verifies (`None` for IPv6).
    pub checksum_valid: Option<bool>,
}

/// The first 8 bytes of the quoted transport header, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QuotedTransport {
    /// UDP header.
    Udp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// Claimed length.
        len: u16,
        /// Checksum (the Paris traceroute probe identifier, possibly).
        checksum: u16,
    },
    /// First 8 bytes of a TCP header.
    Tcp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// Sequence number.
        seq: u32,
    },
    /// ICMP header (ICMPv4 inside IPv4, ICMPv6 inside IPv6).
    Icmp {
        /// Type.
        msg_type: u8,
        /// Code.
        code: u8,
        /// Checksum.
        checksum: u16,
        /// Echo identifier (bytes 4–5).
        ident: u16,
        /// Echo sequence number (bytes 6–7).
        seq: u16,
    },
    /// Any other protocol: the raw first 8 bytes.
    Other {
        /// Bytes 0–7 after the IP header.
        bytes: [u8; 8],
    },
}

/// A datagram quoted inside an ICMP error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QuotedDatagram<'a> {
    /// The quoted IP header.
    pub ip: QuotedIp,
    /// Decoded transport header when ≥ 8 bytes of it were quoted and the
    /// datagram is not a non-first fragment.
    pub transport: Option<QuotedTransport>,
    /// Every quoted byte after the IP header (any length, may include
    /// RFC 4884 zero padding).
    pub transport_bytes: &'a [u8],
}

impl<'a> QuotedDatagram<'a> {
    /// Parses a quote. Errors: empty or shorter than the IP header
    /// (`Truncated`), unknown version or IHL < 5 (`Malformed`).
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        let first = *bytes.first().ok_or(Error::Truncated)?;
        match first >> 4 {
            4 => Self::parse_v4(bytes),
            6 => Self::parse_v6(bytes),
            _ => Err(Error::Malformed),
        }
    }

    fn parse_v4(b: &'a [u8]) -> Result<Self> {
        if b.len() < 20 {
            return Err(Error::Truncated);
        }
        let hl = usize::from(b[0] & 0x0f) * 4;
        if hl < 20 {
            return Err(Error::Malformed);
        }
        let header = b.get(..hl).ok_or(Error::Truncated)?;
        let protocol = IpProtocol::from(b[9]);
        let frag_offset = (be16(b, 6) & 0x1fff) << 3;
        let ip = QuotedIp {
            src: IpAddr::V4(Ipv4Addr::new(b[12], b[13], b[14], b[15])),
            dst: IpAddr::V4(Ipv4Addr::new(b[16], b[17], b[18], b[19])),
            protocol,
            ttl: b[8],
            ident: Some(be16(b, 4)),
            total_len: u32::from(be16(b, 2)),
            tos: b[1],
            flow_label: None,
            header_len: hl,
            frag_offset,
            checksum_valid: Some(checksum::data(header) == 0xffff),
        };
        Ok(Self::finish(ip, &b[hl..], protocol == IpProtocol::Icmp))
    }

    fn parse_v6(b: &'a [u8]) -> Result<Self> {
        if b.len() < 40 {
            return Err(Error::Truncated);
        }
        let mut next = b[6];
        let mut off = 40;
        let mut frag_offset = 0;
        loop {
            let rest = &b[off..];
            let len = match next {
                44 if rest.len() >= 8 => {
                    frag_offset = be16(rest, 2) & 0xfff8;
                    8
                }
                0 | 43 | 60 if rest.len() >= 2 => (usize::from(rest[1]) + 1) * 8,
                _ => break,
            };
            if len > rest.len() {
                break;
            }
            next = rest[0];
            off += len;
        }
        let protocol = IpProtocol::from(next);
        let ip = QuotedIp {
            src: IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(&b[8..24]).unwrap_or_default())),
            dst: IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(&b[24..40]).unwrap_or_default())),
            protocol,
            ttl: b[7],
            ident: None,
            total_len: 40 + u32::from(be16(b, 4)),
            tos: (be16(b, 0) >> 4) as u8,
            flow_label: Some(be32(b, 0) & 0x000f_ffff),
            header_len: off,
            frag_offset,
            checksum_valid: None,
        };
        Ok(Self::finish(ip, &b[off..], protocol == IpProtocol::Icmpv6))
    }

    fn finish(ip: QuotedIp, rest: &'a [u8], is_icmp: bool) -> Self {
        let transport = match rest.first_chunk::<8>() {
            Some(t) if ip.frag_offset == 0 => Some(match ip.protocol {
                IpProtocol::Udp => QuotedTransport::Udp {
                    src_port: be16(t, 0),
                    dst_port: be16(t, 2),
                    len: be16(t, 4),
                    checksum: be16(t, 6),
                },
                IpProtocol::Tcp => QuotedTransport::Tcp { src_port: be16(t, 0), dst_port: be16(t, 2), seq: be32(t, 4) },
                _ if is_icmp => QuotedTransport::Icmp {
                    msg_type: t[0],
                    code: t[1],
                    checksum: be16(t, 2),
                    ident: be16(t, 4),
                    seq: be16(t, 6),
                },
                _ => QuotedTransport::Other { bytes: *t },
            }),
            _ => None,
        };
        QuotedDatagram { ip, transport, transport_bytes: rest }
    }
}
