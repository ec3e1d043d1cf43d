//! The monitor: many targets traced around the clock, each on its own jittered schedule, with per-hop statistics
//! over a sliding window ([`Window`](crate::report::Window)), path identity and path-change detection
//! ([`path`]), and back-off for targets that fail ([`schedule`]).
//!
//! [`Monitor`] is sans-IO in the way of the engine: each [`Monitor::step`] starts the rounds that are due over a
//! [`Traces`] — many traces at once, over shared sockets ([`net::Fleet`](FleetTraces)) or a simulated network on
//! a virtual clock (`sim::SimTraces`, feature `sim`) — and takes names from a [`Lookup`] that never blocks. What
//! happened comes back as [`Notice`]s: serde [`MonitorEvent`]s, and the figures an exporter keeps.

mod event;
mod fleet;
pub mod path;
pub mod schedule;
mod target;

use core::cmp::Reverse;
use core::net::IpAddr;
use core::time::Duration;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::time::{Instant, SystemTime};

use engine::{Trace, TraceConfig};

use crate::error::Error;
use crate::options::Options;
use crate::report::Report;

pub use event::{epoch_seconds, hex_id, path_changed, MonitorEvent};
pub use fleet::{FleetTraces, ResolverLookup};
pub use path::{Observation, PathChange, PathTracker};
pub use schedule::{parse_targets, Schedule, GRACE, MAX_BACKOFF};
use target::{TargetState, Turn};

/// How soon the monitor looks again for answers while names are being looked up.
const RESOLVE_CHECK: Duration = Duration::from_millis(20);

/// How the monitor traces its targets.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorOptions {
    /// The period of each target's rounds.
    pub every: Duration,
    /// The largest random shift of a round, as a fraction of the period.
    pub jitter: f64,
    /// Rounds the statistics cover.
    pub window: usize,
    /// Rounds in a row a new path must be seen in to count as a change.
    pub confirm: u32,
    /// How each round traces (its host and flow unused: one fixed flow per target).
    pub probing: Options,
    /// The seed of the schedule's randomness (`None`: from the clock).
    pub seed: Option<u64>,
}

/// Many traces at once: what the monitor runs its rounds over. [`net::Fleet`] over real sockets
/// ([`FleetTraces`]), or a simulated network on a virtual clock.
pub trait Traces {
    /// The time now (virtual in a simulation).
    fn now(&self) -> Instant;
    /// The wall-clock time now, for events.
    fn wall_clock(&self) -> SystemTime {
        SystemTime::now()
    }
    /// Whether traces to addresses of this family go out through raw sockets.
    fn is_raw(&self, ipv6: bool) -> bool;
    /// Starts a trace of `config`, known as `key` until [`Traces::take_finished`] hands it back.
    fn start(&mut self, key: String, config: &TraceConfig) -> Result<(), Error>;
    /// Drops the traces whose key `gone` says, unfinished.
    fn cancel(&mut self, gone: &mut dyn FnMut(&str) -> bool);
    /// Sends, waits for replies until the earliest deadline of any trace or `until`, and handles them.
    fn turn(&mut self, until: Option<Instant>) -> Result<(), Error>;
    /// The traces that finished, with their keys.
    fn take_finished(&mut self) -> Vec<(String, Trace)>;
}

/// Forward lookups that never block: the monitor asks, and picks the answers up between its turns.
pub trait Lookup {
    /// Asks for `name`'s address.
    fn ask(&mut self, name: &str);
    /// The answers that came in since last asked.
    fn answers(&mut self) -> Vec<(String, Result<IpAddr, Error>)>;
}

/// Why a round could not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The name did not resolve.
    Resolve,
    /// The trace could not start.
    Network,
}

impl Failure {
    /// Its name, as a metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Failure::Resolve => "resolve",
            Failure::Network => "network",
        }
    }
}

/// What a finished round found.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundDone {
    /// The target as given.
    pub target: String,
    /// Its address.
    pub address: IpAddr,
    /// Whether the destination answered.
    pub reached: bool,
    /// How long the round took (from its start, lookup included), in seconds.
    pub seconds: f64,
    /// Probes sent.
    pub sent: u32,
    /// The destination's round-trip times, in seconds.
    pub destination_rtts: Vec<f64>,
    /// The established path's identity, once there is one.
    pub path_id: Option<u64>,
    /// Whether this round confirmed a path change.
    pub changed: bool,
}

/// What one step of the monitor tells.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// A round finished (its window's report: [`Monitor::report`]).
    Round(RoundDone),
    /// A round could not run.
    Failed {
        /// The target as given.
        target: String,
        /// Why.
        cause: Failure,
    },
    /// The back-off now in force for a target, in seconds (0: none).
    Backoff {
        /// The target as given.
        target: String,
        /// The extra wait.
        seconds: f64,
    },
    /// An event to publish.
    Event(MonitorEvent),
}

/// Many targets, each traced in rounds on its schedule.
pub struct Monitor {
    options: MonitorOptions,
    targets: HashMap<String, TargetState>,
    /// When targets are due, earliest first: a step looks at these rather than at every target (10,000 targets
    /// scanned three times a step cost more than probing them). An entry whose target is no longer due then is
    /// stale and skipped.
    queue: BinaryHeap<Reverse<(Instant, String)>>,
    /// The targets whose name is being looked up.
    resolving: HashSet<String>,
    rng: u64,
}

