//! The bytes of the replies the simulated network sends: ICMP errors, echo replies, TCP answers.

use core::net::IpAddr;

use packet::{
    ExtensionsBuilder, Icmpv4Packet, Icmpv4Repr, Icmpv4Unreachable, Icmpv6Packet, Icmpv6Repr, Icmpv6Unreachable,
    IpProtocol, Ipv4Packet, Ipv4Repr, Ipv6Packet, MplsLabel, TcpFlags, TcpPacket, TcpRepr,
};

use super::topology::{Destination, Wire};
use packet::ip::to_v6;

/// What an ICMP error says, in family-independent terms.
enum ErrorKind {
    TimeExceeded,
    TooBig(u16),
    Unreachable(u8),
}

/// A Time Exceeded from `from` to `to`, quoting `quote`, with MPLS labels in an extension when there are any.
pub(super) fn time_exceeded(from: IpAddr, to: IpAddr, quote: &[u8], mpls: &[MplsLabel], ttl: u8) -> Wire {
    icmp_error(from, to, quote, ErrorKind::TimeExceeded, mpls, ttl)
}

/// Fragmentation Needed (IPv4) or Packet Too Big (IPv6) with the next link's MTU.
pub(super) fn too_big(from: IpAddr, to: IpAddr, quote: &[u8], mtu: u16, ttl: u8) -> Wire {
    icmp_error(from, to, quote, ErrorKind::TooBig(mtu), &[], ttl)
}

/// A Destination Unreachable with `code` (in the family's own numbering).
pub(super) fn unreachable(from: IpAddr, to: IpAddr, quote: &[u8], code: u8, ttl: u8) -> Wire {
    icmp_error(from, to, quote, ErrorKind::Unreachable(code), &[], ttl)
}

fn icmp_error(from: IpAddr, to: IpAddr, quote: &[u8], kind: ErrorKind, mpls: &[MplsLabel], ttl: u8) -> Wire {
    let extensions = (!mpls.is_empty()).then(|| ExtensionsBuilder::new().mpls(mpls).build());
    let extensions = extensions.as_deref();
    match (from, to) {
        (IpAddr::V4(_), _) => {
            let repr = match kind {
                ErrorKind::TimeExceeded => Icmpv4Repr::TimeExceeded { code: 0, quote, extensions },
                ErrorKind::TooBig(mtu) => Icmpv4Repr::DstUnreachable {
                    code: Icmpv4Unreachable::FragRequired,
                    next_hop_mtu: mtu,
                    quote,
                    extensions,
                },
                ErrorKind::Unreachable(code) => {
                    Icmpv4Repr::DstUnreachable { code: code.into(), next_hop_mtu: 0, quote, extensions }
                }
            };
            let mut icmp = vec![0; repr.buffer_len()];
            repr.emit(&mut Icmpv4Packet::new_unchecked(&mut icmp[..]));
            ipv4_wrap(from, to, IpProtocol::Icmp, ttl, &icmp)
        }
        (IpAddr::V6(_), _) => {
            let repr = match kind {
                ErrorKind::TimeExceeded => Icmpv6Repr::TimeExceeded { code: 0, quote, extensions },
                ErrorKind::TooBig(mtu) => Icmpv6Repr::PacketTooBig { mtu: u32::from(mtu), quote },
                ErrorKind::Unreachable(code) => {
                    Icmpv6Repr::DstUnreachable { code: Icmpv6Unreachable::from(code), quote, extensions }
                }
            };
            let mut icmp = vec![0; repr.buffer_len()];
            repr.emit(&to_v6(from), &to_v6(to), &mut Icmpv6Packet::new_unchecked(&mut icmp[..]));
            Wire { bytes: icmp, v6_meta: Some((from, IpProtocol::Icmpv6.into(), ttl)) }
        }
    }
}

