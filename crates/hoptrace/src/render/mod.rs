//! Renderers: how a trace looks on stdout.

mod csv;
mod directory;
mod dot;
mod events;
mod live;
mod mda;
mod mda_graph;
mod mtr;
mod mtr_json;
mod mtr_text;
mod report;
mod ripe;
mod sink;
mod tracepath;
mod traceroute;
mod view;
mod warts;
mod warts_lb;
mod warts_parts;

use core::net::IpAddr;
use std::io::{self, Write};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

pub use hoptrace_core::TraceInfo;
use hoptrace_core::{Event, StopHandle};
use hoptrace_core::{Hop, Outcome};

use crate::settings::{Mode, Naming, Output, ReportFormat, Settings};

pub use directory::DnsDirectory;
pub use events::EventsJson;
pub use live::LiveView;
pub use mda::MdaText;
pub use mda_graph::{GraphFormat, MdaGraph};
pub use report::ReportRenderer;
pub use ripe::RipeJson;
pub use sink::Sink;
pub use tracepath::TracepathText;
pub(crate) use traceroute::mpls_text;
pub use traceroute::TracerouteText;
pub use warts::{with_warts, Warts, WartsBeside};

/// Where hop names and AS numbers come from. Lookups may block, up to their own timeouts: renderers run apart
/// from probing.
pub trait Directory {
    /// Starts looking `addr` up, so that a later [`Directory::name`] finds it done.
    fn prefetch(&self, _addr: IpAddr) {}
    /// The name of `addr`, if it has one.
    fn name(&self, addr: IpAddr) -> Option<String>;
    /// The AS numbers announcing `addr` (empty: the registry has none), if known; `None` when the lookup
    /// failed or timed out.
    fn asns(&self, _addr: IpAddr) -> Option<Vec<u32>> {
        None
    }
    /// Like [`Directory::name`], telling apart an address the resolver says has no name (`Some(None)`) from a
    /// lookup that failed or timed out (`None`).
    fn name_answer(&self, addr: IpAddr) -> Option<Option<String>> {
        self.name(addr).map(Some)
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
    /// Whether it reads the events of every probe sent and every reply ([`Event::ProbeSent`], [`Event::Reply`]).
    /// A renderer that does not is not woken for them: a wake-up per probe competes with probing for the CPU.
    fn per_probe(&self) -> bool {
        false
    }
    /// One event of the run. By default: [`Renderer::header`] when a round starts, [`Renderer::hop`] for each hop,
    /// [`Renderer::finish`] when the round is done and [`Renderer::close`] at the end; probes and replies pass.
    fn event(&mut self, out: &mut dyn Write, event: &Event, directory: &dyn Directory) -> io::Result<()> {
        match event {
            Event::RoundStarted { info, .. } => self.header(out, info),
            Event::HopComplete { hop, .. } => self.hop(out, hop, directory),
            Event::RoundDone { outcome, .. } => self.finish(out, *outcome, directory),
            Event::TraceDone { .. } => self.close(out, directory),
            _ => Ok(()),
        }
    }
}

/// What a renderer may ask of the probing: to stop, or to hold the next rounds back while `paused`.
#[derive(Debug, Clone, Default)]
pub struct Control {
    /// The stop handle of every target's tracer.
    pub stops: Vec<StopHandle>,
    /// Start no new round until cleared.
    pub paused: Arc<AtomicBool>,
}

impl Control {
    /// Stops every target's probing.
    pub fn stop(&self) {
        self.stops.iter().for_each(StopHandle::stop);
    }

    /// Whether probing was stopped.
    pub fn is_stopped(&self) -> bool {
        self.stops.iter().any(StopHandle::is_stopped)
    }
}

/// The renderer `settings` ask for; the live view controls the probing through `control`.
pub fn renderer(settings: &Settings, control: &Control) -> Box<dyn Renderer> {
    let mda = settings.probing.mda.then_some(settings.probing.confidence);
    let warts = || Warts::new(mda, settings.probing.probes_per_hop);
    with_warts(renderer_alone(settings, control), settings.warts.as_ref(), warts)
}

/// The renderer of `settings`' text or JSON.
fn renderer_alone(settings: &Settings, control: &Control) -> Box<dyn Renderer> {
    match (settings.probing.mda, settings.output) {
        (true, Output::Ripe | Output::Report(ReportFormat::Json)) => {
            return Box::new(MdaGraph::new(GraphFormat::Json, settings.probing.confidence))
        }
        (true, Output::Report(ReportFormat::Dot)) => {
            return Box::new(MdaGraph::new(GraphFormat::Dot, settings.probing.confidence))
        }
        _ => {}
    }
    match settings.output {
        Output::Ripe => return Box::new(RipeJson::new(settings.as_lookups)),
        Output::Report(format) => {
            return Box::new(ReportRenderer::new(format, settings.as_lookups).with_extensions(settings.extensions))
        }
        Output::Live => {
            let naming = if settings.naming == Naming::Numeric { Naming::Numeric } else { Naming::NameOnly };
            let color = settings.color && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
            return Box::new(LiveView::new(&settings.hosts(), naming, color, settings.as_lookups, control.clone()));
        }
        Output::Events => return Box::new(EventsJson),
        Output::Mtr(format) => {
            let style = settings.mtr.clone().unwrap_or_default();
            let dns = settings.naming != Naming::Numeric;
            let probing = &settings.probing;
            let mtr = mtr::MtrRenderer::new(
                format,
                style,
                dns,
                settings.as_lookups,
                settings.extensions,
                settings.rounds.count.unwrap_or(u32::MAX),
            );
            return Box::new(mtr.starting_at(probing.first_ttl));
        }
        Output::Text => {}
    }
    match settings.mode {
        Mode::Traceroute if settings.probing.mda => {
            Box::new(MdaText::new(settings.naming, settings.as_lookups, settings.probing.confidence))
        }
        Mode::Traceroute => {
            let mut text = TracerouteText::new(settings.naming);
            text.as_lookups = settings.as_lookups;
            text.extensions = settings.extensions;
            text.back = settings.back;
            text.mtu = settings.probing.discover_mtu;
            Box::new(text)
        }
        Mode::Tracepath => Box::new(TracepathText::new(settings.naming)),
    }
}

/// How `addr` is shown under `naming`: `name (address)`, the name or the address alone, with the address standing
/// in for a missing name (tracepath: `???` where the lookup failed).
pub fn host(naming: Naming, addr: IpAddr, directory: &dyn Directory) -> String {
    let name = || directory.name(addr);
    match naming {
        Naming::Numeric => addr.to_string(),
        Naming::NameOnly => tracepath_name(addr, directory),
        Naming::NameAndAddress => format!("{} ({addr})", name().unwrap_or_else(|| addr.to_string())),
        Naming::Both => format!("{} ({addr})", tracepath_name(addr, directory)),
    }
}

/// What tracepath(8) shows for `addr`'s name: the name, the address where the resolver says there is none, `???`
/// where the lookup failed (offline).
fn tracepath_name(addr: IpAddr, directory: &dyn Directory) -> String {
    match directory.name_answer(addr) {
        Some(Some(name)) => name,
        Some(None) => addr.to_string(),
        None => "???".to_owned(),
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
