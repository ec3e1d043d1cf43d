//! Quoted-datagram parsing on hand-assembled, real-world-like quotes.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hoptrace_packet::*;

/// IPv4 UDP probe as quoted by a router: header + 8 bytes, while the
/// header's total length still claims 60. TTL 1 when it expired, ident
/// 0xbeef, DF. The header checksum (0xce85) is the one for TTL 1:
/// 4500+003c+beef+4000+0111+c000+0201+c633+6407 = 0x33177,
/// folded 0x3177+0x3 = 0x317a, complemented 0xce85.
const QUOTE_V4: [u8; 28] = [
    0x45, 0x00, 0x00, 0x3c, 0xbe, 0xef, 0x40, 0x00, 0x01, 0x11, 0xce, 0x85, // ..checksum
    192, 0, 2, 1, 198, 51, 100, 7, // src, dst
    0x82, 0x9a, 0x82, 0x9b, 0x00, 0x28, 0x12, 0x34, // UDP 33434 -> 33435, len 40, cksum 0x1234
];

#[test]
fn ipv4_udp_truncated_quote() {
    let q = QuotedDatagram::parse(&QUOTE_V4).unwrap();
    assert_eq!(
        q.ip,
        QuotedIp {
            src: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            dst: IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7)),
            protocol: IpProtocol::Udp,
            ttl: 1,
            ident: Some(0xbeef),
            total_len: 60,
            tos: 0,
            flow_label: None,
            header_len: 20,
            frag_offset: 0,
            checksum_valid: Some(true),
        }
    );
    assert_eq!(q.transport, Some(QuotedTransport::Udp { src_port: 33434, dst_port: 33435, len: 40, checksum: 0x1234 }));
    assert_eq!(q.transport_bytes, &QUOTE_V4[20..]);

    // A router that rewrote the TTL without fixing the checksum still parses.
    let mut mangled = QUOTE_V4;
    mangled[8] = 0;
    let q = QuotedDatagram::parse(&mangled).unwrap();
    assert_eq!(q.ip.checksum_valid, Some(false));
    assert_eq!(q.ip.ttl, 0);
}

#[test]
fn fewer_than_eight_transport_bytes() {
    for cut in 20..28 {
        let q = QuotedDatagram::parse(&QUOTE_V4[..cut]).unwrap();
        assert_eq!(q.transport, None, "cut at {cut}");
        assert_eq!(q.transport_bytes.len(), cut - 20);
    }
    for cut in 0..20 {
        assert_eq!(QuotedDatagram::parse(&QUOTE_V4[..cut]), Err(Error::Truncated));
    }
}

#[test]
fn ipv4_with_options() {
    // IHL 6: one 4-byte option (NOP NOP NOP EOL), then a TCP SYN's first 8 bytes.
    let mut b = vec![
        0x46, 0x10, 0x00, 0x2c, 0x00, 0x01, 0x00, 0x00, 0x03, 0x06, 0x00, 0x00, 10, 0, 0, 1, 10, 0, 0, 2, 0x01, 0x01,
        0x01, 0x00, // options
        0x9c, 0x40, 0x01, 0xbb, 0xde, 0xad, 0xbe, 0xef, // TCP 40000 -> 443, seq
        0x50, 0x02, // more of the TCP header
    ];
    let q = QuotedDatagram::parse(&b).unwrap();
    assert_eq!(q.ip.header_len, 24);
    assert_eq!(q.ip.tos, 0x10);
    assert_eq!(q.ip.ttl, 3);
    assert_eq!(q.ip.checksum_valid, Some(false));
    assert_eq!(q.transport, Some(QuotedTransport::Tcp { src_port: 40000, dst_port: 443, seq: 0xdead_beef }));
    assert_eq!(q.transport_bytes.len(), 10);
    // The full header must be present: 22 bytes of a 24-byte header fail.
    assert_eq!(QuotedDatagram::parse(&b[..22]), Err(Error::Truncated));
    // IHL below 5 is malformed.
    b[0] = 0x44;
    assert_eq!(QuotedDatagram::parse(&b), Err(Error::Malformed));
}

#[test]
fn ipv4_icmp_echo_and_fragment() {
    let mut b = QUOTE_V4;
    b[9] = 1; // ICMP
    b[20..28].copy_from_slice(&[8, 0, 0xab, 0xcd, 0x12, 0x34, 0x00, 0x05]);
    let q = QuotedDatagram::parse(&b).unwrap();
    assert_eq!(
        q.transport,
        Some(QuotedTransport::Icmp { msg_type: 8, code: 0, checksum: 0xabcd, ident: 0x1234, seq: 5 })
    );
    // A non-first fragment has no transport header.
    b[6] = 0x00;
    b[7] = 0x10;
    let q = QuotedDatagram::parse(&b).unwrap();
    assert_eq!(q.ip.frag_offset, 128);
    assert_eq!(q.transport, None);
}

