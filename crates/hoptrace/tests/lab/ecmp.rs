//! Load balancing: Paris probing follows one real path; MDA finds every branch; classic probing mixes them.

use std::collections::BTreeSet;
use std::net::IpAddr;

use netlab::{Family, Lab, LabSpec, NodeId, TwoDiamonds};

use crate::support::*;

/// client — r1 — {r2a, r2b} — r3 — {r4a, r4b, r4c} — r5 — dst: a 2-way then a 3-way ECMP diamond.
struct Diamonds {
    lab: Lab,
    client: NodeId,
    dst: NodeId,
    /// Per TTL, the addresses that may answer there.
    hops: Vec<BTreeSet<IpAddr>>,
}

fn diamonds(family: Family) -> Diamonds {
    let mut spec = LabSpec::new();
    let net = TwoDiamonds::add(&mut spec);
    let lab = Lab::build(&spec).expect("the lab builds (this test needs root)");
    allow_ping_sockets(&lab, net.client);
    let hops = net.hops(&lab, family);
    Diamonds { lab, client: net.client, dst: net.dst, hops }
}

/// Per hop line of traceroute-style output (or MDA's, continuation lines folded in), the addresses shown.
fn responders_per_hop(stdout: &str) -> Vec<BTreeSet<IpAddr>> {
    let mut hops: Vec<BTreeSet<IpAddr>> = Vec::new();
    for line in stdout.lines().skip(1) {
        let addrs: BTreeSet<IpAddr> = line.split_whitespace().filter_map(|word| word.parse().ok()).collect();
        if line.starts_with("    ") {
            if let Some(last) = hops.last_mut() {
                last.extend(addrs);
            }
        } else if !line.contains("probes sent") && line.trim_start().chars().next().is_some_and(|c| c.is_ascii_digit())
        {
            hops.push(addrs);
        }
    }
    hops
}

fn trace(net: &Diamonds, family: Family, args: &[&str]) -> String {
    let target = net.lab.addr(net.dst, family).to_string();
    stdout_of(hoptrace_command(&net.lab, net.client).arg("-n").args(args).arg(&target), "hoptrace")
}

#[test]
fn paris_traces_follow_one_branch_each_and_different_flows_find_different_branches() {
    let _machine = shared_machine();
    let family = Family::V4;
    let net = diamonds(family);
    let mut paths = BTreeSet::new();
    // Raw sockets (root): Paris UDP by default; each run reserves a new source port, so a new flow.
    for run in 0..20 {
        let stdout = trace(&net, family, &["-q", "3"]);
        let hops = responders_per_hop(&stdout);
        assert_eq!(hops.len(), 6, "run {run}:\n{stdout}");
        for (ttl, (seen, possible)) in hops.iter().zip(&net.hops).enumerate() {
            assert_eq!(seen.len(), 1, "run {run}: TTL {} mixes branches:\n{stdout}", ttl + 1);
            assert!(seen.is_subset(possible), "run {run}: TTL {}:\n{stdout}", ttl + 1);
        }
        paths.insert(hops);
    }
    assert!(paths.len() >= 2, "20 flows all took the same path: {paths:?}");
}

#[test]
fn unprivileged_paris_holds_one_branch_too() {
    let _machine = shared_machine();
    let net = diamonds(Family::V4);
    for args in [&["--paris", "--unprivileged", "-q", "4"][..], &["-I", "--unprivileged", "-q", "4"]] {
        let stdout = trace(&net, Family::V4, args);
        let hops = responders_per_hop(&stdout);
        assert_eq!(hops.len(), 6, "{args:?}:\n{stdout}");
        assert!(hops.iter().all(|seen| seen.len() == 1), "{args:?}:\n{stdout}");
    }
}

#[test]
fn classic_probing_mixes_branches() {
    let _machine = shared_machine();
    let net = diamonds(Family::V4);
    let stdout = trace(&net, Family::V4, &["--classic", "-q", "8"]);
    let hops = responders_per_hop(&stdout);
    assert!(hops.iter().any(|seen| seen.len() > 1), "no TTL showed two branches:\n{stdout}");
}

