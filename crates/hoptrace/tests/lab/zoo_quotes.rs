//! The router zoo: routers that quote only the IP header and 8 bytes of what they answer (RFC 792's minimum) —
//! every ICMPv4 error crossing the client's link is cut so — and IPv6 routers, which quote up to 1280 bytes (the
//! kernel's own limit), answering probes longer than that. Every face finds every hop and no wrong one.

use std::collections::BTreeSet;
use std::net::IpAddr;

use netlab::{Family, Link};

use crate::support::*;
use crate::zoo_faces::*;

#[test]
fn routers_that_quote_8_bytes_are_found_by_every_face() {
    let _machine = shared_machine();
    let link = |n| Link { short_quotes: n == 0, ..Link::default() };
    let (lab, client, routers, dst) = crate::chain_with_links(3, link, |_, _, _| {});
    let target = lab.addr(dst, Family::V4);
    let mut path: Vec<IpAddr> = routers.iter().map(|&r| lab.hop_addr(r, client, Family::V4)).collect();
    path.push(target);
    let one_each: Vec<Vec<IpAddr>> = path.iter().map(|&addr| vec![addr]).collect();
    let sets: Vec<BTreeSet<IpAddr>> = path.iter().map(|&addr| BTreeSet::from([addr])).collect();
    // A plain trace: every method, raw and ordinary sockets.
    for method in METHODS {
        for privilege in PRIVILEGES {
            if method == ["-U"] && privilege == ["--unprivileged"] {
                // Its probes share one socket and port, told apart by their UDP checksum, which the error queue does
                // not give back (only what the quote holds past the UDP header: nothing here). No hop is made up
                // and the user is told why once, with what would work.
                let args = [method, privilege, &["-q", "1", "-w", "0.5", "-m", "5"]].concat();
                let output = trace_output(&lab, client, target, &args);
                let (stdout, stderr) =
                    (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
                let routers: Vec<Vec<IpAddr>> = trace_hops(&stdout).into_iter().map(|(addrs, _)| addrs).collect();
                assert!(routers.len() == 5 && routers.iter().all(Vec::is_empty), "{args:?}:\n{stdout}");
                let said: Vec<&str> = stderr.lines().filter(|line| line.contains("Paris UDP")).collect();
                assert_eq!(said.len(), 1, "{args:?}:\n{stderr}");
                assert!(said[0].contains("--raw, -I or classic UDP"), "{stderr}");
                continue;
            }
            let args = [method, privilege, &["-q", "1"]].concat();
            let stdout = trace(&lab, client, target, &args);
            let hops: Vec<Vec<IpAddr>> = trace_hops(&stdout).into_iter().map(|(addrs, _)| addrs).collect();
            assert_eq!(hops, one_each, "{args:?}:\n{stdout}");
        }
    }
    // The report: every hop answers, each from its one address. (The short-quoting link is a userspace forwarder:
    // on a machine busy with other labs it has dropped one packet in a run, so one probe a hop may go unanswered.)
    for privilege in PRIVILEGES {
        let args = [privilege, &["-c", "10", "--interval", "0.05"]].concat();
        let (hops, stdout) = report(&lab, client, target, &args);
        let responders: Vec<Vec<IpAddr>> = hops.iter().map(|h| h.responders.clone()).collect();
        assert_eq!(responders, one_each, "{args:?}:\n{stdout}");
        let lost: u64 = hops.iter().map(|h| 10 - h.received.min(10)).sum();
        assert!(lost <= 1 && hops.iter().all(|h| h.received + 1 >= 10), "{args:?}:\n{stdout}");
    }
    // Multipath discovery: one interface a hop, each settled.
    let (hops, stdout) = mda(&lab, client, target, &[]);
    let expected: Vec<(BTreeSet<IpAddr>, bool)> = sets.iter().map(|set| (set.clone(), false)).collect();
    assert_eq!(hops, expected, "{stdout}");
    // The monitor, over ordinary sockets (its default) and raw ones: the path, every hop of it, from the start.
    let id = path_id(&path);
    for privilege in [&["--unprivileged"], &["--raw"]] {
        let run = monitor_rounds(&lab, client, target, privilege, 6);
        assert!(run.changes.is_empty(), "{privilege:?}: {}", run.events);
        assert!(run.path_ids.len() >= 6, "{privilege:?}: {}", run.events);
        let ids: Vec<Option<String>> = run.path_ids[3..].to_vec();
        assert_eq!(ids, vec![Some(id.clone()); ids.len()], "{privilege:?}: {}", run.events);
    }
    // bulk: every hop of every target.
    let traces = bulk(&lab, client, &[target], &[]);
    assert_eq!(traces, [(target, sets)]);
}

#[test]
fn ipv6_routers_quoting_1280_bytes_of_longer_probes_are_matched() {
    let _machine = shared_machine();
    let (lab, client, routers, dst) = crate::chain(3, |_, _, _| {});
    let target = lab.addr(dst, Family::V6);
    let mut path: Vec<IpAddr> = routers.iter().map(|&r| lab.hop_addr(r, client, Family::V6)).collect();
    path.push(target);
    let one_each: Vec<Vec<IpAddr>> = path.iter().map(|&addr| vec![addr]).collect();
    for method in METHODS {
        for privilege in PRIVILEGES {
            let args = [method, privilege, &["-q", "1"]].concat();
            let stdout = trace_len(&lab, client, target, &args, Some(1400));
            let hops: Vec<Vec<IpAddr>> = trace_hops(&stdout).into_iter().map(|(addrs, _)| addrs).collect();
            assert_eq!(hops, one_each, "{args:?}:\n{stdout}");
        }
    }
}
