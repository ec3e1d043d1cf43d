//! A link with a small MTU: routers answer over-sized packets with the link's MTU.

use std::time::Duration;

use hoptrace_netlab::{Family, LabSpec, Link};

use crate::support::{build, run, text};

#[test]
fn small_mtu_link_sends_frag_needed_and_packet_too_big() {
    let mut spec = LabSpec::new();
    let client = spec.node("client");
    let r1 = spec.router("r1");
    let r2 = spec.router("r2");
    let dst = spec.node("dst");
    spec.link(client, r1);
    spec.link_with(r1, r2, Link { mtu: Some(1280), ..Link::default() });
    let slow_and_narrow = Link { mtu: Some(1300), delay: Some(Duration::from_millis(1)), ..Link::default() };
    spec.link_with(r2, dst, slow_and_narrow);
    let lab = build(&spec);

    let expected = [(Family::V4, "Frag needed and DF set (mtu = 1280)"), (Family::V6, "Packet too big: mtu=1280")];
    for (family, message) in expected {
        let target = lab.addr(dst, family).to_string();
        let output = run(&lab, client, "ping", &["-c1", "-W2", "-M", "do", "-s", "1400", &target]);
        let hop = lab.hop_addr(r1, client, family);
        let line = format!("From {hop} icmp_seq=1 {message}");
        assert!(text(&output).contains(&line), "expected {line:?} in:\n{}", text(&output));
        let output = run(&lab, client, "ping", &["-c1", "-W2", "-M", "do", "-s", "1200", &target]);
        assert!(output.status.success(), "{}", text(&output));
    }
    // The TUN ends of the delayed link have the MTU too.
    for (node, peer) in [(r2, dst), (dst, r2)] {
        let output = run(&lab, node, "ip", &["link", "show", "dev", &lab.iface(node, peer)]);
        assert!(text(&output).contains("mtu 1300"), "{}", text(&output));
    }
}
