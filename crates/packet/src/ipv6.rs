//! IPv6 fixed header (RFC 8200). Extension headers are not interpreted here
//! (see [`crate::quote`] for the lenient skipping used on quoted datagrams).

use core::net::Ipv6Addr;

use crate::{be16, be32, put16, put32, Error, IpProtocol, Result};

mod field {
    pub const VER_TC_FLOW: usize = 0;
    pub const LENGTH: usize = 4;
    pub const NXT_HDR: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC: usize = 8;
    pub const DST: usize = 24;
}

/// Length of the IPv6 fixed header.
pub const HEADER_LEN: usize = 40;

/// A read/write view of an IPv6 packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

fn addr(b: &[u8], at: usize) -> Ipv6Addr {
    let mut o = [0u8; 16];
    o.copy_from_slice(&b[at..at + 16]);
    Ipv6Addr::from(o)
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    /// Wraps a buffer without validation; getters may panic if it is short.
    pub const fn new_unchecked(buffer: T) -> Self {
        Ipv6Packet { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks that the 40-byte header and `payload_len` fit (`Truncated`).
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN || HEADER_LEN + usize::from(self.payload_len()) > len {
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

    /// IP version (should be 6).
    pub fn version(&self) -> u8 {
        self.b()[field::VER_TC_FLOW] >> 4
    }
    /// Traffic class (DSCP and ECN).
    pub fn traffic_class(&self) -> u8 {
        (be16(self.b(), field::VER_TC_FLOW) >> 4) as u8
    }
    /// 20-bit flow label.
    pub fn flow_label(&self) -> u32 {
        be32(self.b(), field::VER_TC_FLOW) & 0x000f_ffff
    }
    /// Payload length (everything after the fixed header).
    pub fn payload_len(&self) -> u16 {
        be16(self.b(), field::LENGTH)
    }
    /// Next header (first extension header or upper-layer protocol).
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol::from(self.b()[field::NXT_HDR])
    }
    /// Hop limit.
    pub fn hop_limit(&self) -> u8 {
        self.b()[field::HOP_LIMIT]
    }
    /// Source address.
    pub fn src_addr(&self) -> Ipv6Addr {
        addr(self.b(), field::SRC)
    }
    /// Destination address.
    pub fn dst_addr(&self) -> Ipv6Addr {
        addr(self.b(), field::DST)
    }
    /// Payload, bounded by `payload_len`.
    pub fn payload(&self) -> &[u8] {
        &self.b()[HEADER_LEN..HEADER_LEN + usize::from(self.payload_len())]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6Packet<T> {
    fn m(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }
    /// Sets version, traffic class and flow label (the first 32 bits).
    pub fn set_ver_tc_flow(&mut self, version: u8, traffic_class: u8, flow_label: u32) {
        let v = (u32::from(version & 0x0f) << 28) | (u32::from(traffic_class) << 20) | (flow_label & 0x000f_ffff);
        put32(self.m(), field::VER_TC_FLOW, v)
    }
    /// Sets the payload length.
    pub fn set_payload_len(&mut self, v: u16) {
        put16(self.m(), field::LENGTH, v)
    }
    /// Sets the next header.
    pub fn set_next_header(&mut self, p: IpProtocol) {
        self.m()[field::NXT_HDR] = p.into();
    }
    /// Sets the hop limit.
    pub fn set_hop_limit(&mut self, v: u8) {
        self.m()[field::HOP_LIMIT] = v;
    }
    /// Sets the source address.
    pub fn set_src_addr(&mut self, a: Ipv6Addr) {
        self.m()[field::SRC..field::SRC + 16].copy_from_slice(&a.octets());
    }
    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, a: Ipv6Addr) {
        self.m()[field::DST..field::DST + 16].copy_from_slice(&a.octets());
    }
    /// Mutable payload, bounded by `payload_len`.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = HEADER_LEN + usize::from(self.payload_len());
        &mut self.m()[HEADER_LEN..end]
    }
}

/// The fields of an IPv6 fixed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6Repr {
    /// Source address.
    pub src_addr: Ipv6Addr,
    /// Destination address.
    pub dst_addr: Ipv6Addr,
    /// Next header.
    pub next_header: IpProtocol,
    /// Payload length in bytes.
    pub payload_len: usize,
    /// Hop limit.
    pub hop_limit: u8,
    /// Traffic class.
    pub traffic_class: u8,
    /// Flow label (20 bits; higher bits are dropped on emit).
    pub flow_label: u32,
}

impl Ipv6Repr {
    /// Parses a view; the version must be 6 (`Malformed` otherwise).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Ipv6Packet<&T>) -> Result<Ipv6Repr> {
        packet.check_len()?;
        if packet.version() != 6 {
            return Err(Error::Malformed);
        }
        Ok(Ipv6Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            next_header: packet.next_header(),
            payload_len: usize::from(packet.payload_len()),
            hop_limit: packet.hop_limit(),
            traffic_class: packet.traffic_class(),
            flow_label: packet.flow_label(),
        })
    }

    /// Length of the header (always 40).
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Length of header plus payload.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN + self.payload_len
    }

    /// Writes the 40-byte header (`payload_len` saturated to 65535).
    /// Panics if the buffer is shorter than 40 bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Ipv6Packet<&mut T>) {
        packet.set_ver_tc_flow(6, self.traffic_class, self.flow_label);
        packet.set_payload_len(u16::try_from(self.payload_len).unwrap_or(u16::MAX));
        packet.set_next_header(self.next_header);
        packet.set_hop_limit(self.hop_limit);
        packet.set_src_addr(self.src_addr);
        packet.set_dst_addr(self.dst_addr);
    }
}
