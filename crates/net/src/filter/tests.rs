//! The programs run by a small interpreter of the instructions they use, over packets as each socket sees them.

use super::*;

/// Runs `program` over `packet`, with `net` the IP header that `SKF_NET_OFF` loads reach; whether it accepts.
fn run(program: &[libc::sock_filter], packet: &[u8], net: &[u8]) -> bool {
    run_tapped(program, packet, net, (0, 0))
}

/// [`run`], with the packet type and protocol that the `SKF_AD_OFF` loads give.
fn run_tapped(program: &[libc::sock_filter], packet: &[u8], net: &[u8], tap: (u32, u32)) -> bool {
    let ancillary = |field: libc::c_int| (libc::SKF_AD_OFF + field) as u32;
    let load = |offset: u32, len: usize| -> Option<u32> {
        if offset == ancillary(libc::SKF_AD_PKTTYPE) {
            return Some(tap.0);
        } else if offset == ancillary(libc::SKF_AD_PROTOCOL) {
            return Some(tap.1);
        }
        let (bytes, at) = if offset >= NET { (net, offset.wrapping_sub(NET)) } else { (packet, offset) };
        let bytes = bytes.get(at as usize..at as usize + len)?;
        Some(bytes.iter().fold(0, |acc, &b| (acc << 8) | u32::from(b)))
    };
    let size = |code: u32| match code & 0x18 {
        0x10 => 1,
        0x08 => 2,
        _ => 4,
    };
    let (mut a, mut x, mut pc) = (0u32, 0u32, 0usize);
    loop {
        let libc::sock_filter { code, jt, jf, k } = program[pc];
        let code = u32::from(code);
        pc += 1;
        let loaded = match code {
            RET_K => return k != 0,
            JEQ_K | JSET_K => {
                let yes = if code == JEQ_K { a == k } else { a & k != 0 };
                pc += usize::from(if yes { jt } else { jf });
                continue;
            }
            LDX_MSH => {
                x = 4 * (u32::from(*packet.get(k as usize).unwrap_or(&0)) & 0xf);
                continue;
            }
            AND_K | LSH_K | ADD_X | TAX => {
                match code {
                    AND_K => a &= k,
                    LSH_K => a <<= k,
                    ADD_X => a = a.wrapping_add(x),
                    _ => x = a,
                }
                continue;
            }
            LD_B_ABS | LD_H_ABS | LD_W_ABS => load(k, size(code)),
            LD_B_IND | LD_H_IND | LD_W_IND => load(x.wrapping_add(k), size(code)),
            other => panic!("unexpected instruction {other:#x}"),
        };
        // A load past the end drops the packet, as in the kernel.
        let Some(value) = loaded else { return false };
        a = value;
    }
}

const TARGET4: [u8; 4] = [198, 18, 0, 9];
const TARGET6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9];

/// An IPv4 ICMP message from `from` of `icmp_type` whose quote (for errors) is a packet of `protocol` to
/// `quoted_dst` with the transport header `transport`, or (echo replies) with identifier `ident`; `options`
/// adds 4 bytes of options to the quoted IP header.
fn icmp4(from: [u8; 4], icmp_type: u8, quoted: ([u8; 4], u8, [u8; 8], bool), ident: u16) -> Vec<u8> {
    let (quoted_dst, protocol, transport, options) = quoted;
    let mut packet = vec![0x45, 0, 0, 56, 0, 0, 0, 0, 64, 1, 0, 0];
    packet.extend(from);
    packet.extend([198, 18, 0, 1]);
    packet.extend([icmp_type, 0, 0, 0]);
    packet.extend(ident.to_be_bytes());
    packet.extend([0, 1]);
    packet.extend([if options { 0x46 } else { 0x45 }, 0, 0, 28, 0, 0, 0, 0, 1, protocol, 0, 0, 198, 18, 0, 1]);
    packet.extend(quoted_dst);
    if options {
        packet.extend([1, 1, 1, 0]);
    }
    packet.extend(transport);
    packet
}

