//! Property tests: arbitrary bytes never make a view, parser or getter panic.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hoptrace_packet::ext::{ICMPV4_UNIT, ICMPV6_UNIT};
use hoptrace_packet::*;
use proptest::prelude::*;

const A4: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
const B4: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7));
const A6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
const B6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);

fn ipv4(b: &[u8]) {
    let _ = Ipv4Repr::parse(&Ipv4Packet::new_unchecked(b));
    if let Ok(p) = Ipv4Packet::new_checked(b) {
        let _ = (p.version(), p.header_len(), p.tos(), p.dscp(), p.ecn(), p.total_len());
        let _ = (p.ident(), p.dont_frag(), p.more_frags(), p.frag_offset(), p.ttl());
        let _ = (p.next_header(), p.checksum(), p.src_addr(), p.dst_addr());
        let _ = (p.options(), p.verify_checksum(), p.payload());
        let _ = Ipv4Repr::parse(&p);
        let mut owned = b.to_vec();
        let mut m = Ipv4Packet::new_checked(&mut owned[..]).unwrap();
        m.fill_checksum();
        let _ = m.payload_mut();
        let _ = Ipv4Repr::parse(&Ipv4Packet::new_unchecked(&owned[..]));
    }
}

fn ipv6(b: &[u8]) {
    let _ = Ipv6Repr::parse(&Ipv6Packet::new_unchecked(b));
    if let Ok(p) = Ipv6Packet::new_checked(b) {
        let _ = (p.version(), p.traffic_class(), p.flow_label(), p.payload_len());
        let _ = (p.next_header(), p.hop_limit(), p.src_addr(), p.dst_addr(), p.payload());
        let _ = Ipv6Repr::parse(&p);
    }
}

fn udp(b: &[u8]) {
    let _ = UdpRepr::parse(&UdpPacket::new_unchecked(b), &A4, &B4);
    if let Ok(p) = UdpPacket::new_checked(b) {
        let _ = (p.src_port(), p.dst_port(), p.len(), p.is_empty(), p.checksum(), p.payload());
        let _ = UdpRepr::parse(&p, &A4, &B4);
        let _ = UdpRepr::parse(&p, &IpAddr::V6(A6), &IpAddr::V6(B6));
        let _ = UdpRepr::parse(&p, &A4, &IpAddr::V6(B6));
        let mut owned = b.to_vec();
        UdpPacket::new_checked(&mut owned[..]).unwrap().fill_checksum(&A4, &B4);
        let p = UdpPacket::new_checked(&owned[..]).unwrap();
        assert!(UdpRepr::parse(&p, &A4, &B4).is_ok());
    }
}

fn tcp(b: &[u8]) {
    let _ = TcpRepr::parse(&TcpPacket::new_unchecked(b), &A4, &B4);
    if let Ok(p) = TcpPacket::new_checked(b) {
        let _ = (p.src_port(), p.dst_port(), p.seq_number(), p.ack_number(), p.header_len());
        let _ = (p.flags(), p.window_len(), p.checksum(), p.urgent_at(), p.options());
        let _ = (p.payload(), p.mss(), format!("{:?}", p.flags()));
        let _ = TcpRepr::parse(&p, &A4, &B4);
        // With a valid checksum the option parser is reached.
        let mut owned = b.to_vec();
        TcpPacket::new_checked(&mut owned[..]).unwrap().fill_checksum(&A4, &B4);
        let _ = TcpRepr::parse(&TcpPacket::new_checked(&owned[..]).unwrap(), &A4, &B4);
    }
}