fn v6_header(next: u8, payload_len: u16) -> Vec<u8> {
    let mut b = vec![0x62, 0x81, 0x23, 0x45]; // tc 0x28, flow 0x12345
    b.extend_from_slice(&payload_len.to_be_bytes());
    b.extend_from_slice(&[next, 1]); // hop limit 1 at the quoting router
    b.extend_from_slice(&Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1).octets());
    b.extend_from_slice(&Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2).octets());
    b
}

const UDP8: [u8; 8] = [0xc3, 0x50, 0x82, 0x9a, 0x00, 0x14, 0x4c, 0x24];

#[test]
fn ipv6_udp_quote() {
    let mut b = v6_header(17, 20);
    b.extend_from_slice(&UDP8);
    b.extend_from_slice(b"hoptrace-v6!");
    let q = QuotedDatagram::parse(&b).unwrap();
    assert_eq!(
        q.ip,
        QuotedIp {
            src: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
            dst: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2)),
            protocol: IpProtocol::Udp,
            ttl: 1,
            ident: None,
            total_len: 60,
            tos: 0x28,
            flow_label: Some(0x12345),
            header_len: 40,
            frag_offset: 0,
            checksum_valid: None,
        }
    );
    assert_eq!(q.transport, Some(QuotedTransport::Udp { src_port: 50000, dst_port: 33434, len: 20, checksum: 0x4c24 }));
    assert_eq!(q.transport_bytes.len(), 20);
    assert_eq!(QuotedDatagram::parse(&b[..39]), Err(Error::Truncated));
    assert_eq!(QuotedDatagram::parse(&b[..47]).unwrap().transport, None);
}

#[test]
fn ipv6_extension_headers() {
    // Hop-by-hop (8 bytes: PadN), then fragment header (first fragment), then UDP.
    let mut b = v6_header(0, 36);
    b.extend_from_slice(&[44, 0, 1, 4, 0, 0, 0, 0]);
    b.extend_from_slice(&[17, 0, 0x00, 0x01, 0xaa, 0xbb, 0xcc, 0xdd]);
    b.extend_from_slice(&UDP8);
    let q = QuotedDatagram::parse(&b).unwrap();
    assert_eq!(q.ip.protocol, IpProtocol::Udp);
    assert_eq!(q.ip.header_len, 56);
    assert!(matches!(q.transport, Some(QuotedTransport::Udp { dst_port: 33434, .. })));

    // Non-first fragment: offset 8 -> no transport.
    b[50] = 0x00;
    b[51] = 0x08;
    let q = QuotedDatagram::parse(&b).unwrap();
    assert_eq!(q.ip.frag_offset, 8);
    assert_eq!(q.transport, None);

    // Extension header cut off: protocol is the extension header, no transport.
    let q = QuotedDatagram::parse(&b[..45]).unwrap();
    assert_eq!(q.ip.protocol, IpProtocol::HopByHop);
    assert_eq!(q.ip.header_len, 40);
    assert_eq!(q.transport, None);

    // ICMPv6 echo behind a destination-options header.
    let mut b = v6_header(60, 16);
    b.extend_from_slice(&[58, 0, 1, 4, 0, 0, 0, 0]);
    b.extend_from_slice(&[128, 0, 0x11, 0x22, 0x42, 0x42, 0x00, 0x07]);
    let q = QuotedDatagram::parse(&b).unwrap();
    assert_eq!(
        q.transport,
        Some(QuotedTransport::Icmp { msg_type: 128, code: 0, checksum: 0x1122, ident: 0x4242, seq: 7 })
    );
}

#[test]
fn bad_versions() {
    assert_eq!(QuotedDatagram::parse(&[]), Err(Error::Truncated));
    let mut b = QUOTE_V4;
    b[0] = 0x55;
    assert_eq!(QuotedDatagram::parse(&b), Err(Error::Malformed));
    // Unknown transport protocol -> raw bytes.
    let mut b = QUOTE_V4;
    b[9] = 132; // SCTP
    let q = QuotedDatagram::parse(&b).unwrap();
    assert_eq!(q.ip.protocol, IpProtocol::Unknown(132));
    assert_eq!(q.transport, Some(QuotedTransport::Other { bytes: [0x82, 0x9a, 0x82, 0x9b, 0x00, 0x28, 0x12, 0x34] }));
}
