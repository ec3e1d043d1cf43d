//! ICMP for IPv4 (RFC 792, RFC 1191, RFC 1812, RFC 4884).

use crate::ext::{quote_layout, split_rfc4884, write_quote_ext, ICMPV4_UNIT};
use crate::{be16, checksum, put16, Error, Result};

/// Length of the ICMP header (type, code, checksum, 4 bytes rest).
pub const HEADER_LEN: usize = 8;

/// Message type numbers.
pub mod msg_type {
    /// Echo Reply.
    pub const ECHO_REPLY: u8 = 0;
    /// Destination Unreachable.
    pub const DST_UNREACHABLE: u8 = 3;
    /// Echo Request.
    pub const ECHO_REQUEST: u8 = 8;
    /// Time Exceeded.
    pub const TIME_EXCEEDED: u8 = 11;
}

code_enum! {
    /// Destination Unreachable codes (RFC 792, RFC 1122, RFC 1812).
    Icmpv4Unreachable {
    /// 0: network unreachable.
    NetUnreachable = 0,
    /// 1: host unreachable.
    HostUnreachable = 1,
    /// 2: protocol unreachable.
    ProtoUnreachable = 2,
    /// 3: port unreachable.
    PortUnreachable = 3,
    /// 4: fragmentation needed and DF set (carries the next-hop MTU).
    FragRequired = 4,
    /// 5: source route failed.
    SrcRouteFailed = 5,
    /// 6: destination network unknown.
    DstNetUnknown = 6,
    /// 7: destination host unknown.
    DstHostUnknown = 7,
    /// 8: source host isolated.
    SrcHostIsolated = 8,
    /// 9: network administratively prohibited.
    NetProhibited = 9,
    /// 10: host administratively prohibited.
    HostProhibited = 10,
    /// 11: network unreachable for type of service.
    NetUnreachToS = 11,
    /// 12: host unreachable for type of service.
    HostUnreachToS = 12,
    /// 13: communication administratively prohibited.
    CommProhibited = 13,
    /// 14: host precedence violation.
    HostPrecedViol = 14,
    /// 15: precedence cutoff in effect.
    PrecedenceCutoff = 15,
}}

