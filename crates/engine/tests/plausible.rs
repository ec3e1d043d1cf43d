//! Forgers and implausible replies: probe fields unpredictable per run and per probe, and only what is plausible
//! believed — a reply before its probe left, a quote that gained TTL, unknown unreachable codes, impossible MTUs.

mod common;

use core::net::IpAddr;
use std::time::Instant;

use common::*;
use hoptrace_engine::sim::SimNetwork;
use hoptrace_engine::{
    Disposition, ErrorClass, IcmpError, Method, Outcome, Probe, ProbeTransport, Protocol, Quote, QuotedProbe, Reply,
    ReplyKind, Trace, TraceConfig, Unreachable,
};

/// An address off the path.
const FORGER: [u8; 4] = [198, 19, 66, 6];

/// Every method, with whether it is sent through raw sockets.
const CASES: [(Method, bool); 9] = [
    (Method::classic(Protocol::Udp), false),
    (Method::classic(Protocol::Udp), true),
    (Method::paris(Protocol::Udp), false),
    (Method::paris(Protocol::Udp), true),
    (Method::classic(Protocol::Icmp), false),
    (Method::classic(Protocol::Icmp), true),
    (Method::paris(Protocol::Icmp), true),
    (Method::classic(Protocol::Tcp), true),
    (Method::paris(Protocol::Tcp), true),
];

fn config_for(network: &SimNetwork, method: Method, raw: bool, secret: u8) -> TraceConfig {
    let mut config = config(network, method);
    config.raw_send = raw;
    config.secret = [secret; 16];
    config.max_ttl = 8;
    config
}

/// An ICMP error of `class` (type, code as on the wire for IPv4) from `from`, quoting `probe` as a router that
/// received it with `quoted_ttl` left does — as a raw socket sees it (IP ID included) or the error queue (not).
fn error_quoting(
    config: &TraceConfig,
    probe: &Probe,
    from: IpAddr,
    class: ErrorClass,
    code: u8,
    quoted_ttl: u8,
) -> Reply {
    let source = config.source.unwrap();
    let bytes = probe.transport_bytes(source, config.target);
    let word = |at: usize| u16::from_be_bytes([bytes[at], bytes[at + 1]]);
    let quoted = match &probe.transport {
        ProbeTransport::Udp { src_port, dst_port, payload } => QuotedProbe::Udp {
            src_port: *src_port,
            dst_port: *dst_port,
            checksum: Some(word(6)),
            tag: hoptrace_engine::reply::payload_tag(payload),
        },
        ProbeTransport::Icmp { ident, seq, .. } => {
            QuotedProbe::Icmp { ident: *ident, seq: *seq, checksum: None, tag: None }
        }
        ProbeTransport::Tcp { src_port, dst_port, seq } => {
            QuotedProbe::Tcp { src_port: *src_port, dst_port: *dst_port, seq: Some(*seq) }
        }
        other => panic!("a probe of another kind: {other:?}"),
    };
    let ipv6 = config.target.is_ipv6();
    let quote = Quote {
        src: config.raw_send.then_some(source),
        dst: config.target,
        ttl: config.raw_send.then_some(quoted_ttl),
        ip_id: (config.raw_send && !ipv6).then_some(probe.ip_id),
        probe: quoted,
    };
    let icmp_type = match class {
        ErrorClass::TimeExceeded => 11,
        _ => 3,
    };
    let mtu = None;
    let kind = ReplyKind::IcmpError(IcmpError { class, icmp_type, icmp_code: code, mtu, quote, mpls: Vec::new() });
    Reply { from, ttl: Some(60), size: None, kind }
}

fn time_exceeded(config: &TraceConfig, probe: &Probe, from: IpAddr) -> Reply {
    error_quoting(config, probe, from, ErrorClass::TimeExceeded, 0, 1)
}

