//! iputils `tracepath(8)`'s layout: a line per reply (the too-big ones included, with the new path MTU), `no
//! reply` for silent TTLs, and a `Resume` line.

use core::fmt::Write as _;
use core::time::Duration;
use std::io::{self, Write};

use hoptrace_core::{Answer, ErrorClass, Hop, Outcome, ProbeStatus, ReplyKind, Unreachable, Verdict};

use super::{hops_back, Directory, Renderer, TraceInfo};
use crate::settings::Naming;

/// The tracepath text renderer.
#[derive(Debug, Clone)]
pub struct TracepathText {
    naming: Naming,
    target: Option<core::net::IpAddr>,
    pmtu: u32,
    hops_to: Option<u8>,
    hops_back: Option<u8>,
}

impl TracepathText {
    /// A renderer naming hops as asked.
    pub fn new(naming: Naming) -> Self {
        TracepathText { naming, target: None, pmtu: 0, hops_to: None, hops_back: None }
    }

    fn address(&self, answer: &Answer, directory: &dyn Directory) -> String {
        super::host(self.naming, answer.from(), directory)
    }

    fn answer_line(&mut self, ttl: u8, answer: &Answer, directory: &dyn Directory) -> String {
        let mut line = format!("{ttl:2}:  {:<52}{} ", self.address(answer, directory), millis(answer.rtt));
        let target = self.target.unwrap_or(answer.from());
        let ReplyKind::IcmpError(error) = &answer.reply.kind else {
            self.reached(ttl, answer);
            line.push_str("reached");
            return line;
        };
        match error.class {
            ErrorClass::PacketTooBig => {
                self.pmtu = error.mtu.unwrap_or(self.pmtu);
                let _ = write!(line, "pmtu {}", self.pmtu);
            }
            ErrorClass::TimeExceeded => {
                if let Some(back) = answer.reply.ttl.map(hops_back).filter(|&back| back != ttl) {
                    let _ = write!(line, "asymm {back:2} ");
                }
            }
            _ if answer.verdict(target) == Verdict::Reached => {
                self.reached(ttl, answer);
                line.push_str("reached");
            }
            ErrorClass::Unreachable(Unreachable::Network) => line.push_str("!N"),
            ErrorClass::Unreachable(Unreachable::Prohibited) => line.push_str("!A"),
            ErrorClass::Unreachable(Unreachable::Protocol) => line.push_str("!P"),
            _ => line.push_str("!H"), // other unreachables, and errors tracepath has no mark for
        }
        line
    }

    fn reached(&mut self, ttl: u8, answer: &Answer) {
        self.hops_to = Some(ttl);
        self.hops_back = answer.reply.ttl.map(hops_back);
    }
}

/// `%3d.%03dms`, as tracepath prints RTTs.
fn millis(rtt: Duration) -> String {
    let micros = rtt.as_micros();
    format!("{:3}.{:03}ms", micros / 1000, micros % 1000)
}

impl Renderer for TracepathText {
    fn header(&mut self, _out: &mut dyn Write, info: &TraceInfo) -> io::Result<()> {
        self.target = Some(info.target);
        self.pmtu = u32::from(info.packet_len);
        Ok(())
    }

    fn hop(&mut self, out: &mut dyn Write, hop: &Hop, directory: &dyn Directory) -> io::Result<()> {
        for probe in &hop.probes {
            match &probe.status {
                ProbeStatus::TooBigLocally { mtu } => {
                    self.pmtu = *mtu;
                    writeln!(out, "{:2}?: {:<32} pmtu {mtu}", hop.ttl, "[LOCALHOST]")?;
                }
                ProbeStatus::Answered(answer) => {
                    let line = self.answer_line(hop.ttl, answer, directory);
                    writeln!(out, "{line}")?;
                }
                _ => {}
            }
        }
        // Replies that only said "too big" do not answer for the TTL: its probes at the right size went unanswered.
        if !hop.current().any(|probe| probe.status.answer().is_some()) {
            writeln!(out, "{:2}:  no reply", hop.ttl)?;
        }
        out.flush()
    }

    fn finish(&mut self, out: &mut dyn Write, outcome: Option<Outcome>, _directory: &dyn Directory) -> io::Result<()> {
        if outcome == Some(Outcome::MaxTtl) {
            writeln!(out, "     Too many hops: pmtu {}", self.pmtu)?;
        }
        let mut line = format!("     Resume: pmtu {} ", self.pmtu);
        if let Some(hops) = self.hops_to {
            let _ = write!(line, "hops {hops} ");
        }
        if let Some(back) = self.hops_back {
            let _ = write!(line, "back {back} ");
        }
        writeln!(out, "{line}")?;
        out.flush()
    }
}
