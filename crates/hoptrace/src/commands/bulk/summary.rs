//! The summary on stderr at the end: what was sent, received, matched and dropped, and what it cost.

use std::sync::atomic::Ordering;
use std::time::Duration;

use hoptrace_core::bulk::{Counters, SendStats};

use super::input::InputStats;

/// Writes the summary of a run that sent for `sending`.
pub(super) fn print(stats: &SendStats, input: &InputStats, counters: &Counters, sending: Duration) {
    let (user, system, rss) = hoptrace_core::process::process_usage();
    let seconds = sending.as_secs_f64();
    let rate = stats.sent as f64 / seconds.max(1e-9);
    // No probe, no cost per probe.
    let per_probe = match stats.sent {
        0 => String::new(),
        sent => format!(" ({:.2} µs per probe)", (user + system).as_secs_f64() * 1e6 / sent as f64),
    };
    let load = |counter: &std::sync::atomic::AtomicU64| counter.load(Ordering::Relaxed);
    eprintln!(
        "hoptrace bulk: {} probes sent in {seconds:.2} s ({rate:.0}/s), {} refused, {} filtered, \
         {} to special destinations skipped, {} invalid lines; \
         {} ICMP messages received, {} replies matched, {} dropped by the integrity check \
         ({} too short to carry the tag), {} unrelated, \
         {} lost (receive ring full); \
         CPU {:.3} s user + {:.3} s system{per_probe}, peak RSS {:.1} MiB",
        stats.sent,
        stats.failed,
        input.filtered,
        input.special,
        input.invalid,
        load(&counters.received),
        load(&counters.matched),
        load(&counters.integrity),
        load(&counters.untagged),
        load(&counters.unrelated),
        load(&counters.lost),
        user.as_secs_f64(),
        system.as_secs_f64(),
        rss as f64 / (1 << 20) as f64,
    );
}
