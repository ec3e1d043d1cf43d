//! Label-switching routers inside a TUN link: an MPLS tunnel that traceroute can see into.
//!
//! The kernel here forwards no MPLS and adds no ICMP extensions, so the tunnel lives in the link's forwarder. It
//! stands for `routers` label-switching routers in a row, in the uniform model (the label TTL copies the IP TTL):
//! each takes one from the TTL of what crosses it, and the one where the TTL runs out answers the sender with a
//! Time Exceeded from its own address (host 101, 102, … of the link's subnet) that quotes the packet and carries
//! its label stack in an RFC 4884/4950 extension — one label, `FIRST_LABEL + i` for the i-th router (from 0).

use std::net::{Ipv4Addr, Ipv6Addr};

use packet::{
    ExtensionsBuilder, Icmpv4Packet, Icmpv4Repr, Icmpv6Packet, Icmpv6Repr, IpProtocol, Ipv4Packet, Ipv4Repr,
    Ipv6Packet, Ipv6Repr, MplsLabel,
};

/// The label of the tunnel's first router; the others count up from it.
pub const FIRST_LABEL: u32 = 24_000;

/// Bytes of the packet a router quotes (the RFC 4884 minimum for the original datagram field).
const QUOTE_LEN: usize = 128;

/// What happens to a packet that enters the tunnel.
pub(crate) enum Crossing {
    /// It comes out of the other end, its TTL lowered (the bytes to write there).
    Forward(Vec<u8>),
    /// It expired inside: the Time Exceeded to write back towards its sender.
    Expired(Vec<u8>),
    /// It is no IP packet this tunnel carries.
    Drop,
}

/// The label-switching routers of one link.
#[derive(Debug, Clone)]
pub(crate) struct Tunnel {
    /// The routers' addresses in order of crossing from end 0, IPv4 and IPv6.
    v4: Vec<Ipv4Addr>,
    v6: Vec<Ipv6Addr>,
}

impl Tunnel {
    /// A tunnel of routers with these addresses (one per router, in the order packets from end 0 cross them).
    pub(crate) fn new(v4: Vec<Ipv4Addr>, v6: Vec<Ipv6Addr>) -> Self {
        Tunnel { v4, v6 }
    }

    /// What becomes of `packet` crossing the tunnel, from end 0 (`reverse` false) or end 1.
    pub(crate) fn cross(&self, mut packet: Vec<u8>, reverse: bool) -> Crossing {
        let routers = self.v4.len();
        // The index of the router a packet with `ttl` left dies at, counted in its direction of travel.
        let dies_at = |ttl: u8| (usize::from(ttl) <= routers).then(|| usize::from(ttl).max(1) - 1);
        let position = |index: usize| if reverse { routers - 1 - index } else { index };
        match packet.first().map(|byte| byte >> 4) {
            Some(4) => {
                let Ok(mut ip) = Ipv4Packet::new_checked(&mut packet[..]) else { return Crossing::Drop };
                let ttl = ip.ttl();
                if let Some(index) = dies_at(ttl) {
                    ip.set_ttl(1);
                    ip.fill_checksum();
                    let sender = ip.src_addr();
                    let router = position(index);
                    return Crossing::Expired(time_exceeded_v4(self.v4[router], sender, &packet, label(router)));
                }
                ip.set_ttl(ttl - routers as u8);
                ip.fill_checksum();
                Crossing::Forward(packet)
            }
            Some(6) => {
                let Ok(mut ip) = Ipv6Packet::new_checked(&mut packet[..]) else { return Crossing::Drop };
                let hop_limit = ip.hop_limit();
                if let Some(index) = dies_at(hop_limit) {
                    ip.set_hop_limit(1);
                    let sender = ip.src_addr();
                    let router = position(index);
                    return Crossing::Expired(time_exceeded_v6(self.v6[router], sender, &packet, label(router)));
                }
                ip.set_hop_limit(hop_limit - routers as u8);
                Crossing::Forward(packet)
            }
            _ => Crossing::Drop,
        }
    }
}

/// The label stack router `index` reports: its one label, bottom of stack, label TTL 1 (where it expired).
fn label(index: usize) -> MplsLabel {
    MplsLabel { label: FIRST_LABEL + index as u32, tc: 0, bottom: true, ttl: 1 }
}

