//! A probe specification into the bytes of a whole IP packet (header included), ready for a raw socket.

use core::net::IpAddr;

use packet::checksum;

use super::spec::{ProbeSpec, Protocol};
use super::tag::tag;

/// The longest probe [`encode`] writes: an IPv6 header, an 8-byte transport header and `255 + 2` payload bytes.
pub const MAX_PROBE_LEN: usize = 40 + 8 + 255 + 2;

/// Payload bytes before the TTL-long padding: the checksum tweak.
const TWEAK: usize = 2;

/// Writes the packet for `spec`, sent from `src` (of the destination's family) with send-time stamp `stamp`
/// (see [`super::timestamp`]), into `buf` (at least [`MAX_PROBE_LEN`] bytes); returns its length.
///
/// Layout: IP header (IPv4: identification = the integrity tag, no options, DF clear; IPv6: the spec's flow
/// label), then UDP (ports, length, checksum = `stamp`) or an Echo Request (checksum and identifier = the source
/// port, sequence = `stamp`), then `ttl + 2` payload bytes: the two that make the checksum come out as wanted, the
/// integrity tag (as much of it as fits), zeros.
pub fn encode(spec: &ProbeSpec, src: IpAddr, caracal_id: u16, stamp: u16, buf: &mut [u8]) -> usize {
    let ip_len = if spec.dst.is_ipv4() { 20 } else { 40 };
    let l4_len = 8 + TWEAK + usize::from(spec.ttl);
    let len = ip_len + l4_len;
    let packet = &mut buf[..len];
    let tag = tag(caracal_id, spec.dst, spec.src_port, spec.ttl);
    let protocol = spec.protocol.number();
    match (src, spec.dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let h = &mut packet[..20];
            h[..12].copy_from_slice(&[0x45, 0, 0, 0, 0, 0, 0, 0, spec.ttl, protocol, 0, 0]);
            h[2..4].copy_from_slice(&(len as u16).to_be_bytes());
            h[4..6].copy_from_slice(&tag.to_be_bytes());
            h[12..16].copy_from_slice(&s.octets());
            h[16..20].copy_from_slice(&d.octets());
            let sum = checksum::finish(checksum::data(h));
            h[10..12].copy_from_slice(&sum.to_be_bytes());
        }
        _ => {
            let s = packet::ip::to_v6(src);
            let d = packet::ip::to_v6(spec.dst);
            let h = &mut packet[..40];
            h[..4].copy_from_slice(&(0x6000_0000 | (spec.flow_label & 0x000f_ffff)).to_be_bytes());
            h[4..6].copy_from_slice(&(l4_len as u16).to_be_bytes());
            h[6] = protocol;
            h[7] = spec.ttl;
            h[8..24].copy_from_slice(&s.octets());
            h[24..40].copy_from_slice(&d.octets());
        }
    }
    let l4 = &mut packet[ip_len..];
    l4.fill(0);
    let tag_bytes = tag.to_be_bytes();
    let room = usize::from(spec.ttl).min(2);
    l4[8 + TWEAK..8 + TWEAK + room].copy_from_slice(&tag_bytes[..room]);
    let (wanted, pseudo) = match spec.protocol {
        Protocol::Udp => {
            l4[..2].copy_from_slice(&spec.src_port.to_be_bytes());
            l4[2..4].copy_from_slice(&spec.dst_port.to_be_bytes());
            l4[4..6].copy_from_slice(&(l4_len as u16).to_be_bytes());
            (stamp, Some(checksum::pseudo_header(&src, &spec.dst, protocol, l4_len as u32)))
        }
        Protocol::Icmp | Protocol::Icmp6 => {
            l4[0] = if spec.protocol == Protocol::Icmp { 8 } else { 128 };
            l4[4..6].copy_from_slice(&spec.src_port.to_be_bytes());
            l4[6..8].copy_from_slice(&stamp.to_be_bytes());
            let pseudo = (spec.protocol == Protocol::Icmp6)
                .then(|| checksum::pseudo_header(&src, &spec.dst, protocol, l4_len as u32));
            (spec.src_port, pseudo)
        }
    };
    let sum = checksum::combine(&[checksum::data(l4), pseudo.unwrap_or(0)]);
    l4[8..10].copy_from_slice(&checksum::compensate(sum, wanted));
    let field = if spec.protocol == Protocol::Udp { 6 } else { 2 };
    l4[field..field + 2].copy_from_slice(&wanted.to_be_bytes());
    len
}
