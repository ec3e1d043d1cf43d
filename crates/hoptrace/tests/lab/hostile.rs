//! Hostile and heavy conditions: bursts of replies larger than a receive buffer, floods of unrelated ICMP errors.

use netlab::Family;

use super::*;

/// `-N 1000 -q 10 -m 255` over 36 hops: every probe of the first wave is sent at once, and the replies (about 360
/// from the routers, the destination's besides) outnumber what a default receive buffer holds (about 270). Read
/// while sending, with buffers sized to what is in flight, every hop answers and the destination is at hop 36.
#[test]
fn a_burst_larger_than_a_receive_buffer_loses_no_hop() {
    let _machine = shared_machine();
    let (lab, client, routers, dst) = chain(35, |_, _, _| {});
    let cases = [
        Case { method: Method::Udp, family: Family::V4, unprivileged: false },
        Case { method: Method::Icmp, family: Family::V4, unprivileged: false },
        Case { method: Method::UdpParis, family: Family::V6, unprivileged: false },
        Case { method: Method::Udp, family: Family::V4, unprivileged: true },
    ];
    for case in cases {
        let target = lab.addr(dst, case.family);
        let output = hoptrace(&lab, client, case, target, &["-N", "1000", "-q", "10", "-m", "255", "-w", "2"]);
        let path = hops(&output, case);
        let mut expected = router_addrs(&lab, &routers, client, case.family);
        expected.push(Some(target));
        assert_path(&path, &expected, case);
        for hop in &path {
            assert!(!hop.text.contains('*'), "{case:?}: a probe lost at hop {}: {}", hop.ttl, hop.text);
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("dropped"), "{case:?}: {stderr}");
    }
}
