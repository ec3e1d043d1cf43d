//! The simulated path: routers, a destination, and the replies they send.

use core::net::IpAddr;
use core::time::Duration;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

use packet::IpProtocol;

use super::rng::{flow_hash, SplitMix};
use super::topology::{Destination, Forgery, Router, Wire};
use crate::probe::Probe;
use crate::reply::Reply;

/// A path from `source` through `routers` to `destination`.
#[derive(Debug)]
pub struct SimNetwork {
    /// The tracer's address.
    pub source: IpAddr,
    /// The routers, TTL 1 first.
    pub routers: Vec<Router>,
    /// The destination.
    pub destination: Destination,
    /// Forged replies to inject.
    pub forgeries: Vec<Forgery>,
    /// Probes received by the destination.
    pub delivered_to_destination: u32,
    rng: SplitMix,
    queue: BinaryHeap<Reverse<(Instant, u64, Wire)>>,
    sequence: u64,
}

impl SimNetwork {
    /// A chain of `hops` answering routers, each `step` of RTT farther than the last, then an answering
    /// destination one more step away. IPv4 routers are 198.18.0.1… and the destination 198.18.1.1; IPv6 routers
    /// 2001:db8::1… and the destination 2001:db8:1::1. The tracer is 198.18.100.1 or 2001:db8:100::1.
    pub fn chain(ipv6: bool, hops: u8, step: Duration) -> Self {
        let addr = |net: u16, host: u8| -> IpAddr {
            if ipv6 {
                IpAddr::V6(core::net::Ipv6Addr::new(0x2001, 0xdb8, net, 0, 0, 0, 0, u16::from(host)))
            } else {
                IpAddr::V4(core::net::Ipv4Addr::new(198, 18, net as u8, host))
            }
        };
        let routers = (1..=hops).map(|n| Router::new(addr(0, n), step * u32::from(n))).collect();
        SimNetwork {
            source: addr(100, 1),
            routers,
            destination: Destination {
                addr: addr(1, 1),
                rtt: step * (u32::from(hops) + 1),
                answers_udp: true,
                answers_icmp: true,
                answers_tcp: true,
                tcp_open: true,
                rate_limit: None,
                tokens: 0.0,
                refilled_at: None,
            },
            forgeries: Vec::new(),
            delivered_to_destination: 0,
            rng: SplitMix::new(0x5eed),
            queue: BinaryHeap::new(),
            sequence: 0,
        }
    }

    /// Reseeds the loss generator.
    pub fn seed(&mut self, seed: u64) {
        self.rng = SplitMix::new(seed);
    }

    /// The address the n-th router (1-based) answers from for a flow, or its first address.
    pub fn router_addr(&self, ttl: u8) -> IpAddr {
        self.routers[usize::from(ttl) - 1].addrs[0]
    }

    /// Sends `probe` into the network at `now`.
    pub fn send(&mut self, probe: &Probe, now: Instant) {
        self.send_packet(probe.packet_bytes(self.source, self.destination.addr, 0, true), now);
    }

    /// Sends a whole IP packet (header included, from [`SimNetwork::source`]) into the network at `now`. Its
    /// destination, whatever its address, is at the end of the path: the destination answers for every address
    /// it is sent to, as a host with a whole range routed to it does.
    pub fn send_packet(&mut self, mut packet: Vec<u8>, now: Instant) {
        let ipv6 = self.source.is_ipv6();
        let (ttl, dst) = match (ipv6, packet.as_slice()) {
            (false, [_, _, _, _, _, _, _, _, ttl, _, _, _, _, _, _, _, a, b, c, d, ..]) => {
                (*ttl, IpAddr::from([*a, *b, *c, *d]))
            }
            (true, bytes) if bytes.len() >= 40 => {
                (bytes[7], IpAddr::from(<[u8; 16]>::try_from(&bytes[24..40]).unwrap_or_default()))
            }
            _ => return,
        };
        let flow = flow_bytes(&packet, ipv6);
        // A per-packet balancer hashes the flow with a random salt of this packet's (drawn only then, so that seeded
        // loss elsewhere stays as it was).
        let packet_flow = match self.routers.iter().any(|router| router.per_packet) {
            true => [flow.as_slice(), &self.rng.next_u64().to_be_bytes()].concat(),
            false => flow.clone(),
        };
        for forgery in &self.forgeries {
            if forgery.ttl == ttl {
                let mut quote = packet.clone();
                (forgery.mutate)(&mut quote);
                let wire = super::wire::time_exceeded(forgery.from, self.source, &quote, &[], 250);
                self.queue.push(Reverse((now + Duration::from_micros(1), self.sequence, wire)));
                self.sequence += 1;
            }
        }
        for index in 0..self.routers.len() {
            if self.rng.chance(self.routers[index].loss) {
                return;
            }
            let hops_left = ttl.saturating_sub(index as u8);
            let router = &mut self.routers[index];
            let from =
                pick_branch(&router.addrs, if router.per_packet { &packet_flow } else { &flow }, router.ecmp_group);
            let quote = as_received(&packet, hops_left, ipv6, router.quote_len);
            let hops_back = router.hops_back.unwrap_or(index as u8 + 1);
            let reply_ttl = 65u8.saturating_sub(hops_back);
            let error = if hops_left <= 1 {
                Some(super::wire::time_exceeded(from, self.source, &quote, &router.mpls, reply_ttl))
            } else if let Some(mtu) = router.mtu.filter(|&mtu| packet.len() > usize::from(mtu)) {
                Some(super::wire::too_big(from, self.source, &quote, mtu, reply_ttl))
            } else {
                router.reject.map(|code| super::wire::unreachable(from, self.source, &quote, code, reply_ttl))
            };
            let Some(wire) = error else {
                if router.nat {
                    masquerade(&mut packet, router.addrs[0]);
                }
                continue;
            };
            if !router.silent && router.may_send_error(now) {
                let at = now + router.rtt + router.extra_delay;
                let copies = if router.duplicate { 2 } else { 1 };
                for copy in 0..copies {
                    self.push(at + Duration::from_millis(copy), wire.clone());
                }
            }
            return;
        }
        self.delivered_to_destination += 1;
        let hops_left = ttl.saturating_sub(self.routers.len() as u8);
        let received = as_received(&packet, hops_left, ipv6, usize::MAX);
        let reply_ttl = 64u8.saturating_sub(self.routers.len() as u8);
        let Some(wire) = super::wire::destination_answer(&self.destination, dst, self.source, &received, reply_ttl)
        else {
            return;
        };
        let is_error = if ipv6 { packet.get(6) } else { packet.get(9) } == Some(&17);
        if !is_error || self.destination.may_send_error(now) {
            self.push(now + self.destination.rtt, wire);
        }
    }

