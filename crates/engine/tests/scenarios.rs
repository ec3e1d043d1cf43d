//! The engine against a simulated network: every scenario runs on a virtual clock, deterministically.

mod common;

use core::net::{IpAddr, Ipv4Addr};
use core::time::Duration;
use std::collections::BTreeSet;

use common::*;
use hoptrace_engine::sim::{Forgery, Run, SimNetwork};
use hoptrace_engine::{ErrorClass, Method, Outcome, Protocol, Trace, Unreachable, WaitPolicy};

const METHODS: [Method; 5] = [
    Method::classic(Protocol::Udp),
    Method::paris(Protocol::Udp),
    Method::classic(Protocol::Icmp),
    Method::paris(Protocol::Icmp),
    Method::classic(Protocol::Tcp),
];

fn complete_path(ipv6: bool, method: Method) {
    let mut network = SimNetwork::chain(ipv6, 6, 10 * MS);
    let (trace, run) = trace(&mut network, method);
    assert_eq!(responders(&trace), expected_path(&network, 3), "{method:?}");
    assert_eq!(trace.outcome(), Some(Outcome::Reached { ttl: 7 }));
    // Every probe is in flight at once (21 probes, 48 at a time): the trace takes one destination RTT.
    assert_eq!(run.elapsed, network.destination.rtt, "{method:?}");
    assert_eq!(trace.stats().unmatched + trace.stats().duplicates, 0);
}

#[test]
fn complete_path_every_method_ipv4() {
    for method in METHODS {
        complete_path(false, method);
    }
}

#[test]
fn complete_path_every_method_ipv6() {
    for method in METHODS {
        complete_path(true, method);
    }
}

#[test]
fn silent_routers_show_as_stars_and_the_trace_goes_on() {
    let mut network = SimNetwork::chain(false, 6, 10 * MS);
    network.routers[1].silent = true;
    network.routers[3].silent = true;
    let (trace, _) = trace(&mut network, Method::classic(Protocol::Udp));
    let mut expected = expected_path(&network, 3);
    expected[1] = vec![None; 3];
    expected[3] = vec![None; 3];
    assert_eq!(responders(&trace), expected);
    assert!(timed_out(&trace)[1].iter().all(|&t| t));
    assert_eq!(trace.outcome(), Some(Outcome::Reached { ttl: 7 }));
}

#[test]
fn silent_destination_runs_to_max_ttl() {
    let mut network = SimNetwork::chain(false, 4, 10 * MS);
    network.destination.answers_udp = false;
    let mut config = config(&network, Method::classic(Protocol::Udp));
    config.max_ttl = 8;
    let (trace, _) = run(&mut network, config);
    assert_eq!(trace.outcome(), Some(Outcome::MaxTtl));
    let responders = responders(&trace);
    assert_eq!(responders.len(), 8);
    assert_eq!(responders[3], vec![Some(network.router_addr(4)); 3]);
    assert!(responders[4..].iter().flatten().all(Option::is_none));
    assert_eq!(network.delivered_to_destination, 12, "TTLs 5 to 8 reach the silent destination");
}

#[test]
fn only_tcp_reaches_a_destination_that_drops_udp_and_icmp() {
    for (method, reached) in [
        (Method::classic(Protocol::Udp), false),
        (Method::classic(Protocol::Icmp), false),
        (Method::classic(Protocol::Tcp), true),
    ] {
        let mut network = SimNetwork::chain(false, 3, 10 * MS);
        network.destination.answers_udp = false;
        network.destination.answers_icmp = false;
        let mut config = config(&network, method);
        config.max_ttl = 6;
        let (trace, _) = run(&mut network, config);
        let expected = if reached { Outcome::Reached { ttl: 4 } } else { Outcome::MaxTtl };
        assert_eq!(trace.outcome(), Some(expected), "{method:?}");
    }
}

