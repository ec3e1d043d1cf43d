//! Forgers that sweep a 16-bit field: every echo sequence number, every port. What only such a field names is
//! refused where more is there to check (an echoed payload, an acknowledged sequence number), marked unverified
//! where nothing more is (an 8-byte quote on a ping socket), and refused too once the sweep shows.

mod common;

use std::time::Instant;

use common::*;
use hoptrace_engine::sim::SimNetwork;
use hoptrace_engine::{
    Disposition, ErrorClass, IcmpError, Method, Probe, ProbeStatus, ProbeTransport, Protocol, Quote, QuotedProbe,
    Reply, ReplyKind, TcpAnswer, Trace, TraceConfig,
};

fn config_for(network: &SimNetwork, method: Method, raw: bool) -> TraceConfig {
    let mut config = config(network, method);
    config.raw_send = raw;
    config.secret = [9; 16];
    config.max_ttl = 8;
    config
}

fn first_wave(config: &TraceConfig, at: Instant) -> (Trace, Vec<Probe>) {
    let mut trace = Trace::new(config.clone()).unwrap();
    let probes = std::iter::from_fn(|| trace.poll_probe(at)).collect();
    (trace, probes)
}

/// An Echo Reply from the target with `probe`'s identifier and sequence number and no payload (a swept guess).
fn empty_echo_reply(config: &TraceConfig, probe: &Probe) -> Reply {
    let ProbeTransport::Icmp { ident, seq, .. } = probe.transport else { panic!("an echo request") };
    Reply { from: config.target, ttl: Some(60), size: None, kind: ReplyKind::EchoReply { ident, seq, tag: None } }
}

#[test]
fn an_echo_reply_without_the_payload_sent_is_no_answer() {
    for ipv6 in [false, true] {
        let network = SimNetwork::chain(ipv6, 3, 10 * MS);
        for method in [Method::classic(Protocol::Icmp), Method::paris(Protocol::Icmp)] {
            for raw in [false, true] {
                let config = config_for(&network, method, raw);
                let start = Instant::now();
                let (mut trace, probes) = first_wave(&config, start);
                let forged = empty_echo_reply(&config, &probes[2]);
                let case = format!("{method:?} raw {raw} ipv6 {ipv6}");
                assert_eq!(trace.handle_reply(forged, start + MS), Disposition::Unmatched, "{case}");
            }
        }
    }
}

/// A TCP segment from the target to `probe`'s source port: a reset, acknowledging `ack` if any.
fn reset(config: &TraceConfig, probe: &Probe, ack: Option<u32>) -> Reply {
    let ProbeTransport::Tcp { src_port, dst_port, .. } = probe.transport else { panic!("a SYN") };
    let answer = TcpAnswer { src_port: dst_port, dst_port: src_port, reset: true, ack };
    Reply { from: config.target, ttl: Some(60), size: None, kind: ReplyKind::Tcp(answer) }
}

/// `traceroute -T` believes a reset only if it acknowledges the SYN: one without ACK (which a forger counting
/// source ports sends) is refused; one that acknowledges the SYN is the destination's.
#[test]
fn a_reset_that_acknowledges_no_syn_is_no_answer() {
    for ipv6 in [false, true] {
        let network = SimNetwork::chain(ipv6, 3, 10 * MS);
        for method in [Method::classic(Protocol::Tcp), Method::paris(Protocol::Tcp)] {
            let config = config_for(&network, method, true);
            let start = Instant::now();
            let (mut trace, probes) = first_wave(&config, start);
            let probe = &probes[2];
            let ProbeTransport::Tcp { seq, .. } = probe.transport else { panic!("a SYN") };
            let case = format!("{method:?} ipv6 {ipv6}");
            let forged = reset(&config, probe, None);
            assert_eq!(trace.handle_reply(forged, start + MS), Disposition::Unmatched, "{case}: no ACK");
            let forged = reset(&config, probe, Some(seq));
            assert_eq!(trace.handle_reply(forged, start + MS), Disposition::Unmatched, "{case}: another ACK");
            let genuine = reset(&config, probe, Some(seq.wrapping_add(1)));
            assert_eq!(trace.handle_reply(genuine, start + MS), Disposition::Accepted(probe.id), "{case}");
        }
    }
}

