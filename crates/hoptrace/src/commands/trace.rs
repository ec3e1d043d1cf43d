//! From settings to finished traces on stdout, over the library's [`Tracer`]s: each host given probed on a thread
//! of its own, rendering (and the name lookups it may wait for) on another, so that a slow resolver or a busy
//! screen never delays a probe.

use core::time::Duration;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;

use hoptrace_core::process::{drop_privileges, run_by_root};
use hoptrace_core::{Event, Privilege, Tracer};

use crate::error::Error;
use crate::render::{renderer, Control, Directory, Renderer, Sink};
use crate::settings::{Output, Settings, WartsTo};

/// How often the rendering thread, waiting for events, checks that someone still reads its output.
const READER_CHECK: Duration = Duration::from_millis(100);

/// The most events waiting for the rendering thread: some rounds' worth, so that probing never waits for a reader
/// that keeps up; one that stalls for good (a paused pager) holds the probing back, as a blocked write holds
/// traceroute(8), instead of the events piling up in memory. The channel allocates and touches all its slots at
/// once: at 16,384 they were 3.5 MB, twice the rest of a trace's memory.
const BACKLOG: usize = 1 << 10;
const _: () = assert!(BACKLOG * size_of::<(usize, Event)>() <= 512 * 1024, "the backlog's slots outweigh a trace");

/// How often a paused run looks whether it may go on.
const PAUSE_STEP: Duration = Duration::from_millis(50);

/// The shortest pause between rounds a user other than root may ask for, as mtr has it: repeated traces at a
/// higher rate would load a network shared with others.
pub const UNPRIVILEGED_INTERVAL_FLOOR: Duration = Duration::from_secs(1);

/// Runs the traces `settings` describe, writing them to stdout as they go. Privileges are dropped once the sockets
/// are open, before the first probe (before opening anything with `--unprivileged`); the name lookups `directory`
/// makes start after that (their threads inherit none).
pub fn run(
    settings: &Settings,
    directory: impl FnOnce() -> Box<dyn Directory + Send> + Send + 'static,
) -> Result<(), Error> {
    if settings.output == Output::Live && !std::io::stdout().is_terminal() {
        return Err(Error::NotATerminal);
    }
    // Binary on a terminal is garbage, and bytes from the network (addresses) could act as escape sequences.
    if settings.warts == Some(WartsTo::Stdout) && std::io::stdout().is_terminal() {
        return Err(Error::Failed("warts is binary: redirect stdout, or give --warts=FILE".to_owned()));
    }
    let plan = settings.rounds;
    if plan.count != Some(1) && plan.interval < UNPRIVILEGED_INTERVAL_FLOOR && !run_by_root() {
        return Err(Error::IntervalNeedsRoot(UNPRIVILEGED_INTERVAL_FLOOR));
    }
    let dropped = |error| Error::Trace(hoptrace_core::Error::Net(error));
    if settings.probing.privilege == Privilege::Unprivileged {
        drop_privileges().map_err(dropped)?;
    }
    let options = &settings.probing;
    let hosts = settings.hosts();
    let tracers: Vec<Tracer> =
        hosts.iter().map(|host| Tracer::with_options(host, options)).collect::<Result<_, _>>()?;
    let control = Control { stops: tracers.iter().map(Tracer::stop_handle).collect(), ..Control::default() };
    // Made before privileges go, as a shell's redirection: a file it writes (`--warts=FILE`) is opened here.
    let renderer = renderer(settings, &control);
    // The sockets are open: nothing from here on needs a privilege, and no probe is sent with one.
    drop_privileges().map_err(dropped)?;
    let caught = Arc::new(AtomicUsize::new(0));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Registration only fails for forbidden signals; these two are not.
        for stop in &control.stops {
            let _ = signal_hook::flag::register(signal, stop.flag());
        }
        let _ = signal_hook::flag::register_usize(signal, Arc::clone(&caught), signal as usize);
    }

    let per_probe = renderer.per_probe();
    let (events, received) = mpsc::sync_channel(BACKLOG);
    let sink = Sink::new(control.clone());
    let targets = hosts.len();
    let printer = thread::spawn(move || render(renderer, directory().as_ref(), received, sink, targets));
    let results: Vec<Result<(), Error>> = thread::scope(|scope| {
        let probing: Vec<_> = tracers
            .into_iter()
            .enumerate()
            .map(|(index, mut tracer)| {
                let (events, control, plan) = (events.clone(), &control, &plan);
                scope.spawn(move || {
                    // A warning once, not once a round.
                    let mut warned = std::collections::HashSet::new();
                    let result = tracer.rounds(plan, |event| {
                        if matches!(event, Event::RoundStarted { .. }) {
                            hold_while_paused(control);
                        }
                        if let Event::Warning { message, .. } = event {
                            if warned.insert(message.clone()) {
                                // A closed stderr is no reason to stop, nor to panic.
                                let _ = writeln!(std::io::stderr(), "hoptrace: {}", crate::escape::escape(message));
                            }
                        }
                        if !per_probe && matches!(event, Event::ProbeSent { .. } | Event::Reply { .. }) {
                            return;
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
    let written = printer.join().unwrap_or(Ok(()));
    results.into_iter().collect::<Result<(), Error>>()?;
    written?;
    // Interrupted: what was found is printed; the exit status says it was cut short, as a shell's does.
    match caught.load(Ordering::Relaxed) {
        0 => Ok(()),
        signal => Err(Error::Interrupted(signal as u8)),
    }
}

/// Waits, before a round starts, as long as the user paused the run (and did not quit).
fn hold_while_paused(control: &Control) {
    while control.paused.load(Ordering::Relaxed) && !control.is_stopped() {
        thread::sleep(PAUSE_STEP);
    }
}

/// The rendering thread: hands each event of the `targets` runs to the renderer, looking a hop's names up first.
/// The end of the last run ends the renderer (the others' are not passed on); so does the end of the events, if
/// a run never said it ended. Between events it checks that someone still reads the output; the first write error
/// stops the traces and is returned.
fn render(
    mut renderer: Box<dyn Renderer>,
    directory: &dyn Directory,
    events: mpsc::Receiver<(usize, Event)>,
    mut out: Sink,
    targets: usize,
) -> std::io::Result<()> {
    let mut done = 0;
    loop {
        let (index, event) = match events.recv_timeout(READER_CHECK) {
            Ok(event) => event,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                out.check_reader();
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
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
        out.write(|out| renderer.event(out, &event, directory));
    }
    if done < targets {
        out.write(|out| renderer.close(out, directory));
    }
    out.finish()
}
