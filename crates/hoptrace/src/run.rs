//! From settings to finished traces on stdout: probing on this thread, rendering (and the name lookups it may
//! wait for) on another, so that a slow resolver never delays a probe. A report runs its rounds one after another
//! over the same sockets.

use core::net::IpAddr;
use std::io::{IsTerminal, Write};
use std::net::ToSocketAddrs;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::SystemTime;

use core::time::Duration;

use engine::{Event, Hop, Outcome, Trace, TraceConfig};
use net::{Privilege, Prober};

use crate::error::Error;
use crate::output::{renderer, Directory, Renderer, TraceInfo};
use crate::settings::{Output, Settings};

/// What the probing side tells the rendering side.
enum Update {
    Start(Box<TraceInfo>),
    Hop(Hop),
    Done(Option<Outcome>),
}

/// The shortest pause between rounds a user other than root may ask for, as mtr has it: repeated traces at a
/// higher rate would load a network shared with others.
pub const UNPRIVILEGED_INTERVAL_FLOOR: Duration = Duration::from_secs(1);

/// Runs the traces `settings` describe, writing them to stdout as they go. The name lookups `directory` makes
/// start once privileges are dropped (their threads inherit none).
pub fn run(
    settings: &Settings,
    directory: impl FnOnce() -> Box<dyn Directory + Send> + Send + 'static,
) -> Result<(), Error> {
    let live = settings.output == Output::Live;
    if live && !std::io::stdout().is_terminal() {
        return Err(Error::NotATerminal);
    }
    if settings.rounds > 1 && settings.round_interval < UNPRIVILEGED_INTERVAL_FLOOR && !net::run_by_root() {
        return Err(Error::IntervalNeedsRoot(UNPRIVILEGED_INTERVAL_FLOOR));
    }
    if settings.unprivileged {
        net::drop_privileges().map_err(Error::Net)?;
    }
    let target = resolve_host(&settings.host, settings.ipv6)?;
    let privilege = if settings.unprivileged { Privilege::Unprivileged } else { Privilege::detect() };
    let mut config = settings.trace_config(target, privilege == Privilege::Raw);
    let mut prober = net::open(&mut config, privilege, &settings.sockets).map_err(Error::Net)?;
    // Nothing after this point needs a privilege: no probe is sent with one.
    net::drop_privileges().map_err(Error::Net)?;
    config.validate().map_err(Error::Config)?;

    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Registration only fails for forbidden signals; these two are not.
        let _ = signal_hook::flag::register(signal, Arc::clone(&stop));
    }

    let renderer = renderer(settings, Arc::clone(&stop));
    let (updates, received) = mpsc::channel();
    let printer = thread::spawn(move || render(renderer, directory().as_ref(), received));
    let mut result = Ok(());
    let mut dropped = 0;
    for round in 0..settings.rounds {
        if round > 0 {
            match net::idle(prober.as_mut(), settings.round_interval, &stop) {
                Ok(true) => {}
                Ok(false) => break,
                Err(error) => {
                    result = Err(Error::Net(error));
                    break;
                }
            }
        }
        config.flow = settings.flow_of_round(round);
        match trace_once(&settings.host, &config, prober.as_mut(), &stop, &updates) {
            // The next round's probes are numbered past this one's, so that its late replies match nothing.
            Ok(sent) => config.sequence_start = config.sequence_start.wrapping_add(sent),
            Err(error) => result = Err(error),
        }
        dropped = report_drops(prober.as_ref(), dropped);
        // A renderer that died (it panicked) shows nothing more: no use probing on.
        if result.is_err() || stop.load(Ordering::Relaxed) || printer.is_finished() {
            break;
        }
    }
    drop(updates);
    let _ = printer.join();
    result
}

/// Runs one trace of `config`, sending its hops to the renderer; returns how many probes it numbered.
fn trace_once(
    host: &str,
    config: &TraceConfig,
    prober: &mut dyn Prober,
    stop: &AtomicBool,
    updates: &mpsc::Sender<Update>,
) -> Result<u32, Error> {
    let mut trace = Trace::new(config.clone()).map_err(Error::Config)?;
    let _ = updates.send(Update::Start(Box::new(TraceInfo::new(host, config, SystemTime::now()))));
    let mut hops_rendered = 0;
    // Each distinct reason a send failed, with how many probes it cost.
    let mut send_failures: Vec<(String, u32)> = Vec::new();
    let on_event = |trace: &Trace, event| {
        if let Event::HopComplete { ttl } = event {
            if let Some(hop) = trace.hops().iter().find(|hop| hop.ttl == ttl) {
                let _ = updates.send(Update::Hop(hop.clone()));
                hops_rendered += 1;
            }
        }
    };
    let result = net::run_telling_failures(&mut trace, prober, stop, on_event, |error| {
        let reason = error.to_string();
        match send_failures.iter_mut().find(|(known, _)| *known == reason) {
            Some((_, count)) => *count += 1,
            None => send_failures.push((reason, 1)),
        }
    });
    for (reason, count) in send_failures {
        eprintln!("hoptrace: {count} probe(s) not sent (shown !E): {reason}");
    }
    // Interrupted: show what is known of the hops not yet complete.
    for hop in trace.hops().iter().skip(hops_rendered) {
        let _ = updates.send(Update::Hop(hop.clone()));
    }
    let _ = updates.send(Update::Done(trace.outcome()));
    result.map_err(Error::Net)?;
    Ok(trace.stats().sent)
}

/// Says on stderr if the kernel dropped replies since it last said `before` (a full receive buffer: some `*` may
/// be replies lost here, not on the path); returns the count now.
fn report_drops(prober: &dyn Prober, before: u64) -> u64 {
    let now = prober.dropped();
    if now > before {
        eprintln!("hoptrace: {} replies dropped here (receive buffer full): some * may be lost here", now - before);
    }
    now
}

/// The rendering thread: prints each hop as it arrives, looking its names up first, and closes the renderer.
fn render(mut renderer: Box<dyn Renderer>, directory: &dyn Directory, updates: mpsc::Receiver<Update>) {
    // Locked per write, not for the thread's life: a panic hook that restores the terminal must get it too.
    let mut out = std::io::stdout();
    for update in updates {
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
