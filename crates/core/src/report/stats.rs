//! Round-trip time statistics kept incrementally (Welford's algorithm): a fixed handful of numbers per hop, however
//! many samples come in.

use core::time::Duration;

/// Running statistics of one hop's round-trip times, in milliseconds, as mtr reports them.
///
/// Its size is fixed: adding a sample updates it in place and stores nothing more.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RttStats {
    count: u64,
    last: f64,
    mean: f64,
    /// Sum of squared deviations from the mean (Welford's M2).
    squares: f64,
    best: f64,
    worst: f64,
    /// Mean of the absolute differences between consecutive samples (mtr's `Javg`).
    jitter_mean: f64,
    /// The largest such difference (mtr's `Jmax`).
    jitter_worst: f64,
}

impl RttStats {
    /// Adds one round-trip time.
    pub fn add(&mut self, rtt: Duration) {
        let ms = rtt.as_secs_f64() * 1000.0;
        if self.count == 0 {
            self.best = ms;
            self.worst = ms;
        } else {
            let jitter = (ms - self.last).abs();
            // `count` samples give `count - 1` differences once this one is in.
            self.jitter_mean += (jitter - self.jitter_mean) / self.count as f64;
            self.jitter_worst = self.jitter_worst.max(jitter);
            self.best = self.best.min(ms);
            self.worst = self.worst.max(ms);
        }
        self.count += 1;
        let delta = ms - self.mean;
        self.mean += delta / self.count as f64;
        self.squares += delta * (ms - self.mean);
        self.last = ms;
    }

    /// Statistics worked out elsewhere (a window's exact sums): `squares` is the sum of squared deviations.
    pub(super) fn from_parts(
        count: u64,
        last: f64,
        mean: f64,
        squares: f64,
        (best, worst): (f64, f64),
        (jitter_mean, jitter_worst): (f64, f64),
    ) -> Self {
        RttStats { count, last, mean, squares, best, worst, jitter_mean, jitter_worst }
    }

    /// How many samples were added.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The latest sample (0 before any).
    pub fn last(&self) -> f64 {
        self.last
    }

    /// The mean (0 before any sample).
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The smallest sample (0 before any).
    pub fn best(&self) -> f64 {
        self.best
    }

    /// The largest sample (0 before any).
    pub fn worst(&self) -> f64 {
        self.worst
    }

    /// The sample standard deviation, as mtr computes it (0 below two samples).
    pub fn stdev(&self) -> f64 {
        if self.count < 2 {
            return 0.0;
        }
        (self.squares / (self.count - 1) as f64).sqrt()
    }

    /// The mean jitter: the average absolute difference between consecutive samples (0 below two samples).
    pub fn jitter_mean(&self) -> f64 {
        self.jitter_mean
    }

    /// The largest absolute difference between consecutive samples.
    pub fn jitter_worst(&self) -> f64 {
        self.jitter_worst
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(value: f64) -> Duration {
        Duration::from_secs_f64(value / 1000.0)
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn nothing_yet_is_all_zero() {
        let stats = RttStats::default();
        assert_eq!((stats.count(), stats.mean(), stats.stdev(), stats.jitter_mean()), (0, 0.0, 0.0, 0.0));
    }

    #[test]
    fn a_few_samples() {
        let mut stats = RttStats::default();
        for value in [10.0, 12.0, 11.0, 15.0] {
            stats.add(ms(value));
        }
        assert_eq!(stats.count(), 4);
        assert!(close(stats.last(), 15.0));
        assert!(close(stats.mean(), 12.0));
        assert!(close(stats.best(), 10.0) && close(stats.worst(), 15.0));
        // Squared deviations 4 + 0 + 1 + 9 over n - 1 = 3.
        assert!(close(stats.stdev(), (14.0f64 / 3.0).sqrt()));
        // |12-10|, |11-12|, |15-11|.
        assert!(close(stats.jitter_mean(), 7.0 / 3.0));
        assert!(close(stats.jitter_worst(), 4.0));
    }

    #[test]
    fn many_samples_agree_with_two_passes() {
        let samples: Vec<f64> = (0..100_000u64).map(|n| 1000.0 + ((n * 7919) % 1013) as f64 / 7.0).collect();
        let mut stats = RttStats::default();
        for &value in &samples {
            stats.add(ms(value));
        }
        let mean = samples.iter().sum::<f64>() / samples.len() as f64;
        let variance = samples.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (samples.len() - 1) as f64;
        let jitter = samples.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / (samples.len() - 1) as f64;
        assert_eq!(stats.count(), samples.len() as u64);
        // Durations round to the nanosecond: 1e-6 ms.
        assert!((stats.mean() - mean).abs() < 1e-6, "{} vs {mean}", stats.mean());
        assert!((stats.stdev() - variance.sqrt()).abs() < 1e-6, "{} vs {}", stats.stdev(), variance.sqrt());
        assert!((stats.jitter_mean() - jitter).abs() < 1e-6);
    }

    #[test]
    fn memory_stays_fixed_for_any_number_of_samples() {
        // Nothing grows: the whole state is eight numbers, whatever the count.
        assert_eq!(core::mem::size_of::<RttStats>(), 8 * 8);
        let mut stats = RttStats::default();
        for _ in 0..1_000_000 {
            stats.add(ms(20.0));
        }
        assert_eq!(stats.count(), 1_000_000);
        assert!(close(stats.mean(), 20.0) && stats.stdev() < 1e-9 && stats.jitter_worst() < 1e-9);
    }
}