/// A UDP header from port 40000 to 33434; a TCP one from 50000 to 80; an echo request with identifier 7.
const UDP: [u8; 8] = [0x9c, 0x40, 0x82, 0x9a, 0, 8, 0, 0];
const TCP: [u8; 8] = [0xc3, 0x50, 0, 80, 1, 2, 3, 4];
const ECHO: [u8; 8] = [8, 0, 0, 0, 0, 7, 0, 1];

#[test]
fn the_ipv4_icmp_filter_keeps_errors_quoting_our_probes_and_our_echo_replies() {
    let udp = icmp(IpAddr::from(TARGET4), Ours::Udp { src_port: 40000 });
    let router = [198, 18, 1, 1];
    let other = [198, 18, 0, 10];
    for options in [false, true] {
        assert!(run(&udp, &icmp4(router, 11, (TARGET4, 17, UDP, options), 0), &[]), "options {options}");
        assert!(run(&udp, &icmp4(router, 3, (TARGET4, 17, UDP, options), 0), &[]));
        assert!(!run(&udp, &icmp4(router, 11, (other, 17, UDP, options), 0), &[]));
        assert!(!run(&udp, &icmp4(router, 11, (TARGET4, 6, UDP, options), 0), &[]));
        assert!(!run(&udp, &icmp4(router, 11, (TARGET4, 17, TCP, options), 0), &[]));
    }
    assert!(!run(&udp, &icmp4(router, 11, (TARGET4, 17, UDP, false), 0)[..40], &[]));
    assert!(!run(&udp, &icmp4(TARGET4, 0, (TARGET4, 17, UDP, false), 0x1234), &[]));
    let tcp = icmp(IpAddr::from(TARGET4), Ours::Tcp { dst_port: 80 });
    assert!(run(&tcp, &icmp4(router, 11, (TARGET4, 6, TCP, true), 0), &[]));
    assert!(!run(&tcp, &icmp4(router, 11, (TARGET4, 17, UDP, false), 0), &[]));
    let echo = icmp(IpAddr::from(TARGET4), Ours::Echo { ident: 7 });
    assert!(run(&echo, &icmp4(router, 11, (TARGET4, 1, ECHO, false), 0), &[]));
    assert!(!run(&echo, &icmp4(router, 11, (TARGET4, 1, UDP, false), 0), &[]));
    assert!(run(&echo, &icmp4(TARGET4, 0, (TARGET4, 1, ECHO, false), 7), &[]));
    assert!(!run(&echo, &icmp4(TARGET4, 0, (TARGET4, 1, ECHO, false), 8), &[]));
    assert!(!run(&echo, &icmp4(router, 0, (TARGET4, 1, ECHO, false), 7), &[]));
    assert!(!run(&echo, &icmp4(router, 8, (TARGET4, 1, ECHO, false), 7), &[]));
    // Shared by traces to any target: the destination is not checked, the rest is.
    let any = icmp(IpAddr::from([0; 4]), Ours::Echo { ident: 7 });
    for target in [TARGET4, [198, 18, 0, 10]] {
        assert!(run(&any, &icmp4(router, 11, (target, 1, ECHO, false), 0), &[]));
        assert!(run(&any, &icmp4(target, 0, (target, 1, ECHO, false), 7), &[]));
        assert!(!run(&any, &icmp4(target, 0, (target, 1, ECHO, false), 8), &[]));
        assert!(!run(&any, &icmp4(router, 11, (target, 17, UDP, false), 0), &[]));
    }
}

