//! ICMPv6 (RFC 4443, RFC 4884).
//!
//! The checksum covers an IPv6 pseudo-header. Linux raw ICMPv6 sockets
//! deliver no IP header and have already verified the checksum, so
//! [`Icmpv6Repr::parse_unverified`] skips it.

use core::net::{IpAddr, Ipv6Addr};

use crate::ext::{quote_layout, split_rfc4884, write_quote_ext, ICMPV6_UNIT};
use crate::{be16, be32, checksum, put16, put32, Error, Result};

/// Length of the ICMPv6 header (type, code, checksum, 4 bytes rest).
pub const HEADER_LEN: usize = 8;

const PROTO_ICMPV6: u8 = 58;

/// Message type numbers.
pub mod msg_type {
    /// Destination Unreachable.
    pub const DST_UNREACHABLE: u8 = 1;
    /// Packet Too Big.
    pub const PACKET_TOO_BIG: u8 = 2;
    /// Time Exceeded.
    pub const TIME_EXCEEDED: u8 = 3;
    /// Echo Request.
    pub const ECHO_REQUEST: u8 = 128;
    /// Echo Reply.
    pub const ECHO_REPLY: u8 = 129;
}

code_enum! {
    /// Destination Unreachable codes (RFC 4443, RFC 6550, RFC 8883).
    Icmpv6Unreachable {
    /// 0: no route to destination.
    NoRoute = 0,
    /// 1: communication administratively prohibited.
    AdminProhibit = 1,
    /// 2: beyond scope of source address.
    BeyondScope = 2,
    /// 3: address unreachable.
    AddrUnreachable = 3,
    /// 4: port unreachable.
    PortUnreachable = 4,
    /// 5: source address failed ingress/egress policy.
    FailedPolicy = 5,
    /// 6: reject route to destination.
    RejectRoute = 6,
    /// 7: error in source routing header (RFC 6550).
    SrcRoutingHeader = 7,
    /// 8: headers too long (RFC 8883).
    HeadersTooLong = 8,
}}

