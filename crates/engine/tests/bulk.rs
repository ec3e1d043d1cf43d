//! The stateless codec against caracal's reply vectors and against itself.
//!
//! caracal's own pcaps (dioptra-io/caracal, `data/*.pcap`) cannot be committed here, so each vector is rebuilt from
//! its documented encoding: a probe made by our encoder with the fields of caracal's capture, the reply a router
//! would send for it, and the row caracal's `tests/parser_test.cpp` expects that capture to decode to.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hoptrace_engine::bulk::{
    decode, encode, tenth_ms, timestamp, Arrival, Check, ProbeSpec, Rejection, Row, MAX_PROBE_LEN,
};
use packet::{
    ExtensionsBuilder, Icmpv4Packet, Icmpv4Repr, Icmpv6Packet, Icmpv6Repr, IpProtocol, Ipv4Packet, Ipv4Repr, MplsLabel,
};
use proptest::prelude::*;

const ID: u16 = 0x1234;
const CHECK: Check = Check { caracal_id: ID, integrity: true };

/// The probe of `line` from `src`, sent `rtt` tenths of a millisecond before `capture_micros`.
fn probe(line: &str, src: &str, capture_micros: u64, rtt: u64) -> Vec<u8> {
    let spec = ProbeSpec::parse(line).unwrap();
    let mut buf = [0; MAX_PROBE_LEN];
    let len = encode(&spec, src.parse().unwrap(), ID, timestamp(tenth_ms(capture_micros) - rtt), &mut buf);
    buf[..len].to_vec()
}

/// An ICMPv4 message from `from` to `to` with TTL `ttl`, in an IPv4 packet.
fn ipv4(from: &str, to: &str, ttl: u8, icmp: Icmpv4Repr<'_>) -> Vec<u8> {
    let repr = Ipv4Repr {
        src_addr: from.parse().unwrap(),
        dst_addr: to.parse().unwrap(),
        next_header: IpProtocol::Icmp,
        payload_len: icmp.buffer_len(),
        ttl,
        tos: 0,
        ident: 0,
        dont_frag: false,
    };
    let mut bytes = vec![0; repr.buffer_len()];
    repr.emit(&mut Ipv4Packet::new_unchecked(&mut bytes[..]));
    icmp.emit(&mut Icmpv4Packet::new_unchecked(&mut bytes[20..]));
    bytes
}

fn icmpv6(from: Ipv6Addr, to: Ipv6Addr, icmp: Icmpv6Repr<'_>) -> Vec<u8> {
    let mut bytes = vec![0; icmp.buffer_len()];
    icmp.emit(&from, &to, &mut Icmpv6Packet::new_unchecked(&mut bytes[..]));
    bytes
}

/// The first `len` bytes of `probe` as a router quotes them, the TTL it had on arrival in place.
fn quote(probe: &[u8], len: usize, quoted_ttl: u8) -> Vec<u8> {
    let mut quote = probe[..len.min(probe.len())].to_vec();
    let ttl_at = if probe[0] >> 4 == 4 { 8 } else { 7 };
    quote[ttl_at] = quoted_ttl;
    quote
}

/// The row as caracal writes it, round 1 (the command line's own writer is checked against this formatting).
fn csv(row: &Row) -> String {
    let labels: Vec<String> = row
        .reply_mpls_labels
        .iter()
        .map(|l| format!("({},{},{},{})", l.label, l.tc, u8::from(l.bottom), l.ttl))
        .collect();
    format!(
        "{},{},{},{},{},{},{},{},{},{},{},{},{},{},\"[{}]\",{},1\n",
        row.capture_timestamp / 1_000_000,
        row.probe_protocol,
        row.probe_src_addr,
        row.probe_dst_addr,
        row.probe_src_port,
        row.probe_dst_port,
        row.probe_ttl,
        row.quoted_ttl,
        row.reply_src_addr,
        row.reply_protocol,
        row.reply_icmp_type,
        row.reply_icmp_code,
        row.reply_ttl,
        row.reply_size,
        labels.join(","),
        row.rtt
    )
}

fn v4(bytes: &[u8], capture: u64) -> Result<Row, Rejection> {
    decode(Arrival::V4(bytes), capture, CHECK)
}

