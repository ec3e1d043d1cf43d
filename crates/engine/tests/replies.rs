//! What replies carry into the results: MTUs, MPLS labels, TTLs; truncated quotes; rate limits.

mod common;

use core::time::Duration;

use common::*;
use hoptrace_engine::sim::{Forgery, RateLimit, SimNetwork};
use hoptrace_engine::{
    ErrorClass, IcmpError, Method, MplsLabel, Outcome, ProbeTransport, Protocol, Quote, QuotedProbe, Reply, ReplyKind,
};

#[test]
fn fragmentation_needed_reports_the_next_hop_mtu() {
    for ipv6 in [false, true] {
        let mut network = SimNetwork::chain(ipv6, 4, 10 * MS);
        network.routers[1].mtu = Some(1280);
        let mut config = config(&network, Method::classic(Protocol::Udp));
        config.packet_len = 1500;
        let (trace, _) = run(&mut network, config);
        assert_eq!(trace.outcome(), Some(Outcome::Unreachable { ttl: 3 }), "ipv6 {ipv6}");
        let error = trace.hops()[2].answers().next().unwrap().icmp_error().unwrap().clone();
        assert_eq!(error.class, ErrorClass::PacketTooBig);
        assert_eq!(error.mtu, Some(1280));
        assert_eq!((error.icmp_type, error.icmp_code), if ipv6 { (2, 0) } else { (3, 4) });
    }
}

#[test]
fn small_probes_pass_a_small_mtu() {
    let mut network = SimNetwork::chain(false, 4, 10 * MS);
    network.routers[1].mtu = Some(1280);
    let (trace, _) = trace(&mut network, Method::classic(Protocol::Udp));
    assert_eq!(trace.outcome(), Some(Outcome::Reached { ttl: 5 }));
}

#[test]
fn mpls_labels_from_extensions_reach_the_results() {
    let labels = vec![
        MplsLabel { label: 24001, tc: 0, bottom: false, ttl: 1 },
        MplsLabel { label: 16, tc: 5, bottom: true, ttl: 1 },
    ];
    for ipv6 in [false, true] {
        let mut network = SimNetwork::chain(ipv6, 4, 10 * MS);
        network.routers[1].mpls = labels.clone();
        let (trace, _) = trace(&mut network, Method::paris(Protocol::Udp));
        for answer in trace.hops()[1].answers() {
            assert_eq!(answer.icmp_error().unwrap().mpls, labels);
        }
        assert!(trace.hops()[0].answers().all(|a| a.icmp_error().unwrap().mpls.is_empty()));
        assert_eq!(trace.outcome(), Some(Outcome::Reached { ttl: 5 }));
    }
}

#[test]
fn reply_ttl_and_quoted_ttl_are_recorded() {
    let mut network = SimNetwork::chain(false, 4, 10 * MS);
    let (trace, _) = trace(&mut network, Method::classic(Protocol::Udp));
    for (index, hop) in trace.hops()[..4].iter().enumerate() {
        for answer in hop.answers() {
            assert_eq!(answer.reply.ttl, Some(64 - index as u8));
            assert_eq!(answer.icmp_error().unwrap().quote.ttl, Some(1));
            assert_eq!(answer.rtt, 10 * MS * (index as u32 + 1));
        }
    }
}

#[test]
fn quotes_cut_to_eight_transport_bytes_still_identify_probes() {
    for method in [
        Method::classic(Protocol::Udp),
        Method::paris(Protocol::Udp),
        Method::classic(Protocol::Icmp),
        Method::paris(Protocol::Icmp),
        Method::classic(Protocol::Tcp),
    ] {
        let mut network = SimNetwork::chain(false, 4, 10 * MS);
        for router in &mut network.routers {
            router.quote_len = 28; // RFC 792: IP header + 8 bytes
        }
        let (trace, _) = trace(&mut network, method);
        assert_eq!(responders(&trace), expected_path(&network, 3), "{method:?}");
        let quote = trace.hops()[0].answers().next().unwrap().icmp_error().unwrap().quote;
        match (method, quote.probe) {
            (Method { protocol: Protocol::Udp, paris: true }, QuotedProbe::Udp { checksum, .. }) => {
                assert!(checksum.is_some())
            }
            (Method { protocol: Protocol::Tcp, paris: false }, QuotedProbe::Tcp { seq, .. }) => assert!(seq.is_some()),
            (_, QuotedProbe::Udp { .. } | QuotedProbe::Icmp { .. }) => {}
            other => panic!("unexpected quote {other:?}"),
        }
    }
}