/// A read/write view of an ICMPv6 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icmpv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Icmpv6Packet<T> {
    /// Wraps a buffer without validation; getters may panic if it is short.
    pub const fn new_unchecked(buffer: T) -> Self {
        Icmpv6Packet { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks the 8-byte header is present (`Truncated`).
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Returns the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Message type.
    pub fn msg_type(&self) -> u8 {
        self.b()[0]
    }
    /// Message code.
    pub fn msg_code(&self) -> u8 {
        self.b()[1]
    }
    /// Checksum as transmitted.
    pub fn checksum(&self) -> u16 {
        be16(self.b(), 2)
    }
    /// Echo identifier (bytes 4–5).
    pub fn echo_ident(&self) -> u16 {
        be16(self.b(), 4)
    }
    /// Echo sequence number (bytes 6–7).
    pub fn echo_seq_no(&self) -> u16 {
        be16(self.b(), 6)
    }
    /// MTU of a Packet Too Big message (bytes 4–7).
    pub fn mtu(&self) -> u32 {
        be32(self.b(), 4)
    }
    /// RFC 4884 length of the original datagram in 64-bit words (octet 4).
    pub fn rfc4884_length(&self) -> u8 {
        self.b()[4]
    }
    /// Bytes 4–7 ("rest of header").
    pub fn rest_of_header(&self) -> [u8; 4] {
        let b = self.b();
        [b[4], b[5], b[6], b[7]]
    }
    /// Everything after the 8-byte header.
    pub fn data(&self) -> &[u8] {
        &self.b()[HEADER_LEN..]
    }
    /// Alias of [`data`](Self::data).
    pub fn payload(&self) -> &[u8] {
        self.data()
    }
    /// Whether the checksum (with the IPv6 pseudo-header) verifies.
    pub fn verify_checksum(&self, src: &Ipv6Addr, dst: &Ipv6Addr) -> bool {
        sum(self.b(), src, dst) == 0xffff
    }
}

fn sum(b: &[u8], src: &Ipv6Addr, dst: &Ipv6Addr) -> u16 {
    let len = u32::try_from(b.len()).unwrap_or(u32::MAX);
    let (s, d) = (IpAddr::V6(*src), IpAddr::V6(*dst));
    checksum::combine(&[checksum::pseudo_header(&s, &d, PROTO_ICMPV6, len), checksum::data(b)])
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv6Packet<T> {
    fn m(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }
    /// Sets the message type.
    pub fn set_msg_type(&mut self, v: u8) {
        self.m()[0] = v;
    }
    /// Sets the message code.
    pub fn set_msg_code(&mut self, v: u8) {
        self.m()[1] = v;
    }
    /// Sets the checksum field verbatim.
    pub fn set_checksum(&mut self, v: u16) {
        put16(self.m(), 2, v)
    }
    /// Sets the echo identifier.
    pub fn set_echo_ident(&mut self, v: u16) {
        put16(self.m(), 4, v)
    }
    /// Sets the echo sequence number.
    pub fn set_echo_seq_no(&mut self, v: u16) {
        put16(self.m(), 6, v)
    }
    /// Sets the Packet Too Big MTU.
    pub fn set_mtu(&mut self, v: u32) {
        put32(self.m(), 4, v)
    }
    /// Sets bytes 4–7.
    pub fn set_rest_of_header(&mut self, v: [u8; 4]) {
        self.m()[4..8].copy_from_slice(&v);
    }
    /// Mutable data after the header.
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.m()[HEADER_LEN..]
    }
    /// Computes and stores the checksum over the whole buffer.
    pub fn fill_checksum(&mut self, src: &Ipv6Addr, dst: &Ipv6Addr) {
        self.set_checksum(0);
        let c = checksum::finish(sum(self.b(), src, dst));
        self.set_checksum(c);
    }
}

/// A parsed ICMPv6 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Icmpv6Repr<'a> {
    /// Echo Request (type 128).
    EchoRequest {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Payload.
        data: &'a [u8],
    },
    /// Echo Reply (type 129).
    EchoReply {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Payload.
        data: &'a [u8],
    },
    /// Destination Unreachable (type 1).
    DstUnreachable {
        /// Reason.
        code: Icmpv6Unreachable,
        /// The quoted datagram (with any RFC 4884 zero padding).
        quote: &'a [u8],
        /// Raw RFC 4884 extension structure, see [`crate::Extensions`].
        extensions: Option<&'a [u8]>,
    },
    /// Packet Too Big (type 2; no RFC 4884 extensions).
    PacketTooBig {
        /// MTU of the next-hop link.
        mtu: u32,
        /// The quoted datagram.
        quote: &'a [u8],
    },
    /// Time Exceeded (type 3; code 0 = hop limit, 1 = reassembly).
    TimeExceeded {
        /// Code.
        code: u8,
        /// The quoted datagram (with any RFC 4884 zero padding).
        quote: &'a [u8],
        /// Raw RFC 4884 extension structure, see [`crate::Extensions`].
        extensions: Option<&'a [u8]>,
    },
    /// Any other type (Parameter Problem, NDP, ...), kept raw. `msg_type`
    /// must not be one of the types above.
    Other {
        /// Type.
        msg_type: u8,
        /// Code.
        code: u8,
        /// Bytes 4–7.
        rest_of_header: [u8; 4],
        /// Everything after the header.
        data: &'a [u8],
    },
}

