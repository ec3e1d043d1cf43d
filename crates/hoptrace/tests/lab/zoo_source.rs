//! The router zoo: routers that answer from the interface towards the source (Linux's default,
//! `icmp_errors_use_inbound_ifaddr=0`) where the way back leaves by another link than the probe came in on, and a
//! router that answers from an address on its loopback. Every face shows the address each router answers from,
//! and nothing else.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlab::{Family, Lab, LabSpec, RouterOpts};

use crate::support::*;
use crate::zoo_faces::*;

/// r3's loopback addresses (off every link's subnet).
const LOOPBACK: [IpAddr; 2] =
    [IpAddr::V4(Ipv4Addr::new(198, 19, 250, 3)), IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0xff, 0, 0, 0, 0, 3))];

#[test]
fn routers_answering_from_the_way_back_or_their_loopback_are_found_by_every_face() {
    let _machine = shared_machine();
    // client — r1 =A/B= r2 — r3 — dst: probes cross r1 — r2 over link A, r2's way back to the client is link B.
    let mut spec = LabSpec::new();
    let client = spec.node("client");
    let [r1, r2, r3] = ["r1", "r2", "r3"].map(|name| spec.router(name));
    let dst = spec.node("dst");
    let up = spec.link(client, r1);
    let a = spec.link(r1, r2);
    let b = spec.link(r1, r2);
    let r2_r3 = spec.link(r2, r3);
    let r3_dst = spec.link(r3, dst);
    let from_route_back = RouterOpts { errors_from_route_back: true, ..RouterOpts::default() };
    for router in [r1, r2, r3] {
        spec.router_opts(router, from_route_back);
    }
    let lab = Lab::build(&spec).expect("the lab builds (this test needs root)");
    allow_ping_sockets(&lab, client);
    // Deleted and added again: `replace` would leave the other legs of an IPv6 multipath route.
    let route = |node, args: Vec<String>| {
        let mut command = lab.command(node, "ip");
        stdout_of(command.args(["route", "del", &args[0]]), "ip route del");
        let mut command = lab.command(node, "ip");
        stdout_of(command.args(["route", "add"]).args(args), "ip route add");
    };
    for family in [Family::V4, Family::V6] {
        let net = |link| {
            let [addr, _] = lab.link_addrs(link, family);
            let len = if family == Family::V4 { 24 } else { 64 };
            format!("{}/{len}", subnet_of(addr, len))
        };
        let [_, a_r2] = lab.link_addrs(a, family);
        let [b_r1, _] = lab.link_addrs(b, family);
        for far in [r2_r3, r3_dst] {
            route(r1, vec![net(far), "via".into(), a_r2.to_string()]);
        }
        route(r2, vec![net(up), "via".into(), b_r1.to_string()]);
    }
    for addr in LOOPBACK {
        lab.answer_from_loopback(r3, addr).expect("r3 answers from its loopback");
    }
    for (family, loopback) in [(Family::V4, LOOPBACK[0]), (Family::V6, LOOPBACK[1])] {
        let target = lab.addr(dst, family);
        // IPv4 answers from the link back to the client (B); IPv6, on this kernel, from the link the probe came in
        // on (A) even though its way back is B.
        let r2_answers = if family == Family::V4 { lab.link_addrs(b, family)[1] } else { lab.link_addrs(a, family)[1] };
        let path = [lab.iface_addr(r1, client, family), r2_answers, loopback, target];
        let one_each: Vec<Vec<IpAddr>> = path.iter().map(|&addr| vec![addr]).collect();
        for method in METHODS {
            for privilege in PRIVILEGES {
                let args = [method, privilege, &["-q", "1"]].concat();
                let stdout = trace(&lab, client, target, &args);
                let hops: Vec<Vec<IpAddr>> = trace_hops(&stdout).into_iter().map(|(addrs, _)| addrs).collect();
                assert_eq!(hops, one_each, "{family:?} {args:?}:\n{stdout}");
            }
        }
        let (hops, stdout) = report(&lab, client, target, &["-c", "10", "--interval", "0.05"]);
        let view: Vec<(Vec<IpAddr>, f64)> = hops.iter().map(|h| (h.responders.clone(), h.loss)).collect();
        let expected: Vec<(Vec<IpAddr>, f64)> = path.iter().map(|&addr| (vec![addr], 0.0)).collect();
        assert_eq!(view, expected, "{family:?}:\n{stdout}");
        let sets: Vec<BTreeSet<IpAddr>> = path.iter().map(|&addr| BTreeSet::from([addr])).collect();
        let (hops, stdout) = mda(&lab, client, target, &[]);
        let expected: Vec<(BTreeSet<IpAddr>, bool)> = sets.iter().map(|set| (set.clone(), false)).collect();
        assert_eq!(hops, expected, "{family:?}:\n{stdout}");
        let run = monitor_rounds(&lab, client, target, &[], 6);
        assert!(run.changes.is_empty(), "{family:?}: {}", run.events);
        let ids = run.path_ids[3..].to_vec();
        assert_eq!(ids, vec![Some(path_id(&path)); ids.len()], "{family:?}: {}", run.events);
        assert_eq!(bulk(&lab, client, &[target], &[]), [(target, sets)], "{family:?}");
    }
}

/// The network address of `addr`'s /`len`.
fn subnet_of(addr: IpAddr, len: u32) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => IpAddr::V4((u32::from(v4) & (u32::MAX << (32 - len))).into()),
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & (u128::MAX << (128 - len))).into()),
    }
}
