//! Multipath discovery's text view: every interface of every hop, with its share of the hop's probes, then the
//! probes spent against the MDA-95 budget.

use core::fmt::Write as _;
use std::io::{self, Write};

use engine::mda::probes_needed;
use engine::{Hop, Outcome};

use super::{Directory, Renderer, TraceInfo};
use crate::settings::Naming;

/// The multipath text renderer.
#[derive(Debug, Clone)]
pub struct MdaText {
    naming: Naming,
    as_lookups: bool,
    probes_spent: usize,
    budget: usize,
}

impl MdaText {
    /// A renderer naming interfaces as asked, with their AS numbers if `as_lookups` (`-A`).
    pub fn new(naming: Naming, as_lookups: bool) -> Self {
        MdaText { naming, as_lookups, probes_spent: 0, budget: 0 }
    }

    /// The lines of one hop: the TTL and its first interface, then one line per further interface.
    pub fn hop_lines(&mut self, hop: &Hop, directory: &dyn Directory) -> Vec<String> {
        let probes = hop.current().count();
        let responders = hop.responders();
        self.probes_spent += hop.probes.len();
        self.budget += probes_needed(responders.len());
        if responders.is_empty() {
            return vec![format!("{:2}  * ({probes} probes)", hop.ttl)];
        }
        responders
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
                match self.naming {
                    Naming::Numeric => {
                        let _ = write!(line, "{from}");
                    }
                    _ => {
                        let name = directory.name(from).unwrap_or_else(|| from.to_string());
                        let _ = write!(line, "{name} ({from})");
                    }
                }
                if self.as_lookups {
                    let _ = write!(line, " {}", resolve::format_asns(&directory.asns(from).unwrap_or_default()));
                }
                let average = rtts.iter().sum::<f64>() / rtts.len() as f64;
                let _ = write!(line, "  {average:.3} ms  ({}/{probes} probes)", rtts.len());
                line
            })
            .collect()
    }
}

impl Renderer for MdaText {
    fn header(&mut self, out: &mut dyn Write, info: &TraceInfo) -> io::Result<()> {
        writeln!(
            out,
            "traceroute to {} ({}), {} hops max, {} byte packets, multipath discovery (MDA, 95%)",
            info.host, info.target, info.max_ttl, info.packet_len
        )?;
        out.flush()
    }

    fn hop(&mut self, out: &mut dyn Write, hop: &Hop, directory: &dyn Directory) -> io::Result<()> {
        for line in self.hop_lines(hop, directory) {
            writeln!(out, "{line}")?;
        }
        out.flush()
    }

    fn finish(&mut self, out: &mut dyn Write, _outcome: Option<Outcome>) -> io::Result<()> {
        writeln!(out, "{} probes sent; MDA-95 budget for the interfaces found: {}", self.probes_spent, self.budget)?;
        out.flush()
    }
}
