//! Replies built from the error queue: the kernel tells which ICMP error arrived, from whom, and gives back what
//! we sent; the quote is rebuilt from our own socket's addresses.

use core::net::SocketAddr;

use engine::decode::{error_class, mpls_labels};
use engine::{IcmpError, Quote, QuotedProbe, Reply, ReplyKind};

use crate::recv::Received;

/// The reply an error-queue message stands for, given the probe's transport fields it returned and the `data`
/// read with it, or `None` for local errors and anything not ICMP.
pub(crate) fn reply(received: &Received, data: &[u8], local: SocketAddr, probe: QuotedProbe) -> Option<Reply> {
    let error = received.error.filter(|error| error.is_icmp())?;
    let from = error.offender?;
    let dst = received.from?.ip();
    let class = error_class(dst.is_ipv6(), error.icmp_type, error.icmp_code)?;
    let mtu = (class == engine::ErrorClass::PacketTooBig && error.info != 0).then_some(error.info);
    let quote = Quote { src: Some(local.ip()), dst, ttl: None, ip_id: None, probe };
    let kind = ReplyKind::IcmpError(IcmpError {
        class,
        icmp_type: error.icmp_type,
        icmp_code: error.icmp_code,
        mtu,
        quote,
        mpls: error.extensions_at.and_then(|at| data.get(at..)).map(mpls_labels).unwrap_or_default(),
    });
    Some(Reply { from, ttl: received.ttl, size: None, kind })
}

/// The UDP checksum of a datagram, as the kernel computed it when it sent `payload` (all of it).
pub(crate) fn udp_checksum(src: SocketAddr, dst: SocketAddr, payload: &[u8]) -> u16 {
    let repr = packet::UdpRepr { src_port: src.port(), dst_port: dst.port() };
    let mut bytes = vec![0; repr.buffer_len(payload.len())];
    let mut datagram = packet::UdpPacket::new_unchecked(&mut bytes[..]);
    repr.emit(&mut datagram, &src.ip(), &dst.ip(), payload);
    datagram.checksum()
}
