//! Addresses, MACs and interface names of links, all derived from the link's index.
//!
//! Link `i` owns 198.18.0.0/15's `i`-th /24 and 2001:db8:0:`i`::/64; its first end is host 1
//! there, its second end host 2.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::spec::{Family, LinkId};

/// The prefix length of every link's subnet in `family`.
pub(crate) fn prefix_len(family: Family) -> u8 {
    match family {
        Family::V4 => 24,
        Family::V6 => 64,
    }
}

/// The network address of `link`'s subnet.
pub(crate) fn subnet(link: LinkId, family: Family) -> IpAddr {
    host(link, family, 0)
}

/// The address of end `end` (0 or 1) of `link`.
pub(crate) fn end_addr(link: LinkId, end: usize, family: Family) -> IpAddr {
    host(link, family, end as u8 + 1)
}

/// The address of the `index`-th (from 0) label-switching router inside `link`, counted from its first end.
pub(crate) fn mpls_router_addr(link: LinkId, index: u8, family: Family) -> IpAddr {
    host(link, family, 101 + index)
}

/// The MAC address of end `end` of a veth `link`: locally administered, unique in the lab.
pub(crate) fn end_mac(link: LinkId, end: usize) -> String {
    let [hi, lo] = (link.0 as u16).to_be_bytes();
    format!("02:48:54:{hi:02x}:{lo:02x}:{:02x}", end + 1)
}

/// The interface name of `link` in the namespace of one end, naming the node at the other end:
/// `l<index>-<peer>`, cut to the kernel's 15 bytes (the index keeps it unique).
pub(crate) fn iface_name(link: LinkId, peer: &str) -> String {
    let mut name = format!("l{}-{peer}", link.0);
    name.truncate(15);
    name
}

fn host(link: LinkId, family: Family, host: u8) -> IpAddr {
    let index = link.0 as u32;
    match family {
        Family::V4 => {
            let base = u32::from(Ipv4Addr::new(198, 18, 0, 0));
            IpAddr::V4(Ipv4Addr::from(base + (index << 8) + u32::from(host)))
        }
        Family::V6 => IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, index as u16, 0, 0, 0, host.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_stay_in_the_lab_ranges() {
        let last = LinkId(crate::spec::MAX_LINKS - 1);
        assert_eq!(end_addr(LinkId(0), 0, Family::V4).to_string(), "198.18.0.1");
        assert_eq!(end_addr(LinkId(3), 1, Family::V4).to_string(), "198.18.3.2");
        assert_eq!(end_addr(last, 1, Family::V4).to_string(), "198.19.255.2");
        assert_eq!(subnet(LinkId(3), Family::V6).to_string(), "2001:db8:0:3::");
        assert_eq!(end_addr(last, 0, Family::V6).to_string(), "2001:db8:0:1ff::1");
    }

    #[test]
    fn names_fit_the_kernel_limit() {
        assert_eq!(iface_name(LinkId(7), "r1"), "l7-r1");
        assert_eq!(iface_name(LinkId(123), "a-very-long-router-name"), "l123-a-very-lon");
        assert_eq!(end_mac(LinkId(258), 1), "02:48:54:01:02:02");
    }
}
