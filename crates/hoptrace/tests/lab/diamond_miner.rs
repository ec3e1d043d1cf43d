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
pub fn possible_links(net: &BulkLab, client: NodeId) -> BTreeMap<usize, BTreeSet<(IpAddr, IpAddr)>> {
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

#[test]
fn targets_with_mda_find_every_branch_of_the_diamonds() {
    let _machine = shared_machine();
    let net = bulk_lab();
    let targets: Vec<IpAddr> = (0..20).map(|n| crate::bulk::v4_dst(n * 7)).collect();
    let input: String = targets.iter().map(|t| format!("{t}\n")).collect();
    let mut command = hoptrace_command(&net.lab, net.client);
    command.args(["bulk", "--targets", "-", "--mda", "-r", "20000", "-W", "0.2", "-m", "8"]);
    let output = crate::bulk::run_with_input(command, &input);
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{stderr}");
    let possible = possible_links(&net, net.client);
    let all_links: BTreeSet<(IpAddr, IpAddr)> = possible.values().flatten().copied().collect();
    // The branch routers' interfaces: TTL 2 (two) and TTL 4 (three).
    let branches: BTreeSet<(u64, IpAddr)> = [(2, 1), (4, 3)]
        .into_iter()
        .flat_map(|(ttl, level)| net.levels[level].iter().map(move |&r| (ttl, r)))
        .map(|(ttl, router)| (ttl, net.lab.iface_addr(router, net.levels[ttl as usize - 2][0], Family::V4)))
        .collect();
    let (mut complete, mut seen) = (0, BTreeSet::new());
    let graphs: Vec<serde_json::Value> = stdout.lines().map(|line| serde_json::from_str(line).expect("JSON")).collect();
    assert_eq!(graphs.len(), targets.len(), "{stderr}");
    for (graph, target) in graphs.iter().zip(&targets) {
        let nodes: BTreeSet<(u64, IpAddr)> = graph["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|node| (node["ttl"].as_u64().unwrap(), node["addr"].as_str().unwrap().parse().unwrap()))
            .collect();
        let links: BTreeSet<(IpAddr, IpAddr)> = graph["links"]
            .as_array()
            .expect("links")
            .iter()
            .map(|link| {
                (link["from"].as_str().unwrap().parse().unwrap(), link["to"].as_str().unwrap().parse().unwrap())
            })
            .filter(|(_, to): &(IpAddr, IpAddr)| to != target)
            .collect();
        assert!(links.is_subset(&all_links), "{target}: links the lab cannot have: {:?}", links.difference(&all_links));
        assert!(nodes.iter().any(|(_, addr)| addr == target), "{target}: the destination is missing: {graph}");
        let found: BTreeSet<_> = nodes.intersection(&branches).copied().collect();
        complete += usize::from(found == branches);
        seen.extend(found);
    }
    // MDA-95 misses a branch now and then by design (about 3 % per diamond here).
    assert_eq!(seen, branches, "{stdout}");
    assert!(complete >= 16, "{complete} of 20 targets found every branch\n{stdout}");
    eprintln!("{complete} of 20 complete; {stderr}");
}