impl<'a> Icmpv6Repr<'a> {
    /// Parses a message, verifying the checksum against the pseudo-header
    /// built from `src` and `dst` (`Error::Checksum`).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &Icmpv6Packet<&'a T>,
        src: &Ipv6Addr,
        dst: &Ipv6Addr,
    ) -> Result<Self> {
        packet.check_len()?;
        if !packet.verify_checksum(src, dst) {
            return Err(Error::Checksum);
        }
        Self::parse_unverified(packet)
    }

    /// Parses a message without checking the checksum (for raw sockets
    /// where the kernel verified it and no IP header is available).
    pub fn parse_unverified<T: AsRef<[u8]> + ?Sized>(packet: &Icmpv6Packet<&'a T>) -> Result<Self> {
        packet.check_len()?;
        let buf: &'a [u8] = <T as AsRef<[u8]>>::as_ref(packet.buffer);
        let data = buf.get(HEADER_LEN..).unwrap_or(&[]);
        let split = || split_rfc4884(data, packet.rfc4884_length(), ICMPV6_UNIT);
        Ok(match packet.msg_type() {
            msg_type::ECHO_REQUEST => {
                Icmpv6Repr::EchoRequest { ident: packet.echo_ident(), seq_no: packet.echo_seq_no(), data }
            }
            msg_type::ECHO_REPLY => {
                Icmpv6Repr::EchoReply { ident: packet.echo_ident(), seq_no: packet.echo_seq_no(), data }
            }
            msg_type::DST_UNREACHABLE => {
                let (quote, extensions) = split();
                Icmpv6Repr::DstUnreachable { code: packet.msg_code().into(), quote, extensions }
            }
            msg_type::PACKET_TOO_BIG => Icmpv6Repr::PacketTooBig { mtu: packet.mtu(), quote: data },
            msg_type::TIME_EXCEEDED => {
                let (quote, extensions) = split();
                Icmpv6Repr::TimeExceeded { code: packet.msg_code(), quote, extensions }
            }
            t => Icmpv6Repr::Other {
                msg_type: t,
                code: packet.msg_code(),
                rest_of_header: packet.rest_of_header(),
                data,
            },
        })
    }

    /// Length of the ICMPv6 header (8).
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Bytes needed by [`emit`](Self::emit).
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
            + match *self {
                Icmpv6Repr::EchoRequest { data, .. }
                | Icmpv6Repr::EchoReply { data, .. }
                | Icmpv6Repr::Other { data, .. }
                | Icmpv6Repr::PacketTooBig { quote: data, .. } => data.len(),
                Icmpv6Repr::DstUnreachable { quote, extensions, .. }
                | Icmpv6Repr::TimeExceeded { quote, extensions, .. } => {
                    let ext = extensions.map_or(0, <[u8]>::len);
                    quote_layout(quote, extensions.is_some(), ICMPV6_UNIT).1 + ext
                }
            }
    }

    /// Writes the message and its checksum (pseudo-header from `src`, `dst`).
    ///
    /// With `extensions`, the quote is zero-padded to ≥ 128 bytes and a
    /// multiple of 8 (truncated to 2040) and the length field set. The view
    /// must cover exactly [`buffer_len`](Self::buffer_len) bytes (panics if
    /// shorter).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(
        &self,
        src: &Ipv6Addr,
        dst: &Ipv6Addr,
        packet: &mut Icmpv6Packet<&mut T>,
    ) {
        match *self {
            Icmpv6Repr::EchoRequest { ident, seq_no, data } | Icmpv6Repr::EchoReply { ident, seq_no, data } => {
                let t = if matches!(self, Icmpv6Repr::EchoRequest { .. }) {
                    msg_type::ECHO_REQUEST
                } else {
                    msg_type::ECHO_REPLY
                };
                packet.set_msg_type(t);
                packet.set_msg_code(0);
                packet.set_echo_ident(ident);
                packet.set_echo_seq_no(seq_no);
                packet.data_mut()[..data.len()].copy_from_slice(data);
            }
            Icmpv6Repr::DstUnreachable { code, quote, extensions } => {
                packet.set_msg_type(msg_type::DST_UNREACHABLE);
                packet.set_msg_code(code.into());
                emit_error_body(packet, quote, extensions);
            }
            Icmpv6Repr::PacketTooBig { mtu, quote } => {
                packet.set_msg_type(msg_type::PACKET_TOO_BIG);
                packet.set_msg_code(0);
                packet.set_mtu(mtu);
                packet.data_mut()[..quote.len()].copy_from_slice(quote);
            }
            Icmpv6Repr::TimeExceeded { code, quote, extensions } => {
                packet.set_msg_type(msg_type::TIME_EXCEEDED);
                packet.set_msg_code(code);
                emit_error_body(packet, quote, extensions);
            }
            Icmpv6Repr::Other { msg_type, code, rest_of_header, data } => {
                packet.set_msg_type(msg_type);
                packet.set_msg_code(code);
                packet.set_rest_of_header(rest_of_header);
                packet.data_mut()[..data.len()].copy_from_slice(data);
            }
        }
        packet.fill_checksum(src, dst);
    }
}

fn emit_error_body<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(
    packet: &mut Icmpv6Packet<&mut T>,
    quote: &[u8],
    extensions: Option<&[u8]>,
) {
    let (q, padded, words) = quote_layout(quote, extensions.is_some(), ICMPV6_UNIT);
    packet.set_rest_of_header([words, 0, 0, 0]);
    write_quote_ext(packet.data_mut(), q, padded, extensions);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_codes_round_trip() {
        for v in 0..=255u8 {
            assert_eq!(u8::from(Icmpv6Unreachable::from(v)), v);
        }
        assert_eq!(Icmpv6Unreachable::from(4), Icmpv6Unreachable::PortUnreachable);
    }
}
