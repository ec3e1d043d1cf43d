//! Telling ICMP rate limiting apart from loss, from a few counters per hop.
//!
//! A router that limits its ICMP errors (Linux: a bucket of 6, then one per second for IPv4, four for IPv6 /64s)
//! answers a burst and then regularly, once per refill, while the probes it forwards keep getting answers farther
//! on. Loss on a link silences the hops beyond it too, and at random rather than at a refill's pace: probes sent
//! just over a limiter's rate lose about as many to 50 % loss as to a limiter, but not in a token bucket's order.
//! The rule, per hop over the rounds of a report, "after the burst" meaning from its first unanswered probe on:
//!
//! 1. its first probe was answered (a limiter's burst; probes past a destination may spend the rest of it in the
//!    first round, out of sight of its own TTL);
//! 2. the probes after the burst span at least [`MIN_SPAN`];
//! 3. its answers after the burst came no faster than a limiter lets through: at most 1 + [`MAX_RATE`] per second;
//! 4. its answers and silences after the burst are a token bucket's — the limiter's own signature: a bucket
//!    refilled once every [`INTERVALS`] (Linux: 1 s for IPv4, ¼ s for an IPv6 /64), answering exactly when it
//!    holds a token (a router's spent by its own probes only; a destination's, or a hop nothing answered beyond,
//!    also by the probes past it in the same round), fits all but a few probes; however fast the probes came (random loss answering at a
//!    limiter's mean rate does not fit). An IPv4 hop is matched against the IPv4 limiters' intervals only
//!    ([`IPV4_INTERVALS`]): at `monitor`'s pace (rounds of near-simultaneous probes every ½ s) a ¼ s bucket,
//!    two tokens a round, fits random loss of about half the probes too often;
//! 5. in at least half the rounds where it left a probe unanswered, a farther hop answered — unless no farther hop
//!    ever answered (the destination: nothing lies past it, and rule 4 alone tells its limiter from loss), or every
//!    farther hop that answered is rate-limited itself (stock routers and a destination probed at one pace run dry
//!    in the same rounds); an outage silences the hops beyond as well.
//!
//! Such a hop is rate-limited: its unanswered probes are not counted as loss.

use core::time::Duration;
use std::time::Instant;

/// The highest rate of errors a limiter is taken to allow, per second (Linux: 1 for IPv4, 4 for an IPv6 /64).
pub const MAX_RATE: f64 = 5.0;
/// How long after the burst the probes must go on for a rate to mean anything.
pub const MIN_SPAN: Duration = Duration::from_secs(1);
/// The refill intervals of the token buckets a hop's silences are matched against (Linux: `icmp_ratelimit`, 1 s,
/// shortened for IPv6 routes by prefix: ¼ s for a /64; Cisco: ½ s).
pub const INTERVALS: [Duration; 3] = [Duration::from_secs(1), Duration::from_millis(500), Duration::from_millis(250)];
/// How many of [`INTERVALS`], from the first, IPv4 limiters use (Linux: 1 s; Cisco: ½ s): ¼ s is IPv6's alone.
pub const IPV4_INTERVALS: usize = 2;
/// Linux's bucket holds this many intervals' worth of tokens.
const BUCKET_INTERVALS: u32 = 6;

/// A token bucket of one refill interval, replayed against a hop's probes after its burst: the probes it would
/// have answered otherwise than the hop did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Bucket {
    interval: Duration,
    /// Credit, as time accrued: a token is one interval's worth.
    credit: Duration,
    /// Probes the bucket and the hop disagree on.
    misfits: u32,
    /// Whether an answer leaves it less than a token: a destination's, whose other tokens the probes past it take
    /// in the same round. A router's keeps them: only the probes that expire there spend its tokens.
    drains: bool,
}

impl Bucket {
    /// A bucket just emptied (the hop left a probe unanswered).
    fn empty(interval: Duration, drains: bool) -> Self {
        Bucket { interval, credit: Duration::ZERO, misfits: 0, drains }
    }

    /// One probe, `elapsed` after the previous one, and whether the hop answered it. After an answer a draining
    /// bucket keeps less than a token: probes past a destination arrive with its own and take what is left. A refusal
    /// shows the bucket short of a token, whatever this one held.
    fn probe(&mut self, elapsed: Duration, answered: bool) {
        self.credit = (self.credit + elapsed).min(self.interval * BUCKET_INTERVALS);
        let has_token = self.credit >= self.interval;
        self.misfits += u32::from(has_token != answered);
        let below_a_token =
            |credit: Duration| Duration::from_nanos((credit.as_nanos() % self.interval.as_nanos()) as u64);
        self.credit = match (answered, has_token) {
            (true, true) if self.drains => below_a_token(self.credit),
            (true, true) => self.credit - self.interval,
            (true, false) => Duration::ZERO,
            (false, _) => self.credit.min(self.interval - Duration::from_millis(1)),
        };
    }

