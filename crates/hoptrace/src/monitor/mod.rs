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
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Instant;

use hoptrace_core::{Options, StopHandle};

use crate::error::Error;
use crate::output::Directory;
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

/// How often the main thread looks at the signal flags.
const TICK: Duration = Duration::from_millis(100);

/// Sleeps until `due`, or until `stop` is set; whether to go on.
pub fn sleep_until(due: Instant, stop: &AtomicBool) -> bool {
    while !stop.load(Ordering::Relaxed) {
        let left = due.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        thread::sleep(left.min(TICK));
    }
    false
}

/// Stops one target: its flag, and the tracer whose trace may be under way.
#[derive(Default)]
pub struct Stopper {
    flag: AtomicBool,
    tracer: Mutex<Option<StopHandle>>,
}

impl Stopper {
    /// Stops the target: the pause between rounds, and the trace in progress.
    pub fn stop(&self) {
        self.flag.store(true, Ordering::SeqCst);
        if let Some(handle) = self.tracer.lock().unwrap_or_else(PoisonError::into_inner).as_ref() {
            handle.stop();
        }
    }

    /// The flag, set once stopped.
    pub fn flag(&self) -> &AtomicBool {
        &self.flag
    }

    /// Makes [`Stopper::stop`] stop `handle`'s tracer too, at once if it already happened.
    pub fn attach(&self, handle: StopHandle) {
        *self.tracer.lock().unwrap_or_else(PoisonError::into_inner) = Some(handle.clone());
        if self.flag.load(Ordering::SeqCst) {
            handle.stop();
        }
    }
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
        for target in schedule::parse_targets(&text) {
            if !targets.contains(&target) {
                targets.push(target);
            }
        }
    }
    Ok(targets)
}

/// Runs the monitor until SIGINT or SIGTERM.
pub fn run(settings: MonitorSettings, directory: Box<dyn Directory + Send + Sync>) -> Result<(), Error> {
    let targets = wanted_targets(&settings).map_err(Error::Failed)?;
    if targets.is_empty() {
        return Err(Error::Failed("no targets: name some, or a --targets file that lists some".to_owned()));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let reload = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Registration only fails for forbidden signals; these are not.
        let _ = signal_hook::flag::register(signal, Arc::clone(&stop));
    }
    let _ = signal_hook::flag::register(signal_hook::consts::SIGHUP, Arc::clone(&reload));

    let metrics = Arc::new(Metrics::new());
    let exporter = match settings.prometheus {
        Some(addr) => Some(Exporter::start(addr, Arc::clone(&metrics), Arc::clone(&stop)).map_err(Error::Failed)?),
        None => None,
    };
    let events = EventSink::new(settings.events, Box::new(std::io::stdout()));
    let options = settings.trace.options();
    let shared = Arc::new(Shared { settings, options, metrics, events, directory });

    let mut running: HashMap<String, Running> = HashMap::new();
    update_targets(&mut running, &targets, &shared);
    while !stop.load(Ordering::Relaxed) {
        thread::sleep(TICK);
        if reload.swap(false, Ordering::Relaxed) {
            match wanted_targets(&shared.settings) {
                Ok(targets) => update_targets(&mut running, &targets, &shared),
                Err(error) => events::warn(&format!("{error}; keeping the targets as they were")),
            }
        }
    }
    for target in running.values() {
        target.stop.stop();
    }
    for (_, target) in running.drain() {
        let _ = target.thread.join();
    }
    if let Some(exporter) = exporter {
        exporter.join();
    }
    let _ = shared.events.flush();
    Ok(())
}

/// Starts the targets in `wanted` not running yet and stops those running but no longer wanted.
fn update_targets(running: &mut HashMap<String, Running>, wanted: &[String], shared: &Arc<Shared>) {
    let gone: Vec<String> = running.keys().filter(|name| !wanted.contains(name)).cloned().collect();
    for name in gone {
        if let Some(target) = running.remove(&name) {
            target.stop.stop();
            let _ = target.thread.join();
            shared.metrics.remove_target(&name);
        }
    }
    for name in wanted {
        if running.contains_key(name) {
            continue;
        }
        let stop = Arc::new(Stopper::default());
        let (name_, shared_, stop_) = (name.clone(), Arc::clone(shared), Arc::clone(&stop));
        // The sockets are opened on the target's thread and stay there.
        let thread = thread::spawn(move || TargetState::new(name_, shared_, stop_).run());
        running.insert(name.clone(), Running { stop, thread });
    }
}
