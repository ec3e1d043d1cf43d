//! Property tests: `parse(emit(x)) == x` for every repr, plus checksum
//! compensation (Paris traceroute).

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hoptrace_packet::ext::{ICMPV4_UNIT, ICMPV6_UNIT, MIN_QUOTE_LEN};
use hoptrace_packet::*;
use proptest::prelude::*;

fn ipv4() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>().prop_map(Ipv4Addr::from)
}
fn ipv6() -> impl Strategy<Value = Ipv6Addr> {
    any::<u128>().prop_map(Ipv6Addr::from)
}
fn addr_pair() -> impl Strategy<Value = (IpAddr, IpAddr)> {
    prop_oneof![
        (ipv4(), ipv4()).prop_map(|(a, b)| (IpAddr::V4(a), IpAddr::V4(b))),
        (ipv6(), ipv6()).prop_map(|(a, b)| (IpAddr::V6(a), IpAddr::V6(b))),
    ]
}
fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}
fn ext_bytes() -> impl Strategy<Value = Option<Vec<u8>>> {
    proptest::option::of(proptest::collection::vec(any::<u8>(), 1..200))
}

/// What the parser returns for a quote emitted with or without extensions.
fn expected_quote(quote: &[u8], has_ext: bool, unit: usize) -> Vec<u8> {
    let mut q = quote.to_vec();
    if has_ext {
        let len = q.len().div_ceil(unit).max(MIN_QUOTE_LEN / unit) * unit;
        q.resize(len, 0);
    }
    q
}

