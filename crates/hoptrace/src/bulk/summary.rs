//! The summary on stderr at the end: what was sent, received, matched and dropped, and what it cost.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::replies::Counters;
use super::send::SendStats;

/// Writes the summary of a run that sent for `sending`.
pub(super) fn print(stats: &SendStats, counters: &Counters, sending: Duration) {
    let (user, system, rss) = net::bulk::process_usage();
    let seconds = sending.as_secs_f64();
    let rate = stats.sent as f64 / seconds.max(1e-9);
    let per_probe = (user + system).as_secs_f64() * 1e6 / (stats.sent.max(1) as f64);
    let load = |counter: &std::sync::atomic::AtomicU64| counter.load(Ordering::Relaxed);
    eprintln!(
        "hoptrace bulk: {} probes sent in {seconds:.2} s ({rate:.0}/s), {} refused, {} filtered, {} invalid lines; \
         {} ICMP messages received, {} replies matched, {} dropped by the integrity check \
         ({} too short to carry the tag), {} unrelated, \
         {} lost (receive ring full); \
         CPU {:.3} s user + {:.3} s system ({per_probe:.2} µs per probe), peak RSS {:.1} MiB",
        stats.sent,
        stats.failed,
        stats.filtered,
        stats.invalid,
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
