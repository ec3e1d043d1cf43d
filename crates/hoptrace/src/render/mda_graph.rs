//! Multipath discovery for programs and for drawing: every interface as a node, every link seen (two interfaces
//! that answered the same flow at consecutive TTLs) as an edge — as JSON (`--mda --json`) or Graphviz
//! (`--mda --dot`). The JSON is a RIPE Atlas traceroute result (every probe's reply under its hop, as `--json`
//! writes them), so that its parsers read it, with the graph beside: `nodes`, `links` and the probe budget.

use core::net::IpAddr;
use std::collections::BTreeSet;
use std::io::{self, Write};

use hoptrace_core::mda::links;
use hoptrace_core::{Confidence, Hop, Outcome};
use serde_json::json;

use super::dot::quoted;
use super::{Directory, Renderer, RipeJson, TraceInfo};

/// How the graph is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphFormat {
    /// One JSON document with nodes and links.
    Json,
    /// A Graphviz digraph.
    Dot,
}

/// Collects the hops of a multipath discovery and writes the graph at the end.
pub struct MdaGraph {
    format: GraphFormat,
    confidence: Confidence,
    info: Option<TraceInfo>,
    hops: Vec<Hop>,
    names: Vec<(IpAddr, Option<String>)>,
    /// The same hops in RIPE Atlas' result format.
    ripe: RipeJson,
}

impl MdaGraph {
    /// A graph writer in `format`, for a discovery at `confidence`.
    pub fn new(format: GraphFormat, confidence: Confidence) -> Self {
        MdaGraph { format, confidence, info: None, hops: Vec::new(), names: Vec::new(), ripe: RipeJson::new(false) }
    }

    /// Links of consecutive hops, with the TTL of the nearer one.
    fn all_links(&self) -> Vec<(u8, IpAddr, IpAddr)> {
        self.hops
            .windows(2)
            .flat_map(|pair| links(&pair[0], &pair[1]).into_iter().map(move |(from, to)| (pair[0].ttl, from, to)))
            .collect()
    }

    fn name(&self, addr: IpAddr) -> Option<&str> {
        self.names.iter().find(|(a, _)| *a == addr).and_then(|(_, name)| name.as_deref())
    }

    fn write_json(&mut self, out: &mut dyn Write, outcome: Option<Outcome>) -> io::Result<()> {
        let nodes: Vec<_> = self
            .hops
            .iter()
            .flat_map(|hop| {
                hop.responders().into_iter().map(move |addr| {
                    let answers = hop.current().filter(|p| p.responder() == Some(addr)).count();
                    (hop.ttl, addr, answers, hop.current().count())
                })
            })
            .map(|(ttl, addr, answers, probes)| {
                json!({ "ttl": ttl, "addr": addr.to_string(), "name": self.name(addr), "answers": answers, "probes": probes })
            })
            .collect();
        let links: Vec<_> = self
            .all_links()
            .into_iter()
            .map(|(ttl, from, to)| json!({ "ttl": ttl, "from": from.to_string(), "to": to.to_string() }))
            .collect();
        let (spent, budget, per_hop) = super::mda::budgets(self.confidence, &self.hops);
        let not_settled: Vec<_> = super::mda::unsettled(self.confidence, &self.hops)
            .into_iter()
            .map(|(ttl, state)| json!({ "ttl": ttl, "answered": state.answered, "needed": state.needed }))
            .collect();
        let per_packet: Vec<_> = self
            .hops
            .iter()
            .filter_map(|hop| Some((hop.ttl, hoptrace_core::mda::per_packet::verdict(hop)?)))
            .map(|(ttl, told)| {
                let interfaces: Vec<String> = told.interfaces.iter().map(ToString::to_string).collect();
                json!({ "ttl": ttl, "flow": told.flow, "interfaces": interfaces })
            })
            .collect();
        let waited = hoptrace_core::mda::limiter_wait(&self.hops);
        let graph = json!({
            // MDA's stopping rule per hop and per interface of the hop before (see hoptrace_core::mda), at this confidence.
            "stopping_rule": format!("MDA-{}", self.confidence),
            "confidence": self.confidence.percent(),
            "probes_sent": spent,
            "budget": budget,
            "budget_per_hop": per_hop,
            // Hops whose rule was not met in --mda-wait: flows answered against flows needed.
            "not_settled": not_settled,
            // Hops where one flow reached several interfaces (per-packet load balancing before them): the flow and
            // the interfaces. Links from such a hop on are not paths.
            "per_packet": per_packet,
            // The longest a hop was probed again for a rate limiter, in seconds, and its TTL.
            "limiter_wait": waited.map(|(_, wait)| wait.as_secs_f64()),
            "limiter_wait_ttl": waited.map(|(ttl, _)| ttl),
            "nodes": nodes,
            "links": links,
        });
        let mut document = self.ripe.document_value(outcome).unwrap_or_else(|| json!({}));
        if let (Some(document), Some(graph)) = (document.as_object_mut(), graph.as_object()) {
            document.extend(graph.clone());
        }
        writeln!(out, "{document}")
    }

    fn write_dot(&self, out: &mut dyn Write, info: &TraceInfo) -> io::Result<()> {
        writeln!(out, "digraph hoptrace {{")?;
        writeln!(out, "  label={};", quoted(&format!("hoptrace --mda to {} ({})", info.host, info.target)))?;
        writeln!(out, "  rankdir=TB;\n  node [shape=box];")?;
        let mut drawn = BTreeSet::new();
        for hop in &self.hops {
            for addr in hop.responders() {
                if drawn.insert(addr) {
                    let label = match self.name(addr) {
                        Some(name) => format!("{name}\n{addr}"),
                        None => addr.to_string(),
                    };
                    writeln!(out, "  {} [label={}];", quoted(&addr.to_string()), quoted(&label))?;
                }
            }
        }
        for (_, from, to) in self.all_links() {
            writeln!(out, "  {} -> {};", quoted(&from.to_string()), quoted(&to.to_string()))?;
        }
        writeln!(out, "}}")
    }
}

impl Renderer for MdaGraph {
    fn header(&mut self, out: &mut dyn Write, info: &TraceInfo) -> io::Result<()> {
        self.info = Some(info.clone());
        self.ripe.header(out, info)
    }

    fn hop(&mut self, out: &mut dyn Write, hop: &Hop, directory: &dyn Directory) -> io::Result<()> {
        for addr in hop.responders() {
            if !self.names.iter().any(|(a, _)| *a == addr) {
                self.names.push((addr, directory.name(addr)));
            }
        }
        self.hops.push(hop.clone());
        self.ripe.hop(out, hop, directory)
    }

    fn finish(&mut self, out: &mut dyn Write, outcome: Option<Outcome>, _directory: &dyn Directory) -> io::Result<()> {
        let Some(info) = self.info.take() else { return Ok(()) };
        match self.format {
            GraphFormat::Json => self.write_json(out, outcome)?,
            GraphFormat::Dot => self.write_dot(out, &info)?,
        }
        self.hops.clear();
        out.flush()
    }
}
