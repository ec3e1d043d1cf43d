//! One frame of the live screen: mtr's header (what is traced, from where, when, how, the keys), the tabs of
//! several targets, the body of the display mode, and the help over it all when asked for.

use std::time::SystemTime;

use hoptrace_core::{Method, Protocol};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

use super::screen::{Display, Screen};
use super::strip;
use super::style::Palette;
use super::table::{self, Labels};
use crate::render::mtr_text::iso8601;
use crate::render::Directory;

/// The key hints of the header.
const KEYS: &str = "Keys: h:help p:pause r:reset n:names d:display j:jitter e:MPLS z:AS q:quit";

/// The help, a line a key.
const HELP: [&str; 13] = [
    "h or ?   this help (Esc or any key but q closes it)",
    "p        pause: no new rounds (p or space resumes)",
    "r        reset the statistics and histories",
    "n        names, addresses, or both",
    "d        display: statistics, last probes, latency chart",
    "j        jitter columns (Javg, Jmax)",
    "e        MPLS labels",
    "z        AS numbers",
    "Tab, 1-9 next target, or target N (several hosts)",
    "q, Esc   quit and print the report",
    "",
    "Marks: !X !H !N … unreachables, !NAT a rewritten probe,",
    "rate-limited: silences are ICMP rate limiting, not loss",
];

/// A protocol as the header names it.
fn protocol(method: Method) -> &'static str {
    match (method.protocol, method.paris) {
        (Protocol::Udp, false) => "UDP",
        (Protocol::Udp, true) => "UDP Paris",
        (Protocol::Icmp, false) => "ICMP",
        (Protocol::Icmp, true) => "ICMP Paris",
        (Protocol::Tcp, false) => "TCP",
        (Protocol::Tcp, true) => "TCP Paris",
    }
}

/// Draws `screen` at `now`, naming hosts from `directory`.
pub fn draw(frame: &mut Frame, screen: &Screen, directory: &dyn Directory, now: SystemTime) {
    let palette = Palette { color: screen.color };
    let tabs = u16::from(screen.targets.len() > 1);
    let legend = u16::from(screen.display != Display::Table);
    let [header, tab_line, body, legend_line] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(tabs),
        Constraint::Min(0),
        Constraint::Length(legend),
    ])
    .areas(frame.area());
    frame.render_widget(Paragraph::new(header_lines(screen, palette, now)), header);
    if tabs > 0 {
        frame.render_widget(Paragraph::new(tab_titles(screen, palette)), tab_line);
    }
    let report = screen.target().shown();
    let width = usize::from(body.width);
    let room = match screen.display {
        Display::Table => table::host_width(width, screen.jitter),
        _ => strip::label_width(width),
    };
    let labels = Labels { screen, directory, room };
    let lines = match screen.display {
        Display::Table => table::lines(&labels, report.hops(), width),
        display => strip::lines(&labels, report.hops(), display, width),
    };
    frame.render_widget(Paragraph::new(lines), body);
    if legend > 0 {
        frame.render_widget(Paragraph::new(strip::legend(&labels, report.hops(), screen.display, width)), legend_line);
    }
    if screen.help {
        help(frame, palette);
    }
}

/// `hoptrace to HOST (ADDR)` and the time; `SOURCE → ADDR`, protocol, flow, rounds; the keys.
fn header_lines(screen: &Screen, palette: Palette, now: SystemTime) -> Vec<Line<'static>> {
    let target = screen.target();
    let Some(info) = &target.info else {
        return vec![
            Line::styled(format!("hoptrace to {}", target.host), palette.title()),
            Line::raw(""),
            Line::raw(KEYS),
        ];
    };
    let title = format!("hoptrace to {} ({})", info.host, info.target);
    let source = info.source.map_or_else(|| "localhost".to_owned(), |source| source.to_string());
    let mut how = format!("{source} → {}   {}", info.target, protocol(info.method));
    if info.method.is_paris() {
        how.push_str(&format!(", flow {}", info.flow));
    }
    how.push_str(&format!("   rounds: {}", target.report.rounds()));
    let mut second = vec![Span::raw(how)];
    if screen.paused {
        second.push(Span::styled("   paused (p resumes)", palette.mark()));
    }
    vec![
        Line::from(vec![Span::styled(title, palette.title()), Span::raw(format!("   {}", iso8601(now)))]),
        Line::from(second),
        Line::raw(KEYS),
    ]
}

/// ` 1 host │ 2 host …`, the shown one highlighted.
fn tab_titles(screen: &Screen, palette: Palette) -> Line<'static> {
    let mut spans = Vec::new();
    for (index, target) in screen.targets.iter().enumerate() {
        let text = format!(" {} {} ", index + 1, target.host);
        let chosen = if index == screen.shown { format!("[{}]", text.trim()) } else { text };
        spans.push(if index == screen.shown { Span::styled(chosen, palette.title()) } else { Span::raw(chosen) });
        spans.push(Span::raw("│"));
    }
    spans.pop();
    Line::from(spans)
}

/// The help, in a box over the middle of the screen.
fn help(frame: &mut Frame, palette: Palette) {
    let area = frame.area();
    let width = (HELP.iter().map(|line| line.len()).max().unwrap_or(0) as u16 + 4).min(area.width);
    let height = (HELP.len() as u16 + 2).min(area.height);
    let at = Rect { x: (area.width - width) / 2, y: (area.height - height) / 2, width, height };
    frame.render_widget(Clear, at);
    let block = Block::bordered().title(Span::styled(" hoptrace keys ", palette.title()));
    frame.render_widget(Paragraph::new(HELP.map(Line::raw).to_vec()).block(block), at);
}