    /// Whether the hop behaved as this bucket, all but a few probes of `probes`: two, and one in ten.
    fn fits(&self, probes: u32) -> bool {
        self.misfits <= 2 + probes / 10
    }
}

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
    /// Whether a farther hop answered in any round.
    answered_beyond: bool,
    /// Token buckets of each of [`INTERVALS`], replayed from the burst's end on.
    buckets: Option<[Bucket; 2 * INTERVALS.len()]>,
    /// Whether the hop is probed over IPv6 (all of [`INTERVALS`] apply), not IPv4 ([`IPV4_INTERVALS`] of them).
    ipv6: bool,
}

impl RateLimitEvidence {
    /// No evidence yet, about a hop probed over IPv6 (`ipv6`) or IPv4.
    pub fn new(ipv6: bool) -> Self {
        RateLimitEvidence { ipv6, ..RateLimitEvidence::default() }
    }

    /// Records one round of this hop: its probes in order, and whether any farther hop answered in that round.
    pub fn record_round(&mut self, probes: impl IntoIterator<Item = ProbeOutcome>, answered_beyond: bool) {
        let mut silent = false;
        for probe in probes {
            if self.burst_ended_at.is_none() && probe.answered {
                self.burst += 1;
            } else if let Some(buckets) = &mut self.buckets {
                let elapsed =
                    self.last_sent_at.map_or(Duration::ZERO, |last| probe.sent_at.saturating_duration_since(last));
                buckets.iter_mut().for_each(|bucket| bucket.probe(elapsed, probe.answered));
                self.sent_after += 1;
                self.answered_after += u32::from(probe.answered);
            } else {
                // The burst's end: the first unanswered probe, which left every bucket without a token.
                self.burst_ended_at = Some(probe.sent_at);
                self.buckets = Some(core::array::from_fn(|n| Bucket::empty(INTERVALS[n / 2], n % 2 == 1)));
                self.sent_after += 1;
            }
            silent |= !probe.answered;
            self.last_sent_at = Some(probe.sent_at);
        }
        if silent {
            self.silent_rounds += 1;
            self.silent_rounds_answered_beyond += u32::from(answered_beyond);
        }
        self.answered_beyond |= answered_beyond;
    }

    /// Forgets the oldest round, whose `probes` probes were all answered (so all in the burst), leaving rounds of
    /// which one had a farther hop answer (`answered_beyond`) or none. A round with a silence cannot be forgotten
    /// this way: the burst would end elsewhere and the buckets replay from there.
    pub(super) fn forget_answered_round(&mut self, probes: u32, answered_beyond: bool) {
        self.burst -= probes;
        self.answered_beyond = answered_beyond;
    }

    /// Whether a token bucket of one of the family's [`INTERVALS`] answers as the hop did after its burst (rule 4).
    /// A destination's buckets drain (`destination`), a router's do not ([`Bucket::drains`]).
    fn fits_a_bucket(&self, destination: bool) -> bool {
        let intervals = if self.ipv6 { INTERVALS.len() } else { IPV4_INTERVALS };
        self.buckets.is_some_and(|buckets| {
            buckets[..2 * intervals].iter().any(|bucket| bucket.drains == destination && bucket.fits(self.sent_after))
        })
    }

    /// Whether the hop's silences are its ICMP rate limit at work rather than loss (the module's rule).
    pub fn is_rate_limited(&self) -> bool {
        self.is_rate_limited_beside(false, true)
    }

    /// [`Self::is_rate_limited`], knowing whether every farther hop that answered is rate-limited itself
    /// (`limiters_beyond`: then their silences in this hop's silent rounds say nothing against it, rule 5) and
    /// whether the hop is the destination (else a router, whose bucket only its own probes spend).
    pub fn is_rate_limited_beside(&self, limiters_beyond: bool, destination: bool) -> bool {
        let (Some(ended), Some(last)) = (self.burst_ended_at, self.last_sent_at) else {
            return false;
        };
        let span = last.saturating_duration_since(ended);
        let vouched_for =
            !self.answered_beyond || limiters_beyond || self.silent_rounds_answered_beyond * 2 >= self.silent_rounds;
        self.burst >= 1
            && span >= MIN_SPAN
            && f64::from(self.answered_after) <= 1.0 + MAX_RATE * span.as_secs_f64()
            // A hop nothing answered beyond may be the end of the path whatever it is: judged as a destination.
            && self.fits_a_bucket(destination || !self.answered_beyond)
            && vouched_for
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
        assert!(!(lossy.is_rate_limited() || lossy.is_rate_limited_beside(false, false)), "{lossy:?}");
    }

