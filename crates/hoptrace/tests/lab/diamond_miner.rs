//! Iris's planner over `hoptrace bulk`: diamond-miner's probes in, its results table and link queries out, with a
//! real ClickHouse engine in process (chdb). The Python side is `diamond_miner_rounds.py`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv6Addr};

use netlab::{Family, NodeId};

use crate::bulk::{bulk_lab, BulkLab};
use crate::sagan::python;
use crate::support::*;

/// The IPv4 form of an address diamond-miner writes as IPv6.
fn unmapped(text: &str) -> IpAddr {
    let addr: Ipv6Addr = text.parse().unwrap_or_else(|_| panic!("an address: {text}"));
    addr.to_ipv4_mapped().map_or(IpAddr::V6(addr), IpAddr::V4)
}

/// Per TTL (1..=4), the links (near, far) the lab can show: a router answers from the interface the probe came in
/// on, so each (previous, router, next) chain makes one link.
fn possible_links(net: &BulkLab, client: NodeId) -> BTreeMap<usize, BTreeSet<(IpAddr, IpAddr)>> {
    let lab = &net.lab;
    let linked = |a: NodeId, b: NodeId| net.links.contains(&(a, b)) || net.links.contains(&(b, a));
    let mut links = BTreeMap::new();
    for ttl in 1..net.levels.len() {
        let before: Vec<NodeId> = if ttl == 1 { vec![client] } else { net.levels[ttl - 2].clone() };
        let set: &mut BTreeSet<(IpAddr, IpAddr)> = links.entry(ttl).or_default();
        for &near in &net.levels[ttl - 1] {
            for &previous in before.iter().filter(|&&p| linked(near, p)) {
                for &far in net.levels[ttl].iter().filter(|&&f| linked(near, f)) {
                    set.insert((lab.iface_addr(near, previous, Family::V4), lab.iface_addr(far, near, Family::V4)));
                }
            }
        }
    }
    links
}

#[test]
fn diamond_miner_rounds_find_every_link_of_the_diamonds() {
    let _machine = shared_machine();
    let net = bulk_lab();
    let script = workspace_root().join("crates/hoptrace/tests/lab/diamond_miner_rounds.py");
    let output = std::process::Command::new(python())
        .arg(&script)
        .args(["198.19.224.0/21", "1", "7", "6", "--"])
        .args(["ip", "netns", "exec", net.lab.ns(net.client), env!("CARGO_BIN_EXE_hoptrace"), "bulk"])
        .args(["-r", "10000", "-W", "1"])
        .output()
        .expect("python runs the diamond-miner rounds");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let rounds: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON document");
    let possible = possible_links(&net, net.client);
    let mut previous = BTreeSet::new();
    for (index, round) in rounds.as_array().expect("rounds").iter().enumerate() {
        let (probes, rows) = (round["probes"].as_u64().unwrap(), round["rows"].as_u64().unwrap());
        // Every probe is answerable here (TTLs 1 to 7, the destinations at 6): 99 % answered and matched.
        assert!(
            probes > 0 && rows * 100 >= probes * 99,
            "round {}: {rows} rows for {probes} probes\n{stderr}",
            index + 1
        );
        let links: BTreeSet<(IpAddr, IpAddr)> = round["links"]
            .as_array()
            .unwrap()
            .iter()
            .map(|link| (unmapped(link[0].as_str().unwrap()), unmapped(link[1].as_str().unwrap())))
            .collect();
        let all_possible: BTreeSet<_> = possible.values().flatten().copied().collect();
        assert!(
            links.is_subset(&all_possible),
            "round {}: links the lab cannot have: {:?}",
            index + 1,
            links.difference(&all_possible)
        );
        for (ttl, expected) in &possible {
            let found: BTreeSet<_> = links.intersection(expected).copied().collect();
            if *ttl == 3 {
                // From r3's two interfaces to the three r4s, hashing alike at every router lets each branch's
                // flows reach two of the three: four links at least, every r4 among them.
                let fars: BTreeSet<IpAddr> = found.iter().map(|link| link.1).collect();
                assert!(found.len() >= 4 && fars.len() == 3, "round {}: TTL 3 links {found:?}", index + 1);
            } else {
                assert_eq!(&found, expected, "round {}: TTL {ttl} links", index + 1);
            }
        }
        let nodes: BTreeSet<IpAddr> = round["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|node| node["reply_src_addr"].as_str().map(unmapped))
            .collect();
        for hop in &possible {
            for (near, far) in hop.1 {
                assert!(
                    nodes.contains(near) && nodes.contains(far),
                    "round {}: GetNodes misses {near} or {far}",
                    index + 1
                );
            }
        }
        assert!(links.is_superset(&previous), "round {} lost links of the round before", index + 1);
        previous = links;
    }
    eprintln!("{stderr}");
}
