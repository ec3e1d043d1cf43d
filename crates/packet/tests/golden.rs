//! Golden byte arrays: parse gives the expected repr, emit gives the exact
//! bytes. The arrays in `golden/vectors.rs` come from `golden/gen.py`, an
//! independent Python implementation of the checksums.
//!
//! Hand cross-check of the IPv4 header checksum of `IPV4_UDP_PROBE`:
//! 4500+003c+1234+4000+0511+0000+c000+0201+c633+6407 = 0x288bc,
//! folded 0x88bc+0x2 = 0x88be, complemented = 0x7741 (bytes 10-11).

#[path = "golden/vectors.rs"]
mod vectors;

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hoptrace_packet::*;
use vectors::*;

const SRC4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const DST4: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);
const SRC6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
const DST6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);
const RTR6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 9);

fn v4(a: Ipv4Addr) -> IpAddr {
    IpAddr::V4(a)
}
fn v6(a: Ipv6Addr) -> IpAddr {
    IpAddr::V6(a)
}

#[test]
fn ipv4_udp_probe() {
    let ip = Ipv4Packet::new_checked(IPV4_UDP_PROBE).unwrap();
    assert_eq!(ip.checksum(), 0x7741);
    let repr = Ipv4Repr::parse(&ip).unwrap();
    assert_eq!(
        repr,
        Ipv4Repr {
            src_addr: SRC4,
            dst_addr: DST4,
            next_header: IpProtocol::Udp,
            payload_len: 40,
            ttl: 5,
            tos: 0,
            ident: 0x1234,
            dont_frag: true,
        }
    );
    let udp = UdpPacket::new_checked(ip.payload()).unwrap();
    let urepr = UdpRepr::parse(&udp, &v4(SRC4), &v4(DST4)).unwrap();
    assert_eq!(urepr, UdpRepr { src_port: 32434, dst_port: 33439 });
    assert_eq!(udp.payload(), &IPV4_UDP_PROBE[28..]);

    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Ipv4Packet::new_unchecked(&mut buf[..]));
    let mut ipm = Ipv4Packet::new_unchecked(&mut buf[..]);
    let payload = &IPV4_UDP_PROBE[28..];
    urepr.emit(&mut UdpPacket::new_unchecked(ipm.payload_mut()), &v4(SRC4), &v4(DST4), payload);
    assert_eq!(buf, IPV4_UDP_PROBE);
}

#[test]
fn ipv6_udp_probe() {
    let ip = Ipv6Packet::new_checked(IPV6_UDP_PROBE).unwrap();
    let repr = Ipv6Repr::parse(&ip).unwrap();
    assert_eq!(
        repr,
        Ipv6Repr {
            src_addr: SRC6,
            dst_addr: DST6,
            next_header: IpProtocol::Udp,
            payload_len: 20,
            hop_limit: 64,
            traffic_class: 0x28,
            flow_label: 0x12345,
        }
    );
    let udp = UdpPacket::new_checked(ip.payload()).unwrap();
    let urepr = UdpRepr::parse(&udp, &v6(SRC6), &v6(DST6)).unwrap();
    assert_eq!(urepr, UdpRepr { src_port: 50000, dst_port: 33434 });
    assert_eq!(udp.payload(), b"hoptrace-v6!");

    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Ipv6Packet::new_unchecked(&mut buf[..]));
    let mut ipm = Ipv6Packet::new_unchecked(&mut buf[..]);
    urepr.emit(&mut UdpPacket::new_unchecked(ipm.payload_mut()), &v6(SRC6), &v6(DST6), b"hoptrace-v6!");
    assert_eq!(buf, IPV6_UDP_PROBE);

    // Corrupting one payload byte breaks the checksum.
    let mut bad = IPV6_UDP_PROBE.to_vec();
    bad[59] ^= 0x01;
    let ip = Ipv6Packet::new_checked(&bad[..]).unwrap();
    let udp = UdpPacket::new_checked(ip.payload()).unwrap();
    assert_eq!(UdpRepr::parse(&udp, &v6(SRC6), &v6(DST6)), Err(Error::Checksum));
}

