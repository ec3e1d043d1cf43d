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
    with_checksum(payload, desired, |payload_len| {
        let udp_len = (8 + payload_len) as u16;
        [checksum::pseudo_header(&src, &dst, 17, u32::from(udp_len)), src_port, dst_port, udp_len]
    })
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
    with_checksum(payload, desired, |payload_len| {
        let (echo_type, pseudo) = match (src, dst) {
            (Some(src), IpAddr::V6(_)) => (128u16, checksum::pseudo_header(&src, &dst, 58, (8 + payload_len) as u32)),
            (None, IpAddr::V6(_)) => (128, 0),
            (_, IpAddr::V4(_)) => (8, 0),
        };
        [pseudo, echo_type << 8, ident, seq]
    })
}

/// `payload`, made at least 2 bytes long, with its first two bytes set so that the checksum over the words
/// `header` gives for its length, and over the payload, comes out `desired`.
fn with_checksum(mut payload: Vec<u8>, desired: u16, header: impl FnOnce(usize) -> [u16; 4]) -> Vec<u8> {
    payload.resize(payload.len().max(2), 0);
    payload[..2].fill(0);
    let [a, b, c, d] = header(payload.len());
    let sum = checksum::combine(&[a, b, c, d, checksum::data(&payload)]);
    payload[..2].copy_from_slice(&checksum::compensate(sum, desired));
    payload
}
