//! The integrity tag and the send-time stamp, as caracal computes them.

use core::net::IpAddr;

/// The 16-bit integrity tag of a probe: caracal's `ip_checksum(caracal_id, dst_addr, src_port, ttl)`.
///
/// The destination enters as caracal reads it: the last four bytes of its IPv6 (or IPv4-mapped) form, taken as a
/// little-endian word (caracal's `s6_addr32[3]` on x86 and ARM). Never 0, so the kernel never replaces it in an
/// IPv4 header it is handed.
pub fn tag(caracal_id: u16, dst: IpAddr, src_port: u16, ttl: u8) -> u16 {
    let last = match dst {
        IpAddr::V4(v4) => v4.octets(),
        IpAddr::V6(v6) => {
            let o = v6.octets();
            [o[12], o[13], o[14], o[15]]
        }
    };
    let sum = u64::from(caracal_id) + u64::from(u32::from_le_bytes(last)) + u64::from(src_port) + u64::from(ttl);
    !((sum % 65_535) as u16)
}

/// Tenths of a millisecond in `micros` microseconds.
pub fn tenth_ms(micros: u64) -> u64 {
    micros / 100
}

/// The send-time stamp a probe carries: the time in tenths of a millisecond, modulo 65,535 (about 6.5 s).
pub fn timestamp(now_tenth_ms: u64) -> u16 {
    (now_tenth_ms % 65_535) as u16
}

/// The round-trip time, in tenths of a millisecond, of a probe stamped `stamp` and answered at `now_tenth_ms`.
pub fn rtt_tenth_ms(now_tenth_ms: u64, stamp: u16) -> u16 {
    ((now_tenth_ms % 65_535 + 65_535 - u64::from(stamp) % 65_535) % 65_535) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tag_is_caracals_folded_sum_complemented() {
        // 1 + 0x0808_0808 + 24000 + 6 = 134_768_079; mod 65,535 = 28_119; complemented.
        let dst = "8.8.8.8".parse().unwrap();
        assert_eq!(tag(1, dst, 24000, 6), !28_119u16);
        // The mapped form tags alike.
        assert_eq!(tag(7, "::ffff:8.8.8.8".parse().unwrap(), 24000, 6), tag(7, dst, 24000, 6));
        // Little-endian word of the last four bytes: 198.18.3.4 reads as 0x040312c6.
        assert_eq!(tag(0, "198.18.3.4".parse().unwrap(), 0, 0), !((0x0403_12c6u64 % 65_535) as u16));
    }

    #[test]
    fn round_trip_times_wrap_with_the_stamp() {
        assert_eq!(rtt_tenth_ms(1000, timestamp(934)), 66);
        let late = 65_535 * 3 + 10;
        assert_eq!(rtt_tenth_ms(late, timestamp(late - 25)), 25);
        assert_eq!(rtt_tenth_ms(late, timestamp(late)), 0);
    }
}
