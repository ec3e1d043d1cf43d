//! Probe payloads, including the Paris trick: two payload bytes chosen so that the checksum comes out as wanted.

use core::net::IpAddr;

use packet::checksum;

/// `len` bytes of `traceroute(8)`'s payload pattern (`@ABC…`), which shows up recognisably in captures.
pub(crate) fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| 0x40 + (i % 0x40) as u8).collect()
}

/// `payload` (at least 2 bytes long, made so) with its first two bytes set to give the datagram from
/// `src:src_port` to `dst:dst_port` the UDP checksum `desired`.
pub(crate) fn udp_payload_for_checksum(
    src: IpAddr,
    dst: IpAddr,
    src_port: u16,
    dst_port: u16,
    payload: Vec<u8>,
    desired: u16,
) -> Vec<u8> {
    let mut payload = payload;
    payload.resize(payload.len().max(2), 0);
    payload[..2].fill(0);
    let udp_len = (8 + payload.len()) as u16;
    let sum = checksum::combine(&[
        checksum::pseudo_header(&src, &dst, 17, u32::from(udp_len)),
        src_port,
        dst_port,
        udp_len,
        checksum::data(&payload),
    ]);
    payload[..2].copy_from_slice(&checksum::compensate(sum, desired));
    payload
}

/// `payload` (at least 2 bytes long, made so) with its first two bytes set to give the Echo Request checksum
/// `desired` whatever its sequence number. ICMPv6 checksums cover the pseudo-header, hence `src` (required for IPv6).
pub(crate) fn echo_payload_for_checksum(
    src: Option<IpAddr>,
    dst: IpAddr,
    ident: u16,
    seq: u16,
    payload: Vec<u8>,
    desired: u16,
) -> Vec<u8> {
    let mut payload = payload;
    payload.resize(payload.len().max(2), 0);
    payload[..2].fill(0);
    let (echo_type, pseudo) = match (src, dst) {
        (Some(src), IpAddr::V6(_)) => (128u16, checksum::pseudo_header(&src, &dst, 58, (8 + payload.len()) as u32)),
        (None, IpAddr::V6(_)) => (128, 0),
        (_, IpAddr::V4(_)) => (8, 0),
    };
    let sum = checksum::combine(&[pseudo, echo_type << 8, ident, seq, checksum::data(&payload)]);
    payload[..2].copy_from_slice(&checksum::compensate(sum, desired));
    payload
}
