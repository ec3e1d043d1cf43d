//! `hoptrace monitor`: many targets traced around the clock, each on its own jittered schedule, with per-hop
//! statistics over a sliding window, path-change detection, a Prometheus endpoint and an event stream.
//!
//! One loop on the main thread drives every target's rounds as traces of one [`Fleet`]: a socket set per address
//! family, opened at start and shared by all targets (unprivileged TCP excepted: it takes a socket per probe),
//! after which privileges are dropped — targets a SIGHUP adds go through the same sockets. Rounds are the loop's
//! timers; names are looked up on a thread of their own ([`resolver`]), never holding up a probe. On SIGINT or
//! SIGTERM the loop stops, the HTTP listener closes and the events are flushed.

pub mod connections;
pub mod events;
pub mod exposition;
pub mod http;
pub mod listen;
pub mod metrics;
pub mod path;
pub mod request;
pub mod resolver;
pub mod schedule;
pub mod target;
pub mod window;

use core::net::SocketAddr;
use core::time::Duration;
use std::collections::{HashMap, HashSet};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use hoptrace_core::StopHandle;
use net::{Fleet, Privilege, SharedSockets};

use crate::error::{CliError, Error};
use crate::output::{Control, Directory};
use crate::settings::Settings;

use events::EventSink;
use http::{Exporter, Pages};
pub use listen::ListenAddress;
pub use metrics::Detail;
use metrics::Metrics;
use resolver::Resolver;
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
    pub prometheus: Option<ListenAddress>,
    /// `--detail`: which hops have series of their own.
    pub detail: Detail,
    /// `--events`: NDJSON events on stdout instead of text lines.
    pub events: bool,
    /// `--raw`: raw sockets even where ordinary ones work.
    pub raw: bool,
    /// How each round traces (the host field unused).
    pub trace: Settings,
}

/// What every target's rounds use.
pub struct Shared {
    /// The settings.
    pub settings: MonitorSettings,
    /// The metrics.
    pub metrics: Arc<Metrics>,
    /// The event stream.
    pub events: EventSink,
    /// Names and AS numbers for `hoptrace_hop_info`.
    pub directory: Box<dyn Directory + Send + Sync>,
}

/// How soon the loop looks again for answers while names are being looked up.
const RESOLVE_CHECK: Duration = Duration::from_millis(20);
/// How often the loop looks whether the events' reader went away.
const READER_CHECK: Duration = Duration::from_millis(100);

/// The targets the command line and the targets file name together; the file's problem as one line.
fn wanted_targets(settings: &MonitorSettings) -> Result<Vec<String>, String> {
    let mut targets = settings.targets.clone();
    if let Some(path) = &settings.targets_file {
        let text =
            crate::files::read_text(path, crate::files::TARGETS_LIMIT).map_err(|why| format!("--targets {why}"))?;
        let named: HashSet<String> = targets.iter().cloned().collect();
        targets.extend(schedule::parse_targets(&text).into_iter().filter(|target| !named.contains(target)));
    }
    Ok(targets)
}