/// Runs an MDA trace until it finds every interface `complete` accepts, at most three times. MDA-95 misses a branch
/// now and then by design (about 3 % per diamond here: six flows all hashed one way, say); every run draws new
/// flows (a new source port), so three misses in a row would mean something is wrong.
fn mda_until_complete(net: &Diamonds, family: Family, args: &[&str], complete: impl Fn(&str) -> bool) -> String {
    let mut last = String::new();
    for _ in 0..3 {
        last = trace(net, family, args);
        if complete(&last) {
            return last;
        }
        eprintln!("{family:?}: MDA missed an interface, trying new flows:\n{last}");
    }
    last
}

#[test]
fn mda_finds_every_branch_within_its_budget() {
    let _machine = shared_machine();
    for family in [Family::V4, Family::V6] {
        let net = diamonds(family);
        let found_all = |stdout: &str| {
            let hops = responders_per_hop(stdout);
            hops.get(1) == Some(&net.hops[1]) && hops.get(3) == Some(&net.hops[3])
        };
        let stdout = mda_until_complete(&net, family, &["--mda"], found_all);
        let hops = responders_per_hop(&stdout);
        assert_eq!(hops.len(), 6, "{family:?}:\n{stdout}");
        // The diamonds' branch routers are one node each: every one of them must be found.
        assert_eq!(hops[1], net.hops[1], "{family:?}:\n{stdout}");
        assert_eq!(hops[3], net.hops[3], "{family:?}:\n{stdout}");
        for (ttl, (seen, possible)) in hops.iter().zip(&net.hops).enumerate() {
            assert!(seen.is_subset(possible), "{family:?} TTL {}:\n{stdout}", ttl + 1);
        }
        if family == Family::V4 {
            // IPv4 routers answer from the inbound interface: the diamonds' far ends show every branch too.
            assert_eq!(hops, net.hops, "{family:?}:\n{stdout}");
        }
        // "N probes sent; MDA-95 budget for the interfaces and links found: B (per hop alone: P)"
        let summary = stdout.lines().last().unwrap_or_default();
        let numbers: Vec<usize> = summary.split(|c: char| !c.is_ascii_digit()).filter_map(|w| w.parse().ok()).collect();
        let [spent, 95, budget, per_hop] = numbers[..] else { panic!("{family:?}: summary {summary:?}") };
        // Exactly the stopping points (a retried lost probe or two aside), never fewer than per hop alone.
        assert!(budget <= spent && spent <= budget + 2, "{family:?}: {summary}");
        assert!(per_hop <= budget, "{family:?}: {summary}");
        eprintln!("{family:?}: {summary}");
    }
}

