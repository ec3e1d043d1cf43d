//! From settings to finished traces on stdout, over the library's [`Tracer`]s: each host given probed on a thread
//! of its own, rendering (and the name lookups it may wait for) on another, so that a slow resolver or a busy
//! screen never delays a probe.

use std::io::{IsTerminal, Write};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use hoptrace_core::{resolve_host, Event, Options, Sockets, TraceConfig, Tracer};
use net::Privilege;

use crate::error::Error;
use crate::output::{renderer, Control, Directory, Renderer};
use crate::settings::{Output, Settings};

/// How often a paused run looks whether it may go on.
const PAUSE_STEP: Duration = Duration::from_millis(50);

/// Runs the traces `settings` describe, writing them to stdout as they go.
pub fn run(settings: &Settings, directory: Box<dyn Directory + Send>) -> Result<(), Error> {
    if settings.output == Output::Live && !std::io::stdout().is_terminal() {
        return Err(Error::NotATerminal);
    }
    let options = settings.options();
    let hosts = settings.hosts();
    let tracers: Vec<Tracer> = match hosts.as_slice() {
        [host] => vec![Tracer::with_options(host, &options)?],
        _ => hosts
            .iter()
            .enumerate()
            .map(|(index, host)| tracer_beside(host, &options, index))
            .collect::<Result<_, _>>()?,
    };
    let control = Control { stops: tracers.iter().map(Tracer::stop_handle).collect(), ..Control::default() };
    for stop in &control.stops {
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            // Registration only fails for forbidden signals; these two are not.
            let _ = signal_hook::flag::register(signal, stop.flag());
        }
    }

    let renderer = renderer(settings, &control);
    let (events, received) = mpsc::channel();
    let targets = hosts.len();
    let printer = thread::spawn(move || render(renderer, directory.as_ref(), received, targets));
    let plan = settings.rounds();
    let results: Vec<Result<(), Error>> = thread::scope(|scope| {
        let probing: Vec<_> = tracers
            .into_iter()
            .enumerate()
            .map(|(index, mut tracer)| {
                let (events, control, plan) = (events.clone(), &control, &plan);
                scope.spawn(move || {
                    let result = tracer.rounds(plan, |event| {
                        if matches!(event, Event::RoundStarted { .. }) {
                            hold_while_paused(control);
                        }
                        // A renderer that died (it panicked) shows nothing more: no use probing on.
                        if events.send((index, event.clone())).is_err() {
                            control.stop();
                        }
                    });
                    result.map(drop).map_err(Error::from)
                })
            })
            .collect();
        probing.into_iter().map(|thread| thread.join().unwrap_or(Ok(()))).collect()
    });
    drop(events);
    let _ = printer.join();
    results.into_iter().collect()
}

/// A tracer to the `index`-th of several hosts traced at once. Raw sockets see every reply, so its probes get
/// identifiers of their own (ICMP identifier, TCP source port); unprivileged sockets have their own already.
fn tracer_beside(host: &str, options: &Options, index: usize) -> Result<Tracer, hoptrace_core::Error> {
    let target = resolve_host(host, options.ipv6)?;
    let privilege = if options.unprivileged { Privilege::Unprivileged } else { Privilege::detect() };
    let config = options.trace_config(target, privilege == Privilege::Raw);
    let (prober, endpoint) = net::open(&config, privilege, &options.sockets).map_err(hoptrace_core::Error::Net)?;
    let mut config: TraceConfig = endpoint.configure(&config);
    if config.raw_send {
        config.icmp_ident = config.icmp_ident.wrapping_add(index as u16);
        config.src_port = config.src_port.wrapping_add(index as u16);
    }
    Tracer::over(host, config, Sockets(prober))
}

/// Waits, before a round starts, as long as the user paused the run (and did not quit).
fn hold_while_paused(control: &Control) {
    while control.paused.load(Ordering::Relaxed) && !control.is_stopped() {
        thread::sleep(PAUSE_STEP);
    }
}

/// The rendering thread: hands each event of the `targets` runs to the renderer, looking a hop's names up first.
/// The end of the last run ends the renderer (the others' are not passed on); so does the end of the events, if
/// a run never said it ended.
fn render(
    mut renderer: Box<dyn Renderer>,
    directory: &dyn Directory,
    events: mpsc::Receiver<(usize, Event)>,
    targets: usize,
) {
    // Locked per write, not for the thread's life: a panic hook that restores the terminal must get it too.
    let mut out = std::io::stdout();
    let mut done = 0;
    for (index, event) in events {
        if let Event::HopComplete { hop, .. } = &event {
            for answer in hop.answers() {
                directory.prefetch(answer.from());
            }
        }
        if matches!(event, Event::TraceDone { .. }) {
            done += 1;
            if done < targets {
                continue;
            }
        }
        renderer.target(index);
        let _ = renderer.event(&mut out, &event, directory);
    }
    if done < targets {
        let _ = renderer.close(&mut out, directory);
    }
    let _ = out.flush();
}