fn v6(message: &[u8], from: Ipv6Addr, to: Ipv6Addr, hop_limit: u8, capture: u64) -> Result<Row, Rejection> {
    decode(Arrival::V6 { message, from, to, hop_limit }, capture, CHECK)
}

#[test]
fn caracal_icmp_ttl_exceeded() {
    let capture = 1_613_155_623_845_580;
    let probe = probe("8.8.8.8,24000,33434,6,icmp", "192.168.1.5", capture, 66);
    assert_eq!(probe.len(), 36);
    let quote = quote(&probe, 28, 1);
    let reply =
        ipv4("72.14.204.68", "192.168.1.5", 250, Icmpv4Repr::TimeExceeded { code: 0, quote: &quote, extensions: None });
    assert_eq!(
        csv(&v4(&reply, capture).unwrap()),
        "1613155623,1,::ffff:192.168.1.5,::ffff:8.8.8.8,24000,0,6,1,::ffff:72.14.204.68,1,11,0,250,56,\"[]\",66,1\n"
    );
}

#[test]
fn caracal_icmp_ttl_exceeded_with_mpls() {
    let capture = 1_638_522_471_773_669;
    let probe = probe("65.83.239.127,24000,0,12,icmp", "132.227.123.8", capture, 553);
    assert_eq!(probe.len(), 42);
    let quote = quote(&probe, probe.len(), 2);
    let labels = [
        MplsLabel { label: 29657, tc: 0, bottom: false, ttl: 1 },
        MplsLabel { label: 25437, tc: 0, bottom: true, ttl: 1 },
    ];
    let extensions = ExtensionsBuilder::new().mpls(&labels).build();
    let icmp = Icmpv4Repr::TimeExceeded { code: 0, quote: &quote, extensions: Some(&extensions) };
    let reply = ipv4("12.122.28.42", "132.227.123.8", 239, icmp);
    let row = v4(&reply, capture).unwrap();
    assert_eq!(
        csv(&row),
        "1638522471,1,::ffff:132.227.123.8,::ffff:65.83.239.127,24000,0,12,2,::ffff:12.122.28.42,1,11,0,239,172,\
         \"[(29657,0,0,1),(25437,0,1,1)]\",553,1\n"
    );
    assert!(row.is_time_exceeded() && !row.from_destination());
}

#[test]
fn caracal_icmp_echo_reply() {
    let capture = 1_613_155_697_130_290;
    let probe = probe("8.8.8.8,24000,0,10,icmp", "192.168.1.5", capture, 69);
    let request = Icmpv4Repr::parse(&Icmpv4Packet::new_checked(&probe[20..]).unwrap()).unwrap();
    let Icmpv4Repr::EchoRequest { ident, seq_no, data } = request else { panic!("{request:?}") };
    let reply = ipv4("8.8.8.8", "192.168.1.5", 117, Icmpv4Repr::EchoReply { ident, seq_no, data });
    let row = v4(&reply, capture).unwrap();
    assert_eq!(
        csv(&row),
        "1613155697,1,::ffff:192.168.1.5,::ffff:8.8.8.8,24000,0,10,0,::ffff:8.8.8.8,1,0,0,117,40,\"[]\",69,1\n"
    );
    assert!(row.from_destination());
}

const V6_US: &str = "2a04:8ec0:0:164:620c:e59a:daf8:21e9";

#[test]
fn caracal_icmp6_ttl_exceeded() {
    let capture = 1_615_987_564_867_543;
    let probe = probe("2001:4860:4860::8888,24000,0,2,icmp6", V6_US, capture, 6);
    let quote = quote(&probe, probe.len(), 1);
    let (router, us) = ("2a04:8ec0:0:a::1:119".parse().unwrap(), V6_US.parse().unwrap());
    let reply = icmpv6(router, us, Icmpv6Repr::TimeExceeded { code: 0, quote: &quote, extensions: None });
    assert_eq!(
        csv(&v6(&reply, router, us, 63, capture).unwrap()),
        format!(
            "1615987564,58,{V6_US},2001:4860:4860::8888,24000,0,2,1,2a04:8ec0:0:a::1:119,58,3,0,63,60,\"[]\",6,1\n"
        )
    );
}