/// Runs the monitor until SIGINT or SIGTERM. The sockets and the HTTP listener are opened first, then privileges
/// dropped, before any thread starts (the name lookups `directory` makes included).
pub fn run(
    settings: MonitorSettings,
    directory: impl FnOnce() -> Box<dyn Directory + Send + Sync>,
) -> Result<(), Error> {
    // A targets file that cannot be read, or names nothing, is bad input (status 2), as in `bulk`.
    let bad_input = |why: String| Error::Usage(CliError::new(why));
    let targets = wanted_targets(&settings).map_err(bad_input)?;
    if targets.is_empty() {
        return Err(bad_input("no targets: name some, or a --targets file that lists some".to_owned()));
    }
    let mut fleet = open_fleet(&settings)?;
    let listener = settings.prometheus.as_ref().map(bind).transpose()?;
    net::drop_privileges().map_err(|error| Error::Trace(hoptrace_core::Error::Net(error)))?;
    events::warn(&start_line(&settings, &targets, listener.as_ref().and_then(|l| l.local_addr().ok())));

    // Set by SIGINT, SIGTERM or a failure to write the events.
    let stop = StopHandle::default();
    let reload = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Registration only fails for forbidden signals; these are not.
        let _ = signal_hook::flag::register(signal, stop.flag());
    }
    let _ = signal_hook::flag::register(signal_hook::consts::SIGHUP, Arc::clone(&reload));

    let metrics = Arc::new(Metrics::new(settings.detail));
    let exporter = match listener {
        Some(listener) => {
            let (encoded, versioned) = (Arc::clone(&metrics), Arc::clone(&metrics));
            let pages = Pages::new(move || encoded.encode(), move || versioned.version(), fresh_for(settings.every));
            Some(Exporter::start(listener, pages, stop.clone()).map_err(Error::Failed)?)
        }
        None => None,
    };
    let events = EventSink::new(settings.events, Control { stops: vec![stop.clone()], ..Control::default() });
    let resolver = Resolver::start(settings.trace.probing.family)
        .map_err(|error| Error::Failed(format!("no lookup thread: {error}")))?;
    let shared = Shared { settings, metrics, events, directory: directory() };

    let mut running: HashMap<String, TargetState> = HashMap::new();
    update_targets(&mut running, &mut fleet, &targets, &shared);
    let mut result = Ok(());
    let mut reader_checked: Option<Instant> = None;
    while !stop.is_stopped() {
        // A poll of the events' reader: at most every READER_CHECK, however often replies wake the loop.
        if reader_checked.is_none_or(|at| at.elapsed() >= READER_CHECK) {
            shared.events.check_reader();
            reader_checked = Some(Instant::now());
        }
        if reload.swap(false, Ordering::Relaxed) {
            match wanted_targets(&shared.settings) {
                Ok(targets) => update_targets(&mut running, &mut fleet, &targets, &shared),
                Err(error) => events::warn(&format!("{error}; keeping the targets as they were")),
            }
        }
        for (name, answer) in resolver.answers() {
            if let Some(target) = running.get_mut(&name) {
                target.resolved(answer, &shared, &mut fleet);
            }
        }
        let now = Instant::now();
        for target in running.values_mut().filter(|target| target.due().is_some_and(|due| due <= now)) {
            target.begin(&shared, &mut fleet, &resolver);
        }
        let mut until = running.values().filter_map(TargetState::due).min();
        if running.values().any(TargetState::resolving) {
            until = Some(until.map_or(now + RESOLVE_CHECK, |due| due.min(now + RESOLVE_CHECK)));
        }
        if let Err(error) = fleet.turn(until) {
            result = Err(Error::Trace(hoptrace_core::Error::Net(error)));
            stop.stop();
        }
        for (name, trace) in fleet.take_finished() {
            if let Some(target) = running.get_mut(&name) {
                target.finish(&trace, &shared);
            }
        }
    }
    if let Some(exporter) = exporter {
        exporter.join();
    }
    // A lookup under way cannot be interrupted: its thread is left behind.
    drop(resolver);
    let flushed = shared.events.finish();
    result?;
    Ok(flushed?)
}

/// How long a page of metrics is served after its metrics changed: a tenth of `--every`, 5 s at most (a
/// target's series change once a round; Prometheus scrapes every 15 s or more).
fn fresh_for(every: Duration) -> Duration {
    (every / 10).min(Duration::from_secs(5))
}

/// What the monitor says once at start: what it watches, how often, and where its metrics and events go.
fn start_line(settings: &MonitorSettings, targets: &[String], metrics: Option<SocketAddr>) -> String {
    const LISTED: usize = 3;
    // Names from a file reach a terminal: control characters escaped.
    let shown = |name: &String| {
        name.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
    };
    let mut names: Vec<String> = targets.iter().take(LISTED).map(shown).collect();
    if targets.len() > LISTED {
        names.push(format!("… {} more", targets.len() - LISTED));
    }
    let count = match targets.len() {
        1 => "1 target".to_owned(),
        n => format!("{n} targets"),
    };
    let protocol = match settings.trace.probing.protocol {
        engine::Protocol::Icmp => "ICMP",
        engine::Protocol::Udp => "UDP",
        engine::Protocol::Tcp => "TCP",
    };
    let every = events::seconds(settings.every.as_secs_f64());
    let metrics = match metrics {
        Some(addr) => format!("metrics at http://{addr}/metrics"),
        None => "no metrics (--prometheus HOST:PORT serves them)".to_owned(),
    };
    let events =
        if settings.events { "events on stdout (NDJSON)" } else { "path changes on stdout, failures on stderr" };
    format!("watching {count} ({}) every {every} s over {protocol}; {metrics}; {events}", names.join(", "))
}

