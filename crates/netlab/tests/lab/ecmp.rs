//! Equal-cost paths become multipath routes, hashed on ports.

use hoptrace_netlab::{Family, LabSpec};

use crate::support::{build, run, text};

#[test]
fn diamond_gets_a_multipath_route() {
    let mut spec = LabSpec::new();
    let client = spec.node("client");
    let r1 = spec.router("r1");
    let r2a = spec.router("r2a");
    let r2b = spec.router("r2b");
    let r3 = spec.router("r3");
    let dst = spec.node("dst");
    spec.link(client, r1);
    spec.link(r1, r2a);
    spec.link(r1, r2b);
    spec.link(r2a, r3);
    spec.link(r2b, r3);
    let last = spec.link(r3, dst);
    let lab = build(&spec);

    for family in [Family::V4, Family::V6] {
        let [_, dst_addr] = lab.link_addrs(last, family);
        let net = match family {
            Family::V4 => "198.18.5.0/24",
            Family::V6 => "2001:db8:0:5::/64",
        };
        let flag = if family == Family::V4 { "-4" } else { "-6" };
        let routes = text(&run(&lab, r1, "ip", &[flag, "route", "show", net]));
        for branch in [r2a, r2b] {
            let via = lab.iface_addr(branch, r1, family);
            let hop = format!("nexthop via {via} dev {} weight 1", lab.iface(r1, branch));
            assert!(routes.contains(&hop), "expected {hop:?} in:\n{routes}");
        }
        let output = run(&lab, client, "ping", &["-c1", "-W2", &dst_addr.to_string()]);
        assert!(output.status.success(), "{}", text(&output));
    }
    let policy = text(&run(&lab, r1, "sysctl", &["-n", "net.ipv4.fib_multipath_hash_policy"]));
    assert_eq!(policy.trim(), "1");
}
