//! Probes: what to send, and the fields that identify each one in a reply.

use core::net::IpAddr;

use packet::checksum;

use crate::config::{Method, Protocol, TraceConfig};
use crate::identity::{Field, Keyed};
use crate::reply::{Quote, QuotedProbe, Reply, ReplyKind};

/// Identifies a probe within one trace: probes are numbered from 0 in the order they are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProbeId(pub u32);

/// A probe to send, with every field that identifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// Its number within the trace.
    pub id: ProbeId,
    /// The TTL (hop limit) to send it with.
    pub ttl: u8,
    /// The IPv4 identification to send it with, where the sender controls it (raw sockets).
    pub ip_id: u16,
    /// The transport header and payload.
    pub transport: ProbeTransport,
}

/// The transport part of a probe.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProbeTransport {
    /// A UDP datagram.
    Udp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// The payload (the kernel adds the header on datagram sockets).
        payload: Vec<u8>,
    },
    /// An ICMP or ICMPv6 Echo Request.
    Icmp {
        /// Echo identifier (on Linux ping sockets the kernel sets it to the socket's port).
        ident: u16,
        /// Echo sequence number.
        seq: u16,
        /// The payload after the 8-byte echo header.
        payload: Vec<u8>,
    },
    /// A TCP SYN.
    Tcp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// Initial sequence number (where the sender controls it).
        seq: u32,
    },
}

/// The fields that identify a probe, per method. Two probes of one trace never share a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum MatchKey {
    /// Ports (classic UDP and TCP: one of them changes per probe).
    Ports { protocol: Protocol, src_port: u16, dst_port: u16 },
    /// Paris UDP: constant ports, the checksum tells probes apart.
    UdpChecksum { src_port: u16, dst_port: u16, checksum: u16 },
    /// Paris TCP: constant ports, the sequence number tells probes apart.
    TcpSeq { src_port: u16, dst_port: u16, seq: u32 },
    /// ICMP echo identifier and sequence.
    Echo { ident: u16, seq: u16 },
}

/// Builds the probes of one trace and derives match keys from probes and replies.
#[derive(Debug, Clone)]
pub(crate) struct ProbeFactory {
    method: Method,
    target: IpAddr,
    source: Option<IpAddr>,
    src_port: u16,
    dst_port: u16,
    icmp_ident: u16,
    sequence_start: u32,
    payload_len: usize,
    keyed: Keyed,
}

impl ProbeFactory {
    pub(crate) fn new(config: &TraceConfig) -> Self {
        let mut factory = ProbeFactory {
            method: config.method,
            target: config.target,
            source: config.source,
            src_port: config.src_port,
            dst_port: config.dst_port,
            icmp_ident: config.icmp_ident,
            sequence_start: config.sequence_start,
            payload_len: 0,
            keyed: Keyed::new(config.secret),
        };
        factory.set_packet_len(config.largest_probe());
        factory
    }

    /// Makes the following probes `len` bytes long, headers included (as far as the method allows).
    pub(crate) fn set_packet_len(&mut self, len: u16) {
        self.payload_len = usize::from(self.method.payload_len(self.target.is_ipv6(), len));
    }

    /// The size of the probes built now: IP packet, headers included.
    pub(crate) fn packet_len(&self) -> u16 {
        self.method.header_len(self.target.is_ipv6()).saturating_add(self.payload_len as u16)
    }

    /// The number that probe `id`'s identifying fields are made from: its place in the trace, counted from the
    /// configured start (so that consecutive traces over the same sockets never reuse identifiers).
    pub(crate) fn sequence(&self, id: ProbeId) -> u32 {
        self.sequence_start.wrapping_add(id.0)
    }

    /// The probe (among the first `sent`) whose IPv4 identification is `ip_id`, if any.
    pub(crate) fn id_of_ip_id(&self, ip_id: u16, sent: usize) -> Option<ProbeId> {
        let n = self.keyed.unpermute16(Field::IpId, ip_id).wrapping_sub(self.sequence_start as u16);
        (usize::from(n) < sent).then_some(ProbeId(u32::from(n)))
    }

    /// The IPv4 identification of probe `id` (raw sockets only).
    pub(crate) fn ip_id(&self, id: ProbeId) -> u16 {
        self.keyed.permute16(Field::IpId, self.sequence(id) as u16)
    }

    /// The initial sequence number of TCP probe `id` (raw sockets only).
    pub(crate) fn tcp_seq(&self, id: ProbeId) -> u32 {
        self.keyed.permute32(Field::TcpSeq, self.sequence(id))
    }

    /// The UDP checksum that identifies Paris UDP probe number `n`: never 0 (no checksum) nor 0xffff.
    fn paris_udp_checksum(&self, n: u32) -> u16 {
        self.keyed.permute_below(Field::ParisUdpChecksum, (n % 0xfffd) as u16, 0xfffd) + 1
    }

    /// The echo sequence number of probe number `n`.
    fn echo_seq(&self, n: u32) -> u16 {
        self.keyed.permute16(Field::EchoSeq, n as u16)
    }

