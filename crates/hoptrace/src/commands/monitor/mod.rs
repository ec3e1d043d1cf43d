//! `hoptrace monitor`: many targets traced around the clock by the library's [`Monitor`], with a Prometheus
//! endpoint and an event stream.
//!
//! One loop on the main thread steps the monitor over a [`FleetTraces`]: a socket set per address family, opened
//! at start and shared by all targets (unprivileged TCP excepted: it takes a socket per probe), after which
//! privileges are dropped — targets a SIGHUP adds go through the same sockets. Names are looked up on a thread of
//! their own ([`ResolverLookup`]), never holding up a probe. What each step tells updates the metrics and is
//! printed. On SIGINT or SIGTERM the loop stops, the HTTP listener closes and the events are flushed.

pub mod events;
mod metrics_update;

use core::net::SocketAddr;
use core::time::Duration;
use std::collections::HashSet;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use hoptrace_core::monitor::{FleetTraces, Monitor, MonitorOptions, ResolverLookup};
use hoptrace_core::StopHandle;

use crate::error::{CliError, Error};
use crate::exporter::http::{Exporter, Pages};
use crate::exporter::metrics::Metrics;
pub use crate::exporter::ListenAddress;
use crate::render::{Control, Directory};
use crate::settings::Settings;
/// The library's parser of a `--targets` file without settings.
pub use hoptrace_core::monitor::parse_targets;

pub use crate::exporter::metrics::Detail;
use events::EventSink;

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

/// How often the loop looks whether the events' reader went away.
const READER_CHECK: Duration = Duration::from_millis(100);

/// The targets the command line and the targets file name together, each with its own detail if the file gives
/// one; the file's problem as one line.
fn wanted_targets(settings: &MonitorSettings) -> Result<Vec<(String, Option<Detail>)>, String> {
    let mut targets: Vec<(String, Option<Detail>)> = settings.targets.iter().map(|name| (name.clone(), None)).collect();
    if let Some(path) = &settings.targets_file {
        let text =
            crate::files::read_text(path, crate::files::TARGETS_LIMIT).map_err(|why| format!("--targets {why}"))?;
        let listed =
            targets_file(&text).map_err(|why| format!("--targets {}: {why}", shown(&path.display().to_string())))?;
        let named: HashSet<String> = settings.targets.iter().cloned().collect();
        targets.extend(listed.into_iter().filter(|(target, _)| !named.contains(target)));
    }
    Ok(targets)
}

/// A `--targets` file: names separated by white space, `#` comments. A `detail=hops|path|none` word gives the
/// names on its line that detail (the first line naming a target decides); other `NAME=VALUE` words are refused.
pub fn targets_file(text: &str) -> Result<Vec<(String, Option<Detail>)>, String> {
    let mut seen = HashSet::new();
    let mut targets = Vec::new();
    for (number, line) in (1..).zip(text.lines()) {
        let words = line.split('#').next().unwrap_or_default().split_whitespace();
        let (settings, names): (Vec<&str>, Vec<&str>) = words.partition(|word| word.contains('='));
        let mut detail = None;
        for setting in settings {
            let refused = |what: &str| format!("line {number}: {}: {what}", shown(setting));
            match setting.split_once('=') {
                Some(("detail", level)) => {
                    detail = Some(level.parse().map_err(|_| refused("the detail is hops, path or none"))?);
                }
                _ => return Err(refused("not a setting (detail=hops|path|none is)")),
            }
        }
        for name in names.into_iter().filter(|&name| seen.insert(name)) {
            targets.push((name.to_owned(), detail));
        }
    }
    Ok(targets)
}

/// `text` with its control characters escaped, for a terminal.
fn shown(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
}