/// A Time Exceeded from `from` quoting 8 bytes of Echo Request `probe` with sequence number `seq`, as a ping
/// socket's error queue gives it: identifier, sequence number and the checksum (a Paris probe's, the same for
/// every probe of the flow), no IP header fields.
fn short_quote(config: &TraceConfig, probe: &Probe, seq: u16, from: core::net::IpAddr) -> Reply {
    let bytes = probe.transport_bytes(config.source.unwrap(), config.target);
    let ProbeTransport::Icmp { ident, .. } = probe.transport else { panic!("an echo request") };
    let checksum = Some(u16::from_be_bytes([bytes[2], bytes[3]]));
    let probe = QuotedProbe::Icmp { ident, seq, checksum, tag: None };
    let quote = Quote { src: config.source, dst: config.target, ttl: None, ip_id: None, probe };
    let class = ErrorClass::TimeExceeded;
    let error = IcmpError { class, icmp_type: 11, icmp_code: 0, mtu: None, quote, mpls: Vec::new() };
    Reply { from, ttl: Some(64), size: None, kind: ReplyKind::IcmpError(error) }
}

/// On a ping socket a Paris echo probe quoted in 8 bytes is told only by its sequence number: a forger sweeping
/// it hits every probe in flight. The first such match is believed but marked unverified (a real router may quote
/// no more); once the sweep shows — hundreds of quotes of our identifier naming no probe — none is believed.
#[test]
fn short_quotes_on_a_ping_socket_are_unverified_and_refused_under_a_sweep() {
    let network = SimNetwork::chain(false, 3, 10 * MS);
    let config = config_for(&network, Method::paris(Protocol::Icmp), false);
    let start = Instant::now();
    let (mut trace, probes) = first_wave(&config, start);
    let forger = core::net::IpAddr::from([198, 19, 66, 6]);
    let seq_of = |probe: &Probe| match probe.transport {
        ProbeTransport::Icmp { seq, .. } => seq,
        _ => panic!("an echo request"),
    };
    let (first, second) = (&probes[3], &probes[4]);
    let disposition = trace.handle_reply(short_quote(&config, first, seq_of(first), forger), start + MS);
    assert_eq!(disposition, Disposition::Accepted(first.id));
    let ProbeStatus::Answered(answer) = &trace.probe(first.id).unwrap().status else { panic!("answered") };
    assert!(answer.unverified, "an 8-byte quote on a ping socket vouches for 16 bits only");
    // The rest of a sweep: sequence numbers that name no probe.
    let ours: Vec<u16> = probes.iter().map(seq_of).collect();
    let mut refused = 0;
    for seq in (0..=u16::MAX).filter(|seq| !ours.contains(seq)).take(300) {
        let disposition = trace.handle_reply(short_quote(&config, first, seq, forger), start + MS);
        assert_eq!(disposition, Disposition::Unmatched);
        refused += 1;
    }
    let disposition = trace.handle_reply(short_quote(&config, second, seq_of(second), forger), start + MS);
    assert_eq!(disposition, Disposition::Unmatched, "believed after {refused} refusals");
    // A whole quote (the payload's tag) is still believed.
    let mut whole = short_quote(&config, second, seq_of(second), network.router_addr(1));
    if let ReplyKind::IcmpError(error) = &mut whole.kind {
        let ProbeTransport::Icmp { payload, .. } = &second.transport else { panic!("an echo request") };
        if let QuotedProbe::Icmp { tag, .. } = &mut error.quote.probe {
            *tag = hoptrace_engine::reply::payload_tag(payload);
        }
    }
    assert_eq!(trace.handle_reply(whole, start + MS), Disposition::Accepted(second.id));
    let ProbeStatus::Answered(answer) = &trace.probe(second.id).unwrap().status else { panic!("answered") };
    assert!(!answer.unverified);
}