    /// The payload of probe number `n` (UDP or echo) before a Paris probe fixes its first two bytes: the usual
    /// pattern, its first [`TAGGED_LEN`] bytes unpredictable — bytes 2 to 10 are the tag a quote or echo must
    /// carry back, and all of them are summed into the checksum, which a quote too short for the tag still carries.
    fn keyed_payload(&self, n: u32) -> Vec<u8> {
        let mut payload = crate::craft::pattern(self.payload_len);
        let tagged = payload.len().min(TAGGED_LEN);
        self.keyed.fill(Field::Payload, n, &mut payload[..tagged]);
        payload
    }

    /// The tag probe `id` carried in its payload, if the payloads sent now are long enough for one.
    pub(crate) fn payload_tag(&self, id: ProbeId) -> Option<u64> {
        if self.payload_len < TAGGED_LEN {
            return None;
        }
        let mut tagged = [0; TAGGED_LEN];
        self.keyed.fill(Field::Payload, self.sequence(id), &mut tagged);
        crate::reply::payload_tag(&tagged)
    }

    /// Builds probe number `id`, to be sent with `ttl` in flow `flow` (Paris methods; others change flow with
    /// every probe anyway).
    pub(crate) fn build(&self, id: ProbeId, ttl: u8, flow: u16) -> (Probe, MatchKey) {
        let n = self.sequence(id);
        let transport = match (self.method.protocol, self.method.paris) {
            (Protocol::Udp, false) => ProbeTransport::Udp {
                src_port: self.src_port,
                dst_port: self.dst_port.wrapping_add(port_offset(n)),
                payload: self.keyed_payload(n),
            },
            (Protocol::Udp, true) => {
                let source = self.source.unwrap_or(self.target);
                let dst_port = self.dst_port.wrapping_add(flow);
                ProbeTransport::Udp {
                    src_port: self.src_port,
                    dst_port,
                    payload: crate::craft::udp_payload_for_checksum(
                        source,
                        self.target,
                        self.src_port,
                        dst_port,
                        self.keyed_payload(n),
                        self.paris_udp_checksum(n),
                    ),
                }
            }
            (Protocol::Icmp, false) => {
                ProbeTransport::Icmp { ident: self.icmp_ident, seq: self.echo_seq(n), payload: self.keyed_payload(n) }
            }
            (Protocol::Icmp, true) => ProbeTransport::Icmp {
                ident: self.icmp_ident,
                seq: self.echo_seq(n),
                payload: crate::craft::echo_payload_for_checksum(
                    self.source,
                    self.target,
                    self.icmp_ident,
                    self.echo_seq(n),
                    self.keyed_payload(n),
                    paris_icmp_checksum(self.icmp_ident, flow),
                ),
            },
            (Protocol::Tcp, false) => ProbeTransport::Tcp {
                src_port: self.src_port.wrapping_add(port_offset(n)),
                dst_port: self.dst_port,
                seq: self.tcp_seq(id),
            },
            (Protocol::Tcp, true) => ProbeTransport::Tcp {
                src_port: self.src_port.wrapping_add(flow),
                dst_port: self.dst_port,
                seq: self.tcp_seq(id),
            },
        };
        let probe = Probe { id, ttl, ip_id: self.ip_id(id), transport };
        let key = self.key_of_probe(&probe);
        (probe, key)
    }

    fn key_of_probe(&self, probe: &Probe) -> MatchKey {
        match (&probe.transport, self.method.paris) {
            (ProbeTransport::Udp { src_port, dst_port, .. }, true) => MatchKey::UdpChecksum {
                src_port: *src_port,
                dst_port: *dst_port,
                checksum: self.paris_udp_checksum(self.sequence(probe.id)),
            },
            (ProbeTransport::Udp { src_port, dst_port, .. }, _) => {
                MatchKey::Ports { protocol: Protocol::Udp, src_port: *src_port, dst_port: *dst_port }
            }
            (ProbeTransport::Icmp { ident, seq, .. }, _) => MatchKey::Echo { ident: *ident, seq: *seq },
            (ProbeTransport::Tcp { src_port, dst_port, seq }, true) => {
                MatchKey::TcpSeq { src_port: *src_port, dst_port: *dst_port, seq: *seq }
            }
            (ProbeTransport::Tcp { src_port, dst_port, .. }, _) => {
                MatchKey::Ports { protocol: Protocol::Tcp, src_port: *src_port, dst_port: *dst_port }
            }
        }
    }

