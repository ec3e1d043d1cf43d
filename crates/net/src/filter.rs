//! Classic BPF programs for the raw listeners and the bulk receiver's packet ring: the kernel drops what cannot be
//! a reply to this trace (ICMP errors quoting another destination, echo replies with another identifier or from
//! another host, anything else) before it takes room in the receive buffer or a wake-up.
//!
//! An IPv4 raw socket's filter sees the packet from its IP header; an IPv6 one from the transport header, with the
//! IP header at the kernel's `SKF_NET_OFF`.

use core::net::IpAddr;

use socket2::{SockFilter, Socket};

/// A jump target in a program being assembled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    Next,
    Error,
    Quoted,
    Echo,
    Ipv6,
    Accept,
    Drop,
}

/// One instruction, jumps by label.
#[derive(Debug, Clone, Copy)]
enum Op {
    Stmt(u32, u32),
    Jeq(u32, Label, Label),
    /// Jumps to the first label if `A & k` is not zero.
    Jset(u32, Label, Label),
    Mark(Label),
}

const LD_B_ABS: u32 = libc::BPF_LD | libc::BPF_B | libc::BPF_ABS;
const LD_H_ABS: u32 = libc::BPF_LD | libc::BPF_H | libc::BPF_ABS;
const LD_W_ABS: u32 = libc::BPF_LD | libc::BPF_W | libc::BPF_ABS;
const LD_B_IND: u32 = libc::BPF_LD | libc::BPF_B | libc::BPF_IND;
const LD_H_IND: u32 = libc::BPF_LD | libc::BPF_H | libc::BPF_IND;
const LD_W_IND: u32 = libc::BPF_LD | libc::BPF_W | libc::BPF_IND;
/// X = 4 * (P[k] & 0xf): the IPv4 header length.
const LDX_MSH: u32 = libc::BPF_LDX | libc::BPF_B | libc::BPF_MSH;
const RET_K: u32 = libc::BPF_RET | libc::BPF_K;
const AND_K: u32 = libc::BPF_ALU | libc::BPF_AND | libc::BPF_K;
const LSH_K: u32 = libc::BPF_ALU | libc::BPF_LSH | libc::BPF_K;
const ADD_X: u32 = libc::BPF_ALU | libc::BPF_ADD | libc::BPF_X;
/// X = A.
const TAX: u32 = libc::BPF_MISC | libc::BPF_TAX;
const JEQ_K: u32 = libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K;
const JSET_K: u32 = libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K;
/// Where the IP header is, for a filter that sees the transport header first.
const NET: u32 = libc::SKF_NET_OFF as u32;

/// Attaches `program` to `socket`.
pub(crate) fn attach(socket: &Socket, program: &[libc::sock_filter]) -> std::io::Result<()> {
    let program: Vec<SockFilter> = program.iter().map(|op| SockFilter::new(op.code, op.jt, op.jf, op.k)).collect();
    socket.attach_filter(&program)
}

/// A filter that takes nothing: for a socket that only sends (whose transmit stamps, on its error queue, it does
/// not filter), so that nothing fills the receive buffer the error queue is counted against.
pub(crate) fn nothing() -> Vec<libc::sock_filter> {
    vec![libc::sock_filter { code: RET_K as u16, jt: 0, jf: 0, k: 0 }]
}

/// What identifies this trace's probes in a quote, and, for echo probes, in the destination's replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ours {
    /// UDP probes from this source port.
    Udp { src_port: u16 },
    /// TCP probes to this destination port.
    Tcp { dst_port: u16 },
    /// Echo requests with this identifier.
    Echo { ident: u16 },
}

impl Ours {
    /// The quoted probe's protocol, the offset of the identifying field in its header, and the field's value.
    fn quoted(self, ipv6: bool) -> (u32, u32, u32) {
        match self {
            Ours::Udp { src_port } => (17, 0, u32::from(src_port)),
            Ours::Tcp { dst_port } => (6, 2, u32::from(dst_port)),
            Ours::Echo { ident } => (if ipv6 { 58 } else { 1 }, 4, u32::from(ident)),
        }
    }
}