/// The first wave of probes of a trace of `config`, sent at `at`.
fn first_wave(config: &TraceConfig, at: Instant) -> (Trace, Vec<Probe>) {
    let mut trace = Trace::new(config.clone()).unwrap();
    let probes = std::iter::from_fn(|| trace.poll_probe(at)).collect();
    (trace, probes)
}

#[test]
fn replies_copied_from_an_earlier_run_match_no_probe() {
    for ipv6 in [false, true] {
        let network = SimNetwork::chain(ipv6, 3, 10 * MS);
        for (method, raw) in CASES {
            if method == Method::paris(Protocol::Tcp) && !raw {
                continue;
            }
            let start = Instant::now();
            let earlier = config_for(&network, method, raw, 1);
            let (_, sniffed) = first_wave(&earlier, start);
            let now = config_for(&network, method, raw, 2);
            let (mut trace, _) = first_wave(&now, start);
            // Same sockets (ports, identifier) as the earlier run: only the secret differs.
            for probe in &sniffed {
                let forged = time_exceeded(&earlier, probe, IpAddr::from(FORGER));
                let disposition = trace.handle_reply(forged, start + MS);
                assert_eq!(disposition, Disposition::Unmatched, "{method:?} raw {raw} ipv6 {ipv6}: {probe:?}");
            }
        }
    }
}

#[test]
fn fields_that_identify_probes_do_not_follow_from_earlier_ones() {
    let network = SimNetwork::chain(false, 3, 10 * MS);
    let start = Instant::now();
    for (method, raw) in CASES {
        let (_, probes) = first_wave(&config_for(&network, method, raw, 3), start);
        let identity = |probe: &Probe| -> u32 {
            match &probe.transport {
                ProbeTransport::Icmp { seq, .. } => u32::from(*seq),
                ProbeTransport::Tcp { seq, .. } => *seq,
                ProbeTransport::Udp { .. } => {
                    let bytes = probe.transport_bytes(network.source, network.destination.addr);
                    u32::from(u16::from_be_bytes([bytes[6], bytes[7]]))
                }
                other => panic!("a probe of another kind: {other:?}"),
            }
        };
        let steps: std::collections::HashSet<u32> =
            probes.windows(2).map(|pair| identity(&pair[1]).wrapping_sub(identity(&pair[0]))).collect();
        assert!(steps.len() >= probes.len() - 2, "{method:?}: steps {steps:?}");
        let ip_ids: std::collections::HashSet<u16> =
            probes.windows(2).map(|pair| pair[1].ip_id.wrapping_sub(pair[0].ip_id)).collect();
        assert!(ip_ids.len() >= probes.len() - 2, "{method:?}: IP ID steps {ip_ids:?}");
    }
}

#[test]
fn a_reply_before_its_probe_left_or_with_more_ttl_than_sent_is_not_believed() {
    let network = SimNetwork::chain(false, 3, 10 * MS);
    for (method, raw) in CASES {
        let config = config_for(&network, method, raw, 4);
        let start = Instant::now() + 1000 * MS;
        let (mut trace, probes) = first_wave(&config, start);
        let router = network.router_addr(1);
        let genuine = time_exceeded(&config, &probes[0], router);
        assert_eq!(trace.handle_reply(genuine.clone(), start - 20 * MS), Disposition::Unmatched, "{method:?}");
        if raw {
            // Probe 0 went out with TTL 1: no router can quote it with TTL 2 left.
            let gained = error_quoting(&config, &probes[0], router, ErrorClass::TimeExceeded, 0, 2);
            assert_eq!(trace.handle_reply(gained, start + MS), Disposition::Unmatched, "{method:?}");
        }
        assert_eq!(trace.handle_reply(genuine, start + MS), Disposition::Accepted(probes[0].id), "{method:?}");
    }
}