    /// The key a quoted probe must have to be ours, or `None` if the quote cannot be one of our probes.
    ///
    /// A quoted source address other than ours is taken as a NAT's rewrite (whether to believe it is the caller's
    /// decision): the Paris UDP checksum, which the NAT updated for the address it wrote, is turned back to ours.
    pub(crate) fn key_of_quote(&self, quote: &Quote) -> Option<MatchKey> {
        if quote.dst != self.target {
            return None;
        }
        match (quote.probe, (self.method.protocol, self.method.paris)) {
            (QuotedProbe::Udp { src_port, dst_port, checksum, .. }, (Protocol::Udp, true)) => {
                let checksum = match (checksum?, quote.src, self.source) {
                    (checksum, Some(quoted), Some(ours)) if quoted != ours => unrewritten(checksum, quoted, ours),
                    (checksum, ..) => checksum,
                };
                Some(MatchKey::UdpChecksum { src_port, dst_port, checksum })
            }
            (QuotedProbe::Udp { src_port, dst_port, .. }, (Protocol::Udp, false)) => {
                Some(MatchKey::Ports { protocol: Protocol::Udp, src_port, dst_port })
            }
            (QuotedProbe::Icmp { ident, seq, .. }, (Protocol::Icmp, _)) => Some(MatchKey::Echo { ident, seq }),
            (QuotedProbe::Tcp { src_port, dst_port, .. }, (Protocol::Tcp, false)) => {
                Some(MatchKey::Ports { protocol: Protocol::Tcp, src_port, dst_port })
            }
            (QuotedProbe::Tcp { src_port, dst_port, seq }, (Protocol::Tcp, true)) => {
                Some(MatchKey::TcpSeq { src_port, dst_port, seq: seq? })
            }
            _ => None,
        }
    }

    /// The key of a reply that comes from the destination itself rather than quoting a probe.
    pub(crate) fn key_of_answer(&self, reply: &Reply) -> Option<MatchKey> {
        if reply.from != self.target {
            return None;
        }
        match (&reply.kind, (self.method.protocol, self.method.paris)) {
            (ReplyKind::EchoReply { ident, seq, .. }, (Protocol::Icmp, _)) => {
                Some(MatchKey::Echo { ident: *ident, seq: *seq })
            }
            (ReplyKind::Tcp(answer), (Protocol::Tcp, false)) => {
                Some(MatchKey::Ports { protocol: Protocol::Tcp, src_port: answer.dst_port, dst_port: answer.src_port })
            }
            (ReplyKind::Tcp(answer), (Protocol::Tcp, true)) => Some(MatchKey::TcpSeq {
                src_port: answer.dst_port,
                dst_port: answer.src_port,
                seq: answer.ack?.wrapping_sub(1),
            }),
            _ => None,
        }
    }
}

/// A transport checksum that a NAT updated for rewriting the source address `ours` to `quoted`, turned back.
/// (A NAT may send a computed UDP checksum of 0 as 0: that too turns back to the value sent.)
pub(crate) fn unrewritten(checksum: u16, quoted: IpAddr, ours: IpAddr) -> u16 {
    checksum::update_address(checksum, &quoted, &ours)
}

/// The ICMP checksum of every probe of flow `flow` in a Paris ICMP trace (never 0xffff, which the compensating
/// bytes cannot produce).
fn paris_icmp_checksum(ident: u16, flow: u16) -> u16 {
    let base = ident ^ 0xa5a5;
    match base.wrapping_add(flow) {
        // Unreachable; base - 1 is no other flow's (that would take flow 65535).
        0xffff => base.wrapping_sub(1),
        c => c,
    }
}

pub use crate::config::PORT_WINDOW;

/// How many leading payload bytes are keyed: 2 (which Paris probes overwrite to fix their checksum), then the
/// 8-byte tag ([`crate::reply::payload_tag`]).
const TAGGED_LEN: usize = 10;

/// The port offset of probe number `n` for methods that tell probes apart by port.
fn port_offset(n: u32) -> u16 {
    (n % PORT_WINDOW) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A quote of Paris UDP probe `n` as a router past a NAT sends it: the NAT's address, the checksum it updated.
    fn quote_past_nat(factory: &ProbeFactory, n: u32, ours: IpAddr, nat: IpAddr, target: IpAddr) -> Quote {
        let (probe, _) = factory.build(ProbeId(n), 3, 0);
        let bytes = probe.transport_bytes(ours, target);
        let ProbeTransport::Udp { src_port, dst_port, payload } = probe.transport else { panic!("a UDP probe") };
        let sent = u16::from_be_bytes([bytes[6], bytes[7]]);
        let checksum = checksum::update_address(sent, &ours, &nat);
        let tag = crate::reply::payload_tag(&payload);
        let probe = QuotedProbe::Udp { src_port, dst_port, checksum: Some(checksum), tag };
        Quote { src: Some(nat), dst: target, ttl: Some(1), ip_id: None, probe }
    }

    #[test]
    fn a_paris_checksum_rewritten_by_a_nat_turns_back_to_the_probe_key() {
        let v4 = |d: u8| IpAddr::from([198, 18, 0, d]);
        let v6 = |d: u16| IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, d]);
        for (ours, nat, target) in [(v4(1), v4(200), v4(9)), (v6(1), v6(0xbeef), v6(9))] {
            let mut config = TraceConfig::new(target, Method::paris(Protocol::Udp));
            config.source = Some(ours);
            let factory = ProbeFactory::new(&config);
            for n in [0, 1, 77, 4095] {
                let (_, key) = factory.build(ProbeId(n), 3, 0);
                assert_eq!(factory.key_of_quote(&quote_past_nat(&factory, n, ours, nat, target)), Some(key), "{n}");
            }
        }
    }
}