    fn push(&mut self, at: Instant, wire: Wire) {
        self.queue.push(Reverse((at, self.sequence, wire)));
        self.sequence += 1;
    }

    /// Replies due by `now`, in order, with their arrival times.
    pub fn deliver(&mut self, now: Instant) -> Vec<(Wire, Instant)> {
        let mut due = Vec::new();
        while self.queue.peek().is_some_and(|Reverse((at, _, _))| *at <= now) {
            if let Some(Reverse((at, _, wire))) = self.queue.pop() {
                due.push((wire, at));
            }
        }
        due
    }

    /// When the next reply arrives.
    pub fn next_delivery(&self) -> Option<Instant> {
        self.queue.peek().map(|Reverse((at, _, _))| *at)
    }

    /// Decodes a reply as a raw socket's reader would.
    pub fn decode(&self, wire: &Wire) -> Option<Reply> {
        match wire.v6_meta {
            None => crate::decode::ipv4_packet(&wire.bytes).ok(),
            Some((from, protocol, hop_limit)) => {
                crate::decode::ipv6_payload(&wire.bytes, protocol.into(), from, self.source, Some(hop_limit)).ok()
            }
        }
    }
}

/// A NAT's rewrite of `packet`'s source address to `to`: the address, the IPv4 header checksum and the transport
/// checksum over the pseudo-header (UDP, TCP, ICMPv6). The sim's packets carry no options or extension headers.
fn masquerade(packet: &mut [u8], to: IpAddr) {
    let (src, header_checksum, protocol, transport, new) = match to {
        IpAddr::V4(to) => (12..16, Some(10), packet.get(9).copied(), 20, to.octets().to_vec()),
        IpAddr::V6(to) => (8..24, None, packet.get(6).copied(), 40, to.octets().to_vec()),
    };
    let Some(old) = packet.get(src.clone()).map(<[u8]>::to_vec).filter(|old| old.len() == new.len()) else {
        return;
    };
    // Where the transport checksum sits in its header.
    let protocol = protocol.map(IpProtocol::from);
    let transport_checksum = match protocol {
        Some(IpProtocol::Udp) => Some(transport + 6),
        Some(IpProtocol::Tcp) => Some(transport + 16),
        Some(IpProtocol::Icmpv6) => Some(transport + 2),
        _ => None,
    };
    for at in header_checksum.into_iter().chain(transport_checksum) {
        let Some(field) = packet.get_mut(at..at + 2) else { continue };
        let checksum = u16::from_be_bytes([field[0], field[1]]);
        let udp = protocol == Some(IpProtocol::Udp) && at == transport + 6;
        if udp && checksum == 0 {
            continue; // no checksum
        }
        let updated = match packet::checksum::update(checksum, &old, &new) {
            0 if udp => 0xffff, // a computed 0 is sent as 0xffff: 0 means none
            updated => updated,
        };
        field.copy_from_slice(&updated.to_be_bytes());
    }
    packet[src].copy_from_slice(&new);
}

/// The first `quote_len` bytes of `packet` as a node receives it, with `ttl` left.
fn as_received(packet: &[u8], ttl: u8, ipv6: bool, quote_len: usize) -> Vec<u8> {
    let mut copy = packet.to_vec();
    if ipv6 {
        if let Ok(mut ip) = packet::Ipv6Packet::new_checked(&mut copy[..]) {
            ip.set_hop_limit(ttl);
        }
    } else if let Ok(mut ip) = packet::Ipv4Packet::new_checked(&mut copy[..]) {
        ip.set_ttl(ttl);
    }
    copy.truncate(quote_len);
    copy
}

/// The bytes a per-flow load balancer hashes: addresses, protocol, and the first 4 transport bytes (ports, or
/// ICMP type, code and checksum), as in the Paris traceroute paper's model.
fn flow_bytes(packet: &[u8], ipv6: bool) -> Vec<u8> {
    let (addresses, protocol, transport) = if ipv6 { (8..40, 6, 40) } else { (12..20, 9, 20) };
    let mut flow = packet.get(addresses).unwrap_or_default().to_vec();
    flow.extend(packet.get(protocol));
    flow.extend(packet.get(transport..transport + 4).unwrap_or_default());
    flow
}

fn pick_branch(addrs: &[IpAddr], flow: &[u8], group: u32) -> IpAddr {
    if addrs.len() == 1 {
        return addrs[0];
    }
    addrs[(flow_hash(flow, group) % addrs.len() as u64) as usize]
}
