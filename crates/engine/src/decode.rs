//! Raw packets from raw sockets (or the simulator) into [`Reply`] values.

use core::fmt;
use core::net::IpAddr;

use packet::{
    Extensions, Icmpv4Packet, Icmpv4Repr, Icmpv4Unreachable, Icmpv6Packet, Icmpv6Repr, Icmpv6Unreachable, IpProtocol,
    Ipv4Packet, MplsLabel, QuotedDatagram, QuotedTransport, TcpFlags, TcpPacket,
};

use crate::reply::{ErrorClass, IcmpError, Quote, QuotedProbe, Reply, ReplyKind, TcpAnswer, Unreachable};

/// Why received bytes are not a reply the engine can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The bytes do not parse.
    Malformed(packet::Error),
    /// A well-formed message that is no reply to a probe (an Echo Request, a Redirect, a TCP segment without
    /// SYN-ACK or RST…).
    NotAReply,
    /// An ICMP error whose quote is too short to identify a probe.
    ShortQuote,
}

impl From<packet::Error> for DecodeError {
    fn from(error: packet::Error) -> Self {
        DecodeError::Malformed(error)
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Malformed(error) => write!(f, "malformed reply: {error}"),
            DecodeError::NotAReply => f.write_str("not a reply to a probe"),
            DecodeError::ShortQuote => f.write_str("quoted probe too short"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// A whole IPv4 packet, as a raw IPv4 socket delivers it (ICMP or TCP inside).
pub fn ipv4_packet(bytes: &[u8]) -> Result<Reply, DecodeError> {
    let ip = Ipv4Packet::new_checked(bytes)?;
    let from = IpAddr::V4(ip.src_addr());
    let ttl = Some(ip.ttl());
    let size = Some(ip.total_len());
    let kind = match ip.next_header() {
        IpProtocol::Icmp => icmpv4(ip.payload())?,
        IpProtocol::Tcp => tcp(ip.payload())?,
        _ => return Err(DecodeError::NotAReply),
    };
    Ok(Reply { from, ttl, size, kind })
}

/// The payload of an IPv6 packet with next header `protocol` (ICMPv6 or TCP), as a raw IPv6 socket delivers it, with the
/// sender, our address and the hop limit the kernel reports beside it. The ICMPv6 checksum is verified when `to`
/// is an IPv6 address.
pub fn ipv6_payload(
    bytes: &[u8],
    protocol: IpProtocol,
    from: IpAddr,
    to: IpAddr,
    hop_limit: Option<u8>,
) -> Result<Reply, DecodeError> {
    let kind = match protocol {
        IpProtocol::Icmpv6 => icmpv6(bytes, from, to)?,
        IpProtocol::Tcp => tcp(bytes)?,
        _ => return Err(DecodeError::NotAReply),
    };
    let size = u16::try_from(bytes.len() + 40).ok();
    Ok(Reply { from, ttl: hop_limit, size, kind })
}

fn icmpv4(bytes: &[u8]) -> Result<ReplyKind, DecodeError> {
    let packet = Icmpv4Packet::new_checked(bytes)?;
    let (icmp_type, icmp_code) = (packet.msg_type(), packet.msg_code());
    let (mtu, quote, extensions) = match Icmpv4Repr::parse(&packet)? {
        Icmpv4Repr::EchoReply { ident, seq_no, data } => {
            return Ok(ReplyKind::EchoReply { ident, seq: seq_no, tag: crate::reply::payload_tag(data) })
        }
        Icmpv4Repr::TimeExceeded { quote, extensions, .. } => (None, quote, extensions),
        Icmpv4Repr::DstUnreachable { next_hop_mtu, quote, extensions, .. } => {
            (Some(u32::from(next_hop_mtu)), quote, extensions)
        }
        _ => return Err(DecodeError::NotAReply),
    };
    icmp_error(false, icmp_type, icmp_code, mtu, quote, extensions)
}

fn icmpv6(bytes: &[u8], from: IpAddr, to: IpAddr) -> Result<ReplyKind, DecodeError> {
    let packet = Icmpv6Packet::new_checked(bytes)?;
    let repr = match (from, to) {
        (IpAddr::V6(from), IpAddr::V6(to)) => Icmpv6Repr::parse(&packet, &from, &to)?,
        _ => Icmpv6Repr::parse_unverified(&packet)?,
    };
    let (icmp_type, icmp_code) = (packet.msg_type(), packet.msg_code());
    let (mtu, quote, extensions) = match repr {
        Icmpv6Repr::EchoReply { ident, seq_no, data } => {
            return Ok(ReplyKind::EchoReply { ident, seq: seq_no, tag: crate::reply::payload_tag(data) })
        }
        Icmpv6Repr::TimeExceeded { quote, extensions, .. } => (None, quote, extensions),
        Icmpv6Repr::PacketTooBig { mtu, quote } => (Some(mtu), quote, None),
        Icmpv6Repr::DstUnreachable { quote, extensions, .. } => (None, quote, extensions),
        _ => return Err(DecodeError::NotAReply),
    };
    icmp_error(true, icmp_type, icmp_code, mtu, quote, extensions)
}

/// An ICMP error of the family `ipv6` says, classified; `mtu` counts only for Packet Too Big.
fn icmp_error(
    ipv6: bool,
    icmp_type: u8,
    icmp_code: u8,
    mtu: Option<u32>,
    quote: &[u8],
    extensions: Option<&[u8]>,
) -> Result<ReplyKind, DecodeError> {
    let class = error_class(ipv6, icmp_type, icmp_code).ok_or(DecodeError::NotAReply)?;
    let mtu = mtu.filter(|&mtu| class == ErrorClass::PacketTooBig && mtu != 0);
    let quote = quoted_probe(quote)?;
    let mpls = extensions.map(mpls_labels).unwrap_or_default();
    Ok(ReplyKind::IcmpError(IcmpError { class, icmp_type, icmp_code, mtu, quote, mpls }))
}

/// The MPLS label stack in an RFC 4884 extension structure, if it holds one (none if it is malformed).
pub fn mpls_labels(extensions: &[u8]) -> Vec<MplsLabel> {
    Extensions::parse(extensions).map(|extensions| extensions.mpls_labels().collect()).unwrap_or_default()
}

/// The probe quoted in an ICMP error, as far as it identifies one.
pub fn quoted_probe(bytes: &[u8]) -> Result<Quote, DecodeError> {
    let datagram = QuotedDatagram::parse(bytes)?;
    // The payload's tag, for UDP and echo probes (both have an 8-byte header).
    let tag = datagram.transport_bytes.get(8..).and_then(crate::reply::payload_tag);
    let probe = match datagram.transport.ok_or(DecodeError::ShortQuote)? {
        QuotedTransport::Udp { src_port, dst_port, checksum, .. } => {
            QuotedProbe::Udp { src_port, dst_port, checksum: Some(checksum), tag }
        }
        QuotedTransport::Tcp { src_port, dst_port, seq } => QuotedProbe::Tcp { src_port, dst_port, seq: Some(seq) },
        QuotedTransport::Icmp {
            msg_type: packet::icmpv4::msg_type::ECHO_REQUEST | packet::icmpv6::msg_type::ECHO_REQUEST,
            code: 0,
            checksum,
            ident,
            seq,
        } => QuotedProbe::Icmp { ident, seq, checksum: Some(checksum), tag },
        _ => return Err(DecodeError::NotAReply), // other ICMP messages, other protocols
    };
    let ip = datagram.ip;
    Ok(Quote { src: Some(ip.src), dst: ip.dst, ttl: Some(ip.ttl), ip_id: ip.ident, probe })
}

fn tcp(bytes: &[u8]) -> Result<ReplyKind, DecodeError> {
    let segment = TcpPacket::new_checked(bytes)?;
    let flags = segment.flags();
    let reset = flags.contains(TcpFlags::RST);
    if !reset && !flags.contains(TcpFlags::SYN | TcpFlags::ACK) {
        return Err(DecodeError::NotAReply);
    }
    let ack = flags.contains(TcpFlags::ACK).then(|| segment.ack_number());
    Ok(ReplyKind::Tcp(TcpAnswer { src_port: segment.src_port(), dst_port: segment.dst_port(), reset, ack }))
}

/// The meaning of an ICMP (`ipv6` false) or ICMPv6 error type and code, or `None` for other messages.
pub fn error_class(ipv6: bool, icmp_type: u8, icmp_code: u8) -> Option<ErrorClass> {
    use packet::{icmpv4, icmpv6};
    match (ipv6, icmp_type) {
        (false, icmpv4::msg_type::TIME_EXCEEDED) | (true, icmpv6::msg_type::TIME_EXCEEDED) => {
            Some(ErrorClass::TimeExceeded)
        }
        (false, icmpv4::msg_type::DST_UNREACHABLE) => match Icmpv4Unreachable::from(icmp_code) {
            Icmpv4Unreachable::FragRequired => Some(ErrorClass::PacketTooBig),
            code => Some(ErrorClass::Unreachable(unreachable_v4(code.into()))),
        },
        (true, icmpv6::msg_type::DST_UNREACHABLE) => Some(ErrorClass::Unreachable(unreachable_v6(icmp_code))),
        (true, icmpv6::msg_type::PACKET_TOO_BIG) => Some(ErrorClass::PacketTooBig),
        _ => None,
    }
}

/// The meaning of an ICMPv4 Destination Unreachable code, as `traceroute(8)` annotates it.
pub fn unreachable_v4(code: u8) -> Unreachable {
    use Icmpv4Unreachable as Code;
    match Code::from(code) {
        Code::NetUnreachable | Code::DstNetUnknown | Code::SrcHostIsolated | Code::NetUnreachToS => {
            Unreachable::Network
        }
        Code::HostUnreachable | Code::DstHostUnknown | Code::HostUnreachToS => Unreachable::Host,
        Code::ProtoUnreachable => Unreachable::Protocol,
        Code::PortUnreachable => Unreachable::Port,
        Code::SrcRouteFailed => Unreachable::SourceRoute,
        Code::NetProhibited | Code::HostProhibited | Code::CommProhibited => Unreachable::Prohibited,
        Code::HostPrecedViol => Unreachable::Precedence,
        Code::PrecedenceCutoff => Unreachable::PrecedenceCutoff,
        Code::FragRequired | Code::Unknown(_) => Unreachable::Other,
    }
}

/// The meaning of an ICMPv6 Destination Unreachable code, as `traceroute(8)` annotates it.
pub fn unreachable_v6(code: u8) -> Unreachable {
    use Icmpv6Unreachable as Code;
    match Code::from(code) {
        Code::NoRoute => Unreachable::Network,
        Code::AdminProhibit => Unreachable::Prohibited,
        Code::BeyondScope => Unreachable::SourceRoute,
        Code::AddrUnreachable => Unreachable::Host,
        Code::PortUnreachable => Unreachable::Port,
        Code::FailedPolicy => Unreachable::SourcePolicy,
        Code::RejectRoute => Unreachable::RejectRoute,
        _ => Unreachable::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_codes_mean_what_traceroute_marks() {
        use Unreachable::*;
        let v4: Vec<Unreachable> = (0..=16).map(unreachable_v4).collect();
        let expected_v4 = [
            Network,
            Host,
            Protocol,
            Port,
            Other, // 4 is Fragmentation Needed: a Packet Too Big, not an unreachable
            SourceRoute,
            Network,
            Host,
            Network,
            Prohibited,
            Prohibited,
            Network,
            Host,
            Prohibited,
            Precedence,
            PrecedenceCutoff,
            Other,
        ];
        assert_eq!(v4, expected_v4);
        let v6: Vec<Unreachable> = (0..=8).map(unreachable_v6).collect();
        assert_eq!(v6, [Network, Prohibited, SourceRoute, Host, Port, SourcePolicy, RejectRoute, Other, Other]);
        assert_eq!(error_class(false, 3, 4), Some(ErrorClass::PacketTooBig));
        assert_eq!(error_class(false, 11, 0), Some(ErrorClass::TimeExceeded));
        assert_eq!(error_class(true, 3, 0), Some(ErrorClass::TimeExceeded));
        assert_eq!(error_class(true, 2, 0), Some(ErrorClass::PacketTooBig));
        assert_eq!(error_class(false, 0, 0), None); // an echo reply is no error
        assert_eq!(error_class(true, 129, 0), None);
    }
}
