//! The declarative description of a lab: nodes, links and per-node options.

use std::time::Duration;

/// A node of a [`LabSpec`]: an index into its list of nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub(crate) usize);

/// A link of a [`LabSpec`]: an index into its list of links.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkId(pub(crate) usize);

/// An IP version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4 (addresses from 198.18.0.0/15).
    V4,
    /// IPv6 (addresses from 2001:db8::/32).
    V6,
}

/// How a link behaves; `Link::default()` is a plain veth pair.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Link {
    /// One-way delay added in each direction, so the round trip over the link grows by twice this.
    ///
    /// The kernel has no netem, so a delayed link is a pair of TUN devices joined by forwarder
    /// threads of this process instead of a veth pair. The forwarder adds 0.1 to 0.2 ms per
    /// direction of its own: a 20 ms link measures 40.2 to 40.5 ms round trip on an idle machine.
    pub delay: Option<Duration>,
    /// MTU of both ends, at least 1280 (the kernel turns IPv6 off below that).
    pub mtu: Option<u32>,
    /// Probability in `0.0..=1.0` that a packet arriving over the link is dropped, in each
    /// direction, IPv4 and IPv6 (neighbour discovery excepted).
    pub loss: Option<f64>,
    /// Label-switching routers inside the link (an MPLS tunnel in the uniform model): each lowers
    /// the TTL of what crosses by one, and the one where it runs out answers with a Time Exceeded
    /// carrying its label in an RFC 4950 extension, from host 101, 102, … of the link's subnet
    /// (first label 24000, counted from the link's first end). Makes the link a TUN link, like
    /// [`Link::delay`]; at most 50.
    pub mpls_routers: u8,
    /// ICMPv4 errors crossing the link quote only the offending packet's IP header and 8 bytes (RFC 792's
    /// minimum), as old routers do: every router and host beyond the link seems to. Makes the link a TUN link.
    pub short_quotes: bool,
}

impl Link {
    /// Whether the link is a TUN pair with a forwarder rather than a veth pair.
    pub(crate) fn is_tun(&self) -> bool {
        self.delay.is_some() || self.mpls_routers > 0 || self.short_quotes
    }
}

/// The ICMP error a rejecting router sends for every packet it would forward.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectWith {
    /// Network unreachable (ICMPv6: no route to destination).
    NetUnreachable,
    /// Host unreachable (ICMPv6: address unreachable).
    HostUnreachable,
    /// Port unreachable (ICMPv6: port unreachable).
    PortUnreachable,
    /// Network prohibited (ICMPv6: administratively prohibited).
    NetProhibited,
    /// Host prohibited (ICMPv6: administratively prohibited).
    HostProhibited,
    /// Communication administratively prohibited (ICMPv6: the same).
    AdminProhibited,
}

impl RejectWith {
    /// The `--reject-with` argument of `iptables` (`v4`) or `ip6tables`.
    pub(crate) fn iptables_name(self, family: Family) -> &'static str {
        match (self, family) {
            (Self::NetUnreachable, Family::V4) => "icmp-net-unreachable",
            (Self::HostUnreachable, Family::V4) => "icmp-host-unreachable",
            (Self::PortUnreachable, Family::V4) => "icmp-port-unreachable",
            (Self::NetProhibited, Family::V4) => "icmp-net-prohibited",
            (Self::HostProhibited, Family::V4) => "icmp-host-prohibited",
            (Self::AdminProhibited, Family::V4) => "icmp-admin-prohibited",
            (Self::NetUnreachable, Family::V6) => "icmp6-no-route",
            (Self::HostUnreachable, Family::V6) => "icmp6-addr-unreachable",
            (Self::PortUnreachable, Family::V6) => "icmp6-port-unreachable",
            (Self::NetProhibited | Self::HostProhibited | Self::AdminProhibited, Family::V6) => "icmp6-adm-prohibited",
        }
    }
}

/// How a node answers; meant for routers, but applies to any node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RouterOpts {
    /// Send no ICMP time-exceeded or destination-unreachable errors (IPv4 and IPv6).
    pub silent: bool,
    /// Refuse to forward anything, answering with this ICMP error.
    pub reject: Option<RejectWith>,
    /// Rate-limit ICMP errors like a stock kernel: this many milliseconds per token
    /// (`net.ipv4.icmp_ratelimit`, `net.ipv6.icmp.ratelimit`) and the default global caps.
    /// `None` (the default) turns rate limiting off so that answers are deterministic.
    pub icmp_ratelimit_ms: Option<u32>,
    /// The global cap on ICMP errors, per second and burst (`net.ipv4.icmp_msgs_per_sec`, `icmp_msgs_burst`; IPv6
    /// shares it). `None`: the stock kernel's (1000, 50) with `icmp_ratelimit_ms`, else lifted.
    pub icmp_msgs: Option<(u32, u32)>,
    /// Send IPv4 ICMP errors from the address the route back to the offender leaves by, as Linux does by default
    /// (`net.ipv4.icmp_errors_use_inbound_ifaddr=0`), rather than from the interface the packet came in on.
    /// IPv6 always picks the source by the route back.
    pub errors_from_route_back: bool,
}

