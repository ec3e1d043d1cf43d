//! Hostile and heavy conditions: bursts of replies larger than a receive buffer, floods of unrelated ICMP errors.

use std::time::{Duration, Instant};

use std::net::IpAddr;

use netlab::{Family, Flood, Forgery, Link, RouterOpts};

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

/// A report with 250 and 2,000 ICMP errors a second at the client, none of them answering a probe (half quote
/// the target with other ports, half another destination): the sockets are read between rounds and the kernel
/// filters what cannot be ours, so a lossless path shows no loss, in time.
#[test]
fn a_report_under_a_flood_of_unrelated_icmp_errors_shows_no_loss() {
    let _machine = shared_machine();
    let (lab, client, routers, dst) = chain(3, |_, _, _| {});
    for family in [Family::V4, Family::V6] {
        for rate in [250, 2000] {
            let target = lab.addr(dst, family);
            let to = lab.hop_addr(client, routers[0], family);
            let flood = Flood { to, quoted_dst: target, rate, duration: Duration::from_secs(3) };
            let flooding = lab.flood(routers[0], flood).expect("the flood starts");
            std::thread::sleep(Duration::from_millis(300));
            let started = Instant::now();
            let args = ["-n", "--report", "--json", "-c", "8", "--interval", "0.3", &target.to_string()];
            let stdout = stdout_of(hoptrace_command(&lab, client).args(args), "hoptrace --report");
            let took = started.elapsed();
            let sent = flooding.join().expect("the flood runs");
            let json: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
            let loss: Vec<(u64, f64)> = json["report"]["hubs"]
                .as_array()
                .expect("hubs")
                .iter()
                .map(|hub| (hub["count"].as_u64().unwrap(), hub["Loss%"].as_f64().unwrap()))
                .collect();
            eprintln!("{family:?} at {rate}/s ({sent} errors sent): {loss:?} in {took:?}");
            assert_eq!(loss, [(1, 0.0), (2, 0.0), (3, 0.0), (4, 0.0)], "{family:?} at {rate}/s");
            assert!(sent >= u64::from(rate) * 2, "{family:?}: only {sent} errors sent at {rate}/s");
            // Eight rounds 0.3 s apart on a fast path: about 2.1 s, not rounds waiting out lost replies.
            assert!(took < Duration::from_secs(5), "{family:?} at {rate}/s: the report took {took:?}");
        }
    }
}

/// A forger on the path (in r1) sniffs the first 8 probes of a report's first round and, once that round is over,
/// sends every 40 ms replies to the 20 probes it predicts after each by the old, guessable rules (copies of the
/// sniffed probes with their numbers moved on): Time Exceeded from an address off the path, and the destination's
/// own answers with its address forged. In every method, raw and unprivileged, the later rounds on the same sockets
/// show no forged address, and every round reaches the destination at its true hop.
#[test]
fn replies_forged_from_predicted_probes_are_never_believed() {
    let _machine = shared_machine();
    // client — r1 (the forger) — r2 ~20 ms~ r3 (silent) — r4 (silent) — dst: each round lasts long enough to
    // meet several of the forger's sprays.
    let silent = RouterOpts { silent: true, ..RouterOpts::default() };
    let link = |n| Link { delay: (n == 2).then_some(Duration::from_millis(20)), ..Link::default() };
    let (lab, client, routers, dst) = crate::chain_with_links(4, link, |spec, routers, _| {
        spec.router_opts(routers[2], silent);
        spec.router_opts(routers[3], silent);
    });
    let forger = std::net::Ipv4Addr::new(198, 19, 254, 1);
    let (IpAddr::V4(target), IpAddr::V4(client_addr)) =
        (lab.addr(dst, Family::V4), lab.hop_addr(client, routers[0], Family::V4))
    else {
        panic!("IPv4 addresses")
    };
    let mut refused = 0;
    for case in all_cases().into_iter().filter(|case| case.family == Family::V4) {
        let forgery = Forgery {
            client: client_addr,
            target,
            forger,
            sniff: 8,
            spread: 20,
            hold: Duration::from_millis(600),
            every: Duration::from_millis(40),
            duration: Duration::from_secs(30),
        };
        let forging = lab.forge(routers[0], forgery).expect("the forger starts");
        let output = hoptrace(&lab, client, case, IpAddr::V4(target), &["--events", "-c", "3", "--interval", "1"]);
        let forged = forging.stop().expect("the forger ran");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{case:?}: {}", String::from_utf8_lossy(&output.stderr));
        assert!(forged > 0, "{case:?}: the forger sniffed nothing");
        let events: Vec<serde_json::Value> =
            stdout.lines().map(|line| serde_json::from_str(line).expect("one JSON event a line")).collect();
        for event in &events {
            assert_ne!(event["from"], forger.to_string(), "{case:?}: a forged reply was believed: {event}");
        }
        // A forged destination answer believed at a lower TTL would end a round there.
        let rounds: Vec<&serde_json::Value> = events.iter().filter(|event| event["event"] == "round_done").collect();
        assert_eq!(rounds.len(), 3, "{case:?}");
        for round in &rounds {
            assert_eq!(round["outcome"], serde_json::json!({"kind": "reached", "ttl": 5}), "{case:?}: {round}");
            refused += round["unmatched"].as_u64().unwrap_or(0);
        }
        eprintln!("{case:?}: {forged} forged replies sent");
    }
    // The forgeries did reach hoptrace (raw sockets see them all), and were refused.
    eprintln!("{refused} forged replies refused");
    assert!(refused > 50, "only {refused} forged replies refused");
}
