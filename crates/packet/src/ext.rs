//! RFC 4884 ICMP multi-part extensions and the RFC 4950 MPLS label stack.
//!
//! An extension structure is a 4-byte header (version 2, reserved, checksum
//! over the whole structure) followed by objects, each a 4-byte header
//! (16-bit length including the header, class-num, c-type) and a payload.

use crate::{be16, checksum, Error, Result};

/// RFC 4884 length unit of ICMPv4 (32-bit words).
pub const ICMPV4_UNIT: usize = 4;
/// RFC 4884 length unit of ICMPv6 (64-bit words).
pub const ICMPV6_UNIT: usize = 8;
/// Minimum "original datagram" length when extensions are present, and the
/// fixed offset at which non-compliant (pre-RFC 4884) senders put them.
pub const MIN_QUOTE_LEN: usize = 128;

/// Extension structure version defined by RFC 4884.
const VERSION: u8 = 2;
/// RFC 4950 MPLS label stack class.
pub const CLASS_MPLS: u8 = 1;
/// RFC 4950 "incoming MPLS label stack" c-type.
pub const CTYPE_MPLS_INCOMING: u8 = 1;

/// Splits an ICMP error payload (everything after the 8-byte ICMP header)
/// into the quoted datagram and the raw extension structure, if any.
///
/// `length` is the RFC 4884 length field and `unit` its unit in bytes
/// ([`ICMPV4_UNIT`] or [`ICMPV6_UNIT`]).
///
/// * `length != 0`: the quote is `length * unit` bytes (including sender
///   padding) and whatever non-empty remainder follows is returned as
///   extensions, unvalidated (use [`Extensions::parse`]). If the claimed
///   length overruns the payload, everything is quote and there are no
///   extensions. Quotes shorter than 128 bytes are tolerated.
/// * `length == 0` and more than 128 bytes: the legacy non-compliant form is
///   accepted only if the bytes from offset 128 carry version 2 and a
///   non-zero, valid checksum (as traceroute(8) does).
/// * otherwise the whole payload is the quote.
pub fn split_rfc4884(payload: &[u8], length: u8, unit: usize) -> (&[u8], Option<&[u8]>) {
    if length != 0 {
        let qlen = usize::from(length).saturating_mul(unit);
        return match payload.split_at_checked(qlen) {
            Some((q, e)) if !e.is_empty() => (q, Some(e)),
            Some((q, _)) => (q, None),
            None => (payload, None),
        };
    }
    if payload.len() > MIN_QUOTE_LEN {
        let (q, e) = payload.split_at(MIN_QUOTE_LEN);
        if e.len() >= 4 && e[0] >> 4 == VERSION && be16(e, 2) != 0 && checksum::data(e) == 0xffff {
            return (q, Some(e));
        }
    }
    (payload, None)
}

/// Emit-side layout of an ICMP error body: returns `(quote bytes to copy,
/// padded quote length, RFC 4884 length field)`.
///
/// Without extensions the quote is written as-is and the length field is 0.
/// With extensions the quote is zero-padded to at least 128 bytes and to a
/// multiple of `unit`, and truncated to at most `255 * unit` bytes.
pub(crate) fn quote_layout(quote: &[u8], has_ext: bool, unit: usize) -> (&[u8], usize, u8) {
    if !has_ext {
        return (quote, quote.len(), 0);
    }
    let max = 255 * unit;
    let quote = &quote[..quote.len().min(max)];
    let padded = quote.len().div_ceil(unit).max(MIN_QUOTE_LEN / unit) * unit;
    (quote, padded, (padded / unit) as u8)
}

/// Writes a quote padded to `padded` bytes followed by `ext` into `out`.
pub(crate) fn write_quote_ext(out: &mut [u8], quote: &[u8], padded: usize, ext: Option<&[u8]>) {
    out[..quote.len()].copy_from_slice(quote);
    out[quote.len()..padded].fill(0);
    if let Some(e) = ext {
        out[padded..padded + e.len()].copy_from_slice(e);
    }
}

/// A validated RFC 4884 extension structure (header checked, objects lazily).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extensions<'a> {
    bytes: &'a [u8],
}