/// One node: a network namespace, forwarding if it is a router.
#[derive(Clone, Debug)]
pub(crate) struct NodeSpec {
    pub name: String,
    pub router: bool,
    pub opts: RouterOpts,
    /// Raw `iptables` rules, e.g. `-A INPUT -p udp -j DROP`.
    pub rules_v4: Vec<String>,
    /// Raw `ip6tables` rules.
    pub rules_v6: Vec<String>,
}

/// One link between two nodes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LinkSpec {
    pub ends: [NodeId; 2],
    pub link: Link,
}

/// A range of addresses a node answers for as its own (AnyIP).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AnyIp {
    pub node: NodeId,
    pub prefix: std::net::IpAddr,
    pub len: u8,
}

/// How many links a lab may have: 198.18.0.0/15 holds 512 /24s, one a link.
pub(crate) const MAX_LINKS: usize = 512;

/// How many label-switching routers a link can hold (hosts 101 to 150 of its subnet).
pub(crate) const MAX_MPLS_ROUTERS: u8 = 50;

/// The description of a lab network, turned into namespaces by [`Lab::build`](crate::Lab::build).
#[derive(Clone, Debug, Default)]
pub struct LabSpec {
    pub(crate) nodes: Vec<NodeSpec>,
    pub(crate) links: Vec<LinkSpec>,
    pub(crate) anyip: Vec<AnyIp>,
}

impl LabSpec {
    /// An empty lab.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a host: a namespace that does not forward. `name` (letters, digits, `-`, `_`)
    /// must be unique in the lab.
    pub fn node(&mut self, name: &str) -> NodeId {
        self.add_node(name, false)
    }

    /// Adds a router: a namespace with IPv4 and IPv6 forwarding on, `rp_filter` off, and ICMP
    /// errors sent from the interface the offending packet came in on (unless
    /// [`RouterOpts::errors_from_route_back`]).
    pub fn router(&mut self, name: &str) -> NodeId {
        self.add_node(name, true)
    }

    /// Links two nodes with a plain veth pair.
    pub fn link(&mut self, a: NodeId, b: NodeId) -> LinkId {
        self.link_with(a, b, Link::default())
    }

    /// Links two nodes with a link that has a delay, an MTU or loss.
    ///
    /// Every link gets its own /24 and /64; `a` gets `.1`/`::1` in them and `b` gets `.2`/`::2`.
    pub fn link_with(&mut self, a: NodeId, b: NodeId, link: Link) -> LinkId {
        self.links.push(LinkSpec { ends: [a, b], link });
        LinkId(self.links.len() - 1)
    }

    /// A chain `client — r1 — … — rN — dst`: a host, `routers` routers and a host, link n (0 being client — r1)
    /// as `link(n)` makes it. Returns the client, the routers and the destination.
    pub fn chain(&mut self, routers: usize, link: impl Fn(usize) -> Link) -> (NodeId, Vec<NodeId>, NodeId) {
        let client = self.node("client");
        let routers: Vec<NodeId> = (1..=routers).map(|n| self.router(&format!("r{n}"))).collect();
        let dst = self.node("dst");
        let mut previous = client;
        for (index, &node) in routers.iter().chain([&dst]).enumerate() {
            self.link_with(previous, node, link(index));
            previous = node;
        }
        (client, routers, dst)
    }

    /// Sets how `node` answers (see [`RouterOpts`]).
    pub fn router_opts(&mut self, node: NodeId, opts: RouterOpts) {
        self.nodes[node.0].opts = opts;
    }

    /// Adds raw `iptables` rules to `node`, each one the arguments after `iptables`
    /// (split on whitespace, no quoting), e.g. `-A INPUT -p udp -j DROP`.
    pub fn firewall(&mut self, node: NodeId, rules: &[&str]) {
        let node = &mut self.nodes[node.0];
        node.rules_v4.extend(rules.iter().map(|rule| rule.to_string()));
    }

    /// Adds raw `ip6tables` rules to `node`, like [`firewall`](Self::firewall).
    pub fn firewall6(&mut self, node: NodeId, rules: &[&str]) {
        let node = &mut self.nodes[node.0];
        node.rules_v6.extend(rules.iter().map(|rule| rule.to_string()));
    }

    /// Makes `node` answer for every address of `prefix`/`len` as its own (AnyIP: `ip route add local PREFIX dev
    /// lo` in its namespace), routed to it from every other node as its first link's subnet is: thousands of
    /// destinations from one namespace. The prefix must lie in 198.18.0.0/15 above the links' /24s (e.g.
    /// 198.19.224.0/19) or in 2001:db8::/32 outside 2001:db8::/48 (e.g. 2001:db8:1::/48).
    pub fn anyip(&mut self, node: NodeId, prefix: std::net::IpAddr, len: u8) {
        self.anyip.push(AnyIp { node, prefix, len });
    }