/// Traces a 3-router chain with one probe per hop, answering only the probe at TTL 2, with `reply`; the outcome
/// once every other probe has timed out.
fn outcome_after(config: &TraceConfig, reply: impl Fn(&TraceConfig, &Probe) -> Reply) -> Option<Outcome> {
    let start = Instant::now();
    let (mut trace, probes) = first_wave(config, start);
    let second = probes.iter().find(|probe| probe.ttl == 2).unwrap();
    assert!(matches!(trace.handle_reply(reply(config, second), start + MS), Disposition::Accepted(_)));
    for step in 1..=100 {
        trace.handle_timeout(start + step * 1000 * MS);
        while trace.poll_probe(start + step * 1000 * MS).is_some() {}
    }
    trace.outcome()
}

#[test]
fn only_plausible_errors_end_a_trace() {
    for ipv6 in [false, true] {
        let network = SimNetwork::chain(ipv6, 3, 10 * MS);
        let mut config = config_for(&network, Method::classic(Protocol::Udp), true, 5);
        config.probes_per_hop = 1;
        config.max_ttl = 4;
        let router = network.router_addr(2);
        let unreachable = |code: u8, meaning| {
            move |config: &TraceConfig, probe: &Probe| {
                error_quoting(config, probe, router, ErrorClass::Unreachable(meaning), code, 1)
            }
        };
        // Believed: a host unreachable ends the trace at TTL 2.
        assert_eq!(outcome_after(&config, unreachable(1, Unreachable::Host)), Some(Outcome::Unreachable { ttl: 2 }));
        // Not believed: an unknown code.
        assert_eq!(outcome_after(&config, unreachable(255, Unreachable::Other)), Some(Outcome::MaxTtl));
        // A Packet Too Big with no MTU (IPv6) or one below IPv4's minimum.
        let too_big = |mtu| {
            move |config: &TraceConfig, probe: &Probe| {
                let mut reply = error_quoting(config, probe, router, ErrorClass::PacketTooBig, 4, 1);
                if let ReplyKind::IcmpError(error) = &mut reply.kind {
                    error.mtu = mtu;
                }
                reply
            }
        };
        let impossible = if ipv6 { None } else { Some(20) };
        assert_eq!(outcome_after(&config, too_big(impossible)), Some(Outcome::MaxTtl), "ipv6 {ipv6}");
        assert_eq!(outcome_after(&config, too_big(Some(1280))), Some(Outcome::Unreachable { ttl: 2 }), "ipv6 {ipv6}");
    }
}

#[test]
fn an_echo_reply_must_carry_back_the_payload_sent() {
    for ipv6 in [false, true] {
        let network = SimNetwork::chain(ipv6, 3, 10 * MS);
        for method in [Method::classic(Protocol::Icmp), Method::paris(Protocol::Icmp)] {
            let config = config_for(&network, method, true, 6);
            let start = Instant::now();
            let (mut trace, probes) = first_wave(&config, start);
            let probe = probes.last().unwrap();
            let ProbeTransport::Icmp { ident, seq, payload } = &probe.transport else { panic!("an echo request") };
            let tag = hoptrace_engine::reply::payload_tag(payload);
            assert!(tag.is_some(), "{method:?}: a payload long enough to carry a tag");
            let echo = |tag| Reply {
                from: network.destination.addr,
                ttl: Some(60),
                size: None,
                kind: ReplyKind::EchoReply { ident: *ident, seq: *seq, tag },
            };
            // Identifier and sequence number right (a forger sweeping 16 bits hits them), the payload not.
            let forged = echo(tag.map(|tag| tag ^ 1));
            assert_eq!(trace.handle_reply(forged, start + MS), Disposition::Unmatched, "{method:?} ipv6 {ipv6}");
            assert_eq!(trace.handle_reply(echo(tag), start + MS), Disposition::Accepted(probe.id), "{method:?}");
        }
    }
}