#[test]
fn a_rate_limited_router_answers_its_burst_and_then_goes_quiet() {
    let mut network = SimNetwork::chain(false, 4, 10 * MS);
    network.routers[1].rate_limit = Some(RateLimit { burst: 6, interval: Duration::from_secs(1) });
    let mut config = config(&network, Method::classic(Protocol::Udp));
    config.probes_per_hop = 10;
    config.max_in_flight = 64;
    let (trace, _) = run(&mut network, config);
    let answered: Vec<usize> = trace.hops().iter().map(|hop| hop.answers().count()).collect();
    assert_eq!(answered, [10, 6, 10, 10, 10]);
}

#[test]
fn a_rate_limit_refills_over_time() {
    let mut network = SimNetwork::chain(false, 2, 10 * MS);
    network.routers[1].rate_limit = Some(RateLimit { burst: 2, interval: Duration::from_millis(100) });
    let mut config = config(&network, Method::classic(Protocol::Icmp));
    config.probes_per_hop = 6;
    config.send_interval = 50 * MS;
    (config.first_ttl, config.max_ttl) = (2, 2);
    let (trace, _) = run(&mut network, config);
    // Hop 2's probes leave 50 ms apart: 2 from the burst, then one per 100 ms.
    assert_eq!(trace.hops()[0].answers().count(), 4);
}

#[test]
fn echo_replies_and_tcp_answers_are_the_destination_hop() {
    for (method, is_echo) in [(Method::classic(Protocol::Icmp), true), (Method::classic(Protocol::Tcp), false)] {
        let mut network = SimNetwork::chain(true, 2, 10 * MS);
        let (trace, _) = trace(&mut network, method);
        let answer = trace.hops()[2].answers().next().unwrap();
        assert_eq!(matches!(answer.reply.kind, ReplyKind::EchoReply { .. }), is_echo);
        assert_eq!(answer.from(), network.destination.addr);
    }
}

#[test]
fn a_nat_that_leaves_quotes_rewritten_is_flagged_from_the_first_hop_after_it() {
    let methods = [
        Method::classic(Protocol::Udp),
        Method::paris(Protocol::Udp),
        Method::classic(Protocol::Icmp),
        Method::paris(Protocol::Icmp),
        Method::classic(Protocol::Tcp),
        Method::paris(Protocol::Tcp),
    ];
    for ipv6 in [false, true] {
        for method in methods {
            let mut network = SimNetwork::chain(ipv6, 4, 10 * MS);
            network.routers[1].nat = true;
            let mut config = config(&network, method);
            config.raw_send = true;
            let (trace, _) = run(&mut network, config);
            assert_eq!(responders(&trace), expected_path(&network, 3), "{method:?} ipv6 {ipv6}");
            let flagged: Vec<bool> = trace.hops().iter().map(|hop| hop.answers().all(|a| a.quote_rewritten)).collect();
            // The destination's answer is an ICMP error (and flagged) for UDP only: echo replies and TCP answers
            // come back through the NAT's own state and quote nothing.
            let udp = method.protocol == Protocol::Udp;
            assert_eq!(flagged, [false, false, true, true, udp], "{method:?} ipv6 {ipv6}");
            assert_eq!(trace.stats().unmatched, 0, "{method:?} ipv6 {ipv6}");
        }
    }
}