impl<'a> Extensions<'a> {
    /// Validates the header: ≥ 4 bytes (`Truncated`), version 2
    /// (`Unsupported`), and the checksum when non-zero (`Checksum`; RFC 4884
    /// lets a sender transmit zero for "no checksum").
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        if bytes.len() < 4 {
            return Err(Error::Truncated);
        }
        if bytes[0] >> 4 != VERSION {
            return Err(Error::Unsupported);
        }
        if be16(bytes, 2) != 0 && checksum::data(bytes) != 0xffff {
            return Err(Error::Checksum);
        }
        Ok(Extensions { bytes })
    }

    /// The whole structure, header included.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Checksum field as transmitted (0 = not computed).
    pub fn checksum(&self) -> u16 {
        be16(self.bytes, 2)
    }

    /// Iterates over objects; a malformed length yields one `Err` and ends.
    pub fn objects(&self) -> Objects<'a> {
        Objects { rest: &self.bytes[4..] }
    }

    /// All RFC 4950 incoming MPLS label stack entries, in order, from every
    /// MPLS object up to the first malformed object. Trailing bytes of an
    /// object that do not form a whole 4-byte entry are ignored.
    pub fn mpls_labels(&self) -> impl Iterator<Item = MplsLabel> + 'a {
        self.objects()
            .map_while(core::result::Result::ok)
            .filter(|o| o.class_num == CLASS_MPLS && o.c_type == CTYPE_MPLS_INCOMING)
            .flat_map(|o| o.payload.chunks_exact(4).map(MplsLabel::from_entry))
    }
}

/// One extension object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtensionObject<'a> {
    /// Class-num (1 = MPLS label stack, 2 = interface information, ...).
    pub class_num: u8,
    /// Class sub-type.
    pub c_type: u8,
    /// Object payload (after the 4-byte object header).
    pub payload: &'a [u8],
}

/// Iterator over the objects of an [`Extensions`] structure.
#[derive(Debug, Clone)]
pub struct Objects<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Objects<'a> {
    type Item = Result<ExtensionObject<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let r = self.rest;
        let err = |e| Some(Err(e));
        if r.len() < 4 {
            self.rest = &[];
            return err(Error::Truncated);
        }
        let len = usize::from(be16(r, 0));
        if len < 4 {
            self.rest = &[];
            return err(Error::Malformed);
        }
        if len > r.len() {
            self.rest = &[];
            return err(Error::Truncated);
        }
        self.rest = &r[len..];
        Some(Ok(ExtensionObject { class_num: r[2], c_type: r[3], payload: &r[4..len] }))
    }
}

/// One RFC 4950 MPLS label stack entry (RFC 3032 layout).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MplsLabel {
    /// 20-bit label value.
    pub label: u32,
    /// 3-bit traffic class (formerly EXP).
    pub tc: u8,
    /// Bottom-of-stack bit.
    pub bottom: bool,
    /// TTL.
    pub ttl: u8,
}

impl MplsLabel {
    /// Decodes a 4-byte entry. Panics if `entry` is shorter than 4 bytes.
    fn from_entry(entry: &[u8]) -> MplsLabel {
        MplsLabel::from_bytes([entry[0], entry[1], entry[2], entry[3]])
    }

    /// Decodes a 4-byte label stack entry.
    pub fn from_bytes(b: [u8; 4]) -> MplsLabel {
        let v = u32::from_be_bytes(b);
        MplsLabel { label: v >> 12, tc: ((v >> 9) & 0x7) as u8, bottom: v & 0x100 != 0, ttl: b[3] }
    }

    /// Encodes the entry (label and tc are masked to 20 and 3 bits).
    pub fn to_bytes(&self) -> [u8; 4] {
        let v = ((self.label & 0x000f_ffff) << 12)
            | (u32::from(self.tc & 0x7) << 9)
            | (u32::from(self.bottom) << 8)
            | u32::from(self.ttl);
        v.to_be_bytes()
    }
}

/// Builds an extension structure (header, objects, checksum).
#[derive(Debug, Clone)]
pub struct ExtensionsBuilder {
    buf: Vec<u8>,
}

impl Default for ExtensionsBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ExtensionsBuilder {
    /// Starts an empty version-2 structure.
    pub fn new() -> Self {
        ExtensionsBuilder { buf: vec![VERSION << 4, 0, 0, 0] }
    }