#[test]
fn caracal_icmp6_echo_reply() {
    let capture = 1_615_987_338_565_191;
    let probe = probe("2001:4860:4860::8888,24000,0,8,icmp6", V6_US, capture, 13);
    let (target, us): (Ipv6Addr, Ipv6Addr) = ("2001:4860:4860::8888".parse().unwrap(), V6_US.parse().unwrap());
    let request = Icmpv6Repr::parse(&Icmpv6Packet::new_checked(&probe[40..]).unwrap(), &us, &target).unwrap();
    let Icmpv6Repr::EchoRequest { ident, seq_no, data } = request else { panic!("{request:?}") };
    let reply = icmpv6(target, us, Icmpv6Repr::EchoReply { ident, seq_no, data });
    assert_eq!(
        csv(&v6(&reply, target, us, 118, capture).unwrap()),
        format!(
            "1615987338,58,{V6_US},2001:4860:4860::8888,24000,0,8,0,2001:4860:4860::8888,58,129,0,118,18,\"[]\",13,1\n"
        )
    );
}

#[test]
fn caracal_udp_ttl_exceeded() {
    let capture = 1_613_155_487_934_429;
    let probe = probe("8.8.8.8,24000,33434,6,udp", "192.168.1.5", capture, 83);
    let quote = quote(&probe, 28, 1);
    let reply =
        ipv4("72.14.204.68", "192.168.1.5", 250, Icmpv4Repr::TimeExceeded { code: 0, quote: &quote, extensions: None });
    assert_eq!(
        csv(&v4(&reply, capture).unwrap()),
        "1613155487,17,::ffff:192.168.1.5,::ffff:8.8.8.8,24000,33434,6,1,::ffff:72.14.204.68,1,11,0,250,56,\"[]\",83,1\n"
    );
}

#[test]
fn caracal_udp_icmp6_ttl_exceeded() {
    let capture = 1_615_987_632_702_320;
    let probe = probe("2001:4860:4860::8888,24000,33434,2,udp", V6_US, capture, 6);
    let quote = quote(&probe, probe.len(), 1);
    let (router, us) = ("2a04:8ec0:0:a::1:119".parse().unwrap(), V6_US.parse().unwrap());
    let reply = icmpv6(router, us, Icmpv6Repr::TimeExceeded { code: 0, quote: &quote, extensions: None });
    assert_eq!(
        csv(&v6(&reply, router, us, 63, capture).unwrap()),
        format!(
            "1615987632,17,{V6_US},2001:4860:4860::8888,24000,33434,2,1,2a04:8ec0:0:a::1:119,58,3,0,63,60,\"[]\",6,1\n"
        )
    );
}

#[test]
fn forged_replies_are_rejected_unless_the_check_is_off() {
    let capture = 1_700_000_000_000_000;
    // IPv4: another identification in the quote.
    let probe4 = probe("198.18.1.1,24000,33434,5,udp", "198.18.0.1", capture, 10);
    let mut forged = quote(&probe4, 28, 1);
    forged[4] ^= 0x40;
    let reply =
        ipv4("198.18.0.2", "198.18.0.1", 64, Icmpv4Repr::TimeExceeded { code: 0, quote: &forged, extensions: None });
    assert_eq!(v4(&reply, capture), Err(Rejection::Integrity));
    let unchecked = decode(Arrival::V4(&reply), capture, Check { integrity: false, ..CHECK }).unwrap();
    assert_eq!(unchecked.probe_ttl, 5);
    // Another caracal id tags differently.
    let genuine = ipv4(
        "198.18.0.2",
        "198.18.0.1",
        64,
        Icmpv4Repr::TimeExceeded { code: 0, quote: &quote(&probe4, 28, 1), extensions: None },
    );
    assert!(v4(&genuine, capture).is_ok());
    assert_eq!(
        decode(Arrival::V4(&genuine), capture, Check { caracal_id: ID + 1, integrity: true }),
        Err(Rejection::Integrity)
    );
    // IPv6: the payload's tag bytes changed.
    let probe6 = probe("2001:db8::9,24000,33434,5,udp", "2001:db8::1", capture, 10);
    let mut forged = quote(&probe6, probe6.len(), 1);
    forged[40 + 8 + 3] ^= 1;
    let (router, us) = ("2001:db8::2".parse().unwrap(), "2001:db8::1".parse().unwrap());
    let reply = icmpv6(router, us, Icmpv6Repr::TimeExceeded { code: 0, quote: &forged, extensions: None });
    assert_eq!(v6(&reply, router, us, 64, capture), Err(Rejection::Integrity));
    // A TTL changed in the length changes the tag too.
    let mut longer = quote(&probe6, probe6.len(), 1);
    longer[40 + 5] += 1; // the UDP length: the TTL it says is one more
    longer.push(0);
    let reply = icmpv6(router, us, Icmpv6Repr::TimeExceeded { code: 0, quote: &longer, extensions: None });
    assert_eq!(v6(&reply, router, us, 64, capture), Err(Rejection::Integrity));
}

