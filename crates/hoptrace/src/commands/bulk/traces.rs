//! The traces of a `--targets` run (the planner's hops per target), rendered by the single-trace renderers.

use core::net::IpAddr;
use std::io::{self, Write};
use std::time::SystemTime;

use hoptrace_core::bulk::{probe_len, Planner, Protocol};
use hoptrace_core::{Confidence, Method, Outcome};

use super::targets::Target;
use crate::render::{
    with_warts, Directory, DnsDirectory, GraphFormat, MdaGraph, MdaText, Renderer, RipeJson, Sink as Output, TraceInfo,
    TracerouteText, Warts,
};
use crate::settings::{Naming, WartsTo};

/// The traces of a `--targets` run, in `--json`'s schema (one line per target), or traceroute's text with
/// `--text`; with MDA, its graphs or its text.
pub(super) struct Printer {
    renderer: Box<dyn Renderer>,
    /// Text: the first target's header goes before the probing.
    text: bool,
    /// The first target's header was written.
    started: bool,
}

impl Printer {
    /// With `warts` (`-`: stdout), scamper's warts instead of the usual output, or into that file beside it.
    pub(super) fn new(text: bool, mda: Option<Confidence>, warts: Option<&std::path::Path>) -> Printer {
        let renderer: Box<dyn Renderer> = match (mda, text) {
            (Some(confidence), true) => Box::new(MdaText::new(Naming::Numeric, false, confidence)),
            (Some(confidence), false) => Box::new(MdaGraph::new(GraphFormat::Json, confidence)),
            (None, true) => {
                // Its gap-limit note would not say which target: [`gap_note`] does.
                let mut text = TracerouteText::new(Naming::Numeric);
                text.gap_note = false;
                Box::new(text)
            }
            (None, false) => Box::new(RipeJson::new(false)),
        };
        let to = warts.map(|path| if path == "-" { WartsTo::Stdout } else { WartsTo::File(path.to_owned()) });
        let renderer = with_warts(renderer, to.as_ref(), || Warts::new(mda, 1));
        Printer { renderer, text, started: false }
    }

    /// With `--text`, writes the first target's header before any probe, as a single trace does: a reader that
    /// wants no more (`| head -1`) has it at once, and its going stops the probing.
    pub(super) fn start(&mut self, head: &Head<'_>, out: &mut Output) {
        let Some(first) = head.targets.first().filter(|_| self.text) else { return };
        let info = head.info(first, None);
        out.write(|out| self.renderer.header(out, &info));
        self.started = true;
    }

    /// Writes one trace per target (of `targets`, as `planner` has them) to `out`, stopping at the first write
    /// error.
    pub(super) fn print(&mut self, head: &Head<'_>, planner: &Planner, sources: [Option<IpAddr>; 2], out: &mut Output) {
        let directory = DnsDirectory::new(true, false);
        out.write(|out| {
            let mut out = io::BufWriter::new(out);
            self.write(&mut out, &directory, head, planner, sources)?;
            out.flush()
        });
    }

    /// Writes one trace per target (in the order given).
    fn write(
        &mut self,
        out: &mut dyn Write,
        directory: &dyn Directory,
        head: &Head<'_>,
        planner: &Planner,
        sources: [Option<IpAddr>; 2],
    ) -> io::Result<()> {
        let renderer = self.renderer.as_mut();
        let (max_ttl, mda) = (planner.config().max_ttl, planner.config().mda);
        for (index, target) in head.targets.iter().enumerate() {
            if index > 0 || !self.started {
                renderer.header(out, &head.info(target, sources[usize::from(target.addr.is_ipv6())]))?;
            }
            for hop in planner.hops(index) {
                renderer.hop(out, &hop, directory)?;
            }
            let outcome = planner.outcome(index);
            renderer.finish(out, Some(outcome), directory)?;
            if let (Outcome::GapLimit { ttl }, true) = (outcome, self.text && mda.is_none()) {
                // After the trace it is about, as a single trace's.
                out.flush()?;
                let farthest = planner.farthest(index);
                let _ = writeln!(io::stderr(), "{}", gap_note(&target.host, ttl, farthest, max_ttl));
            }
        }
        renderer.close(out, directory)
    }
}

/// What the header of each trace says: the targets, and how they are probed.
pub(super) struct Head<'a> {
    pub targets: &'a [Target],
    pub max_ttl: u8,
    pub protocol: Protocol,
    pub started: SystemTime,
}

impl Head<'_> {
    fn info(&self, target: &Target, source: Option<IpAddr>) -> TraceInfo {
        let method = Method::paris(if self.protocol == Protocol::Udp {
            hoptrace_core::Protocol::Udp
        } else {
            hoptrace_core::Protocol::Icmp
        });
        TraceInfo {
            host: target.host.clone(),
            target: target.addr,
            source,
            method,
            flow: 0,
            max_ttl: self.max_ttl,
            packet_len: probe_len(target.addr.is_ipv6(), 1),
            started: self.started,
        }
    }
}

/// The note on stderr for the trace of `host` that the gap limit ended at `ttl`, its farthest answer from
/// `farthest`.
fn gap_note(host: &str, ttl: u8, farthest: u8, max_ttl: u8) -> String {
    let silent = ttl - farthest.min(ttl);
    format!(
        "hoptrace bulk: {}: stopped after hop {ttl}: {silent} silent hops past the last answer (a higher \
         --gap-limit probes on, up to hop {max_ttl})",
        crate::escape::escape(host)
    )
}
