//! A running lab: where its nodes are and how to run commands in them; dropping it tears it down.

use std::net::IpAddr;
use std::process::Command;

use crate::addressing;
use crate::delay::DelayLink;
use crate::namespace;
use crate::routing;
use crate::spec::{Family, LabSpec, LinkId, NodeId};

/// A lab network built by [`Lab::build`]; dropping it (also while unwinding) kills what runs in
/// its namespaces, stops its delay forwarders and removes its namespaces.
pub struct Lab {
    pub(crate) spec: LabSpec,
    /// The namespace of each node, by [`NodeId`].
    pub(crate) namespaces: Vec<String>,
    pub(crate) delay_links: Vec<DelayLink>,
}

impl Lab {
    /// The name of `node`'s network namespace (for `ip netns exec`, `ip -n`).
    pub fn ns(&self, node: NodeId) -> &str {
        &self.namespaces[node.0]
    }

    /// A command that runs `program` inside `node`'s namespace (`ip netns exec NS program`);
    /// add its arguments with [`Command::arg`]/[`Command::args`].
    pub fn command(&self, node: NodeId, program: &str) -> Command {
        crate::cmd::in_ns(self.ns(node), program)
    }

    /// `node`'s address on its first link.
    ///
    /// # Panics
    /// If `node` has no link.
    pub fn addr(&self, node: NodeId, family: Family) -> IpAddr {
        let name = &self.spec.nodes[node.0].name;
        let (link, end) = self.links_of(node).next().unwrap_or_else(|| panic!("node {name} has no link"));
        addressing::end_addr(link, end, family)
    }

    /// The addresses of both ends of `link`, in the order the ends were given to
    /// [`LabSpec::link`].
    pub fn link_addrs(&self, link: LinkId, family: Family) -> [IpAddr; 2] {
        [0, 1].map(|end| addressing::end_addr(link, end, family))
    }

    /// `node`'s address on its (first) link to `peer`.
    ///
    /// # Panics
    /// If the two are not linked.
    pub fn iface_addr(&self, node: NodeId, peer: NodeId, family: Family) -> IpAddr {
        let (link, end) = self.link_between(node, peer);
        addressing::end_addr(link, end, family)
    }

    /// The name of `node`'s interface on its (first) link to `peer`.
    ///
    /// # Panics
    /// If the two are not linked.
    pub fn iface(&self, node: NodeId, peer: NodeId) -> String {
        let (link, _) = self.link_between(node, peer);
        addressing::iface_name(link, &self.spec.nodes[peer.0].name)
    }

    /// The address `router` answers from when a probe sent by `from` expires there: its address
    /// on the link the probe arrives over (routers send ICMP errors from the inbound interface).
    ///
    /// Where equal-cost paths tie, this is the first tied link in declaration order. For IPv6 the
    /// kernel picks the source of errors by the route back to the prober, which is the same link
    /// unless the way back is multipath.
    ///
    /// # Panics
    /// If `router` cannot be reached from `from`.
    pub fn hop_addr(&self, router: NodeId, from: NodeId, family: Family) -> IpAddr {
        let (link, end) = routing::arrival_link(&self.spec, router, from).unwrap_or_else(|| {
            let [router, from] = [router, from].map(|node| &self.spec.nodes[node.0].name);
            panic!("{router} cannot be reached from {from}")
        });
        addressing::end_addr(link, end, family)
    }

    /// The addresses of the label-switching routers inside the (first) link from `node` to `peer`
    /// (see [`crate::Link::mpls_routers`]), in the order a packet from `node` crosses them.
    ///
    /// # Panics
    /// If the two are not linked.
    pub fn mpls_router_addrs(&self, node: NodeId, peer: NodeId, family: Family) -> Vec<IpAddr> {
        let (link, end) = self.link_between(node, peer);
        let mut addrs: Vec<IpAddr> = (0..self.spec.links[link.0].link.mpls_routers)
            .map(|index| addressing::mpls_router_addr(link, index, family))
            .collect();
        if end == 1 {
            addrs.reverse();
        }
        addrs
    }

    /// The links of `node` in declaration order, with which end of each it is.
    pub(crate) fn links_of(&self, node: NodeId) -> impl Iterator<Item = (LinkId, usize)> + '_ {
        self.spec.links.iter().enumerate().filter_map(move |(index, link)| {
            let end = link.ends.iter().position(|&end| end == node)?;
            Some((LinkId(index), end))
        })
    }

    fn link_between(&self, node: NodeId, peer: NodeId) -> (LinkId, usize) {
        self.links_of(node).find(|&(link, end)| self.spec.links[link.0].ends[1 - end] == peer).unwrap_or_else(|| {
            let [node, peer] = [node, peer].map(|node| &self.spec.nodes[node.0].name);
            panic!("{node} and {peer} are not linked")
        })
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.delay_links.clear();
        namespace::remove(&self.namespaces);
    }
}
