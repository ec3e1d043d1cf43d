//! The rate: a token bucket over batches, as caracal's limiter, fed with time by the caller.

use core::time::Duration;
use std::time::Instant;

/// Paces batches of probes to `rate` probes per second: after each batch, [`Pacer::sent`] says until when to wait.
///
/// The bucket holds at most one batch: a sender that fell behind (a slow write, a descheduled thread) catches up by
/// at most one batch, never by a burst of everything it owes.
#[derive(Debug, Clone)]
pub struct Pacer {
    /// Time per probe.
    per_probe: Duration,
    /// Batch size.
    batch: usize,
    /// When the probes sent so far are paid for.
    due: Option<Instant>,
}

impl Pacer {
    /// A pacer of `rate` probes per second (at least 1) in batches of `batch` (at least 1).
    pub fn new(rate: u64, batch: usize) -> Pacer {
        let per_probe = Duration::from_nanos(1_000_000_000 / rate.max(1));
        Pacer { per_probe, batch: batch.max(1), due: None }
    }

    /// How many probes go in one batch.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Records `count` probes sent at `now`; returns when the next batch may go (`None`: at once).
    pub fn sent(&mut self, now: Instant, count: usize) -> Option<Instant> {
        let cost = self.per_probe.saturating_mul(u32::try_from(count).unwrap_or(u32::MAX));
        let slack = self.per_probe.saturating_mul(u32::try_from(self.batch).unwrap_or(u32::MAX));
        let earliest = now.checked_sub(slack).unwrap_or(now);
        let due = self.due.map_or(now, |due| due.max(earliest)) + cost;
        self.due = Some(due);
        (due > now).then_some(due)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_spaced_by_their_cost() {
        let start = Instant::now();
        let mut pacer = Pacer::new(1000, 10);
        assert_eq!(pacer.sent(start, 10), Some(start + Duration::from_millis(10)));
        // Sent on time: the next is due one batch later.
        let at = start + Duration::from_millis(10);
        assert_eq!(pacer.sent(at, 10), Some(start + Duration::from_millis(20)));
    }

    #[test]
    fn a_late_sender_catches_up_by_one_batch_at_most() {
        let start = Instant::now();
        let mut pacer = Pacer::new(1000, 10);
        pacer.sent(start, 10);
        // A second late: one batch may go at once, the next waits.
        let late = start + Duration::from_secs(1);
        assert_eq!(pacer.sent(late, 10), None);
        assert_eq!(pacer.sent(late, 10), Some(late + Duration::from_millis(10)));
    }

    #[test]
    fn the_long_run_rate_is_the_rate_asked() {
        let start = Instant::now();
        let mut pacer = Pacer::new(50_000, 128);
        let mut now = start;
        let mut sent = 0;
        while now < start + Duration::from_secs(2) {
            sent += 128;
            if let Some(until) = pacer.sent(now, 128) {
                now = until;
            }
        }
        assert!((99_900..=100_200).contains(&sent), "{sent}");
    }
}