/// Replies that stop before the tag bytes say nothing of the prober: Echo Replies of 0, 1 and 2 payload bytes
/// (probe TTLs 254, 255 and 0), an ICMPv6 error quoting the probe's UDP header only, an empty ICMPv6 Echo Reply.
/// Anyone can send them for probes never sent: they are untagged, and give rows only with the check off.
#[test]
fn replies_too_short_to_carry_the_tag_are_untagged() {
    let capture = 1_700_000_000_000_000;
    let unchecked = Check { integrity: false, ..CHECK };
    for len in 0..=2 {
        let data = vec![0; len];
        let reply =
            ipv4("198.18.1.1", "198.18.0.1", 64, Icmpv4Repr::EchoReply { ident: 24000, seq_no: 7, data: &data });
        assert_eq!(v4(&reply, capture), Err(Rejection::Untagged), "{len} bytes");
        let row = decode(Arrival::V4(&reply), capture, unchecked).unwrap();
        assert_eq!(row.probe_ttl, (len as u8).wrapping_sub(2));
    }
    let (router, us, target) =
        ("2001:db8::2".parse().unwrap(), "2001:db8::1".parse().unwrap(), "2001:db8::9".parse().unwrap());
    let probe6 = probe("2001:db8::9,24000,33434,5,udp", "2001:db8::1", capture, 10);
    let short = quote(&probe6, 48, 1);
    let reply = icmpv6(router, us, Icmpv6Repr::TimeExceeded { code: 0, quote: &short, extensions: None });
    assert_eq!(v6(&reply, router, us, 64, capture), Err(Rejection::Untagged));
    let row = decode(Arrival::V6 { message: &reply, from: router, to: us, hop_limit: 64 }, capture, unchecked);
    assert_eq!(row.unwrap().probe_ttl, 5);
    let empty = icmpv6(target, us, Icmpv6Repr::EchoReply { ident: 24000, seq_no: 7, data: &[] });
    assert_eq!(v6(&empty, target, us, 64, capture), Err(Rejection::Untagged));
    // One tag byte is enough for a probe of TTL 1, which carries no more.
    let probe1 = probe("198.18.1.1,24000,0,1,icmp", "198.18.0.1", capture, 10);
    let request = Icmpv4Repr::parse(&Icmpv4Packet::new_checked(&probe1[20..]).unwrap()).unwrap();
    let Icmpv4Repr::EchoRequest { ident, seq_no, data } = request else { panic!("{request:?}") };
    assert_eq!(data.len(), 3);
    let reply = ipv4("198.18.1.1", "198.18.0.1", 64, Icmpv4Repr::EchoReply { ident, seq_no, data });
    assert_eq!(v4(&reply, capture).unwrap().probe_ttl, 1);
}

#[test]
fn other_messages_are_unrelated() {
    let probe = probe("198.18.1.1,7,0,3,icmp", "198.18.0.1", 1_000_000, 0);
    // Our own Echo Request, looped back to the raw socket.
    assert_eq!(v4(&probe, 1_000_000), Err(Rejection::Unrelated));
    assert_eq!(v4(&[0x45, 0, 0], 0), Err(Rejection::Malformed));
}

