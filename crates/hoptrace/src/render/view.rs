//! One finished report as its writers see it: the hop summaries, the first round's facts, and how to name
//! responders.

use core::net::IpAddr;

use super::{Directory, TraceInfo};
use crate::report::{HopSummary, Report};

/// A finished report with what its writers need to name things.
pub struct ReportView<'a> {
    /// The hop summaries.
    pub report: &'a Report,
    /// The first round's facts.
    pub info: &'a TraceInfo,
    /// Names and AS numbers.
    pub directory: &'a dyn Directory,
    /// Whether AS numbers were asked for (`-A`).
    pub as_lookups: bool,
}

impl ReportView<'_> {
    /// The hops shown.
    pub fn hops(&self) -> &[HopSummary] {
        self.report.hops()
    }

    /// How a responder is shown, as mtr does: its name, else its address.
    pub fn host(&self, addr: IpAddr) -> String {
        self.directory.name(addr).unwrap_or_else(|| addr.to_string())
    }

    /// Its AS numbers as traceroute prints them (`[AS64500]`, `[*]` for none), when asked for and known (nothing
    /// when the lookup failed: offline).
    pub fn asns(&self, addr: IpAddr) -> Option<String> {
        self.as_lookups.then(|| self.directory.asns(addr)).flatten().map(|asns| resolve::format_asns(&asns))
    }

    /// A hop's first responder as a report line shows it: host, AS numbers and mark; `???` for a silent hop.
    pub fn hop_label(&self, hop: &HopSummary) -> String {
        let Some(first) = hop.responders.first() else { return "???".to_owned() };
        let mut label = self.host(first.addr);
        for extra in self.asns(first.addr).iter().chain(&first.mark) {
            label.push(' ');
            label.push_str(extra);
        }
        label
    }

    /// What the source is called: its address, else `localhost`.
    pub fn source(&self) -> String {
        self.info.source.map_or_else(|| "localhost".to_owned(), |source| source.to_string())
    }
}

/// Milliseconds (or a percentage) rounded to 3 decimals, for JSON.
pub fn rounded(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}