proptest! {
    #[test]
    fn ipv4_repr(src in ipv4(), dst in ipv4(), proto in any::<u8>(), payload_len in 0usize..1500,
                 ttl in any::<u8>(), tos in any::<u8>(), ident in any::<u16>(), df in any::<bool>()) {
        let repr = Ipv4Repr { src_addr: src, dst_addr: dst, next_header: proto.into(), payload_len,
                              ttl, tos, ident, dont_frag: df };
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Ipv4Packet::new_unchecked(&mut buf[..]));
        let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
        prop_assert_eq!(Ipv4Repr::parse(&p), Ok(repr));
    }

    #[test]
    fn ipv6_repr(src in ipv6(), dst in ipv6(), nh in any::<u8>(), payload_len in 0usize..1500,
                 hop in any::<u8>(), tc in any::<u8>(), flow in 0u32..(1 << 20)) {
        let repr = Ipv6Repr { src_addr: src, dst_addr: dst, next_header: nh.into(), payload_len,
                              hop_limit: hop, traffic_class: tc, flow_label: flow };
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Ipv6Packet::new_unchecked(&mut buf[..]));
        let p = Ipv6Packet::new_checked(&buf[..]).unwrap();
        prop_assert_eq!(Ipv6Repr::parse(&p), Ok(repr));
    }

    #[test]
    fn udp_repr((src, dst) in addr_pair(), sp in any::<u16>(), dp in any::<u16>(), payload in bytes(600)) {
        let repr = UdpRepr { src_port: sp, dst_port: dp };
        let mut buf = vec![0u8; repr.buffer_len(payload.len())];
        repr.emit(&mut UdpPacket::new_unchecked(&mut buf[..]), &src, &dst, &payload);
        let p = UdpPacket::new_checked(&buf[..]).unwrap();
        prop_assert_ne!(p.checksum(), 0);
        prop_assert_eq!(UdpRepr::parse(&p, &src, &dst), Ok(repr));
        prop_assert_eq!(p.payload(), &payload[..]);
    }

    #[test]
    fn tcp_repr((src, dst) in addr_pair(), sp in any::<u16>(), dp in any::<u16>(), seq in any::<u32>(),
                ack in any::<u32>(), flags in any::<u8>(), window in any::<u16>(),
                mss in proptest::option::of(any::<u16>()), payload in bytes(100)) {
        let repr = TcpRepr { src_port: sp, dst_port: dp, seq, ack, flags: TcpFlags(flags), window, mss };
        let mut buf = vec![0u8; repr.buffer_len(payload.len())];
        repr.emit(&mut TcpPacket::new_unchecked(&mut buf[..]), &src, &dst, &payload);
        let p = TcpPacket::new_checked(&buf[..]).unwrap();
        prop_assert_eq!(TcpRepr::parse(&p, &src, &dst), Ok(repr));
        prop_assert_eq!(p.payload(), &payload[..]);
    }

    #[test]
    fn icmpv4_echo_and_other(kind in 0u8..3, ident in any::<u16>(), seq_no in any::<u16>(),
                             other_type in any::<u8>().prop_filter("known", |t| ![0, 3, 8, 11].contains(t)),
                             code in any::<u8>(), rest in any::<[u8; 4]>(), data in bytes(300)) {
        let repr = match kind {
            0 => Icmpv4Repr::EchoRequest { ident, seq_no, data: &data },
            1 => Icmpv4Repr::EchoReply { ident, seq_no, data: &data },
            _ => Icmpv4Repr::Other { msg_type: other_type, code, rest_of_header: rest, data: &data },
        };
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Icmpv4Packet::new_unchecked(&mut buf[..]));
        let p = Icmpv4Packet::new_checked(&buf[..]).unwrap();
        prop_assert_eq!(Icmpv4Repr::parse(&p), Ok(repr));
    }

    #[test]
    fn icmpv4_errors(unreach in any::<bool>(), code in any::<u8>(), mtu in any::<u16>(),
                     quote in bytes(600), ext in ext_bytes()) {
        let extensions = ext.as_deref();
        let repr = if unreach {
            Icmpv4Repr::DstUnreachable { code: code.into(), next_hop_mtu: mtu, quote: &quote, extensions }
        } else {
            Icmpv4Repr::TimeExceeded { code, quote: &quote, extensions }
        };
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Icmpv4Packet::new_unchecked(&mut buf[..]));
        let p = Icmpv4Packet::new_checked(&buf[..]).unwrap();
        let q = expected_quote(&quote, extensions.is_some(), ICMPV4_UNIT);
        let expect = match repr {
            Icmpv4Repr::DstUnreachable { code, next_hop_mtu, .. } =>
                Icmpv4Repr::DstUnreachable { code, next_hop_mtu, quote: &q, extensions },
            _ => Icmpv4Repr::TimeExceeded { code, quote: &q, extensions },
        };
        prop_assert_eq!(Icmpv4Repr::parse(&p), Ok(expect));
    }

    #[test]
    fn icmpv6_all(src in ipv6(), dst in ipv6(), kind in 0u8..6, ident in any::<u16>(), seq_no in any::<u16>(),
                  other_type in any::<u8>().prop_filter("known", |t| ![1, 2, 3, 128, 129].contains(t)),
                  code in any::<u8>(), rest in any::<[u8; 4]>(), mtu in any::<u32>(),
                  data in bytes(600), ext in ext_bytes()) {
        let extensions = ext.as_deref();
        let q = expected_quote(&data, extensions.is_some(), ICMPV6_UNIT);
        let (repr, expect) = match kind {
            0 => { let r = Icmpv6Repr::EchoRequest { ident, seq_no, data: &data }; (r, r) }
            1 => { let r = Icmpv6Repr::EchoReply { ident, seq_no, data: &data }; (r, r) }
            2 => { let r = Icmpv6Repr::PacketTooBig { mtu, quote: &data }; (r, r) }
            3 => (Icmpv6Repr::DstUnreachable { code: code.into(), quote: &data, extensions },
                  Icmpv6Repr::DstUnreachable { code: code.into(), quote: &q, extensions }),
            4 => (Icmpv6Repr::TimeExceeded { code, quote: &data, extensions },
                  Icmpv6Repr::TimeExceeded { code, quote: &q, extensions }),
            _ => { let r = Icmpv6Repr::Other { msg_type: other_type, code, rest_of_header: rest, data: &data }; (r, r) }
        };
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&src, &dst, &mut Icmpv6Packet::new_unchecked(&mut buf[..]));
        let p = Icmpv6Packet::new_checked(&buf[..]).unwrap();
        prop_assert_eq!(Icmpv6Repr::parse(&p, &src, &dst), Ok(expect));
    }

    #[test]
    fn extensions_builder(objs in proptest::collection::vec((any::<u8>(), any::<u8>(), bytes(64)), 0..6),
                          labels in proptest::collection::vec(
                              (0u32..(1 << 20), 0u8..8, any::<bool>(), any::<u8>()), 0..5)) {
        let labels: Vec<MplsLabel> = labels.into_iter()
            .map(|(label, tc, bottom, ttl)| MplsLabel { label, tc, bottom, ttl }).collect();
        let mut b = ExtensionsBuilder::new();
        for (c, t, p) in &objs {
            b = b.object(*c, *t, p);
        }
        let built = b.mpls(&labels).build();
        let e = Extensions::parse(&built).unwrap();
        let got: Vec<_> = e.objects().collect::<Result<Vec<_>>>().unwrap();
        prop_assert_eq!(got.len(), objs.len() + 1);
        for (o, (c, t, p)) in got.iter().zip(&objs) {
            prop_assert_eq!((o.class_num, o.c_type, o.payload), (*c, *t, &p[..]));
        }
        // Arbitrary objects may themselves be MPLS objects; check the last.
        let last = got.last().unwrap();
        let from_last: Vec<MplsLabel> = last.payload.chunks_exact(4)
            .map(|c| MplsLabel::from_bytes([c[0], c[1], c[2], c[3]])).collect();
        prop_assert_eq!(from_last, labels.clone());
        prop_assert!(e.mpls_labels().count() >= labels.len());
        // The built structure is found at the legacy offset too.
        let mut payload = vec![0u8; 128];
        payload.extend_from_slice(&built);
        prop_assert_eq!(split_rfc4884(&payload, 0, ICMPV4_UNIT), (&payload[..128], Some(&built[..])));
    }

    #[test]
    fn compensate_udp((src, dst) in addr_pair(), payload in bytes(200), at in 0usize..100,
                      target in any::<u16>()) {
        let mut payload = payload;
        payload.resize(payload.len().max(at * 2 + 2), 0);
        let off = at * 2; // even offset inside the payload (header is 8 bytes)
        payload[off] = 0;
        payload[off + 1] = 0;
        let repr = UdpRepr { src_port: 1234, dst_port: 33434 };
        let mut buf = vec![0u8; repr.buffer_len(payload.len())];
        let len = u32::try_from(buf.len()).unwrap();
        repr.emit(&mut UdpPacket::new_unchecked(&mut buf[..]), &src, &dst, &payload);
        buf[6] = 0;
        buf[7] = 0;
        let cur = checksum::combine(&[checksum::pseudo_header(&src, &dst, 17, len), checksum::data(&buf)]);
        let fix = checksum::compensate(cur, target);
        payload[off..off + 2].copy_from_slice(&fix);
        repr.emit(&mut UdpPacket::new_unchecked(&mut buf[..]), &src, &dst, &payload);
        let p = UdpPacket::new_checked(&buf[..]).unwrap();
        prop_assert_eq!(p.checksum(), if target == 0 { 0xffff } else { target });
        prop_assert!(UdpRepr::parse(&p, &src, &dst).is_ok());
    }

    #[test]
    fn compensate_icmp(data in bytes(200), at in 0usize..199, target in any::<u16>()) {
        let mut data = data;
        data.resize(data.len().max(at + 2), 0);
        data[at] = 0;
        data[at + 1] = 0;
        let mut repr_data = data.clone();
        let mut buf = vec![0u8; 8 + data.len()];
        let r = Icmpv4Repr::EchoRequest { ident: 7, seq_no: 9, data: &data };
        r.emit(&mut Icmpv4Packet::new_unchecked(&mut buf[..]));
        buf[2] = 0;
        buf[3] = 0;
        let fix = checksum::compensate(checksum::data(&buf), target);
        // Offset `at` from the ICMP header start is 8 + at: swap when odd.
        let fix = if at % 2 == 0 { fix } else { [fix[1], fix[0]] };
        repr_data[at..at + 2].copy_from_slice(&fix);
        let r = Icmpv4Repr::EchoRequest { ident: 7, seq_no: 9, data: &repr_data };
        r.emit(&mut Icmpv4Packet::new_unchecked(&mut buf[..]));
        let p = Icmpv4Packet::new_checked(&buf[..]).unwrap();
        prop_assert_eq!(p.checksum(), if target == 0xffff { 0 } else { target });
        prop_assert_eq!(Icmpv4Repr::parse(&p), Ok(r));
    }
}