    #[test]
    fn silence_everywhere_is_not() {
        // The hops beyond were silent too: the path, not the router, dropped the probes.
        let outage = evidence(60, STEP, |n| n < 6, |n| n < 6);
        assert!(!(outage.is_rate_limited() || outage.is_rate_limited_beside(false, false)), "{outage:?}");
    }

    #[test]
    fn a_limiter_with_nothing_beyond_is_told_by_its_own_pace() {
        // The destination: 6 answers, then one a second, and no farther hop ever.
        let destination = evidence(60, STEP, |n| n < 6 || n % 20 == 0, |_| false);
        assert!(destination.is_rate_limited(), "{destination:?}");
        // 30 % loss before it: answers keep coming, at random.
        let lossy = evidence(60, STEP, |n| n < 6 || n % 10 >= 3, |_| false);
        assert!(!(lossy.is_rate_limited() || lossy.is_rate_limited_beside(false, false)), "{lossy:?}");
        // Silent after its burst: an outage, not a limiter.
        let dead = evidence(60, STEP, |n| n < 6, |_| false);
        assert!(!(dead.is_rate_limited() || dead.is_rate_limited_beside(false, false)), "{dead:?}");
        // Silent hops beyond it in some rounds do not make the silences its limiter's: rule 5 as before.
        let outage = evidence(60, STEP, |n| n < 6 || n % 20 == 0, |n| n < 6);
        assert!(!(outage.is_rate_limited() || outage.is_rate_limited_beside(false, false)), "{outage:?}");
    }

    /// Rounds paced by the hop's own silences, as a report's are when the destination is silent: an answered
    /// round takes `fast`, a silent one `slow` (the wait for the missing answer).
    fn paced(rounds: u32, slow: Duration, mut answered: impl FnMut(u32, Duration) -> bool) -> RateLimitEvidence {
        let fast = Duration::from_millis(60);
        let start = Instant::now();
        let mut evidence = RateLimitEvidence::default();
        let mut at = Duration::ZERO;
        for n in 0..rounds {
            let answer = answered(n, at);
            evidence.record_round([ProbeOutcome { sent_at: start + at, answered: answer }], false);
            at += if answer { fast } else { slow };
        }
        evidence
    }

    /// Linux's limiter (a token a second, at most 6), holding `tokens` at time zero: whether it answers a probe
    /// that reaches it at a time.
    fn linux_limiter(tokens: u32) -> impl FnMut(Duration) -> bool {
        let (mut credit, mut last) = (Duration::from_secs(tokens.into()), Duration::ZERO);
        move |at| {
            credit = (credit + (at - last)).min(Duration::from_secs(6));
            last = at;
            let answer = credit >= Duration::from_secs(1);
            if answer {
                credit -= Duration::from_secs(1);
            }
            answer
        }
    }

    #[test]
    fn a_destination_probed_no_faster_than_its_limiter_is_told_by_its_bucket() {
        // Linux's bucket of 6 tokens, one a second, against rounds of 60 ms, or 1.1 s when unanswered.
        let mut limiter = linux_limiter(6);
        let limited = paced(40, Duration::from_millis(1100), |_, at| limiter(at));
        assert!(limited.is_rate_limited(), "{limited:?}");
        // Its burst spent by probes past it, out of sight: one answer, then the bucket's pace.
        let spent = paced(40, Duration::from_millis(1100), |n, _| n % 2 == 0);
        assert!(spent.is_rate_limited(), "{spent:?}");
        // The same pace with 30 % random loss (a fixed pattern of it) is loss.
        let lossy = paced(40, Duration::from_millis(1100), |n, _| n < 6 || (n * 7) % 10 >= 3);
        assert!(!(lossy.is_rate_limited() || lossy.is_rate_limited_beside(false, false)), "{lossy:?}");
    }