/// Runs the monitor until SIGINT or SIGTERM. The sockets and the HTTP listener are opened first, then privileges
/// dropped, before any thread starts (the name lookups `directory` makes included).
pub fn run(
    settings: MonitorSettings,
    directory: impl FnOnce() -> Box<dyn Directory + Send + Sync>,
) -> Result<(), Error> {
    // A targets file that cannot be read, or names nothing, is bad input (status 2), as in `bulk`.
    let bad_input = |why: String| Error::Usage(CliError::new(why));
    let wanted = wanted_targets(&settings).map_err(bad_input)?;
    let targets: Vec<String> = wanted.iter().map(|(name, _)| name.clone()).collect();
    if targets.is_empty() {
        return Err(bad_input("no targets: name some, or a --targets file that lists some".to_owned()));
    }
    let (mut traces, no_ipv6) = FleetTraces::open(&settings.trace.probing, settings.raw).map_err(Error::Trace)?;
    if let Some(error) = no_ipv6 {
        events::warn(&format!("IPv6 targets cannot be traced: {error}"));
    }
    let listener = settings.prometheus.as_ref().map(bind).transpose()?;
    hoptrace_core::process::drop_privileges().map_err(|error| Error::Trace(hoptrace_core::Error::Net(error)))?;
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
            let pages = Pages::new(
                move |format, out| encoded.write(format, out),
                move || versioned.version(),
                fresh_for(settings.every),
            );
            Some(Exporter::start(listener, pages, stop.clone()).map_err(Error::Failed)?)
        }
        None => None,
    };
    let events = EventSink::new(settings.events, Control { stops: vec![stop.clone()], ..Control::default() });
    let mut lookup = ResolverLookup::start(settings.trace.probing.family.ipv6())
        .map_err(|error| Error::Failed(format!("no lookup thread: {error}")))?;
    let directory = directory();
    let mut monitor = Monitor::new(monitor_options(&settings));
    let update = |monitor: &mut Monitor, traces: &mut FleetTraces, wanted: &[(String, Option<Detail>)]| {
        let targets: Vec<String> = wanted.iter().map(|(name, _)| name.clone()).collect();
        let (added, dropped) = monitor.set_targets(&targets, traces);
        added.iter().for_each(|name| metrics.add_target(name));
        dropped.iter().for_each(|name| metrics.remove_target(name));
        wanted.iter().for_each(|(name, detail)| metrics.set_detail(name, *detail));
    };
    update(&mut monitor, &mut traces, &wanted);
    let mut result = Ok(());
    let mut reader_checked: Option<Instant> = None;
    while !stop.is_stopped() {
        // A poll of the events' reader: at most every READER_CHECK, however often replies wake the loop.
        if reader_checked.is_none_or(|at| at.elapsed() >= READER_CHECK) {
            events.check_reader();
            reader_checked = Some(Instant::now());
        }
        if reload.swap(false, Ordering::Relaxed) {
            match wanted_targets(&settings) {
                Ok(wanted) => update(&mut monitor, &mut traces, &wanted),
                Err(error) => events::warn(&format!("{error}; keeping the targets as they were")),
            }
        }
        match monitor.step(&mut traces, &mut lookup) {
            Ok(notices) => {
                for notice in notices {
                    metrics_update::apply(&notice, &monitor, &metrics, directory.as_ref(), &events);
                }
            }
            Err(error) => {
                result = Err(Error::Trace(error));
                stop.stop();
            }
        }
    }
    if let Some(exporter) = exporter {
        exporter.join();
    }
    // A lookup under way cannot be interrupted: its thread is left behind.
    drop(lookup);
    let flushed = events.finish();
    result?;
    Ok(flushed?)
}

/// The library's monitor options from the command line's.
fn monitor_options(settings: &MonitorSettings) -> MonitorOptions {
    MonitorOptions {
        every: settings.every,
        jitter: settings.jitter,
        window: settings.window,
        confirm: settings.confirm,
        probing: settings.trace.probing.clone(),
        seed: None,
    }
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
    let mut names: Vec<String> = targets.iter().take(LISTED).map(|name| shown(name)).collect();
    if targets.len() > LISTED {
        names.push(format!("… {} more", targets.len() - LISTED));
    }
    let count = match targets.len() {
        1 => "1 target".to_owned(),
        n => format!("{n} targets"),
    };
    let protocol = match settings.trace.probing.protocol {
        hoptrace_core::Protocol::Icmp => "ICMP",
        hoptrace_core::Protocol::Udp => "UDP",
        hoptrace_core::Protocol::Tcp => "TCP",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_targets_files_lines_give_their_targets_a_detail() {
        let text = "# lab\n198.18.3.2 detail=hops  198.18.3.3\n\ndetail=none example.test # detail=hops\n\
                    198.18.3.2 198.18.9.9\n";
        let targets = targets_file(text).expect("a good file");
        let hops = Some(Detail::Hops);
        let expected =
            [("198.18.3.2", hops), ("198.18.3.3", hops), ("example.test", Some(Detail::None)), ("198.18.9.9", None)];
        assert_eq!(targets, expected.map(|(name, detail)| (name.to_owned(), detail)));
        assert_eq!(targets_file("a\nb detail=\n").unwrap_err(), "line 2: detail=: the detail is hops, path or none");
        assert_eq!(targets_file("a =x\n").unwrap_err(), "line 1: =x: not a setting (detail=hops|path|none is)");
    }
}