#[test]
fn closed_tcp_port_answers_with_reset_and_counts_as_reached() {
    let mut network = SimNetwork::chain(true, 2, 10 * MS);
    network.destination.tcp_open = false;
    let (trace, _) = trace(&mut network, Method::classic(Protocol::Tcp));
    assert_eq!(trace.outcome(), Some(Outcome::Reached { ttl: 3 }));
    let answer = trace.hops()[2].answers().next().unwrap();
    assert!(matches!(answer.reply.kind, hoptrace_engine::ReplyKind::Tcp(tcp) if tcp.reset));
}

#[test]
fn unreachable_mid_path_ends_the_trace_there() {
    let mut network = SimNetwork::chain(false, 6, 10 * MS);
    network.routers[2].reject = Some(10); // host prohibited, as iptables REJECT --reject-with icmp-host-prohibited
    let (trace, _) = trace(&mut network, Method::classic(Protocol::Udp));
    assert_eq!(trace.outcome(), Some(Outcome::Unreachable { ttl: 4 }));
    let responders = responders(&trace);
    assert_eq!(responders.len(), 4);
    assert_eq!(responders[3], vec![Some(network.router_addr(3)); 3]);
    let error = trace.hops()[3].answers().next().unwrap().icmp_error().unwrap().clone();
    assert_eq!(error.class, ErrorClass::Unreachable(Unreachable::Prohibited));
    assert_eq!((error.icmp_type, error.icmp_code), (3, 10));
    assert_eq!(network.delivered_to_destination, 0);
}

#[test]
fn unreachable_ipv6_admin_prohibited() {
    let mut network = SimNetwork::chain(true, 4, 10 * MS);
    network.routers[1].reject = Some(1);
    let (trace, _) = trace(&mut network, Method::classic(Protocol::Icmp));
    assert_eq!(trace.outcome(), Some(Outcome::Unreachable { ttl: 3 }));
    let error = trace.hops()[2].answers().next().unwrap().icmp_error().unwrap().clone();
    assert_eq!(error.class, ErrorClass::Unreachable(Unreachable::Prohibited));
    assert_eq!((error.icmp_type, error.icmp_code), (1, 1));
}

#[test]
fn lossy_link_loses_probes_but_never_misattributes() {
    let mut network = SimNetwork::chain(false, 6, 10 * MS);
    network.routers[2].loss = 0.2;
    network.seed(7);
    let (trace, _) = trace(&mut network, Method::paris(Protocol::Udp));
    let responders = responders(&trace);
    let lost = responders.iter().flatten().filter(|r| r.is_none()).count();
    assert!(lost > 0, "seed 7 loses some probes: {responders:?}");
    for (index, hop) in responders.iter().enumerate() {
        let expected = network.routers.get(index).map_or(network.destination.addr, |r| r.addrs[0]);
        assert!(hop.iter().flatten().all(|&from| from == expected), "hop {}: {hop:?}", index + 1);
    }
    assert_eq!(trace.stats().unmatched, 0);
}

#[test]
fn reply_after_its_probe_timed_out_is_late_not_misattributed() {
    let mut network = SimNetwork::chain(false, 5, 10 * MS);
    network.routers[2].extra_delay = Duration::from_secs(6);
    let mut config = config(&network, Method::classic(Protocol::Udp));
    config.wait = WaitPolicy { here: 0.0, near: 0.0, ..WaitPolicy::default() };
    config.max_ttl = 6; // no probes beyond the destination, whose answers would also come late
    let (trace, _) = {
        let mut trace = hoptrace_engine::Trace::new(config).unwrap();
        let start = std::time::Instant::now();
        let run = hoptrace_engine::sim::run(&mut trace, &mut network, start, Duration::from_secs(5) + 200 * MS);
        assert!(trace.is_finished());
        // Keep delivering after the trace ended: the late replies arrive and are counted, not recorded.
        for (wire, at) in network.deliver(start + Duration::from_secs(10)) {
            if let Some(reply) = network.decode(&wire) {
                trace.handle_reply(reply, at);
            }
        }
        (trace, run)
    };
    assert_eq!(responders(&trace)[2], vec![None; 3]);
    assert!(timed_out(&trace)[2].iter().all(|&t| t));
    assert_eq!(trace.stats().late, 3, "{:?} {:?}", trace.stats(), responders(&trace));
    assert_eq!(trace.stats().matched, 15);
}

