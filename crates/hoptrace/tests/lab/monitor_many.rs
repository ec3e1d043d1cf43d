//! `hoptrace monitor` with many targets over shared sockets: as many descriptors and threads for 200 targets as
//! for 5, every target's series there, and (started as root) no root identity or capability left once running.

use std::net::IpAddr;
use std::time::Duration;

use netlab::Family;

use crate::monitor::{http_get, monitor, sample, signal, wait_for, Running, Scratch, METRICS};
use crate::privileges::field;
use crate::support::*;

/// The AnyIP range the destination answers for, and how many of its addresses are targets at most.
const RANGE: [u8; 4] = [198, 19, 224, 0];
const MOST: u8 = 200;

/// What the running monitor holds: open descriptors, threads, and its `/proc/PID/status`.
fn holdings(pid: u32) -> (usize, usize, String) {
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).expect("the monitor runs").count();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the monitor runs");
    let threads = field(&status, "Threads:")[0].parse().expect("a thread count");
    (fds, threads, status)
}

#[test]
fn many_targets_share_the_sockets_and_run_without_privileges() {
    let _machine = shared_machine();
    let (lab, client, _, dst) = crate::chain(2, |spec, _, dst| spec.anyip(dst, IpAddr::from(RANGE), 24));
    let scratch = Scratch::new("monitor-many");
    let mut seen = Vec::new();
    for count in [5, MOST] {
        let targets: Vec<String> =
            (1..=count).map(|n| IpAddr::from([RANGE[0], RANGE[1], RANGE[2], n]).to_string()).collect();
        // And the destination's own address: IPv6 too, so that both families' sockets are in use.
        let mut args = targets.clone();
        args.push(lab.addr(dst, Family::V6).to_string());
        args.extend(["--every", "1", "-q", "1", "-w", "1", "-n", "--prometheus", METRICS].map(String::from));
        let mut hoptrace: Running = monitor(&lab, client, &args, &scratch.0.join(format!("events-{count}")));
        let pid = hoptrace.0.id();
        wait_for(Duration::from_secs(60), "every target reached, with its hops", || {
            let metrics = http_get(&lab, client, &format!("http://{METRICS}/metrics"))?;
            let all = args[..targets.len() + 1].iter().all(|target| {
                let reached = format!("hoptrace_runs_total{{target=\"{target}\",result=\"reached\"}}");
                sample(&metrics, &reached).is_some_and(|runs| runs >= 2.0)
                    && sample(&metrics, &format!("hoptrace_hops{{target=\"{target}\"}}")) == Some(3.0)
            });
            all.then_some(())
        });
        let (fds, threads, status) = holdings(pid);
        println!("{count} targets: {fds} descriptors, {threads} threads");
        // Started as root: no root identity, no capability left.
        for name in ["Uid:", "Gid:"] {
            assert!(field(&status, name).iter().all(|&id| id != "0"), "{count}: {name} in {status}");
        }
        for name in ["CapEff:", "CapPrm:"] {
            assert_eq!(field(&status, name), ["0000000000000000"], "{count}: {name}");
        }
        signal(&hoptrace.0, "INT");
        let stopped = wait_for(Duration::from_secs(10), "the monitor to stop", || hoptrace.0.try_wait().unwrap());
        assert!(stopped.success(), "{stopped}");
        seen.push((count, fds, threads));
    }
    // The same sockets for 200 targets as for 5: a descriptor or two of slack for a route lookup's socket or a
    // scrape's connection caught open.
    let [(_, few_fds, few_threads), (_, many_fds, many_threads)] = seen[..] else { unreachable!() };
    assert!(many_fds <= few_fds + 2, "{seen:?}");
    assert!(many_threads <= few_threads + 1, "{seen:?}");
}

#[test]
fn every_method_reaches_targets_of_both_families_over_shared_sockets() {
    let _machine = shared_machine();
    let (lab, client, _, dst) = crate::chain(2, |spec, _, dst| spec.anyip(dst, IpAddr::from(RANGE), 24));
    let scratch = Scratch::new("monitor-methods");
    // Two targets in one family (sharing the sockets, one address family's), one in the other.
    let targets = ["198.19.224.1".to_owned(), "198.19.224.2".to_owned(), lab.addr(dst, Family::V6).to_string()];
    // ICMP (the default) over ping sockets and raw ones, UDP over ordinary and raw ones, TCP (Paris: raw only).
    let methods: [&[&str]; 5] = [&[], &["--raw"], &["-U"], &["-U", "--raw"], &["-T"]];
    for method in methods {
        let mut args = targets.to_vec();
        args.extend(["--every", "0.5", "-q", "1", "-w", "1", "-n", "--prometheus", METRICS].map(String::from));
        args.extend(method.iter().map(|flag| flag.to_string()));
        let mut hoptrace = monitor(&lab, client, &args, &scratch.0.join("events"));
        wait_for(Duration::from_secs(30), &format!("{method:?}: every target reached through 3 hops"), || {
            let metrics = http_get(&lab, client, &format!("http://{METRICS}/metrics"))?;
            let all = targets.iter().all(|target| {
                let reached = format!("hoptrace_runs_total{{target=\"{target}\",result=\"reached\"}}");
                sample(&metrics, &reached).is_some_and(|runs| runs >= 2.0)
                    && sample(&metrics, &format!("hoptrace_hops{{target=\"{target}\"}}")) == Some(3.0)
            });
            all.then_some(())
        });
        signal(&hoptrace.0, "INT");
        let stopped = wait_for(Duration::from_secs(10), "the monitor to stop", || hoptrace.0.try_wait().unwrap());
        assert!(stopped.success(), "{method:?}: {stopped}");
    }
}
