//! When a probe is given up: the wait policy (see [`WaitPolicy`]) applied to the replies seen so far.

use core::time::Duration;
use std::time::Instant;

use crate::config::WaitPolicy;
use crate::result::{Hop, Resend};

/// Extra wait added to a measured RTT before scaling it, as `traceroute(8)` does.
const WAIT_PRECISION: Duration = Duration::from_millis(1);

/// When probe `index` of hop `hop_index` among `hops` is given up.
pub(crate) fn deadline(policy: &WaitPolicy, hops: &[Hop], hop_index: usize, index: usize) -> Option<Instant> {
    let hop = hops.get(hop_index)?;
    let is_retry = hop.probes[..index].iter().any(|p| p.resent == Some(Resend::Retry));
    Some(hop.probes.get(index)?.sent_at + wait_for(policy, hops, hop_index, is_retry))
}

/// How long a probe of hop `hop_index` (a retry or not) is waited for.
fn wait_for(policy: &WaitPolicy, hops: &[Hop], hop_index: usize, is_retry: bool) -> Duration {
    let first_rtt = |hop: &Hop| hop.answers().next().map(|answer| answer.rtt);
    // Factors are validated finite and non-negative; a product beyond any Duration is just "the longest".
    let scaled = |rtt: Duration, factor: f64| {
        Duration::try_from_secs_f64((rtt + WAIT_PRECISION).as_secs_f64() * factor).unwrap_or(policy.max)
    };
    let here = (policy.here > 0.0).then(|| first_rtt(&hops[hop_index])).flatten().map(|rtt| scaled(rtt, policy.here));
    let near = || {
        (policy.near > 0.0)
            .then(|| hops[hop_index + 1..].iter().find_map(first_rtt))
            .flatten()
            .map(|rtt| scaled(rtt, policy.near))
    };
    let tail = || {
        (policy.near > 0.0 && !policy.tail_floor.is_zero())
            .then(|| hops[..hop_index].iter().rev().find_map(first_rtt))
            .flatten()
            // A retry comes after the first wait already covered hops farther than anything seen.
            .map(
                |rtt| if is_retry { scaled(rtt, policy.near) } else { scaled(rtt, policy.near).max(policy.tail_floor) },
            )
    };
    here.or_else(near).or_else(tail).map_or(policy.max, |wait| wait.min(policy.max))
}
