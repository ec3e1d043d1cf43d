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
    /// Each router's IPv4 and IPv6 address, in the order packets from end 0 cross them.
    routers: Vec<(Ipv4Addr, Ipv6Addr)>,
}

impl Tunnel {
    /// A tunnel of these routers (at least one), in the order packets from end 0 cross them.
    pub(crate) fn new(routers: Vec<(Ipv4Addr, Ipv6Addr)>) -> Self {
        assert!(!routers.is_empty() && routers.len() < 255, "a tunnel holds 1 to 254 routers");
        Tunnel { routers }
    }

    /// What becomes of `packet` crossing the tunnel, from end 0 (`reverse` false) or end 1.
    pub(crate) fn cross(&self, mut packet: Vec<u8>, reverse: bool) -> Crossing {
        let routers = self.routers.len();
        // Where a packet with `ttl` left dies, counted from end 0; `None` if it comes out alive.
        let dies_at = |ttl: u8| {
            let index = usize::from(ttl).max(1) - 1;
            (index < routers).then(|| if reverse { routers - 1 - index } else { index })
        };
        match packet.first().map(|byte| byte >> 4) {
            Some(4) => {
                let Ok(mut ip) = Ipv4Packet::new_checked(&mut packet[..]) else { return Crossing::Drop };
                let ttl = ip.ttl();
                let Some(router) = dies_at(ttl) else {
                    ip.set_ttl(ttl - routers as u8);
                    ip.fill_checksum();
                    return Crossing::Forward(packet);
                };
                if !may_answer_v4(&ip) {
                    return Crossing::Drop;
                }
                ip.set_ttl(1);
                ip.fill_checksum();
                let sender = ip.src_addr();
                Crossing::Expired(time_exceeded_v4(self.routers[router].0, sender, &packet, label(router)))
            }
            Some(6) => {
                let Ok(mut ip) = Ipv6Packet::new_checked(&mut packet[..]) else { return Crossing::Drop };
                let hop_limit = ip.hop_limit();
                let Some(router) = dies_at(hop_limit) else {
                    ip.set_hop_limit(hop_limit - routers as u8);
                    return Crossing::Forward(packet);
                };
                if !may_answer_v6(&ip) {
                    return Crossing::Drop;
                }
                ip.set_hop_limit(1);
                let sender = ip.src_addr();
                Crossing::Expired(time_exceeded_v6(self.routers[router].1, sender, &packet, label(router)))
            }
            _ => Crossing::Drop,
        }
    }
}

/// Whether a router may answer an IPv4 packet with an ICMP error (RFC 1812 4.3.2.7): not about an ICMP error,
/// a multicast or broadcast packet, or a fragment other than the first.
fn may_answer_v4(ip: &Ipv4Packet<&mut [u8]>) -> bool {
    let icmp_error = ip.next_header() == IpProtocol::Icmp && ip.payload().first().is_some_and(|&t| t != 0 && t != 8);
    let dst = ip.dst_addr();
    !icmp_error && !dst.is_multicast() && !dst.is_broadcast() && ip.frag_offset() == 0
}

/// Whether a router may answer an IPv6 packet with an ICMPv6 error (RFC 4443 2.4 e): not about an ICMPv6 error
/// or a multicast packet.
fn may_answer_v6(ip: &Ipv6Packet<&mut [u8]>) -> bool {
    let icmp_error = ip.next_header() == IpProtocol::Icmpv6 && ip.payload().first().is_some_and(|&t| t < 128);
    !icmp_error && !ip.dst_addr().is_multicast()
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
        let router = |i: u8| {
            (Ipv4Addr::new(198, 18, 9, 100 + i), Ipv6Addr::new(0x2001, 0xdb8, 0, 9, 0, 0, 0, 0x100 + u16::from(i)))
        };
        Tunnel::new((1..=3).map(router).collect())
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
        for (ttl, reverse, router) in [(0, false, 0), (1, false, 0), (3, false, 2), (1, true, 2), (3, true, 0)] {
            let Crossing::Expired(reply) = tunnel.cross(udp_v4(ttl), reverse) else { panic!("TTL {ttl} expires") };
            let ip = Ipv4Packet::new_checked(&reply[..]).expect("an IPv4 packet");
            assert_eq!(ip.src_addr(), tunnel.routers[router].0);
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

    #[test]
    fn ipv6_packets_expire_and_cross_the_same_way() {
        let ip = Ipv6Repr {
            src_addr: Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1),
            dst_addr: Ipv6Addr::new(0x2001, 0xdb8, 0, 5, 0, 0, 0, 2),
            next_header: IpProtocol::Udp,
            payload_len: 8,
            hop_limit: 2,
            traffic_class: 0,
            flow_label: 0,
        };
        let mut probe = vec![0; ip.buffer_len()];
        ip.emit(&mut Ipv6Packet::new_unchecked(&mut probe[..]));
        let Crossing::Expired(reply) = tunnel().cross(probe.clone(), true) else { panic!("hop limit 2 expires") };
        let answer = Ipv6Packet::new_checked(&reply[..]).unwrap();
        assert_eq!(answer.src_addr(), tunnel().routers[1].1);
        let icmp = Icmpv6Packet::new_checked(answer.payload()).unwrap();
        let Ok(Icmpv6Repr::TimeExceeded { extensions: Some(extensions), .. }) =
            Icmpv6Repr::parse(&icmp, &answer.src_addr(), &answer.dst_addr())
        else {
            panic!("a Time Exceeded with extensions and a valid checksum")
        };
        let labels: Vec<_> = packet::Extensions::parse(extensions).unwrap().mpls_labels().collect();
        assert_eq!(labels, [label(1)]);
        probe[7] = 4;
        let Crossing::Forward(out) = tunnel().cross(probe, false) else { panic!("hop limit 4 crosses") };
        assert_eq!(Ipv6Packet::new_checked(&out[..]).unwrap().hop_limit(), 1);
    }

    #[test]
    fn icmp_errors_and_multicast_die_quietly() {
        let mut error = udp_v4(1);
        error[9] = 1; // ICMP,
        error[20] = 11; // a Time Exceeded
        assert!(matches!(tunnel().cross(error.clone(), false), Crossing::Drop));
        error[20] = 8; // an Echo Request is answered
        assert!(matches!(tunnel().cross(error, false), Crossing::Expired(_)));
        let mut multicast = udp_v4(1);
        multicast[16..20].copy_from_slice(&[224, 0, 0, 22]);
        assert!(matches!(tunnel().cross(multicast, false), Crossing::Drop));
    }
}
