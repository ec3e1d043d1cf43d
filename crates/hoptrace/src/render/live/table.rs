//! The statistics table (mtr's default display): a host column taking the width the numbers leave, then Loss%,
//! Snt and the round-trip times; jitter columns with `j`; extra responders and `--flows` rows under their hop.

use core::net::IpAddr;

use ratatui::text::{Line, Span};

use super::screen::{Naming, Screen};
use super::style::Palette;
use super::target::HopTrail;
use crate::render::{mpls_text, Directory};
use crate::report::{FlowSummary, HopSummary, RttStats};

/// The narrowest host column.
pub const MIN_HOST_WIDTH: usize = 12;

/// The number columns: title and width, separating space included.
const COLUMNS: [(&str, usize); 7] =
    [("Loss%", 7), ("Snt", 6), ("Last", 7), ("Avg", 7), ("Best", 7), ("Wrst", 7), ("StDev", 7)];

/// The jitter columns (`j`): mean and largest difference between consecutive round-trip times.
const JITTER: [(&str, usize); 2] = [("Javg", 7), ("Jmax", 7)];

/// How everything is named and marked, for one frame.
pub struct Labels<'a> {
    /// What is shown, and how.
    pub screen: &'a Screen,
    /// Names and AS numbers, as far as known.
    pub directory: &'a dyn Directory,
    /// The width of the host column.
    pub room: usize,
}

impl Labels<'_> {
    /// An address as the naming mode shows it; name and address only when both fit in the host column.
    pub fn host(&self, addr: IpAddr) -> String {
        let name = || self.directory.name(addr);
        match self.screen.naming {
            Naming::Numeric => addr.to_string(),
            Naming::NameOnly => name().unwrap_or_else(|| addr.to_string()),
            Naming::NameAndAddress | Naming::Both => match name() {
                // `12. name (address)`
                Some(name) if name.len() + addr.to_string().len() + 7 > self.room => name,
                Some(name) => format!("{name} ({addr})"),
                None => addr.to_string(),
            },
        }
    }

    /// ` [AS64500]` when AS numbers are shown.
    fn asns(&self, addr: IpAddr) -> String {
        if !self.screen.asns {
            return String::new();
        }
        format!(" {}", resolve::format_asns(&self.directory.asns(addr).unwrap_or_default()))
    }

    /// A hop's label (`12. host [AS…]`) and its marks (`!X`, `!NAT`, `rate-limited`, MPLS labels with `e`).
    pub fn hop(&self, hop: &HopSummary, trail: Option<&HopTrail>) -> (String, String) {
        let Some(first) = hop.responders.first() else { return (format!("{:>2}. ???", hop.ttl), String::new()) };
        let label = format!("{:>2}. {}{}", hop.ttl, self.host(first.addr), self.asns(first.addr));
        let mut marks = String::new();
        for text in first.mark.iter().map(String::as_str).chain(trail.filter(|trail| trail.nat).map(|_| "!NAT")) {
            marks.push(' ');
            marks.push_str(text);
        }
        if hop.is_rate_limited() {
            marks.push_str(" rate-limited");
        }
        if let Some(trail) = trail.filter(|trail| self.screen.mpls && !trail.mpls.is_empty()) {
            marks.push_str(&format!(" <{}>", mpls_text(&trail.mpls)));
        }
        (label, marks)
    }
}

/// The widths of the number columns shown.
fn columns(jitter: bool) -> Vec<(&'static str, usize)> {
    COLUMNS.iter().chain(if jitter { &JITTER[..] } else { &[] }).copied().collect()
}

/// The host column's width in a terminal `width` wide: all the numbers leave.
pub fn host_width(width: usize, jitter: bool) -> usize {
    width.saturating_sub(columns(jitter).iter().map(|(_, width)| width).sum()).max(MIN_HOST_WIDTH)
}

/// `text` cut (with `…`) or padded to `width` characters.
pub fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return format!("{text:<width$}");
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The table's lines for a terminal `width` wide: its header, then the hops.
pub fn lines(labels: &Labels<'_>, hops: &[HopSummary], width: usize) -> Vec<Line<'static>> {
    let screen = labels.screen;
    let palette = Palette { color: screen.color };
    let jitter = screen.jitter;
    let host = host_width(width, jitter);
    let mut header = fit(" Host", host);
    for (title, width) in columns(jitter) {
        header.push_str(&format!("{title:>width$}"));
    }
    let mut lines = vec![Line::styled(header, palette.title())];
    let target = screen.target();
    let paris = target.info.as_ref().is_some_and(|info| info.method.is_paris());
    for hop in hops {
        let (label, marks) = labels.hop(hop, target.trails.get(&hop.ttl));
        // The label keeps at least half the column (all of it if shorter), the marks get the rest.
        let room = host - label.chars().count().min(host / 2);
        let marks_width = marks.chars().count().min(room);
        let mut spans =
            vec![Span::raw(fit(&label, host - marks_width)), Span::styled(fit(&marks, marks_width), palette.mark())];
        spans.extend(numbers(palette, jitter, hop.loss_percent(), hop.sent, &hop.rtt));
        lines.push(Line::from(spans));
        for extra in hop.responders.iter().skip(1) {
            let mark = extra.mark.as_deref().map(|mark| format!(" {mark}")).unwrap_or_default();
            lines.push(Line::raw(fit(
                &format!("    {}{}{mark}", labels.host(extra.addr), labels.asns(extra.addr)),
                host,
            )));
        }
        for flow in hop.flows_to_show(paris) {
            lines.push(flow_line(labels, palette, flow, host));
        }
    }
    lines
}

/// A `--flows` row: `flow N → host`, and its numbers.
fn flow_line(labels: &Labels<'_>, palette: Palette, flow: &FlowSummary, host: usize) -> Line<'static> {
    let to: Vec<String> = flow.responders.iter().map(|&addr| labels.host(addr)).collect();
    let to = if to.is_empty() { "???".to_owned() } else { to.join(", ") };
    let mut spans = vec![Span::raw(fit(&format!("    flow {} → {to}", flow.flow), host))];
    spans.extend(numbers(palette, labels.screen.jitter, flow.loss_percent(), flow.sent, &flow.rtt));
    Line::from(spans)
}

/// The number cells of a row, coloured by loss and latency bands.
fn numbers(palette: Palette, jitter: bool, loss: f64, sent: u32, rtt: &RttStats) -> Vec<Span<'static>> {
    let ms = |value: f64, width: usize| {
        if rtt.count() == 0 {
            format!("{:>width$}", "")
        } else {
            format!("{value:>width$.1}")
        }
    };
    let mut cells = vec![
        Span::styled(format!("{loss:>6.1}%"), palette.loss(loss)),
        Span::raw(format!("{sent:>6}")),
        Span::styled(ms(rtt.last(), 7), palette.rtt(rtt.last())),
        Span::styled(ms(rtt.mean(), 7), palette.rtt(rtt.mean())),
        Span::raw(ms(rtt.best(), 7)),
        Span::raw(ms(rtt.worst(), 7)),
        Span::raw(ms(rtt.stdev(), 7)),
    ];
    if jitter {
        cells.push(Span::raw(ms(rtt.jitter_mean(), 7)));
        cells.push(Span::raw(ms(rtt.jitter_worst(), 7)));
    }
    cells
}

/// The label of a hop in the history and chart displays: `12. host`, cut to `width`.
pub fn short_label(labels: &Labels<'_>, hop: &HopSummary, width: usize) -> String {
    let (label, marks) = labels.hop(hop, None);
    fit(&format!("{label}{marks}"), width)
}
