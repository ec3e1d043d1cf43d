//! Replies as the engine sees them, whatever socket they came from.
//!
//! Raw sockets give whole ICMP messages, which [`crate::decode`] turns into a [`Reply`]; Linux's error queue gives
//! the same facts in pieces, from which `net` builds one directly.

use core::net::IpAddr;

pub use packet::MplsLabel;

/// The tag of a probe's payload (UDP or echo): its bytes 2 to 10 (after the 2 that Paris probes use to fix their
/// checksum), unpredictable in our probes.
pub fn payload_tag(payload: &[u8]) -> Option<u64> {
    payload.get(2..10).map(|bytes| u64::from_be_bytes(bytes.try_into().unwrap_or_default()))
}

/// One reply pushed into the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Who sent it.
    pub from: IpAddr,
    /// The TTL (hop limit) it arrived with, when known.
    pub ttl: Option<u8>,
    /// Its size in bytes (IP packet), when known.
    pub size: Option<u16>,
    /// What it says.
    pub kind: ReplyKind,
}

impl Reply {
    /// The target of the probe it answers: the quoted destination of an error, the sender of an answer. A trace
    /// to another target cannot have sent that probe (sockets shared by many traces sort replies by this).
    pub fn probe_target(&self) -> IpAddr {
        match &self.kind {
            ReplyKind::IcmpError(error) => error.quote.dst,
            ReplyKind::EchoReply { .. } | ReplyKind::Tcp(_) => self.from,
        }
    }
}

/// What a reply says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplyKind {
    /// An ICMP error quoting one of our probes.
    IcmpError(IcmpError),
    /// An ICMP Echo Reply (the destination answered an ICMP probe).
    EchoReply {
        /// Echo identifier.
        ident: u16,
        /// Echo sequence number.
        seq: u16,
        /// Bytes 2 to 10 of the echoed payload, when it is that long: unpredictable in our requests, so a reply
        /// must carry the ones sent.
        tag: Option<u64>,
    },
    /// A TCP segment answering a SYN (the destination answered a TCP probe).
    Tcp(TcpAnswer),
}

/// An ICMP or ICMPv6 error message and the probe it quotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcmpError {
    /// Which family of error it is.
    pub class: ErrorClass,
    /// The ICMP type, as on the wire (ICMPv4 or ICMPv6 numbering per the reply's family).
    pub icmp_type: u8,
    /// The ICMP code, as on the wire.
    pub icmp_code: u8,
    /// Next-hop MTU (Fragmentation Needed) or MTU (Packet Too Big), when given.
    pub mtu: Option<u32>,
    /// The probe as the router quoted it.
    pub quote: Quote,
    /// MPLS label stack entries from RFC 4950 extensions, outermost first.
    pub mpls: Vec<MplsLabel>,
}

/// The family-independent meaning of an ICMP error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorClass {
    /// Time Exceeded in transit: a router on the way.
    TimeExceeded,
    /// Destination Unreachable, with its meaning.
    Unreachable(Unreachable),
    /// Fragmentation Needed (ICMPv4) or Packet Too Big (ICMPv6).
    PacketTooBig,
}

/// The meaning of a Destination Unreachable code, shared by ICMPv4 and ICMPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Unreachable {
    /// Network unreachable or unknown (`!N`).
    Network,
    /// Host unreachable or unknown (`!H`).
    Host,
    /// Protocol unreachable (`!P`).
    Protocol,
    /// Port unreachable: the destination answered a UDP probe.
    Port,
    /// Source route failed (`!S`).
    SourceRoute,
    /// Administratively prohibited (`!X`).
    Prohibited,
    /// Host precedence violation (`!V`).
    Precedence,
    /// Precedence cutoff (`!C`).
    PrecedenceCutoff,
    /// ICMPv6 code 5: the source address failed an ingress/egress policy (`!<5>`).
    SourcePolicy,
    /// ICMPv6 code 6: a reject route to the destination (`!<6>`).
    RejectRoute,
    /// Any other code (`!<code>`).
    Other,
}

/// The probe an ICMP error quotes, as far as it was quoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quote {
    /// The probe's source address, when known.
    pub src: Option<IpAddr>,
    /// The probe's destination address.
    pub dst: IpAddr,
    /// The probe's TTL when the router received it (normally 1), when quoted.
    pub ttl: Option<u8>,
    /// The probe's IPv4 identification, when quoted.
    pub ip_id: Option<u16>,
    /// The probe's transport header.
    pub probe: QuotedProbe,
}

/// The identifying transport fields of a quoted probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum QuotedProbe {
    /// A UDP probe.
    Udp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// UDP checksum, when quoted.
        checksum: Option<u16>,
        /// The tag of the quoted payload ([`payload_tag`]), when the quote reaches that far.
        tag: Option<u64>,
    },
    /// An ICMP or ICMPv6 Echo Request probe.
    Icmp {
        /// Echo identifier.
        ident: u16,
        /// Echo sequence number.
        seq: u16,
        /// The quoted ICMP checksum, when known: unpredictable for classic probes (it sums the keyed payload).
        checksum: Option<u16>,
        /// The tag of the quoted payload ([`payload_tag`]), when the quote reaches that far (RFC 792 asks routers
        /// for only 8 bytes past the IP header; Linux quotes the whole probe).
        tag: Option<u64>,
    },
    /// A TCP SYN probe.
    Tcp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// Sequence number, when quoted.
        seq: Option<u32>,
    },
}

/// A TCP segment from the destination in answer to a SYN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpAnswer {
    /// The destination's port (the probe's destination port).
    pub src_port: u16,
    /// Our port (the probe's source port).
    pub dst_port: u16,
    /// Whether it was a reset (else a SYN-ACK).
    pub reset: bool,
    /// Its acknowledgement number, when known.
    pub ack: Option<u32>,
}
