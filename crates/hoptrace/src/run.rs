//! From settings to finished traces on stdout, over the library's [`Tracer`]: probing on this thread, rendering
//! (and the name lookups it may wait for) on another, so that a slow resolver never delays a probe.

use core::time::Duration;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;

use hoptrace_core::{Event, Tracer};

use crate::error::Error;
use crate::output::{renderer, Directory, Renderer, Sink};
use crate::settings::{Output, Settings};

/// The shortest pause between rounds a user other than root may ask for, as mtr has it: repeated traces at a
/// higher rate would load a network shared with others.
pub const UNPRIVILEGED_INTERVAL_FLOOR: Duration = Duration::from_secs(1);

/// How often the rendering thread, waiting for events, checks that someone still reads its output.
const READER_CHECK: Duration = Duration::from_millis(100);

/// Runs the traces `settings` describe, writing them to stdout as they go. Privileges are dropped before the
/// first probe (before opening anything with `--unprivileged`); the name lookups `directory` makes start after
/// that (their threads inherit none).
pub fn run(
    settings: &Settings,
    directory: impl FnOnce() -> Box<dyn Directory + Send> + Send + 'static,
) -> Result<(), Error> {
    if settings.output == Output::Live && !std::io::stdout().is_terminal() {
        return Err(Error::NotATerminal);
    }
    let rounds = settings.rounds();
    if rounds.count > 1 && rounds.interval < UNPRIVILEGED_INTERVAL_FLOOR && !net::run_by_root() {
        return Err(Error::IntervalNeedsRoot(UNPRIVILEGED_INTERVAL_FLOOR));
    }
    let dropped = |error| Error::Trace(hoptrace_core::Error::Net(error));
    if settings.unprivileged {
        net::drop_privileges().map_err(dropped)?;
    }
    let mut tracer = Tracer::with_options(&settings.host, &settings.options())?;
    // The sockets are open: nothing from here on needs a privilege, and no probe is sent with one.
    net::drop_privileges().map_err(dropped)?;
    let stop = tracer.stop_handle();
    let caught = Arc::new(AtomicUsize::new(0));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Registration only fails for forbidden signals; these two are not.
        let _ = signal_hook::flag::register(signal, stop.flag());
        let _ = signal_hook::flag::register_usize(signal, Arc::clone(&caught), signal as usize);
    }

    let renderer = renderer(settings, stop.flag());
    let (events, received) = mpsc::channel();
    let sink = Sink::new(stop.flag());
    let printer = thread::spawn(move || render(renderer, directory().as_ref(), received, sink));
    let result = tracer.rounds(&rounds, |event| {
        if let Event::Warning { message, .. } = event {
            // A closed stderr is no reason to stop, nor to panic.
            let _ = writeln!(std::io::stderr(), "hoptrace: {message}");
        }
        // A renderer that died (it panicked) shows nothing more: no use probing on.
        if events.send(event.clone()).is_err() {
            stop.stop();
        }
    });
    drop(events);
    let written = printer.join().unwrap_or(Ok(()));
    result?;
    written?;
    // Interrupted: what was found is printed; the exit status says it was cut short, as a shell's does.
    match caught.load(Ordering::Relaxed) {
        0 => Ok(()),
        signal => Err(Error::Interrupted(signal as u8)),
    }
}

/// The rendering thread: hands each event to the renderer, looking a hop's names up first; closes the renderer
/// even if the run never said it ended. Between events it checks that someone still reads the output; the first
/// write error stops the trace and is returned.
fn render(
    mut renderer: Box<dyn Renderer>,
    directory: &dyn Directory,
    events: mpsc::Receiver<Event>,
    mut out: Sink,
) -> std::io::Result<()> {
    let mut closed = false;
    loop {
        let event = match events.recv_timeout(READER_CHECK) {
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
        closed |= matches!(event, Event::TraceDone { .. });
        out.write(|out| renderer.event(out, &event, directory));
    }
    if !closed {
        out.write(|out| renderer.close(out, directory));
    }
    out.finish()
}
