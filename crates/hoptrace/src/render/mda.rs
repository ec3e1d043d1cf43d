//! Multipath discovery's text view: every interface of every hop, with its share of the hop's probes, then the
//! probes spent against the stopping points of MDA at the chosen confidence. A hop whose rule could not be met (its
//! rate limiting outlasted `--mda-wait`) says so, with the flows answered against those needed; so does a hop one
//! flow reached by several interfaces (a per-packet load balancer before it).

use core::fmt::Write as _;
use std::io::{self, Write};

use hoptrace_core::mda::{limiter_wait, per_packet, probes_needed, settlement, stopping_points, Settlement};
use hoptrace_core::{Confidence, Hop, Outcome};

use super::{Directory, Renderer, TraceInfo};
use crate::settings::Naming;

/// The multipath text renderer.
#[derive(Debug, Clone)]
pub struct MdaText {
    naming: Naming,
    as_lookups: bool,
    confidence: Confidence,
    /// The hops shown so far, for the summary.
    hops: Vec<Hop>,
}

impl MdaText {
    /// A renderer naming interfaces as asked, with their AS numbers if `as_lookups` (`-A`), for a discovery at
    /// `confidence`.
    pub fn new(naming: Naming, as_lookups: bool, confidence: Confidence) -> Self {
        MdaText { naming, as_lookups, confidence, hops: Vec::new() }
    }

    /// The lines of one hop: the TTL and its first interface, then one line per further interface.
    pub fn hop_lines(&mut self, hop: &Hop, directory: &dyn Directory) -> Vec<String> {
        let probes = hop.current().count();
        let responders = hop.responders();
        let state = self.hops.last().filter(|last| last.ttl.checked_add(1) == Some(hop.ttl));
        let state = settlement(self.confidence, state, hop).filter(|state| !state.is_settled());
        self.hops.push(hop.clone());
        if responders.is_empty() {
            return vec![format!("{:2}  * ({probes} probes)", hop.ttl)];
        }
        let mut lines: Vec<String> = responders
            .iter()
            .enumerate()
            .map(|(index, &from)| {
                let rtts: Vec<f64> = hop
                    .current()
                    .filter_map(|probe| probe.status.answer())
                    .filter(|answer| answer.from() == from)
                    .map(|answer| answer.rtt.as_secs_f64() * 1000.0)
                    .collect();
                let mut line = if index == 0 { format!("{:2}  ", hop.ttl) } else { "    ".to_owned() };
                line.push_str(&super::host(self.naming, from, directory));
                if let Some(asns) = self.as_lookups.then(|| directory.asns(from)).flatten() {
                    let _ = write!(line, " {}", resolve::format_asns(&asns));
                }
                let average = rtts.iter().sum::<f64>() / rtts.len() as f64;
                let _ = write!(line, "  {average:.3} ms  ({}/{probes} probes)", rtts.len());
                line
            })
            .collect();
        if let Some(told) = per_packet::verdict(hop) {
            let reached: Vec<String> =
                told.interfaces.iter().map(|&addr| super::host(self.naming, addr, directory)).collect();
            lines.push(format!(
                "    per-packet load balancing: flow {} reached {} here; links from this hop on are not paths",
                told.flow,
                reached.join(" and ")
            ));
        }
        if let Some(Settlement { answered, needed }) = state {
            lines.push(format!(
                "    not settled: answers in {answered} of the {needed} flows MDA-{} needs",
                self.confidence
            ));
        }
        lines
    }
}

impl Renderer for MdaText {
    fn header(&mut self, out: &mut dyn Write, info: &TraceInfo) -> io::Result<()> {
        // A new trace: its summary counts its own hops only.
        self.hops.clear();
        writeln!(
            out,
            "traceroute to {} ({}), {} hops max, {} byte packets, multipath discovery (MDA, {}%)",
            info.host, info.target, info.max_ttl, info.packet_len, self.confidence
        )?;
        out.flush()
    }

    fn hop(&mut self, out: &mut dyn Write, hop: &Hop, directory: &dyn Directory) -> io::Result<()> {
        for line in self.hop_lines(hop, directory) {
            writeln!(out, "{line}")?;
        }
        out.flush()
    }

    fn finish(&mut self, out: &mut dyn Write, _outcome: Option<Outcome>, _directory: &dyn Directory) -> io::Result<()> {
        let (spent, budget, per_hop) = budgets(self.confidence, &self.hops);
        let level = self.confidence;
        let unsettled = unsettled(level, &self.hops).len();
        if let Some((ttl, wait)) = limiter_wait(&self.hops) {
            let hops = match unsettled {
                0 => String::new(),
                1 => "; 1 hop not settled".to_owned(),
                n => format!("; {n} hops not settled"),
            };
            writeln!(out, "waited {:.1} s for rate-limited ICMP (longest at TTL {ttl}){hops}", wait.as_secs_f64())?;
        }
        writeln!(
            out,
            "{spent} probes sent; MDA-{level} budget for the interfaces and links found: {budget} (per hop alone: {per_hop})"
        )?;
        out.flush()
    }
}

/// Probes spent by `hops`, the budget of MDA at `confidence` for what they found (each hop's stopping point, per
/// interface of the hop before included, and the flows a hop of several interfaces probes again), and the budget of the rule applied per hop alone (`n_k` for the `k`
/// interfaces of each).
pub(crate) fn budgets(confidence: Confidence, hops: &[Hop]) -> (usize, usize, usize) {
    let spent = hops.iter().map(|hop| hop.probes.len()).sum();
    let per_hop = hops.iter().map(|hop| probes_needed(confidence, hop.responders().len())).sum();
    let repeats: usize = hops.iter().map(|hop| per_packet::repeats_needed(confidence, hop)).sum();
    (spent, stopping_points(confidence, hops).iter().sum::<usize>() + repeats, per_hop)
}

/// The hops of `hops` (in TTL order) whose stopping rule at `confidence` is not met, with their TTLs.
pub(crate) fn unsettled(confidence: Confidence, hops: &[Hop]) -> Vec<(u8, Settlement)> {
    (0..hops.len())
        .filter_map(|index| {
            let previous = hoptrace_core::mda::neighbours(hops, index).0;
            Some((hops[index].ttl, settlement(confidence, previous, &hops[index])?))
        })
        .filter(|(_, state)| !state.is_settled())
        .collect()
}
