//! The screen's thread: takes the terminal over, and sleeps until something happens — an event of the probing, a
//! key, a resize, the clock's next second — then draws, at most [`FRAMES_PER_SECOND`] times a second. A thread of
//! its own reads the keys, so that neither ever polls in a tight loop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hoptrace_core::Event;
use ratatui::crossterm::event::{self, Event as TermEvent, KeyCode, KeyEventKind, KeyModifiers};

use super::draw;
use super::names::LiveNames;
use super::screen::{Action, Key, Screen};
use crate::output::Control;

/// The most frames drawn per second.
pub const FRAMES_PER_SECOND: u32 = 10;

/// How long the key reader waits for a key before looking whether it should end.
const KEY_POLL: Duration = Duration::from_millis(200);

/// What the screen's thread is told.
pub enum Message {
    /// An event of the `usize`-th target's run.
    Event(usize, Event),
    /// A key, a resize, … from the terminal.
    Terminal(TermEvent),
    /// The terminal cannot be read any more.
    TerminalGone,
    /// The run is over: give the terminal back.
    End,
}

/// Shows `screen` until told [`Message::End`] (or every sender is gone), then gives the terminal back and returns
/// the screen's final state. `messages` is for the key reader.
pub fn show(mut screen: Screen, messages: Sender<Message>, received: &Receiver<Message>, control: &Control) -> Screen {
    let Ok(mut terminal) = ratatui::try_init() else {
        // Undo whatever part of the set-up succeeded. No screen then, but the reports are still printed at the end.
        ratatui::restore();
        drop(messages);
        while let Ok(Message::Event(index, event)) = received.recv() {
            screen.feed(index, event);
        }
        return screen;
    };
    // Started in raw mode only: before it, an end of input would leave crossterm's reader blocked for good.
    let done = Arc::new(AtomicBool::new(false));
    let reading = Arc::clone(&done);
    let keys = thread::Builder::new().name("hoptrace-keys".into()).spawn(move || read_keys(&messages, &reading));
    let names = LiveNames::default();
    let frame = Duration::from_secs(1) / FRAMES_PER_SECOND;
    let mut drawn: Option<(Instant, u64)> = None;
    let mut dirty = true;
    loop {
        let wait = match drawn {
            None => Duration::ZERO,
            Some((at, _)) if dirty => (at + frame).saturating_duration_since(Instant::now()),
            Some(_) => until_next_second(SystemTime::now()),
        };
        match received.recv_timeout(wait) {
            Ok(Message::Event(index, event)) => {
                screen.feed(index, event);
                dirty = true;
            }
            Ok(Message::Terminal(TermEvent::Key(key))) if key.kind != KeyEventKind::Release => {
                if let Some(key) = key_of(key.code, key.modifiers) {
                    match screen.key(key) {
                        Action::Quit => control.stop(),
                        Action::Pause(paused) => control.paused.store(paused, Ordering::Relaxed),
                        Action::None => {}
                    }
                }
                dirty = true;
            }
            Ok(Message::Terminal(TermEvent::Resize(..))) => dirty = true,
            Ok(Message::Terminal(_)) | Err(RecvTimeoutError::Timeout) => {}
            // No more keys, nothing to draw on: stop, and wait for the run to end.
            Ok(Message::TerminalGone) => control.stop(),
            Ok(Message::End) | Err(RecvTimeoutError::Disconnected) => break,
        }
        let now = SystemTime::now();
        let second = now.duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs());
        let due = drawn.is_none_or(|(at, shown)| (dirty && at.elapsed() >= frame) || shown != second);
        if due {
            let _ = terminal.draw(|frame| draw::draw(frame, &screen, &names, now));
            drawn = Some((Instant::now(), second));
            dirty = false;
        }
    }
    done.store(true, Ordering::Relaxed);
    if let Ok(keys) = keys {
        let _ = keys.join();
    }
    drop(terminal);
    ratatui::restore();
    screen
}

/// The time left until the wall clock's next second (when the header's time changes).
fn until_next_second(now: SystemTime) -> Duration {
    let into = now.duration_since(UNIX_EPOCH).map_or(0, |since| since.subsec_nanos());
    Duration::from_nanos(u64::from(1_000_000_000 - into))
}

/// Sends what the terminal says until `done` is set or nobody listens.
fn read_keys(messages: &Sender<Message>, done: &AtomicBool) {
    while !done.load(Ordering::Relaxed) {
        let message = match event::poll(KEY_POLL) {
            Ok(false) => continue,
            Ok(true) => match event::read() {
                Ok(event) => Message::Terminal(event),
                Err(_) => Message::TerminalGone,
            },
            Err(_) => Message::TerminalGone,
        };
        let gone = matches!(message, Message::TerminalGone);
        if messages.send(message).is_err() || gone {
            return;
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_second() {
        let at = |nanos| until_next_second(UNIX_EPOCH + Duration::from_nanos(nanos));
        assert_eq!(at(5_000_000_000), Duration::from_secs(1));
        assert_eq!(at(5_250_000_000), Duration::from_millis(750));
    }
}
