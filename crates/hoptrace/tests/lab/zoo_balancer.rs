//! The router zoo: a per-packet load balancer (r1 spreads packets at random over r2a and r2b, whatever their flow).
//! MDA probes the same flow again where several interfaces answer and says the balancing is per packet; every face
//! shows only the interfaces that are there.

use std::collections::BTreeSet;
use std::net::IpAddr;

use netlab::{Family, Lab, LabSpec, NodeId};
use serde_json::Value as Json;

use super::bulk::{run_with_input, V4_RANGE};
use super::support::*;
use super::zoo_faces::{monitor_rounds, shown};

/// client — r1 (per packet) — {r2a, r2b} — r3 — dst. Returns the lab, the client, the destination, and per family
/// and TTL the addresses that may answer there (r3 answers from the interface a packet came in on: two).
fn balancer() -> (Lab, NodeId, NodeId, [Vec<BTreeSet<IpAddr>>; 2]) {
    let mut spec = LabSpec::new();
    let client = spec.node("client");
    let r1 = spec.router("r1");
    let r2 = [spec.router("r2a"), spec.router("r2b")];
    let r3 = spec.router("r3");
    let dst = spec.node("dst");
    spec.link(client, r1);
    for branch in r2 {
        spec.link(r1, branch);
        spec.link(branch, r3);
    }
    spec.link(r3, dst);
    spec.anyip(dst, IpAddr::V4(V4_RANGE.0), V4_RANGE.1);
    let lab = Lab::build(&spec).expect("the lab builds (this test needs root)");
    lab.balance_per_packet(r1, client, &r2).expect("the balancer's rules");
    let hops = [Family::V4, Family::V6].map(|family| {
        let addrs = |node: NodeId, peers: &[NodeId]| peers.iter().map(|&p| lab.iface_addr(node, p, family)).collect();
        vec![
            addrs(r1, &[client]),
            r2.iter().map(|&branch| lab.iface_addr(branch, r1, family)).collect(),
            addrs(r3, &r2),
            addrs(dst, &[r3]),
        ]
    });
    (lab, client, dst, hops)
}

/// Every hop shows only addresses that may answer there, and at least one.
fn assert_within(found: &[BTreeSet<IpAddr>], expected: &[BTreeSet<IpAddr>], what: &str, stdout: &str) {
    assert_eq!(found.len(), expected.len(), "{what}:\n{stdout}");
    for (hop, (found, expected)) in found.iter().zip(expected).enumerate() {
        assert!(!found.is_empty() && found.is_subset(expected), "{what}, TTL {}:\n{stdout}", hop + 1);
    }
}

#[test]
fn mda_says_a_balancer_is_per_packet_and_every_face_shows_only_what_is_there() {
    let _machine = shared_machine();
    let (lab, client, dst, hops) = balancer();
    for (family, expected) in [Family::V4, Family::V6].into_iter().zip(&hops) {
        let target = lab.addr(dst, family).to_string();
        let run = |args: &[&str]| stdout_of(hoptrace_command(&lab, client).arg("-n").args(args).arg(&target), "run");
        // MDA: every interface, and the split hops said per packet (both are: r3's interface is the branch's
        // too), each but for 1 in 2^repeats (1/128 at 99 %, 1/32 at 95 %): at least one of them, never another.
        let stdout = run(&["--mda", "--confidence", "99"]);
        eprintln!("{family:?}:\n{stdout}");
        assert_eq!(shown(&stdout), *expected, "{family:?}:\n{stdout}");
        let told: Vec<&str> = stdout.lines().filter(|line| line.contains("per-packet load balancing")).collect();
        assert!(matches!(told.len(), 1 | 2), "{family:?}:\n{stdout}");
        let json: Json = serde_json::from_str(&run(&["--mda", "--json"])).expect("one JSON document");
        let told = json["per_packet"].as_array().expect("per_packet");
        let ttls: Vec<u64> = told.iter().filter_map(|hop| hop["ttl"].as_u64()).collect();
        assert!(!ttls.is_empty() && ttls.iter().all(|ttl| [2, 3].contains(ttl)), "{family:?}: {told:?}");
        // A plain trace and the report show the responders as they came: several a hop, none wrong.
        let stdout = run(&["-q", "6"]);
        assert_within(&shown(&stdout), expected, &format!("{family:?} trace"), &stdout);
        let stdout = run(&["--report", "--json", "-c", "10", "--interval", "0.05"]);
        let json: Json = serde_json::from_str(&stdout).expect("one JSON document");
        let hubs = json["report"]["hubs"].as_array().expect("hubs");
        assert_eq!(hubs.len(), expected.len(), "{family:?}: {stdout}");
        for (hub, expected) in hubs.iter().zip(expected) {
            let host: IpAddr = hub["host"].as_str().and_then(|h| h.parse().ok()).expect("an address");
            assert!(expected.contains(&host) && hub["Loss%"].as_f64() == Some(0.0), "{family:?}: {hub}");
        }
    }
    // bulk --targets, with and without MDA: only real interfaces per TTL.
    let expected = &hops[0];
    let targets: String = (1..=8).map(|n| format!("{}\n", super::bulk::v4_dst(n))).collect();
    let mut command = hoptrace_command(&lab, client);
    command.args(["bulk", "--targets", "-", "--text", "-r", "2000", "-W", "0.5"]);
    let output = run_with_input(command, &targets);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let traces: Vec<&str> = stdout.split("traceroute to ").skip(1).collect();
    assert_eq!(traces.len(), 8, "{stdout}");
    for trace in traces {
        let found = shown(&format!("traceroute to {trace}"));
        assert_within(&found[..3], &expected[..3], "bulk", trace);
    }
    let mut command = hoptrace_command(&lab, client);
    command.args(["bulk", "--targets", "-", "--mda", "--text", "-r", "2000", "-W", "0.5"]);
    let output = run_with_input(command, &targets);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let traces: Vec<&str> = stdout.split("traceroute to ").skip(1).collect();
    assert_eq!(traces.len(), 8, "{stdout}");
    for trace in traces {
        let found = shown(&format!("traceroute to {trace}"));
        // The destination's own address differs per target: the routers only.
        assert_within(&found[..3], &expected[..3], "bulk --mda", trace);
    }
}

#[test]
fn the_monitor_keeps_one_path_behind_a_per_packet_balancer() {
    let _machine = shared_machine();
    let (lab, client, dst, _) = balancer();
    let run = monitor_rounds(&lab, client, lab.addr(dst, Family::V4), &["-q", "3", "-w", "1"], 10);
    let ids: BTreeSet<&str> = run.path_ids.iter().flatten().map(String::as_str).collect();
    eprintln!("monitor: {} rounds, path ids {ids:?}", run.path_ids.len());
    assert!(run.changes.is_empty() && ids.len() == 1, "{}", run.events);
}
