//! The lab's standard multipath topology: two ECMP diamonds in a row, a 2-way then a 3-way.

use std::collections::BTreeSet;
use std::net::IpAddr;

use crate::{Family, Lab, LabSpec, NodeId, RouterOpts};

/// client — r1 — {r2a, r2b} — r3 — {r4a, r4b, r4c} — r5 — dst, added to a [`LabSpec`] by [`TwoDiamonds::add`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TwoDiamonds {
    /// The prober.
    pub client: NodeId,
    /// The router before the first diamond.
    pub r1: NodeId,
    /// The first diamond's two branches.
    pub r2: [NodeId; 2],
    /// The router joining the first diamond and opening the second.
    pub r3: NodeId,
    /// The second diamond's three branches.
    pub r4: [NodeId; 3],
    /// The router closing the second diamond.
    pub r5: NodeId,
    /// The destination (a host).
    pub dst: NodeId,
}

impl TwoDiamonds {
    /// Adds the nodes and links to `spec`.
    pub fn add(spec: &mut LabSpec) -> Self {
        let client = spec.node("client");
        let r1 = spec.router("r1");
        let r2 = ["r2a", "r2b"].map(|name| spec.router(name));
        let r3 = spec.router("r3");
        let r4 = ["r4a", "r4b", "r4c"].map(|name| spec.router(name));
        let r5 = spec.router("r5");
        let dst = spec.node("dst");
        let net = TwoDiamonds { client, r1, r2, r3, r4, r5, dst };
        for (a, b) in net.links() {
            spec.link(a, b);
        }
        net
    }

    /// The links, as node pairs in the order [`TwoDiamonds::add`] made them.
    pub fn links(&self) -> Vec<(NodeId, NodeId)> {
        let mut links = vec![(self.client, self.r1)];
        for branch in self.r2 {
            links.extend([(self.r1, branch), (branch, self.r3)]);
        }
        for branch in self.r4 {
            links.extend([(self.r3, branch), (branch, self.r5)]);
        }
        links.push((self.r5, self.dst));
        links
    }

    /// The routers at each distance from the client (1 to 5).
    pub fn levels(&self) -> Vec<Vec<NodeId>> {
        vec![vec![self.r1], self.r2.to_vec(), vec![self.r3], self.r4.to_vec(), vec![self.r5]]
    }

    /// Every node that sends ICMP errors to the client: the routers and the destination.
    pub fn answering(&self) -> Vec<NodeId> {
        [self.r1].into_iter().chain(self.r2).chain([self.r3]).chain(self.r4).chain([self.r5, self.dst]).collect()
    }

    /// Gives every router and the destination `opts`.
    pub fn set_opts(&self, spec: &mut LabSpec, opts: RouterOpts) {
        for node in self.answering() {
            spec.router_opts(node, opts);
        }
    }

    /// Per TTL (from 1), the nodes that may answer there, each with the addresses it answers from (the interface a
    /// probe comes in on: the middle of a diamond has one per branch).
    pub fn hop_nodes(&self, lab: &Lab, family: Family) -> Vec<Vec<(NodeId, BTreeSet<IpAddr>)>> {
        let one = |node: NodeId, peers: &[NodeId]| {
            vec![(node, peers.iter().map(|&peer| lab.iface_addr(node, peer, family)).collect())]
        };
        let each = |nodes: &[NodeId], peer: NodeId| {
            nodes.iter().map(|&node| (node, BTreeSet::from([lab.iface_addr(node, peer, family)]))).collect()
        };
        vec![
            one(self.r1, &[self.client]),
            each(&self.r2, self.r1),
            one(self.r3, &self.r2),
            each(&self.r4, self.r3),
            one(self.r5, &self.r4),
            one(self.dst, &[self.r5]),
        ]
    }

    /// Per TTL (from 1), the addresses that may answer there.
    pub fn hops(&self, lab: &Lab, family: Family) -> Vec<BTreeSet<IpAddr>> {
        self.hop_nodes(lab, family)
            .into_iter()
            .map(|hop| hop.into_iter().flat_map(|(_, addrs)| addrs).collect())
            .collect()
    }
}
