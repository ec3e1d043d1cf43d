//! mtr 0.95's outputs, when run as `mtr`: a table of hops kept as mtr's `net.c` keeps it (latest responder, every
//! responder in order found, times in microseconds), written at the end as its report, JSON, CSV or XML, or as it
//! goes as its raw lines or its split lines.

mod write;

use core::net::IpAddr;
use std::io::{self, Write};

use hoptrace_core::Event;
use hoptrace_core::{Answer, ErrorClass, Hop, MplsLabel, Outcome};

use super::{Directory, Renderer, TraceInfo};
use crate::escape::escape;
use crate::settings::{MtrFormat, MtrStyle};

/// The most responders mtr keeps per hop (`MAX_PATH`).
const MAX_PATH: usize = 8;

/// One hop as mtr's `struct nethost` has it; times in microseconds.
#[derive(Debug, Default, Clone)]
pub struct MtrHop {
    /// The latest responder.
    pub addr: Option<IpAddr>,
    /// Every responder, in the order found.
    pub addrs: Vec<IpAddr>,
    /// MPLS labels of the latest reply of each responder.
    pub mpls: Vec<(IpAddr, Vec<MplsLabel>)>,
    /// The hop answered with an error that ends the path (unreachable).
    pub err: bool,
    /// Probes sent, replies received.
    pub xmit: u32,
    /// Replies received.
    pub returned: u32,
    last: i64,
    best: i64,
    worst: i64,
    avg: f64,
    ssd: f64,
    gmean: f64,
    jitter: i64,
    javg: f64,
    jworst: i64,
    jinta: i64,
}

impl MtrHop {
    /// A reply from `addr` after `usec`, as `net_process_ping` counts it; whether `addr` was new to the hop.
    fn reply(&mut self, addr: IpAddr, usec: i64) -> bool {
        let mut new = false;
        if self.addr != Some(addr) {
            if !self.addrs.contains(&addr) && self.addrs.len() < MAX_PATH {
                self.addrs.push(addr);
                new = true;
            }
            self.addr = Some(addr);
        }
        self.jitter = (usec - self.last).abs();
        self.last = usec;
        if self.returned < 1 {
            (self.best, self.worst, self.gmean) = (usec, usec, usec as f64);
            (self.avg, self.ssd) = (0.0, 0.0);
            (self.jitter, self.jworst, self.jinta) = (0, 0, 0);
        }
        self.best = self.best.min(usec);
        self.worst = self.worst.max(usec);
        self.jworst = self.jworst.max(self.jitter);
        self.returned += 1;
        let n = f64::from(self.returned);
        let old = self.avg;
        self.avg += (usec as f64 - old) / n;
        self.ssd += (usec as f64 - old) * (usec as f64 - self.avg);
        self.javg += (self.jitter as f64 - self.javg) / n;
        // RFC 1889 A.8, as mtr keeps it (sixteen times the estimate).
        self.jinta += self.jitter - ((self.jinta + 8) >> 4);
        if self.returned > 1 {
            self.gmean = self.gmean.powf((n - 1.0) / n) * (usec as f64).powf(1.0 / n);
        }
        new
    }

    /// Dropped probes.
    pub fn drop(&self) -> u32 {
        self.xmit.saturating_sub(self.returned)
    }

    /// Loss in percent.
    pub fn loss(&self) -> f64 {
        if self.xmit == 0 {
            return 0.0;
        }
        100.0 - 100.0 * f64::from(self.returned) / f64::from(self.xmit)
    }

    /// The value of field `letter`, in mtr's units: milliseconds, percent, or a count.
    pub fn field(&self, letter: char) -> f64 {
        let ms = |usec: f64| usec / 1000.0;
        match letter {
            'L' => self.loss(),
            'D' | ' ' => f64::from(self.drop()),
            'R' => f64::from(self.returned),
            'S' => f64::from(self.xmit),
            'N' => ms(self.last as f64),
            'B' => ms(self.best as f64),
            'A' => ms(self.avg.trunc()),
            'W' => ms(self.worst as f64),
            'V' if self.returned > 1 => ms((self.ssd / f64::from(self.returned - 1)).sqrt().trunc()),
            'G' => ms(self.gmean.trunc()),
            'J' => ms(self.jitter as f64),
            'M' => ms(self.javg.trunc()),
            'X' => ms(self.jworst as f64),
            'I' => ms(self.jinta as f64),
            _ => 0.0,
        }
    }
}

/// Every hop by TTL (index 0 is TTL 1).
#[derive(Debug, Default)]
pub struct MtrTable {
    /// The hops.
    pub hops: Vec<MtrHop>,
}

impl MtrTable {
    /// The hop at `ttl`, made if new.
    fn at(&mut self, ttl: u8) -> &mut MtrHop {
        let index = usize::from(ttl.max(1) - 1);
        if self.hops.len() <= index {
            self.hops.resize(index + 1, MtrHop::default());
        }
        &mut self.hops[index]
    }