#[test]
fn mda_json_gives_nodes_and_links_and_dot_draws_the_diamonds() {
    let _machine = shared_machine();
    let net = diamonds(Family::V4);
    let all_nodes = |stdout: &str| net.hops.iter().flatten().all(|addr| stdout.contains(&format!("\"{addr}\"")));
    let stdout = mda_until_complete(&net, Family::V4, &["--mda", "--json"], all_nodes);
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    let nodes: BTreeSet<(u64, IpAddr)> = json["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|node| (node["ttl"].as_u64().unwrap(), node["addr"].as_str().unwrap().parse().unwrap()))
        .collect();
    let expected: BTreeSet<(u64, IpAddr)> =
        net.hops.iter().enumerate().flat_map(|(i, addrs)| addrs.iter().map(move |&a| (i as u64 + 1, a))).collect();
    assert_eq!(nodes, expected);
    let links: Vec<(u64, IpAddr, IpAddr)> = json["links"]
        .as_array()
        .expect("links")
        .iter()
        .map(|link| {
            let addr = |key: &str| link[key].as_str().unwrap().parse().unwrap();
            (link["ttl"].as_u64().unwrap(), addr("from"), addr("to"))
        })
        .collect();
    let per_ttl = |ttl: u64| links.iter().filter(|(t, _, _)| *t == ttl).count();
    // r1 fans out to both branches; each branch keeps its flows through r3 (two links, not four), and r3 answers
    // from the interface each came in on; each r4 reaches r5 on its own link, and each of r5's three interfaces
    // forwards enough flows to the destination for its link to show. From r3's two interfaces to the three r4s:
    // Linux hashes a flow alike at every router and splits the hash range in order (hash-threshold), so the flows
    // of one r2 branch reach only two of the r4s — four links, not six.
    assert_eq!((per_ttl(1), per_ttl(2), per_ttl(4), per_ttl(5)), (2, 2, 3, 3), "{links:?}");
    assert!((4..=6).contains(&per_ttl(3)), "{links:?}");
    let spent = json["probes_sent"].as_u64().expect("probes_sent");
    let budget = json["budget"].as_u64().expect("budget");
    assert!(budget <= spent && spent <= budget + 2, "{spent} probes sent, budget {budget}");
    // A RIPE Atlas traceroute result too: RIPE's parser reads every interface under its hop.
    let sagan = crate::sagan::sagan(&stdout);
    let hops = sagan["hops"].as_array().expect("sagan's hops");
    let read: BTreeSet<(u64, IpAddr)> = (1..)
        .zip(hops)
        .flat_map(|(ttl, hop)| {
            hop.as_array().unwrap().iter().map(move |p| (ttl, p[0].as_str().unwrap().parse().unwrap()))
        })
        .collect();
    assert_eq!(read, expected, "{sagan}");
    let dot = mda_until_complete(&net, Family::V4, &["--mda", "--dot"], all_nodes);
    assert!(dot.starts_with("digraph hoptrace {"), "{dot}");
    for hop in &net.hops {
        for addr in hop {
            assert!(dot.contains(&format!("\"{addr}\" [label=")), "{addr} missing:\n{dot}");
        }
    }
    assert!(dot.matches(" -> ").count() >= 2 + 2 + 3 + 3, "{dot}");
}

#[test]
fn report_follows_each_flow_through_the_diamonds() {
    let _machine = shared_machine();
    let net = diamonds(Family::V4);
    // Twelve flows: the chance that they all hash to one branch of the 2-way diamond is 2 / 2^12.
    let stdout = trace(&net, Family::V4, &["--report", "-c", "24", "--flows", "12", "--interval", "0.02"]);
    let flow_rows: Vec<&str> = stdout.lines().filter(|line| line.contains("   flow ")).collect();
    assert!(!flow_rows.is_empty(), "no per-flow rows:\n{stdout}");
    for row in &flow_rows {
        // `    |   flow N -> ADDRESS  Loss% Snt …`: one address (a flow keeps to one branch), every probe answered.
        let cells: Vec<&str> = row.split_whitespace().collect();
        let addr: IpAddr = cells[4].parse().unwrap_or_else(|_| panic!("one address per flow: {row}\n{stdout}"));
        assert!(net.hops.iter().any(|hop| hop.contains(&addr)), "{row}");
        assert_eq!((cells[5], cells[6]), ("0.0%", "2"), "{row}\n{stdout}");
    }
    // Under the 2-way diamond's branch routers (TTL 2), after its further responder's line (mtr 0.95's layout):
    // a row for each of the twelve flows.
    let at_ttl2 = stdout
        .lines()
        .skip_while(|line| !line.contains("  2.|--"))
        .skip(1)
        .take_while(|line| line.starts_with("    |") || line.starts_with("        "))
        .filter(|line| line.contains("   flow "))
        .count();
    assert_eq!(at_ttl2, 12, "{stdout}");
}

#[test]
fn mda_at_99_percent_finds_every_interface_in_19_of_20_runs() {
    let _machine = shared_machine();
    let net = diamonds(Family::V4);
    let mut complete = 0;
    let mut spent_total = 0;
    for run in 0..20 {
        let stdout = trace(&net, Family::V4, &["--mda", "--confidence", "99"]);
        assert!(stdout.lines().next().is_some_and(|line| line.ends_with("(MDA, 99%)")), "run {run}:\n{stdout}");
        // "N probes sent; MDA-99 budget for the interfaces and links found: B (per hop alone: P)"
        let summary = stdout.lines().last().unwrap_or_default();
        let numbers: Vec<usize> = summary.split(|c: char| !c.is_ascii_digit()).filter_map(|w| w.parse().ok()).collect();
        let [spent, 99, budget, _] = numbers[..] else { panic!("run {run}: summary {summary:?}") };
        assert!(budget <= spent && spent <= budget + 2, "run {run}: {summary}");
        spent_total += spent;
        if responders_per_hop(&stdout) == net.hops {
            complete += 1;
        } else {
            eprintln!("run {run}: an interface missed:\n{stdout}");
        }
    }
    eprintln!("MDA-99: every interface in {complete} of 20 runs, {} probes per run on average", spent_total / 20);
    assert!(complete >= 19, "MDA-99 found every interface in only {complete} of 20 runs");
}
