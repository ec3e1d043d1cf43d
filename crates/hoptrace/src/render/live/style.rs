//! Bands of loss and latency, and their colours (none with `--no-color` or `NO_COLOR`).

use ratatui::style::{Color, Modifier, Style};

/// Upper bounds (ms, exclusive) of the latency bands; the last band is everything above.
pub const BANDS_MS: [f64; 9] = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0];

/// A band's character in the history strip, as mtr's "Last N pings" (`.` fastest, `>` slowest).
pub const BAND_MARKS: [char; 10] = ['.', '1', '2', '3', '4', '5', '6', '7', '8', '>'];

/// A lost probe in the history strip and the chart.
pub const LOST: char = '?';

/// The band of a round-trip time in milliseconds.
pub fn band(ms: f64) -> usize {
    BANDS_MS.iter().position(|&bound| ms < bound).unwrap_or(BANDS_MS.len())
}

/// Styles, coloured or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Palette {
    /// Whether to colour.
    pub color: bool,
}

impl Palette {
    fn fg(self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }

    /// A latency band: green to 20 ms, yellow to 100 ms, red beyond.
    pub fn latency(self, band: usize) -> Style {
        match band {
            0..=4 => self.fg(Color::Green),
            5..=6 => self.fg(Color::Yellow),
            _ => self.fg(Color::Red),
        }
    }

    /// A round-trip time's colour.
    pub fn rtt(self, ms: f64) -> Style {
        self.latency(band(ms))
    }

    /// A loss percentage: plain when none, yellow under 10%, red from there.
    pub fn loss(self, percent: f64) -> Style {
        match percent {
            p if p <= 0.0 => Style::new(),
            p if p < 10.0 => self.fg(Color::Yellow),
            _ => self.fg(Color::Red),
        }
    }

    /// A lost probe.
    pub fn lost(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    /// Marks after a host (`!X`, `!NAT`, `rate-limited`).
    pub fn mark(self) -> Style {
        self.fg(Color::Magenta)
    }

    /// Titles: bold, coloured or not.
    pub fn title(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_and_colours() {
        assert_eq!([0.2, 1.0, 4.9, 19.9, 150.0, 500.0, 9e9].map(band), [0, 1, 2, 4, 7, 9, 9]);
        let on = Palette { color: true };
        assert_eq!(on.rtt(3.0).fg, Some(Color::Green));
        assert_eq!(on.rtt(60.0).fg, Some(Color::Yellow));
        assert_eq!(on.rtt(300.0).fg, Some(Color::Red));
        assert_eq!((on.loss(0.0).fg, on.loss(5.0).fg, on.loss(50.0).fg), (None, Some(Color::Yellow), Some(Color::Red)));
        let off = Palette { color: false };
        assert_eq!((off.rtt(300.0).fg, off.loss(50.0).fg, off.lost().fg), (None, None, None));
    }
}
