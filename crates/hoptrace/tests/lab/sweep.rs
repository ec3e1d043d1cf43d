//! A forger on the path sweeping the 16-bit field that tells probes apart (every echo sequence number, UDP
//! checksum or port, TCP source port), against a destination that answers nothing: no forged reply is believed,
//! or, where only that field could vouch for one (an 8-byte quote on a ping socket), it is marked unverified.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use netlab::{Family, Sweep};

use super::*;

/// client — r1 (the forger) — r2 — r3 (silent) — dst (drops everything). Each run waits 3 s for every probe (so
/// that sweeps meet probes in flight) while r1 sweeps; any answer from the destination, or from the forger's
/// address, is forged.
#[test]
fn a_forger_sweeping_16_bits_is_never_believed_unmarked() {
    let _machine = shared_machine();
    let silent = RouterOpts { silent: true, ..RouterOpts::default() };
    let (lab, client, routers, dst) = chain(3, |spec, routers, _| spec.router_opts(routers[2], silent));
    let status = lab.command(dst, "iptables").args(["-A", "INPUT", "-j", "DROP"]).status().expect("iptables runs");
    assert!(status.success(), "the destination drops everything");
    let forger = Ipv4Addr::new(198, 19, 254, 1);
    let (IpAddr::V4(target), IpAddr::V4(client_addr)) =
        (lab.addr(dst, Family::V4), lab.hop_addr(client, routers[0], Family::V4))
    else {
        panic!("IPv4 addresses")
    };
    let v4 = |method, unprivileged| Case { method, family: Family::V4, unprivileged };
    let cases: [(Case, &[&str]); 6] = [
        (v4(Method::Icmp, false), &[]),
        (v4(Method::Icmp, true), &[]),
        (v4(Method::UdpParis, false), &[]),
        (v4(Method::Udp, false), &[]),
        (v4(Method::Tcp, false), &[]),
        (v4(Method::Tcp, false), &["--classic"]),
    ];
    let mut failures = Vec::new();
    for (case, extra) in cases {
        let sweep = Sweep { client: client_addr, target, forger, sweeps: 12, duration: Duration::from_secs(5) };
        let sweeping = lab.sweep(routers[0], sweep).expect("the forger starts");
        let mut args = vec!["--events", "-q", "1", "-m", "8", "-w", "3,0,0"];
        args.extend(extra);
        let output = hoptrace(&lab, client, case, IpAddr::V4(target), &args);
        let sent = sweeping.stop().expect("the forger ran");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{case:?} {extra:?}: {}", String::from_utf8_lossy(&output.stderr));
        assert!(sent > 0, "{case:?} {extra:?}: the forger sniffed nothing");
        let events: Vec<serde_json::Value> =
            stdout.lines().map(|line| serde_json::from_str(line).expect("one JSON event a line")).collect();
        let forged = |event: &&serde_json::Value| {
            event["event"] == "reply"
                && [forger.to_string(), target.to_string()].contains(&event["from"].to_string().replace('"', ""))
        };
        let replies: Vec<&serde_json::Value> = events.iter().filter(forged).collect();
        let believed = replies.iter().filter(|event| event["unverified"] != true).count();
        let marked = replies.len() - believed;
        let refused: u64 =
            events.iter().filter(|e| e["event"] == "round_done").map(|e| e["unmatched"].as_u64().unwrap_or(0)).sum();
        eprintln!("{case:?} {extra:?}: {sent} forged replies sent, {refused} refused, {believed} believed, {marked} believed but marked unverified");
        if believed > 0 {
            failures.push(format!("{case:?} {extra:?}: {believed} forged replies believed: {:?}", replies.first()));
        }
        let round = events.iter().find(|event| event["event"] == "round_done").expect("a round");
        if round["outcome"]["kind"] == "reached" {
            failures.push(format!("{case:?} {extra:?}: the silent destination reached: {round}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
