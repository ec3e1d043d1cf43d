//! Reply decoding as the raw sockets' readers do it: whole IPv4 packets, and ICMPv6 or TCP payloads of IPv6.
#![no_main]

use core::net::{IpAddr, Ipv6Addr};

use engine::decode;
use libfuzzer_sys::fuzz_target;
use packet::IpProtocol;

const FROM: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
const TO: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2));
/// An IPv4 "our address" turns the ICMPv6 checksum check off, so that mutated messages reach the decoder.
const UNCHECKED: IpAddr = IpAddr::V4(core::net::Ipv4Addr::new(192, 0, 2, 1));

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else { return };
    let _ = decode::ipv4_packet(bytes);
    let protocol = if selector & 1 == 0 { IpProtocol::Icmpv6 } else { IpProtocol::Tcp };
    let to = if selector & 2 == 0 { TO } else { UNCHECKED };
    let _ = decode::ipv6_payload(bytes, protocol, FROM, to, Some(selector));
    let _ = decode::quoted_probe(bytes);
    let _ = decode::mpls_labels(bytes);
});
