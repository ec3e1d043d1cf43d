//! One target's life: rounds on one fixed Paris flow, each a trace the monitor's [`Fleet`] drives over the shared
//! sockets; each folded into the target's window and path tracker, and published as metrics and events.

use core::net::IpAddr;
use std::time::Instant;

use engine::{Hop, Outcome, Trace, Verdict};
use net::Fleet;

use crate::exporter::metrics::{HopInfo, RunResult};
use crate::monitor::events::{self, hex_id, MonitorEvent};
use crate::monitor::path::PathTracker;
use crate::monitor::resolver::Resolver;
use crate::monitor::schedule::Schedule;
use crate::monitor::window::{observe, Window};
use crate::monitor::Shared;

/// Where a target is between its rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for its next round, due at this moment.
    Waiting(Instant),
    /// Its name is being looked up, for a round that started at this moment.
    Resolving(Instant),
    /// Its trace runs in the fleet, since this moment.
    Tracing(Instant),
}

/// What one target keeps between rounds.
pub struct TargetState {
    name: String,
    window: Window,
    tracker: PathTracker,
    schedule: Schedule,
    phase: Phase,
    /// Where the next round numbers its probes: past the last round's, so that its late replies match nothing.
    sequence_start: u32,
}

impl TargetState {
    /// A target `name` (as given: an address or a host name), its first round somewhere in the first period.
    pub fn new(name: String, shared: &Shared) -> Self {
        let settings = &shared.settings;
        shared.metrics.add_target(&name);
        let schedule = Schedule::new(settings.every, settings.jitter);
        TargetState {
            phase: Phase::Waiting(Instant::now() + schedule.first(fastrand::f64())),
            window: Window::new(settings.window),
            tracker: PathTracker::new(settings.confirm),
            schedule,
            name,
            sequence_start: 0,
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

    /// Starts a round: at once for an address, after the lookup of a name.
    pub fn begin(&mut self, shared: &Shared, fleet: &mut Fleet<String>, resolver: &Resolver) {
        self.phase = Phase::Resolving(Instant::now());
        match resolver.literal(&self.name) {
            Some(answer) => self.resolved(answer, shared, fleet),
            None => resolver.ask(&self.name),
        }
    }

    /// The lookup of its name came back: the round goes on, or fails.
    pub fn resolved(
        &mut self,
        answer: Result<IpAddr, hoptrace_core::Error>,
        shared: &Shared,
        fleet: &mut Fleet<String>,
    ) {
        let Phase::Resolving(started) = self.phase else { return };
        match answer {
            Ok(address) => self.trace(address, started, shared, fleet),
            Err(error) => self.failed(started, "resolve", error.to_string(), shared),
        }
    }

    /// Starts the round's trace to `address` in the fleet.
    fn trace(&mut self, address: IpAddr, started: Instant, shared: &Shared, fleet: &mut Fleet<String>) {
        let mut config = shared.settings.trace.probing.trace_config(address, fleet.is_raw(address.is_ipv6()));
        config.sequence_start = self.sequence_start;
        match fleet.start(self.name.clone(), &config) {
            Ok(()) => self.phase = Phase::Tracing(started),
            Err(error) => self.failed(started, "network", error.to_string(), shared),
        }
    }

    /// A round that could not run: counted, backed off, said.
    fn failed(&mut self, started: Instant, cause: &'static str, message: String, shared: &Shared) {
        self.schedule.record(false);
        shared.metrics.record_error(&self.name, cause);
        shared.metrics.record_run(&self.name, RunResult::Failed, 0.0);
        self.next_after(started);
        self.fail(message, shared);
    }

    /// Schedules the next round after one that started at `started`.
    fn next_after(&mut self, started: Instant) {
        self.phase = Phase::Waiting(started + self.schedule.next(fastrand::f64()));
    }

    /// The round's trace finished: publish what it found.
    pub fn finish(&mut self, trace: &Trace, shared: &Shared) {
        let Phase::Tracing(started) = self.phase else { return };
        self.sequence_start = self.sequence_start.wrapping_add(trace.stats().sent);
        let reached = matches!(trace.outcome(), Some(Outcome::Reached { .. }));
        // Recorded first, so that the next round comes after the back-off in force now, as a failed one does.
        self.schedule.record(reached);
        self.next_after(started);
        let metrics = &shared.metrics;
        let (hops, target) = (trace.hops().to_vec(), trace.config().target);
        let seconds = started.elapsed().as_secs_f64();
        metrics.record_run(&self.name, if reached { RunResult::Reached } else { RunResult::Unreached }, seconds);
        metrics.count_probes(&self.name, trace.stats().sent);
        for answer in hops.iter().flat_map(Hop::answers) {
            if answer.verdict(target) == Verdict::Reached {
                metrics.observe_destination_rtt(&self.name, answer.rtt.as_secs_f64());
            }
        }
        let seen = observe(&hops, target);
        self.window.push(hops, target);
        let change = self.tracker.observe(&seen);
        metrics.set_path(&self.name, self.tracker.id(), change.is_some());
        metrics.set_hops(&self.name, Some(self.window.report()), &self.hop_info(shared));
        if let Some(change) = change {
            shared.events.emit(&events::path_changed(&self.name, &change.old, &change.new));
        }
        if self.schedule.backoff().is_zero() {
            metrics.set_backoff(&self.name, 0.0);
        } else {
            self.fail(format!("no answer from {target} in the last {} rounds", self.schedule.failures()), shared);
        }
        shared.events.emit(&MonitorEvent::TargetRound {
            target: self.name.clone(),
            address: target,
            reached,
            hops: self.window.report().hops().len(),
            duration: seconds,
            path_id: self.tracker.id().map(hex_id),
            at: events::now(),
        });
    }

    /// Publishes a failed round, its next one scheduled: the back-off now in force, and an event.
    fn fail(&self, error: String, shared: &Shared) {
        let backoff = self.schedule.backoff().as_secs_f64();
        shared.metrics.set_backoff(&self.name, backoff);
        let retry_in = self.due().map_or(0.0, |due| due.saturating_duration_since(Instant::now()).as_secs_f64());
        let (target, at) = (self.name.clone(), events::now());
        shared.events.emit(&MonitorEvent::TargetFailed { target, error, backoff, retry_in, at });
    }

    /// `hoptrace_hop_info`'s label values: every responder of the window's hops, with its name and AS numbers
    /// when those are looked up and known by now (the directory does not wait: this is the probing loop).
    fn hop_info(&self, shared: &Shared) -> Vec<HopInfo> {
        let directory = shared.directory.as_ref();
        let hops = self.window.report().hops();
        hops.iter()
            .flat_map(|hop| hop.responders.iter().map(move |responder| (hop.ttl, responder.addr)))
            .map(|(ttl, addr)| HopInfo {
                ttl,
                address: addr.to_string(),
                name: directory.name(addr).unwrap_or_default(),
                asn: directory.asns(addr).unwrap_or_default().iter().map(u32::to_string).collect::<Vec<_>>().join(" "),
            })
            .collect()
    }
}