    #[test]
    fn a_router_keeps_the_tokens_a_long_round_gave_it() {
        // Rounds paced by a limiting destination: two quick ones (150 ms), then one that waits 2.1 s for it. Linux's
        // limiter at a router in front spends its tokens on its own probes only: after a wait it answers twice.
        let mut limiter = linux_limiter(1);
        let (start, mut at) = (Instant::now(), Duration::ZERO);
        let mut router = RateLimitEvidence::default();
        for n in 0..30 {
            router.record_round([ProbeOutcome { sent_at: start + at, answered: limiter(at) }], true);
            at += Duration::from_millis(if n % 3 == 2 { 2100 } else { 150 });
        }
        assert!(router.is_rate_limited_beside(true, false), "{router:?}");
        // A destination's bucket, which the probes past it drain, does not fit it.
        assert!(!router.is_rate_limited_beside(true, true), "{router:?}");
    }

    /// `monitor --every 0.5 -q 3` over a window of 10 rounds: 3 probes 2 ms apart every ½ s, a farther hop
    /// answering in every round; `answered(at)` says whether the probe sent `at` after the first was answered.
    fn monitor_window(mut answered: impl FnMut(Duration) -> bool) -> RateLimitEvidence {
        let start = Instant::now();
        let mut evidence = RateLimitEvidence::default();
        for round in 0..10 {
            let probes: Vec<ProbeOutcome> = (0..3)
                .map(|n| {
                    let at = Duration::from_millis(500) * round + Duration::from_millis(2) * n;
                    ProbeOutcome { sent_at: start + at, answered: answered(at) }
                })
                .collect();
            evidence.record_round(probes, true);
        }
        evidence
    }

    /// A seeded stand-in for random loss: each probe answered with probability `answered` (in 0..1).
    fn random_loss(seed: u64, answered: f64) -> impl FnMut(Duration) -> bool {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        move |_| {
            // xorshift64: a fixed, portable sequence.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 11) as f64 / (1u64 << 53) as f64) < answered
        }
    }

    #[test]
    fn loss_at_a_limiters_pace_is_not() {
        // A hop behind a link losing 30 % each way (51 % of its probes): 6 probes a second, just over MAX_RATE,
        // about 3 answers a second. Seed 27: 14 of 30 answered, the first 3 of them (the pattern the lab once
        // labelled rate-limited).
        let lossy = monitor_window(random_loss(27, 0.49));
        assert!(lossy.burst >= 3 && lossy.answered_after * 4 >= lossy.sent_after, "{lossy:?}");
        assert!(!(lossy.is_rate_limited() || lossy.is_rate_limited_beside(false, false)), "{lossy:?}");
        // Linux's limiter at that pace, its bucket down to one token when the window opens: one answer a second.
        let limited = monitor_window(linux_limiter(1));
        assert!(limited.answered_after == 4, "{limited:?}");
        assert!(limited.is_rate_limited(), "{limited:?}");
    }

    #[test]
    fn loss_logged_in_the_lab_is_not() {
        // Hop 3 (IPv4) of the lab's `monitor --every 0.5 -q 3` behind a link losing 30 % each way, as the monitor's
        // window fed the rule 9 rounds in (send times in µs from the first probe; a farther hop answered in every
        // round): a ¼ s bucket, an IPv6 limiter's, fitted its silences.
        let rounds: [[(u64, bool); 3]; 9] = [
            [(0, true), (40, true), (3_534, true)],
            [(487_692, true), (487_722, true), (491_068, true)],
            [(986_551, true), (986_580, true), (986_602, true)],
            [(1_466_084, true), (1_466_112, true), (1_469_157, true)],
            [(1_981_819, true), (1_981_841, true), (1_985_902, true)],
            [(2_482_192, true), (2_482_234, true), (2_482_263, true)],
            [(2_951_353, true), (2_951_380, false), (2_954_886, false)],
            [(3_479_752, true), (3_479_818, true), (3_483_255, true)],
            [(3_959_993, true), (3_960_042, false), (3_964_099, false)],
        ];
        let replay = |mut evidence: RateLimitEvidence| {
            let start = Instant::now();
            for round in rounds {
                let probes =
                    round.map(|(at, answered)| ProbeOutcome { sent_at: start + Duration::from_micros(at), answered });
                evidence.record_round(probes, true);
            }
            evidence
        };
        let ipv4 = replay(RateLimitEvidence::new(false));
        assert!(!(ipv4.is_rate_limited() || ipv4.is_rate_limited_beside(false, false)), "{ipv4:?}");
        // Over IPv6 a ¼ s limiter is real, and this pattern is its.
        let ipv6 = replay(RateLimitEvidence::new(true));
        assert!(ipv6.is_rate_limited(), "{ipv6:?}");
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
