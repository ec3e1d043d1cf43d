//! `hoptrace monitor`: many targets traced around the clock, each on its own schedule and thread, with per-hop
//! statistics over a sliding window, path-change detection, a Prometheus endpoint and an event stream.
//!
//! The main thread owns the set of targets: it starts a thread per target, re-reads `--targets` on SIGHUP
//! (starting new targets, stopping those gone), and on SIGINT or SIGTERM stops every target, closes the HTTP
//! listener and flushes the events.

pub mod events;
pub mod http;
pub mod metrics;
pub mod path;
pub mod schedule;
pub mod target;
pub mod window;

use core::net::SocketAddr;
use core::time::Duration;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Instant;

use hoptrace_core::{Options, StopHandle};

use crate::error::Error;
use crate::output::{Control, Directory};
use crate::settings::Settings;

use events::EventSink;
use http::Exporter;
use metrics::Metrics;
use target::TargetState;

/// What `hoptrace monitor` was asked to do.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorSettings {
    /// Targets named on the command line.
    pub targets: Vec<String>,
    /// `--targets`: a file naming more, re-read on SIGHUP.
    pub targets_file: Option<PathBuf>,
    /// `--every`: the period of each target's rounds.
    pub every: Duration,
    /// `--jitter`: the largest random shift of a round, as a fraction of the period.
    pub jitter: f64,
    /// `--window`: rounds the statistics cover.
    pub window: usize,
    /// `--confirm`: rounds in a row a new path must be seen in to count as a change.
    pub confirm: u32,
    /// `--prometheus`: where to serve `/metrics`.
    pub prometheus: Option<SocketAddr>,
    /// `--events`: NDJSON events on stdout instead of text lines.
    pub events: bool,
    /// `--raw`: raw sockets even where ordinary ones work.
    pub raw: bool,
    /// How each round traces (the host field unused).
    pub trace: Settings,
}

/// What every target's thread shares.
pub struct Shared {
    /// The settings.
    pub settings: MonitorSettings,
    /// How each round traces.
    pub options: Options,
    /// The metrics.
    pub metrics: Arc<Metrics>,
    /// The event stream.
    pub events: EventSink,
    /// Names and AS numbers for `hoptrace_hop_info`.
    pub directory: Box<dyn Directory + Send + Sync>,
}

/// How long stopping waits for the targets' threads.
const STOP_WAIT: Duration = Duration::from_secs(2);

/// How often the main thread looks at the signal flags and whether the events' reader is still there.
const TICK: Duration = Duration::from_millis(100);

/// Stops one target: the wait between its rounds (which it wakes from at once), and the tracer whose trace may be
/// under way.
#[derive(Default)]
pub struct Stopper {
    stopped: Mutex<bool>,
    woken: Condvar,
    tracer: Mutex<Option<StopHandle>>,
}

impl Stopper {
    /// Stops the target: the pause between rounds, and the trace in progress.
    pub fn stop(&self) {
        *lock(&self.stopped) = true;
        self.woken.notify_all();
        if let Some(handle) = lock(&self.tracer).as_ref() {
            handle.stop();
        }
    }

    /// Sleeps until `due`, or until stopped; whether to go on.
    pub fn sleep_until(&self, due: Instant) -> bool {
        let mut stopped = lock(&self.stopped);
        while !*stopped {
            let left = due.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            stopped = self.woken.wait_timeout(stopped, left).unwrap_or_else(PoisonError::into_inner).0;
        }
        false
    }

    /// Makes [`Stopper::stop`] stop `handle`'s tracer too, at once if it already happened.
    pub fn attach(&self, handle: StopHandle) {
        *lock(&self.tracer) = Some(handle.clone());
        if *lock(&self.stopped) {
            handle.stop();
        }
    }
}

/// `mutex`, locked; a thread that panicked holding it left nothing half-done worth refusing.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running target: its stopper and thread.
struct Running {
    stop: Arc<Stopper>,
    thread: JoinHandle<()>,
}

/// The targets the command line and the targets file name together; the file's problem as one line.
fn wanted_targets(settings: &MonitorSettings) -> Result<Vec<String>, String> {
    let mut targets = settings.targets.clone();
    if let Some(path) = &settings.targets_file {
        let text = std::fs::read_to_string(path).map_err(|error| format!("--targets {}: {error}", path.display()))?;
        let named: HashSet<String> = targets.iter().cloned().collect();
        targets.extend(schedule::parse_targets(&text).into_iter().filter(|target| !named.contains(target)));
    }
    Ok(targets)
}

