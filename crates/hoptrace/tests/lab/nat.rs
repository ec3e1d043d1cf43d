//! Tracing through a masquerading router (iptables MASQUERADE).
//!
//! Linux's NAT follows RFC 5508: it restores the probe it rewrote inside the ICMP errors that come back (addresses,
//! ports and the UDP checksum), so those quotes show nothing and hoptrace, rightly, flags nothing. Many NATs do not
//! translate the quoted packet back; the lab makes one by passing the ICMP errors for the NAT's outside address on
//! to the client statelessly (an nftables rule ahead of connection tracking), so that they keep the NAT's address
//! and checksum in their quote. Such a NAT is flagged `!NAT` from the first hop past it.

use std::io::Write;
use std::net::IpAddr;
use std::process::Stdio;

use netlab::{Family, Lab, NodeId};

use crate::support::*;

/// Masquerades what `nat` forwards towards `outside` (iptables or ip6tables, as `family` says).
fn masquerade(lab: &Lab, nat: NodeId, outside: NodeId, family: Family) {
    let program = if family == Family::V4 { "iptables" } else { "ip6tables" };
    let status = lab
        .command(nat, program)
        .args(["-t", "nat", "-A", "POSTROUTING", "-o", &lab.iface(nat, outside), "-j", "MASQUERADE"])
        .status()
        .expect("iptables runs");
    assert!(status.success(), "{program} MASQUERADE failed");
}

/// Makes `nat` hand the ICMP errors sent to its address towards `outside` on to `client` untranslated.
fn leave_quotes_rewritten(lab: &Lab, nat: NodeId, outside: NodeId, client: NodeId, family: Family) {
    let public = lab.iface_addr(nat, outside, family);
    let inside = lab.addr(client, family);
    let rule = match family {
        Family::V4 => format!(
            "ip daddr {public} icmp type {{ destination-unreachable, time-exceeded }} notrack ip daddr set {inside}"
        ),
        Family::V6 => format!(
            "ip6 daddr {public} icmpv6 type {{ destination-unreachable, packet-too-big, time-exceeded }} notrack \
             ip6 daddr set {inside}"
        ),
    };
    let ruleset = format!(
        "table inet quotes {{\n chain prerouting {{\n  type filter hook prerouting priority raw; policy accept;\n  {rule}\n }}\n}}\n"
    );
    let mut nft = lab.command(nat, "nft").args(["-f", "-"]).stdin(Stdio::piped()).spawn().expect("nft runs");
    nft.stdin.take().expect("stdin").write_all(ruleset.as_bytes()).expect("ruleset written");
    assert!(nft.wait().expect("nft ends").success(), "nft refused {ruleset}");
}

/// The routers' addresses as the client sees them, then `target`.
fn expected_path(lab: &Lab, client: NodeId, routers: &[NodeId], target: IpAddr, family: Family) -> Vec<Option<IpAddr>> {
    let mut expected: Vec<_> = routers.iter().map(|&r| Some(lab.hop_addr(r, client, family))).collect();
    expected.push(Some(target));
    expected
}

/// A chain of three routers, the first masquerading (IPv4 and IPv6), and with `rewritten_quotes` leaving the
/// quotes of the errors that come back as the routers past it wrote them.
fn nat_chain(rewritten_quotes: bool) -> (Lab, NodeId, Vec<NodeId>, NodeId) {
    let (lab, client, routers, dst) = crate::chain(3, |_, _, _| {});
    for family in [Family::V4, Family::V6] {
        masquerade(&lab, routers[0], routers[1], family);
        if rewritten_quotes {
            leave_quotes_rewritten(&lab, routers[0], routers[1], client, family);
        }
    }
    (lab, client, routers, dst)
}

#[test]
fn a_linux_masquerade_is_traced_through_without_a_false_nat_mark() {
    let _machine = shared_machine();
    let (lab, client, routers, dst) = nat_chain(false);
    for case in all_cases() {
        let target = lab.addr(dst, case.family);
        let output = hoptrace(&lab, client, case, target, &["-q", "2"]);
        let path = hops(&output, case);
        assert_path(&path, &expected_path(&lab, client, &routers, target, case.family), case);
        assert!(path.iter().all(|hop| !hop.text.contains("!NAT")), "{case:?}: {path:?}");
    }
}

#[test]
fn a_masquerade_that_leaves_quotes_rewritten_is_flagged_from_the_hop_past_it() {
    let _machine = shared_machine();
    let (lab, client, routers, dst) = nat_chain(true);
    for case in all_cases() {
        let target = lab.addr(dst, case.family);
        let mut expected = expected_path(&lab, client, &routers, target, case.family);
        let path = hops(&hoptrace(&lab, client, case, target, &["-q", "2"]), case);
        let marked: Vec<u8> = path.iter().filter(|hop| hop.text.contains("!NAT")).map(|hop| hop.ttl).collect();
        if !case.unprivileged {
            // Raw sockets see the quotes: the NAT's address and checksum in them, the IP ID still ours.
            assert_path(&path, &expected, case);
            assert_eq!(marked, [2], "{case:?}: {path:?}");
            continue;
        }
        // The error queue returns no quoted source address: nothing to flag. The errors still reach UDP sockets
        // (bound to the wildcard address) and ping sockets (found by identifier); a connecting TCP socket is bound
        // to its source address, so the kernel finds no socket for errors quoting the NAT's: those hops stay
        // silent.
        if case.method == Method::Tcp {
            expected[1] = None;
            expected[2] = None;
        }
        assert_path(&path, &expected, case);
        assert!(marked.is_empty(), "{case:?}: {path:?}");
    }
}

#[test]
fn json_flags_every_reply_that_quotes_the_rewritten_probe() {
    let _machine = shared_machine();
    let (lab, client, _, dst) = nat_chain(true);
    let target = lab.addr(dst, Family::V4).to_string();
    let json = stdout_of(hoptrace_command(&lab, client).args(["-n", "-q", "2", "--json", &target]), "hoptrace --json");
    let trace: serde_json::Value = serde_json::from_str(&json).expect("hoptrace --json prints JSON");
    let flagged: Vec<Vec<bool>> = trace["result"]
        .as_array()
        .expect("a result array")
        .iter()
        .map(|hop| {
            let replies = hop["result"].as_array().expect("replies");
            replies.iter().map(|reply| reply["hoptrace"]["nat"].as_bool().unwrap_or(false)).collect()
        })
        .collect();
    // Past the NAT every reply quotes the rewritten probe, the destination's Port Unreachable included.
    assert_eq!(flagged, [[false, false], [true, true], [true, true], [true, true]], "{json}");
}
