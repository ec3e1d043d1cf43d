//! Resends: a lost probe retried, or a probe too big for a link sent again smaller (path MTU discovery).

use crate::config::{RetryScope, TraceConfig};
use crate::result::{Hop, Resend};

/// Whether a lost probe of `hop` may be stood in for by another: its hop is in the retry scope (`farthest` is the
/// highest TTL answered) and has retries left, and the trace does not end before it (`last_ttl`).
pub(crate) fn may_retry(config: &TraceConfig, hop: &Hop, farthest: Option<u8>, last_ttl: u8) -> bool {
    let retried = hop.probes.iter().filter(|p| p.resent == Some(Resend::Retry)).count();
    let in_scope = match config.retry_scope {
        RetryScope::AllHops => true,
        RetryScope::Lossy => {
            hop.is_answered() || farthest.map_or(hop.ttl == config.first_ttl, |f| f.checked_add(1) == Some(hop.ttl))
        }
    };
    in_scope && retried < usize::from(config.retries) && hop.ttl <= last_ttl
}

/// Whether a probe of `size` bytes, too big for a link of `mtu`, is to be sent again at `mtu`: path MTU discovery
/// is on, the probe was bigger than that, and `mtu` is a legal size for the family.
pub(crate) fn may_resend_smaller(config: &TraceConfig, size: u32, mtu: u32) -> bool {
    let minimum = if config.target.is_ipv6() { 1280 } else { 68 };
    config.discover_mtu && mtu < size && mtu >= minimum
}

/// The size asked for when no probe can have it: an IPv6 packet above 65535 bytes (IPv6 counts its payload, not
/// its header, in 16 bits: a packet may have 65575 bytes, and loopback's MTU is 65536). Probes are cut to 65535
/// bytes. An IPv4 packet, and an IPv4 MTU (the kernel caps it), cannot be larger: that size is just cut.
pub(crate) fn oversized(config: &TraceConfig) -> Option<u32> {
    (config.target.is_ipv6() && config.packet_len > u32::from(u16::MAX)).then_some(config.packet_len)
}
