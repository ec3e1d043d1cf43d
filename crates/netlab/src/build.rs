//! Turning a [`LabSpec`] into namespaces, links, addresses, routes and firewall rules.

use std::net::IpAddr;

use crate::addressing::{end_addr, end_mac, iface_name, mpls_router_addr, prefix_len, subnet};
use crate::cmd;
use crate::delay::DelayLink;
use crate::error::{Error, Result};
use crate::firewall;
use crate::lab::Lab;
use crate::mpls::Tunnel;
use crate::namespace;
use crate::routing::{self, Route};
use crate::spec::{Family, LabSpec, LinkId, NodeId, NodeSpec};

const FAMILIES: [Family; 2] = [Family::V4, Family::V6];

impl Lab {
    /// Builds the lab `spec` describes: one namespace per node, links up and addressed, routes
    /// to every subnet installed, neighbours resolved, firewall rules in place.
    ///
    /// Removes first the namespaces that labs of dead processes left behind. If building fails
    /// half-way, what was built is torn down before the error returns.
    pub fn build(spec: &LabSpec) -> Result<Lab> {
        spec.validate().map_err(Error::InvalidSpec)?;
        cmd::require_root()?;
        cmd::require_tools()?;
        namespace::remove_stale();

        let prefix = namespace::new_lab_prefix();
        let namespaces = spec.nodes.iter().map(|node| format!("{prefix}{}", node.name)).collect();
        let mut lab = Lab { spec: spec.clone(), namespaces, delay_links: Vec::new() };
        namespace::add(&lab.namespaces)?;
        for (index, node) in spec.nodes.iter().enumerate() {
            let args = ["-q", "-w"].into_iter().map(String::from).chain(sysctls(node));
            cmd::run_in_ns(lab.ns(NodeId(index)), "sysctl", &args.collect::<Vec<_>>())?;
        }
        lab.add_links()?;
        let routes = routing::routes(spec);
        for node in (0..spec.nodes.len()).map(NodeId) {
            cmd::ip_batch(Some(lab.ns(node)), &lab.node_config(node, &routes))?;
            for rule in firewall::rules(spec, node) {
                cmd::run_in_ns(lab.ns(node), rule.program(), &rule.args)?;
            }
        }
        Ok(lab)
    }

    /// Creates every link's devices: veth pairs in one batch, then the TUN pairs of delayed links.
    fn add_links(&mut self) -> Result<()> {
        let mut veths = Vec::new();
        for index in 0..self.spec.links.len() {
            let link = LinkId(index);
            let [a, b] = self.spec.links[index].ends;
            let names = [iface_name(link, self.name(b)), iface_name(link, self.name(a))];
            let spec = self.spec.links[index].link;
            if spec.is_tun() {
                let tunnel = (spec.mpls_routers > 0).then(|| tunnel(link, spec.mpls_routers));
                let delay = spec.delay.unwrap_or_default();
                let namespaces = [self.ns(a), self.ns(b)];
                let started = DelayLink::start(namespaces, [&names[0], &names[1]], delay, tunnel, spec.short_quotes)?;
                self.delay_links.push(started);
            } else {
                veths.push(format!(
                    "link add {} netns {} address {} type veth peer name {} netns {} address {}",
                    names[0],
                    self.ns(a),
                    end_mac(link, 0),
                    names[1],
                    self.ns(b),
                    end_mac(link, 1)
                ));
            }
        }
        cmd::ip_batch(None, &veths)
    }

    /// The `ip -batch` lines that bring up `node`'s interfaces with their addresses, its
    /// neighbours (permanent, so no packet waits for ARP or neighbour discovery) and its routes.
    fn node_config(&self, node: NodeId, routes: &[Route]) -> Vec<String> {
        let mut lines = vec!["link set dev lo up".to_string()];
        for (link, end) in self.links_of(node) {
            let spec = self.spec.links[link.0];
            let iface = iface_name(link, self.name(spec.ends[1 - end]));
            let mtu = spec.link.mtu.map(|mtu| format!(" mtu {mtu}")).unwrap_or_default();
            lines.push(format!("link set dev {iface}{mtu} up"));
            for family in FAMILIES {
                let (addr, len) = (end_addr(link, end, family), prefix_len(family));
                let nodad = if family == Family::V6 { " nodad" } else { "" };
                lines.push(format!("addr add {addr}/{len} dev {iface}{nodad}"));
                if !spec.link.is_tun() {
                    let (peer, mac) = (end_addr(link, 1 - end, family), end_mac(link, 1 - end));
                    lines.push(format!("neigh replace {peer} lladdr {mac} dev {iface} nud permanent"));
                }
            }
        }
        for route in routes.iter().filter(|route| route.node == node) {
            for family in FAMILIES {
                let net = format!("{}/{}", subnet(route.subnet, family), prefix_len(family));
                lines.push(self.route_line(&net, route, family));
            }
        }
        lines.extend(self.anyip_routes(node, routes));
        lines
    }

