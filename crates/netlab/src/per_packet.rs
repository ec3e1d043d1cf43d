//! A per-packet load balancer: a router that spreads what it forwards at random over its branches, not by flow.

use crate::cmd::run_in_ns;
use crate::{Family, Lab, NodeId, Result};

/// The routing tables the balancer's marks select, from this number on (one per branch).
const FIRST_TABLE: usize = 100;

impl Lab {
    /// Makes `router` balance per packet what it forwards from `from` (a neighbour): each packet goes to one of
    /// `branches` (neighbours) at random, whatever its flow, IPv4 and IPv6. An nftables rule marks each packet that
    /// comes in from `from` with `numgen random mod N`; per mark, a routing rule picks a table whose default route
    /// leads to one branch. What the router sends itself (its ICMP errors) and what comes back are routed as before.
    pub fn balance_per_packet(&self, router: NodeId, from: NodeId, branches: &[NodeId]) -> Result<()> {
        let ns = self.ns(router);
        let inbound = self.iface(router, from);
        let chain = "{ type filter hook prerouting priority mangle; }".to_owned();
        let mark = format!("iifname {inbound} meta mark set numgen random mod {} offset 1", branches.len());
        for args in [
            vec!["add", "table", "inet", "htlab_per_packet"],
            vec!["add", "chain", "inet", "htlab_per_packet", "pre", &chain],
            vec!["add", "rule", "inet", "htlab_per_packet", "pre", &mark],
        ] {
            run_in_ns(ns, "nft", &args)?;
        }
        for (index, &branch) in branches.iter().enumerate() {
            let (mark, table) = ((index + 1).to_string(), (FIRST_TABLE + index).to_string());
            let dev = self.iface(router, branch);
            for (family, flag) in [(Family::V4, "-4"), (Family::V6, "-6")] {
                let via = self.iface_addr(branch, router, family).to_string();
                let rule = [flag, "rule", "add", "fwmark", &mark, "iif", &inbound, "table", &table];
                run_in_ns(ns, "ip", &rule)?;
                run_in_ns(ns, "ip", &[flag, "route", "add", "default", "via", &via, "dev", &dev, "table", &table])?;
            }
        }
        Ok(())
    }
}
