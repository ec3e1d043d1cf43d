//! A forger on the path sweeping the 16-bit field that tells probes apart (every echo sequence number, UDP
//! checksum or port, TCP source port), against a destination that answers nothing: no forged reply is believed,
//! or, where only that field could vouch for one (an 8-byte quote on a ping socket), it is marked unverified.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use netlab::{Family, ShortQuotes, Sweep};

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

/// r2 quotes 8 bytes (RFC 792's minimum): through a ping socket (Paris echo: the checksum is the flow's) or a
/// classic UDP socket's error queue nothing but the echo sequence number or the port then names the probe, and the
/// hop is shown, marked unverified — in text and in the events; raw sockets check the quoted IP ID too, and show it
/// plainly.
#[test]
fn a_hop_that_quotes_8_bytes_is_marked_unverified_where_only_16_bits_vouch() {
    let _machine = shared_machine();
    let silent = RouterOpts { silent: true, ..RouterOpts::default() };
    let (lab, client, routers, dst) = chain(3, |spec, routers, _| spec.router_opts(routers[1], silent));
    let (IpAddr::V4(target), IpAddr::V4(client_addr), IpAddr::V4(r2)) = (
        lab.addr(dst, Family::V4),
        lab.hop_addr(client, routers[0], Family::V4),
        lab.hop_addr(routers[1], client, Family::V4),
    ) else {
        panic!("IPv4 addresses")
    };
    // r2's own errors are dropped on their way out; the short quoter's (from root's socket: the kernel's own ICMP
    // socket has no owner) pass.
    let rule = ["-I", "OUTPUT", "1", "-p", "icmp", "-m", "owner", "--uid-owner", "0", "-j", "ACCEPT"];
    let status = lab.command(routers[1], "iptables").args(rule).status().expect("iptables runs");
    assert!(status.success(), "the short quoter's errors may leave r2");
    let v4 = |method, unprivileged| Case { method, family: Family::V4, unprivileged };
    // (case, whether only 16 bits vouch for r2's answers)
    let cases = [(v4(Method::Icmp, false), false), (v4(Method::Icmp, true), true), (v4(Method::Udp, true), true)];
    for (case, unverified) in cases {
        let quotes = ShortQuotes { client: client_addr, target, from: r2, duration: Duration::from_secs(20) };
        let quoting = lab.quote_8_bytes(routers[1], quotes).expect("the short quoter starts");
        // (A fixed wait: the quoter, a thread, answers later than 3 round trips of the next hop.)
        let output = hoptrace(&lab, client, case, IpAddr::V4(target), &["-q", "2", "-w", "2,0,0"]);
        let events = hoptrace(&lab, client, case, IpAddr::V4(target), &["-q", "2", "-w", "2,0,0", "--events"]);
        let answered = quoting.stop().expect("the short quoter ran");
        assert!(answered >= 4, "{case:?}: {answered} short quotes sent");
        let path = hops(&output, case);
        let mut expected = router_addrs(&lab, &routers, client, Family::V4);
        expected.push(Some(IpAddr::V4(target)));
        assert_path(&path, &expected, case);
        let marked: Vec<bool> = path.iter().map(|hop| hop.text.contains("(unverified)")).collect();
        assert_eq!(marked, [false, unverified, false, false], "{case:?}: {path:#?}");
        let stdout = String::from_utf8_lossy(&events.stdout);
        let replies: Vec<serde_json::Value> = stdout
            .lines()
            .map(|line| serde_json::from_str(line).expect("one JSON event a line"))
            .filter(|event: &serde_json::Value| event["event"] == "reply" && event["ttl"] == 2)
            .collect();
        assert_eq!(replies.len(), 2, "{case:?}: {stdout}");
        for reply in &replies {
            assert_eq!(reply["from"], r2.to_string(), "{case:?}: {reply}");
            assert_eq!(reply["unverified"] == true, unverified, "{case:?}: {reply}");
        }
    }
}
