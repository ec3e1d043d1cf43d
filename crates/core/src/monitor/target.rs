//! One target's life: rounds on one fixed Paris flow, each a trace the monitor's [`Traces`] drives; each folded
//! into the target's window and path tracker, and told as [`Notice`]s.

use core::net::IpAddr;
use std::time::Instant;

use engine::{Hop, Trace, Verdict};

use super::event::{self, hex_id, MonitorEvent};
use super::path::{observe, PathTracker};
use super::schedule::Schedule;
use super::{Failure, MonitorOptions, Notice, RoundDone, Traces};
use crate::error::Error;
use crate::report::{Report, Window};

/// Where a target is between its rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for its next round, due at this moment.
    Waiting(Instant),
    /// Its name is being looked up, for a round that started at this moment.
    Resolving(Instant),
    /// Its trace runs, since this moment.
    Tracing(Instant),
}

/// What one target keeps between rounds.
pub(crate) struct TargetState {
    name: String,
    window: Window,
    tracker: PathTracker,
    schedule: Schedule,
    phase: Phase,
    /// Where the next round numbers its probes: past the last round's, so that its late replies match nothing.
    sequence_start: u32,
    /// The TTL the last round reached the destination at: the next round probes no farther unless the path grew.
    distance: Option<u8>,
}

impl TargetState {
    /// A target `name` (as given: an address or a host name), its first round `first` from `now`.
    pub fn new(name: String, options: &MonitorOptions, now: Instant, random: f64) -> Self {
        let schedule = Schedule::new(options.every, options.jitter);
        TargetState {
            phase: Phase::Waiting(now + schedule.first(random)),
            window: Window::new(options.window),
            tracker: PathTracker::new(options.confirm),
            schedule,
            name,
            sequence_start: 0,
            distance: None,
        }
    }

    /// When its next round is due, if it waits for one.
    pub fn due(&self) -> Option<Instant> {
        match self.phase {
            Phase::Waiting(due) => Some(due),
            _ => None,
        }
    }

    /// Whether its name is being looked up.
    pub fn resolving(&self) -> bool {
        matches!(self.phase, Phase::Resolving(_))
    }

    /// The report over its window.
    pub fn report(&self) -> &Report {
        self.window.report()
    }

    /// The established path's identity, if any.
    pub fn path_id(&self) -> Option<u64> {
        self.tracker.id()
    }

    /// Starts a round at `now`: it waits for the lookup of its name.
    pub fn begin(&mut self, now: Instant) {
        self.phase = Phase::Resolving(now);
    }

    /// The lookup of its name came back: the round's trace starts, or the round fails.
    pub fn resolved(&mut self, answer: Result<IpAddr, Error>, turn: &mut Turn<'_>) {
        let Phase::Resolving(started) = self.phase else { return };
        match answer {
            Ok(address) => self.trace(address, started, turn),
            Err(error) => self.failed(started, Failure::Resolve, error.to_string(), turn),
        }
    }

    /// Starts the round's trace to `address`.
    fn trace(&mut self, address: IpAddr, started: Instant, turn: &mut Turn<'_>) {
        let raw = turn.traces.is_raw(address.is_ipv6());
        let mut config = turn.options.probing.trace_config(address, raw);
        config.sequence_start = self.sequence_start;
        config.known_distance = self.distance;
        match turn.traces.start(self.name.clone(), &config) {
            Ok(()) => self.phase = Phase::Tracing(started),
            Err(error) => self.failed(started, Failure::Network, error.to_string(), turn),
        }
    }

    /// A round that could not run: counted, backed off, said.
    fn failed(&mut self, started: Instant, cause: Failure, message: String, turn: &mut Turn<'_>) {
        self.schedule.record(false);
        turn.notices.push(Notice::Failed { target: self.name.clone(), cause });
        self.next_after(started, turn.random());
        self.fail(message, turn);
    }

    /// Schedules the next round after one that started at `started`.
    fn next_after(&mut self, started: Instant, random: f64) {
        self.phase = Phase::Waiting(started + self.schedule.next(random));
    }

    /// The round's trace finished: tell what it found.
    pub fn finish(&mut self, trace: &Trace, turn: &mut Turn<'_>) {
        let Phase::Tracing(started) = self.phase else { return };
        self.sequence_start = self.sequence_start.wrapping_add(trace.stats().sent);
        self.distance = trace.distance();
        let reached = self.distance.is_some();
        // Recorded first, so that the next round comes after the back-off in force now, as a failed one does.
        self.schedule.record(reached);
        self.next_after(started, turn.random());
        let (hops, target) = (trace.hops().to_vec(), trace.config().target);
        let seconds = turn.now.saturating_duration_since(started).as_secs_f64();
        let destination_rtts = hops
            .iter()
            .flat_map(Hop::answers)
            .filter(|answer| answer.verdict(target) == Verdict::Reached)
            .map(|answer| answer.rtt.as_secs_f64())
            .collect();
        // Replies to this target that matched no probe, or a probe already answered: guesses of a forger, maybe.
        let stats = trace.stats();
        let seen = observe(&hops, target, stats.unmatched > 0 || stats.duplicates > 0);
        self.window.push(hops, target);
        let change = self.tracker.observe(&seen);
        turn.notices.push(Notice::Round(RoundDone {
            target: self.name.clone(),
            address: target,
            reached,
            seconds,
            sent: trace.stats().sent,
            destination_rtts,
            path_id: self.tracker.id(),
            changed: change.is_some(),
        }));
        if let Some(change) = change {
            let at = turn.traces.wall_clock();
            turn.notices.push(Notice::Event(event::path_changed(&self.name, &change.old, &change.new, at)));
        }
        if self.schedule.backoff().is_zero() {
            turn.notices.push(Notice::Backoff { target: self.name.clone(), seconds: 0.0 });
        } else {
            let message = format!("no answer from {target} in the last {} rounds", self.schedule.failures());
            self.fail(message, turn);
        }
        turn.notices.push(Notice::Event(MonitorEvent::TargetRound {
            target: self.name.clone(),
            address: target,
            reached,
            hops: self.window.report().hops().len(),
            duration: seconds,
            path_id: self.tracker.id().map(hex_id),
            at: event::epoch_seconds(turn.traces.wall_clock()),
        }));
    }

    /// Tells of a failed round, its next one scheduled: the back-off now in force, and an event.
    fn fail(&self, error: String, turn: &mut Turn<'_>) {
        let backoff = self.schedule.backoff().as_secs_f64();
        turn.notices.push(Notice::Backoff { target: self.name.clone(), seconds: backoff });
        let retry_in = self.due().map_or(0.0, |due| due.saturating_duration_since(turn.now).as_secs_f64());
        let (target, at) = (self.name.clone(), event::epoch_seconds(turn.traces.wall_clock()));
        turn.notices.push(Notice::Event(MonitorEvent::TargetFailed { target, error, backoff, retry_in, at }));
    }
}

/// What a target's step works with: the options, the traces, the time, and where notices go.
pub(crate) struct Turn<'a> {
    pub options: &'a MonitorOptions,
    pub traces: &'a mut dyn Traces,
    pub now: Instant,
    pub notices: &'a mut Vec<Notice>,
    pub rng: &'a mut u64,
}

impl Turn<'_> {
    /// A uniform number in 0..1.
    pub fn random(&mut self) -> f64 {
        random(self.rng)
    }
}

/// A uniform number in 0..1 from the state `rng` (splitmix64).
pub(crate) fn random(rng: &mut u64) -> f64 {
    *rng = rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *rng;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}
