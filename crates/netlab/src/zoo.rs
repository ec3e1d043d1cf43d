//! The router zoo: routers as the Internet has them rather than as deterministic tests like them.
//!
//! - [`RouterOpts::kernel_limits`]: the kernel's default ICMP limits, global and per destination.
//! - [`crate::Link::short_quotes`]: errors that quote 8 bytes (RFC 792), cut by the link's forwarder
//!   ([`shorten_quote`]).
//! - [`RouterOpts::errors_from_route_back`] and [`Lab::answer_from_loopback`]: errors from the interface towards
//!   the source, or from an address on the router's loopback.

use std::net::IpAddr;

use crate::addressing::{iface_name, prefix_len, subnet};
use crate::cmd;
use crate::error::{Error, Result};
use crate::lab::Lab;
use crate::routing;
use crate::spec::{Family, NodeId, RouterOpts};

impl RouterOpts {
    /// A stock Linux node's ICMP limits: `icmp_ratelimit` 1000 ms (IPv4 and IPv6, per destination: a burst of
    /// about 6, then one error a second) and the global `icmp_msgs_per_sec` 1000 / `icmp_msgs_burst` 50.
    pub fn kernel_limits() -> Self {
        RouterOpts { icmp_ratelimit_ms: Some(1000), icmp_msgs: Some((1000, 50)), ..RouterOpts::default() }
    }
}

impl Lab {
    /// Puts `addr` (a lab address no link uses, e.g. in 198.19.250.0/24 or 2001:db8:ff::/48) on `router`'s
    /// loopback and makes it the preferred source (`src`) of all its routes of that family, connected ones too: the
    /// router's ICMP errors come from it, as from a router that answers from its loopback. For IPv4 the router
    /// needs [`RouterOpts::errors_from_route_back`] (else the inbound interface's address wins).
    pub fn answer_from_loopback(&self, router: NodeId, addr: IpAddr) -> Result<()> {
        let family = if addr.is_ipv4() { Family::V4 } else { Family::V6 };
        let in_lab = match addr {
            IpAddr::V4(v4) => v4.octets()[..2] == [198, 18] || v4.octets()[..2] == [198, 19],
            IpAddr::V6(v6) => v6.segments()[..2] == [0x2001, 0xdb8],
        };
        if !in_lab || self.links_of(router).any(|(link, _)| subnet(link, family) == lab_subnet(addr, family)) {
            return Err(Error::InvalidSpec(format!("{addr}: not a lab address off the links")));
        }
        let len = if addr.is_ipv4() { 32 } else { 128 };
        let nodad = if addr.is_ipv6() { " nodad" } else { "" };
        let mut lines = vec![format!("addr add {addr}/{len} dev lo{nodad}")];
        for (link, end) in self.links_of(router) {
            let peer = self.spec.links[link.0].ends[1 - end];
            let net = format!("{}/{}", subnet(link, family), prefix_len(family));
            let iface = iface_name(link, &self.spec.nodes[peer.0].name);
            // The connected route, as the kernel made it, but for its preferred source.
            lines.push(format!("route replace {net} dev {iface} proto kernel scope link src {addr}"));
        }
        for route in routing::routes(&self.spec).iter().filter(|route| route.node == router) {
            let net = format!("{}/{}", subnet(route.subnet, family), prefix_len(family));
            let line = self.route_line(&net, route, family);
            let hops = line.strip_prefix(&format!("route add {net} ")).unwrap_or_default();
            lines.push(format!("route replace {net} src {addr} {hops}"));
        }
        cmd::ip_batch(Some(self.ns(router)), &lines)
    }
}

/// The /24 or /64 that `addr` lies in, as a link's subnet address.
fn lab_subnet(addr: IpAddr, family: Family) -> IpAddr {
    match (addr, family) {
        (IpAddr::V4(v4), _) => IpAddr::V4((u32::from(v4) & !0xff).into()),
        (IpAddr::V6(v6), _) => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
    }
}

/// Cuts an ICMPv4 error in `packet` (an IPv4 packet) to quote the offending packet's IP header and 8 bytes, as
/// RFC 792 asks and old routers do; anything else is left as it is.
pub(crate) fn shorten_quote(packet: &mut Vec<u8>) {
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
    use crate::forge::{icmp, ipv4};
    use std::net::Ipv4Addr;

    #[test]
    fn errors_are_cut_to_8_bytes_of_quote_and_stay_valid() {
        let (a, b) = (Ipv4Addr::new(198, 18, 0, 1), Ipv4Addr::new(198, 18, 1, 2));
        let mut probe = ipv4(a, b, 17, &[0x82, 0x9a, 0x82, 0x9b, 0, 40, 0, 0]);
        probe.extend([0x55; 32]);
        let mut rest = vec![0; 4];
        rest.extend(&probe);
        let mut error = ipv4(b, a, 1, &icmp(11, 0, &rest));
        let total = error.len() as u16;
        error[2..4].copy_from_slice(&total.to_be_bytes());
        shorten_quote(&mut error);
        assert_eq!(error.len(), 20 + 8 + 20 + 8);
        assert_eq!(u16::from_be_bytes([error[2], error[3]]), 56);
        assert_eq!(error[48..56], probe[20..28]);
        assert_eq!(packet::checksum::finish(packet::checksum::data(&error[..20])), 0);
        assert_eq!(packet::checksum::finish(packet::checksum::data(&error[20..])), 0);
        // Not an error: left alone.
        let mut echo = ipv4(b, a, 1, &icmp(0, 0, &[0; 60]));
        shorten_quote(&mut echo);
        assert_eq!(echo.len(), 20 + 64);
    }
}