    /// An answer at `ttl`; whether its responder was new to the hop.
    fn answer(&mut self, ttl: u8, answer: &Answer, target: IpAddr) -> bool {
        let hop = self.at(ttl);
        let from = answer.from();
        let error = answer.icmp_error();
        hop.err = matches!(error.map(|error| error.class), Some(ErrorClass::Unreachable(_))) && from != target;
        let labels = error.map(|error| error.mpls.clone()).unwrap_or_default();
        match hop.mpls.iter_mut().find(|(addr, _)| *addr == from) {
            Some(entry) => entry.1 = labels,
            None => hop.mpls.push((from, labels)),
        }
        let usec = i64::try_from(answer.rtt.as_micros()).unwrap_or(i64::MAX);
        hop.reply(from, usec)
    }

    /// The TTLs shown, first to last, as `net_max` bounds them: up to the target, or to an unreachable error, or one
    /// past the farthest responder.
    pub fn shown(&self, first_ttl: u8, target: IpAddr) -> core::ops::Range<usize> {
        let mut max = 0;
        for (at, hop) in self.hops.iter().enumerate() {
            if hop.addr == Some(target) || hop.err {
                max = at + 1;
                break;
            }
            if hop.addr.is_some() {
                max = at + 2;
            }
        }
        let max = max.min(self.hops.len());
        usize::from(first_ttl.max(1) - 1).min(max)..max
    }
}

/// mtr's outputs over the rounds.
pub struct MtrRenderer {
    format: MtrFormat,
    style: MtrStyle,
    dns: bool,
    as_lookups: bool,
    mpls: bool,
    rounds: u32,
    first_ttl: u8,
    table: MtrTable,
    info: Option<TraceInfo>,
    /// `--raw`: the hops whose name was written.
    named: Vec<bool>,
    /// `--raw`: this round's lines and the TTL each is about, written once the round shows how far the path goes.
    pending: Vec<(u8, String)>,
    /// `--raw`: the first sequence number of this round, and the count of this round's.
    seq_base: u32,
    seq_count: u32,
    /// `--split`: the lines last written.
    lines: Vec<String>,
}

impl MtrRenderer {
    /// A renderer of `format`, laid out as `style`; names looked up if `dns`.
    pub fn new(format: MtrFormat, style: MtrStyle, dns: bool, as_lookups: bool, mpls: bool, rounds: u32) -> Self {
        MtrRenderer {
            format,
            style,
            dns,
            as_lookups,
            mpls,
            rounds,
            first_ttl: 1,
            table: MtrTable::default(),
            info: None,
            named: Vec::new(),
            pending: Vec::new(),
            seq_base: 0,
            seq_count: 0,
            lines: Vec::new(),
        }
    }

    /// The first TTL probed (`-f`).
    pub fn starting_at(mut self, first_ttl: u8) -> Self {
        self.first_ttl = first_ttl;
        self
    }

    /// How mtr names `addr`: its name (and address, with `-b`), else its address.
    fn name(&self, addr: IpAddr, directory: &dyn Directory) -> String {
        match self.dns.then(|| directory.name(addr)).flatten() {
            Some(name) if self.style.show_ips => format!("{} ({addr})", escape(&name)),
            Some(name) => escape(&name).into_owned(),
            None => addr.to_string(),
        }
    }

    /// `--raw`'s lines for a reply at `ttl`.
    fn raw_reply(&mut self, ttl: u8, answer: &Answer, seq: u32, dir: &dyn Directory) {
        let Some(target) = self.info.as_ref().map(|info| info.target) else { return };
        let mut lines = Vec::new();
        let index = usize::from(ttl.max(1) - 1);
        let from = answer.from();
        let changed = self.table.hops.get(index).is_none_or(|hop| hop.addr != Some(from));
        if self.table.answer(ttl, answer, target) {
            lines.push(format!("h {index} {from}"));
        }
        if changed {
            lines.push(format!("h {index} {from}"));
            if self.mpls {
                for label in self.table.hops[index].mpls.iter().filter(|(addr, _)| *addr == from).flat_map(|(_, l)| l) {
                    let (lbl, tc, s, ttl) = (label.label, label.tc, u8::from(label.bottom), label.ttl);
                    lines.push(format!("m {index} {lbl} {tc} {s} {ttl}"));
                }
            }
        }
        if self.named.len() <= index {
            self.named.resize(index + 1, false);
        }
        if self.dns && !self.named[index] {
            if let Some(name) = dir.name(from) {
                self.named[index] = true;
                lines.push(format!("d {index} {}", escape(&name)));
            }
        }
        lines.push(format!("p {index} {} {seq}", answer.rtt.as_micros()));
        self.pending.extend(lines.into_iter().map(|line| (ttl, line)));
    }

    /// A probe's sequence number: counted on across rounds, as mtr's.
    fn seq(&mut self, id: u32) -> u32 {
        self.seq_count = self.seq_count.max(id + 1);
        self.seq_base.wrapping_add(id)
    }