/// Notes when `target`, just changed, is due next, and whether its name is being looked up.
fn track(
    queue: &mut BinaryHeap<Reverse<(Instant, String)>>,
    resolving: &mut HashSet<String>,
    name: &str,
    target: &TargetState,
) {
    if let Some(due) = target.due() {
        queue.push(Reverse((due, name.to_owned())));
    }
    if target.resolving() {
        resolving.insert(name.to_owned());
    } else {
        resolving.remove(name);
    }
}

impl Monitor {
    /// A monitor with no targets yet.
    pub fn new(options: MonitorOptions) -> Self {
        let clock = || SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_nanos() as u64;
        let rng = options.seed.unwrap_or_else(clock);
        Monitor { options, targets: HashMap::new(), queue: BinaryHeap::new(), resolving: HashSet::new(), rng }
    }

    /// The options.
    pub fn options(&self) -> &MonitorOptions {
        &self.options
    }

    /// Monitors the targets in `wanted`: adds those not monitored yet (their first round somewhere in the first
    /// period) and drops the others (their trace under way included). Returns the names added and dropped.
    pub fn set_targets(&mut self, wanted: &[String], traces: &mut dyn Traces) -> (Vec<String>, Vec<String>) {
        let keep: HashSet<&str> = wanted.iter().map(String::as_str).collect();
        let mut dropped: Vec<String> =
            self.targets.keys().filter(|name| !keep.contains(name.as_str())).cloned().collect();
        dropped.sort();
        for name in &dropped {
            self.targets.remove(name);
            self.resolving.remove(name);
        }
        traces.cancel(&mut |name| !keep.contains(name));
        let now = traces.now();
        let mut added = Vec::new();
        for name in wanted {
            if !self.targets.contains_key(name) {
                let first = target::random(&mut self.rng);
                let target = TargetState::new(name.clone(), &self.options, now, first);
                track(&mut self.queue, &mut self.resolving, name, &target);
                self.targets.insert(name.clone(), target);
                added.push(name.clone());
            }
        }
        (added, dropped)
    }

    /// The targets monitored.
    pub fn targets(&self) -> impl Iterator<Item = &str> {
        self.targets.keys().map(String::as_str)
    }

    /// The report over `target`'s window.
    pub fn report(&self, target: &str) -> Option<&Report> {
        self.targets.get(target).map(TargetState::report)
    }

    /// `target`'s established path identity.
    pub fn path_id(&self, target: &str) -> Option<u64> {
        self.targets.get(target).and_then(TargetState::path_id)
    }

    /// When the next round of any target is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.targets.values().filter_map(TargetState::due).min()
    }

    /// The earliest entry of the queue that is not stale: its target is due then.
    fn earliest(&mut self) -> Option<(Instant, &str)> {
        while let Some(Reverse((due, name))) = self.queue.peek() {
            if self.targets.get(name).and_then(TargetState::due) == Some(*due) {
                break;
            }
            self.queue.pop();
        }
        self.queue.peek().map(|Reverse((due, name))| (*due, name.as_str()))
    }

    /// One step: takes the lookups' answers, starts the rounds due, lets `traces` take one turn (until the next
    /// round is due at the latest), and folds in the rounds that finished. An error of `traces` ends monitoring.
    pub fn step(&mut self, traces: &mut dyn Traces, lookup: &mut dyn Lookup) -> Result<Vec<Notice>, Error> {
        let mut notices = Vec::new();
        let now = traces.now();
        {
            let mut turn =
                Turn { options: &self.options, traces: &mut *traces, now, notices: &mut notices, rng: &mut self.rng };
            for (name, answer) in lookup.answers() {
                if let Some(target) = self.targets.get_mut(&name) {
                    target.resolved(answer, &mut turn);
                    track(&mut self.queue, &mut self.resolving, &name, target);
                }
            }
        }
        let mut due: Vec<String> = Vec::new();
        while self.earliest().is_some_and(|(at, _)| at <= now) {
            if let Some(Reverse((_, name))) = self.queue.pop() {
                due.push(name);
            }
        }
        due.sort();
        due.dedup();
        {
            let mut turn =
                Turn { options: &self.options, traces: &mut *traces, now, notices: &mut notices, rng: &mut self.rng };
            for name in due {
                let Some(target) = self.targets.get_mut(&name) else { continue };
                target.begin(now);
                // An address is its own answer, at once (its family checked); a name is asked.
                match name.parse::<IpAddr>() {
                    Ok(_) => target.resolved(crate::resolve_host(&name, self.options.probing.family), &mut turn),
                    Err(_) => lookup.ask(&name),
                }
                track(&mut self.queue, &mut self.resolving, &name, target);
            }
        }
        let mut until = self.earliest().map(|(due, _)| due);
        if !self.resolving.is_empty() {
            until = Some(until.map_or(now + RESOLVE_CHECK, |due| due.min(now + RESOLVE_CHECK)));
        }
        let mut turn = Turn { options: &self.options, traces, now, notices: &mut notices, rng: &mut self.rng };
        turn.traces.turn(until)?;
        turn.now = turn.traces.now();
        let mut finished = turn.traces.take_finished();
        finished.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, trace) in finished {
            if let Some(target) = self.targets.get_mut(&name) {
                target.finish(&trace, &mut turn);
                track(&mut self.queue, &mut self.resolving, &name, target);
            }
        }
        Ok(notices)
    }
}
