//! Stateless bulk probing in caracal's manner: every probe carries what is needed to match its reply, so memory
//! stays flat however many probes are sent.
//!
//! A probe ([`ProbeSpec`], one line of caracal's input `dst_addr,src_port,dst_port,ttl,protocol`) is encoded by
//! [`encode`] into a whole IP packet that carries its own identity:
//!
//! * the **TTL** in the length of the payload (`ttl + 2` bytes), which routers quote back;
//! * the **send time**, in tenths of a millisecond modulo 65,535, in a field the flow hash ignores: the UDP
//!   checksum (the payload's first two bytes make it come out so), or the ICMP Echo sequence number;
//! * the **flow**: the UDP ports, or, for ICMP, the source port as the Echo checksum and identifier;
//! * an **integrity tag** ([`tag`]) over the caracal id, destination, source port and TTL: in the IPv4
//!   identification field (what caracal checks), and in the two payload bytes after the checksum tweak (what IPv6
//!   replies and Echo Replies, which quote no IPv4 header, are checked by).
//!
//! [`decode`] turns a received ICMP message back into caracal's reply row ([`Row`]), or rejects it: a reply whose
//! tag does not match is [`Rejection::Integrity`], one too short to carry it [`Rejection::Untagged`]; both are
//! counted and dropped, never attributed. [`Pacer`] holds the rate;
//! [`DestinationCap`] bounds the probes any one address receives per second.
//!
//! [`Planner`] is `bulk --targets`' plan without IO: which (target, TTL, flow) to probe next, as the rows of the
//! replies come — passes, gap limit, reached destinations, MDA's rounds — and the traces they make ([`Planner::hops`]).

mod cap;
mod decode;
mod encode;
mod hops;
mod mda;
mod order;
mod pace;
mod planner;
mod row;
mod spec;
mod tag;

pub use cap::DestinationCap;
pub use decode::{decode, Arrival, Check, Rejection};
pub use encode::{encode, MAX_PROBE_LEN};
pub use hops::{probe_len, reply};
pub use order::Permutation;
pub use pace::Pacer;
pub use planner::{PlanConfig, Planner, FLOW};
pub use row::Row;
pub use spec::{ProbeSpec, Protocol, SpecError};
pub use tag::{rtt_tenth_ms, tag, tenth_ms, timestamp};