#[test]
fn the_ipv6_icmp_filter_keeps_errors_quoting_our_probes_and_our_echo_replies() {
    let message = |icmp_type: u8, ident: u16, quoted: ([u8; 16], u8, [u8; 8])| {
        let mut bytes = vec![icmp_type, 0, 0, 0];
        bytes.extend(ident.to_be_bytes());
        bytes.extend([0, 1]);
        bytes.extend([0x60, 0, 0, 0, 0, 8, quoted.1, 1]);
        bytes.extend([0; 16]);
        bytes.extend(quoted.0);
        bytes.extend(quoted.2);
        bytes
    };
    let header_from = |from: [u8; 16]| {
        let mut header = vec![0x60, 0, 0, 0, 0, 0, 58, 64];
        header.extend(from);
        header.extend([0; 16]);
        header
    };
    let other = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10];
    let router = header_from(other);
    let udp = icmp(IpAddr::from(TARGET6), Ours::Udp { src_port: 40000 });
    for error_type in [1, 2, 3] {
        assert!(run(&udp, &message(error_type, 0, (TARGET6, 17, UDP)), &router));
    }
    assert!(!run(&udp, &message(3, 0, (other, 17, UDP)), &router));
    assert!(!run(&udp, &message(3, 0, (TARGET6, 17, TCP)), &router));
    assert!(!run(&udp, &message(3, 0, (TARGET6, 6, UDP)), &router));
    assert!(!run(&udp, &message(135, 0, (TARGET6, 17, UDP)), &router));
    let echo = icmp(IpAddr::from(TARGET6), Ours::Echo { ident: 7 });
    assert!(run(&echo, &message(3, 0, (TARGET6, 58, ECHO)), &router));
    assert!(run(&echo, &message(129, 7, (TARGET6, 0, [0; 8])), &header_from(TARGET6)));
    assert!(!run(&echo, &message(129, 8, (TARGET6, 0, [0; 8])), &header_from(TARGET6)));
    assert!(!run(&echo, &message(129, 7, (TARGET6, 0, [0; 8])), &router));
    let tcp = icmp(IpAddr::from(TARGET6), Ours::Tcp { dst_port: 80 });
    assert!(run(&tcp, &message(3, 0, (TARGET6, 6, TCP)), &router));
    assert!(!run(&tcp, &message(129, 7, (TARGET6, 0, [0; 8])), &header_from(TARGET6)));
    let any = icmp(IpAddr::from([0u8; 16]), Ours::Udp { src_port: 40000 });
    assert!(run(&any, &message(3, 0, (other, 17, UDP)), &router));
    assert!(!run(&any, &message(3, 0, (other, 17, TCP)), &router));
}

#[test]
fn the_ipv6_icmp_filter_keeps_errors_quoting_the_first_fragment_of_our_probes() {
    // A probe bigger than the path MTU leaves in fragments: a router's error quotes the first, whose Fragment
    // header (next header 44) comes before the transport header.
    let message = |quoted_protocol: u8, offset: u16, transport: [u8; 8]| {
        let mut bytes = vec![3, 0, 0, 0, 0, 0, 0, 0];
        bytes.extend([0x60, 0, 0, 0, 0, 16, 44, 1]);
        bytes.extend([0; 16]);
        bytes.extend(TARGET6);
        bytes.extend([quoted_protocol, 0]);
        bytes.extend((offset | 1).to_be_bytes()); // More Fragments
        bytes.extend([0, 0, 0, 42]);
        bytes.extend(transport);
        bytes
    };
    let mut router = vec![0x60, 0, 0, 0, 0, 0, 58, 64];
    router.extend([0; 32]);
    let udp = icmp(IpAddr::from(TARGET6), Ours::Udp { src_port: 40000 });
    assert!(run(&udp, &message(17, 0, UDP), &router));
    assert!(!run(&udp, &message(17, 1232, UDP), &router), "not the first fragment");
    assert!(!run(&udp, &message(6, 0, UDP), &router));
    assert!(!run(&udp, &message(17, 0, TCP), &router));
    let echo = icmp(IpAddr::from(TARGET6), Ours::Echo { ident: 7 });
    assert!(run(&echo, &message(58, 0, ECHO), &router));
    assert!(!run(&echo, &message(58, 0, UDP), &router));
    let tcp = icmp(IpAddr::from(TARGET6), Ours::Tcp { dst_port: 80 });
    assert!(run(&tcp, &message(6, 0, TCP), &router));
}

