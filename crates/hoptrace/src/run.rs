//! From settings to finished traces on stdout: probing on this thread, rendering (and the name lookups it may
//! wait for) on another, so that a slow resolver never delays a probe. A report runs its rounds one after another
//! over the same sockets.

use core::net::IpAddr;
use core::time::Duration;
use std::io::IsTerminal;
use std::net::ToSocketAddrs;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::{Instant, SystemTime};

use engine::{Event, Hop, Outcome, Trace, TraceConfig};
use net::{Privilege, Prober};

use crate::error::Error;
use crate::output::{renderer, Directory, Renderer, Sink, TraceInfo};
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
    let target = resolve_host(&settings.host, settings.ipv6)?;
    let privilege = if settings.unprivileged { Privilege::Unprivileged } else { Privilege::detect() };
    let mut config = settings.trace_config(target, privilege == Privilege::Raw);
    let mut prober = net::open(&mut config, privilege, &settings.sockets).map_err(Error::Net)?;
    config.validate().map_err(Error::Config)?;

    let stop = Arc::new(AtomicBool::new(false));
    let caught = Arc::new(AtomicUsize::new(0));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Registration only fails for forbidden signals; these two are not.
        let _ = signal_hook::flag::register(signal, Arc::clone(&stop));
        let _ = signal_hook::flag::register_usize(signal, Arc::clone(&caught), signal as usize);
    }

    let renderer = renderer(settings, Arc::clone(&stop));
    let (updates, received) = mpsc::channel();
    let sink = Sink::new(Arc::clone(&stop));
    let printer = thread::spawn(move || render(renderer, directory.as_ref(), received, sink));
    let mut result = Ok(());
    for round in 0..settings.rounds {
        if round > 0 && !pause(settings.round_interval, &stop) {
            break;
        }
        config.flow = settings.flow_of_round(round);
        match trace_once(&settings.host, &config, prober.as_mut(), &stop, &updates) {
            // The next round's probes are numbered past this one's, so that its late replies match nothing.
            Ok(sent) => config.sequence_start = config.sequence_start.wrapping_add(sent),
            Err(error) => result = Err(error),
        }
        // A renderer that died (it panicked) shows nothing more: no use probing on.
        if result.is_err() || stop.load(Ordering::Relaxed) || printer.is_finished() {
            break;
        }
    }
    drop(updates);
    let written = printer.join().unwrap_or(Ok(()));
    result?;
    written.map_err(Error::from)?;
    // Interrupted: what was found is printed; the exit status says it was cut short, as a shell's does.
    match caught.load(Ordering::Relaxed) {
        0 => Ok(()),
        signal => Err(Error::Interrupted(signal as u8)),
    }
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
    let result = net::run(&mut trace, prober, stop, |trace, event| {
        if let Event::HopComplete { ttl } = event {
            if let Some(hop) = trace.hops().iter().find(|hop| hop.ttl == ttl) {
                let _ = updates.send(Update::Hop(hop.clone()));
                hops_rendered += 1;
            }
        }
    });
    // Interrupted: show what is known of the hops not yet complete.
    for hop in trace.hops().iter().skip(hops_rendered) {
        let _ = updates.send(Update::Hop(hop.clone()));
    }
    let _ = updates.send(Update::Done(trace.outcome()));
    result.map_err(Error::Net)?;
    Ok(trace.stats().sent)
}

/// Sleeps `interval`, or until `stop` is set; whether to go on.
fn pause(interval: Duration, stop: &AtomicBool) -> bool {
    let until = Instant::now() + interval;
    while !stop.load(Ordering::Relaxed) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        thread::sleep(left.min(PAUSE_STEP));
    }
    false
}

/// The rendering thread: prints each hop as it arrives, looking its names up first, and closes the renderer.
/// Between updates it checks that someone still reads the output; the first write error stops the trace and is
/// returned.
fn render(
    mut renderer: Box<dyn Renderer>,
    directory: &dyn Directory,
    updates: mpsc::Receiver<Update>,
    mut out: Sink,
) -> std::io::Result<()> {
    loop {
        let update = match updates.recv_timeout(PAUSE_STEP) {
            Ok(update) => update,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                out.check_reader();
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        match update {
            Update::Start(info) => out.write(|out| renderer.header(out, &info)),
            Update::Hop(hop) => {
                for answer in hop.answers() {
                    directory.prefetch(answer.from());
                }
                out.write(|out| renderer.hop(out, &hop, directory))
            }
            Update::Done(outcome) => out.write(|out| renderer.finish(out, outcome, directory)),
        }
    }
    out.write(|out| renderer.close(out, directory));
    out.finish()
}

/// The target address: a literal, or the first address of the name in the requested family.
pub fn resolve_host(host: &str, ipv6: Option<bool>) -> Result<IpAddr, Error> {
    let wanted = |addr: &IpAddr| ipv6.is_none_or(|ipv6| addr.is_ipv6() == ipv6);
    let wrong_family = || Error::WrongFamily(host.to_owned());
    if let Ok(addr) = host.parse::<IpAddr>() {
        return if wanted(&addr) { Ok(addr) } else { Err(wrong_family()) };
    }
    if host.is_empty() {
        return Err(Error::UnknownHost(String::new()));
    }
    let addrs = (host, 0).to_socket_addrs().map_err(|_| Error::UnknownHost(host.to_owned()))?;
    addrs.map(|addr| addr.ip()).find(wanted).ok_or_else(wrong_family)
}