/// The filter of the raw ICMP (ICMPv6) listener: ICMP errors quoting one of our probes — addressed to `target`,
/// of our protocol and with our port or identifier — and, for echo probes, echo replies from `target` with our
/// identifier. An unspecified `target` is any target.
pub(crate) fn icmp(target: IpAddr, ours: Ours) -> Vec<libc::sock_filter> {
    let mut ops = Vec::new();
    let (protocol, field_at, field) = ours.quoted(target.is_ipv6());
    let echo = match ours {
        Ours::Echo { ident } => Some(ident),
        _ => None,
    };
    match target {
        IpAddr::V4(target) => {
            ops.extend([Op::Stmt(LDX_MSH, 0), Op::Stmt(LD_B_IND, 0)]);
            ops.extend([Op::Jeq(3, Label::Error, Label::Next), Op::Jeq(11, Label::Error, Label::Next)]);
            ops.push(match echo {
                Some(_) => Op::Jeq(0, Label::Echo, Label::Drop),
                None => Op::Stmt(RET_K, 0),
            });
            ops.push(Op::Mark(Label::Error));
            // The quoted IP header starts after the 8-byte ICMP header; its destination is 16 bytes in, its
            // protocol 9; the quoted transport header follows it, after its own length.
            ops.extend(address_is(&target.octets(), Label::Quoted, |at| Op::Stmt(LD_W_IND, 24 + at)));
            ops.push(Op::Mark(Label::Quoted));
            ops.extend([Op::Stmt(LD_B_IND, 17), Op::Jeq(protocol, Label::Next, Label::Drop)]);
            ops.extend([Op::Stmt(LD_B_IND, 8), Op::Stmt(AND_K, 0xf), Op::Stmt(LSH_K, 2), Op::Stmt(ADD_X, 0)]);
            ops.extend([
                Op::Stmt(TAX, 0),
                Op::Stmt(LD_H_IND, 8 + field_at),
                Op::Jeq(field, Label::Accept, Label::Drop),
            ]);
            ops.push(Op::Mark(Label::Echo));
            ops.extend([Op::Stmt(LD_H_IND, 4), Op::Jeq(u32::from(echo.unwrap_or(0)), Label::Next, Label::Drop)]);
            ops.extend(address_is(&target.octets(), Label::Accept, |at| Op::Stmt(LD_W_ABS, 12 + at)));
        }
        IpAddr::V6(target) => {
            ops.push(Op::Stmt(LD_B_ABS, 0));
            for error_type in [1, 2, 3] {
                ops.push(Op::Jeq(error_type, Label::Error, Label::Next));
            }
            ops.push(match echo {
                Some(_) => Op::Jeq(129, Label::Echo, Label::Drop),
                None => Op::Stmt(RET_K, 0),
            });
            ops.push(Op::Mark(Label::Error));
            // The quoted IPv6 header starts after the 8-byte ICMPv6 header: its next header is 6 bytes in, its
            // destination 24; the quoted transport header follows its 40 bytes.
            ops.extend(address_is(&target.octets(), Label::Quoted, |at| Op::Stmt(LD_W_ABS, 32 + at)));
            ops.push(Op::Mark(Label::Quoted));
            ops.extend([Op::Stmt(LD_B_ABS, 14), Op::Jeq(protocol, Label::Next, Label::Drop)]);
            ops.extend([Op::Stmt(LD_H_ABS, 48 + field_at), Op::Jeq(field, Label::Accept, Label::Drop)]);
            ops.push(Op::Mark(Label::Echo));
            ops.extend([Op::Stmt(LD_H_ABS, 4), Op::Jeq(u32::from(echo.unwrap_or(0)), Label::Next, Label::Drop)]);
            ops.extend(address_is(&target.octets(), Label::Accept, |at| Op::Stmt(LD_W_ABS, NET.wrapping_add(8 + at))));
        }
    }
    assemble(&ops)
}

/// The filter of the raw TCP listener: segments from `target` (any, if unspecified) and its port `port`, the
/// probes' destination port.
pub(crate) fn tcp(target: IpAddr, port: u16) -> Vec<libc::sock_filter> {
    let mut ops = match target {
        IpAddr::V4(target) => {
            let mut ops = address_is(&target.octets(), Label::Next, |at| Op::Stmt(LD_W_ABS, 12 + at));
            // The source port, after the IP header.
            ops.extend([Op::Stmt(LDX_MSH, 0), Op::Stmt(LD_H_IND, 0)]);
            ops
        }
        IpAddr::V6(target) => {
            let mut ops = address_is(&target.octets(), Label::Next, |at| Op::Stmt(LD_W_ABS, NET.wrapping_add(8 + at)));
            ops.push(Op::Stmt(LD_H_ABS, 0));
            ops
        }
    };
    ops.push(Op::Jeq(u32::from(port), Label::Accept, Label::Drop));
    assemble(&ops)
}

