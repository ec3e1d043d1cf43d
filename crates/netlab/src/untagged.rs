//! Replies too short to carry a bulk probe's integrity tag, sprayed at a client from inside a lab node: Echo
//! Replies of 0, 1 and 2 payload bytes (which say probe TTLs 254, 255 and 0), in IPv4 and IPv6, and ICMPv6 Time
//! Exceeded messages quoting a UDP probe's headers and nothing of its payload. Anyone can send them, for probes
//! never sent; a prober that writes rows for them can be fed rows at will.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

use crate::attack::Attack;
use crate::error::Result;
use crate::lab::Lab;
use crate::spec::NodeId;

/// What is sprayed, and how often.
#[derive(Debug, Clone, Copy)]
pub struct ShortReplies {
    /// The client's IPv4 address.
    pub client_v4: Ipv4Addr,
    /// The client's IPv6 address.
    pub client_v6: Ipv6Addr,
    /// The destination of the UDP probe the ICMPv6 errors quote (from the client, source port `src_port`).
    pub quoted_dst: Ipv6Addr,
    /// The quoted probe's source port, also the Echo Replies' identifier.
    pub src_port: u16,
    /// The TTL the quoted probe's UDP length says (`ttl + 10`).
    pub quoted_ttl: u8,
    /// How many times the set of seven messages is sent (at most 1,000).
    pub sprays: u32,
    /// The pause between two sprays.
    pub every: Duration,
}

impl Lab {
    /// Starts spraying `replies` from `node`; [`Attack::join`] gives how many messages were sent.
    pub fn send_short_replies(&self, node: NodeId, replies: ShortReplies) -> Result<Attack> {
        Attack::start(self, node, "netlab-short", move |stop| spray(&replies, stop))
    }
}

fn spray(replies: &ShortReplies, stop: &AtomicBool) -> std::io::Result<u64> {
    let v4 = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4))?;
    // The kernel computes ICMPv6 checksums on a raw ICMPv6 socket.
    let v6 = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6))?;
    let to_v4 = SocketAddr::new(IpAddr::V4(replies.client_v4), 0).into();
    let to_v6 = SocketAddr::new(IpAddr::V6(replies.client_v6), 0).into();
    let mut sent = 0;
    for spray in 0..replies.sprays.min(1_000) {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let seq = spray as u16;
        for len in 0..=2 {
            let data = vec![0xa5; len];
            sent += u64::from(v4.send_to(&echo_reply(0, replies.src_port, seq, &data), &to_v4).is_ok());
            sent += u64::from(v6.send_to(&echo_reply(129, replies.src_port, seq, &data), &to_v6).is_ok());
        }
        sent += u64::from(v6.send_to(&time_exceeded_v6(replies), &to_v6).is_ok());
        thread::sleep(replies.every);
    }
    Ok(sent)
}

/// An Echo Reply (`kind` 0 or 129) carrying `data`; its checksum computed (the kernel recomputes an ICMPv6 one).
fn echo_reply(kind: u8, ident: u16, seq: u16, data: &[u8]) -> Vec<u8> {
    let mut message = vec![kind, 0, 0, 0];
    message.extend(ident.to_be_bytes());
    message.extend(seq.to_be_bytes());
    message.extend(data);
    let sum = packet::checksum::finish(packet::checksum::data(&message));
    message[2..4].copy_from_slice(&sum.to_be_bytes());
    message
}

/// An ICMPv6 Time Exceeded quoting the IPv6 and UDP headers of a probe and none of its payload.
fn time_exceeded_v6(replies: &ShortReplies) -> Vec<u8> {
    let udp_len = 10 + u16::from(replies.quoted_ttl);
    let mut message = vec![3, 0, 0, 0, 0, 0, 0, 0, 0x60, 0, 0, 0];
    message.extend(udp_len.to_be_bytes());
    message.extend([17, 1]);
    message.extend(replies.client_v6.octets());
    message.extend(replies.quoted_dst.octets());
    message.extend(replies.src_port.to_be_bytes());
    message.extend(33434u16.to_be_bytes());
    message.extend(udp_len.to_be_bytes());
    message.extend([0x12, 0x34]);
    message
}
