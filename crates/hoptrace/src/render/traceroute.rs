//! `traceroute(8)`'s layout: a header, then per hop `%2d` and per probe the responder (again only when it
//! changes), the RTT and any mark, or `*` (`* !E` for a probe that could not be sent, `* !F-MTU` for one too big
//! for the local link).

use core::fmt::Write as _;
use std::io::{self, Write};

use hoptrace_core::{Answer, Hop, MplsLabel, Outcome, ProbeRecord, ProbeStatus};

use super::{hops_back, Directory, Renderer, TraceInfo};
use crate::settings::Naming;
use hoptrace_core::mark;

/// The traceroute text renderer and its options.
#[derive(Debug, Clone)]
pub struct TracerouteText {
    /// How responders are named.
    pub naming: Naming,
    /// Show `[ASn]` after addresses (`-A`).
    pub as_lookups: bool,
    /// Show ICMP extensions (`-e`).
    pub extensions: bool,
    /// Show `'-N'` when the way back is N hops, not the TTL (`--back`).
    pub back: bool,
    /// Show `F=N` where the path MTU changes (`--mtu`).
    pub mtu: bool,
    /// Say on stderr why a trace the gap limit ended stopped early (on by default).
    pub gap_note: bool,
    /// The last path MTU shown.
    shown_mtu: Option<u16>,
    /// Whether a NAT (a rewritten quote) was already marked, at the first hop after it.
    nat_shown: bool,
    /// The farthest hop that answered, and the last TTL of the trace: for the gap limit's note.
    farthest_answer: u8,
    max_ttl: u8,
}

impl TracerouteText {
    /// A renderer naming responders as `naming` says, its options (`-A`, `-e`, `--back`, `--mtu`) off.
    pub fn new(naming: Naming) -> Self {
        TracerouteText {
            naming,
            as_lookups: false,
            extensions: false,
            back: false,
            mtu: false,
            gap_note: true,
            shown_mtu: None,
            nat_shown: false,
            farthest_answer: 0,
            max_ttl: 0,
        }
    }

    /// One hop's line.
    pub fn hop_line(&mut self, hop: &Hop, directory: &dyn Directory) -> String {
        let mut line = format!("{:2} ", hop.ttl);
        let mut previous: Option<&Answer> = None;
        for probe in hop.current() {
            let Some(answer) = probe.status.answer() else {
                // A probe the system refused to send is marked so: its silence says nothing of the path. One too
                // big for the local link says the link's MTU, as traceroute's `!F-MTU`.
                match probe.status {
                    ProbeStatus::SendFailed => line.push_str(" * !E"),
                    ProbeStatus::TooBigLocally { mtu } => {
                        let _ = write!(line, " * !F-{mtu}");
                    }
                    _ => line.push_str(" *"),
                }
                continue;
            };
            if previous.is_none_or(|previous| self.differs(previous, answer)) {
                self.responder(&mut line, answer, hop.ttl, directory);
            }
            let _ = write!(line, "  {:.3} ms", answer.rtt.as_secs_f64() * 1000.0);
            if self.mtu {
                // After the RTT, where traceroute writes it.
                self.mtu_change(&mut line, probe);
            }
            if answer.quote_rewritten && !self.nat_shown {
                // The first hop past a NAT that rewrote the probe and left the router's quote as it was.
                line.push_str(" !NAT");
                self.nat_shown = true;
            }
            if let Some(mark) = mark(answer) {
                let _ = write!(line, " {mark}");
            }
            if answer.unverified {
                // Only one 16-bit field names the probe: a forger sweeping it could have sent this.
                line.push_str(" (unverified)");
            }
            previous = Some(answer);
        }
        line
    }

    /// Whether `answer` needs its responder printed again after `previous`.
    fn differs(&self, previous: &Answer, answer: &Answer) -> bool {
        previous.from() != answer.from()
            || (self.extensions && mpls(previous) != mpls(answer))
            || (self.back && previous.reply.ttl != answer.reply.ttl)
    }

    fn responder(&self, line: &mut String, answer: &Answer, ttl: u8, directory: &dyn Directory) {
        let from = answer.from();
        let _ = write!(line, " {}", super::host(self.naming, from, directory));
        // `[*]` where the registry has no record; nothing where it could not be asked (offline).
        if let Some(asns) = self.as_lookups.then(|| directory.asns(from)).flatten() {
            let _ = write!(line, " {}", resolve::format_asns(&asns));
        }
        if self.extensions && !mpls(answer).is_empty() {
            let _ = write!(line, " <{}>", mpls_text(mpls(answer)));
        }
        if self.back {
            if let Some(hops) = answer.reply.ttl.map(hops_back).filter(|&hops| hops != ttl) {
                let _ = write!(line, " '-{hops}'");
            }
        }
    }

    /// `F=N` at the first probe sent with a new size, as `traceroute --mtu` marks it.
    fn mtu_change(&mut self, line: &mut String, probe: &ProbeRecord) {
        if self.shown_mtu != Some(probe.size) {
            let _ = write!(line, " F={}", probe.size);
            self.shown_mtu = Some(probe.size);
        }
    }
}

impl Renderer for TracerouteText {
    fn header(&mut self, out: &mut dyn Write, info: &TraceInfo) -> io::Result<()> {
        writeln!(
            out,
            "traceroute to {} ({}), {} hops max, {} byte packets",
            info.host, info.target, info.max_ttl, info.packet_len
        )?;
        self.shown_mtu = Some(info.packet_len);
        self.max_ttl = info.max_ttl;
        self.farthest_answer = 0;
        out.flush()
    }

    fn hop(&mut self, out: &mut dyn Write, hop: &Hop, directory: &dyn Directory) -> io::Result<()> {
        if hop.is_answered() {
            self.farthest_answer = self.farthest_answer.max(hop.ttl);
        }
        let line = self.hop_line(hop, directory);
        writeln!(out, "{line}")?;
        out.flush()
    }

    fn finish(&mut self, _out: &mut dyn Write, outcome: Option<Outcome>, _directory: &dyn Directory) -> io::Result<()> {
        // Why the trace ended before the header's "hops max", on stderr so that parsers of the text see traceroute's.
        if let (Some(Outcome::GapLimit { ttl }), true) = (outcome, self.gap_note) {
            let _ = writeln!(io::stderr(), "{}", gap_note(ttl, self.farthest_answer, self.max_ttl));
        }
        Ok(())
    }
}

/// The note for a trace the gap limit ended at `ttl`, the farthest answer having come from `farthest`.
pub fn gap_note(ttl: u8, farthest: u8, max_ttl: u8) -> String {
    let silent = ttl - farthest.min(ttl);
    format!(
        "hoptrace: stopped after hop {ttl}: {silent} silent hops past the last answer (--gap-limit 0 probes on to \
         hop {max_ttl})"
    )
}

fn mpls(answer: &Answer) -> &[MplsLabel] {
    answer.icmp_error().map_or(&[], |error| error.mpls.as_slice())
}

/// `MPLS:L=24001,E=0,S=0,T=1/L=16,E=5,S=1,T=1`
pub(crate) fn mpls_text(labels: &[MplsLabel]) -> String {
    let entries: Vec<String> =
        labels.iter().map(|l| format!("L={},E={},S={},T={}", l.label, l.tc, u8::from(l.bottom), l.ttl)).collect();
    format!("MPLS:{}", entries.join("/"))
}