#[test]
fn reordered_replies_land_on_their_own_hops() {
    let mut network = SimNetwork::chain(false, 6, 10 * MS);
    for (index, router) in network.routers.iter_mut().enumerate() {
        router.rtt = Duration::from_millis(100 - 15 * index as u64); // farther routers answer first
    }
    network.destination.rtt = 5 * MS;
    let mut config = config(&network, Method::classic(Protocol::Icmp));
    // Every TTL is in flight at once: the NEAR rule would give up the slow near hops once the destination answered.
    config.wait.near = 0.0;
    let (trace, run) = run(&mut network, config);
    assert_eq!(responders(&trace), expected_path(&network, 3));
    assert!(run.elapsed <= 100 * MS + 5 * MS, "{:?}", run.elapsed);
    let rtt = trace.hops()[0].answers().next().unwrap().rtt;
    assert_eq!(rtt, 100 * MS);
}

#[test]
fn duplicated_replies_are_counted_once() {
    let mut network = SimNetwork::chain(false, 4, 10 * MS);
    network.routers[1].duplicate = true;
    let (trace, _) = trace(&mut network, Method::classic(Protocol::Udp));
    assert_eq!(responders(&trace), expected_path(&network, 3));
    assert_eq!(trace.stats().duplicates, 3);
    assert_eq!(trace.stats().matched, 15);
}

fn forged(method: Method, raw_send: bool, forgeries: Vec<Forgery>) {
    let mut network = SimNetwork::chain(false, 5, 10 * MS);
    let count = forgeries.len() as u32;
    network.forgeries = forgeries;
    let mut config = config(&network, method);
    config.raw_send = raw_send;
    let (trace, run) = run(&mut network, config);
    assert_eq!(responders(&trace), expected_path(&network, 3), "{method:?}");
    let dropped = trace.stats().unmatched + run.undecodable;
    assert_eq!(dropped, count * 3, "{method:?}: every forgery is dropped, by the decoder or the matcher");
}

const FORGER: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 19, 66, 6));

fn forgery(mutate: fn(&mut Vec<u8>)) -> Forgery {
    Forgery { from: FORGER, ttl: 2, mutate }
}

#[test]
fn forged_errors_with_altered_quotes_never_become_hops() {
    // Offsets into the quoted probe: IPv4 header (protocol 9, source 12..16, destination 16..20), then the
    // transport header (UDP/TCP ports 20..24, UDP checksum 26..28; ICMP type 20, code 21, identifier 24..26,
    // sequence 26..28).
    for method in METHODS {
        let mut forgeries = vec![
            forgery(|q| q[19] ^= 1),                             // another destination
            forgery(|q| q[15] ^= 1),                             // another source
            forgery(|q| q[9] = if q[9] == 17 { 6 } else { 17 }), // another protocol
        ];
        match method {
            Method { protocol: Protocol::Udp, paris: false } => {
                forgeries.extend([forgery(|q| q[21] ^= 0x40), forgery(|q| q[22] ^= 0x80)])
            }
            Method { protocol: Protocol::Udp, paris: true } => {
                forgeries.extend([forgery(|q| q[21] ^= 0x40), forgery(|q| q[23] ^= 1), forgery(|q| q[26] ^= 0x80)])
            }
            Method { protocol: Protocol::Icmp, paris: false } | Method { protocol: Protocol::Icmp, paris: true } => {
                forgeries.extend([
                    forgery(|q| q[24] ^= 1),    // another identifier
                    forgery(|q| q[26] ^= 0x80), // a sequence never used
                    forgery(|q| q[20] = 0),     // an Echo Reply, not our request
                    forgery(|q| q[21] = 1),     // an unknown code
                ])
            }
            Method { protocol: Protocol::Tcp, paris: false } => {
                forgeries.extend([forgery(|q| q[20] ^= 0x80), forgery(|q| q[23] ^= 1)])
            }
            Method { protocol: Protocol::Tcp, paris: true } => {
                unreachable!("needs raw sockets; tested in raw_mode_also_checks_ip_id_and_tcp_sequence")
            }
        }
        forged(method, false, forgeries);
    }
}