fn tcp_case(bytes: &[u8], src: IpAddr, dst: IpAddr, expect: TcpRepr) {
    let p = TcpPacket::new_checked(bytes).unwrap();
    let repr = TcpRepr::parse(&p, &src, &dst).unwrap();
    assert_eq!(repr, expect);
    let mut buf = vec![0u8; repr.buffer_len(0)];
    repr.emit(&mut TcpPacket::new_unchecked(&mut buf[..]), &src, &dst, &[]);
    assert_eq!(buf, bytes);
}

#[test]
fn tcp_syn_synack_rst() {
    tcp_case(
        TCP_SYN,
        v4(SRC4),
        v4(DST4),
        TcpRepr {
            src_port: 40000,
            dst_port: 80,
            seq: 0x1122_3344,
            ack: 0,
            flags: TcpFlags::SYN,
            window: 64240,
            mss: Some(1460),
        },
    );
    tcp_case(
        TCP_SYN_ACK,
        v4(DST4),
        v4(SRC4),
        TcpRepr {
            src_port: 80,
            dst_port: 40000,
            seq: 0xa0b0_c0d0,
            ack: 0x1122_3345,
            flags: TcpFlags::SYN | TcpFlags::ACK,
            window: 65160,
            mss: Some(1400),
        },
    );
    tcp_case(
        TCP_RST_V6,
        v6(DST6),
        v6(SRC6),
        TcpRepr {
            src_port: 443,
            dst_port: 40001,
            seq: 0,
            ack: 0x5566_7788,
            flags: TcpFlags::RST | TcpFlags::ACK,
            window: 0,
            mss: None,
        },
    );
    let p = TcpPacket::new_checked(TCP_SYN_ACK).unwrap();
    assert!(p.flags().contains(TcpFlags::SYN));
    assert!(!p.flags().contains(TcpFlags::RST));
    assert_eq!(TcpRepr::parse(&p, &v4(DST4), &v4(Ipv4Addr::new(192, 0, 2, 2))), Err(Error::Checksum));
}

fn icmp4_case(bytes: &[u8], expect: Icmpv4Repr<'_>) {
    let p = Icmpv4Packet::new_checked(bytes).unwrap();
    let repr = Icmpv4Repr::parse(&p).unwrap();
    assert_eq!(repr, expect);
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Icmpv4Packet::new_unchecked(&mut buf[..]));
    assert_eq!(buf, bytes);
}

#[test]
fn icmpv4_echo() {
    let echo = |req| {
        let (ident, seq_no, data) = (0x4242, 1, &b"hoptrace"[..]);
        if req {
            Icmpv4Repr::EchoRequest { ident, seq_no, data }
        } else {
            Icmpv4Repr::EchoReply { ident, seq_no, data }
        }
    };
    icmp4_case(ICMP4_ECHO_REQUEST, echo(true));
    icmp4_case(ICMP4_ECHO_REPLY, echo(false));
    let mut bad = ICMP4_ECHO_REPLY.to_vec();
    bad[9] ^= 0x80;
    let p = Icmpv4Packet::new_checked(&bad[..]).unwrap();
    assert_eq!(Icmpv4Repr::parse(&p), Err(Error::Checksum));
}

#[test]
fn icmpv4_errors() {
    icmp4_case(ICMP4_TIME_EXCEEDED, Icmpv4Repr::TimeExceeded { code: 0, quote: QUOTE4, extensions: None });
    let du = |code, next_hop_mtu| Icmpv4Repr::DstUnreachable { code, next_hop_mtu, quote: QUOTE4, extensions: None };
    icmp4_case(ICMP4_PORT_UNREACH, du(Icmpv4Unreachable::PortUnreachable, 0));
    icmp4_case(ICMP4_FRAG_NEEDED, du(Icmpv4Unreachable::FragRequired, 1400));
    icmp4_case(ICMP4_HOST_PROHIBITED, du(Icmpv4Unreachable::HostProhibited, 0));
    let p = Icmpv4Packet::new_checked(ICMP4_FRAG_NEEDED).unwrap();
    assert_eq!(p.next_hop_mtu(), 1400);

    // The quote decodes to our probe.
    let q = QuotedDatagram::parse(QUOTE4).unwrap();
    assert_eq!(q.ip.dst, v4(DST4));
    assert_eq!(q.ip.ttl, 1);
    assert_eq!(q.ip.checksum_valid, Some(true));
    assert_eq!(q.transport, Some(QuotedTransport::Udp { src_port: 32434, dst_port: 33439, len: 40, checksum: 0x1d0b }));
}

