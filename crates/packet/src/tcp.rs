//! TCP segment (RFC 9293), enough for SYN probes and their answers.

use core::fmt;
use core::net::IpAddr;

use crate::{be16, be32, checksum, put16, put32, Error, Result};

/// Length of a TCP header without options.
pub const HEADER_LEN: usize = 20;

const PROTO_TCP: u8 = 6;

/// The eight TCP control bits (byte 13 of the header).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// No more data from sender.
    pub const FIN: TcpFlags = TcpFlags(0x01);
    /// Synchronize sequence numbers.
    pub const SYN: TcpFlags = TcpFlags(0x02);
    /// Reset the connection.
    pub const RST: TcpFlags = TcpFlags(0x04);
    /// Push function.
    pub const PSH: TcpFlags = TcpFlags(0x08);
    /// Acknowledgment field is significant.
    pub const ACK: TcpFlags = TcpFlags(0x10);
    /// Urgent pointer field is significant.
    pub const URG: TcpFlags = TcpFlags(0x20);
    /// ECN echo.
    pub const ECE: TcpFlags = TcpFlags(0x40);
    /// Congestion window reduced.
    pub const CWR: TcpFlags = TcpFlags(0x80);

    /// Whether every bit of `other` is set in `self`.
    pub const fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl core::ops::BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | rhs.0)
    }
}

impl fmt::Debug for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [&str; 8] = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"];
        write!(f, "TcpFlags(")?;
        let mut first = true;
        for (i, n) in NAMES.iter().enumerate() {
            if self.0 & (1 << i) != 0 {
                if !first {
                    f.write_str("|")?;
                }
                f.write_str(n)?;
                first = false;
            }
        }
        write!(f, ")")
    }
}

