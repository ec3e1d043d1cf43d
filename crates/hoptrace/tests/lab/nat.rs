//! Tracing through a masquerading router (iptables MASQUERADE).
//!
//! Linux's NAT restores the probe it rewrote inside the ICMP errors that come back (addresses, ports and the UDP
//! checksum), so the quotes show nothing and hoptrace, rightly, flags nothing: the `!NAT` mark is for NATs that
//! leave quotes rewritten (tested over the simulated network). Here: the trace through the NAT is right, in every
//! mode, with no false mark.

use netlab::Family;

use crate::support::*;

#[test]
fn a_linux_masquerade_is_traced_through_without_a_false_nat_mark() {
    let _machine = shared_machine();
    let (lab, client, routers, dst) = crate::chain(3, |_, _, _| {});
    let outside = lab.iface(routers[0], routers[1]);
    let status = lab
        .command(routers[0], "iptables")
        .args(["-t", "nat", "-A", "POSTROUTING", "-o", &outside, "-j", "MASQUERADE"])
        .status()
        .expect("iptables runs");
    assert!(status.success());
    let target = lab.addr(dst, Family::V4);
    let mut expected: Vec<_> = routers.iter().map(|&r| Some(lab.hop_addr(r, client, Family::V4))).collect();
    expected.push(Some(target));
    for case in all_cases().into_iter().filter(|case| case.family == Family::V4) {
        let output = hoptrace(&lab, client, case, target, &["-q", "2"]);
        let path = hops(&output, case);
        assert_path(&path, &expected, case);
        assert!(path.iter().all(|hop| !hop.text.contains("!NAT")), "{case:?}: {path:?}");
    }
}