#[test]
fn raw_mode_takes_a_quote_from_another_source_only_with_everything_else_ours() {
    // A NAT's quote names its address and carries the checksum it updated for it; these do not.
    let another_source = |q: &mut Vec<u8>| q[15] ^= 1;
    forged(Method::classic(Protocol::Udp), true, vec![forgery(another_source)]); // checksum as sent: no NAT wrote that address
    for method in [
        Method::classic(Protocol::Udp),
        Method::paris(Protocol::Udp),
        Method::classic(Protocol::Icmp),
        Method::classic(Protocol::Tcp),
    ] {
        // And an IP ID never sent. (Flipping its low bit and the source's instead makes a true NAT quote of the
        // next Paris UDP probe: both its checksum and IP ID are one off.)
        forged(method, true, vec![forgery(|q| (q[15], q[4]) = (q[15] ^ 1, q[4] ^ 0x80))]);
    }
}

#[test]
fn a_forged_quote_with_the_checksum_right_but_not_the_payload_tag_is_dropped() {
    // The tag is the quoted payload's bytes 2 to 10 (30..38 past the IPv4 header, for UDP and echo alike); its
    // 16-bit words turned round leave the checksum, which sums them in any order, as sent (and the IP ID too).
    let tag_turned = |q: &mut Vec<u8>| q[30..38].rotate_left(2);
    for method in [METHODS[0], METHODS[1], METHODS[2], METHODS[3]] {
        for raw_send in [false, true] {
            forged(method, raw_send, vec![forgery(tag_turned)]);
        }
    }
}

#[test]
fn raw_mode_also_checks_ip_id_and_tcp_sequence() {
    forged(Method::classic(Protocol::Udp), true, vec![forgery(|q| q[5] ^= 1)]);
    forged(Method::classic(Protocol::Tcp), true, vec![forgery(|q| q[5] ^= 1), forgery(|q| q[27] ^= 1)]);
    forged(
        Method::paris(Protocol::Tcp),
        true,
        vec![forgery(|q| q[5] ^= 1), forgery(|q| q[27] ^= 1), forgery(|q| q[20] ^= 0x80)],
    );
}

#[test]
fn forged_answers_from_others_than_the_destination_are_dropped() {
    use hoptrace_engine::{Reply, ReplyKind, TcpAnswer, Trace};
    let network = SimNetwork::chain(false, 1, 10 * MS);
    for method in [Method::classic(Protocol::Icmp), Method::classic(Protocol::Tcp)] {
        let mut trace = Trace::new(config(&network, method)).unwrap();
        let now = std::time::Instant::now();
        let probe = trace.poll_probe(now).unwrap();
        let kind = match probe.transport {
            hoptrace_engine::ProbeTransport::Icmp { ident, seq, ref payload } => {
                ReplyKind::EchoReply { ident, seq, tag: hoptrace_engine::reply::payload_tag(payload) }
            }
            hoptrace_engine::ProbeTransport::Tcp { src_port, dst_port, .. } => {
                ReplyKind::Tcp(TcpAnswer { src_port: dst_port, dst_port: src_port, reset: true, ack: None })
            }
            _ => unreachable!(),
        };
        let forged = Reply { from: FORGER, ttl: None, size: None, kind: kind.clone() };
        assert_eq!(trace.handle_reply(forged, now), hoptrace_engine::Disposition::Unmatched);
        let real = Reply { from: network.destination.addr, ttl: None, size: None, kind };
        assert_eq!(trace.handle_reply(real, now), hoptrace_engine::Disposition::Accepted(probe.id));
    }
}