/// A quote of UDP or Echo Request `probe` carrying `checksum` and `tag` (the checksum and payload of the probe
/// quoted).
fn quote_carrying(config: &TraceConfig, probe: &Probe, checksum: Option<u16>, tag: Option<u64>) -> Reply {
    let mut reply = time_exceeded(config, probe, IpAddr::from(FORGER));
    if let ReplyKind::IcmpError(error) = &mut reply.kind {
        error.quote.probe = match error.quote.probe {
            QuotedProbe::Icmp { ident, seq, .. } => QuotedProbe::Icmp { ident, seq, checksum, tag },
            QuotedProbe::Udp { src_port, dst_port, .. } => QuotedProbe::Udp { src_port, dst_port, checksum, tag },
            other => panic!("a quote without a payload: {other:?}"),
        };
    }
    reply
}

/// The checksum and the payload tag a UDP probe or an Echo Request was sent with.
fn identity(config: &TraceConfig, probe: &Probe) -> (Option<u16>, Option<u64>) {
    let bytes = probe.transport_bytes(config.source.unwrap(), config.target);
    let (at, payload) = match &probe.transport {
        ProbeTransport::Udp { payload, .. } => (6, payload),
        ProbeTransport::Icmp { payload, .. } => (2, payload),
        other => panic!("a probe without a payload: {other:?}"),
    };
    (Some(u16::from_be_bytes([bytes[at], bytes[at + 1]])), hoptrace_engine::reply::payload_tag(payload))
}

/// A forger who knows a probe's ports or sequence number, its checksum (16 bits, which a sweep hits now and then)
/// and with raw sockets its IP ID, but not its keyed payload: a quote with another probe's tag is refused. An
/// 8-byte quote (RFC 792's minimum) with another probe's checksum, where the checksum sums the payload (classic
/// methods) and no IP ID vouches for a middlebox's rewrite, is refused too. Genuine quotes, whole, of 8 bytes or
/// without a checksum, are believed.
#[test]
fn a_quoted_probe_must_carry_the_payload_sent() {
    for ipv6 in [false, true] {
        let network = SimNetwork::chain(ipv6, 3, 10 * MS);
        for (method, raw) in CASES.into_iter().filter(|(method, _)| method.protocol != Protocol::Tcp) {
            let config = config_for(&network, method, raw, 6);
            let start = Instant::now();
            let (mut trace, probes) = first_wave(&config, start);
            let case = format!("{method:?} raw {raw} ipv6 {ipv6}");
            let [first, second, third, other] = [&probes[0], &probes[1], &probes[2], &probes[3]];
            let (other_checksum, other_tag) = identity(&config, other);
            let (checksum, tag) = identity(&config, first);
            assert!(tag.is_some() && tag != other_tag, "{case}: a payload long enough for a tag");
            let forged = quote_carrying(&config, first, checksum, other_tag);
            assert_eq!(trace.handle_reply(forged, start + MS), Disposition::Unmatched, "{case}: another tag");
            let ip_id_vouches = raw && !ipv6 && method.protocol == Protocol::Udp;
            if !method.paris && !ip_id_vouches {
                let short = quote_carrying(&config, second, other_checksum, None);
                assert_eq!(trace.handle_reply(short, start + MS), Disposition::Unmatched, "{case}: 8 bytes");
            }
            let genuine = quote_carrying(&config, first, checksum, tag);
            assert_eq!(trace.handle_reply(genuine, start + MS), Disposition::Accepted(first.id), "{case}");
            let (checksum, _) = identity(&config, second);
            let short = quote_carrying(&config, second, checksum, None);
            assert_eq!(trace.handle_reply(short, start + MS), Disposition::Accepted(second.id), "{case}: 8 bytes");
            if method != Method::paris(Protocol::Udp) {
                // (Paris UDP probes are known by their checksum.)
                let bare = quote_carrying(&config, third, None, None);
                let disposition = trace.handle_reply(bare, start + MS);
                assert_eq!(disposition, Disposition::Accepted(third.id), "{case}: no checksum");
            }
        }
    }
}