fn spec_strategy() -> impl Strategy<Value = (ProbeSpec, IpAddr)> {
    let v4 = (any::<u32>(), any::<u32>(), prop_oneof![Just("icmp"), Just("udp")])
        .prop_map(|(d, s, p)| (IpAddr::V4(Ipv4Addr::from(d)), IpAddr::V4(Ipv4Addr::from(s)), p));
    let v6 = (any::<u128>(), any::<u128>(), prop_oneof![Just("icmp6"), Just("udp")])
        .prop_map(|(d, s, p)| (IpAddr::V6(Ipv6Addr::from(d)), IpAddr::V6(Ipv6Addr::from(s)), p));
    (prop_oneof![v4, v6], any::<u16>(), any::<u16>(), 1..=255u8, 0..1u32 << 20).prop_filter_map(
        "not an IPv4-mapped destination",
        |((dst, src, protocol), sport, dport, ttl, label)| {
            let line = format!("{dst},{sport},{dport},{ttl},{protocol},{label}");
            ProbeSpec::parse(&line).ok().filter(|spec| spec.dst == dst).map(|spec| (spec, src))
        },
    )
}

proptest! {
    /// Whatever the probe, a router's Time Exceeded (quoting the whole probe or, for IPv4, 8 bytes of it) and the
    /// destination's Echo Reply decode back to its fields and send time.
    #[test]
    fn every_probe_decodes_from_its_replies((spec, src) in spec_strategy(), sent in 1u64 << 40..1u64 << 52, rtt in 0u64..60_000) {
        let mut buf = [0; MAX_PROBE_LEN];
        let stamp = timestamp(tenth_ms(sent));
        let len = encode(&spec, src, ID, stamp, &mut buf);
        let probe = &buf[..len];
        let capture = sent - sent % 100 + rtt * 100;
        let router = if src.is_ipv4() { "198.18.9.9".parse().unwrap() } else { "2001:db8::99".parse().unwrap() };
        let mut replies = vec![];
        for quoted in [len, 28] {
            let quote = quote(probe, quoted, 1);
            replies.push(match (src, router) {
                (IpAddr::V4(s), IpAddr::V4(r)) => {
                    let icmp = Icmpv4Repr::TimeExceeded { code: 0, quote: &quote, extensions: None };
                    (ipv4(&r.to_string(), &s.to_string(), 60, icmp), router, 1)
                }
                (IpAddr::V6(s), IpAddr::V6(r)) if quoted == len => {
                    (icmpv6(r, s, Icmpv6Repr::TimeExceeded { code: 0, quote: &quote, extensions: None }), router, 1)
                }
                _ => continue,
            });
        }
        if spec.protocol != hoptrace_engine::bulk::Protocol::Udp {
            replies.push(match (src, spec.dst) {
                (IpAddr::V4(s), IpAddr::V4(d)) => {
                    let data = &probe[28..];
                    let icmp = Icmpv4Repr::EchoReply { ident: spec.src_port, seq_no: stamp, data };
                    (ipv4(&d.to_string(), &s.to_string(), 60, icmp), spec.dst, 0)
                }
                (IpAddr::V6(s), IpAddr::V6(d)) => {
                    let data = &probe[48..];
                    (icmpv6(d, s, Icmpv6Repr::EchoReply { ident: spec.src_port, seq_no: stamp, data }), spec.dst, 0)
                }
                _ => unreachable!(),
            });
        }
        for (reply, from, quoted_ttl) in replies {
            let row = match (src, from) {
                (IpAddr::V6(s), IpAddr::V6(f)) => v6(&reply, f, s, 60, capture),
                _ => v4(&reply, capture),
            }.unwrap();
            prop_assert_eq!(row.probe_dst_addr, packet::ip::to_v6(spec.dst));
            prop_assert_eq!(row.probe_src_addr, packet::ip::to_v6(src));
            prop_assert_eq!(row.reply_src_addr, packet::ip::to_v6(from));
            prop_assert_eq!(row.probe_src_port, spec.src_port);
            let dst_port = if spec.protocol == hoptrace_engine::bulk::Protocol::Udp { spec.dst_port } else { 0 };
            prop_assert_eq!(row.probe_dst_port, dst_port);
            prop_assert_eq!(row.probe_protocol, spec.protocol.number());
            prop_assert_eq!(row.probe_ttl, spec.ttl);
            prop_assert_eq!(row.quoted_ttl, quoted_ttl);
            prop_assert_eq!(u64::from(row.rtt), rtt % 65_535);
        }
    }

    /// Decoding never panics on arbitrary bytes.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), hop in any::<u8>()) {
        let _ = v4(&bytes, 1);
        let _ = v6(&bytes, Ipv6Addr::LOCALHOST, Ipv6Addr::LOCALHOST, hop, 1);
    }
}
