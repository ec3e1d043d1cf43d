//! How `hoptrace bulk`'s probes leave: handed to the client's interface for its gateway at the link layer, as
//! caracal's, once the kernel's neighbour table has the gateway's Ethernet address (routed until then); with
//! `--routed`, routed one by one. Both ways find the same hops; only routed probes meet the client's firewall.

use std::collections::BTreeMap;
use std::net::IpAddr;

use netlab::Family;

use super::bulk::{bulk_lab, parse_csv, run_with_input, summary, v4_dst, v6_dst, V4_RANGE, V6_RANGE};
use super::support::*;

#[test]
fn probes_leave_for_the_gateway_at_the_link_layer_and_find_what_routed_probes_find() {
    let _machine = shared_machine();
    let net = bulk_lab();
    let (lab, client, r1) = (&net.lab, net.client, net.levels[0][0]);
    let iface = lab.iface(client, r1);
    let link = lab.command(r1, "ip").args(["-o", "link", "show", "dev", &lab.iface(r1, client)]).output().unwrap();
    let link = String::from_utf8_lossy(&link.stdout);
    let mac = link.split_whitespace().skip_while(|word| *word != "link/ether").nth(1).expect("r1's MAC").to_owned();
    // The lab's neighbour entries are permanent: forget the gateway's, so that the first probes must resolve it.
    for family in [Family::V4, Family::V6] {
        let gateway = lab.iface_addr(r1, client, family).to_string();
        let status = lab.command(client, "ip").args(["neigh", "del", &gateway, "dev", &iface]).status().unwrap();
        assert!(status.success(), "ip neigh del {gateway}");
    }
    let mut lines = Vec::new();
    for n in 0..300 {
        let protocol = if n % 2 == 0 { ["icmp", "icmp6"] } else { ["udp", "udp"] };
        for (dst, protocol) in [v4_dst(n), v6_dst(n)].into_iter().zip(protocol) {
            lines.push(format!("{dst},{},33434,{},{protocol}", 24000 + n % 64, 1 + n % 6));
        }
    }
    let input = lines.join("\n") + "\n";
    // The reply source of every probe, and the run's stderr.
    // With `pass`, every probe must be sent and matched; without, every one refused.
    let run = |extra: &[&str], pass: bool| -> (BTreeMap<(IpAddr, u16, u8), IpAddr>, String) {
        let mut command = hoptrace_command(lab, client);
        command.args(["bulk", "-r", "2000", "-W", "0.5", "--max-per-destination", "0"]).args(extra);
        let output = run_with_input(command, &input);
        let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert!(output.status.success(), "{stderr}");
        let [sent, refused, _, _, _, matched, _, _] = summary(&stderr);
        let all = lines.len() as u64;
        let expected = if pass { (all, 0, all) } else { (0, all, 0) };
        assert_eq!((sent, refused, matched), expected, "{stderr}");
        let rows = parse_csv(&stdout);
        let hops = rows.iter().map(|r| ((r.probe_dst_addr, r.probe_src_port, r.probe_ttl), r.reply_src_addr)).collect();
        (hops, stderr.into_owned())
    };
    let (injected, stderr) = run(&[], true);
    for (name, family) in [("IPv4", Family::V4), ("IPv6", Family::V6)] {
        let gateway = lab.iface_addr(r1, client, family);
        let said = format!("hoptrace bulk: {name} probes leave by {iface} for the gateway {gateway} at {mac}\n");
        assert!(stderr.contains(&said), "no `{said}` in:\n{stderr}");
    }
    let (routed, stderr) = run(&["--routed"], true);
    assert!(!stderr.contains("leave by"), "{stderr}");
    assert_eq!(injected.len(), lines.len());
    assert_eq!(injected, routed);
    // A firewall that drops the probes on their way out stops routed probes only: injected ones pass no OUTPUT rule.
    for (iptables, range) in [("iptables", IpAddr::V4(V4_RANGE.0)), ("ip6tables", IpAddr::V6(V6_RANGE.0))] {
        let prefix = format!("{range}/{}", if range.is_ipv4() { V4_RANGE.1 } else { V6_RANGE.1 });
        let status =
            lab.command(client, iptables).args(["-A", "OUTPUT", "-d", &prefix, "-j", "DROP"]).status().unwrap();
        assert!(status.success(), "{iptables}");
    }
    let (injected, stderr) = run(&[], true);
    assert_eq!(injected, routed, "{stderr}");
    run(&["--routed"], false);
}