/// The packet ring's filter (a `SOCK_DGRAM` packet socket: offsets count from the network header), keeping what a
/// raw ICMP socket would get: packets for this host (not ones it sends or forwards to others' link addresses),
/// IPv4 ICMP that is not a fragment (`v4`), IPv6 whose next header is ICMPv6 (`v6`; a reply with extension headers
/// is not taken). A family not wanted matches nothing.
pub(crate) fn capture(v4: bool, v6: bool) -> Vec<libc::sock_filter> {
    let ancillary = |field: libc::c_int| (libc::SKF_AD_OFF + field) as u32;
    let mut ops = vec![Op::Stmt(LD_W_ABS, ancillary(libc::SKF_AD_PKTTYPE))];
    ops.push(Op::Jeq(libc::PACKET_HOST as u32, Label::Next, Label::Drop));
    ops.push(Op::Stmt(LD_W_ABS, ancillary(libc::SKF_AD_PROTOCOL)));
    if v4 {
        ops.extend([Op::Jeq(libc::ETH_P_IP as u32, Label::Next, Label::Ipv6), Op::Stmt(LD_B_ABS, 9)]);
        // Not a fragment: no More Fragments flag and no offset.
        ops.extend([Op::Jeq(libc::IPPROTO_ICMP as u32, Label::Next, Label::Drop), Op::Stmt(LD_H_ABS, 6)]);
        ops.push(Op::Jset(0x3fff, Label::Drop, Label::Accept));
    }
    ops.push(Op::Mark(Label::Ipv6));
    if v6 {
        ops.extend([Op::Jeq(libc::ETH_P_IPV6 as u32, Label::Next, Label::Drop), Op::Stmt(LD_B_ABS, 6)]);
        ops.push(Op::Jeq(libc::IPPROTO_ICMPV6 as u32, Label::Accept, Label::Drop));
    } else {
        ops.push(Op::Stmt(RET_K, 0));
    }
    assemble(&ops)
}

/// Goes on to `then` when the address loaded word by word (`load(offset)`) is `address`, else drops. The
/// unspecified address stands for any (sockets that traces to many targets share): nothing is checked, and every
/// use here has `then` right after.
fn address_is(address: &[u8], then: Label, load: impl Fn(u32) -> Op) -> Vec<Op> {
    let mut ops = Vec::new();
    if address.iter().all(|&byte| byte == 0) {
        return ops;
    }
    for (index, word) in address.chunks(4).enumerate() {
        let word = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        let last = index == address.len() / 4 - 1;
        ops.push(load(4 * index as u32));
        ops.push(Op::Jeq(word, if last { then } else { Label::Next }, Label::Drop));
    }
    ops
}

/// Resolves labels into relative jumps, appending the accept and drop returns.
fn assemble(ops: &[Op]) -> Vec<libc::sock_filter> {
    let mut ops = ops.to_vec();
    ops.extend([Op::Mark(Label::Accept), Op::Stmt(RET_K, u32::MAX), Op::Mark(Label::Drop), Op::Stmt(RET_K, 0)]);
    // Instruction index of each label; marks take no room.
    let mut positions = Vec::new();
    let mut index = 0usize;
    for op in &ops {
        match op {
            Op::Mark(label) => positions.push((*label, index)),
            _ => index += 1,
        }
    }
    let mut program = Vec::new();
    for op in &ops {
        let here = program.len();
        let offset = |label: Label| -> u8 {
            let to = if label == Label::Next {
                here + 1
            } else {
                positions.iter().find(|(l, _)| *l == label).map_or(here + 1, |&(_, at)| at)
            };
            // Jumps go forward only and programs here are short: the offset always fits.
            u8::try_from(to - here - 1).unwrap_or(0)
        };
        match *op {
            Op::Stmt(code, k) => program.push(libc::sock_filter { code: code as u16, jt: 0, jf: 0, k }),
            Op::Jeq(k, yes, no) => {
                program.push(libc::sock_filter { code: JEQ_K as u16, jt: offset(yes), jf: offset(no), k })
            }
            Op::Jset(k, yes, no) => {
                program.push(libc::sock_filter { code: JSET_K as u16, jt: offset(yes), jf: offset(no), k })
            }
            Op::Mark(_) => {}
        }
    }
    program
}

#[cfg(test)]
mod tests {
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
}
