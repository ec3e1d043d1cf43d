//! The report renderer: gathers every round's hops into a [`Report`] and, once the rounds are done, writes it as
//! mtr's text report, mtr's JSON, mtr's CSV or a Graphviz graph.

use std::io::{self, Write};

use hoptrace_core::{Hop, Outcome};

use super::mtr_text::MplsSeen;
use super::view::ReportView;
use super::{csv, dot, mtr_json, mtr_text, Directory, Renderer, TraceInfo};
use crate::report::Report;
use crate::settings::ReportFormat;

/// Collects rounds, writes the report at the end.
#[derive(Debug)]
pub struct ReportRenderer {
    format: ReportFormat,
    as_lookups: bool,
    report: Report,
    /// The first round's facts.
    info: Option<TraceInfo>,
    /// Whether the text report shows MPLS labels (`-e`), and those seen.
    extensions: bool,
    mpls: MplsSeen,
}

impl ReportRenderer {
    /// A renderer writing `format`, with AS numbers if `as_lookups`.
    pub fn new(format: ReportFormat, as_lookups: bool) -> Self {
        ReportRenderer {
            format,
            as_lookups,
            report: Report::new(),
            info: None,
            extensions: false,
            mpls: MplsSeen::new(),
        }
    }

    /// The text report shows MPLS labels if `extensions` (`-e`).
    pub fn with_extensions(mut self, extensions: bool) -> Self {
        self.extensions = extensions;
        self
    }
}

impl Renderer for ReportRenderer {
    fn header(&mut self, _out: &mut dyn Write, info: &TraceInfo) -> io::Result<()> {
        self.info.get_or_insert_with(|| info.clone());
        Ok(())
    }

    fn hop(&mut self, _out: &mut dyn Write, hop: &Hop, _directory: &dyn Directory) -> io::Result<()> {
        if self.extensions {
            for answer in hop.current().filter_map(|probe| probe.status.answer()) {
                if let Some(error) = answer.icmp_error().filter(|error| !error.mpls.is_empty()) {
                    self.mpls.insert((hop.ttl, answer.from()), error.mpls.clone());
                }
            }
        }
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
            ReportFormat::Text => mtr_text::write_with_mpls(out, &view, &self.mpls),
            ReportFormat::Json => mtr_json::write(out, &view),
            ReportFormat::Csv => csv::write(out, &view),
            ReportFormat::Dot => dot::write(out, &view),
        }?;
        out.flush()
    }
}