    /// Appends an object. Panics if `payload` exceeds 65531 bytes.
    pub fn object(mut self, class_num: u8, c_type: u8, payload: &[u8]) -> Self {
        let len = u16::try_from(payload.len() + 4).expect("extension object too long");
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(&[class_num, c_type]);
        self.buf.extend_from_slice(payload);
        self
    }

    /// Appends an RFC 4950 incoming MPLS label stack object.
    pub fn mpls(self, labels: &[MplsLabel]) -> Self {
        let payload: Vec<u8> = labels.iter().flat_map(|l| l.to_bytes()).collect();
        self.object(CLASS_MPLS, CTYPE_MPLS_INCOMING, &payload)
    }

    /// Finishes the structure, filling in the checksum.
    pub fn build(mut self) -> Vec<u8> {
        let c = checksum::finish(checksum::data(&self.buf));
        self.buf[2..4].copy_from_slice(&c.to_be_bytes());
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mpls_entry_bits() {
        // label 16, tc 0, S=1, ttl 1 -> 0x00010101
        let l = MplsLabel::from_bytes([0x00, 0x01, 0x01, 0x01]);
        assert_eq!(l, MplsLabel { label: 16, tc: 0, bottom: true, ttl: 1 });
        let l2 = MplsLabel { label: 0xfffff, tc: 5, bottom: false, ttl: 254 };
        assert_eq!(l2.to_bytes(), [0xff, 0xff, 0xfa, 0xfe]);
        assert_eq!(MplsLabel::from_bytes(l2.to_bytes()), l2);
    }

    #[test]
    fn objects_stop_on_zero_length() {
        let mut b = vec![0x20, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0];
        let e = Extensions::parse(&b).unwrap();
        let v: Vec<_> = e.objects().collect();
        assert_eq!(v, vec![Err(Error::Malformed)]);
        b[5] = 8; // length 8 overruns the 8 remaining bytes? no: exactly fits
        let e = Extensions::parse(&b).unwrap();
        assert_eq!(e.objects().count(), 1);
        b[5] = 9;
        let e = Extensions::parse(&b).unwrap();
        assert_eq!(e.objects().collect::<Vec<_>>(), vec![Err(Error::Truncated)]);
    }

    #[test]
    fn builder_checksum_and_version_checks() {
        let b = ExtensionsBuilder::new().object(9, 9, &[1, 2, 3]).build();
        let e = Extensions::parse(&b).unwrap();
        assert_ne!(e.checksum(), 0);
        let o = e.objects().next().unwrap().unwrap();
        assert_eq!((o.class_num, o.c_type, o.payload), (9, 9, &[1u8, 2, 3][..]));
        let mut bad = b.clone();
        bad[4 + 4] ^= 1;
        assert_eq!(Extensions::parse(&bad), Err(Error::Checksum));
        let mut v1 = b.clone();
        v1[0] = 0x10;
        assert_eq!(Extensions::parse(&v1), Err(Error::Unsupported));
        let mut nock = b;
        nock[2] = 0;
        nock[3] = 0;
        assert!(Extensions::parse(&nock).is_ok());
    }

    #[test]
    fn split_forms() {
        let ext = ExtensionsBuilder::new().mpls(&[]).build();
        let mut p = vec![0u8; 128];
        p.extend_from_slice(&ext);
        // Compliant: 32 words.
        assert_eq!(split_rfc4884(&p, 32, ICMPV4_UNIT), (&p[..128], Some(&ext[..])));
        // Legacy.
        assert_eq!(split_rfc4884(&p, 0, ICMPV4_UNIT), (&p[..128], Some(&ext[..])));
        // Length overruns: no extensions.
        assert_eq!(split_rfc4884(&p, 255, ICMPV6_UNIT), (&p[..], None));
        // Length exactly the payload: nothing after it.
        assert_eq!(split_rfc4884(&p[..128], 16, ICMPV6_UNIT), (&p[..128], None));
        // Legacy with checksum zero is not accepted.
        let mut z = p.clone();
        z[130] = 0;
        z[131] = 0;
        assert_eq!(split_rfc4884(&z, 0, ICMPV4_UNIT), (&z[..], None));
        // Short payload: all quote.
        assert_eq!(split_rfc4884(&p[..60], 0, ICMPV4_UNIT), (&p[..60], None));
    }
}
