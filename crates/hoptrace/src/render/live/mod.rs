//! mtr's live screen (`--live`): drawn at once, redrawn as events come in (at most ten times a second), with
//! mtr's keys; a tab per target when several are traced; the report of each printed on leaving (q, Esc or Ctrl+C;
//! or after `-c` rounds).
//!
//! The renderer only forwards the library's events to the screen's own thread, which reads keys, looks names up
//! without waiting, and draws: nothing of it runs on a probing thread.

mod draw;
mod names;
mod screen;
mod show;
mod strip;
mod style;
mod table;
mod target;

use std::io::{self, Write};
use std::sync::mpsc::{self, Sender};
use std::thread::{self, JoinHandle};

use hoptrace_core::Event;
use hoptrace_core::Hop;

use super::view::ReportView;
use super::{mtr_text, Control, Directory, Renderer, TraceInfo};
pub use screen::Naming;
use screen::Screen;
use show::{show, Message};

/// The live renderer: feeds the screen's thread, and prints every target's report at [`Renderer::close`].
pub struct LiveView {
    as_lookups: bool,
    /// The target the next updates are about.
    target: usize,
    feed: Sender<Message>,
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
        let (messages, shown) = (feed.clone(), control.clone());
        let thread = thread::Builder::new()
            .name("hoptrace-live".into())
            .spawn(move || show(screen, messages, &received, &shown));
        if thread.is_err() {
            control.stop();
        }
        LiveView { as_lookups, target: 0, feed, screen: thread.ok(), control }
    }

    /// Passes `event` to the screen; a screen that is gone (it panicked) shows nothing more: no use probing on.
    fn send(&self, event: &Event) {
        if self.feed.send(Message::Event(self.target, event.clone())).is_err() {
            self.control.stop();
        }
    }

    /// Tells the screen's thread to give the terminal back, and waits for it: the screen's final state.
    fn end(&mut self) -> Option<Screen> {
        let _ = self.feed.send(Message::End);
        self.screen.take().and_then(|thread| thread.join().ok())
    }
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

    fn per_probe(&self) -> bool {
        true
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
        let Some(screen) = self.end() else { return Ok(()) };
        reports(out, &screen, directory, self.as_lookups)?;
        out.flush()
    }
}

/// The report of every target `screen` traced, in mtr's text; with several targets (mtr's `HOST:` names the
/// source only), each after a line naming its destination, as the screen's title does, and an empty line between.
fn reports(out: &mut dyn Write, screen: &Screen, directory: &dyn Directory, as_lookups: bool) -> io::Result<()> {
    let several = screen.targets.len() > 1;
    let mut first = true;
    for target in &screen.targets {
        let Some(info) = &target.info else { continue };
        if several {
            if !first {
                writeln!(out)?;
            }
            writeln!(out, "hoptrace to {} ({})", target.host, info.target)?;
        }
        first = false;
        let view = ReportView { report: &target.report, info, directory, as_lookups };
        mtr_text::write(out, &view)?;
    }
    Ok(())
}

impl Drop for LiveView {
    fn drop(&mut self) {
        self.end();
    }
}

#[cfg(test)]
mod tests;
