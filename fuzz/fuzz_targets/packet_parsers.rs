//! Every parser of the packet crate on arbitrary bytes: views, representations, quotes, RFC 4884 extensions.
#![no_main]

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use packet::ext::{ICMPV4_UNIT, ICMPV6_UNIT};
use packet::*;

const A4: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
const B4: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7));
const A6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
const B6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);

fn quote_and_extensions(quote: &[u8], extensions: Option<&[u8]>) {
    let _ = QuotedDatagram::parse(quote);
    if let Some(Ok(extensions)) = extensions.map(Extensions::parse) {
        let _ = extensions.objects().count();
        let _ = extensions.mpls_labels().count();
    }
}

fuzz_target!(|data: &[u8]| {
    let (length, bytes) = data.split_first().map_or((0, data), |(&first, rest)| (first, rest));
    if let Ok(ip) = Ipv4Packet::new_checked(bytes) {
        let _ = (Ipv4Repr::parse(&ip), ip.options(), ip.payload(), ip.verify_checksum());
    }
    if let Ok(ip) = Ipv6Packet::new_checked(bytes) {
        let _ = (Ipv6Repr::parse(&ip), ip.payload());
    }
    if let Ok(udp) = UdpPacket::new_checked(bytes) {
        let _ = (UdpRepr::parse(&udp, &A4, &B4), UdpRepr::parse(&udp, &IpAddr::V6(A6), &IpAddr::V6(B6)));
    }
    if let Ok(tcp) = TcpPacket::new_checked(bytes) {
        let _ = (TcpRepr::parse(&tcp, &A4, &B4), tcp.options(), tcp.mss());
    }
    if let Ok(icmp) = Icmpv4Packet::new_checked(bytes) {
        if let Ok(
            Icmpv4Repr::TimeExceeded { quote, extensions, .. } | Icmpv4Repr::DstUnreachable { quote, extensions, .. },
        ) = Icmpv4Repr::parse(&icmp)
        {
            quote_and_extensions(quote, extensions);
        }
    }
    if let Ok(icmp) = Icmpv6Packet::new_checked(bytes) {
        let _ = Icmpv6Repr::parse(&icmp, &A6, &B6);
        if let Ok(
            Icmpv6Repr::TimeExceeded { quote, extensions, .. } | Icmpv6Repr::DstUnreachable { quote, extensions, .. },
        ) = Icmpv6Repr::parse_unverified(&icmp)
        {
            quote_and_extensions(quote, extensions);
        }
    }
    for unit in [ICMPV4_UNIT, ICMPV6_UNIT] {
        let (quote, extensions) = split_rfc4884(bytes, length, unit);
        assert!(quote.len() + extensions.map_or(0, <[u8]>::len) <= bytes.len());
        quote_and_extensions(quote, extensions);
    }
});
