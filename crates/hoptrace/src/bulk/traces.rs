//! The rows a `--targets` run collected, as traces: engine hops rendered by the single-trace renderers.

use core::net::IpAddr;
use core::time::Duration;
use std::io::{self, Write};
use std::time::{Instant, SystemTime};

use engine::bulk::{Protocol, Row};
use engine::{
    Answer, Hop, IcmpError, Method, Outcome, ProbeId, ProbeRecord, ProbeStatus, Quote, QuotedProbe, Reply, ReplyKind,
};

use engine::mda::Confidence;

use super::targets::{Passes, Rows, Target};
use crate::output::{
    with_warts, Directory, DnsDirectory, GraphFormat, MdaGraph, MdaText, Renderer, RipeJson, Sink as Output, TraceInfo,
    TracerouteText, Warts,
};
use crate::settings::{Naming, WartsTo};

/// The reply of a row, as the engine would have decoded it.
fn reply(row: &Row) -> Option<Reply> {
    let unmap = |addr: core::net::Ipv6Addr| IpAddr::V6(addr).to_canonical();
    let ipv6 = row.reply_protocol == 58;
    let kind = match (ipv6, row.reply_icmp_type) {
        (false, 0) | (true, 129) => ReplyKind::EchoReply { ident: row.probe_src_port, seq: 0, tag: None },
        (_, icmp_type) => {
            let probe = if row.probe_protocol == 17 {
                QuotedProbe::Udp {
                    src_port: row.probe_src_port,
                    dst_port: row.probe_dst_port,
                    checksum: None,
                    tag: None,
                }
            } else {
                QuotedProbe::Icmp { ident: row.probe_src_port, seq: 0, checksum: None, tag: None }
            };
            ReplyKind::IcmpError(IcmpError {
                class: engine::decode::error_class(ipv6, icmp_type, row.reply_icmp_code)?,
                icmp_type,
                icmp_code: row.reply_icmp_code,
                mtu: None,
                quote: Quote {
                    src: Some(unmap(row.probe_src_addr)),
                    dst: unmap(row.probe_dst_addr),
                    ttl: Some(row.quoted_ttl),
                    ip_id: None,
                    probe,
                },
                mpls: row.reply_mpls_labels.clone(),
            })
        }
    };
    // The engine counts whole IP packets; caracal's IPv6 size is the payload's.
    let size = if ipv6 { row.reply_size.saturating_add(40) } else { row.reply_size };
    Some(Reply { from: unmap(row.reply_src_addr), ttl: Some(row.reply_ttl), size: Some(size), kind })
}

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

    /// Writes one trace per target to `out`, stopping at the first write error.
    pub(super) fn print(
        &mut self,
        passes: &Passes<'_>,
        rows: &Rows,
        flows: &[u16],
        sources: [Option<IpAddr>; 2],
        started: SystemTime,
        out: &mut Output,
    ) {
        let directory = DnsDirectory::new(true, false);
        let head = Head { targets: passes.targets, max_ttl: passes.max_ttl, protocol: passes.protocol, started };
        out.write(|out| {
            let mut out = io::BufWriter::new(out);
            self.write(&mut out, &directory, &head, passes, rows, flows, sources)?;
            out.flush()
        });
    }

    /// Writes one trace per target (in the order given).
    #[allow(clippy::too_many_arguments)]
    fn write(
        &mut self,
        out: &mut dyn Write,
        directory: &dyn Directory,
        head: &Head<'_>,
        passes: &Passes<'_>,
        rows: &Rows,
        flows: &[u16],
        sources: [Option<IpAddr>; 2],
    ) -> io::Result<()> {
        let renderer = self.renderer.as_mut();
        for (index, target) in passes.targets.iter().enumerate() {
            if index > 0 || !self.started {
                renderer.header(out, &head.info(target, sources[usize::from(target.addr.is_ipv6())]))?;
            }
            let end = passes.end(index);
            for hop in hops(passes, rows, flows, index, end) {
                renderer.hop(out, &hop, directory)?;
            }
            let outcome = outcome(passes, rows, index, end);
            renderer.finish(out, Some(outcome), directory)?;
            if let (Outcome::GapLimit { ttl }, true) = (outcome, self.text && passes.mda.is_none()) {
                // After the trace it is about, as a single trace's.
                out.flush()?;
                let farthest = passes.progress.farthest(index);
                let _ = writeln!(io::stderr(), "{}", gap_note(&target.host, ttl, farthest, passes.max_ttl));
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
        let method =
            Method::paris(if self.protocol == Protocol::Udp { engine::Protocol::Udp } else { engine::Protocol::Icmp });
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

/// How the trace of `target` ended, at `end`.
fn outcome(passes: &Passes<'_>, rows: &Rows, index: usize, end: u8) -> Outcome {
    let addr = passes.targets[index].addr;
    match passes.progress.reached(index) {
        Some(ttl) => {
            let row = rows.get(&(index as u32, ttl, 0));
            let from_target = row.is_some_and(|row| IpAddr::V6(row.reply_src_addr).to_canonical() == addr);
            let answered = row.is_some_and(|row| matches!(row.reply_icmp_type, 0 | 129) || from_target);
            if answered || row.is_some_and(port_unreachable) {
                Outcome::Reached { ttl }
            } else {
                Outcome::Unreachable { ttl }
            }
        }
        None if end >= passes.max_ttl => Outcome::MaxTtl,
        None => Outcome::GapLimit { ttl: end },
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

/// The hops of `target` up to `end`, each with the flows `flows` says it was probed in (at least one), answered
/// as `rows` has it.
pub(super) fn hops(passes: &Passes<'_>, rows: &Rows, flows: &[u16], target: usize, end: u8) -> Vec<Hop> {
    let ipv6 = passes.targets[target].addr.is_ipv6();
    let now = Instant::now();
    (1..=end)
        .map(|ttl| {
            let sent = flows.get(target * usize::from(passes.max_ttl) + usize::from(ttl) - 1).copied().unwrap_or(1);
            let probes = (0..sent.max(1))
                .map(|flow| {
                    let answer = rows.get(&(target as u32, ttl, flow)).and_then(|row| {
                        let rtt = Duration::from_micros(u64::from(row.rtt) * 100);
                        reply(row).map(|reply| Answer { rtt, reply, quote_rewritten: false, unverified: false })
                    });
                    let status = answer.map_or(ProbeStatus::TimedOut, ProbeStatus::Answered);
                    let id = ProbeId(u32::from(ttl) << 16 | u32::from(flow));
                    let size = probe_len(ipv6, ttl);
                    ProbeRecord { id, sent_at: now, size, flow, status, resent: None }
                })
                .collect();
            Hop { ttl, probes }
        })
        .collect()
}

/// A port unreachable: the destination itself refused a UDP probe.
fn port_unreachable(row: &Row) -> bool {
    matches!((row.reply_protocol, row.reply_icmp_type, row.reply_icmp_code), (1, 3, 3) | (58, 1, 4))
}

/// The size of a probe of TTL `ttl`: IP and transport headers, the two tweak bytes, `ttl` bytes.
fn probe_len(ipv6: bool, ttl: u8) -> u16 {
    let headers = if ipv6 { 50 } else { 30 };
    headers + u16::from(ttl)
}
