//! Round-trip times that can be forgotten, oldest first: exact sums in nanoseconds (count, sum, sum of squares,
//! sum of consecutive differences), so that removing a sample leaves no float drift; the best, worst and largest
//! difference found again only when the sample leaving was one of them.

use core::time::Duration;
use std::collections::VecDeque;

use super::RttStats;

/// The longest round-trip time kept exactly, in nanoseconds.
const MAX_NS: u64 = 1 << 40;

/// The samples of a window, oldest first, and their sums.
#[derive(Debug, Clone, Default)]
pub(super) struct Samples {
    samples: VecDeque<u64>,
    sum: u128,
    squares: u128,
    /// Sum of the absolute differences between consecutive samples.
    jitter: u128,
    best: u64,
    worst: u64,
    jitter_worst: u64,
}

impl Samples {
    /// Adds the newest sample.
    pub fn add(&mut self, rtt: Duration) {
        // At most 2^40 ns (18 minutes, past any wait): the sums of squares of a million samples stay in a u128.
        let ns = u64::try_from(rtt.as_nanos()).unwrap_or(u64::MAX).min(MAX_NS);
        match self.samples.back() {
            None => (self.best, self.worst) = (ns, ns),
            Some(&last) => {
                let jitter = ns.abs_diff(last);
                self.jitter += u128::from(jitter);
                self.jitter_worst = self.jitter_worst.max(jitter);
                self.best = self.best.min(ns);
                self.worst = self.worst.max(ns);
            }
        }
        self.sum += u128::from(ns);
        self.squares += u128::from(ns) * u128::from(ns);
        self.samples.push_back(ns);
    }

    /// Forgets the `count` oldest samples.
    pub fn forget(&mut self, count: usize) {
        let (mut extremes, mut jitter_worst) = (false, false);
        for _ in 0..count.min(self.samples.len()) {
            let Some(ns) = self.samples.pop_front() else { break };
            self.sum -= u128::from(ns);
            self.squares -= u128::from(ns) * u128::from(ns);
            extremes |= ns == self.best || ns == self.worst;
            if let Some(&next) = self.samples.front() {
                let jitter = next.abs_diff(ns);
                self.jitter -= u128::from(jitter);
                jitter_worst |= jitter == self.jitter_worst;
            }
        }
        if extremes {
            self.best = self.samples.iter().copied().min().unwrap_or(0);
            self.worst = self.samples.iter().copied().max().unwrap_or(0);
        }
        if jitter_worst {
            let pairs = self.samples.iter().zip(self.samples.iter().skip(1));
            self.jitter_worst = pairs.map(|(a, b)| a.abs_diff(*b)).max().unwrap_or(0);
        }
    }

    /// The statistics of the samples, as [`RttStats`] would have them had it been given exactly these.
    pub fn stats(&self) -> RttStats {
        let Some(&last) = self.samples.back() else { return RttStats::default() };
        let count = self.samples.len() as u128;
        let ms = |ns: u64| Duration::from_nanos(ns).as_secs_f64() * 1000.0;
        let mean = self.sum as f64 / count as f64 / 1e6;
        // Σ(x - mean)² = (n·Σx² - (Σx)²) / n, exactly in integers up to the division.
        let squares = (count * self.squares - self.sum * self.sum) as f64 / count as f64 / 1e12;
        let jitter_mean = if count < 2 { 0.0 } else { self.jitter as f64 / (count - 1) as f64 / 1e6 };
        RttStats::from_parts(
            self.samples.len() as u64,
            ms(last),
            mean,
            squares,
            (ms(self.best), ms(self.worst)),
            (jitter_mean, ms(self.jitter_worst)),
        )
    }
}
