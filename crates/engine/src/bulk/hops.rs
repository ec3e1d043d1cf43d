//! What a `--targets` run's rows say as traces: the engine's hops and outcome per target, as the single-trace
//! renderers take them.

use core::net::IpAddr;
use core::time::Duration;

use super::planner::Planner;
use super::row::Row;
use crate::{Answer, Hop, IcmpError, Outcome, ProbeId, ProbeRecord, ProbeStatus, Quote, QuotedProbe, Reply, ReplyKind};

/// The reply of a row, as the engine would have decoded it.
pub fn reply(row: &Row) -> Option<Reply> {
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
                class: crate::decode::error_class(ipv6, icmp_type, row.reply_icmp_code)?,
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

/// The size of a bulk probe of TTL `ttl`: IP and transport headers, the two tweak bytes, `ttl` bytes.
pub fn probe_len(ipv6: bool, ttl: u8) -> u16 {
    let headers = if ipv6 { 50 } else { 30 };
    headers + u16::from(ttl)
}

/// A port unreachable: the destination itself refused a UDP probe.
fn port_unreachable(row: &Row) -> bool {
    matches!((row.reply_protocol, row.reply_icmp_type, row.reply_icmp_code), (1, 3, 3) | (58, 1, 4))
}

impl Planner {
    /// The hops of `target` up to its [`Planner::end`], each with every flow it was probed in (at least one),
    /// answered as the rows have it.
    pub fn hops(&self, target: usize) -> Vec<Hop> {
        let ipv6 = self.targets[target].is_ipv6();
        (1..=self.end(target))
            .map(|ttl| {
                let sent_at = self.sent_at(target, ttl).unwrap_or(self.created);
                let probes = (0..self.flows(target, ttl).max(1))
                    .map(|flow| {
                        let answer = self.row(target, ttl, flow).and_then(|row| {
                            let rtt = Duration::from_micros(u64::from(row.rtt) * 100);
                            reply(row).map(|reply| Answer { rtt, reply, quote_rewritten: false, unverified: false })
                        });
                        let status = answer.map_or(ProbeStatus::TimedOut, ProbeStatus::Answered);
                        let id = ProbeId(u32::from(ttl) << 16 | u32::from(flow));
                        ProbeRecord { id, sent_at, size: probe_len(ipv6, ttl), flow, status, resent: None }
                    })
                    .collect();
                Hop { ttl, probes }
            })
            .collect()
    }

    /// How the trace of `target` ended.
    pub fn outcome(&self, target: usize) -> Outcome {
        let end = self.end(target);
        match self.reached(target) {
            Some(ttl) => {
                let row = self.row(target, ttl, 0);
                let addr = self.targets[target];
                let from_target = row.is_some_and(|row| IpAddr::V6(row.reply_src_addr).to_canonical() == addr);
                let answered = row.is_some_and(|row| matches!(row.reply_icmp_type, 0 | 129) || from_target);
                if answered || row.is_some_and(port_unreachable) {
                    Outcome::Reached { ttl }
                } else {
                    Outcome::Unreachable { ttl }
                }
            }
            None if end >= self.config.max_ttl => Outcome::MaxTtl,
            None => Outcome::GapLimit { ttl: end },
        }
    }
}
