//! IPv4 header (RFC 791).

use core::net::Ipv4Addr;

use crate::{be16, checksum, put16, Error, IpProtocol, Result};

mod field {
    pub const VER_IHL: usize = 0;
    pub const TOS: usize = 1;
    pub const LENGTH: usize = 2;
    pub const IDENT: usize = 4;
    pub const FLG_OFF: usize = 6;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: usize = 10;
    pub const SRC: usize = 12;
    pub const DST: usize = 16;
}

/// Length of an IPv4 header without options.
pub const HEADER_LEN: usize = 20;

/// A read/write view of an IPv4 packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Wraps a buffer without validation; getters may panic if it is short.
    pub const fn new_unchecked(buffer: T) -> Self {
        Ipv4Packet { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks that the header (with options) and `total_len` fit the buffer.
    ///
    /// Errors: `Truncated` if the buffer is shorter than 20 bytes, the IHL
    /// or `total_len`; `Malformed` if IHL < 5 or `total_len` < header length.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let hl = self.header_len() as usize;
        if hl < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if hl > len {
            return Err(Error::Truncated);
        }
        let total = usize::from(self.total_len());
        if total < hl {
            return Err(Error::Malformed);
        }
        if total > len {
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

    /// IP version (should be 4).
    pub fn version(&self) -> u8 {
        self.b()[field::VER_IHL] >> 4
    }
    /// Header length in bytes (IHL × 4).
    pub fn header_len(&self) -> u8 {
        (self.b()[field::VER_IHL] & 0x0f) * 4
    }
    /// The whole type-of-service byte (DSCP << 2 | ECN).
    pub fn tos(&self) -> u8 {
        self.b()[field::TOS]
    }
    /// Differentiated services code point.
    pub fn dscp(&self) -> u8 {
        self.tos() >> 2
    }
    /// Explicit congestion notification bits.
    pub fn ecn(&self) -> u8 {
        self.tos() & 0x03
    }
    /// Total length of header and payload.
    pub fn total_len(&self) -> u16 {
        be16(self.b(), field::LENGTH)
    }
    /// Identification field.
    pub fn ident(&self) -> u16 {
        be16(self.b(), field::IDENT)
    }
    /// "Don't fragment" flag.
    pub fn dont_frag(&self) -> bool {
        self.b()[field::FLG_OFF] & 0x40 != 0
    }
    /// "More fragments" flag.
    pub fn more_frags(&self) -> bool {
        self.b()[field::FLG_OFF] & 0x20 != 0
    }
    /// Fragment offset in bytes.
    pub fn frag_offset(&self) -> u16 {
        (be16(self.b(), field::FLG_OFF) & 0x1fff) << 3
    }
    /// Time to live (hop limit).
    pub fn ttl(&self) -> u8 {
        self.b()[field::TTL]
    }
    /// Protocol of the payload.
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol::from(self.b()[field::PROTOCOL])
    }
    /// Header checksum as transmitted.
    pub fn checksum(&self) -> u16 {
        be16(self.b(), field::CHECKSUM)
    }
    /// Source address.
    pub fn src_addr(&self) -> Ipv4Addr {
        let b = self.b();
        Ipv4Addr::new(b[field::SRC], b[field::SRC + 1], b[field::SRC + 2], b[field::SRC + 3])
    }
    /// Destination address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        let b = self.b();
        Ipv4Addr::new(b[field::DST], b[field::DST + 1], b[field::DST + 2], b[field::DST + 3])
    }
    /// Options bytes (between the fixed header and the payload).
    pub fn options(&self) -> &[u8] {
        &self.b()[HEADER_LEN..usize::from(self.header_len())]
    }
    /// Whether the header checksum verifies.
    pub fn verify_checksum(&self) -> bool {
        checksum::data(&self.b()[..usize::from(self.header_len())]) == 0xffff
    }
    /// Payload, bounded by `total_len` (trailing link-layer padding excluded).
    pub fn payload(&self) -> &[u8] {
        &self.b()[usize::from(self.header_len())..usize::from(self.total_len())]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    fn m(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }
    /// Sets the version nibble.
    pub fn set_version(&mut self, v: u8) {
        let b = self.m();
        b[field::VER_IHL] = (b[field::VER_IHL] & 0x0f) | (v << 4);
    }
    /// Sets the header length in bytes (must be a multiple of 4).
    pub fn set_header_len(&mut self, len: u8) {
        let b = self.m();
        b[field::VER_IHL] = (b[field::VER_IHL] & 0xf0) | ((len / 4) & 0x0f);
    }
    /// Sets the type-of-service byte.
    pub fn set_tos(&mut self, v: u8) {
        self.m()[field::TOS] = v;
    }
    /// Sets the total length.
    pub fn set_total_len(&mut self, v: u16) {
        put16(self.m(), field::LENGTH, v)
    }
    /// Sets the identification field.
    pub fn set_ident(&mut self, v: u16) {
        put16(self.m(), field::IDENT, v)
    }
    /// Sets flags and fragment offset (in bytes, multiple of 8).
    pub fn set_frag(&mut self, dont_frag: bool, more_frags: bool, offset: u16) {
        let v = (u16::from(dont_frag) << 14) | (u16::from(more_frags) << 13) | ((offset >> 3) & 0x1fff);
        put16(self.m(), field::FLG_OFF, v)
    }
    /// Sets the time to live.
    pub fn set_ttl(&mut self, v: u8) {
        self.m()[field::TTL] = v;
    }
    /// Sets the payload protocol.
    pub fn set_next_header(&mut self, p: IpProtocol) {
        self.m()[field::PROTOCOL] = p.into();
    }
    /// Sets the checksum field verbatim.
    pub fn set_checksum(&mut self, v: u16) {
        put16(self.m(), field::CHECKSUM, v)
    }
    /// Sets the source address.
    pub fn set_src_addr(&mut self, a: Ipv4Addr) {
        self.m()[field::SRC..field::SRC + 4].copy_from_slice(&a.octets());
    }
    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, a: Ipv4Addr) {
        self.m()[field::DST..field::DST + 4].copy_from_slice(&a.octets());
    }
    /// Computes and stores the header checksum.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let hl = usize::from(self.header_len());
        let sum = checksum::data(&self.b()[..hl]);
        self.set_checksum(checksum::finish(sum));
    }
    /// Mutable payload, bounded by `total_len`.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let (hl, total) = (usize::from(self.header_len()), usize::from(self.total_len()));
        &mut self.m()[hl..total]
    }
}

