//! A multipath discovery as scamper's `tracelb` record: every interface found a node, every link (two interfaces
//! that answered the same flow at consecutive TTLs) with the probes that found it. The `warts` crate encodes the
//! parts, but leaves the probe sets out of the record's length, so scamper's readers skip the record: the length is
//! set here, over the encoded bytes. As in scamper's own records, the first hop's probes (on no link) are not kept,
//! nor a probe whose flow was not seen at the hop before when that hop has several interfaces.

use core::net::IpAddr;
use core::time::Duration;
use std::io;
use std::time::Instant;

use hoptrace_core::mda::links;
use hoptrace_core::{Confidence, Hop, ProbeRecord, Protocol};
use warts::{
    Address, Flags, MultipathTraceLink, MultipathTraceNode, MultipathTraceProbe, MultipathTraceProbeSet,
    MultipathTraceReply, MultipathTraceroute, Object,
};

use super::warts_parts::{encode, epoch, micros, reply_codes, source, unix, CYCLE_ID, LIST_ID};
use super::TraceInfo;

/// scamper's tracelb reply flags: the reply's TTL is known; the reply is a TCP segment.
const REPLY_TTL: u8 = 0x01;
const REPLY_TCP: u8 = 0x02;

/// The tracelb record of the discovery `hops` made at `confidence`.
pub(super) fn record(info: &TraceInfo, hops: &[Hop], confidence: Confidence, attempts: u8) -> io::Result<Vec<u8>> {
    let mut nodes: Vec<IpAddr> = Vec::new();
    for addr in hops.iter().flat_map(Hop::responders) {
        if !nodes.contains(&addr) {
            nodes.push(addr);
        }
    }
    let index = |addr: IpAddr| nodes.iter().position(|&node| node == addr).unwrap_or(0) as u16;
    let clock = &Clock { epoch: epoch(hops).unwrap_or_else(Instant::now), info };
    let mut found: Vec<(u16, u16, Vec<MultipathTraceProbe>)> = hops
        .windows(2)
        .flat_map(|pair| {
            let (near, far) = (&pair[0], &pair[1]);
            links(near, far).into_iter().map(move |(from, to)| {
                let probes = far
                    .current()
                    .filter(|probe| probe.responder() == Some(to))
                    // Its flow crossed `from`: `from` answered it at the near hop, or is the only interface there.
                    .filter(|probe| {
                        let crossed = |p: &ProbeRecord| p.flow == probe.flow && p.responder() == Some(from);
                        near.current().any(crossed) || near.responders() == [from]
                    })
                    .filter_map(|probe| clock.probe(far.ttl, probe))
                    .collect();
                (from, to, probes)
            })
        })
        .map(|(from, to, probes)| (index(from), index(to), probes))
        .collect();
    found.sort_by_key(|(from, to, _)| (*from, *to));
    let nodes: Vec<MultipathTraceNode> = nodes
        .iter()
        .enumerate()
        .map(|(i, &addr)| {
            let linkc = found.iter().filter(|(from, ..)| usize::from(*from) == i).count() as u16;
            MultipathTraceNode {
                flags: Flags::default(),
                param_length: None,
                addr_id: None,
                node_flags: Some(0),
                link_count: Some(linkc),
                quoted_ttl: None,
                addr: Some(Address::from(addr)),
                name: None,
            }
            .finalize()
        })
        .collect();
    let links = found
        .into_iter()
        .map(|(from, to, probes)| {
            let set = MultipathTraceProbeSet {
                flags: Flags::default(),
                param_length: None,
                probe_count: Some(probes.len() as u16),
                probes,
            };
            MultipathTraceLink {
                flags: Flags::default(),
                param_length: None,
                from: Some(from),
                to: Some(to),
                probe_set_count: None,
                probe_sets: vec![set.finalize()],
            }
            .finalize()
        })
        .collect();
    let (spent, budget, _) = super::mda::budgets(confidence, hops);
    let trace = MultipathTraceroute {
        length: 0,
        flags: Flags::default(),
        param_length: None,
        list_id: Some(LIST_ID),
        cycle_id: Some(CYCLE_ID),
        src_addr_id: None,
        dst_addr_id: None,
        start_time: Some(unix(info.started)),
        src_port: None,
        dst_port: None,
        probe_size: Some(info.packet_len),
        // scamper's udp-dport, icmp-echo and tcp-sport: the field hoptrace varies per flow.
        type_: Some(match info.method.protocol {
            Protocol::Udp => 1,
            Protocol::Icmp => 2,
            Protocol::Tcp => 4,
        }),
        first_hop: hops.first().map(|hop| hop.ttl),
        wait_timeout: None,
        wait_probe: None,
        attempts: Some(attempts),
        confidence: Some(confidence.percent() as u8),
        ip_tos: None,
        node_count: None,
        link_count: None,
        probe_count: Some(spent as u32),
        probe_count_max: Some(budget as u32),
        gap_limit: None,
        src_addr: Some(source(info)),
        dst_addr: Some(Address::from(info.target)),
        user_id: None,
        flags2: None,
        router_addr: None,
        nodes,
        links,
    };
    let mut bytes = encode(Object::MultipathTraceroute(trace.finalize()))?;
    // The record's length: all that follows its 8-byte header (magic, type, length).
    let length = u32::try_from(bytes.len().saturating_sub(8)).unwrap_or(u32::MAX);
    if let Some(field) = bytes.get_mut(4..8) {
        field.copy_from_slice(&length.to_be_bytes());
    }
    Ok(bytes)
}