    /// `--raw`: the round's lines about the hops shown, in the order they happened (mtr probes no farther).
    fn flush_raw(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let Some(info) = &self.info else { return Ok(()) };
        let end = self.table.shown(self.first_ttl, info.target).end;
        for (ttl, line) in self.pending.drain(..) {
            if usize::from(ttl) <= end {
                writeln!(out, "{line}")?;
            }
        }
        self.seq_base = self.seq_base.wrapping_add(self.seq_count);
        self.seq_count = 0;
        out.flush()
    }

    /// `--split`'s lines for the hops that changed this round.
    fn split(&mut self, out: &mut dyn Write, directory: &dyn Directory) -> io::Result<()> {
        let Some(info) = &self.info else { return Ok(()) };
        let shown = self.table.shown(self.first_ttl, info.target);
        let max = shown.end;
        while self.lines.len() > max {
            writeln!(out, "-{}", self.lines.len())?;
            self.lines.pop();
        }
        for at in 0..max {
            let hop = &self.table.hops[at];
            let line = match hop.addr {
                Some(addr) => {
                    let mut name = self
                        .dns
                        .then(|| directory.name(addr))
                        .flatten()
                        .map_or(addr.to_string(), |n| escape(&n).into());
                    if self.style.show_ips {
                        name = format!("{name} {addr}");
                    }
                    let ms = |letter| (hop.field(letter)) as i64;
                    let loss = (hop.loss() * 1000.0) as i64;
                    format!("{name} {loss} {} {} {} {} {}", hop.returned, hop.xmit, ms('B'), ms('A'), ms('W'))
                }
                None => "???".to_owned(),
            };
            if self.lines.get(at) != Some(&line) {
                writeln!(out, "{} {line}", at + 1)?;
                if self.lines.len() <= at {
                    self.lines.resize(at + 1, String::new());
                }
                self.lines[at] = line;
            }
        }
        out.flush()
    }
}

impl Renderer for MtrRenderer {
    fn header(&mut self, _out: &mut dyn Write, info: &TraceInfo) -> io::Result<()> {
        self.info.get_or_insert_with(|| info.clone());
        Ok(())
    }

    fn hop(&mut self, _out: &mut dyn Write, hop: &Hop, _directory: &dyn Directory) -> io::Result<()> {
        let Some(target) = self.info.as_ref().map(|info| info.target) else { return Ok(()) };
        for probe in hop.current().filter(|probe| probe.status.is_resolved()) {
            self.table.at(hop.ttl).xmit += 1;
            if let Some(answer) = probe.status.answer() {
                self.table.answer(hop.ttl, answer, target);
            }
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Write, _outcome: Option<Outcome>, directory: &dyn Directory) -> io::Result<()> {
        if self.format == MtrFormat::Split {
            self.split(out, directory)?;
        }
        Ok(())
    }

    fn close(&mut self, out: &mut dyn Write, directory: &dyn Directory) -> io::Result<()> {
        let Some(info) = &self.info else { return Ok(()) };
        let names = |addr| self.name(addr, directory);
        let asn = |addr| self.as_lookups.then(|| write::asn(directory.asns(addr)));
        let report = write::Report {
            table: &self.table,
            shown: self.table.shown(self.first_ttl, info.target),
            info,
            style: &self.style,
            rounds: self.rounds,
            mpls: self.mpls,
            name: &names,
            asn: &asn,
        };
        match self.format {
            MtrFormat::Report => report.text(out),
            MtrFormat::Json => report.json(out),
            MtrFormat::Csv => report.csv(out),
            MtrFormat::Xml => report.xml(out),
            MtrFormat::Raw | MtrFormat::Split => Ok(()),
        }?;
        out.flush()
    }

    fn per_probe(&self) -> bool {
        self.format == MtrFormat::Raw
    }

    fn event(&mut self, out: &mut dyn Write, event: &Event, directory: &dyn Directory) -> io::Result<()> {
        if self.format != MtrFormat::Raw {
            return match event {
                Event::RoundStarted { info, .. } => self.header(out, info),
                Event::HopComplete { hop, .. } => self.hop(out, hop, directory),
                Event::RoundDone { outcome, .. } => self.finish(out, *outcome, directory),
                Event::TraceDone { .. } => self.close(out, directory),
                _ => Ok(()),
            };
        }
        match event {
            Event::RoundStarted { info, .. } => self.header(out, info),
            Event::ProbeSent { probe, ttl, .. } => {
                self.table.at(*ttl).xmit += 1;
                let seq = self.seq(probe.id.0);
                self.pending.push((*ttl, format!("x {} {seq}", ttl.max(&1) - 1)));
                Ok(())
            }
            Event::Reply { probe, ttl, .. } => {
                if let Some(answer) = probe.status.answer() {
                    let seq = self.seq(probe.id.0);
                    self.raw_reply(*ttl, answer, seq, directory);
                }
                Ok(())
            }
            Event::RoundDone { .. } | Event::TraceDone { .. } => self.flush_raw(out),
            _ => Ok(()),
        }
    }
}
