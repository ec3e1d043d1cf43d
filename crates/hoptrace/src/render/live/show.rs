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
use crate::render::Control;

/// The most frames drawn per second, on average.
pub const FRAMES_PER_SECOND: f64 = 10.0;

/// The most frames drawn at once: the first, then the first answers without waiting.
const BURST: f64 = 3.0;

/// How long the screen waits for more of what just came in before drawing it (ten times this at most).
const SETTLE: Duration = Duration::from_millis(2);

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
            let _ = screen.feed(index, event);
        }
        return screen;
    };
    // Started in raw mode only: before it, an end of input would leave crossterm's reader blocked for good.
    let done = Arc::new(AtomicBool::new(false));
    let reading = Arc::clone(&done);
    let keys = thread::Builder::new().name("hoptrace-keys".into()).spawn(move || read_keys(&messages, &reading));
    let names = LiveNames::default();
    let mut pace = Pace::new(Instant::now());
    // The second of the wall clock the header shows.
    let mut shown_second = None;
    let mut dirty = true;
    'shown: loop {
        let wait = if dirty { pace.wait(Instant::now()) } else { until_next_second(SystemTime::now()) };
        let mut next = received.recv_timeout(wait);
        // What comes right after goes into the same frame (a reply brings its hop and the round's end).
        let settled = Instant::now() + SETTLE * 10;
        loop {
            match next {
                Ok(message) => match take(&mut screen, message, control) {
                    Some(changed) => dirty |= changed,
                    None => break 'shown,
                },
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => break 'shown,
            }
            if Instant::now() >= settled {
                break;
            }
            next = received.recv_timeout(SETTLE);
        }
        let now = SystemTime::now();
        let second = now.duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs());
        if (dirty && pace.wait(Instant::now()).is_zero()) || shown_second != Some(second) {
            let _ = terminal.draw(|frame| draw::draw(frame, &screen, &names, now));
            pace.take(Instant::now());
            shown_second = Some(second);
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

/// Takes in `message`: whether it changed what the screen shows; `None` at the end.
fn take(screen: &mut Screen, message: Message, control: &Control) -> Option<bool> {
    Some(match message {
        Message::Event(index, event) => screen.feed(index, event),
        Message::Terminal(TermEvent::Key(key)) if key.kind != KeyEventKind::Release => {
            if let Some(key) = key_of(key.code, key.modifiers) {
                match screen.key(key) {
                    Action::Quit => control.stop(),
                    Action::Pause(paused) => control.paused.store(paused, Ordering::Relaxed),
                    Action::None => {}
                }
            }
            true
        }
        Message::Terminal(TermEvent::Resize(..)) => true,
        Message::Terminal(_) => false,
        // No more keys, nothing to draw on: stop, and wait for the run to end.
        Message::TerminalGone => {
            control.stop();
            false
        }
        Message::End => return None,
    })
}

/// Frames drawn at most [`FRAMES_PER_SECOND`] a second on average, [`BURST`] at once (a token bucket).
struct Pace {
    /// Frames that may be drawn now (below zero after frames the clock asked for).
    tokens: f64,
    updated: Instant,
}

impl Pace {
    fn new(now: Instant) -> Self {
        Pace { tokens: BURST, updated: now }
    }

    fn refill(&mut self, now: Instant) {
        let earned = now.saturating_duration_since(self.updated).as_secs_f64() * FRAMES_PER_SECOND;
        self.tokens = (self.tokens + earned).min(BURST);
        self.updated = now;
    }

    /// How long until a frame may be drawn.
    fn wait(&mut self, now: Instant) -> Duration {
        self.refill(now);
        Duration::from_secs_f64((1.0 - self.tokens).max(0.0) / FRAMES_PER_SECOND)
    }

    /// A frame was drawn.
    fn take(&mut self, now: Instant) {
        self.refill(now);
        self.tokens -= 1.0;
    }
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
    fn frames_come_in_a_burst_then_ten_a_second() {
        let start = Instant::now();
        let mut pace = Pace::new(start);
        for _ in 0..3 {
            assert_eq!(pace.wait(start), Duration::ZERO);
            pace.take(start);
        }
        assert_eq!(pace.wait(start), Duration::from_millis(100));
        let later = start + Duration::from_millis(100);
        assert_eq!(pace.wait(later), Duration::ZERO);
        pace.take(later);
        assert_eq!(pace.wait(later), Duration::from_millis(100));
        // Idle for long: a burst again, no more.
        let idle = later + Duration::from_secs(10);
        for _ in 0..3 {
            assert_eq!(pace.wait(idle), Duration::ZERO);
            pace.take(idle);
        }
        assert!(!pace.wait(idle).is_zero());
    }

    #[test]
    fn the_next_second() {
        let at = |nanos| until_next_second(UNIX_EPOCH + Duration::from_nanos(nanos));
        assert_eq!(at(5_000_000_000), Duration::from_secs(1));
        assert_eq!(at(5_250_000_000), Duration::from_millis(750));
    }
}
