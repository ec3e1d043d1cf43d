//! The report renderer: gathers every round's hops into a [`Report`] and, once the rounds are done, writes it as
//! mtr's text report, mtr's JSON, mtr's CSV or a Graphviz graph.

use core::net::IpAddr;
use std::io::{self, Write};

use engine::{Hop, Outcome};

use super::{csv, dot, mtr_json, mtr_text, Directory, Renderer, TraceInfo};
use crate::report::{HopSummary, Report};
use crate::settings::ReportFormat;

/// Collects rounds, writes the report at the end.
#[derive(Debug)]
pub struct ReportRenderer {
    format: ReportFormat,
    as_lookups: bool,
    report: Report,
    /// The first round's facts.
    info: Option<TraceInfo>,
}

impl ReportRenderer {
    /// A renderer writing `format`, with AS numbers if `as_lookups`.
    pub fn new(format: ReportFormat, as_lookups: bool) -> Self {
        ReportRenderer { format, as_lookups, report: Report::new(), info: None }
    }
}

impl Renderer for ReportRenderer {
    fn header(&mut self, _out: &mut dyn Write, info: &TraceInfo) -> io::Result<()> {
        self.info.get_or_insert_with(|| info.clone());
        Ok(())
    }

    fn hop(&mut self, _out: &mut dyn Write, hop: &Hop, _directory: &dyn Directory) -> io::Result<()> {
        self.report.add_hop(hop.clone());
        Ok(())
    }

    fn finish(
        &mut self,
        _out: &mut dyn Write,
        _outcome: Option<Outcome>,
        _directory: &dyn Directory,
    ) -> io::Result<()> {
        if let Some(info) = &self.info {
            self.report.end_round(info.target);
        }
        Ok(())
    }

    fn close(&mut self, out: &mut dyn Write, directory: &dyn Directory) -> io::Result<()> {
        let Some(info) = &self.info else { return Ok(()) };
        let view = ReportView { report: &self.report, info, directory, as_lookups: self.as_lookups };
        match self.format {
            ReportFormat::Text => mtr_text::write(out, &view),
            ReportFormat::Json => mtr_json::write(out, &view),
            ReportFormat::Csv => csv::write(out, &view),
            ReportFormat::Dot => dot::write(out, &view),
        }?;
        out.flush()
    }
}

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

    /// Its AS numbers as traceroute prints them (`[AS64500]`), when asked for.
    pub fn asns(&self, addr: IpAddr) -> Option<String> {
        self.as_lookups.then(|| resolve::format_asns(&self.directory.asns(addr).unwrap_or_default()))
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