/// The exporter's listener, on the first of `listen`'s addresses that takes one. A name that does not resolve is
/// bad input; a refusal (the port taken), the first address's, a failure.
fn bind(listen: &ListenAddress) -> Result<TcpListener, Error> {
    let addrs = listen.addresses().map_err(|why| Error::Usage(CliError::new(format!("--prometheus {why}"))))?;
    let mut refused = None;
    for addr in addrs {
        match Exporter::bind(addr) {
            Ok(listener) => return Ok(listener),
            Err(why) => refused = refused.or(Some(why)),
        }
    }
    Err(Error::Failed(refused.unwrap_or_else(|| format!("cannot listen on {listen}"))))
}

/// The fleet that traces every target: for each address family asked for, sockets all its targets share —
/// ordinary ones where they work, else raw, unless `--raw` or `--unprivileged` decided. A family whose sockets
/// cannot be opened is a one-line error, unless it is IPv6 beside IPv4 (a host without IPv6): its targets then
/// fail round by round.
fn open_fleet(settings: &MonitorSettings) -> Result<Fleet<String>, Error> {
    let options = &settings.trace.probing;
    let unprivileged = options.privilege == hoptrace_core::Privilege::Unprivileged;
    let tries: &[Privilege] = match (settings.raw, unprivileged) {
        (true, _) => &[Privilege::Raw],
        (false, true) => &[Privilege::Unprivileged],
        (false, false) => &[Privilege::Unprivileged, Privilege::Raw],
    };
    let families = match options.family {
        hoptrace_core::Family::V4 => vec![false],
        hoptrace_core::Family::V6 => vec![true],
        _ => vec![false, true],
    };
    let mut shared = Vec::new();
    for ipv6 in families {
        let unspecified =
            if ipv6 { core::net::Ipv6Addr::UNSPECIFIED.into() } else { core::net::Ipv4Addr::UNSPECIFIED.into() };
        let mut failure = None;
        for &privilege in tries {
            // The method must be one these sockets can send (Paris TCP needs raw ones); the source is each round's.
            let mut config = options.trace_config(unspecified, privilege == Privilege::Raw);
            config.source = Some(unspecified);
            let opened = config.validate().map_err(hoptrace_core::Error::Config).and_then(|()| {
                SharedSockets::open(&config, privilege, &options.sockets).map_err(hoptrace_core::Error::Net)
            });
            match opened {
                Ok(sockets) => {
                    shared.extend(sockets); // none: unprivileged TCP, a socket per probe
                    failure = None;
                    break;
                }
                Err(error) => failure = failure.or(Some(error)),
            }
        }
        match failure {
            Some(error) if !ipv6 || options.family != hoptrace_core::Family::Any => return Err(Error::Trace(error)),
            Some(error) => events::warn(&format!("IPv6 targets cannot be traced: {error}")),
            None => {}
        }
    }
    let own = if settings.raw { Privilege::Raw } else { Privilege::Unprivileged };
    Ok(Fleet::new(shared, own, &options.sockets))
}

/// Adds the targets in `wanted` not running yet and drops those running but no longer wanted (their trace under
/// way, their series).
fn update_targets(
    running: &mut HashMap<String, TargetState>,
    fleet: &mut Fleet<String>,
    wanted: &[String],
    shared: &Shared,
) {
    let keep: HashSet<&str> = wanted.iter().map(String::as_str).collect();
    running.retain(|name, _| {
        let kept = keep.contains(name.as_str());
        if !kept {
            shared.metrics.remove_target(name);
        }
        kept
    });
    fleet.cancel(|name| !keep.contains(name.as_str()));
    for name in wanted {
        if !running.contains_key(name) {
            running.insert(name.clone(), TargetState::new(name.clone(), shared));
        }
    }
}
