//! MPLS labels from ICMP extensions (RFC 4884/4950), `-e`: the lab's label-switching routers live inside a TUN
//! link (the kernel forwards no MPLS and adds no extensions) and answer with their label. Raw sockets read the
//! extensions from the ICMP error; ordinary sockets from the error queue, which says where they start
//! (`IP_RECVERR_RFC4884`).

use netlab::{Family, Link};

use crate::support::*;

/// A chain client — r1 — [two label-switching routers] — r2 — destination.
fn lab_with_a_tunnel() -> (netlab::Lab, netlab::NodeId, Vec<netlab::NodeId>, netlab::NodeId) {
    let link = |n| Link { mpls_routers: if n == 1 { 2 } else { 0 }, ..Link::default() };
    crate::chain_with_links(2, link, |_, _, _| {})
}

#[test]
fn label_switching_routers_show_their_labels() {
    let _machine = shared_machine();
    let (lab, client, routers, dst) = lab_with_a_tunnel();
    for case in all_cases() {
        let target = lab.addr(dst, case.family);
        let lsrs = lab.mpls_router_addrs(routers[0], routers[1], case.family);
        let expected = [
            Some(lab.hop_addr(routers[0], client, case.family)),
            Some(lsrs[0]),
            Some(lsrs[1]),
            Some(lab.hop_addr(routers[1], client, case.family)),
            Some(target),
        ];
        let path = hops(&hoptrace(&lab, client, case, target, &["-e", "-q", "2"]), case);
        assert_path(&path, &expected, case);
        let labels: Vec<bool> = path.iter().map(|hop| hop.text.contains("<MPLS:")).collect();
        assert_eq!(labels, [false, true, true, false, false], "{case:?}: {path:?}");
        assert!(path[1].text.contains("<MPLS:L=24000,E=0,S=1,T=1>"), "{case:?}: {}", path[1].text);
        assert!(path[2].text.contains("<MPLS:L=24001,E=0,S=1,T=1>"), "{case:?}: {}", path[2].text);
    }
}

#[test]
fn json_carries_the_labels_as_ripe_icmpext() {
    let _machine = shared_machine();
    let (lab, client, _, dst) = lab_with_a_tunnel();
    for family in [Family::V4, Family::V6] {
        let target = lab.addr(dst, family).to_string();
        let json = stdout_of(hoptrace_command(&lab, client).args(["-n", "-q", "1", "--json", &target]), "--json");
        let trace: serde_json::Value = serde_json::from_str(&json).expect("hoptrace --json prints JSON");
        let labels: Vec<Option<u64>> = (0..5)
            .map(|hop| trace["result"][hop]["result"][0]["icmpext"]["obj"][0]["mpls"][0]["label"].as_u64())
            .collect();
        assert_eq!(labels, [None, Some(24000), Some(24001), None, None], "{json}");
    }
}