#[test]
fn a_rewritten_source_is_believed_only_from_raw_sockets() {
    // The engine's rule, whatever the reader: an ordinary socket's error queue shows no quoted source (the net
    // layer fills in ours), so a foreign one can only come from a raw socket, which also checks the IP ID.
    for method in [Method::classic(Protocol::Udp), Method::paris(Protocol::Udp)] {
        let mut network = SimNetwork::chain(false, 3, 10 * MS);
        network.routers[0].nat = true;
        let mut config = config(&network, method);
        config.max_ttl = 4;
        let (trace, _) = run(&mut network, config);
        let answered: Vec<usize> = trace.hops().iter().map(|hop| hop.answers().count()).collect();
        assert_eq!(answered, [3, 0, 0, 0], "{method:?}");
        assert!(trace.stats().unmatched >= 9, "{method:?}");
    }
}

#[test]
fn a_quote_with_the_address_restored_but_not_the_checksum_is_matched_by_ip_id() {
    // A middlebox that translated the quoted address back and left the checksum: router 2's quotes carry
    // another checksum, shifted by what the NAT's address added. Paris UDP probes are known by their checksum;
    // with raw sockets the IP ID still tells, once a second quote shows the same shift (a forger's would not).
    let mut network = SimNetwork::chain(false, 3, 10 * MS);
    let router = network.routers[1].addrs[0];
    network.routers[1].silent = true;
    let nat_shift = |q: &mut Vec<u8>| {
        let sum = u32::from(u16::from_be_bytes([q[26], q[27]])) + 0x1234;
        let sum = ((sum & 0xffff) + (sum >> 16)) as u16;
        q[26..28].copy_from_slice(&sum.to_be_bytes());
    };
    network.forgeries = vec![Forgery { from: router, ttl: 2, mutate: nat_shift }];
    let mut config = config(&network, Method::paris(Protocol::Udp));
    config.raw_send = true;
    let (trace, _) = run(&mut network, config);
    // (The forged replies come back at once, so hop 1's real ones look slow and may time out: only hop 2 counts.)
    let hop = &trace.hops()[1];
    let answers: Vec<_> = hop.answers().map(|answer| (answer.from(), answer.quote_rewritten)).collect();
    assert_eq!(answers, [(router, true); 2]);
    assert_eq!(trace.stats().unmatched, 1);
}

#[test]
fn a_paris_udp_quote_without_a_checksum_is_matched_by_its_payload_tag_and_ports() {
    // An error queue gives back only the quoted payload; cut short (IPv6 routers quote 1280 bytes), its checksum
    // cannot be recomputed. The payload's tag, unpredictable per probe, still names the probe.
    let network = SimNetwork::chain(true, 2, 10 * MS);
    let mut config = config(&network, Method::paris(Protocol::Udp));
    config.packet_len = 1500;
    let target = config.target;
    let mut trace = hoptrace_engine::Trace::new(config).unwrap();
    let probe = trace.poll_probe(std::time::Instant::now()).unwrap();
    let ProbeTransport::Udp { src_port, dst_port, payload } = &probe.transport else { panic!("a UDP probe") };
    let tag = hoptrace_engine::reply::payload_tag(payload);
    let quote = |dst_port: u16, checksum: Option<u16>, tag: Option<u64>| Reply {
        from: network.router_addr(1),
        ttl: Some(64),
        size: None,
        kind: ReplyKind::IcmpError(IcmpError {
            class: ErrorClass::TimeExceeded,
            icmp_type: 3,
            icmp_code: 0,
            mtu: None,
            quote: Quote {
                src: Some(network.source),
                dst: target,
                ttl: None,
                ip_id: None,
                probe: QuotedProbe::Udp { src_port: *src_port, dst_port, checksum, tag },
            },
            mpls: Vec::new(),
        }),
    };
    assert!(trace.claim(&quote(*dst_port, None, tag)).is_some(), "the tag names the probe");
    assert!(trace.claim(&quote(*dst_port, None, tag.map(|tag| tag ^ 1))).is_none(), "another tag");
    assert!(trace.claim(&quote(dst_port.wrapping_add(1), None, tag)).is_none(), "other ports");
    assert!(trace.claim(&quote(*dst_port, None, None)).is_none(), "neither checksum nor tag");
    assert!(trace.claim(&quote(*dst_port, Some(0x1234), tag)).is_none(), "a checksum not sent");
}
