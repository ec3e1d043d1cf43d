//! One JSON document per trace, on one line, in the RIPE Atlas traceroute result format (what RIPE Atlas probes
//! report, and what parsers such as `ripe.atlas.sagan` read). What that format has no field for — names, AS
//! numbers, the kind of reply, hops back — is under `hoptrace`, at the top and in each reply.

use std::io::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use hoptrace_core::{Answer, ErrorClass, Hop, IcmpError, MplsLabel, Outcome, ProbeStatus, Protocol, ReplyKind};
use serde::Serialize;

use super::view::rounded;
use super::{hops_back, Directory, Renderer, TraceInfo};
use hoptrace_core::mark;

/// The firmware version written in `fw`: parsers take 5000 and above for today's result format.
const FIRMWARE: u32 = 5020;

/// The RIPE Atlas JSON renderer.
#[derive(Debug, Default)]
pub struct RipeJson {
    as_lookups: bool,
    info: Option<TraceInfo>,
    hops: Vec<HopJson>,
}

impl RipeJson {
    /// A renderer that adds AS numbers if `as_lookups`.
    pub fn new(as_lookups: bool) -> Self {
        RipeJson { as_lookups, ..RipeJson::default() }
    }

    /// The trace's document, the hops shown since its header taken; `None` before a header.
    fn document(&mut self, outcome: Option<Outcome>) -> Option<Document> {
        let info = self.info.as_ref()?;
        Some(Document {
            af: if info.target.is_ipv6() { 6 } else { 4 },
            dst_addr: info.target.to_string(),
            dst_name: info.host.clone(),
            src_addr: info.source.map(|source| source.to_string()),
            proto: match info.method.protocol {
                Protocol::Udp => "UDP",
                Protocol::Icmp => "ICMP",
                Protocol::Tcp => "TCP",
            },
            // RIPE's Paris variation, 1-based; 0 for classic probes.
            paris_id: if info.method.is_paris() { info.flow.saturating_add(1) } else { 0 },
            // RIPE counts the payload only.
            size: info.packet_len.saturating_sub(payload_offset(info)),
            timestamp: unix_seconds(info.started),
            endtime: unix_seconds(SystemTime::now()).max(unix_seconds(info.started)),
            fw: FIRMWARE,
            msm_id: 0,
            prb_id: 0,
            msm_name: "Traceroute",
            kind: "traceroute",
            result: core::mem::take(&mut self.hops),
            hoptrace: TraceExtras { version: env!("CARGO_PKG_VERSION"), outcome: outcome_name(outcome) },
        })
    }

    /// The trace's document as a JSON value, for writers that add to it (`--mda --json`).
    pub(crate) fn document_value(&mut self, outcome: Option<Outcome>) -> Option<serde_json::Value> {
        self.document(outcome).and_then(|document| serde_json::to_value(document).ok())
    }

    fn packet(&self, answer: &Answer, protocol: Protocol, directory: &dyn Directory) -> Packet {
        let from = answer.from();
        let error = answer.icmp_error();
        let quoted_ttl = error.and_then(|error| error.quote.ttl).filter(|&ttl| ttl != 1);
        Packet::Reply(Box::new(ReplyJson {
            from: from.to_string(),
            rtt: rounded(answer.rtt.as_secs_f64() * 1000.0),
            size: answer.reply.size,
            ttl: answer.reply.ttl,
            err: error.and_then(|error| err(error, from.is_ipv6(), protocol)),
            flags: match &answer.reply.kind {
                ReplyKind::Tcp(tcp) if tcp.reset => Some("RA"),
                ReplyKind::Tcp(_) => Some("SA"),
                _ => None,
            },
            mtu: error.filter(|error| error.class == ErrorClass::PacketTooBig).and_then(|error| error.mtu),
            ittl: quoted_ttl,
            icmpext: error.filter(|error| !error.mpls.is_empty()).map(|error| IcmpExt::mpls(&error.mpls)),
            hoptrace: ReplyExtras {
                kind: kind(&answer.reply.kind),
                mark: mark(answer),
                name: directory.name(from),
                asns: self.as_lookups.then(|| directory.asns(from).unwrap_or_default()),
                hops_back: answer.reply.ttl.map(hops_back),
                nat: answer.quote_rewritten,
            },
        }))
    }
}

impl Renderer for RipeJson {
    fn header(&mut self, _out: &mut dyn Write, info: &TraceInfo) -> io::Result<()> {
        self.info = Some(info.clone());
        self.hops.clear();
        Ok(())
    }

    fn hop(&mut self, _out: &mut dyn Write, hop: &Hop, directory: &dyn Directory) -> io::Result<()> {
        let Some(protocol) = self.info.as_ref().map(|info| info.method.protocol) else { return Ok(()) };
        let result = hop
            .current()
            .map(|probe| match probe.status.answer() {
                Some(answer) => self.packet(answer, protocol, directory),
                None if probe.status == ProbeStatus::SendFailed => {
                    Packet::NotSent { x: "*", hoptrace: NotSentExtras { send_failed: true } }
                }
                None => Packet::Timeout { x: "*" },
            })
            .collect();
        self.hops.push(HopJson { hop: hop.ttl, result });
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Write, outcome: Option<Outcome>, _directory: &dyn Directory) -> io::Result<()> {
        let Some(document) = self.document(outcome) else { return Ok(()) };
        serde_json::to_writer(&mut *out, &document)?;
        writeln!(out)?;
        out.flush()
    }
}

fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs())
}