/// A read/write view of an ICMPv4 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icmpv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Icmpv4Packet<T> {
    /// Wraps a buffer without validation; getters may panic if it is short.
    pub const fn new_unchecked(buffer: T) -> Self {
        Icmpv4Packet { buffer }
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
    /// Next-hop MTU of a "fragmentation needed" message (bytes 6–7).
    pub fn next_hop_mtu(&self) -> u16 {
        be16(self.b(), 6)
    }
    /// RFC 4884 length of the original datagram in 32-bit words (octet 5).
    pub fn rfc4884_length(&self) -> u8 {
        self.b()[5]
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
    /// Whether the checksum over the whole buffer verifies.
    pub fn verify_checksum(&self) -> bool {
        checksum::data(self.b()) == 0xffff
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv4Packet<T> {
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
    /// Sets the next-hop MTU.
    pub fn set_next_hop_mtu(&mut self, v: u16) {
        put16(self.m(), 6, v)
    }
    /// Sets the RFC 4884 length (32-bit words).
    pub fn set_rfc4884_length(&mut self, v: u8) {
        self.m()[5] = v;
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
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::finish(checksum::data(self.b()));
        self.set_checksum(c);
    }
}

/// A parsed ICMPv4 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Icmpv4Repr<'a> {
    /// Echo Request (type 8).
    EchoRequest {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Payload.
        data: &'a [u8],
    },
    /// Echo Reply (type 0).
    EchoReply {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Payload.
        data: &'a [u8],
    },
    /// Destination Unreachable (type 3).
    DstUnreachable {
        /// Reason.
        code: Icmpv4Unreachable,
        /// Bytes 6–7: the next-hop MTU for `FragRequired`, normally 0 otherwise.
        next_hop_mtu: u16,
        /// The quoted datagram (with any RFC 4884 zero padding).
        quote: &'a [u8],
        /// Raw RFC 4884 extension structure, see [`crate::Extensions`].
        extensions: Option<&'a [u8]>,
    },
    /// Time Exceeded (type 11; code 0 = TTL, 1 = reassembly).
    TimeExceeded {
        /// Code.
        code: u8,
        /// The quoted datagram (with any RFC 4884 zero padding).
        quote: &'a [u8],
        /// Raw RFC 4884 extension structure, see [`crate::Extensions`].
        extensions: Option<&'a [u8]>,
    },
    /// Any other type, kept raw. `msg_type` must not be one of the types
    /// above, or parsing the emitted bytes yields that variant instead.
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

impl<'a> Icmpv4Repr<'a> {
    /// Parses a message whose view covers exactly the ICMP message;
    /// the checksum must verify (`Error::Checksum`).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Icmpv4Packet<&'a T>) -> Result<Self> {
        packet.check_len()?;
        if !packet.verify_checksum() {
            return Err(Error::Checksum);
        }
        let buf: &'a [u8] = <T as AsRef<[u8]>>::as_ref(packet.buffer);
        let data = buf.get(HEADER_LEN..).unwrap_or(&[]);
        let split = || split_rfc4884(data, packet.rfc4884_length(), ICMPV4_UNIT);
        Ok(match packet.msg_type() {
            msg_type::ECHO_REQUEST => {
                Icmpv4Repr::EchoRequest { ident: packet.echo_ident(), seq_no: packet.echo_seq_no(), data }
            }
            msg_type::ECHO_REPLY => {
                Icmpv4Repr::EchoReply { ident: packet.echo_ident(), seq_no: packet.echo_seq_no(), data }
            }
            msg_type::DST_UNREACHABLE => {
                let (quote, extensions) = split();
                Icmpv4Repr::DstUnreachable {
                    code: packet.msg_code().into(),
                    next_hop_mtu: packet.next_hop_mtu(),
                    quote,
                    extensions,
                }
            }
            msg_type::TIME_EXCEEDED => {
                let (quote, extensions) = split();
                Icmpv4Repr::TimeExceeded { code: packet.msg_code(), quote, extensions }
            }
            t => Icmpv4Repr::Other {
                msg_type: t,
                code: packet.msg_code(),
                rest_of_header: packet.rest_of_header(),
                data,
            },
        })
    }

    /// Length of the ICMP header (8).
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Bytes needed by [`emit`](Self::emit).
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
            + match *self {
                Icmpv4Repr::EchoRequest { data, .. }
                | Icmpv4Repr::EchoReply { data, .. }
                | Icmpv4Repr::Other { data, .. } => data.len(),
                Icmpv4Repr::DstUnreachable { quote, extensions, .. }
                | Icmpv4Repr::TimeExceeded { quote, extensions, .. } => {
                    let ext = extensions.map_or(0, <[u8]>::len);
                    quote_layout(quote, extensions.is_some(), ICMPV4_UNIT).1 + ext
                }
            }
    }

    /// Writes the message and its checksum.
    ///
    /// With `extensions`, the quote is zero-padded to ≥ 128 bytes and a
    /// multiple of 4 (truncated to 1020) and the length field set; otherwise
    /// the length field is 0. The view must cover exactly
    /// [`buffer_len`](Self::buffer_len) bytes (panics if shorter).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Icmpv4Packet<&mut T>) {
        match *self {
            Icmpv4Repr::EchoRequest { ident, seq_no, data } | Icmpv4Repr::EchoReply { ident, seq_no, data } => {
                let t = if matches!(self, Icmpv4Repr::EchoRequest { .. }) {
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
            Icmpv4Repr::DstUnreachable { code, next_hop_mtu, quote, extensions } => {
                packet.set_msg_type(msg_type::DST_UNREACHABLE);
                packet.set_msg_code(code.into());
                let (q, padded, words) = quote_layout(quote, extensions.is_some(), ICMPV4_UNIT);
                packet.set_rest_of_header([0, words, 0, 0]);
                packet.set_next_hop_mtu(next_hop_mtu);
                write_quote_ext(packet.data_mut(), q, padded, extensions);
            }
            Icmpv4Repr::TimeExceeded { code, quote, extensions } => {
                packet.set_msg_type(msg_type::TIME_EXCEEDED);
                packet.set_msg_code(code);
                let (q, padded, words) = quote_layout(quote, extensions.is_some(), ICMPV4_UNIT);
                packet.set_rest_of_header([0, words, 0, 0]);
                write_quote_ext(packet.data_mut(), q, padded, extensions);
            }
            Icmpv4Repr::Other { msg_type, code, rest_of_header, data } => {
                packet.set_msg_type(msg_type);
                packet.set_msg_code(code);
                packet.set_rest_of_header(rest_of_header);
                packet.data_mut()[..data.len()].copy_from_slice(data);
            }
        }
        packet.fill_checksum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unreachable_code_round_trips() {
        for v in 0..=255u8 {
            assert_eq!(u8::from(Icmpv4Unreachable::from(v)), v);
        }
        assert_eq!(Icmpv4Unreachable::from(10), Icmpv4Unreachable::HostProhibited);
        assert_eq!(Icmpv4Unreachable::from(15), Icmpv4Unreachable::PrecedenceCutoff);
        assert_eq!(Icmpv4Unreachable::from(16), Icmpv4Unreachable::Unknown(16));
    }
}
