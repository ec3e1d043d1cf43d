//! What the warts records share: the list and cycle ids, addresses, times, encoding.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::io;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use hoptrace_core::{Hop, Reply, ReplyKind};
use warts::{Address, DekuContainerWrite, Object, Timeval};

use super::TraceInfo;

/// The ids the list and cycle records get in the file (warts numbers them from 1).
pub(super) const LIST_ID: u32 = 1;
pub(super) const CYCLE_ID: u32 = 1;

/// The trace's source, the unspecified address when unknown (warts requires one).
pub(super) fn source(info: &TraceInfo) -> Address {
    Address::from(info.source.unwrap_or(match info.target {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }))
}

/// When the first probe of `hops` was sent.
pub(super) fn epoch(hops: &[Hop]) -> Option<Instant> {
    hops.iter().flat_map(|hop| hop.probes.iter().map(|probe| probe.sent_at)).min()
}

/// Microseconds, rounded as `--json` rounds milliseconds to three decimals.
pub(super) fn micros(duration: core::time::Duration) -> u32 {
    ((duration.as_nanos() + 500) / 1000).min(u128::from(u32::MAX)) as u32
}

/// A wall-clock time as warts stores it.
pub(super) fn unix(time: SystemTime) -> Timeval {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    Timeval { seconds: since.as_secs().min(u64::from(u32::MAX)) as u32, microseconds: since.subsec_micros() }
}

/// The bytes of one record.
pub(super) fn encode(object: Object) -> io::Result<Vec<u8>> {
    object.to_bytes().map_err(|error| io::Error::new(io::ErrorKind::InvalidData, format!("warts: {error}")))
}

/// A reply's ICMP type and code, or its TCP flags (RST+ACK or SYN+ACK), as both record kinds store them.
pub(super) fn reply_codes(reply: &Reply) -> (Option<(u8, u8)>, Option<u8>) {
    match &reply.kind {
        ReplyKind::IcmpError(error) => (Some((error.icmp_type, error.icmp_code)), None),
        ReplyKind::EchoReply { .. } => (Some((if reply.from.is_ipv6() { 129 } else { 0 }, 0)), None),
        ReplyKind::Tcp(tcp) => (None, Some(if tcp.reset { 0x14 } else { 0x12 })),
        _ => (None, None),
    }
}