/// Wall-clock times of probes: the trace's start plus the time since its first probe.
struct Clock<'a> {
    epoch: Instant,
    info: &'a TraceInfo,
}

impl Clock<'_> {
    fn micros(&self, at: Instant) -> u64 {
        let start = unix(self.info.started);
        let since = at.saturating_duration_since(self.epoch);
        u64::from(start.seconds) * 1_000_000 + u64::from(start.microseconds) + since.as_micros() as u64
    }

    /// The record of an answered probe sent with `ttl`.
    fn probe(&self, ttl: u8, probe: &ProbeRecord) -> Option<MultipathTraceProbe> {
        let answer = probe.status.answer()?;
        let reply = &answer.reply;
        let tx = self.micros(probe.sent_at);
        let rx = tx + u64::from(micros(answer.rtt));
        let error = answer.icmp_error();
        let (icmp, tcp) = reply_codes(reply);
        let mut flags = if reply.ttl.is_some() { REPLY_TTL } else { 0 };
        if tcp.is_some() {
            flags |= REPLY_TCP;
        }
        let reply = MultipathTraceReply {
            flags: Flags::default(),
            param_length: None,
            rx: Some(timeval(rx)),
            ip_id: None,
            ttl: reply.ttl,
            reply_flags: Some(flags),
            icmp_type: icmp.map(|(kind, _)| kind),
            icmp_code: icmp.map(|(_, code)| code),
            tcp_flags: tcp,
            icmp_extensions_length: None,
            icmp_extensions: Vec::new(),
            quoted_ttl: error.and_then(|error| error.quote.ttl),
            quoted_tos: None,
            addr_id: None,
            addr: Some(Address::from(reply.from)),
        };
        Some(
            MultipathTraceProbe {
                flags: Flags::default(),
                param_length: None,
                tx: Some(timeval(tx)),
                flow_id: Some(probe.flow),
                ttl: Some(ttl),
                attempts: Some(0),
                replies_count: Some(1),
                replies: vec![reply.finalize()],
            }
            .finalize(),
        )
    }
}

fn timeval(micros: u64) -> warts::Timeval {
    let time = Duration::from_micros(micros);
    warts::Timeval { seconds: time.as_secs().min(u64::from(u32::MAX)) as u32, microseconds: time.subsec_micros() }
}
