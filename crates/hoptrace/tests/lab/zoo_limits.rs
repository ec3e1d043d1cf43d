//! The router zoo: every router and the destination keep the kernel's default ICMP limits (1000 errors a second
//! in bursts of 50, and per destination a burst of about 6, then one a second), IPv4 and IPv6, as real Linux
//! routers do. Every face finds every hop and never a wrong one, and takes a limiter's silences for what they are.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::Duration;

use netlab::{Family, LabSpec, RouterOpts};

use crate::bulk::{v4_dst, v6_dst, V4_RANGE, V6_RANGE};
use crate::support::*;
use crate::zoo_faces::*;

#[test]
fn routers_at_the_kernels_icmp_limits_are_found_by_every_face() {
    // Alone: the report's rate-limit rule reads the limiters' pace from the probes' times.
    let _machine = quiet_machine();
    let mut spec = LabSpec::new();
    let (client, routers, dst) = spec.chain(3, |_| netlab::Link::default());
    spec.anyip(dst, IpAddr::V4(V4_RANGE.0), V4_RANGE.1);
    spec.anyip(dst, IpAddr::V6(V6_RANGE.0), V6_RANGE.1);
    for &node in routers.iter().chain([&dst]) {
        spec.router_opts(node, RouterOpts::kernel_limits());
    }
    let lab = netlab::Lab::build(&spec).expect("the lab builds (this test needs root)");
    allow_ping_sockets(&lab, client);
    for family in [Family::V4, Family::V6] {
        let target = lab.addr(dst, family);
        let mut path: Vec<IpAddr> = routers.iter().map(|&r| lab.hop_addr(r, client, family)).collect();
        path.push(target);
        // Plain traces, within the routers' bursts (4 of their 6 errors): every hop, every probe.
        let three: Vec<Vec<IpAddr>> = path.iter().map(|&addr| vec![addr; 3]).collect();
        let stdout = trace(&lab, client, target, &[]);
        let hops: Vec<Vec<IpAddr>> = trace_hops(&stdout).into_iter().map(|(addrs, _)| addrs).collect();
        assert_eq!(hops, three.iter().map(|h| h[..1].to_vec()).collect::<Vec<_>>(), "{family:?}:\n{stdout}");
        let stdout = trace(&lab, client, target, &["-I", "--unprivileged", "-q", "1"]);
        let hops: Vec<Vec<IpAddr>> = trace_hops(&stdout).into_iter().map(|(addrs, _)| addrs).collect();
        assert_eq!(hops, three.iter().map(|h| h[..1].to_vec()).collect::<Vec<_>>(), "{family:?}:\n{stdout}");
        // The report over ICMP: 40 rounds in 2 s; the routers answer some 8 probes each, are labelled rate-limited
        // and show no loss; the destination answers every echo request (the kernel limits no echo reply).
        let (hops, stdout) = report(&lab, client, target, &["-I", "-c", "40", "--interval", "0.05"]);
        let view: Vec<(Vec<IpAddr>, f64, bool)> =
            hops.iter().map(|hop| (hop.responders.clone(), hop.loss, hop.rate_limited)).collect();
        let expected: Vec<(Vec<IpAddr>, f64, bool)> =
            path.iter().enumerate().map(|(n, &addr)| (vec![addr], 0.0, n < routers.len())).collect();
        assert_eq!(view, expected, "{family:?}:\n{stdout}");
        // The report over UDP (the default): the destination limits its port unreachables too, and every hop falls
        // silent in the same rounds, which the destination's silences pace: no loss, every hop rate-limited.
        std::thread::sleep(Duration::from_secs(2));
        let (hops, stdout) = report(&lab, client, target, &["-c", "20", "--interval", "0.05"]);
        let view: Vec<(Vec<IpAddr>, f64, bool)> =
            hops.iter().map(|hop| (hop.responders.clone(), hop.loss, hop.rate_limited)).collect();
        let expected: Vec<(Vec<IpAddr>, f64, bool)> = path.iter().map(|&addr| (vec![addr], 0.0, true)).collect();
        assert_eq!(view, expected, "{family:?}:\n{stdout}");
        // Multipath discovery, paced to the limiters: one interface a hop, each settled.
        std::thread::sleep(Duration::from_secs(2));
        let (hops, stdout) = mda(&lab, client, target, &["--mda-wait", "20"]);
        let expected: Vec<(BTreeSet<IpAddr>, bool)> =
            path.iter().map(|&addr| (BTreeSet::from([addr]), false)).collect();
        assert_eq!(hops, expected, "{family:?}:\n{stdout}");
        // The monitor, two rounds a second (twice what the routers answer): one path, never a change.
        let run = monitor_rounds(&lab, client, target, &[], 10);
        assert!(run.changes.is_empty(), "{family:?}: {}", run.events);
        let ids: BTreeSet<&String> = run.path_ids.iter().flatten().collect();
        assert_eq!(ids.len(), 1, "{family:?}: {}", run.events);
        assert!(run.path_ids.last().is_some_and(Option::is_some), "{family:?}: {}", run.events);
        // Over UDP, whose port unreachables the destination limits too: its rounds stop at its distance, a silence
        // there sends them on past it; still one path, never a change.
        std::thread::sleep(Duration::from_secs(2));
        let run = monitor_rounds(&lab, client, target, &["-U"], 10);
        assert!(run.changes.is_empty(), "{family:?} -U: {}", run.events);
        let ids: BTreeSet<&String> = run.path_ids.iter().flatten().collect();
        assert_eq!(ids.len(), 1, "{family:?} -U: {}", run.events);
        assert!(run.path_ids.last().is_some_and(Option::is_some), "{family:?} -U: {}", run.events);
        // bulk, 8 targets behind the same routers: together they see every hop, and no wrong address anywhere.
        std::thread::sleep(Duration::from_secs(2));
        let targets: Vec<IpAddr> = (1..=8).map(|n| if family == Family::V4 { v4_dst(n) } else { v6_dst(n) }).collect();
        let traces = bulk(&lab, client, &targets, &[]);
        assert_eq!(traces.len(), targets.len(), "{family:?}: {traces:?}");
        let mut seen: Vec<BTreeSet<IpAddr>> = vec![BTreeSet::new(); path.len()];
        for (target, hops) in &traces {
            let mut allowed: Vec<BTreeSet<IpAddr>> = path.iter().map(|&addr| BTreeSet::from([addr])).collect();
            allowed[routers.len()].insert(*target);
            for (ttl, addrs) in hops.iter().enumerate() {
                // The destination may answer first past its distance, when its own TTL's probes went unanswered.
                let allowed = &allowed[ttl.min(routers.len())];
                assert!(addrs.is_subset(allowed), "{family:?}: {target}: {hops:?}");
                seen[ttl.min(routers.len())].extend(addrs);
            }
        }
        // Each router answers a few of the 8 (bulk does not probe again): together, every hop.
        let routers_seen: Vec<BTreeSet<IpAddr>> = path[..routers.len()].iter().map(|&a| BTreeSet::from([a])).collect();
        assert_eq!(seen[..routers.len()], routers_seen, "{family:?}: {traces:?}");
        assert!(!seen[routers.len()].is_empty(), "{family:?}: {traces:?}");
    }
}
