//! The router zoo: a silent router right behind a rate-limited one, and a destination that limits its own answers
//! (Linux's default: a burst of 6, then one error a second). The silent hop stays silent in every face (never an
//! address borrowed from a neighbour), rate limiting is not called loss, MDA does not spend `--mda-wait` on the
//! silent hop, and the monitor's path does not change.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use netlab::{Family, Lab, Link, NodeId, RouterOpts};
use serde_json::Value as Json;

use super::bulk::{run_with_input, v4_dst, V4_RANGE};
use super::support::*;
use super::zoo_faces::{monitor_rounds, shown};

/// client — r1 — r2 (limited) — r3 (silent) — r4 — dst (limited). Returns the lab, the client, the destination,
/// and per family and TTL the address that answers there (`None`: r3).
fn silent_behind_limiter() -> (Lab, NodeId, NodeId, [Vec<Option<IpAddr>>; 2]) {
    let limited = RouterOpts { icmp_ratelimit_ms: Some(1000), ..RouterOpts::default() };
    let (lab, client, routers, dst) = crate::chain_with_links(
        4,
        |_| Link::default(),
        |spec, routers, dst| {
            spec.router_opts(routers[1], limited);
            spec.router_opts(routers[2], RouterOpts { silent: true, ..RouterOpts::default() });
            spec.router_opts(dst, limited);
            spec.anyip(dst, IpAddr::V4(V4_RANGE.0), V4_RANGE.1);
        },
    );
    let hops = [Family::V4, Family::V6].map(|family| {
        let mut hops: Vec<Option<IpAddr>> = routers.iter().map(|&r| Some(lab.hop_addr(r, client, family))).collect();
        hops[2] = None;
        hops.push(Some(lab.addr(dst, family)));
        hops
    });
    (lab, client, dst, hops)
}

/// Each hop shows its own address or none (a limited hop may miss a round), the silent one none.
fn assert_hops(found: &[BTreeSet<IpAddr>], expected: &[Option<IpAddr>], what: &str, stdout: &str) {
    assert_eq!(found.len(), expected.len(), "{what}:\n{stdout}");
    for (ttl, (found, expected)) in found.iter().zip(expected).enumerate() {
        let allowed: BTreeSet<IpAddr> = expected.iter().copied().collect();
        assert!(found.is_subset(&allowed), "{what}, TTL {}:\n{stdout}", ttl + 1);
    }
}

#[test]
fn a_silent_router_behind_a_limiter_stays_silent_and_limiting_is_not_loss() {
    let _machine = quiet_machine();
    let (lab, client, dst, hops) = silent_behind_limiter();
    // Every limiter's bucket full again (6 tokens, one a second).
    let rest = || std::thread::sleep(Duration::from_secs(7));
    for (family, expected) in [Family::V4, Family::V6].into_iter().zip(&hops) {
        let target = lab.addr(dst, family).to_string();
        let run = |args: &[&str]| stdout_of(hoptrace_command(&lab, client).arg("-n").args(args).arg(&target), "run");
        // A plain trace: every answering hop, the silent one `* * *`.
        let stdout = run(&["-q", "1"]);
        let found = shown(&stdout);
        assert_hops(&found, expected, &format!("{family:?} trace"), &stdout);
        assert!(found.iter().zip(expected).all(|(f, e)| f.len() == usize::from(e.is_some())), "{family:?}:\n{stdout}");
        // MDA at 99 % (8 flows a hop: r2 and the destination are paced past their burst of 6): every hop, and the
        // silent one costs its probes once, not --mda-wait.
        rest();
        let started = Instant::now();
        let stdout = run(&["--mda", "--confidence", "99", "--mda-wait", "60"]);
        let took = started.elapsed();
        eprintln!("{family:?} MDA in {took:?}:\n{stdout}");
        let found = shown(&stdout);
        assert_hops(&found, expected, &format!("{family:?} MDA"), &stdout);
        assert!(found.iter().zip(expected).all(|(f, e)| f.len() == usize::from(e.is_some())), "{family:?}:\n{stdout}");
        assert!(took < Duration::from_secs(30), "{family:?}: MDA took {took:?}:\n{stdout}");
        // The report: the limited hops are labelled and show no loss; the silent hop is all loss, and no address.
        rest();
        let stdout = run(&["--report", "--json", "-c", "30", "--interval", "0.05"]);
        let json: Json = serde_json::from_str(&stdout).expect("one JSON document");
        let hubs = json["report"]["hubs"].as_array().expect("hubs");
        let view: Vec<(String, f64, bool)> = hubs
            .iter()
            .map(|hub| {
                let limited = hub["hoptrace"]["rate_limited"].as_bool().unwrap_or(false);
                (hub["host"].as_str().unwrap_or_default().to_owned(), hub["Loss%"].as_f64().unwrap_or(-1.0), limited)
            })
            .collect();
        eprintln!("{family:?} report: {view:?}");
        assert_eq!(view.len(), 5, "{family:?}: {stdout}");
        for (ttl, ((host, loss, limited), expected)) in view.iter().zip(expected).enumerate() {
            match expected {
                None => assert_eq!((host.as_str(), *loss), ("???", 100.0), "{family:?} TTL {}: {view:?}", ttl + 1),
                Some(addr) => {
                    assert_eq!(host, &addr.to_string(), "{family:?} TTL {}: {view:?}", ttl + 1);
                    assert!(*loss == 0.0 || *limited, "{family:?} TTL {}: loss: {view:?}", ttl + 1);
                    assert!(!*limited || *loss == 0.0, "{family:?} TTL {}: {view:?}", ttl + 1);
                }
            }
        }
        assert!(view[4].2 && view[4].1 == 0.0, "{family:?}: the destination: {view:?}");
    }
    // bulk --targets: the silent hop never answers, the others only with their own address.
    rest();
    let expected = &hops[0];
    let targets: String = (1..=4).map(|n| format!("{}\n", v4_dst(n))).collect();
    let mut command = hoptrace_command(&lab, client);
    command.args(["bulk", "--targets", "-", "--text", "-r", "200", "-W", "0.5"]);
    let output = run_with_input(command, &targets);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let traces: Vec<&str> = stdout.split("traceroute to ").skip(1).collect();
    assert_eq!(traces.len(), 4, "{stdout}");
    for trace in traces {
        let found = shown(&format!("traceroute to {trace}"));
        assert!(found.len() >= 4, "bulk:\n{trace}");
        assert_hops(&found[..4], &expected[..4], "bulk", trace);
        assert!(found[2].is_empty(), "bulk: the silent hop:\n{trace}");
    }
    // monitor: rounds at the limiters' pace, and not one path change.
    let run = monitor_rounds(&lab, client, lab.addr(dst, Family::V4), &["-q", "3", "-w", "1"], 10);
    assert!(run.changes.is_empty(), "{:?}", run.changes);
    // One path identity, once established, round after round.
    let ids: BTreeSet<&str> = run.path_ids.iter().flatten().map(String::as_str).collect();
    eprintln!("monitor: {} rounds, path ids {ids:?}", run.path_ids.len());
    assert_eq!(ids.len(), 1, "{}", run.events);
}
