//! Multipath discovery under ICMP rate limiting: the flows a hop left unanswered are probed again, and a hop that
//! answered some flows and not others (a limiter's burst, then silence) is paced to the rate it answers at.
//!
//! MDA's stopping rule counts answered flows: a flow that got no answer says nothing about the next hops. Once a
//! hop loses a probe while it answered others, its probes go one at a time, each `pause` after the last; the pause
//! doubles when a paced probe is lost and shrinks by a quarter when one is answered, so it settles around the
//! limiter's refill interval (Linux: 20 ms for the global limiter, 1 s per destination). All within the hop's
//! budget ([`TraceConfig::mda_wait`](crate::TraceConfig::mda_wait)); past it, the hop's lost flows stay lost.

use core::time::Duration;
use std::time::Instant;

use crate::result::{Hop, ProbeRecord, ProbeStatus};

/// The first pause of a hop found limiting: the refill period of Linux's global limiter.
const FIRST_PAUSE: Duration = Duration::from_millis(20);
/// The shortest pause.
const MIN_PAUSE: Duration = Duration::from_millis(2);
/// The longest pause.
const MAX_PAUSE: Duration = Duration::from_secs(4);
/// Probes at most in one flow of one hop (enough for the pause to grow from the first to the longest): a flow still
/// silent after that many, while the hop answers others, is behind a branch that does not answer.
const MAX_TRIES: usize = 10;

/// The pace of each hop (by index in the probe log) found limiting.
#[derive(Debug, Default)]
pub(crate) struct Pacer {
    hops: Vec<Option<Pace>>,
}

#[derive(Debug, Clone, Copy)]
struct Pace {
    /// The time between two probes of the hop.
    pause: Duration,
    /// Since when the hop is paced.
    since: Instant,
    /// When its last probe was sent.
    last_sent: Option<Instant>,
}

impl Pacer {
    /// Whether the probe at `location` (hop index, probe index) among `hops`, lost at `now`, is to be sent again in
    /// its flow (see [`may_probe_again`]; the trace ends at `last_ttl`): if so its hop is paced from now on, or its
    /// pause doubled if that probe was paced already.
    pub(crate) fn lost(
        &mut self,
        hops: &[Hop],
        location: Option<(usize, usize)>,
        last_ttl: u8,
        wait: Duration,
        now: Instant,
    ) -> bool {
        let Some((hop, record, index)) = locate(hops, location) else { return false };
        if hop.ttl > last_ttl || !may_probe_again(hop, record, wait, now) {
            return false;
        }
        let sent_at = record.sent_at;
        if self.hops.len() <= index {
            self.hops.resize(index + 1, None);
        }
        match &mut self.hops[index] {
            slot @ None => *slot = Some(Pace { pause: FIRST_PAUSE, since: now, last_sent: None }),
            Some(pace) if sent_at >= pace.since => pace.pause = (pace.pause * 2).min(MAX_PAUSE),
            Some(_) => {}
        }
        true
    }

    /// The probe at `location` among `hops` was answered: a paced hop's pause shrinks.
    pub(crate) fn answered(&mut self, hops: &[Hop], location: Option<(usize, usize)>) {
        let Some((_, record, index)) = locate(hops, location) else { return };
        if let Some(Some(pace)) = self.hops.get_mut(index) {
            if record.sent_at >= pace.since {
                pace.pause = (pace.pause * 3 / 4).max(MIN_PAUSE);
            }
        }
    }

    /// A probe of hop `index` is sent at `now`.
    pub(crate) fn sent(&mut self, index: usize, now: Instant) {
        if let Some(Some(pace)) = self.hops.get_mut(index) {
            pace.last_sent = Some(now);
        }
    }

    /// When hop `index` (`hop`) may next be probed, if it is paced and its budget `until` (if any) has not run out:
    /// `None` if now; `Some(None)` once its paced probe in flight is answered or lost.
    pub(crate) fn next_at(&self, index: usize, hop: &Hop, until: Option<Instant>) -> Option<Option<Instant>> {
        let pace = self.hops.get(index).copied().flatten()?;
        let in_flight =
            hop.probes.iter().any(|probe| probe.status == ProbeStatus::InFlight && probe.sent_at >= pace.since);
        if in_flight {
            return Some(None);
        }
        let at = pace.last_sent.map_or(pace.since, |last| last + pace.pause);
        until.is_none_or(|until| at < until).then_some(Some(at))
    }
}

/// The hop and record at `location` (hop index, probe index) among `hops`, and the hop's index.
fn locate(hops: &[Hop], location: Option<(usize, usize)>) -> Option<(&Hop, &ProbeRecord, usize)> {
    let (index, probe) = location?;
    let hop = hops.get(index)?;
    Some((hop, hop.probes.get(probe)?, index))
}

/// When multipath discovery stops probing again the flows `hop` left unanswered: `wait` after its first probe.
pub(crate) fn budget_end(hop: &Hop, wait: Duration) -> Option<Instant> {
    hop.probes.first().and_then(|probe| probe.sent_at.checked_add(wait))
}

/// Whether `lost`, a probe of `hop` lost at `now`, is to be sent again in its flow: the hop answered others (a hop
/// that never answers is silent, not limiting), the flow has tries left, and the hop's budget `wait` has not run out.
fn may_probe_again(hop: &Hop, lost: &ProbeRecord, wait: Duration, now: Instant) -> bool {
    let tries = hop.probes.iter().filter(|probe| probe.flow == lost.flow).count();
    hop.is_answered() && tries < MAX_TRIES && budget_end(hop, wait).is_none_or(|end| now < end)
}
