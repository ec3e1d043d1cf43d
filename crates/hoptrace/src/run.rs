//! From settings to finished traces on stdout: probing on this thread, rendering (and the name lookups it may
//! wait for) on another, so that a slow resolver never delays a probe. A report runs its rounds one after another
//! over the same sockets.

use core::net::IpAddr;
use core::time::Duration;
use std::io::{IsTerminal, Write};
use std::net::ToSocketAddrs;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::{Instant, SystemTime};

use engine::{Event, Hop, Outcome, Trace, TraceConfig};
use net::{Privilege, Prober};

use crate::error::Error;
use crate::output::{renderer, Control, Directory, Renderer, TraceInfo};
use crate::settings::{Output, Settings};

/// What the probing side tells the rendering side.
enum Update {
    Start(Box<TraceInfo>),
    Hop(Hop),
    Done(Option<Outcome>),
}

/// The longest single sleep between rounds, so that a stop request is noticed soon.
const PAUSE_STEP: Duration = Duration::from_millis(100);

/// Runs the traces `settings` describe, writing them to stdout as they go.
pub fn run(settings: &Settings, directory: Box<dyn Directory + Send>) -> Result<(), Error> {
    let live = settings.output == Output::Live;
    if live && !std::io::stdout().is_terminal() {
        return Err(Error::NotATerminal);
    }
    let privilege = if settings.unprivileged { Privilege::Unprivileged } else { Privilege::detect() };
    let mut targets = Vec::new();
    for (index, host) in settings.hosts().into_iter().enumerate() {
        let target = resolve_host(&host, settings.ipv6)?;
        let mut config = settings.trace_config(target, privilege == Privilege::Raw);
        let prober = net::open(&mut config, privilege, &settings.sockets).map_err(Error::Net)?;
        config.validate().map_err(Error::Config)?;
        keep_apart(&mut config, index);
        targets.push((host, config, prober));
    }

    let control = Control::default();
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Registration only fails for forbidden signals; these two are not.
        let _ = signal_hook::flag::register(signal, Arc::clone(&control.stop));
    }

    let renderer = renderer(settings, &control);
    let (updates, received) = mpsc::channel();
    let printer = thread::spawn(move || render(renderer, directory.as_ref(), received));
    // Every target probed all the time, each on its own thread over its own sockets.
    let results: Vec<Result<(), Error>> = thread::scope(|scope| {
        let probing: Vec<_> = targets
            .into_iter()
            .enumerate()
            .map(|(index, (host, config, mut prober))| {
                let updates = Target { index, updates: updates.clone() };
                let (control, printer) = (&control, &printer);
                scope.spawn(move || rounds(settings, &host, config, prober.as_mut(), control, &updates, printer))
            })
            .collect();
        probing.into_iter().map(|thread| thread.join().unwrap_or(Ok(()))).collect()
    });
    drop(updates);
    let _ = printer.join();
    results.into_iter().collect()
}

/// Probes of several targets traced at once by raw sockets (which see every reply) get identifiers of their own.
fn keep_apart(config: &mut TraceConfig, index: usize) {
    if config.raw_send && index > 0 {
        config.icmp_ident = config.icmp_ident.wrapping_add(index as u16);
        config.src_port = config.src_port.wrapping_add(index as u16);
    }
}

/// The updates of one target, numbered for the renderer.
struct Target {
    index: usize,
    updates: mpsc::Sender<(usize, Update)>,
}

impl Target {
    fn send(&self, update: Update) {
        let _ = self.updates.send((self.index, update));
    }
}

/// Runs the rounds `settings` ask for to one target, until done or stopped.
fn rounds(
    settings: &Settings,
    host: &str,
    mut config: TraceConfig,
    prober: &mut dyn Prober,
    control: &Control,
    updates: &Target,
    printer: &thread::JoinHandle<()>,
) -> Result<(), Error> {
    let stop = control.stop.as_ref();
    for round in 0..settings.rounds {
        if round > 0 && !pause(settings.round_interval, control) {
            break;
        }
        config.flow = settings.flow_of_round(round);
        // The next round's probes are numbered past this one's, so that its late replies match nothing.
        let sent = trace_once(host, &config, prober, stop, updates)?;
        config.sequence_start = config.sequence_start.wrapping_add(sent);
        // A renderer that died (it panicked) shows nothing more: no use probing on.
        if stop.load(Ordering::Relaxed) || printer.is_finished() {
            break;
        }
    }
    Ok(())
}

/// Runs one trace of `config`, sending its hops to the renderer; returns how many probes it numbered.
fn trace_once(
    host: &str,
    config: &TraceConfig,
    prober: &mut dyn Prober,
    stop: &AtomicBool,
    updates: &Target,
) -> Result<u32, Error> {
    let mut trace = Trace::new(config.clone()).map_err(Error::Config)?;
    updates.send(Update::Start(Box::new(TraceInfo::new(host, config, SystemTime::now()))));
    let mut hops_rendered = 0;
    let result = net::run(&mut trace, prober, stop, |trace, event| {
        if let Event::HopComplete { ttl } = event {
            if let Some(hop) = trace.hops().iter().find(|hop| hop.ttl == ttl) {
                updates.send(Update::Hop(hop.clone()));
                hops_rendered += 1;
            }
        }
    });
    // Interrupted: show what is known of the hops not yet complete.
    for hop in trace.hops().iter().skip(hops_rendered) {
        updates.send(Update::Hop(hop.clone()));
    }
    updates.send(Update::Done(trace.outcome()));
    result.map_err(Error::Net)?;
    Ok(trace.stats().sent)
}

/// Sleeps `interval` and as long as `control` says paused, or until it says stop; whether to go on.
fn pause(interval: Duration, control: &Control) -> bool {
    let until = Instant::now() + interval;
    while !control.stop.load(Ordering::Relaxed) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() && !control.paused.load(Ordering::Relaxed) {
            return true;
        }
        thread::sleep(if left.is_zero() { PAUSE_STEP } else { left.min(PAUSE_STEP) });
    }
    false
}

/// The rendering thread: prints each hop as it arrives, looking its names up first, and closes the renderer.
fn render(mut renderer: Box<dyn Renderer>, directory: &dyn Directory, updates: mpsc::Receiver<(usize, Update)>) {
    // Locked per write, not for the thread's life: a panic hook that restores the terminal must get it too.
    let mut out = std::io::stdout();
    for (index, update) in updates {
        renderer.target(index);
        let _ = match update {
            Update::Start(info) => renderer.header(&mut out, &info),
            Update::Hop(hop) => {
                for answer in hop.answers() {
                    directory.prefetch(answer.from());
                }
                renderer.hop(&mut out, &hop, directory)
            }
            Update::Done(outcome) => renderer.finish(&mut out, outcome, directory),
        };
    }
    let _ = renderer.close(&mut out, directory);
    let _ = out.flush();
}

/// The target address: a literal, or the first address of the name in the requested family.
pub fn resolve_host(host: &str, ipv6: Option<bool>) -> Result<IpAddr, Error> {
    let wanted = |addr: &IpAddr| ipv6.is_none_or(|ipv6| addr.is_ipv6() == ipv6);
    let unknown = || Error::UnknownHost(host.to_owned());
    if let Ok(addr) = host.parse::<IpAddr>() {
        return if wanted(&addr) { Ok(addr) } else { Err(unknown()) };
    }
    let addrs = (host, 0).to_socket_addrs().map_err(|_| unknown())?;
    addrs.map(|addr| addr.ip()).find(wanted).ok_or_else(unknown)
}
