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
    Fragment,
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
            // destination 24; the quoted transport header follows its 40 bytes — or a Fragment header's 8 more,
            // when the probe went out in fragments (a path MTU below its size) and the router quoted the first.
            ops.extend(address_is(&target.octets(), Label::Quoted, |at| Op::Stmt(LD_W_ABS, 32 + at)));
            ops.push(Op::Mark(Label::Quoted));
            ops.extend([Op::Stmt(LD_B_ABS, 14), Op::Jeq(protocol, Label::Next, Label::Fragment)]);
            ops.extend([Op::Stmt(LD_H_ABS, 48 + field_at), Op::Jeq(field, Label::Accept, Label::Drop)]);
            ops.extend([Op::Mark(Label::Fragment), Op::Jeq(44, Label::Next, Label::Drop)]);
            ops.extend([Op::Stmt(LD_B_ABS, 48), Op::Jeq(protocol, Label::Next, Label::Drop)]);
            ops.extend([Op::Stmt(LD_H_ABS, 50), Op::Jset(0xfff8, Label::Drop, Label::Next)]);
            ops.extend([Op::Stmt(LD_H_ABS, 56 + field_at), Op::Jeq(field, Label::Accept, Label::Drop)]);
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
mod tests;
