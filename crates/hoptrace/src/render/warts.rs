//! scamper's binary format, warts(5), as CAIDA's Ark archives and scamper's tools (`sc_warts2json`,
//! `sc_analysis_dump`, `sc_tracediff`…) read it: a list record and a cycle start record before the first trace,
//! one trace record per trace (a `tracelb` record for a multipath discovery), a cycle stop record at the end. The
//! records are encoded by the `warts` crate (the tracelb record with a fix, in `warts_lb`).

use std::ffi::CString;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::time::SystemTime;

use hoptrace_core::Event;
use hoptrace_core::{Confidence, ErrorClass, Hop, Outcome, ProbeRecord, Protocol};
use warts::{Address, CycleStart, CycleStop, Flags, List, Object, TraceProbe, TraceStopReason, TraceType, Traceroute};

use super::warts_parts::{encode, micros, reply_codes, source, unix, CYCLE_ID, LIST_ID};
use super::{warts_lb, Directory, Renderer, TraceInfo};
use crate::settings::WartsTo;

/// scamper's hop flag: the reply's TTL is known.
const HOP_REPLY_TTL: u8 = 0x10;
/// scamper's hop flag: the reply is a TCP segment.
const HOP_TCP: u8 = 0x20;

/// The warts writer.
#[derive(Debug)]
pub struct Warts {
    mda: Option<Confidence>,
    attempts: u8,
    started: bool,
    info: Option<TraceInfo>,
    hops: Vec<Hop>,
}

impl Warts {
    /// A writer of traces probed `attempts` times per hop, or of a multipath discovery at `mda`'s confidence.
    pub fn new(mda: Option<Confidence>, attempts: u8) -> Self {
        Warts { mda, attempts, started: false, info: None, hops: Vec::new() }
    }

    /// The list and cycle start records, before the first trace.
    fn preamble(&self, info: &TraceInfo) -> io::Result<Vec<u8>> {
        let name = CString::new("hoptrace").unwrap_or_default();
        let list = List {
            length: 0,
            list_id: LIST_ID,
            list_id_human: 0,
            name: name.clone(),
            flags: Flags::default(),
            param_length: None,
            description: Some(name),
            monitor_name: None,
        };
        let cycle = CycleStart {
            length: 0,
            cycle_id: CYCLE_ID,
            list_id: LIST_ID,
            cycle_id_human: 1,
            start_time: unix(info.started).seconds,
            flags: Flags::default(),
            param_length: None,
            stop_time: None,
            hostname: None,
        };
        let mut bytes = encode(Object::List(list.finalize()))?;
        bytes.extend(encode(Object::CycleStart(cycle.finalize()))?);
        Ok(bytes)
    }

    /// The trace record of the hops collected.
    fn trace(&self, info: &TraceInfo, outcome: Option<Outcome>) -> io::Result<Vec<u8>> {
        let hops: Vec<TraceProbe> = self
            .hops
            .iter()
            .flat_map(|hop| hop.current().enumerate().filter_map(move |(index, probe)| trace_probe(hop, index, probe)))
            .collect();
        let (stop_reason, stop_data) = stop(outcome, &self.hops);
        let paris = info.method.is_paris();
        let trace = Traceroute {
            length: 0,
            flags: Flags::default(),
            param_length: None,
            list_id: Some(LIST_ID),
            cycle_id: Some(CYCLE_ID),
            src_addr_id: None,
            dst_addr_id: None,
            start_time: Some(unix(info.started)),
            stop_reason: Some(stop_reason),
            stop_data: Some(stop_data),
            trace_flags: None,
            attempts: Some(self.attempts),
            hop_limit: Some(info.max_ttl),
            trace_type: Some(match (info.method.protocol, paris) {
                (Protocol::Udp, true) => TraceType::UDPParis,
                (Protocol::Udp, false) => TraceType::UDP,
                (Protocol::Icmp, true) => TraceType::ICMPEchoParis,
                (Protocol::Icmp, false) => TraceType::ICMPEcho,
                (Protocol::Tcp, _) => TraceType::TCP,
            }),
            probe_size: Some(info.packet_len),
            src_port: None,
            dst_port: None,
            first_ttl: self.hops.first().map(|hop| hop.ttl),
            ip_tos: None,
            timeout_sec: None,
            allowed_loops: None,
            hops_probed: Some(self.hops.last().map_or(0, |hop| u16::from(hop.ttl))),
            gap_limit: None,
            gap_limit_action: None,
            loop_action: None,
            probes_sent: Some(self.hops.iter().map(|hop| hop.current().count()).sum::<usize>().min(65_535) as u16),
            interval_csec: None,
            confidence_level: None,
            src_addr: Some(source(info)),
            dst_addr: Some(Address::from(info.target)),
            user_id: None,
            ip_offset: None,
            router_addr: None,
            hop_count: 0,
            hops,
            eof: 0,
        };
        encode(Object::Traceroute(trace.finalize()))
    }
}