/// A path with a 2-way diamond over TTLs 2 and 3 (one ECMP group: a flow takes the same branch through both) and
/// a 3-way split at TTL 5.
fn ecmp_network() -> SimNetwork {
    let mut network = SimNetwork::chain(false, 6, 10 * MS);
    for (index, ecmp_group, width) in [(1, 1, 2), (2, 1, 2), (4, 2, 3)] {
        let router = &mut network.routers[index];
        router.addrs =
            (0..width).map(|branch| IpAddr::V4(Ipv4Addr::new(198, 18, 10 + branch, index as u8 + 1))).collect();
        router.ecmp_group = ecmp_group;
    }
    network
}

fn ecmp_trace(method: Method) -> Vec<BTreeSet<IpAddr>> {
    let mut network = ecmp_network();
    let mut config = config(&network, method);
    config.probes_per_hop = 6;
    config.raw_send = method == Method::paris(Protocol::Tcp);
    let (trace, _) = run(&mut network, config);
    assert_eq!(trace.outcome(), Some(Outcome::Reached { ttl: 7 }));
    responders(&trace).iter().map(|hop| hop.iter().flatten().copied().collect()).collect()
}

#[test]
fn paris_follows_one_real_path_across_ecmp() {
    for method in [Method::paris(Protocol::Udp), Method::paris(Protocol::Icmp), Method::paris(Protocol::Tcp)] {
        let hops = ecmp_trace(method);
        assert!(hops.iter().all(|addrs| addrs.len() == 1), "{method:?}: {hops:?}");
        // TTLs 2 and 3 are one diamond: the same branch (third octet) at both.
        let branch =
            |ttl: usize| hops[ttl - 1].iter().next().map(|a| a.to_string().split('.').nth(2).map(str::to_owned));
        assert_eq!(branch(2), branch(3), "{method:?}: {hops:?}");
    }
}

#[test]
fn classic_probing_mixes_branches_under_ecmp() {
    for method in [Method::classic(Protocol::Udp), Method::classic(Protocol::Icmp), Method::classic(Protocol::Tcp)] {
        let hops = ecmp_trace(method);
        assert!(hops.iter().any(|addrs| addrs.len() > 1), "{method:?}: {hops:?}");
    }
}

#[test]
fn consecutive_traces_never_share_identifiers() {
    use hoptrace_engine::{
        Disposition, IcmpError, ProbeTransport, Quote, QuotedProbe, Reply, ReplyKind, Trace, TraceConfig,
    };
    let network = SimNetwork::chain(false, 2, 10 * MS);
    for method in METHODS {
        let first = config(&network, method);
        let second = TraceConfig { sequence_start: 90, ..first.clone() };
        let (mut first, mut second) = (Trace::new(first).unwrap(), Trace::new(second).unwrap());
        let now = std::time::Instant::now();
        let (probe, _) = (first.poll_probe(now).unwrap(), second.poll_probe(now).unwrap());
        let quoted = match probe.transport {
            ProbeTransport::Udp { src_port, dst_port, .. } => {
                let bytes = probe.transport_bytes(network.source, network.destination.addr);
                let checksum = Some(u16::from_be_bytes([bytes[6], bytes[7]]));
                QuotedProbe::Udp { src_port, dst_port, checksum, tag: None }
            }
            ProbeTransport::Icmp { ident, seq, .. } => QuotedProbe::Icmp { ident, seq, checksum: None, tag: None },
            ProbeTransport::Tcp { src_port, dst_port, seq } => QuotedProbe::Tcp { src_port, dst_port, seq: Some(seq) },
            other => panic!("a transport this test does not know: {other:?}"),
        };
        let quote = Quote {
            src: Some(network.source),
            dst: network.destination.addr,
            ttl: Some(1),
            ip_id: None,
            probe: quoted,
        };
        let error = IcmpError {
            class: ErrorClass::TimeExceeded,
            icmp_type: 11,
            icmp_code: 0,
            mtu: None,
            quote,
            mpls: Vec::new(),
        };
        let reply = Reply { from: network.router_addr(1), ttl: None, size: None, kind: ReplyKind::IcmpError(error) };
        assert_eq!(second.handle_reply(reply.clone(), now), Disposition::Unmatched, "{method:?}");
        assert_eq!(first.handle_reply(reply, now), Disposition::Accepted(probe.id), "{method:?}");
    }
}

