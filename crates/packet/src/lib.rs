//! Zero-copy views and builders for the packets a traceroute sends and receives.
//!
//! Every protocol follows the same pattern (borrowed from smoltcp's `wire`
//! module):
//!
//! * a **view** such as [`Ipv4Packet<T>`] wraps any `T: AsRef<[u8]>` without
//!   copying. [`Ipv4Packet::new_checked`] validates every length field
//!   against the buffer, after which all getters and `payload()` are
//!   guaranteed to be in bounds; `new_unchecked` skips validation (its
//!   getters may panic on short buffers). Setters exist when `T` is also
//!   `AsMut<[u8]>`.
//! * a **representation** such as [`Ipv4Repr`] holds the parsed, validated
//!   high-level fields. `Repr::parse(&view)` checks versions, lengths and
//!   checksums and returns [`Error`] on untrusted garbage (it never panics);
//!   `repr.emit(&mut view)` writes a header into a buffer of at least
//!   `repr.buffer_len()` bytes (emitting into a shorter buffer panics: the
//!   caller controls that buffer).
//!
//! [`quote`] parses the (often truncated or mangled) datagram quoted inside
//! an ICMP error, and [`ext`] handles RFC 4884 extensions such as RFC 4950
//! MPLS label stacks.
//!
//! The crate performs no I/O and parsers never allocate.

/// Defines a `u8`-backed code enum with an `Unknown(u8)` fallback and
/// lossless `From<u8>` / `Into<u8>` conversions.
macro_rules! code_enum {
    ($(#[$meta:meta])* $enum:ident { $($(#[$doc:meta])* $name:ident = $v:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $enum {
            $($(#[$doc])* $name,)*
            /// Any other code.
            Unknown(u8),
        }
        impl From<u8> for $enum {
            fn from(v: u8) -> Self {
                match v {
                    $($v => $enum::$name,)*
                    other => $enum::Unknown(other),
                }
            }
        }
        impl From<$enum> for u8 {
            fn from(c: $enum) -> u8 {
                match c {
                    $($enum::$name => $v,)*
                    $enum::Unknown(v) => v,
                }
            }
        }
    };
}

pub mod checksum;
pub mod ext;
pub mod icmpv4;
pub mod icmpv6;
pub mod ip;
pub mod ipv4;
pub mod ipv6;
pub mod quote;
pub mod tcp;
pub mod udp;

use core::fmt;

pub use ext::{split_rfc4884, ExtensionObject, Extensions, ExtensionsBuilder, MplsLabel};
pub use icmpv4::{Icmpv4Packet, Icmpv4Repr, Icmpv4Unreachable};
pub use icmpv6::{Icmpv6Packet, Icmpv6Repr, Icmpv6Unreachable};
pub use ip::IpProtocol;
pub use ipv4::{Ipv4Packet, Ipv4Repr};
pub use ipv6::{Ipv6Packet, Ipv6Repr};
pub use quote::{QuotedDatagram, QuotedIp, QuotedTransport};
pub use tcp::{TcpFlags, TcpPacket, TcpRepr};
pub use udp::{UdpPacket, UdpRepr};

/// Why a buffer could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// The buffer is shorter than a header or a length field requires.
    Truncated,
    /// A field holds an impossible value (bad version, length too small, ...).
    Malformed,
    /// The checksum does not verify.
    Checksum,
    /// Well-formed, but not something this crate handles (e.g. a fragment).
    Unsupported,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Truncated => "truncated packet",
            Error::Malformed => "malformed packet",
            Error::Checksum => "checksum mismatch",
            Error::Unsupported => "unsupported packet",
        })
    }
}

impl std::error::Error for Error {}

/// Result type used throughout this crate.
pub type Result<T> = core::result::Result<T, Error>;

/// Reads a big-endian `u16` at `at` (caller guarantees bounds).
#[inline]
pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Reads a big-endian `u32` at `at` (caller guarantees bounds).
#[inline]
pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Writes a big-endian `u16` at `at`.
#[inline]
pub(crate) fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

/// Writes a big-endian `u32` at `at`.
#[inline]
pub(crate) fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
}
