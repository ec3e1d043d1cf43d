//! The history displays: per hop the last probes as a strip of band characters (mtr's "Last N pings"), or as a
//! latency chart of bars; each with its legend.

use ratatui::text::{Line, Span};

use super::screen::Display;
use super::style::{band, Palette, BANDS_MS, BAND_MARKS, LOST};
use super::table::{fit, short_label, Labels};
use super::target::HopTrail;
use crate::report::HopSummary;

/// Bars of the chart, lowest to highest.
const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The label column of these displays: a third of the width, at least 16.
pub fn label_width(width: usize) -> usize {
    (width / 3).max(16).min(width)
}

/// The lines of `display` (history or chart) for a terminal `width` wide: a header, a line per hop, newest probe
/// rightmost.
pub fn lines(labels: &Labels<'_>, hops: &[HopSummary], display: Display, width: usize) -> Vec<Line<'static>> {
    let palette = Palette { color: labels.screen.color };
    let label = label_width(width);
    let room = width.saturating_sub(label + 1);
    let trails = &labels.screen.target().trails;
    let top = slowest(labels, hops, room);
    // The probes the longest line shows: the room, once that many rounds are done.
    let shown = hops.iter().filter_map(|hop| trails.get(&hop.ttl)).map(|trail| recent(trail, room).count()).max();
    let shown = shown.unwrap_or(0);
    let title = match display {
        Display::Chart => format!("Latency chart, last {shown} probes"),
        _ => format!("Last {shown} probes"),
    };
    let mut lines = vec![Line::styled(format!("{} {title}", fit(" Host", label)), palette.title())];
    for hop in hops {
        let mut spans = vec![Span::raw(short_label(labels, hop, label)), Span::raw(" ")];
        for sample in trails.get(&hop.ttl).into_iter().flat_map(|trail| recent(trail, room)) {
            spans.push(match (sample, display) {
                (None, _) => Span::styled(LOST.to_string(), palette.lost()),
                (Some(ms), Display::Chart) => Span::styled(bar(ms, top).to_string(), palette.rtt(ms)),
                (Some(ms), _) => Span::styled(BAND_MARKS[band(ms)].to_string(), palette.rtt(ms)),
            });
        }
        lines.push(Line::from(spans));
    }
    lines
}

/// The last `room` probes of a hop.
fn recent(trail: &HopTrail, room: usize) -> impl Iterator<Item = Option<f64>> + '_ {
    trail.history.iter().skip(trail.history.len().saturating_sub(room)).copied()
}

/// The slowest of the last `room` probes of `hops`: the chart's full bar.
fn slowest(labels: &Labels<'_>, hops: &[HopSummary], room: usize) -> f64 {
    let trails = &labels.screen.target().trails;
    hops.iter()
        .filter_map(|hop| trails.get(&hop.ttl))
        .flat_map(|trail| recent(trail, room).flatten())
        .fold(0.0, f64::max)
}

/// The bar for `ms` when `top` fills the line.
fn bar(ms: f64, top: f64) -> char {
    if top <= 0.0 {
        return BARS[0];
    }
    let index = (ms / top * BARS.len() as f64).ceil() as usize;
    BARS[index.clamp(1, BARS.len()) - 1]
}

/// The legend under `display`: the bands of the strip, or the chart's scale.
pub fn legend(labels: &Labels<'_>, hops: &[HopSummary], display: Display, width: usize) -> Line<'static> {
    let palette = Palette { color: labels.screen.color };
    if display == Display::Chart {
        let top = slowest(labels, hops, width.saturating_sub(label_width(width) + 1));
        return Line::from(vec![
            Span::raw(format!("Scale: {} = {top:.3} ms, bars in proportion, ", BARS[BARS.len() - 1])),
            Span::styled(LOST.to_string(), palette.lost()),
            Span::raw(" lost"),
        ]);
    }
    let mut spans = vec![Span::raw("Scale (ms):")];
    for (index, mark) in BAND_MARKS.iter().enumerate() {
        let text = match BANDS_MS.get(index) {
            Some(bound) => format!(" {mark}<{bound}"),
            None => format!(" {mark}more"),
        };
        spans.push(Span::styled(text, palette.latency(index)));
    }
    spans.push(Span::styled(format!(" {LOST}"), palette.lost()));
    spans.push(Span::raw("lost"));
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_grow_with_the_time_and_the_slowest_fills_the_line() {
        assert_eq!([0.0, 1.0, 5.0, 9.9, 10.0].map(|ms| bar(ms, 10.0)), ['▁', '▁', '▄', '█', '█']);
        assert_eq!(bar(3.0, 0.0), '▁');
    }
}