    /// The routes of `node` to the AnyIP ranges: local on their owner; elsewhere the way to the owner's first
    /// link (over that link when `node` is on it).
    fn anyip_routes(&self, node: NodeId, routes: &[Route]) -> Vec<String> {
        let mut lines = Vec::new();
        for range in &self.spec.anyip {
            let net = format!("{}/{}", range.prefix, range.len);
            let family = if range.prefix.is_ipv4() { Family::V4 } else { Family::V6 };
            if range.node == node {
                lines.push(format!("route add local {net} dev lo"));
                continue;
            }
            let Some((link, end)) = self.links_of(range.node).next() else { continue };
            if self.spec.links[link.0].ends[1 - end] == node {
                let via = end_addr(link, end, family);
                lines.push(format!("route add {net} via {via} dev {}", iface_name(link, self.name(range.node))));
            } else if let Some(route) = routes.iter().find(|route| route.node == node && route.subnet == link) {
                lines.push(self.route_line(&net, route, family));
            }
        }
        lines
    }

    /// `route add NET via GW dev IF`, or with several `nexthop via GW dev IF` for ECMP: `route`'s next hops.
    pub(crate) fn route_line(&self, net: &str, route: &Route, family: Family) -> String {
        let hops: Vec<String> = route
            .next_hops
            .iter()
            .map(|hop| {
                let spec = &self.spec.links[hop.link.0];
                let via_end = usize::from(spec.ends[1] == hop.via);
                let via = end_addr(hop.link, via_end, family);
                format!("via {via} dev {}", iface_name(hop.link, self.name(hop.via)))
            })
            .collect();
        match hops.as_slice() {
            [hop] => format!("route add {net} {hop}"),
            _ => format!("route add {net} nexthop {}", hops.join(" nexthop ")),
        }
    }

    fn name(&self, node: NodeId) -> &str {
        &self.spec.nodes[node.0].name
    }
}

/// The label-switching routers of `link`, addressed.
fn tunnel(link: LinkId, routers: u8) -> Tunnel {
    let router = |index| match (mpls_router_addr(link, index, Family::V4), mpls_router_addr(link, index, Family::V6)) {
        (IpAddr::V4(v4), IpAddr::V6(v6)) => (v4, v6),
        _ => unreachable!("mpls_router_addr gives an address of the family asked for"),
    };
    Tunnel::new((0..routers).map(router).collect())
}

/// The `sysctl` settings of a node, set before its interfaces exist so they inherit them.
fn sysctls(node: &NodeSpec) -> Vec<String> {
    // Off unless asked for, so that every probe gets its answer; asked for, like a stock kernel.
    let (ratelimit_ms, msgs) = match node.opts.icmp_ratelimit_ms {
        Some(ms) => (ms, (1000, 50)),
        // High enough that a bulk prober at several hundred thousand probes a second is not held back.
        None => (0, (10_000_000, 10_000_000)),
    };
    let (msgs_per_sec, msgs_burst) = node.opts.icmp_msgs.unwrap_or(msgs);
    let forwarding = u8::from(node.router);
    vec![
        format!("net.ipv4.ip_forward={forwarding}"),
        format!("net.ipv6.conf.all.forwarding={forwarding}"),
        format!("net.ipv6.conf.default.forwarding={forwarding}"),
        "net.ipv4.conf.all.rp_filter=0".into(),
        "net.ipv4.conf.default.rp_filter=0".into(),
        format!("net.ipv4.icmp_errors_use_inbound_ifaddr={}", u8::from(!node.opts.errors_from_route_back)),
        "net.ipv4.fib_multipath_hash_policy=1".into(),
        "net.ipv6.fib_multipath_hash_policy=1".into(),
        "net.ipv6.conf.all.accept_dad=0".into(),
        "net.ipv6.conf.default.accept_dad=0".into(),
        "net.ipv6.conf.default.accept_ra=0".into(),
        "net.ipv4.ping_group_range=0 2147483647".into(),
        format!("net.ipv4.icmp_ratelimit={ratelimit_ms}"),
        format!("net.ipv6.icmp.ratelimit={ratelimit_ms}"),
        format!("net.ipv4.icmp_msgs_per_sec={msgs_per_sec}"),
        format!("net.ipv4.icmp_msgs_burst={msgs_burst}"),
    ]
}
