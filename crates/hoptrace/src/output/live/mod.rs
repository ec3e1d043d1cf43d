//! mtr's live screen (`--live`): drawn at once, redrawn as events come in (at most [`FRAMES_PER_SECOND`]), with
//! mtr's keys; a tab per target when several are traced; the report of each printed on leaving (q, Esc or Ctrl+C;
//! or after `-c` rounds).
//!
//! The renderer only forwards the library's events to the screen's own thread, which reads keys, looks names up
//! without waiting, and draws: nothing of it runs on a probing thread.

mod draw;
mod names;
mod screen;
mod strip;
mod style;
mod table;
mod target;

use std::io::{self, Write};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

use engine::Hop;
use hoptrace_core::Event;
use ratatui::crossterm::event::{self, Event as TermEvent, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::DefaultTerminal;

use super::report::ReportView;
use super::{mtr_text, Control, Directory, Renderer, TraceInfo};
use names::LiveNames;
pub use screen::Naming;
use screen::{Action, Key, Screen};

/// The most frames drawn per second.
pub const FRAMES_PER_SECOND: u32 = 10;

/// How long the screen's thread waits for a key before looking at what the probing found.
const STEP: Duration = Duration::from_millis(20);

/// The live renderer: feeds the screen's thread, and prints every target's report at [`Renderer::close`].
pub struct LiveView {
    as_lookups: bool,
    /// The target the next updates are about.
    target: usize,
    feed: Option<Sender<(usize, Event)>>,
    screen: Option<JoinHandle<Screen>>,
    control: Control,
}

impl LiveView {
    /// A live view of `hosts` (in the order their updates are numbered), naming hosts as `naming` at first, with
    /// colour if `color`, AS numbers if `as_lookups` (`-A`); quitting stops `control`'s tracers (so does a screen
    /// that died), `p` sets `control.paused`.
    pub fn new(hosts: &[String], naming: Naming, color: bool, as_lookups: bool, control: Control) -> Self {
        let mut screen = Screen::new(hosts, naming);
        screen.color = color;
        screen.asns = as_lookups;
        let (feed, received) = mpsc::channel();
        let shown = control.clone();
        let thread = thread::Builder::new().name("hoptrace-live".into()).spawn(move || show(screen, &received, &shown));
        if thread.is_err() {
            control.stop();
        }
        LiveView { as_lookups, target: 0, feed: Some(feed), screen: thread.ok(), control }
    }

    /// Passes `event` to the screen; a screen that is gone (it panicked) shows nothing more: no use probing on.
    fn send(&self, event: &Event) {
        let gone = self.feed.as_ref().is_some_and(|sender| sender.send((self.target, event.clone())).is_err());
        if gone {
            self.control.stop();
        }
    }
}

/// The screen's thread: takes the terminal over (if it can), draws and reads keys until the feed ends, gives the
/// terminal back, and returns the screen's final state.
fn show(mut screen: Screen, feed: &Receiver<(usize, Event)>, control: &Control) -> Screen {
    let Some(mut terminal) = take_terminal() else {
        // No terminal after all: no screen, but the reports are still printed at the end.
        while let Ok((index, event)) = feed.recv() {
            screen.feed(index, event);
        }
        return screen;
    };
    let names = LiveNames::default();
    let frame = Duration::from_secs(1) / FRAMES_PER_SECOND;
    let mut drawn: Option<(Instant, u64)> = None;
    let mut dirty = true;
    'shown: loop {
        match event::poll(STEP) {
            Ok(true) => match event::read() {
                Ok(TermEvent::Key(key)) if key.kind != KeyEventKind::Release => {
                    if let Some(key) = key_of(key.code, key.modifiers) {
                        match screen.key(key) {
                            Action::Quit => control.stop(),
                            Action::Pause(paused) => control.paused.store(paused, Ordering::Relaxed),
                            Action::None => {}
                        }
                    }
                    dirty = true;
                }
                Ok(TermEvent::Resize(..)) => dirty = true,
                _ => {}
            },
            Ok(false) => {}
            // The terminal is gone: no more keys, and nothing to draw on; wait for the probing to end.
            Err(_) => {
                control.stop();
                thread::sleep(STEP);
            }
        }
        loop {
            match feed.try_recv() {
                Ok((index, event)) => {
                    screen.feed(index, event);
                    dirty = true;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => break 'shown,
            }
        }
        let now = SystemTime::now();
        let second = now.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |since| since.as_secs());
        let due = drawn.is_none_or(|(at, shown_second)| (dirty && at.elapsed() >= frame) || shown_second != second);
        if due {
            let _ = terminal.draw(|frame| draw::draw(frame, &screen, &names, now));
            drawn = Some((Instant::now(), second));
            dirty = false;
        }
    }
    drop(terminal);
    ratatui::restore();
    screen
}

/// Takes the terminal over; on failure, undoes whatever part of the set-up succeeded.
fn take_terminal() -> Option<DefaultTerminal> {
    ratatui::try_init().inspect_err(|_| ratatui::restore()).ok()
}

/// The screen's name for a key (raw mode makes Ctrl+C a key, not a signal).
fn key_of(code: KeyCode, modifiers: KeyModifiers) -> Option<Key> {
    Some(match code {
        KeyCode::Char('c') if modifiers.contains(KeyModifiers::CONTROL) => Key::Interrupt,
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Tab => Key::Tab,
        KeyCode::BackTab => Key::BackTab,
        KeyCode::Esc => Key::Esc,
        _ => return None,
    })
}

impl Renderer for LiveView {
    fn target(&mut self, index: usize) {
        self.target = index;
    }

    /// Every event goes to the screen (see [`Renderer::event`]).
    fn header(&mut self, _out: &mut dyn Write, _info: &TraceInfo) -> io::Result<()> {
        Ok(())
    }

    /// Every event goes to the screen (see [`Renderer::event`]).
    fn hop(&mut self, _out: &mut dyn Write, _hop: &Hop, _directory: &dyn Directory) -> io::Result<()> {
        Ok(())
    }

    fn event(&mut self, out: &mut dyn Write, event: &Event, directory: &dyn Directory) -> io::Result<()> {
        match event {
            Event::TraceDone { .. } => self.close(out, directory),
            event => {
                self.send(event);
                Ok(())
            }
        }
    }

    fn close(&mut self, out: &mut dyn Write, directory: &dyn Directory) -> io::Result<()> {
        self.feed = None;
        let Some(screen) = self.screen.take().and_then(|thread| thread.join().ok()) else { return Ok(()) };
        for target in &screen.targets {
            let Some(info) = &target.info else { continue };
            let view = ReportView { report: &target.report, info, directory, as_lookups: self.as_lookups };
            mtr_text::write(out, &view)?;
        }
        out.flush()
    }
}

impl Drop for LiveView {
    fn drop(&mut self) {
        // The screen's thread gives the terminal back once its feed ends.
        self.feed = None;
        if let Some(thread) = self.screen.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests;