/// RIPE's `err`, as RIPE Atlas probes write it: for a Destination Unreachable, `N`, `H`, `P`, `A`
/// (administratively prohibited: code 13 in IPv4, 1 in IPv6) or `h` (IPv6's beyond scope), else the code as a
/// number (IPv4's 9 and 10 too). None for a port unreachable (the destination's answer to UDP and TCP probes;
/// RIPE writes `p` only to an IPv4 ICMP probe), for Fragmentation Needed and Packet Too Big (which have `mtu`)
/// and for Time Exceeded.
fn err(error: &IcmpError, v6: bool, protocol: Protocol) -> Option<ErrorCode> {
    let ErrorClass::Unreachable(_) = error.class else { return None };
    Some(match (v6, error.icmp_code) {
        (_, 0) => ErrorCode::Letter("N"),
        (false, 1) | (true, 3) => ErrorCode::Letter("H"),
        (false, 2) => ErrorCode::Letter("P"),
        (false, 3) if protocol == Protocol::Icmp => ErrorCode::Letter("p"),
        (false, 3 | 4) | (true, 4) => return None,
        (false, 13) | (true, 1) => ErrorCode::Letter("A"),
        (true, 2) => ErrorCode::Letter("h"),
        (_, code) => ErrorCode::Code(code),
    })
}

fn kind(kind: &ReplyKind) -> &'static str {
    match kind {
        ReplyKind::IcmpError(error) => match error.class {
            ErrorClass::TimeExceeded => "time-exceeded",
            ErrorClass::Unreachable(_) => "destination-unreachable",
            ErrorClass::PacketTooBig => "packet-too-big",
            _ => "icmp-error",
        },
        ReplyKind::EchoReply { .. } => "echo-reply",
        ReplyKind::Tcp(answer) if answer.reset => "tcp-reset",
        ReplyKind::Tcp(_) => "tcp-syn-ack",
        _ => "other",
    }
}

fn outcome_name(outcome: Option<Outcome>) -> &'static str {
    match outcome {
        Some(Outcome::Reached { .. }) => "reached",
        Some(Outcome::Unreachable { .. }) => "unreachable",
        Some(Outcome::MaxTtl) => "max-ttl",
        Some(Outcome::GapLimit { .. }) => "gap-limit",
        Some(_) => "other",
        None => "interrupted",
    }
}

#[derive(Serialize)]
struct Document {
    af: u8,
    dst_addr: String,
    dst_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    src_addr: Option<String>,
    proto: &'static str,
    paris_id: u16,
    size: u16,
    timestamp: u64,
    endtime: u64,
    fw: u32,
    msm_id: u32,
    prb_id: u32,
    msm_name: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    result: Vec<HopJson>,
    hoptrace: TraceExtras,
}

#[derive(Serialize)]
struct TraceExtras {
    version: &'static str,
    /// `reached`, `unreachable`, `max-ttl`, `gap-limit` or `interrupted`.
    outcome: &'static str,
}

#[derive(Debug, Serialize)]
struct HopJson {
    hop: u8,
    result: Vec<Packet>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Packet {
    Reply(Box<ReplyJson>),
    Timeout {
        x: &'static str,
    },
    /// A probe the system refused to send: no reply, as a timeout, and said why not.
    NotSent {
        x: &'static str,
        hoptrace: NotSentExtras,
    },
}

#[derive(Debug, Serialize)]
struct NotSentExtras {
    send_failed: bool,
}

#[derive(Debug, Serialize)]
struct ReplyJson {
    from: String,
    rtt: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ttl: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    err: Option<ErrorCode>,
    /// A TCP answer's flags, as RIPE writes them: `SA` (SYN-ACK) or `RA` (reset, which answers a SYN with ACK).
    #[serde(skip_serializing_if = "Option::is_none")]
    flags: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mtu: Option<u32>,
    /// The TTL the router saw in the probe, when not 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    ittl: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    icmpext: Option<IcmpExt>,
    hoptrace: ReplyExtras,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum ErrorCode {
    Letter(&'static str),
    Code(u8),
}

#[derive(Debug, Serialize)]
struct ReplyExtras {
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    mark: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    asns: Option<Vec<u32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hops_back: Option<u8>,
    /// The quote shows the probe rewritten on the way (a NAT that left it so).
    #[serde(skip_serializing_if = "core::ops::Not::not")]
    nat: bool,
}

/// Bytes of IP and transport header in front of a probe's payload.
fn payload_offset(info: &TraceInfo) -> u16 {
    info.method.header_len(info.target.is_ipv6())
}

/// RIPE's `icmpext`: RFC 4884 extension objects; hoptrace knows MPLS label stacks (class 1, type 1).
#[derive(Debug, Serialize)]
struct IcmpExt {
    version: u8,
    rfc4884: u8,
    obj: Vec<ExtObject>,
}

impl IcmpExt {
    fn mpls(labels: &[MplsLabel]) -> Self {
        let mpls = labels
            .iter()
            .map(|label| MplsJson { exp: label.tc, label: label.label, s: u8::from(label.bottom), ttl: label.ttl })
            .collect();
        IcmpExt { version: 2, rfc4884: 1, obj: vec![ExtObject { class: 1, kind: 1, mpls }] }
    }
}

#[derive(Debug, Serialize)]
struct ExtObject {
    class: u8,
    #[serde(rename = "type")]
    kind: u8,
    mpls: Vec<MplsJson>,
}

#[derive(Debug, Serialize)]
struct MplsJson {
    exp: u8,
    label: u32,
    s: u8,
    ttl: u8,
}
