//! Shortest-path routes (in hops) over the link graph, with every tied next hop kept for ECMP.
//!
//! Only routers relay: a path may start or end at a host but never goes through one.

use std::collections::VecDeque;

use crate::spec::{LabSpec, LinkId, NodeId};

/// One way out of a node towards a subnet: over `link`, to the node `via` at its other end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NextHop {
    pub link: LinkId,
    pub via: NodeId,
}

/// The route of `node` to the subnet of link `subnet`: one next hop, or several (ECMP).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Route {
    pub node: NodeId,
    pub subnet: LinkId,
    pub next_hops: Vec<NextHop>,
}

/// The routes every node needs to every subnet it is not on and can reach.
pub(crate) fn routes(spec: &LabSpec) -> Vec<Route> {
    let graph = Graph::new(spec);
    let mut routes = Vec::new();
    for (index, link) in spec.links.iter().enumerate() {
        let distance = graph.distances(&link.ends, |node| graph.is_router(node));
        for node in (0..spec.nodes.len()).map(NodeId) {
            let Some(hops) = distance[node.0].filter(|&hops| hops > 0) else {
                continue;
            };
            let next_hops = graph.neighbours[node.0]
                .iter()
                .filter(|hop| graph.is_router(hop.via) && distance[hop.via.0] == Some(hops - 1))
                .copied()
                .collect();
            routes.push(Route { node, subnet: LinkId(index), next_hops });
        }
    }
    routes
}

/// The link over which packets from `from` reach `router` on a shortest path (the first such
/// link if several tie), and which end of it `router` is; `None` if `router` is unreachable.
pub(crate) fn arrival_link(spec: &LabSpec, router: NodeId, from: NodeId) -> Option<(LinkId, usize)> {
    let graph = Graph::new(spec);
    let relays = |node: NodeId| node == from || graph.is_router(node);
    let distance = graph.distances(&[from], relays);
    let hops = distance[router.0].filter(|&hops| hops > 0)?;
    let hop = graph.neighbours[router.0].iter().find(|hop| relays(hop.via) && distance[hop.via.0] == Some(hops - 1))?;
    let end = usize::from(spec.links[hop.link.0].ends[0] != router);
    Some((hop.link, end))
}

/// The link graph: for each node, its links in the order they were declared.
struct Graph<'a> {
    spec: &'a LabSpec,
    neighbours: Vec<Vec<NextHop>>,
}

impl<'a> Graph<'a> {
    fn new(spec: &'a LabSpec) -> Self {
        let mut neighbours = vec![Vec::new(); spec.nodes.len()];
        for (index, link) in spec.links.iter().enumerate() {
            let [a, b] = link.ends;
            neighbours[a.0].push(NextHop { link: LinkId(index), via: b });
            neighbours[b.0].push(NextHop { link: LinkId(index), via: a });
        }
        Self { spec, neighbours }
    }

    fn is_router(&self, node: NodeId) -> bool {
        self.spec.nodes[node.0].router
    }

    /// Breadth-first hop counts from `sources`, leaving only nodes for which `relays` holds.
    fn distances(&self, sources: &[NodeId], relays: impl Fn(NodeId) -> bool) -> Vec<Option<usize>> {
        let mut distance = vec![None; self.neighbours.len()];
        let mut queue = VecDeque::new();
        for &source in sources {
            distance[source.0] = Some(0);
            queue.push_back((source, 0));
        }
        while let Some((node, hops)) = queue.pop_front() {
            if !relays(node) {
                continue;
            }
            for hop in &self.neighbours[node.0] {
                if distance[hop.via.0].is_none() {
                    distance[hop.via.0] = Some(hops + 1);
                    queue.push_back((hop.via, hops + 1));
                }
            }
        }
        distance
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// client - r1 - {r2a, r2b} - r3 - dst
    fn diamond() -> (LabSpec, [NodeId; 6]) {
        let mut spec = LabSpec::new();
        let client = spec.node("client");
        let r1 = spec.router("r1");
        let r2a = spec.router("r2a");
        let r2b = spec.router("r2b");
        let r3 = spec.router("r3");
        let dst = spec.node("dst");
        spec.link(client, r1);
        spec.link(r1, r2a);
        spec.link(r1, r2b);
        spec.link(r2a, r3);
        spec.link(r2b, r3);
        spec.link(r3, dst);
        (spec, [client, r1, r2a, r2b, r3, dst])
    }

    fn route(routes: &[Route], node: NodeId, subnet: usize) -> Vec<NextHop> {
        let route = routes.iter().find(|r| r.node == node && r.subnet == LinkId(subnet));
        route.expect("a route").next_hops.clone()
    }

    #[test]
    fn ties_become_multipath_routes() {
        let (spec, [client, r1, r2a, r2b, r3, dst]) = diamond();
        let routes = routes(&spec);
        let hop = |link, via| NextHop { link: LinkId(link), via };
        assert_eq!(route(&routes, r1, 5), [hop(1, r2a), hop(2, r2b)]);
        assert_eq!(route(&routes, r3, 0), [hop(3, r2a), hop(4, r2b)]);
        assert_eq!(route(&routes, client, 5), [hop(0, r1)]);
        assert_eq!(route(&routes, dst, 0), [hop(5, r3)]);
        assert_eq!(route(&routes, r2a, 2), [hop(1, r1)]);
        // Nobody routes to a subnet it is on.
        assert!(routes.iter().all(|r| !spec.links[r.subnet.0].ends.contains(&r.node)));
    }

    #[test]
    fn hosts_do_not_relay() {
        let mut spec = LabSpec::new();
        let a = spec.router("a");
        let host = spec.node("host");
        let b = spec.router("b");
        spec.link(a, host);
        spec.link(host, b);
        assert!(routes(&spec).is_empty());
        assert_eq!(arrival_link(&spec, b, a), None);
    }

    #[test]
    fn arrival_link_is_the_side_facing_the_source() {
        let (spec, [client, r1, r2a, _, r3, _]) = diamond();
        assert_eq!(arrival_link(&spec, r1, client), Some((LinkId(0), 1)));
        assert_eq!(arrival_link(&spec, r2a, client), Some((LinkId(1), 1)));
        assert_eq!(arrival_link(&spec, r3, client), Some((LinkId(3), 1)));
        assert_eq!(arrival_link(&spec, r1, r3), Some((LinkId(1), 0)));
    }
}