/// A read/write view of a TCP segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    /// Wraps a buffer without validation; getters may panic if it is short.
    pub const fn new_unchecked(buffer: T) -> Self {
        TcpPacket { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks the data offset is ≥ 5 words (`Malformed`) and fits (`Truncated`).
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let hl = usize::from(self.header_len());
        if hl < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if hl > len {
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
    /// Sequence number.
    pub fn seq_number(&self) -> u32 {
        be32(self.b(), 4)
    }
    /// Acknowledgment number.
    pub fn ack_number(&self) -> u32 {
        be32(self.b(), 8)
    }
    /// Header length in bytes (data offset × 4).
    pub fn header_len(&self) -> u8 {
        (self.b()[12] >> 4) * 4
    }
    /// Control bits.
    pub fn flags(&self) -> TcpFlags {
        TcpFlags(self.b()[13])
    }
    /// Receive window.
    pub fn window_len(&self) -> u16 {
        be16(self.b(), 14)
    }
    /// Checksum as transmitted.
    pub fn checksum(&self) -> u16 {
        be16(self.b(), 16)
    }
    /// Urgent pointer.
    pub fn urgent_at(&self) -> u16 {
        be16(self.b(), 18)
    }
    /// Options bytes.
    pub fn options(&self) -> &[u8] {
        &self.b()[HEADER_LEN..usize::from(self.header_len())]
    }
    /// Payload (everything after the header).
    pub fn payload(&self) -> &[u8] {
        &self.b()[usize::from(self.header_len())..]
    }
    /// Whether the checksum over the whole buffer verifies.
    pub fn verify_checksum(&self, src: &IpAddr, dst: &IpAddr) -> bool {
        let b = self.b();
        let len = u32::try_from(b.len()).unwrap_or(u32::MAX);
        checksum::combine(&[checksum::pseudo_header(src, dst, PROTO_TCP, len), checksum::data(b)]) == 0xffff
    }
    /// The MSS option, if present. Errors on malformed option lengths.
    pub fn mss(&self) -> Result<Option<u16>> {
        let mut opts = self.options();
        let mut mss = None;
        while let [kind, rest @ ..] = opts {
            match kind {
                0 => break,
                1 => opts = rest,
                _ => {
                    let len = usize::from(*rest.first().ok_or(Error::Malformed)?);
                    if len < 2 || len > opts.len() {
                        return Err(Error::Malformed);
                    }
                    if *kind == 2 {
                        if len != 4 {
                            return Err(Error::Malformed);
                        }
                        mss = Some(be16(opts, 2));
                    }
                    opts = &opts[len..];
                }
            }
        }
        Ok(mss)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TcpPacket<T> {
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
    /// Sets the sequence number.
    pub fn set_seq_number(&mut self, v: u32) {
        put32(self.m(), 4, v)
    }
    /// Sets the acknowledgment number.
    pub fn set_ack_number(&mut self, v: u32) {
        put32(self.m(), 8, v)
    }
    /// Sets the header length in bytes (multiple of 4, ≤ 60); clears reserved bits.
    pub fn set_header_len(&mut self, len: u8) {
        self.m()[12] = ((len / 4) & 0x0f) << 4;
    }
    /// Sets the control bits.
    pub fn set_flags(&mut self, f: TcpFlags) {
        self.m()[13] = f.0;
    }
    /// Sets the window.
    pub fn set_window_len(&mut self, v: u16) {
        put16(self.m(), 14, v)
    }
    /// Sets the checksum field verbatim.
    pub fn set_checksum(&mut self, v: u16) {
        put16(self.m(), 16, v)
    }
    /// Sets the urgent pointer.
    pub fn set_urgent_at(&mut self, v: u16) {
        put16(self.m(), 18, v)
    }
    /// Mutable options bytes.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let hl = usize::from(self.header_len());
        &mut self.m()[HEADER_LEN..hl]
    }
    /// Mutable payload.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let hl = usize::from(self.header_len());
        &mut self.m()[hl..]
    }
    /// Computes and stores the checksum over the whole buffer.
    pub fn fill_checksum(&mut self, src: &IpAddr, dst: &IpAddr) {
        self.set_checksum(0);
        let b = self.b();
        let len = u32::try_from(b.len()).unwrap_or(u32::MAX);
        let sum = checksum::combine(&[checksum::pseudo_header(src, dst, PROTO_TCP, len), checksum::data(b)]);
        self.set_checksum(checksum::finish(sum));
    }
}

/// The TCP header fields a traceroute sends and inspects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TcpRepr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number (emitted verbatim even without ACK).
    pub ack: u32,
    /// Control bits.
    pub flags: TcpFlags,
    /// Receive window.
    pub window: u16,
    /// Maximum segment size option.
    pub mss: Option<u16>,
}

impl TcpRepr {
    /// Parses a view covering exactly the segment, verifying the checksum.
    ///
    /// Unknown options are skipped; malformed option lengths are `Malformed`.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &TcpPacket<&T>, src: &IpAddr, dst: &IpAddr) -> Result<TcpRepr> {
        packet.check_len()?;
        if !packet.verify_checksum(src, dst) {
            return Err(Error::Checksum);
        }
        Ok(TcpRepr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            seq: packet.seq_number(),
            ack: packet.ack_number(),
            flags: packet.flags(),
            window: packet.window_len(),
            mss: packet.mss()?,
        })
    }

    /// Header length: 20, or 24 with an MSS option.
    pub const fn header_len(&self) -> usize {
        if self.mss.is_some() {
            HEADER_LEN + 4
        } else {
            HEADER_LEN
        }
    }

    /// Header length plus `payload_len`.
    pub const fn buffer_len(&self, payload_len: usize) -> usize {
        self.header_len() + payload_len
    }

    /// Writes header, options and `payload`, then the checksum.
    ///
    /// The view must cover exactly `buffer_len(payload.len())` bytes (the
    /// checksum covers the whole buffer); panics if it is shorter.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(
        &self,
        packet: &mut TcpPacket<&mut T>,
        src: &IpAddr,
        dst: &IpAddr,
        payload: &[u8],
    ) {
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_seq_number(self.seq);
        packet.set_ack_number(self.ack);
        packet.set_header_len(self.header_len() as u8);
        packet.set_flags(self.flags);
        packet.set_window_len(self.window);
        packet.set_urgent_at(0);
        if let Some(mss) = self.mss {
            let [hi, lo] = mss.to_be_bytes();
            packet.options_mut().copy_from_slice(&[2, 4, hi, lo]);
        }
        packet.payload_mut()[..payload.len()].copy_from_slice(payload);
        packet.fill_checksum(src, dst);
    }
}
