//! Options whose effect is on the wire — `--fwmark`, `-l`/`--flowlabel`, `--sport` — checked where the probes
//! leave: two nftables counters in the client's output hook, one for every probe to the destination and one for
//! those that carry the mark, label or port, must agree.

use std::net::IpAddr;

use netlab::{Family, Lab, NodeId};

use crate::support::*;

/// The client's probes to `target` of `case`'s protocol (TCP: the SYNs, not the resets that close them), as an
/// nftables match.
fn probes_match(case: Case, target: IpAddr) -> String {
    let ip = if target.is_ipv6() { "ip6" } else { "ip" };
    let protocol = match (case.method, target.is_ipv6()) {
        (Method::Udp | Method::UdpParis, _) => "meta l4proto udp",
        (Method::Icmp, false) => "meta l4proto icmp",
        (Method::Icmp, true) => "meta l4proto ipv6-icmp",
        (Method::Tcp, _) => "tcp flags & (syn | ack) == syn",
    };
    format!("{ip} daddr {target} {protocol}")
}

fn nft(lab: &Lab, client: NodeId, command: &str) -> String {
    stdout_of(lab.command(client, "nft").arg(command), &format!("nft {command}"))
}

/// Traces `target` as `case` with `args` and counts, where packets leave the client, the probes and those of them
/// that also match `carrying` (an nftables match). Returns (probes, probes carrying it).
fn probes_carrying(lab: &Lab, client: NodeId, case: Case, target: IpAddr, args: &[&str], carrying: &str) -> (u64, u64) {
    let probes = probes_match(case, target);
    nft(lab, client, "add table inet wire");
    nft(lab, client, "add chain inet wire out { type filter hook output priority 0; }");
    nft(lab, client, &format!("add rule inet wire out {probes} counter"));
    nft(lab, client, &format!("add rule inet wire out {probes} {carrying} counter"));
    let output = hoptrace(lab, client, case, target, args);
    let listing = nft(lab, client, "list chain inet wire out");
    nft(lab, client, "delete table inet wire");
    assert!(output.status.success(), "{case:?} {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    let counts: Vec<u64> = listing
        .split("counter packets ")
        .skip(1)
        .map(|rest| rest.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap())
        .collect();
    assert_eq!(counts.len(), 2, "{listing}");
    (counts[0], counts[1])
}

/// Every probe of every `case` carries what `args` set, as `carrying` matches it; and without `args`, none does.
fn assert_on_the_wire(cases: &[Case], args: &[&str], carrying: impl Fn(Case) -> String) {
    let _machine = shared_machine();
    let (lab, client, _routers, dst) = crate::chain(2, |_, _, _| {});
    for &case in cases {
        let target = lab.addr(dst, case.family);
        let mut with = vec!["-q", "1"];
        with.extend_from_slice(args);
        let (probes, carrying_it) = probes_carrying(&lab, client, case, target, &with, &carrying(case));
        assert!(probes >= 3, "{case:?} {args:?}: {probes} probes counted");
        assert_eq!(carrying_it, probes, "{case:?} {args:?}: {carrying_it} of {probes} probes carry it");
        let (probes, carrying_it) = probes_carrying(&lab, client, case, target, &["-q", "1"], &carrying(case));
        assert!(probes >= 3 && carrying_it == 0, "{case:?} without {args:?}: {carrying_it} of {probes} carry it");
    }
}

#[test]
fn fwmark_marks_every_probe() {
    let (privileged, unprivileged): (Vec<Case>, Vec<Case>) =
        all_cases().into_iter().partition(|case| !case.unprivileged);
    assert_on_the_wire(&privileged, &["--fwmark", "0x2a"], |_| "meta mark 0x2a".to_owned());
    // SO_MARK needs CAP_NET_ADMIN: an ordinary user is told so.
    let (lab, client, _routers, dst) = crate::chain(1, |_, _, _| {});
    for case in unprivileged {
        let output = hoptrace(&lab, client, case, lab.addr(dst, case.family), &["--fwmark", "1"]);
        assert_eq!(output.status.code(), Some(1), "{case:?}");
        assert_eq!(
            String::from_utf8_lossy(&output.stderr),
            "hoptrace: setting the firewall mark (--fwmark needs CAP_NET_ADMIN): Operation not permitted (os error 1)\n",
            "{case:?}"
        );
    }
}

#[test]
fn flowlabel_labels_every_ipv6_probe() {
    // Ping sockets (unprivileged ICMP) take no flow label from the destination address.
    let cases: Vec<Case> = all_cases()
        .into_iter()
        .filter(|case| case.family == Family::V6 && !(case.method == Method::Icmp && case.unprivileged))
        .collect();
    assert_on_the_wire(&cases, &["-l", "0x12345"], |_| "ip6 flowlabel 0x12345".to_owned());
    // Without raw sockets, ICMP probes cannot carry one: the user is told so.
    let (lab, client, _routers, dst) = crate::chain(1, |_, _, _| {});
    let case = Case { method: Method::Icmp, family: Family::V6, unprivileged: true };
    let output = hoptrace(&lab, client, case, lab.addr(dst, Family::V6), &["-l", "1"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "hoptrace: -l (flow label) on ICMP probes needs raw sockets (root or CAP_NET_RAW): ping sockets send none\n"
    );
}

#[test]
fn sport_sets_the_source_port_of_every_udp_and_tcp_probe() {
    let cases: Vec<Case> = all_cases().into_iter().filter(|case| case.method != Method::Icmp).collect();
    assert_on_the_wire(&cases, &["--sport", "40000"], |case| match case.method {
        // Classic TCP moves the source port with every probe: from --sport on.
        Method::Tcp if case.unprivileged => "tcp sport 40000-40063".to_owned(),
        Method::Tcp => "tcp sport 40000".to_owned(),
        _ => "udp sport 40000".to_owned(),
    });
}

#[test]
fn dont_route_reaches_only_the_attached_network() {
    let _machine = shared_machine();
    let (lab, client, routers, dst) = crate::chain(2, |_, _, _| {});
    for case in all_cases() {
        // The first router is on the client's link: reached in one hop, bypassing the routing table.
        let neighbour = lab.hop_addr(routers[0], client, case.family);
        let lines = hops(&hoptrace(&lab, client, case, neighbour, &["-r", "-q", "1"]), case);
        assert_eq!(lines.len(), 1, "{case:?}: {lines:?}");
        assert_eq!(lines[0].addrs, [neighbour], "{case:?}");
        // The destination is two routers away, not on an attached network: refused, as traceroute refuses it.
        // (Linux ignores SO_DONTROUTE for IPv6: there both trace on through the routers.)
        let target = lab.addr(dst, case.family);
        let output = hoptrace(&lab, client, case, target, &["-r", "-q", "1"]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if case.family == Family::V4 {
            assert_eq!(output.status.code(), Some(1), "{case:?}: {stderr}");
            assert_eq!(stderr, format!("hoptrace: {target}: Network is unreachable\n"), "{case:?}");
        } else {
            assert_eq!(hops(&output, case).len(), 3, "{case:?}: {stderr}");
        }
    }
    let theirs = lab.command(client, "traceroute").args(["-n", "-r", &lab.addr(dst, Family::V4).to_string()]).output();
    let theirs = theirs.expect("traceroute runs");
    assert_eq!(theirs.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&theirs.stderr).ends_with("connect: Network is unreachable\n"));
}
