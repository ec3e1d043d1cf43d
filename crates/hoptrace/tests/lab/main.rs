//! End-to-end tests: the real hoptrace binary in a lab of network namespaces, every method × family ×
//! privilege mode. Needs root; fails (never skips) when the lab cannot be built.

mod bulk;
mod bulk_first_hour;
mod bulk_untagged;
mod bulk_way;
mod diamond_miner;
mod dns;
mod ecmp;
mod exporter_slowloris;
mod exposition;
mod failures;
mod first_hour;
mod hostile;
mod interrupt;
mod jc;
mod layout;
mod live;
mod mda_limits;
mod monitor;
mod monitor_detail;
mod monitor_many;
mod monitor_start;
mod monitor_sweep;
mod mpls;
mod mtr;
mod names;
mod nat;
mod operators;
mod package;
mod privileges;
mod report;
mod rtt;
mod sagan;
mod service;
mod support;
mod sweep;
mod tmux;
mod tracepath;
mod warts;
mod wire;
mod zoo_faces;
mod zoo_gateway;
mod zoo_limits;
mod zoo_quotes;
mod zoo_source;

use std::net::IpAddr;

use netlab::{Family, Lab, LabSpec, Link, NodeId, RejectWith, RouterOpts};
use support::*;

/// client — r1 — … — rN — dst, returning the lab, the client, the routers and the destination.
fn chain(routers: usize, tweak: impl FnOnce(&mut LabSpec, &[NodeId], NodeId)) -> (Lab, NodeId, Vec<NodeId>, NodeId) {
    chain_with_links(routers, |_| Link::default(), tweak)
}

/// Like [`chain`], with link n (0: client — r1) as `link(n)` makes it.
fn chain_with_links(
    routers: usize,
    link: impl Fn(usize) -> Link,
    tweak: impl FnOnce(&mut LabSpec, &[NodeId], NodeId),
) -> (Lab, NodeId, Vec<NodeId>, NodeId) {
    let mut spec = LabSpec::new();
    let (client, routers, dst) = spec.chain(routers, link);
    tweak(&mut spec, &routers, dst);
    let lab = Lab::build(&spec).expect("the lab builds (this test needs root)");
    allow_ping_sockets(&lab, client);
    (lab, client, routers, dst)
}

fn router_addrs(lab: &Lab, routers: &[NodeId], client: NodeId, family: Family) -> Vec<Option<IpAddr>> {
    routers.iter().map(|&router| Some(lab.hop_addr(router, client, family))).collect()
}

#[test]
fn six_hop_chain() {
    let _machine = shared_machine();
    let (lab, client, routers, dst) = chain(5, |_, _, _| {});
    for case in all_cases() {
        let target = lab.addr(dst, case.family);
        let hops = hops(&hoptrace(&lab, client, case, target, &["-q", "2"]), case);
        let mut expected = router_addrs(&lab, &routers, client, case.family);
        expected.push(Some(target));
        assert_path(&hops, &expected, case);
    }
}

#[test]
fn two_silent_routers() {
    let _machine = shared_machine();
    let silent = RouterOpts { silent: true, ..RouterOpts::default() };
    let (lab, client, routers, dst) = chain(5, |spec, routers, _| {
        spec.router_opts(routers[1], silent);
        spec.router_opts(routers[3], silent);
    });
    for case in all_cases() {
        let target = lab.addr(dst, case.family);
        let hops = hops(&hoptrace(&lab, client, case, target, &["-q", "1"]), case);
        let mut expected = router_addrs(&lab, &routers, client, case.family);
        expected[1] = None;
        expected[3] = None;
        expected.push(Some(target));
        assert_path(&hops, &expected, case);
    }
}

#[test]
fn destination_that_drops_udp_and_icmp_is_reached_by_tcp_only() {
    let _machine = shared_machine();
    let (lab, client, routers, dst) = chain(3, |spec, _, dst| {
        spec.firewall(dst, &["-A INPUT -p udp -j DROP", "-A INPUT -p icmp --icmp-type echo-request -j DROP"]);
        spec.firewall6(dst, &["-A INPUT -p udp -j DROP", "-A INPUT -p icmpv6 --icmpv6-type echo-request -j DROP"]);
    });
    for case in all_cases() {
        let target = lab.addr(dst, case.family);
        let hops = hops(&hoptrace(&lab, client, case, target, &["-q", "1", "-m", "6", "-w", "0.5"]), case);
        let mut expected = router_addrs(&lab, &routers, client, case.family);
        if case.method == Method::Tcp {
            expected.push(Some(target));
        } else {
            expected.extend([None, None, None]);
        }
        assert_path(&hops, &expected, case);
    }
}

#[test]
fn router_that_rejects_with_host_prohibited() {
    let _machine = shared_machine();
    let reject = RouterOpts { reject: Some(RejectWith::HostProhibited), ..RouterOpts::default() };
    let (lab, client, routers, dst) = chain(4, |spec, routers, _| spec.router_opts(routers[2], reject));
    for case in all_cases() {
        let target = lab.addr(dst, case.family);
        let hops = hops(&hoptrace(&lab, client, case, target, &["-q", "1"]), case);
        let mut expected = router_addrs(&lab, &routers[..3], client, case.family);
        expected.push(expected[2]);
        assert_path(&hops, &expected, case);
        assert!(hops[3].text.ends_with(" !X"), "{case:?}: {}", hops[3].text);
    }
}

#[test]
fn link_with_a_1280_byte_mtu() {
    let _machine = shared_machine();
    // The link from r2 to r3 is narrow.
    let link = |n| {
        if n == 2 {
            Link { mtu: Some(1280), ..Link::default() }
        } else {
            Link::default()
        }
    };
    let (lab, client, routers, dst) = chain_with_links(3, link, |_, _, _| {});
    for case in all_cases() {
        let target = lab.addr(dst, case.family);
        let mut expected = router_addrs(&lab, &routers, client, case.family);
        expected.push(Some(target));
        let path = hops(&hoptrace(&lab, client, case, target, &["-q", "1"]), case);
        assert_path(&path, &expected, case);
        if case.method == Method::Tcp {
            continue; // SYNs carry no payload: they always fit
        }
        if case.method == Method::UdpParis && case.unprivileged {
            // A router quotes at most 576 bytes, and the error queue gives back only the quote: the checksum that
            // tells 1400-byte Paris probes apart cannot be recomputed, so their replies stay (honestly) unmatched.
            continue;
        }
        // TTL 3 passes r2's TTL check and then does not fit: r2 answers Fragmentation Needed / Packet Too Big.
        let path = hops(&hoptrace_len(&lab, client, case, target, &["-q", "1", "-F"], Some(1400)), case);
        assert_path(&path, &[expected[0], expected[1], expected[1]], case);
        assert!(path[2].text.ends_with(" !F-1280"), "{case:?}: {}", path[2].text);
    }
}