/// The destination's answer, from `from`, to a probe that reached it, if it answers that kind of probe.
pub(super) fn destination_answer(
    destination: &Destination,
    from: IpAddr,
    to: IpAddr,
    probe: &[u8],
    ttl: u8,
) -> Option<Wire> {
    // `sender` is the probe's source as received: past a NAT, not the tracer (`to`, where answers go back).
    let (protocol, transport, sender) = match from {
        IpAddr::V4(_) => {
            let ip = Ipv4Packet::new_checked(probe).ok()?;
            (ip.next_header(), probe.get(usize::from(ip.header_len())..)?, IpAddr::V4(ip.src_addr()))
        }
        IpAddr::V6(_) => {
            let ip = Ipv6Packet::new_checked(probe).ok()?;
            (ip.next_header(), probe.get(40..)?, IpAddr::V6(ip.src_addr()))
        }
    };
    match protocol {
        IpProtocol::Udp if destination.answers_udp => {
            let code = if from.is_ipv6() { 4 } else { 3 };
            Some(unreachable(from, to, probe, code, ttl))
        }
        IpProtocol::Icmp if destination.answers_icmp => {
            let request = Icmpv4Packet::new_checked(transport).ok()?;
            let Icmpv4Repr::EchoRequest { ident, seq_no, data } = Icmpv4Repr::parse(&request).ok()? else {
                return None;
            };
            let repr = Icmpv4Repr::EchoReply { ident, seq_no, data };
            let mut icmp = vec![0; repr.buffer_len()];
            repr.emit(&mut Icmpv4Packet::new_unchecked(&mut icmp[..]));
            Some(ipv4_wrap(from, to, IpProtocol::Icmp, ttl, &icmp))
        }
        IpProtocol::Icmpv6 if destination.answers_icmp => {
            let request = Icmpv6Packet::new_checked(transport).ok()?;
            let Icmpv6Repr::EchoRequest { ident, seq_no, data } =
                Icmpv6Repr::parse(&request, &to_v6(sender), &to_v6(from)).ok()?
            else {
                return None;
            };
            let repr = Icmpv6Repr::EchoReply { ident, seq_no, data };
            let mut icmp = vec![0; repr.buffer_len()];
            repr.emit(&to_v6(from), &to_v6(to), &mut Icmpv6Packet::new_unchecked(&mut icmp[..]));
            Some(Wire { bytes: icmp, v6_meta: Some((from, IpProtocol::Icmpv6.into(), ttl)) })
        }
        IpProtocol::Tcp if destination.answers_tcp => {
            let syn = TcpPacket::new_checked(transport).ok()?;
            let flags =
                if destination.tcp_open { TcpFlags::SYN | TcpFlags::ACK } else { TcpFlags::RST | TcpFlags::ACK };
            let repr = TcpRepr {
                src_port: syn.dst_port(),
                dst_port: syn.src_port(),
                seq: 0x1000,
                ack: syn.seq_number().wrapping_add(1),
                flags,
                window: 64240,
                mss: destination.tcp_open.then_some(1460),
            };
            let mut segment = vec![0; repr.buffer_len(0)];
            repr.emit(&mut TcpPacket::new_unchecked(&mut segment[..]), &from, &to, &[]);
            match from {
                IpAddr::V4(_) => Some(ipv4_wrap(from, to, IpProtocol::Tcp, ttl, &segment)),
                IpAddr::V6(_) => Some(Wire { bytes: segment, v6_meta: Some((from, IpProtocol::Tcp.into(), ttl)) }),
            }
        }
        _ => None,
    }
}

/// An IPv4 packet from `from` to `to` around `payload`.
fn ipv4_wrap(from: IpAddr, to: IpAddr, protocol: IpProtocol, ttl: u8, payload: &[u8]) -> Wire {
    let (IpAddr::V4(src_addr), IpAddr::V4(dst_addr)) = (from, to) else {
        unreachable!("IPv4 replies are only built between IPv4 addresses")
    };
    let repr = Ipv4Repr {
        src_addr,
        dst_addr,
        next_header: protocol,
        payload_len: payload.len(),
        ttl,
        tos: 0,
        ident: 0,
        dont_frag: false,
    };
    let mut bytes = vec![0; repr.buffer_len()];
    repr.emit(&mut Ipv4Packet::new_unchecked(&mut bytes[..]));
    bytes[repr.header_len()..].copy_from_slice(payload);
    Wire { bytes, v6_meta: None }
}