impl Renderer for Warts {
    fn header(&mut self, out: &mut dyn Write, info: &TraceInfo) -> io::Result<()> {
        if !self.started {
            self.started = true;
            out.write_all(&self.preamble(info)?)?;
        }
        self.info = Some(info.clone());
        self.hops.clear();
        Ok(())
    }

    fn hop(&mut self, _out: &mut dyn Write, hop: &Hop, _directory: &dyn Directory) -> io::Result<()> {
        self.hops.push(hop.clone());
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Write, outcome: Option<Outcome>, _directory: &dyn Directory) -> io::Result<()> {
        let Some(info) = self.info.take() else { return Ok(()) };
        let record = match self.mda {
            Some(confidence) => warts_lb::record(&info, &self.hops, confidence, self.attempts)?,
            None => self.trace(&info, outcome)?,
        };
        self.hops.clear();
        out.write_all(&record)?;
        out.flush()
    }

    fn close(&mut self, out: &mut dyn Write, _directory: &dyn Directory) -> io::Result<()> {
        if !self.started {
            return Ok(());
        }
        let stop = CycleStop {
            length: 0,
            cycle_id: CYCLE_ID,
            stop_time: unix(SystemTime::now()).seconds,
            flags: Flags::default(),
        };
        out.write_all(&encode(Object::CycleStop(stop.finalize()))?)?;
        out.flush()
    }
}

/// Another renderer's output on stdout, and warts in a file beside it (`--warts=FILE`).
pub struct WartsBeside {
    other: Box<dyn Renderer>,
    warts: Warts,
    file: Result<BufWriter<File>, (io::ErrorKind, String)>,
}

/// The file, or why it could not be created.
fn file(file: &mut Result<BufWriter<File>, (io::ErrorKind, String)>) -> io::Result<&mut BufWriter<File>> {
    file.as_mut().map_err(|(kind, message)| io::Error::new(*kind, message.clone()))
}

impl WartsBeside {
    /// `other` on stdout, `warts` into `path`.
    pub fn new(other: Box<dyn Renderer>, warts: Warts, path: &std::path::Path) -> Self {
        let file = File::create(path)
            .map(BufWriter::new)
            .map_err(|error| (error.kind(), format!("cannot write {}: {error}", path.display())));
        WartsBeside { other, warts, file }
    }
}