fn time_exceeded_v4(from: Ipv4Addr, to: Ipv4Addr, packet: &[u8], label: MplsLabel) -> Vec<u8> {
    let extensions = ExtensionsBuilder::new().mpls(&[label]).build();
    let quote = &packet[..packet.len().min(QUOTE_LEN)];
    let icmp = Icmpv4Repr::TimeExceeded { code: 0, quote, extensions: Some(&extensions) };
    let ip = Ipv4Repr {
        src_addr: from,
        dst_addr: to,
        next_header: IpProtocol::Icmp,
        payload_len: icmp.buffer_len(),
        ttl: 64,
        tos: 0,
        ident: 0,
        dont_frag: false,
    };
    let mut bytes = vec![0; ip.buffer_len()];
    ip.emit(&mut Ipv4Packet::new_unchecked(&mut bytes[..]));
    icmp.emit(&mut Icmpv4Packet::new_unchecked(&mut bytes[ip.header_len()..]));
    bytes
}

fn time_exceeded_v6(from: Ipv6Addr, to: Ipv6Addr, packet: &[u8], label: MplsLabel) -> Vec<u8> {
    let extensions = ExtensionsBuilder::new().mpls(&[label]).build();
    let quote = &packet[..packet.len().min(QUOTE_LEN)];
    let icmp = Icmpv6Repr::TimeExceeded { code: 0, quote, extensions: Some(&extensions) };
    let ip = Ipv6Repr {
        src_addr: from,
        dst_addr: to,
        next_header: IpProtocol::Icmpv6,
        payload_len: icmp.buffer_len(),
        hop_limit: 64,
        traffic_class: 0,
        flow_label: 0,
    };
    let mut bytes = vec![0; ip.buffer_len()];
    ip.emit(&mut Ipv6Packet::new_unchecked(&mut bytes[..]));
    icmp.emit(&from, &to, &mut Icmpv6Packet::new_unchecked(&mut bytes[40..]));
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tunnel() -> Tunnel {
        let v4 = (1..=3u8).map(|i| Ipv4Addr::new(198, 18, 9, 100 + i)).collect();
        let v6 = (1..=3u16).map(|i| Ipv6Addr::new(0x2001, 0xdb8, 0, 9, 0, 0, 0, 0x100 + i)).collect();
        Tunnel::new(v4, v6)
    }

    fn udp_v4(ttl: u8) -> Vec<u8> {
        let ip = Ipv4Repr {
            src_addr: Ipv4Addr::new(198, 18, 0, 1),
            dst_addr: Ipv4Addr::new(198, 18, 5, 2),
            next_header: IpProtocol::Udp,
            payload_len: 8,
            ttl,
            tos: 0,
            ident: 7,
            dont_frag: false,
        };
        let mut bytes = vec![0; ip.buffer_len()];
        ip.emit(&mut Ipv4Packet::new_unchecked(&mut bytes[..]));
        bytes
    }

    #[test]
    fn packets_expire_at_the_router_their_ttl_reaches() {
        let tunnel = tunnel();
        for (ttl, reverse, router) in [(1, false, 0), (3, false, 2), (1, true, 2), (2, true, 1)] {
            let Crossing::Expired(reply) = tunnel.cross(udp_v4(ttl), reverse) else { panic!("TTL {ttl} expires") };
            let ip = Ipv4Packet::new_checked(&reply[..]).expect("an IPv4 packet");
            assert_eq!(ip.src_addr(), tunnel.v4[router]);
            assert_eq!(ip.dst_addr(), Ipv4Addr::new(198, 18, 0, 1));
            let icmp = Icmpv4Packet::new_checked(ip.payload()).expect("ICMP");
            let Ok(Icmpv4Repr::TimeExceeded { extensions: Some(extensions), quote, .. }) = Icmpv4Repr::parse(&icmp)
            else {
                panic!("a Time Exceeded with extensions")
            };
            assert_eq!(quote[8], 1, "the quote shows the TTL the router received");
            let labels: Vec<_> = packet::Extensions::parse(extensions).unwrap().mpls_labels().collect();
            assert_eq!(labels, [label(router)]);
        }
    }

    #[test]
    fn packets_that_outlive_the_tunnel_lose_one_ttl_per_router() {
        let Crossing::Forward(out) = tunnel().cross(udp_v4(10), false) else { panic!("TTL 10 crosses") };
        let ip = Ipv4Packet::new_checked(&out[..]).unwrap();
        assert_eq!(ip.ttl(), 7);
        assert!(ip.verify_checksum());
        assert!(matches!(tunnel().cross(vec![0x45, 0], false), Crossing::Drop));
    }
}