/// A trace told the destination's distance, with in-flight room for 6 TTLs past the first: its stats and path.
fn with_known_distance(network: &mut SimNetwork, distance: Option<u8>) -> (Trace, Run) {
    let mut config = config(network, Method::paris(Protocol::Udp));
    config.max_in_flight = 16;
    config.max_ttl = 12;
    config.known_distance = distance;
    run(network, config)
}

#[test]
fn a_known_distance_spares_the_probes_past_the_destination() {
    let mut network = SimNetwork::chain(false, 3, 10 * MS);
    let (unknown, _) = with_known_distance(&mut network, None);
    // Six TTLs at once, and one more as each router answers before the destination does (10 ms apart): TTLs 4 to 9
    // reach the destination.
    assert_eq!(unknown.stats().sent, 25);
    assert_eq!(network.delivered_to_destination, 16);
    let mut network = SimNetwork::chain(false, 3, 10 * MS);
    let (known, timing) = with_known_distance(&mut network, Some(4));
    assert_eq!(known.stats().sent, 12);
    assert_eq!(network.delivered_to_destination, 3);
    assert_eq!(responders(&known), responders(&unknown));
    assert_eq!(known.outcome(), Some(Outcome::Reached { ttl: 4 }));
    assert_eq!(timing.elapsed, network.destination.rtt, "still one round trip");
    // With one probe a hop, one TTL past the destination's stands in for its probe.
    let mut network = SimNetwork::chain(false, 3, 10 * MS);
    let mut config = config(&network, Method::paris(Protocol::Udp));
    (config.probes_per_hop, config.known_distance) = (1, Some(4));
    let (one, _) = run(&mut network, config);
    assert_eq!((one.stats().sent, network.delivered_to_destination), (5, 2));
}

#[test]
fn a_path_longer_than_the_known_distance_is_still_traced_whole() {
    // A router answers where the destination was: the window opens past it at once.
    let mut network = SimNetwork::chain(false, 6, 10 * MS);
    let (trace, _) = with_known_distance(&mut network, Some(4));
    assert_eq!(responders(&trace), expected_path(&network, 3));
    assert_eq!(trace.outcome(), Some(Outcome::Reached { ttl: 7 }));
    // A silent router there: the window opens once its probes time out.
    let mut network = SimNetwork::chain(false, 6, 10 * MS);
    network.routers[3].silent = true;
    let (trace, _) = with_known_distance(&mut network, Some(4));
    let mut expected = expected_path(&network, 3);
    expected[3] = vec![None; 3];
    assert_eq!(responders(&trace), expected);
    assert_eq!(trace.outcome(), Some(Outcome::Reached { ttl: 7 }));
    // A shorter path ends where the destination now answers.
    let mut network = SimNetwork::chain(false, 1, 10 * MS);
    let (trace, _) = with_known_distance(&mut network, Some(4));
    assert_eq!(responders(&trace), expected_path(&network, 3));
    assert_eq!(trace.outcome(), Some(Outcome::Reached { ttl: 2 }));
}