impl Renderer for WartsBeside {
    fn target(&mut self, index: usize) {
        self.other.target(index);
    }
    fn header(&mut self, out: &mut dyn Write, info: &TraceInfo) -> io::Result<()> {
        self.other.header(out, info)?;
        let file = file(&mut self.file)?;
        self.warts.header(file, info)
    }
    fn hop(&mut self, out: &mut dyn Write, hop: &Hop, directory: &dyn Directory) -> io::Result<()> {
        self.other.hop(out, hop, directory)?;
        self.warts.hops.push(hop.clone());
        Ok(())
    }
    fn finish(&mut self, out: &mut dyn Write, outcome: Option<Outcome>, directory: &dyn Directory) -> io::Result<()> {
        self.other.finish(out, outcome, directory)?;
        let file = file(&mut self.file)?;
        self.warts.finish(file, outcome, directory)
    }
    fn close(&mut self, out: &mut dyn Write, directory: &dyn Directory) -> io::Result<()> {
        self.other.close(out, directory)?;
        self.warts.close(file(&mut self.file)?, directory)
    }
    fn per_probe(&self) -> bool {
        self.other.per_probe()
    }
    fn event(&mut self, out: &mut dyn Write, event: &Event, directory: &dyn Directory) -> io::Result<()> {
        self.other.event(out, event, directory)?;
        let file = file(&mut self.file)?;
        match event {
            Event::RoundStarted { info, .. } => self.warts.header(file, info),
            Event::HopComplete { hop, .. } => self.warts.hop(file, hop, directory),
            Event::RoundDone { outcome, .. } => self.warts.finish(file, *outcome, directory),
            Event::TraceDone { .. } => self.warts.close(file, directory),
            _ => Ok(()),
        }
    }
}

/// `other`, with warts written as `to` says: instead of it, or into a file beside it.
pub fn with_warts(other: Box<dyn Renderer>, to: Option<&WartsTo>, warts: impl FnOnce() -> Warts) -> Box<dyn Renderer> {
    match to {
        None => other,
        Some(WartsTo::Stdout) => Box::new(warts()),
        Some(WartsTo::File(path)) => Box::new(WartsBeside::new(other, warts(), path)),
    }
}

/// The hop record of the `index`-th probe of `hop`, if it was answered.
fn trace_probe(hop: &Hop, index: usize, probe: &ProbeRecord) -> Option<TraceProbe> {
    let answer = probe.status.answer()?;
    let reply = &answer.reply;
    let error = answer.icmp_error();
    let (icmp, tcp_flags) = reply_codes(reply);
    let mut flags = if reply.ttl.is_some() { HOP_REPLY_TTL } else { 0 };
    if tcp_flags.is_some() {
        flags |= HOP_TCP;
    }
    let mtu = error.filter(|error| matches!(error.class, ErrorClass::PacketTooBig)).and_then(|error| error.mtu);
    Some(
        TraceProbe {
            flags: Flags::default(),
            param_length: None,
            addr_id: None,
            probe_ttl: Some(hop.ttl),
            reply_ttl: reply.ttl,
            hop_flags: Some(flags),
            probe_id: Some(index.min(255) as u8),
            rtt_usec: Some(micros(answer.rtt)),
            icmp_type: icmp.map(|(kind, _)| kind),
            icmp_code: icmp.map(|(_, code)| code),
            probe_size: Some(probe.size),
            reply_size: reply.size,
            reply_ip_id: None,
            reply_ip_tos: None,
            next_hop_mtu: mtu.map(|mtu| mtu.min(65_535) as u16),
            quoted_length: None,
            quoted_ttl: error.and_then(|error| error.quote.ttl),
            reply_tcp_flags: tcp_flags,
            quoted_tos: None,
            icmp_extensions_length: None,
            icmp_extensions: Vec::new(),
            addr: Some(Address::from(reply.from)),
            tx: None,
        }
        .finalize(),
    )
}

/// scamper's stop reason and its datum.
fn stop(outcome: Option<Outcome>, hops: &[Hop]) -> (TraceStopReason, u8) {
    match outcome {
        Some(Outcome::Reached { .. }) => (TraceStopReason::Completed, 0),
        Some(Outcome::Unreachable { ttl }) => {
            let code = hops
                .iter()
                .filter(|hop| hop.ttl == ttl)
                .flat_map(|hop| hop.current())
                .find_map(|probe| probe.status.answer()?.icmp_error().map(|error| error.icmp_code));
            (TraceStopReason::Unreach, code.unwrap_or(0))
        }
        Some(Outcome::MaxTtl) => (TraceStopReason::HopLimit, 0),
        Some(Outcome::GapLimit { ttl }) => (TraceStopReason::GapLimit, ttl),
        Some(_) => (TraceStopReason::None, 0),
        None => (TraceStopReason::Halted, 0),
    }
}
