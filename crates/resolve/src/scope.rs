//! Whether an address belongs to the public Internet.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether `addr` is globally routable, so that public services such as the
/// Team Cymru AS lookup can know something about it.
///
/// False for private (RFC 1918), shared (100.64.0.0/10), benchmarking
/// (198.18.0.0/15), documentation, loopback, link-local, unique-local,
/// multicast, broadcast, unspecified and reserved addresses. IPv4-mapped IPv6
/// addresses are judged as IPv4.
pub fn is_public(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(addr: Ipv4Addr) -> bool {
    let [a, b, ..] = addr.octets();
    let this_network = a == 0;
    let shared = a == 100 && (64..128).contains(&b);
    let protocol_assignments = addr.octets()[..3] == [192, 0, 0];
    let benchmarking = a == 198 && (b & 0xfe) == 18;
    let reserved = a >= 240;
    !(this_network
        || shared
        || protocol_assignments
        || benchmarking
        || reserved
        || addr.is_private()
        || addr.is_loopback()
        || addr.is_link_local()
        || addr.is_documentation()
        || addr.is_multicast()
        || addr.is_broadcast())
}

fn is_public_v6(addr: Ipv6Addr) -> bool {
    let segments = addr.segments();
    let documentation = segments[0] == 0x2001 && segments[1] == 0x0db8;
    let benchmarking = segments[0] == 0x2001 && segments[1] == 0x0002 && segments[2] == 0;
    let discard = segments[0] == 0x0100 && segments[1..4] == [0, 0, 0];
    // Everything outside 2000::/3 is unassigned or special.
    let global_unicast = segments[0] & 0xe000 == 0x2000;
    global_unicast
        && !(documentation || benchmarking || discard || addr.is_unique_local() || addr.is_unicast_link_local())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(addr: &str) -> bool {
        is_public(addr.parse().unwrap())
    }

    #[test]
    fn public_addresses() {
        for addr in ["1.1.1.1", "8.8.8.8", "198.20.0.1", "100.128.0.1", "2606:4700::1111"] {
            assert!(public(addr), "{addr}");
        }
        assert!(public("::ffff:1.1.1.1"));
    }

    #[test]
    fn non_public_addresses() {
        for addr in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.254",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "127.0.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "2001:db8::1",
            "ff02::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!public(addr), "{addr}");
        }
    }
}
