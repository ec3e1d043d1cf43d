//! The router zoo: a gateway that fails over mid-run (a new Ethernet address, as VRRP or a replaced router gives,
//! announced by a gratuitous ARP and an unsolicited neighbour advertisement). `bulk`, which hands its probes to the
//! gateway's Ethernet address, follows the neighbour table and says so: at most the first second's probes are lost.

use std::io::{BufRead, BufReader, Write};
use std::net::IpAddr;
use std::time::Duration;

use netlab::{Family, LabSpec};

use super::bulk::{parse_csv, spawn_bulk, summary, v4_dst, v6_dst, V4_RANGE, V6_RANGE};
use super::support::*;

/// The Ethernet address the gateway takes over.
const NEW_MAC: &str = "02:00:5e:00:01:2a";

#[test]
fn bulk_follows_a_gateway_that_fails_over_mid_run() {
    let _machine = shared_machine();
    let mut spec = LabSpec::new();
    let (client, routers, dst) = spec.chain(1, |_| netlab::Link::default());
    spec.anyip(dst, IpAddr::V4(V4_RANGE.0), V4_RANGE.1);
    spec.anyip(dst, IpAddr::V6(V6_RANGE.0), V6_RANGE.1);
    let lab = netlab::Lab::build(&spec).expect("the lab builds (this test needs root)");
    let r1 = routers[0];
    let (iface, r1_iface) = (lab.iface(client, r1), lab.iface(r1, client));
    let run = |node, program: &str, args: &[&str]| {
        let status = lab.command(node, program).args(args).status().unwrap();
        assert!(status.success(), "{program} {args:?}");
    };
    // A real neighbour entry, not the lab's permanent one; the gateway announces a new address when it takes one.
    for family in [Family::V4, Family::V6] {
        let gateway = lab.iface_addr(r1, client, family).to_string();
        run(client, "ip", &["neigh", "del", &gateway, "dev", &iface]);
    }
    run(r1, "sysctl", &["-q", "-w", &format!("net.ipv4.conf.{r1_iface}.arp_notify=1")]);
    run(r1, "sysctl", &["-q", "-w", &format!("net.ipv6.conf.{r1_iface}.ndisc_notify=1")]);
    // 4 s at 2,000 probes a second, to the destinations (one past them: their own answers).
    let rate = 2000;
    let mut input = String::new();
    for n in 0..4 * rate / 2 {
        for (dst, protocol) in [(v4_dst(n), "icmp"), (v6_dst(n), "icmp6")] {
            input += &format!("{dst},{},33434,8,{protocol}\n", 24000 + n % 64);
        }
    }
    let mut child = spawn_bulk(&lab, client, &["-r", &rate.to_string(), "-W", "0.5", "--max-per-destination", "0"]);
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    // stderr read as it comes: the gateway changes once both families' probes leave at the link layer.
    let (lines, said) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line.clone());
            all += &(line + "\n");
        }
        all
    });
    let mut injected = 0;
    while injected < 2 {
        let line = said.recv_timeout(Duration::from_secs(5)).expect("both families' probes leave by the gateway");
        injected += usize::from(line.contains(" probes leave by "));
    }
    std::thread::sleep(Duration::from_millis(300));
    run(r1, "ip", &["link", "set", "dev", &r1_iface, "address", NEW_MAC]);
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    let stderr = reader.join().unwrap();
    assert!(output.status.success(), "{stderr}");
    let [sent, refused, _, _, _, matched, _, _] = summary(&stderr);
    assert_eq!((sent, refused), (u64::from(4 * rate), 0), "{stderr}");
    assert_eq!(parse_csv(&String::from_utf8_lossy(&output.stdout)).len() as u64, matched);
    eprintln!("{} of {sent} probes lost", sent - matched);
    assert!(sent - matched <= u64::from(rate), "{} probes lost, more than a second's:\n{stderr}", sent - matched);
    for (name, family) in [("IPv4", Family::V4), ("IPv6", Family::V6)] {
        let gateway = lab.iface_addr(r1, client, family);
        let said = format!("hoptrace bulk: the way out changed: {name} probes leave by {iface} for the gateway {gateway} at {NEW_MAC}\n");
        assert!(stderr.contains(&said), "no `{said}` in:\n{stderr}");
    }
}
