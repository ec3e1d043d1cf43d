//! The kernel's transmit stamps reach the trace: over loopback, every probe's departure is reported, after its
//! send call began and before its reply arrived — through ordinary sockets, and (with the `lab` feature, as root)
//! through raw ones.

use core::net::IpAddr;
use std::time::{Duration, Instant};

use engine::{Disposition, Method, Protocol, Trace, TraceConfig};
use hoptrace_net::{open, Departure, Privilege, Route, SocketOptions};

/// Sends the probes of a one-hop trace to `target` and returns, per probe: when the send call began, when the
/// kernel says it left, and when its own reply arrived.
fn departures_over_loopback(
    target: IpAddr,
    method: Method,
    privilege: Privilege,
) -> Vec<(Instant, Option<Instant>, Option<Instant>)> {
    let mut config = TraceConfig::new(target, method);
    config.max_ttl = 1;
    config.probes_per_hop = 3;
    let (mut prober, endpoint) = open(&config, privilege, &SocketOptions::default()).expect("sockets");
    let mut trace = Trace::new(endpoint.configure(&config)).expect("a valid config");
    let mut sent = Vec::new();
    let route = Route::of(trace.config());
    while let Some(probe) = trace.poll_probe(Instant::now()) {
        sent.push((probe.id, prober.send(&probe, route).expect("sent")));
    }
    let (mut departed, mut replies, mut arrived) = (Vec::new(), Vec::new(), Vec::new());
    let deadline = Instant::now() + Duration::from_secs(2);
    while arrived.len() < sent.len() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
        prober.receive(&mut replies).expect("received");
        prober.departures(&mut departed);
        for (reply, at) in replies.drain(..) {
            if let Disposition::Accepted(id) = trace.handle_reply(reply, at) {
                arrived.push((id, at));
            }
        }
    }
    sent.iter()
        .map(|&(id, called)| {
            let left = departed.iter().find(|departure: &&Departure| departure.probe == id).map(|departure| {
                assert_eq!(departure.target, target);
                departure.at
            });
            (called, left, arrived.iter().find(|(probe, _)| *probe == id).map(|&(_, at)| at))
        })
        .collect()
}

/// Checks the departures of `method`'s probes to both loopback addresses.
fn check(method: Method, privilege: Privilege) {
    for target in [IpAddr::from([127, 0, 0, 1]), "::1".parse().unwrap()] {
        let what = format!("{target} {method:?} {privilege:?}");
        let probes = departures_over_loopback(target, method, privilege);
        assert_eq!(probes.len(), 3, "{what}");
        for (n, (called, left, arrived)) in probes.into_iter().enumerate() {
            let left = left.unwrap_or_else(|| panic!("{what}: probe {n}: no transmit stamp"));
            let arrived = arrived.unwrap_or_else(|| panic!("{what}: probe {n}: no reply"));
            assert!(called <= left && left <= arrived, "{what}: probe {n}: {called:?} {left:?} {arrived:?}");
        }
    }
}

#[test]
fn every_probe_departs_after_its_send_call_and_before_its_reply() {
    check(Method::classic(Protocol::Udp), Privilege::Unprivileged);
    check(Method::paris(Protocol::Udp), Privilege::Unprivileged);
}

#[cfg(feature = "lab")]
#[test]
fn raw_probes_depart_after_their_send_call_and_before_their_reply() {
    for protocol in [Protocol::Udp, Protocol::Icmp, Protocol::Tcp] {
        check(Method::paris(protocol), Privilege::Raw);
    }
}

#[cfg(feature = "lab")]
#[test]
fn raw_ipv6_probes_keep_their_stamps_however_many_replies_came_before() {
    // An IPv6 raw sending socket receives every packet of its protocol: if they piled up unread they would fill
    // the buffer the stamps are counted against, and stamps would stop after a hundred or two replies.
    let target: IpAddr = "::1".parse().unwrap();
    let mut config = TraceConfig::new(target, Method::paris(Protocol::Icmp));
    config.max_ttl = 1;
    config.probes_per_hop = 3;
    let (mut prober, endpoint) = open(&config, Privilege::Raw, &SocketOptions::default()).expect("sockets");
    let config = endpoint.configure(&config);
    let (mut replies, mut departed) = (Vec::new(), Vec::new());
    for round in 0..200 {
        let mut trace = Trace::new(config.clone()).expect("a valid config");
        let route = Route::of(trace.config());
        while let Some(probe) = trace.poll_probe(Instant::now()) {
            prober.send(&probe, route).expect("sent");
        }
        std::thread::sleep(Duration::from_millis(1));
        prober.receive(&mut replies).expect("received");
        departed.clear();
        prober.departures(&mut departed);
        assert_eq!(departed.len(), 3, "round {round}: {} stamps for 3 probes", departed.len());
        replies.clear();
    }
}
