//! A chain of three routers: reachability and the address each hop answers from.

use hoptrace_netlab::{Family, LabSpec};

use crate::support::{build, run, text};

#[test]
fn three_router_chain() {
    let mut spec = LabSpec::new();
    let client = spec.node("client");
    let routers = [spec.router("r1"), spec.router("r2"), spec.router("r3")];
    let dst = spec.node("dst");
    spec.link(client, routers[0]);
    spec.link(routers[0], routers[1]);
    spec.link(routers[1], routers[2]);
    spec.link(routers[2], dst);
    let lab = build(&spec);

    let expected_hops = [
        (Family::V4, ["198.18.0.2", "198.18.1.2", "198.18.2.2"], "Time to live exceeded"),
        (Family::V6, ["2001:db8::2", "2001:db8:0:1::2", "2001:db8:0:2::2"], "Time exceeded: Hop limit"),
    ];
    for (family, hops, message) in expected_hops {
        let target = lab.addr(dst, family).to_string();
        for (index, (&router, hop)) in routers.iter().zip(hops).enumerate() {
            assert_eq!(lab.hop_addr(router, client, family).to_string(), hop);
            let ttl = (index + 1).to_string();
            let output = run(&lab, client, "ping", &["-c1", "-W2", "-t", &ttl, &target]);
            let line = format!("From {hop} icmp_seq=1 {message}");
            assert!(text(&output).contains(&line), "expected {line:?} in:\n{}", text(&output));
        }
        let output = run(&lab, client, "ping", &["-c1", "-W2", "-t", "4", &target]);
        assert!(output.status.success(), "{}", text(&output));
    }
}
