//! Telling ICMP rate limiting apart from loss, from a few counters per hop.
//!
//! A router that limits its ICMP errors (Linux: a bucket of 6, then one per second for IPv4, four for IPv6 /64s)
//! answers a burst and then only now and then, while the probes it forwards keep getting answers farther on. Loss
//! on a link silences the hops beyond it too, and at random rather than at a capped rate. The rule, per hop over
//! the rounds of a report, "after the burst" meaning from its first unanswered probe on:
//!
//! 1. its first [`MIN_BURST`] probes or more were all answered;
//! 2. the probes after the burst span at least [`MIN_SPAN`];
//! 3. they came faster than a limiter lets answers through: more than [`MAX_RATE`] per second;
//! 4. its answers after the burst came no faster than that: at most 1 + [`MAX_RATE`] per second;
//! 5. in at least half the rounds where it left a probe unanswered, a farther hop answered.
//!
//! Such a hop is rate-limited: its unanswered probes are not counted as loss.

use core::time::Duration;
use std::time::Instant;

/// Answers in a row a hop must give first: Linux's bucket holds 6.
pub const MIN_BURST: u32 = 3;
/// The highest rate of errors a limiter is taken to allow, per second (Linux: 1 for IPv4, 4 for an IPv6 /64).
pub const MAX_RATE: f64 = 5.0;
/// How long after the burst the probes must go on for a rate to mean anything.
pub const MIN_SPAN: Duration = Duration::from_secs(1);

/// What one hop did in one round: each probe's send time and whether it was answered, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeOutcome {
    /// When the probe left.
    pub sent_at: Instant,
    /// Whether it was answered.
    pub answered: bool,
}

/// The evidence about one hop, over rounds: a fixed set of counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimitEvidence {
    /// Answers in a row from the first probe on.
    burst: u32,
    /// When the first unanswered probe left (the burst's end).
    burst_ended_at: Option<Instant>,
    /// When the latest probe left.
    last_sent_at: Option<Instant>,
    /// Probes sent from the burst's end on.
    sent_after: u32,
    /// Of those, the answered ones.
    answered_after: u32,
    /// Rounds in which the hop left a probe unanswered.
    silent_rounds: u32,
    /// Of those, rounds in which a farther hop answered.
    silent_rounds_answered_beyond: u32,
}

impl RateLimitEvidence {
    /// Records one round of this hop: its probes in order, and whether any farther hop answered in that round.
    pub fn record_round(&mut self, probes: impl IntoIterator<Item = ProbeOutcome>, answered_beyond: bool) {
        let mut silent = false;
        for probe in probes {
            if self.burst_ended_at.is_none() && probe.answered {
                self.burst += 1;
            } else {
                self.burst_ended_at.get_or_insert(probe.sent_at);
                self.sent_after += 1;
                self.answered_after += u32::from(probe.answered);
            }
            silent |= !probe.answered;
            self.last_sent_at = Some(probe.sent_at);
        }
        if silent {
            self.silent_rounds += 1;
            self.silent_rounds_answered_beyond += u32::from(answered_beyond);
        }
    }

    /// Whether the hop's silences are its ICMP rate limit at work rather than loss (the module's rule).
    pub fn is_rate_limited(&self) -> bool {
        let (Some(ended), Some(last)) = (self.burst_ended_at, self.last_sent_at) else {
            return false;
        };
        let span = last.saturating_duration_since(ended);
        let ceiling = MAX_RATE * span.as_secs_f64();
        self.burst >= MIN_BURST
            && span >= MIN_SPAN
            && f64::from(self.sent_after) > ceiling
            && f64::from(self.answered_after) <= 1.0 + ceiling
            && self.silent_rounds_answered_beyond * 2 >= self.silent_rounds
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `rounds` rounds of one probe each, every `step`; `answered(n)` says whether probe n was answered and
    /// `beyond(n)` whether a farther hop answered in round n.
    fn evidence(
        rounds: u32,
        step: Duration,
        answered: impl Fn(u32) -> bool,
        beyond: impl Fn(u32) -> bool,
    ) -> RateLimitEvidence {
        let start = Instant::now();
        let mut evidence = RateLimitEvidence::default();
        for n in 0..rounds {
            let probe = ProbeOutcome { sent_at: start + step * n, answered: answered(n) };
            evidence.record_round([probe], beyond(n));
        }
        evidence
    }

    const STEP: Duration = Duration::from_millis(50);

    #[test]
    fn linux_bucket_is_rate_limiting() {
        // 20 probes a second: 6 answers, then one per second (every 20th probe).
        let limited = evidence(60, STEP, |n| n < 6 || n % 20 == 0, |_| true);
        assert!(limited.is_rate_limited(), "{limited:?}");
    }

    #[test]
    fn random_loss_is_not() {
        // Every other probe lost after a clean start: ten answers a second, far above a limiter's rate.
        let lossy = evidence(60, STEP, |n| n < 6 || n % 2 == 0, |_| true);
        assert!(!lossy.is_rate_limited(), "{lossy:?}");
    }

    #[test]
    fn silence_everywhere_is_not() {
        // The hops beyond were silent too: the path, not the router, dropped the probes.
        let outage = evidence(60, STEP, |n| n < 6, |n| n < 6);
        assert!(!outage.is_rate_limited(), "{outage:?}");
    }

    #[test]
    fn too_slow_or_too_short_to_tell() {
        // One probe a second never outruns a limiter of one answer a second.
        assert!(!evidence(20, Duration::from_secs(1), |n| n < 6 || n % 3 == 0, |_| true).is_rate_limited());
        // Half a second after the burst says nothing about a rate per second.
        assert!(!evidence(16, STEP, |n| n < 6, |_| true).is_rate_limited());
        // No burst: silent from the start.
        assert!(!evidence(60, STEP, |n| n % 20 == 10, |_| true).is_rate_limited());
        // Never silent.
        assert!(!evidence(60, STEP, |_| true, |_| true).is_rate_limited());
    }
}
