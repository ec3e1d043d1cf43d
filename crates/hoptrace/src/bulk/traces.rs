//! The rows a `--targets` run collected, as traces: engine hops rendered by the single-trace renderers.

use core::net::IpAddr;
use core::time::Duration;
use std::io::{self, Write};
use std::time::{Instant, SystemTime};

use engine::bulk::{Protocol, Row};
use engine::{
    Answer, Hop, IcmpError, Method, Outcome, ProbeId, ProbeRecord, ProbeStatus, Quote, QuotedProbe, Reply, ReplyKind,
};

use super::targets::{Passes, Rows, Target};
use crate::output::{
    with_warts, Directory, DnsDirectory, GraphFormat, MdaGraph, MdaText, Renderer, RipeJson, TraceInfo, TracerouteText,
    Warts,
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

/// Prints one trace per target on stdout: a JSON line in `--json`'s schema, or traceroute's text with `text`. A
/// closed stdout ends the output quietly, as a pipe's reader intends.
pub(super) fn print(
    text: bool,
    warts: Option<&std::path::Path>,
    passes: &Passes<'_>,
    rows: &Rows,
    flows: &[u16],
    sources: [Option<IpAddr>; 2],
    started: SystemTime,
) {
    let renderer: Box<dyn Renderer> = match (passes.mda, text) {
        (Some(confidence), true) => Box::new(MdaText::new(Naming::Numeric, false, confidence)),
        (Some(confidence), false) => Box::new(MdaGraph::new(GraphFormat::Json, confidence)),
        (None, true) => Box::new(TracerouteText::new(Naming::Numeric)),
        (None, false) => Box::new(RipeJson::new(false)),
    };
    let to = warts.map(|path| if path == "-" { WartsTo::Stdout } else { WartsTo::File(path.to_owned()) });
    let mut renderer = with_warts(renderer, to.as_ref(), || Warts::new(passes.mda, 1));
    let directory = DnsDirectory::new(true, false);
    let mut out = io::BufWriter::new(io::stdout().lock());
    let written = write(&mut out, renderer.as_mut(), &directory, passes, rows, flows, sources, started);
    if let Err(error) = written.and_then(|()| out.flush()) {
        if error.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("hoptrace: {error}");
        }
    }
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
                        reply(row).map(|reply| Answer { rtt, reply, quote_rewritten: false })
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

/// Writes one trace per target (in the order given) with `renderer`.
#[allow(clippy::too_many_arguments)]
fn write(
    out: &mut dyn Write,
    renderer: &mut dyn Renderer,
    directory: &dyn Directory,
    passes: &Passes<'_>,
    rows: &Rows,
    flows: &[u16],
    sources: [Option<IpAddr>; 2],
    started: SystemTime,
) -> io::Result<()> {
    let method =
        Method::paris(if passes.protocol == Protocol::Udp { engine::Protocol::Udp } else { engine::Protocol::Icmp });
    for (index, Target { host, addr }) in passes.targets.iter().enumerate() {
        let ipv6 = addr.is_ipv6();
        let info = TraceInfo {
            host: host.clone(),
            target: *addr,
            source: sources[usize::from(ipv6)],
            method,
            flow: 0,
            max_ttl: passes.max_ttl,
            packet_len: probe_len(ipv6, 1),
            started,
        };
        renderer.header(out, &info)?;
        let end = passes.end(index);
        for hop in hops(passes, rows, flows, index, end) {
            renderer.hop(out, &hop, directory)?;
        }
        let outcome = match passes.progress.reached(index) {
            Some(ttl) => {
                let row = rows.get(&(index as u32, ttl, 0));
                let from_target = row.is_some_and(|row| IpAddr::V6(row.reply_src_addr).to_canonical() == *addr);
                let answered = row.is_some_and(|row| matches!(row.reply_icmp_type, 0 | 129) || from_target);
                if answered || row.is_some_and(port_unreachable) {
                    Outcome::Reached { ttl }
                } else {
                    Outcome::Unreachable { ttl }
                }
            }
            None if end >= passes.max_ttl => Outcome::MaxTtl,
            None => Outcome::GapLimit { ttl: end },
        };
        renderer.finish(out, Some(outcome), directory)?;
    }
    renderer.close(out, directory)
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