    fn add_node(&mut self, name: &str, router: bool) -> NodeId {
        self.nodes.push(NodeSpec {
            name: name.to_string(),
            router,
            opts: RouterOpts::default(),
            rules_v4: Vec::new(),
            rules_v6: Vec::new(),
        });
        NodeId(self.nodes.len() - 1)
    }

    /// Checks what the builder methods could not: names, link ends and link parameters.
    pub(crate) fn validate(&self) -> Result<(), String> {
        let mut names = std::collections::HashSet::new();
        for node in &self.nodes {
            let valid = node.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if node.name.is_empty() || !valid {
                return Err(format!("node name {:?}: use letters, digits, '-' or '_'", node.name));
            }
            if !names.insert(&node.name) {
                return Err(format!("node name {:?} is used twice", node.name));
            }
        }
        if self.links.len() > MAX_LINKS {
            return Err(format!("at most {MAX_LINKS} links"));
        }
        for (index, spec) in self.links.iter().enumerate() {
            let [a, b] = spec.ends;
            if a.0 >= self.nodes.len() || b.0 >= self.nodes.len() {
                return Err(format!("link {index}: a node of another LabSpec"));
            }
            if a == b {
                return Err(format!("link {index}: both ends are {:?}", self.nodes[a.0].name));
            }
            if spec.link.mtu.is_some_and(|mtu| !(1280..=65535).contains(&mtu)) {
                return Err(format!("link {index}: the MTU must be in 1280..=65535"));
            }
            if spec.link.loss.is_some_and(|loss| !(0.0..=1.0).contains(&loss)) {
                return Err(format!("link {index}: the loss must be a probability in 0..=1"));
            }
            if spec.link.mpls_routers > MAX_MPLS_ROUTERS {
                return Err(format!("link {index}: at most {MAX_MPLS_ROUTERS} MPLS routers"));
            }
        }
        for range in &self.anyip {
            self.validate_anyip(range)?;
        }
        Ok(())
    }

    /// An AnyIP range must be a lab address range that no link uses, of a node that has a link.
    fn validate_anyip(&self, range: &AnyIp) -> Result<(), String> {
        use std::net::IpAddr;
        let AnyIp { node, prefix, len } = *range;
        let what = format!("AnyIP range {prefix}/{len}");
        if !self.links.iter().any(|link| link.ends.contains(&node)) {
            return Err(format!("{what}: its node has no link"));
        }
        let fits = match prefix {
            IpAddr::V4(v4) => {
                let (start, base) = (u32::from(v4), u32::from(std::net::Ipv4Addr::new(198, 18, 0, 0)));
                let first_free = base + ((self.links.len() as u32) << 8);
                (15..=32).contains(&len) && start >= first_free && start >> 17 == base >> 17
            }
            IpAddr::V6(v6) => {
                let segments = v6.segments();
                (48..=128).contains(&len) && segments[..2] == [0x2001, 0xdb8] && segments[2] != 0
            }
        };
        if fits {
            Ok(())
        } else {
            Err(format!("{what}: use 198.18.0.0/15 above the links' subnets, or 2001:db8:N::/48 with N > 0"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(spec: &LabSpec) -> String {
        spec.validate().expect_err("an invalid spec")
    }

    #[test]
    fn invalid_specs_are_refused() {
        let mut spec = LabSpec::new();
        let a = spec.node("a");
        let b = spec.router("b");
        spec.link(a, b);
        assert_eq!(spec.validate(), Ok(()));

        let mut twice = spec.clone();
        twice.node("a");
        assert!(error_of(&twice).contains("used twice"));
        let mut spaced = spec.clone();
        spaced.node("a b");
        assert!(error_of(&spaced).contains("letters, digits"));
        let mut looped = spec.clone();
        looped.link(b, b);
        assert!(error_of(&looped).contains("both ends"));
        let mut narrow = spec.clone();
        narrow.link_with(a, b, Link { mtu: Some(576), ..Link::default() });
        assert!(error_of(&narrow).contains("MTU"));
        let mut lossy = spec.clone();
        lossy.link_with(a, b, Link { loss: Some(1.5), ..Link::default() });
        assert!(error_of(&lossy).contains("probability"));
        let mut foreign = spec.clone();
        foreign.link(a, NodeId(7));
        assert!(error_of(&foreign).contains("another LabSpec"));
        let mut anyip = spec.clone();
        anyip.anyip(b, "198.19.224.0".parse().unwrap(), 19);
        anyip.anyip(b, "2001:db8:1::".parse().unwrap(), 48);
        assert_eq!(anyip.validate(), Ok(()));
        for (prefix, len) in [("198.18.0.0", 24), ("10.0.0.0", 8), ("2001:db8::", 48), ("2001:db9:1::", 48)] {
            let mut bad = spec.clone();
            bad.anyip(b, prefix.parse().unwrap(), len);
            assert!(error_of(&bad).contains("AnyIP"), "{prefix}/{len}");
        }
    }
}
