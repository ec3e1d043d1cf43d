//! Errors that quote 8 bytes (RFC 792's minimum): what a link's forwarder makes of the ICMPv4 errors crossing it
//! when [`crate::Link::short_quotes`] is set.

/// Cuts an ICMPv4 error in `packet` (an IPv4 packet) to quote the offending packet's IP header and 8 bytes, as
/// RFC 792 asks and old routers do; anything else is left as it is.
pub(crate) fn shorten(packet: &mut Vec<u8>) {
    let outer = usize::from(packet.first().map_or(0, |byte| byte & 0xf)) * 4;
    let is_error = packet.len() >= outer + 8 + 20
        && packet[0] >> 4 == 4
        && packet[9] == 1
        && matches!(packet[outer], 3 | 11 | 12)
        && u16::from_be_bytes([packet[6], packet[7]]) & 0x3fff == 0; // not a fragment
    if !is_error {
        return;
    }
    let inner = usize::from(packet[outer + 8] & 0xf) * 4;
    let len = outer + 8 + inner + 8;
    if inner < 20 || packet.len() <= len {
        return;
    }
    packet.truncate(len);
    packet[2..4].copy_from_slice(&(len as u16).to_be_bytes());
    // RFC 4884's length field (the quote's length in words) would point past the end now: no extensions.
    packet[outer + 5] = 0;
    packet[10..12].copy_from_slice(&[0, 0]);
    let sum = packet::checksum::finish(packet::checksum::data(&packet[..outer]));
    packet[10..12].copy_from_slice(&sum.to_be_bytes());
    packet[outer + 2..outer + 4].copy_from_slice(&[0, 0]);
    let sum = packet::checksum::finish(packet::checksum::data(&packet[outer..]));
    packet[outer + 2..outer + 4].copy_from_slice(&sum.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An IPv4 header from `src` to `dst` of `protocol` (length and checksum left zero) and `payload`.
    fn ipv4(src: [u8; 4], dst: [u8; 4], protocol: u8, payload: &[u8]) -> Vec<u8> {
        let mut packet = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, protocol, 0, 0];
        packet.extend(src);
        packet.extend(dst);
        packet.extend(payload);
        packet
    }

    /// An ICMP message of `kind` and code 0, `rest` after its first four bytes, its checksum computed.
    fn icmp(kind: u8, rest: &[u8]) -> Vec<u8> {
        let mut message = vec![kind, 0, 0, 0];
        message.extend(rest);
        let sum = packet::checksum::finish(packet::checksum::data(&message));
        message[2..4].copy_from_slice(&sum.to_be_bytes());
        message
    }

    #[test]
    fn errors_are_cut_to_8_bytes_of_quote_and_stay_valid() {
        let (a, b) = ([198, 18, 0, 1], [198, 18, 1, 2]);
        let mut probe = ipv4(a, b, 17, &[0x82, 0x9a, 0x82, 0x9b, 0, 40, 0, 0]);
        probe.extend([0x55; 32]);
        let mut rest = vec![0; 4];
        rest.extend(&probe);
        let mut error = ipv4(b, a, 1, &icmp(11, &rest));
        let total = error.len() as u16;
        error[2..4].copy_from_slice(&total.to_be_bytes());
        shorten(&mut error);
        assert_eq!(error.len(), 20 + 8 + 20 + 8);
        assert_eq!(u16::from_be_bytes([error[2], error[3]]), 56);
        assert_eq!(error[48..56], probe[20..28]);
        assert_eq!(packet::checksum::finish(packet::checksum::data(&error[..20])), 0);
        assert_eq!(packet::checksum::finish(packet::checksum::data(&error[20..])), 0);
        // Not an error: left alone.
        let mut echo = ipv4(b, a, 1, &icmp(0, &[0; 60]));
        shorten(&mut echo);
        assert_eq!(echo.len(), 20 + 64);
    }
}
