//! Renderers: how a trace looks on stdout.

mod csv;
mod directory;
mod dot;
mod live;
mod mda;
mod mda_graph;
mod mtr_json;
mod mtr_text;
mod report;
mod ripe;
mod tracepath;
mod traceroute;

use core::net::IpAddr;
use std::io::{self, Write};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::SystemTime;

use engine::{Hop, Method, Outcome, TraceConfig};

use crate::settings::{Mode, Naming, Output, ReportFormat, Settings};

pub use directory::Resolver;
pub use live::LiveView;
pub use mda::MdaText;
pub use mda_graph::{GraphFormat, MdaGraph};
pub use report::ReportRenderer;
pub use ripe::RipeJson;
pub use tracepath::TracepathText;
pub use traceroute::TracerouteText;
pub(crate) use traceroute::{mark, mpls_text};

/// Where hop names and AS numbers come from. Lookups may block, up to their own timeouts: renderers run apart
/// from probing.
pub trait Directory {
    /// Starts looking `addr` up, so that a later [`Directory::name`] finds it done.
    fn prefetch(&self, _addr: IpAddr) {}
    /// The name of `addr`, if it has one.
    fn name(&self, addr: IpAddr) -> Option<String>;
    /// The AS numbers announcing `addr`, if known.
    fn asns(&self, _addr: IpAddr) -> Option<Vec<u32>> {
        None
    }
}

/// No names, no AS numbers.
#[derive(Debug, Default, Clone, Copy)]
pub struct Numeric;

impl Directory for Numeric {
    fn name(&self, _addr: IpAddr) -> Option<String> {
        None
    }
}

/// What a trace is, for a header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceInfo {
    /// The host as the user gave it.
    pub host: String,
    /// Its address.
    pub target: IpAddr,
    /// The address probes leave from, when known.
    pub source: Option<IpAddr>,
    /// How probes are built.
    pub method: Method,
    /// The flow of its probes (Paris methods).
    pub flow: u16,
    /// The last TTL.
    pub max_ttl: u8,
    /// Probe size, headers included.
    pub packet_len: u16,
    /// When the trace started (wall clock).
    pub started: SystemTime,
}

impl TraceInfo {
    /// The facts about a trace of `config` to `host` (as the user gave it) that started at `started`.
    pub fn new(host: &str, config: &TraceConfig, started: SystemTime) -> Self {
        TraceInfo {
            host: host.to_owned(),
            target: config.target,
            source: config.source,
            method: config.method,
            flow: config.flow,
            max_ttl: config.max_ttl,
            packet_len: config.packet_len,
            started,
        }
    }
}

/// Writes traces as they happen: per trace a header, each hop once complete, then a summary; and once all traces
/// (the rounds of a report) are done, [`Renderer::close`].
pub trait Renderer: Send {
    /// The updates that follow are about the `index`-th host given (several only with `--live`).
    fn target(&mut self, _index: usize) {}
    /// Before the first hop of a trace.
    fn header(&mut self, out: &mut dyn Write, info: &TraceInfo) -> io::Result<()>;
    /// One complete hop (or, when interrupted, what is known of it).
    fn hop(&mut self, out: &mut dyn Write, hop: &Hop, directory: &dyn Directory) -> io::Result<()>;
    /// After the last hop; `outcome` is `None` when the trace was interrupted.
    fn finish(
        &mut self,
        _out: &mut dyn Write,
        _outcome: Option<Outcome>,
        _directory: &dyn Directory,
    ) -> io::Result<()> {
        Ok(())
    }
    /// After the last trace (also when interrupted).
    fn close(&mut self, _out: &mut dyn Write, _directory: &dyn Directory) -> io::Result<()> {
        Ok(())
    }
}

/// What a renderer may ask of the probing: to stop, or to hold the next rounds back while `paused`.
#[derive(Debug, Clone, Default)]
pub struct Control {
    /// Stop probing (signals set it too).
    pub stop: Arc<AtomicBool>,
    /// Start no new round until cleared.
    pub paused: Arc<AtomicBool>,
}

/// The renderer `settings` ask for; the live view controls the probing through `control`.
pub fn renderer(settings: &Settings, control: &Control) -> Box<dyn Renderer> {
    match (settings.mda, settings.output) {
        (true, Output::Ripe | Output::Report(ReportFormat::Json)) => return Box::new(MdaGraph::new(GraphFormat::Json)),
        (true, Output::Report(ReportFormat::Dot)) => return Box::new(MdaGraph::new(GraphFormat::Dot)),
        _ => {}
    }
    match settings.output {
        Output::Ripe => return Box::new(RipeJson::new(settings.as_lookups)),
        Output::Report(format) => return Box::new(ReportRenderer::new(format, settings.as_lookups)),
        Output::Live => {
            let naming = if settings.naming == Naming::Numeric { live::Naming::Addresses } else { live::Naming::Names };
            let color = settings.color && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
            return Box::new(LiveView::new(&settings.hosts(), naming, color, settings.as_lookups, control.clone()));
        }
        Output::Text => {}
    }
    match settings.mode {
        Mode::Traceroute if settings.mda => Box::new(MdaText::new(settings.naming, settings.as_lookups)),
        Mode::Traceroute => Box::new(TracerouteText::new(
            settings.naming,
            settings.as_lookups,
            settings.extensions,
            settings.back,
            settings.discover_mtu,
        )),
        Mode::Tracepath => Box::new(TracepathText::new(settings.naming)),
    }
}

/// traceroute's `ttl2hops`: hops back, guessed from the reply's TTL and the usual initial TTLs.
pub fn hops_back(ttl: u8) -> u8 {
    match ttl {
        0..=64 => 65 - ttl,
        65..=128 => 129 - ttl,
        _ => (256 - u16::from(ttl)) as u8,
    }
}