#[test]
fn the_tcp_filter_keeps_segments_from_the_target_and_its_port() {
    let segment = |from: [u8; 4], port: u16| {
        let mut packet = vec![0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0];
        packet.extend(from);
        packet.extend([198, 18, 0, 1]);
        packet.extend(port.to_be_bytes());
        packet.extend([0; 18]);
        packet
    };
    let v4 = tcp(IpAddr::from(TARGET4), 80);
    assert!(run(&v4, &segment(TARGET4, 80), &[]));
    assert!(!run(&v4, &segment([198, 18, 0, 10], 80), &[]));
    assert!(!run(&v4, &segment(TARGET4, 443), &[]));
    // Shared sockets: any address, the port still.
    let any4 = tcp(IpAddr::from([0; 4]), 80);
    assert!(run(&any4, &segment([198, 18, 0, 10], 80), &[]));
    assert!(!run(&any4, &segment([198, 18, 0, 10], 443), &[]));
    let transport = |port: u16| [&port.to_be_bytes()[..], &[0; 18]].concat();
    let v6 = tcp(IpAddr::from(TARGET6), 80);
    let mut header = vec![0x60, 0, 0, 0, 0, 20, 6, 64];
    header.extend(TARGET6);
    header.extend([0; 16]);
    assert!(run(&v6, &transport(80), &header));
    assert!(!run(&v6, &transport(443), &header));
    let any6 = tcp(IpAddr::from([0u8; 16]), 80);
    assert!(run(&any6, &transport(80), &[]));
    assert!(!run(&any6, &transport(443), &[]));
    header[23] = 10;
    assert!(!run(&v6, &transport(80), &header));
}

#[test]
fn the_capture_filter_keeps_unfragmented_icmp_for_this_host_of_the_families_wanted() {
    let host = libc::PACKET_HOST as u32;
    let (ip, ip6) = (libc::ETH_P_IP as u32, libc::ETH_P_IPV6 as u32);
    let v4 = |protocol: u8, fragment: [u8; 2]| {
        let mut packet = vec![0x45, 0, 0, 28, 0, 0, fragment[0], fragment[1], 64, protocol, 0, 0];
        packet.extend([198, 18, 1, 1, 198, 18, 0, 1, 11, 0, 0, 0, 0, 0, 0, 0]);
        packet
    };
    let v6 = |next: u8| [&[0x60, 0, 0, 0, 0, 8, next, 64][..], &[0; 40]].concat();
    for (want4, want6) in [(true, true), (true, false), (false, true), (false, false)] {
        let program = capture(want4, want6);
        let run = |packet: &[u8], tap| run_tapped(&program, packet, &[], tap);
        assert_eq!(run(&v4(1, [0x40, 0]), (host, ip)), want4, "{want4} {want6}");
        assert_eq!(run(&v4(1, [0, 0]), (host, ip)), want4);
        assert_eq!(run(&v6(58), (host, ip6)), want6);
        assert!(!run(&v4(1, [0x40, 0]), (libc::PACKET_OTHERHOST as u32, ip)));
        assert!(!run(&v4(1, [0x40, 0]), (libc::PACKET_OUTGOING as u32, ip)));
        assert!(!run(&v6(58), (libc::PACKET_BROADCAST as u32, ip6)));
        assert!(!run(&v4(17, [0x40, 0]), (host, ip)));
        // More Fragments, or an offset: a fragment.
        assert!(!run(&v4(1, [0x20, 0]), (host, ip)));
        assert!(!run(&v4(1, [0, 1]), (host, ip)));
        assert!(!run(&v4(1, [0x1f, 0xff]), (host, ip)));
        assert!(!run(&v6(17), (host, ip6)));
        assert!(!run(&v6(0), (host, ip6)));
        assert!(!run(&v6(58), (host, libc::ETH_P_ARP as u32)));
        assert!(!run(&v4(1, [0x40, 0]), (host, ip6)));
    }
}