fn mpls_labels() -> [MplsLabel; 2] {
    [MplsLabel { label: 24001, tc: 0, bottom: false, ttl: 1 }, MplsLabel { label: 16, tc: 5, bottom: true, ttl: 1 }]
}

#[test]
fn icmpv4_time_exceeded_with_mpls() {
    let built = ExtensionsBuilder::new().mpls(&mpls_labels()).build();
    assert_eq!(built, MPLS_EXT);
    let mut padded = QUOTE4.to_vec();
    padded.resize(128, 0);
    // Compliant form: length field 32 words.
    icmp4_case(
        ICMP4_TIME_EXCEEDED_MPLS,
        Icmpv4Repr::TimeExceeded { code: 0, quote: &padded, extensions: Some(MPLS_EXT) },
    );
    // Emitting the unpadded quote yields the same bytes.
    let r = Icmpv4Repr::TimeExceeded { code: 0, quote: QUOTE4, extensions: Some(MPLS_EXT) };
    let mut buf = vec![0u8; r.buffer_len()];
    r.emit(&mut Icmpv4Packet::new_unchecked(&mut buf[..]));
    assert_eq!(buf, ICMP4_TIME_EXCEEDED_MPLS);

    let p = Icmpv4Packet::new_checked(ICMP4_TIME_EXCEEDED_MPLS).unwrap();
    assert_eq!(p.rfc4884_length(), 32);
    let Icmpv4Repr::TimeExceeded { extensions: Some(e), quote, .. } = Icmpv4Repr::parse(&p).unwrap() else {
        panic!("no extensions")
    };
    let ext = Extensions::parse(e).unwrap();
    assert_eq!(ext.mpls_labels().collect::<Vec<_>>(), mpls_labels());
    let q = QuotedDatagram::parse(quote).unwrap();
    assert!(matches!(q.transport, Some(QuotedTransport::Udp { dst_port: 33439, .. })));

    // Legacy form: length 0, structure at offset 128 with a valid checksum.
    let p = Icmpv4Packet::new_checked(ICMP4_TIME_EXCEEDED_MPLS_LEGACY).unwrap();
    assert_eq!(p.rfc4884_length(), 0);
    let repr = Icmpv4Repr::parse(&p).unwrap();
    assert_eq!(repr, Icmpv4Repr::TimeExceeded { code: 0, quote: &padded, extensions: Some(MPLS_EXT) });
}

fn icmp6_case(bytes: &[u8], src: Ipv6Addr, dst: Ipv6Addr, expect: Icmpv6Repr<'_>) {
    let p = Icmpv6Packet::new_checked(bytes).unwrap();
    let repr = Icmpv6Repr::parse(&p, &src, &dst).unwrap();
    assert_eq!(repr, expect);
    assert_eq!(Icmpv6Repr::parse_unverified(&p).unwrap(), expect);
    // Wrong pseudo-header: checksum error, unless skipped.
    assert_eq!(Icmpv6Repr::parse(&p, &RTR6, &RTR6), Err(Error::Checksum));
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&src, &dst, &mut Icmpv6Packet::new_unchecked(&mut buf[..]));
    assert_eq!(buf, bytes);
}

#[test]
fn icmpv6_messages() {
    let data = &b"hoptrace"[..];
    icmp6_case(ICMP6_ECHO_REQUEST, SRC6, DST6, Icmpv6Repr::EchoRequest { ident: 0x4242, seq_no: 7, data });
    icmp6_case(ICMP6_ECHO_REPLY, DST6, SRC6, Icmpv6Repr::EchoReply { ident: 0x4242, seq_no: 7, data });
    icmp6_case(ICMP6_TIME_EXCEEDED, RTR6, SRC6, Icmpv6Repr::TimeExceeded { code: 0, quote: QUOTE6, extensions: None });
    icmp6_case(
        ICMP6_PORT_UNREACH,
        DST6,
        SRC6,
        Icmpv6Repr::DstUnreachable { code: Icmpv6Unreachable::PortUnreachable, quote: QUOTE6, extensions: None },
    );
    icmp6_case(ICMP6_PACKET_TOO_BIG, RTR6, SRC6, Icmpv6Repr::PacketTooBig { mtu: 1280, quote: QUOTE6 });
    assert_eq!(Icmpv6Packet::new_checked(ICMP6_PACKET_TOO_BIG).unwrap().mtu(), 1280);
}