/// Runs the monitor until SIGINT or SIGTERM.
pub fn run(settings: MonitorSettings, directory: Box<dyn Directory + Send + Sync>) -> Result<(), Error> {
    let targets = wanted_targets(&settings).map_err(Error::Failed)?;
    if targets.is_empty() {
        return Err(Error::Failed("no targets: name some, or a --targets file that lists some".to_owned()));
    }
    // Set by SIGINT, SIGTERM or a failure to write the events.
    let stop = StopHandle::default();
    let reload = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Registration only fails for forbidden signals; these are not.
        let _ = signal_hook::flag::register(signal, stop.flag());
    }
    let _ = signal_hook::flag::register(signal_hook::consts::SIGHUP, Arc::clone(&reload));

    let metrics = Arc::new(Metrics::new());
    let exporter = match settings.prometheus {
        Some(addr) => Some(Exporter::start(addr, Arc::clone(&metrics), stop.clone()).map_err(Error::Failed)?),
        None => None,
    };
    let events = EventSink::new(settings.events, Control { stops: vec![stop.clone()], ..Control::default() });
    let options = settings.trace.options();
    let shared = Arc::new(Shared { settings, options, metrics, events, directory });

    let mut running: HashMap<String, Running> = HashMap::new();
    update_targets(&mut running, &targets, &shared);
    while !stop.is_stopped() {
        thread::sleep(TICK);
        shared.events.check_reader();
        if reload.swap(false, Ordering::Relaxed) {
            match wanted_targets(&shared.settings) {
                Ok(targets) => update_targets(&mut running, &targets, &shared),
                Err(error) => events::warn(&format!("{error}; keeping the targets as they were")),
            }
        }
    }
    let stopping: Vec<Running> = running.into_values().collect();
    for target in &stopping {
        target.stop.stop();
    }
    // A trace stops within a quarter second; a name lookup under way cannot be interrupted, and is left behind.
    let until = Instant::now() + STOP_WAIT;
    for target in stopping {
        while !target.thread.is_finished() && Instant::now() < until {
            thread::sleep(Duration::from_millis(10));
        }
        if target.thread.is_finished() {
            let _ = target.thread.join();
        }
    }
    if let Some(exporter) = exporter {
        exporter.join();
    }
    Ok(shared.events.finish()?)
}

/// Starts the targets in `wanted` not running yet and stops those running but no longer wanted (all at once, then
/// waits for them). A target whose thread cannot start is said so and left out until the next reload.
fn update_targets(running: &mut HashMap<String, Running>, wanted: &[String], shared: &Arc<Shared>) {
    let keep: HashSet<&str> = wanted.iter().map(String::as_str).collect();
    let gone: Vec<String> = running.keys().filter(|name| !keep.contains(name.as_str())).cloned().collect();
    let stopping: Vec<(String, Running)> =
        gone.into_iter().filter_map(|name| running.remove(&name).map(|target| (name, target))).collect();
    for (_, target) in &stopping {
        target.stop.stop();
    }
    for (name, target) in stopping {
        let _ = target.thread.join();
        shared.metrics.remove_target(&name);
    }
    for name in wanted {
        if running.contains_key(name) {
            continue;
        }
        let stop = Arc::new(Stopper::default());
        let (name_, shared_, stop_) = (name.clone(), Arc::clone(shared), Arc::clone(&stop));
        // The sockets are opened on the target's thread and stay there.
        let started = thread::Builder::new()
            .name("hoptrace-target".to_owned())
            .spawn(move || TargetState::new(name_, shared_, stop_).run());
        match started {
            Ok(thread) => {
                running.insert(name.clone(), Running { stop, thread });
            }
            Err(error) => events::warn(&format!("{name}: not monitored, no thread for it: {error}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stopped_target_wakes_at_once_and_stops_its_tracer() {
        let stopper = Arc::new(Stopper::default());
        assert!(stopper.sleep_until(Instant::now() + Duration::from_millis(10)), "a wait that ends goes on");
        let sleeper = Arc::clone(&stopper);
        let asleep =
            thread::spawn(move || (sleeper.sleep_until(Instant::now() + Duration::from_secs(60)), Instant::now()));
        thread::sleep(Duration::from_millis(50));
        let stopped = Instant::now();
        stopper.stop();
        let (went_on, woke) = asleep.join().unwrap();
        assert!(!went_on);
        assert!(woke.duration_since(stopped) < Duration::from_secs(1), "woke {:?} after", woke - stopped);
        // A tracer attached after the stop is stopped at once.
        let tracer = StopHandle::default();
        stopper.attach(tracer.clone());
        assert!(tracer.is_stopped());
        assert!(!stopper.sleep_until(Instant::now() + Duration::from_secs(60)));
    }
}
