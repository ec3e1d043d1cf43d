//! mtr's live view (`--live`): the report of the rounds so far, redrawn on the terminal after every round, and
//! printed once more on leaving (q, Esc or Ctrl+C; or after `-c` rounds).

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use engine::{Hop, Outcome};
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::{DefaultTerminal, Frame};

use super::view::ReportView;
use super::{mtr_text, Directory, Renderer, TraceInfo};
use crate::report::Report;

/// How often the key watcher looks whether it should end.
const KEY_POLL: Duration = Duration::from_millis(100);

/// The live renderer. It takes the terminal over at the first trace and gives it back at [`Renderer::close`];
/// while it has it, a key watcher sets `stop` on q, Esc or Ctrl+C (raw mode makes Ctrl+C a key, not a signal).
pub struct LiveView {
    as_lookups: bool,
    report: Report,
    info: Option<TraceInfo>,
    terminal: Option<DefaultTerminal>,
    stop: Arc<AtomicBool>,
    keys: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
}

impl LiveView {
    /// A live view, with AS numbers if `as_lookups` (`-A`), that sets `stop` when the user quits.
    pub fn new(as_lookups: bool, stop: Arc<AtomicBool>) -> Self {
        LiveView { as_lookups, report: Report::new(), info: None, terminal: None, stop, keys: None }
    }

    /// Takes the terminal over and starts watching keys; without a terminal, leaves it as it was.
    fn take_terminal(&mut self) {
        match ratatui::try_init() {
            Ok(terminal) => self.terminal = Some(terminal),
            Err(_) => {
                ratatui::restore(); // undo whatever part of the set-up succeeded
                return;
            }
        }
        let done = Arc::new(AtomicBool::new(false));
        let (stop, watching) = (Arc::clone(&self.stop), Arc::clone(&done));
        // Started in raw mode only: before it, an end of input would leave crossterm's reader blocked for good.
        if let Ok(watcher) =
            thread::Builder::new().name("hoptrace-keys".into()).spawn(move || watch_keys(&stop, &watching))
        {
            self.keys = Some((done, watcher));
        }
    }

    /// Stops the key watcher and gives the terminal back.
    fn give_terminal_back(&mut self) {
        if let Some((done, watcher)) = self.keys.take() {
            done.store(true, Ordering::Relaxed);
            let _ = watcher.join();
        }
        if self.terminal.take().is_some() {
            ratatui::restore();
        }
    }

    /// Redraws the screen, if the terminal could be taken over.
    fn redraw(&mut self, directory: &dyn Directory) -> io::Result<()> {
        let (Some(info), Some(terminal)) = (&self.info, self.terminal.as_mut()) else { return Ok(()) };
        let view = ReportView { report: &self.report, info, directory, as_lookups: self.as_lookups };
        let lines = report_lines(&view)?;
        let title = title(info, self.report.rounds());
        terminal.draw(|frame| draw(frame, &title, &lines))?;
        Ok(())
    }
}

/// Sets `stop` when q, Esc or Ctrl+C is pressed; returns once `done` or `stop` is set.
fn watch_keys(stop: &AtomicBool, done: &AtomicBool) {
    use ratatui::crossterm::event::{self, Event, KeyCode, KeyModifiers};
    while !done.load(Ordering::Relaxed) && !stop.load(Ordering::Relaxed) {
        match event::poll(KEY_POLL) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(_) => return,
        }
        let Ok(Event::Key(key)) = event::read() else { continue };
        let quit = matches!(key.code, KeyCode::Char('q') | KeyCode::Esc)
            || (key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL));
        if quit {
            stop.store(true, Ordering::Relaxed);
        }
    }
}

/// The report as mtr's text report lays it out, line by line.
fn report_lines(view: &ReportView<'_>) -> io::Result<Vec<String>> {
    let mut text = Vec::new();
    mtr_text::write(&mut text, view)?;
    Ok(String::from_utf8_lossy(&text).lines().map(str::to_owned).collect())
}

/// The top line: what is traced, and how many rounds are in.
fn title(info: &TraceInfo, rounds: u32) -> String {
    format!("hoptrace to {} ({}), {rounds} rounds — q to quit", info.host, info.target)
}

/// One screen: the title, then the report (its start line left out), cut to the terminal's height.
pub(crate) fn draw(frame: &mut Frame, title: &str, report: &[String]) {
    let [top, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(frame.area());
    frame.render_widget(Paragraph::new(title).style(Style::new().add_modifier(Modifier::BOLD)), top);
    let lines: Vec<Line> = report.iter().skip(1).map(|line| Line::raw(line.as_str())).collect();
    frame.render_widget(Paragraph::new(lines), body);
}

impl Renderer for LiveView {
    fn header(&mut self, _out: &mut dyn Write, info: &TraceInfo) -> io::Result<()> {
        if self.info.is_some() {
            return Ok(());
        }
        self.info = Some(info.clone());
        // Not a terminal after all (the caller checked): no live screen, the report is still printed at the end.
        self.take_terminal();
        self.redraw(&super::Numeric) // the title and the header row, until the first round is in
    }

    fn hop(&mut self, _out: &mut dyn Write, hop: &Hop, _directory: &dyn Directory) -> io::Result<()> {
        self.report.add_hop(hop.clone());
        Ok(())
    }

    fn finish(&mut self, _out: &mut dyn Write, _outcome: Option<Outcome>, directory: &dyn Directory) -> io::Result<()> {
        if let Some(info) = &self.info {
            self.report.end_round(info.target);
        }
        self.redraw(directory)
    }

    fn close(&mut self, out: &mut dyn Write, directory: &dyn Directory) -> io::Result<()> {
        self.give_terminal_back();
        let Some(info) = &self.info else { return Ok(()) };
        let view = ReportView { report: &self.report, info, directory, as_lookups: self.as_lookups };
        mtr_text::write(out, &view)?;
        out.flush()
    }
}

impl Drop for LiveView {
    fn drop(&mut self) {
        self.give_terminal_back();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    #[test]
    fn a_screen_shows_the_title_and_the_report_under_it_cut_to_the_terminal() {
        let report: Vec<String> = [
            "Start: 2026-11-23T05:00:00+0000",
            "HOST: lab   Loss%",
            "  1.|-- 198.18.0.2   0.0%",
            "  2.|-- ???  100.0%",
        ]
        .map(str::to_owned)
        .to_vec();
        let mut terminal = Terminal::new(TestBackend::new(40, 3)).unwrap();
        terminal.draw(|frame| draw(frame, "hoptrace to lab", &report)).unwrap();
        let screen: Vec<String> = (0..3)
            .map(|y| (0..40).map(|x| terminal.backend().buffer()[(x, y)].symbol().to_owned()).collect::<String>())
            .collect();
        assert_eq!(screen[0].trim_end(), "hoptrace to lab");
        assert_eq!(screen[1].trim_end(), "HOST: lab   Loss%");
        assert_eq!(screen[2].trim_end(), "  1.|-- 198.18.0.2   0.0%");
    }
}
