//! When each target is traced: every `--every` seconds shifted at random (so that targets do not probe in
//! lockstep), further apart while it fails or stays silent, and which targets a `--targets` file names.

use core::time::Duration;
use std::collections::HashSet;

/// The longest a failing target waits between rounds.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// Failed rounds in a row that come at the normal period: one lost reply is no outage.
pub const GRACE: u32 = 2;

/// The timing of one target's rounds.
#[derive(Debug, Clone)]
pub struct Schedule {
    every: Duration,
    /// The largest random shift, as a fraction of `every`.
    jitter: f64,
    /// Rounds in a row that failed or heard nothing.
    failures: u32,
}

impl Schedule {
    /// Rounds every `every`, each shifted by up to ± `jitter` × `every` (`jitter` clamped to 0..=1).
    pub fn new(every: Duration, jitter: f64) -> Self {
        Schedule { every, jitter: jitter.clamp(0.0, 1.0), failures: 0 }
    }

    /// The wait before the first round: anywhere in one period, so that targets started together spread out.
    pub fn first(&self, random: f64) -> Duration {
        self.every.mul_f64(random.clamp(0.0, 1.0))
    }

    /// The time from one round's start to the next: the period shifted by `random` (in 0..1, uniform) times the
    /// jitter either way, plus the back-off.
    pub fn next(&self, random: f64) -> Duration {
        let shift = (2.0 * random.clamp(0.0, 1.0) - 1.0) * self.jitter;
        self.every.mul_f64(1.0 + shift) + self.backoff()
    }

    /// Records how a round went: `ok` is false when it could not run or the destination did not answer.
    pub fn record(&mut self, ok: bool) {
        self.failures = if ok { 0 } else { self.failures.saturating_add(1) };
    }

    /// Failed rounds in a row.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The extra wait after failures: none after a good round or up to [`GRACE`] failures in a row, then the
    /// period, doubling with each further failure, up to [`MAX_BACKOFF`].
    pub fn backoff(&self) -> Duration {
        if self.failures <= GRACE {
            return Duration::ZERO;
        }
        let factor = 1u32 << (self.failures - GRACE - 1).min(16);
        self.every.saturating_mul(factor).min(MAX_BACKOFF)
    }
}

/// The targets a `--targets` file names: one or more per line, separated by white space; `#` starts a comment.
/// Duplicates are dropped, the first kept.
pub fn parse_targets(text: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    text.lines()
        .flat_map(|line| line.split('#').next().unwrap_or_default().split_whitespace())
        .filter(|&word| seen.insert(word))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_file() {
        let text = "# lab targets\n198.18.3.2\n\n  example.test   198.18.3.2 # again\n2001:db8::1\t198.18.9.9\n";
        assert_eq!(parse_targets(text), ["198.18.3.2", "example.test", "2001:db8::1", "198.18.9.9"]);
        assert!(parse_targets("# nothing\n\n").is_empty());
    }

    #[test]
    fn jitter_stays_within_its_fraction() {
        let schedule = Schedule::new(Duration::from_secs(10), 0.1);
        assert_eq!(schedule.next(0.0), Duration::from_secs(9));
        assert_eq!(schedule.next(0.5), Duration::from_secs(10));
        assert_eq!(schedule.next(1.0), Duration::from_secs(11));
        assert_eq!(schedule.first(0.25), Duration::from_millis(2500));
        let steady = Schedule::new(Duration::from_secs(10), 0.0);
        assert_eq!(steady.next(0.9), Duration::from_secs(10));
    }

    #[test]
    fn backoff_doubles_up_to_its_cap_and_resets() {
        let mut schedule = Schedule::new(Duration::from_secs(10), 0.0);
        let mut waits = Vec::new();
        for _ in 0..9 {
            schedule.record(false);
            waits.push(schedule.backoff().as_secs());
        }
        assert_eq!(waits, [0, 0, 10, 20, 40, 80, 160, 300, 300]);
        assert_eq!(schedule.next(0.5), Duration::from_secs(310));
        schedule.record(true);
        assert_eq!(schedule.backoff(), Duration::ZERO);
    }
}
