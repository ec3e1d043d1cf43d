//! One target's life: a thread that traces it round after round on one fixed Paris flow over sockets it keeps,
//! folds each round into its window and path tracker, and publishes metrics and events.

use core::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use engine::{Hop, Outcome, Verdict};
use hoptrace_core::{resolve_host, Tracer};

use crate::monitor::events::{self, hex_id, MonitorEvent};
use crate::monitor::metrics::{HopInfo, RunResult};
use crate::monitor::path::PathTracker;
use crate::monitor::schedule::Schedule;
use crate::monitor::window::{observe, Window};
use crate::monitor::{Shared, Stopper};

/// A round that could not run: the metric's cause and a line for the user.
struct Failure {
    cause: &'static str,
    message: String,
}

/// A finished round: its hops, how it ended, and the address traced.
struct Traced {
    hops: Vec<Hop>,
    outcome: Option<Outcome>,
    target: IpAddr,
    /// Probes sent.
    sent: u32,
}

/// What one target keeps between rounds.
pub struct TargetState {
    name: String,
    shared: Arc<Shared>,
    stop: Arc<Stopper>,
    /// The tracer (its sockets open), once the target resolved.
    tracer: Option<Tracer>,
    window: Window,
    tracker: PathTracker,
    schedule: Schedule,
}

impl TargetState {
    /// A target `name` (as given: an address or a host name), not yet traced.
    pub fn new(name: String, shared: Arc<Shared>, stop: Arc<Stopper>) -> Self {
        let settings = &shared.settings;
        TargetState {
            window: Window::new(settings.window),
            tracker: PathTracker::new(settings.confirm),
            schedule: Schedule::new(settings.every, settings.jitter),
            name,
            shared,
            stop,
            tracer: None,
        }
    }

    /// Traces the target until its stop flag is set.
    pub fn run(mut self) {
        self.shared.metrics.add_target(&self.name);
        let mut due = Instant::now() + self.schedule.first(fastrand::f64());
        while self.stop.sleep_until(due) {
            let started = Instant::now();
            self.round();
            due = started + self.schedule.next(fastrand::f64());
        }
    }

    /// One round: trace, then publish what it found (or why it could not run).
    fn round(&mut self) {
        let started = Instant::now();
        let traced = self.trace();
        let metrics = Arc::clone(&self.shared.metrics);
        let Traced { hops, outcome, target, sent } = match traced {
            Ok(Some(traced)) => traced,
            Ok(None) => return, // stopped mid-round: nothing to conclude
            Err(failure) => {
                self.schedule.record(false);
                metrics.record_error(&self.name, failure.cause);
                metrics.record_run(&self.name, RunResult::Failed, 0.0);
                self.fail(failure.message);
                return;
            }
        };
        let seconds = started.elapsed().as_secs_f64();
        let reached = matches!(outcome, Some(Outcome::Reached { .. }));
        metrics.record_run(&self.name, if reached { RunResult::Reached } else { RunResult::Unreached }, seconds);
        metrics.count_probes(&self.name, sent);
        for answer in hops.iter().flat_map(Hop::answers) {
            if answer.verdict(target) == Verdict::Reached {
                metrics.observe_destination_rtt(&self.name, answer.rtt.as_secs_f64());
            }
        }
        let seen = observe(&hops, target);
        self.window.push(hops, target);
        let change = self.tracker.observe(&seen);
        metrics.set_path(&self.name, self.tracker.id(), change.is_some());
        metrics.set_hops(&self.name, Some(self.window.report()), &self.hop_info());
        if let Some(change) = change {
            self.shared.events.emit(&events::path_changed(&self.name, &change.old, &change.new));
        }
        self.schedule.record(reached);
        if self.schedule.backoff().is_zero() {
            metrics.set_backoff(&self.name, 0.0);
        } else {
            self.fail(format!("no answer from {target} in the last {} rounds", self.schedule.failures()));
        }
        self.shared.events.emit(&MonitorEvent::TargetRound {
            target: self.name.clone(),
            address: target,
            reached,
            hops: self.window.report().hops().len(),
            duration: seconds,
            path_id: self.tracker.id().map(hex_id),
            at: events::now(),
        });
    }

    /// Publishes a failed round: the back-off now in force, and an event.
    fn fail(&self, error: String) {
        let backoff = self.schedule.backoff().as_secs_f64();
        self.shared.metrics.set_backoff(&self.name, backoff);
        let event = MonitorEvent::TargetFailed { target: self.name.clone(), error, backoff, at: events::now() };
        self.shared.events.emit(&event);
    }

    /// Traces the target once on its fixed flow (the tracer's flow 0); `None` if stopped.
    fn trace(&mut self) -> Result<Option<Traced>, Failure> {
        let failure = |error: hoptrace_core::Error| {
            let cause = if matches!(error, hoptrace_core::Error::UnknownHost(_)) { "resolve" } else { "network" };
            Failure { cause, message: error.to_string() }
        };
        let options = &self.shared.options;
        let target = resolve_host(&self.name, options.ipv6).map_err(failure)?;
        // A name that now resolves elsewhere gets a new tracer (and sockets).
        if self.tracer.as_ref().is_none_or(|tracer| tracer.target() != target) {
            self.tracer = None;
            let tracer = self.open(target).map_err(failure)?;
            self.stop.attach(tracer.stop_handle());
            self.tracer = Some(tracer);
        }
        let Some(tracer) = self.tracer.as_mut() else { return Ok(None) };
        let result = match tracer.trace() {
            Ok(result) => result,
            Err(error) => {
                // Sockets that failed are opened anew next round.
                self.tracer = None;
                return Err(failure(error));
            }
        };
        if result.outcome.is_none() {
            return Ok(None);
        }
        Ok(Some(Traced { hops: result.hops, outcome: result.outcome, target, sent: result.stats.sent }))
    }

    /// A tracer to `target`: over ordinary sockets where they work (the kernel hands each target's socket only its
    /// own replies), else raw ones — unless `--raw` or `--unprivileged` decided.
    fn open(&self, target: IpAddr) -> Result<Tracer, hoptrace_core::Error> {
        let host = target.to_string();
        let options = &self.shared.options;
        if !options.unprivileged && !self.shared.settings.raw {
            let mut ordinary = options.clone();
            ordinary.unprivileged = true;
            if let Ok(tracer) = Tracer::with_options(&host, &ordinary) {
                return Ok(tracer);
            }
        }
        Tracer::with_options(&host, options)
    }

    /// `hoptrace_hop_info`'s label values: every responder of the window's hops, with its name and AS numbers
    /// when those are looked up and known by now (the directory does not wait: this is the probing thread).
    fn hop_info(&self) -> Vec<HopInfo> {
        let directory = self.shared.directory.as_ref();
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
