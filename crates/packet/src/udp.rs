//! UDP datagram (RFC 768).

use core::net::IpAddr;

use crate::{be16, checksum, put16, Error, Result};

/// Length of the UDP header.
pub const HEADER_LEN: usize = 8;

/// IP protocol number of UDP.
const PROTO_UDP: u8 = 17;

/// A read/write view of a UDP datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> UdpPacket<T> {
    /// Wraps a buffer without validation; getters may panic if it is short.
    pub const fn new_unchecked(buffer: T) -> Self {
        UdpPacket { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks the header fits and `8 <= len <= buffer length`.
    pub fn check_len(&self) -> Result<()> {
        let buf_len = self.buffer.as_ref().len();
        if buf_len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let len = usize::from(self.len());
        if len < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if len > buf_len {
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

    /// Source port.
    pub fn src_port(&self) -> u16 {
        be16(self.b(), 0)
    }
    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        be16(self.b(), 2)
    }
    /// Length of header plus payload, as claimed.
    pub fn len(&self) -> u16 {
        be16(self.b(), 4)
    }
    /// Whether the claimed length is zero (always malformed).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Checksum as transmitted (0 = none, IPv4 only).
    pub fn checksum(&self) -> u16 {
        be16(self.b(), 6)
    }
    /// Payload, bounded by the length field.
    pub fn payload(&self) -> &[u8] {
        &self.b()[HEADER_LEN..usize::from(self.len())]
    }
    /// Whether the checksum verifies against the pseudo-header.
    ///
    /// A zero checksum verifies only for IPv4 ("no checksum").
    pub fn verify_checksum(&self, src: &IpAddr, dst: &IpAddr) -> bool {
        if self.checksum() == 0 {
            return src.is_ipv4();
        }
        let len = self.len();
        let sum = checksum::combine(&[
            checksum::pseudo_header(src, dst, PROTO_UDP, u32::from(len)),
            checksum::data(&self.b()[..usize::from(len)]),
        ]);
        sum == 0xffff
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> UdpPacket<T> {
    fn m(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }
    /// Sets the source port.
    pub fn set_src_port(&mut self, v: u16) {
        put16(self.m(), 0, v)
    }
    /// Sets the destination port.
    pub fn set_dst_port(&mut self, v: u16) {
        put16(self.m(), 2, v)
    }
    /// Sets the length field.
    pub fn set_len(&mut self, v: u16) {
        put16(self.m(), 4, v)
    }
    /// Sets the checksum field verbatim.
    pub fn set_checksum(&mut self, v: u16) {
        put16(self.m(), 6, v)
    }
    /// Mutable payload, bounded by the length field.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = usize::from(self.len());
        &mut self.m()[HEADER_LEN..end]
    }
    /// Computes and stores the checksum (a computed 0 is sent as `0xffff`).
    pub fn fill_checksum(&mut self, src: &IpAddr, dst: &IpAddr) {
        self.set_checksum(0);
        let len = self.len();
        let sum = checksum::combine(&[
            checksum::pseudo_header(src, dst, PROTO_UDP, u32::from(len)),
            checksum::data(&self.b()[..usize::from(len)]),
        ]);
        let c = checksum::finish(sum);
        self.set_checksum(if c == 0 { 0xffff } else { c });
    }
}

/// The header fields of a UDP datagram (the payload stays in the buffer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UdpRepr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
}

impl UdpRepr {
    /// Parses a view, verifying a non-zero checksum (`Error::Checksum`).
    ///
    /// A zero checksum is accepted for IPv4 and rejected for IPv6.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &UdpPacket<&T>, src: &IpAddr, dst: &IpAddr) -> Result<UdpRepr> {
        packet.check_len()?;
        if !packet.verify_checksum(src, dst) {
            return Err(Error::Checksum);
        }
        Ok(UdpRepr { src_port: packet.src_port(), dst_port: packet.dst_port() })
    }

    /// Length of the header (8).
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Length of header plus a payload of `payload_len` bytes.
    pub const fn buffer_len(&self, payload_len: usize) -> usize {
        HEADER_LEN + payload_len
    }

    /// Writes header and `payload`, then the checksum.
    ///
    /// Panics if the buffer is shorter than `8 + payload.len()` or that sum
    /// exceeds 65535.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(
        &self,
        packet: &mut UdpPacket<&mut T>,
        src: &IpAddr,
        dst: &IpAddr,
        payload: &[u8],
    ) {
        let len = u16::try_from(HEADER_LEN + payload.len()).expect("UDP datagram too long");
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_len(len);
        packet.payload_mut().copy_from_slice(payload);
        packet.fill_checksum(src, dst);
    }
}
