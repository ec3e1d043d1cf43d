//! Probes as bytes on the wire, for raw sockets and the simulator.

use core::net::IpAddr;

use packet::ip::to_v6;
use packet::{
    Icmpv4Packet, Icmpv4Repr, Icmpv6Packet, Icmpv6Repr, IpProtocol, Ipv4Packet, Ipv4Repr, Ipv6Packet, Ipv6Repr,
    TcpFlags, TcpPacket, TcpRepr, UdpPacket, UdpRepr,
};

use crate::probe::{Probe, ProbeTransport};

impl Probe {
    /// The transport header and payload as sent from `src` to `dst`, checksum included (raw sockets).
    pub fn transport_bytes(&self, src: IpAddr, dst: IpAddr) -> Vec<u8> {
        match &self.transport {
            ProbeTransport::Udp { src_port, dst_port, payload } => {
                let repr = UdpRepr { src_port: *src_port, dst_port: *dst_port };
                let mut bytes = vec![0; repr.buffer_len(payload.len())];
                repr.emit(&mut UdpPacket::new_unchecked(&mut bytes[..]), &src, &dst, payload);
                bytes
            }
            ProbeTransport::Icmp { ident, seq, payload } if dst.is_ipv6() => {
                let repr = Icmpv6Repr::EchoRequest { ident: *ident, seq_no: *seq, data: payload };
                let mut bytes = vec![0; repr.buffer_len()];
                repr.emit(&to_v6(src), &to_v6(dst), &mut Icmpv6Packet::new_unchecked(&mut bytes[..]));
                bytes
            }
            ProbeTransport::Icmp { ident, seq, payload } => {
                let repr = Icmpv4Repr::EchoRequest { ident: *ident, seq_no: *seq, data: payload };
                let mut bytes = vec![0; repr.buffer_len()];
                repr.emit(&mut Icmpv4Packet::new_unchecked(&mut bytes[..]));
                bytes
            }
            ProbeTransport::Tcp { src_port, dst_port, seq } => {
                let repr = TcpRepr {
                    src_port: *src_port,
                    dst_port: *dst_port,
                    seq: *seq,
                    ack: 0,
                    flags: TcpFlags::SYN,
                    window: 64240,
                    mss: Some(1460),
                };
                let mut bytes = vec![0; repr.buffer_len(0)];
                repr.emit(&mut TcpPacket::new_unchecked(&mut bytes[..]), &src, &dst, &[]);
                bytes
            }
        }
    }

    /// The whole IP packet from `src` to `dst`: header (TTL, IPv4 ID, type of service or traffic class, Don't
    /// Fragment when asked) and transport.
    pub fn packet_bytes(&self, src: IpAddr, dst: IpAddr, tos: u8, dont_fragment: bool) -> Vec<u8> {
        let transport = self.transport_bytes(src, dst);
        let next_header = self.transport.protocol(dst.is_ipv6());
        let (header_len, mut bytes) = match (src, dst) {
            (IpAddr::V4(src_addr), IpAddr::V4(dst_addr)) => {
                let repr = Ipv4Repr {
                    src_addr,
                    dst_addr,
                    next_header,
                    payload_len: transport.len(),
                    ttl: self.ttl,
                    tos,
                    ident: self.ip_id,
                    dont_frag: dont_fragment,
                };
                let mut bytes = vec![0; repr.buffer_len()];
                repr.emit(&mut Ipv4Packet::new_unchecked(&mut bytes[..]));
                (repr.header_len(), bytes)
            }
            _ => {
                let repr = Ipv6Repr {
                    src_addr: to_v6(src),
                    dst_addr: to_v6(dst),
                    next_header,
                    payload_len: transport.len(),
                    hop_limit: self.ttl,
                    traffic_class: tos,
                    flow_label: 0,
                };
                let mut bytes = vec![0; repr.buffer_len()];
                repr.emit(&mut Ipv6Packet::new_unchecked(&mut bytes[..]));
                (repr.header_len(), bytes)
            }
        };
        bytes[header_len..].copy_from_slice(&transport);
        bytes
    }
}

impl ProbeTransport {
    /// The IP protocol this transport is carried in.
    pub fn protocol(&self, ipv6: bool) -> IpProtocol {
        match self {
            ProbeTransport::Udp { .. } => IpProtocol::Udp,
            ProbeTransport::Tcp { .. } => IpProtocol::Tcp,
            ProbeTransport::Icmp { .. } if ipv6 => IpProtocol::Icmpv6,
            ProbeTransport::Icmp { .. } => IpProtocol::Icmp,
        }
    }
}