fn icmpv4(b: &[u8]) {
    let _ = Icmpv4Repr::parse(&Icmpv4Packet::new_unchecked(b));
    if let Ok(p) = Icmpv4Packet::new_checked(b) {
        let _ = (p.msg_type(), p.msg_code(), p.checksum(), p.echo_ident(), p.echo_seq_no());
        let _ = (p.next_hop_mtu(), p.rfc4884_length(), p.rest_of_header(), p.data());
        let _ = (p.payload(), p.verify_checksum(), Icmpv4Repr::parse(&p));
        let mut owned = b.to_vec();
        Icmpv4Packet::new_checked(&mut owned[..]).unwrap().fill_checksum();
        let p = Icmpv4Packet::new_checked(&owned[..]).unwrap();
        let r = Icmpv4Repr::parse(&p).unwrap();
        // Re-emitting what we parsed must also be safe.
        let mut out = vec![0u8; r.buffer_len()];
        r.emit(&mut Icmpv4Packet::new_unchecked(&mut out[..]));
        if let Icmpv4Repr::TimeExceeded { quote, extensions, .. }
        | Icmpv4Repr::DstUnreachable { quote, extensions, .. } = r
        {
            quote_and_ext(quote, extensions);
        }
    }
}

fn icmpv6(b: &[u8]) {
    let _ = Icmpv6Repr::parse(&Icmpv6Packet::new_unchecked(b), &A6, &B6);
    let _ = Icmpv6Repr::parse_unverified(&Icmpv6Packet::new_unchecked(b));
    if let Ok(p) = Icmpv6Packet::new_checked(b) {
        let _ = (p.msg_type(), p.msg_code(), p.checksum(), p.echo_ident(), p.echo_seq_no());
        let _ = (p.mtu(), p.rfc4884_length(), p.rest_of_header(), p.data(), p.payload());
        let _ = (p.verify_checksum(&A6, &B6), Icmpv6Repr::parse(&p, &A6, &B6));
        let r = Icmpv6Repr::parse_unverified(&p).unwrap();
        let mut out = vec![0u8; r.buffer_len()];
        r.emit(&A6, &B6, &mut Icmpv6Packet::new_unchecked(&mut out[..]));
        if let Icmpv6Repr::TimeExceeded { quote, extensions, .. }
        | Icmpv6Repr::DstUnreachable { quote, extensions, .. } = r
        {
            quote_and_ext(quote, extensions);
        }
    }
}

fn quote_and_ext(quote: &[u8], ext: Option<&[u8]>) {
    let _ = QuotedDatagram::parse(quote);
    if let Some(e) = ext {
        extensions(e);
    }
}

fn extensions(b: &[u8]) {
    if let Ok(e) = Extensions::parse(b) {
        let _ = (e.as_bytes(), e.checksum());
        let n = e.objects().count();
        assert!(n <= b.len() / 4 + 1, "objects iterator must terminate");
        let _ = e.mpls_labels().count();
    }
}

fn everything(b: &[u8], length: u8) {
    ipv4(b);
    ipv6(b);
    udp(b);
    tcp(b);
    icmpv4(b);
    icmpv6(b);
    let _ = QuotedDatagram::parse(b);
    extensions(b);
    for unit in [ICMPV4_UNIT, ICMPV6_UNIT] {
        let (q, e) = split_rfc4884(b, length, unit);
        assert!(q.len() + e.map_or(0, <[u8]>::len) <= b.len());
        let (q, e) = split_rfc4884(b, 0, unit);
        quote_and_ext(q, e);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes(b in proptest::collection::vec(any::<u8>(), 0..2000), length in any::<u8>()) {
        everything(&b, length);
    }

    /// Bytes that start like a plausible header reach deeper code paths.
    #[test]
    fn plausible_prefixes(first in prop_oneof![Just(0x45u8), Just(0x46), Just(0x4f), Just(0x60), Just(0x20)],
                          b in proptest::collection::vec(any::<u8>(), 0..300), length in any::<u8>()) {
        let mut v = vec![first];
        v.extend_from_slice(&b);
        everything(&v, length);
        // Extension structure with a valid checksum at the legacy offset.
        let mut payload = vec![0u8; 128];
        payload.push(0x20);
        payload.extend_from_slice(&b);
        if payload.len() >= 132 {
            payload[130] = 0;
            payload[131] = 0;
            let c = !checksum::data(&payload[128..]);
            payload[130..132].copy_from_slice(&c.to_be_bytes());
            everything(&payload, 0);
        }
    }
}