/// The fields of an IPv4 header this crate emits (no options).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Repr {
    /// Source address.
    pub src_addr: Ipv4Addr,
    /// Destination address.
    pub dst_addr: Ipv4Addr,
    /// Payload protocol.
    pub next_header: IpProtocol,
    /// Payload length in bytes (total length minus header length).
    pub payload_len: usize,
    /// Time to live.
    pub ttl: u8,
    /// Type-of-service byte (DSCP and ECN).
    pub tos: u8,
    /// Identification.
    pub ident: u16,
    /// "Don't fragment" flag.
    pub dont_frag: bool,
}

impl Ipv4Repr {
    /// Parses a checked view: version must be 4, the checksum must verify.
    ///
    /// Options are tolerated and skipped. Fragments (MF set or non-zero
    /// offset) are rejected with `Error::Unsupported`.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Ipv4Packet<&T>) -> Result<Ipv4Repr> {
        packet.check_len()?;
        if packet.version() != 4 {
            return Err(Error::Malformed);
        }
        if !packet.verify_checksum() {
            return Err(Error::Checksum);
        }
        if packet.more_frags() || packet.frag_offset() != 0 {
            return Err(Error::Unsupported);
        }
        Ok(Ipv4Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            next_header: packet.next_header(),
            payload_len: usize::from(packet.total_len()) - usize::from(packet.header_len()),
            ttl: packet.ttl(),
            tos: packet.tos(),
            ident: packet.ident(),
            dont_frag: packet.dont_frag(),
        })
    }

    /// Length of the emitted header (always 20).
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Length of header plus payload.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN + self.payload_len
    }

    /// Writes the header (with checksum) into the first 20 bytes.
    ///
    /// `total_len` is `20 + payload_len`, saturated to 65535. The payload is
    /// left untouched. Panics if the buffer is shorter than 20 bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Ipv4Packet<&mut T>) {
        packet.set_version(4);
        packet.set_header_len(HEADER_LEN as u8);
        packet.set_tos(self.tos);
        packet.set_total_len(u16::try_from(self.buffer_len()).unwrap_or(u16::MAX));
        packet.set_ident(self.ident);
        packet.set_frag(self.dont_frag, false, 0);
        packet.set_ttl(self.ttl);
        packet.set_next_header(self.next_header);
        packet.set_src_addr(self.src_addr);
        packet.set_dst_addr(self.dst_addr);
        packet.fill_checksum();
    }
}
