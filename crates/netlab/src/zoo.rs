//! The router zoo: routers as the Internet has them rather than as deterministic tests like them.
//!
//! - [`RouterOpts::kernel_limits`]: the kernel's default ICMP limits, global and per destination.
//! - [`crate::Link::short_quotes`]: errors that quote 8 bytes (RFC 792), cut by the link's forwarder
//!   ([`crate::short_quote`]).
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
