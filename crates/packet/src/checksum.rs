//! RFC 1071 Internet checksum (16-bit one's-complement sum).
//!
//! Sums are kept *folded but not complemented* so they can be combined;
//! [`finish`] complements a final sum into the value written on the wire.
//! A checksum verifies when the sum over the data *including* the
//! transmitted checksum (and pseudo-header) equals `0xffff`.

use core::net::IpAddr;

/// Adds `b` to `a` in one's-complement arithmetic (end-around carry).
#[inline]
fn add(a: u16, b: u16) -> u16 {
    let (s, carry) = a.overflowing_add(b);
    s + u16::from(carry)
}

/// One's-complement sum of `bytes` as big-endian 16-bit words, folded.
///
/// An odd trailing byte is padded with a zero byte, as RFC 1071 specifies.
pub fn data(bytes: &[u8]) -> u16 {
    // Summed four bytes at a time: two words per addition, the same sum once folded.
    let mut acc: u64 = 0;
    let mut words = bytes.chunks_exact(4);
    for w in &mut words {
        acc += u64::from(u32::from_be_bytes([w[0], w[1], w[2], w[3]]));
    }
    let mut chunks = words.remainder().chunks_exact(2);
    for c in &mut chunks {
        acc += u64::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u64::from(*last) << 8;
    }
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// One's-complement sum of already-folded partial sums.
pub fn combine(sums: &[u16]) -> u16 {
    sums.iter().fold(0, |acc, &s| add(acc, s))
}

/// Folded sum of the TCP/UDP/ICMPv6 pseudo-header.
///
/// For two IPv4 addresses this is the RFC 768/793 header (`length` is
/// truncated to 16 bits); otherwise the RFC 8200 IPv6 header with a 32-bit
/// length. Mixed families never panic: the IPv4 address is mapped to its
/// `::ffff:a.b.c.d` form (a best effort; such a packet cannot exist).
pub fn pseudo_header(src: &IpAddr, dst: &IpAddr, next_header: u8, length: u32) -> u16 {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            combine(&[data(&s.octets()), data(&d.octets()), u16::from(next_header), length as u16])
        }
        _ => {
            let s = crate::ip::to_v6(*src).octets();
            let d = crate::ip::to_v6(*dst).octets();
            combine(&[data(&s), data(&d), (length >> 16) as u16, length as u16, u16::from(next_header)])
        }
    }
}

/// Turns a final folded sum into the checksum to transmit (its complement).
///
/// Note that UDP transmits a computed `0` as `0xffff`, because `0` means
/// "no checksum"; [`crate::UdpRepr::emit`] handles that.
#[inline]
pub fn finish(sum: u16) -> u16 {
    !sum
}

/// Solves for two bytes that make a checksum come out to `desired_checksum`.
///
/// This is how Paris traceroute keeps the UDP/ICMP checksum (and therefore
/// per-flow load balancing) constant while varying the payload.
///
/// `current_sum` is the folded sum (see [`data`], [`combine`],
/// [`pseudo_header`]) of everything the checksum covers with the two
/// adjustable bytes **and the checksum field** set to zero. The returned
/// bytes must be written at an **even** offset from the start of the
/// checksummed data (the transport header start is even); at an odd offset,
/// write them swapped (`[b[1], b[0]]`).
///
/// Results: any `desired_checksum` in `0x0000..=0xfffe` is reached exactly.
/// Asking for `0xffff` (its one's-complement twin of zero) yields a computed
/// checksum of `0x0000`, which UDP transmits as `0xffff` — so for UDP every
/// value except `0` (meaning "no checksum") is reachable, and for ICMP
/// every value except `0xffff`.
pub fn compensate(current_sum: u16, desired_checksum: u16) -> [u8; 2] {
    // We need current + x == !desired (mod 0xffff), i.e. x = !desired - current.
    combine(&[!desired_checksum, !current_sum]).to_be_bytes()
}

/// The checksum after the bytes in `old` were replaced by those in `new` (RFC 1624, eqn. 3), `old` and `new`
/// being of one length and at an even offset of the checksummed data.
///
/// This is what a NAT does to a transport checksum when it rewrites an address of the pseudo-header, and what a
/// tracer does to undo it: `update(update(c, a, b), b, a) == c`.
pub fn update(checksum: u16, old: &[u8], new: &[u8]) -> u16 {
    !combine(&[!checksum, !data(old), data(new)])
}

/// [`update`] for an address of the pseudo-header rewritten from `old` to `new` (both of one family).
pub fn update_address(checksum: u16, old: &IpAddr, new: &IpAddr) -> u16 {
    let sum = |addr: &IpAddr| match addr {
        IpAddr::V4(v4) => data(&v4.octets()),
        IpAddr::V6(v6) => data(&v6.octets()),
    };
    !combine(&[!checksum, !sum(old), sum(new)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn sums_by_four_bytes_equal_sums_by_two() {
        let by_two = |bytes: &[u8]| {
            let words = bytes.chunks(2).map(|c| u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)]));
            combine(&words.collect::<Vec<_>>())
        };
        let mut bytes = Vec::new();
        for n in 0u32..300 {
            assert_eq!(data(&bytes), by_two(&bytes), "{bytes:?}");
            bytes.push((n.wrapping_mul(2_654_435_761) >> 24) as u8 | if n % 7 == 0 { 0xff } else { 0 });
        }
        assert_eq!(data(&[0; 9]), 0);
        assert_eq!(data(&[0xff; 8]), 0xffff);
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
        assert_eq!(data(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]), 0xddf2);
        assert_eq!(data(&[]), 0);
        assert_eq!(data(&[0xab]), 0xab00);
        assert_eq!(combine(&[0xffff, 0x0001]), 0x0001);
        assert_eq!(finish(0xddf2), 0x220d);
    }

    #[test]
    fn v4_pseudo_header() {
        let s = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        let d = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 2));
        // c000 + 0201 + c633 + 6402 + 0011 + 0010
        let expect = combine(&[0xc000, 0x0201, 0xc633, 0x6402, 0x0011, 0x0010]);
        assert_eq!(pseudo_header(&s, &d, 17, 16), expect);
    }

    #[test]
    fn mixed_families_do_not_panic() {
        let s = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let d = IpAddr::V6(Ipv6Addr::LOCALHOST);
        let _ = pseudo_header(&s, &d, 58, 70_000);
    }

    #[test]
    fn compensate_exhaustive_targets() {
        let cur = data(b"some payload bytes!!");
        for desired in 0..=0xfffeu16 {
            let b = compensate(cur, desired);
            let got = finish(combine(&[cur, data(&b)]));
            assert_eq!(got, desired);
        }
        let b = compensate(cur, 0xffff);
        assert_eq!(finish(combine(&[cur, data(&b)])), 0);
    }
}
