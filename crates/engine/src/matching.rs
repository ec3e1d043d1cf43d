//! Matching a reply to the probe it answers: the key its quote (or answer) carries, then the checks that make a
//! match believable — the fields only raw sockets set, a quoted source that is not ours, a payload tag (echoed or
//! quoted, UDP or echo) and a quoted checksum that must be the ones sent, a quoted TTL no higher than sent, the IP
//! ID fallback for Paris UDP quotes a middlebox altered.

use crate::config::{Method, Protocol, TraceConfig};
use crate::log::ProbeLog;
use crate::probe::{self, MatchKey, Probe, ProbeFactory, ProbeId, ProbeTransport};
use crate::reply::{QuotedProbe, Reply, ReplyKind};

/// A trace's probes as replies are matched against them.
pub(crate) struct Matcher<'a> {
    pub(crate) config: &'a TraceConfig,
    pub(crate) factory: &'a ProbeFactory,
    pub(crate) log: &'a ProbeLog,
    /// Checksum shifts seen in quotes named by IP ID alone, with the probe each named.
    pub(crate) checksum_shifts: &'a [(u16, ProbeId)],
    /// Whether so many replies were refused that a forger seems to sweep the fields that tell probes apart: then
    /// only [`Matcher::verified`] matches are believed.
    pub(crate) under_sweep: bool,
}

impl Matcher<'_> {
    /// The probe `reply` answers, if it answers one of this trace's and can be believed.
    pub(crate) fn probe_of(&self, reply: &Reply) -> Option<ProbeId> {
        let key = match &reply.kind {
            ReplyKind::IcmpError(error) => self.factory.key_of_quote(&error.quote),
            ReplyKind::EchoReply { .. } | ReplyKind::Tcp(_) => self.factory.key_of_answer(reply),
        };
        let found = key.and_then(|key| self.log.find(&key)).or_else(|| self.probe_of_checksumless_quote(reply));
        let by_key = found.filter(|&id| {
            self.raw_fields_match(id, reply)
                && self.source_believed(id, reply)
                && self.checksum_believed(id, reply)
                && self.tag_matches(id, reply)
        });
        by_key
            .or_else(|| self.match_by_ip_id(reply))
            .filter(|&id| self.distance_plausible(id, reply))
            .filter(|&id| !self.under_sweep || self.verified(id, reply))
    }

    /// Whether more than one 16-bit field vouches for `reply` answering probe `id` (once [`Self::probe_of`]
    /// matched it): the payload's tag echoed or quoted, a TCP sequence number acknowledged or quoted, a quoted
    /// IPv4 ID (raw sockets), or a quoted checksum that sums the keyed payload (classic UDP and echo probes). Else
    /// a forger sweeping the one field left (an echo sequence number in an 8-byte quote on a ping socket, a port)
    /// could have made it.
    pub(crate) fn verified(&self, id: ProbeId, reply: &Reply) -> bool {
        let error = match &reply.kind {
            ReplyKind::EchoReply { tag, .. } => return tag.is_some() && self.factory.payload_tag(id).is_some(),
            // Raw: the acknowledgement is checked; a connected socket's kernel checks it.
            ReplyKind::Tcp(_) => return true,
            ReplyKind::IcmpError(error) => error,
        };
        if self.config.raw_send && error.quote.ip_id.is_some() {
            return true;
        }
        let checksum_sums_payload = |protocol, checksum: Option<u16>| {
            !self.config.method.paris && checksum.is_some() && self.sent_checksum(id, protocol) == checksum
        };
        match error.quote.probe {
            QuotedProbe::Udp { tag, checksum, .. } => {
                (tag.is_some() && self.factory.payload_tag(id).is_some())
                    || checksum_sums_payload(Protocol::Udp, checksum)
            }
            QuotedProbe::Icmp { tag, checksum, .. } => {
                (tag.is_some() && self.factory.payload_tag(id).is_some())
                    || checksum_sums_payload(Protocol::Icmp, checksum)
            }
            // Raw: the quoted sequence number is checked; a connected socket's kernel checks it.
            QuotedProbe::Tcp { seq, .. } => seq.is_some() || !self.config.raw_send,
        }
    }

    /// A Paris UDP quote without a checksum — an error queue gives back only the quoted payload, whose checksum
    /// cannot be recomputed once a router cut the quote short (IPv6 routers quote at most 1280 bytes) — still holds
    /// the payload's tag, unpredictable per probe: the probe that carried it, if the quote's ports are its own.
    /// A quote with a checksum is never matched this way.
    ///
    /// See [`Matcher::too_short_to_tell`] for a quote that holds neither.
    fn probe_of_checksumless_quote(&self, reply: &Reply) -> Option<ProbeId> {
        let ReplyKind::IcmpError(error) = &reply.kind else { return None };
        let QuotedProbe::Udp { src_port, dst_port, checksum: None, tag: Some(tag) } = error.quote.probe else {
            return None;
        };
        if self.config.method != Method::paris(Protocol::Udp) || error.quote.dst != self.config.target {
            return None;
        }
        let id = self.log.find_by_tag(tag)?;
        let (probe, _) = self.rebuild(id)?;
        let ProbeTransport::Udp { src_port: sent_src, dst_port: sent_dst, .. } = probe.transport else { return None };
        ((src_port, dst_port) == (sent_src, sent_dst)).then_some(id)
    }

    /// Whether `reply` is an error about this Paris UDP trace's destination whose quote holds neither the checksum
    /// nor the payload tag that tell its probes apart (an ordinary socket gets what follows the UDP header only).
    pub(crate) fn too_short_to_tell(&self, reply: &Reply) -> bool {
        let ReplyKind::IcmpError(error) = &reply.kind else { return false };
        self.config.method == Method::paris(Protocol::Udp)
            && error.quote.dst == self.config.target
            && matches!(error.quote.probe, QuotedProbe::Udp { checksum: None, tag: None, .. })
    }

    /// Paris UDP identifies probes by checksum, which a middlebox may have changed in a way not turned back by
    /// [`probe::unrewritten`] (a NAT that restored the quoted address but not the checksum). With raw sockets the
    /// IP ID identifies the probe too: take it if the quote's destination and ports are that probe's. The quoted
    /// source is not checked: the IP ID is ours and the source port is reserved on every local address.
    ///
    /// The IP ID alone is 16 bits, which a forger sweeping it hits now and then: a quoted payload tag must be the
    /// probe's, and the quoted checksum must also differ from the one sent by an amount already seen in a quote of
    /// another probe. A NAT's update for its address is the same amount for every probe, so its second quote is
    /// believed (and every one after); a forger, who does not know the checksums sent, cannot make two agree.
    fn match_by_ip_id(&self, reply: &Reply) -> Option<ProbeId> {
        let (shift, id) = self.ip_id_candidate(reply)?;
        self.checksum_shifts.iter().any(|&(seen, other)| seen == shift && other != id).then_some(id)
    }

    /// The probe a quote names by IP ID, with its ports, and how far (one's complement) the quoted checksum is from
    /// the one sent.
    pub(crate) fn ip_id_candidate(&self, reply: &Reply) -> Option<(u16, ProbeId)> {
        let ReplyKind::IcmpError(error) = &reply.kind else { return None };
        if !self.config.raw_send || self.config.method != Method::paris(Protocol::Udp) {
            return None;
        }
        let QuotedProbe::Udp { src_port: quoted_src, dst_port: quoted_dst, .. } = error.quote.probe else {
            return None;
        };
        let id = self.factory.id_of_ip_id(error.quote.ip_id?, self.log.len())?;
        if error.quote.dst != self.config.target {
            return None;
        }
        let (probe, _) = self.rebuild(id)?;
        let ProbeTransport::Udp { src_port, dst_port, .. } = probe.transport else { return None };
        if (quoted_src, quoted_dst) != (src_port, dst_port) || !self.tag_matches(id, reply) {
            return None;
        }
        let QuotedProbe::Udp { checksum: Some(quoted), .. } = error.quote.probe else { return None };
        let shift = packet::checksum::combine(&[!quoted, self.sent_checksum(id, Protocol::Udp)?]);
        Some((if shift == 0xffff { 0 } else { shift }, id))
    }

    /// A quoted UDP checksum (turned back for a NAT's source address) must be the one probe `id` was sent with —
    /// its payload makes it unpredictable — unless the quoted IPv4 ID, ours too with raw sockets, vouches for the
    /// probe: then a middlebox rewrote the probe (and the reply is marked so).
    fn checksum_believed(&self, id: ProbeId, reply: &Reply) -> bool {
        let ReplyKind::IcmpError(error) = &reply.kind else { return true };
        let QuotedProbe::Udp { checksum: Some(quoted), .. } = error.quote.probe else { return true };
        let Some(sent) = self.sent_checksum(id, Protocol::Udp) else { return true };
        let turned_back = match (error.quote.src, self.config.source) {
            (Some(src), Some(ours)) if src != ours => probe::unrewritten(quoted, src, ours),
            _ => quoted,
        };
        turned_back == sent || (self.config.raw_send && error.quote.ip_id == Some(self.factory.ip_id(id)))
    }

    /// A probe's TTL only ever shrinks on its way: a quote of probe `id` with a higher TTL than it was sent with
    /// is not a quote of it.
    fn distance_plausible(&self, id: ProbeId, reply: &Reply) -> bool {
        let ReplyKind::IcmpError(error) = &reply.kind else { return true };
        match (error.quote.ttl, self.log.hop_of(id)) {
            (Some(quoted), Some(hop)) => quoted <= hop.ttl,
            _ => true,
        }
    }

    /// An echo reply carries back the payload sent, and a quote of a UDP probe or an Echo Request as much of it as
    /// the router quoted: its tag, unpredictable, must be probe `id`'s (a NAT rewrites addresses and checksums,
    /// never the payload). A quote too short for the tag (8 bytes past the IP header, as RFC 792 allows) falls back
    /// to the checksum, which sums the tag in a classic probe: a UDP one is checked by [`Self::checksum_believed`],
    /// an echo one here. A Paris echo probe's checksum is the same for every probe of a flow, so a short quote of
    /// one is believed on its identifier and sequence number (and, with raw sockets, its IP ID).
    fn tag_matches(&self, id: ProbeId, reply: &Reply) -> bool {
        let (tag, echo_checksum) = match &reply.kind {
            // An Echo Reply carries the whole payload back: one without the tag sent is no answer of ours.
            ReplyKind::EchoReply { tag, .. } => {
                return match (tag, self.factory.payload_tag(id)) {
                    (Some(tag), Some(sent)) => *tag == sent,
                    (None, Some(_)) => false,
                    (_, None) => true,
                };
            }
            ReplyKind::IcmpError(error) => match error.quote.probe {
                QuotedProbe::Icmp { tag, checksum, .. } => (tag, checksum),
                QuotedProbe::Udp { tag, .. } => (tag, None),
                QuotedProbe::Tcp { .. } => return true,
            },
            ReplyKind::Tcp(_) => return true,
        };
        match (tag, echo_checksum) {
            (Some(tag), _) => self.factory.payload_tag(id).is_none_or(|sent| sent == tag),
            (None, Some(checksum)) if !self.config.method.paris => {
                self.sent_checksum(id, Protocol::Icmp).is_none_or(|sent| sent == checksum)
            }
            _ => true,
        }
    }

    /// A quote of our probe from another source address is a NAT's rewrite that it did not undo. Believe it only
    /// from raw sockets (an ordinary socket's error queue shows no quoted source: the net layer fills in ours) and
    /// where the probe is ours by more than ports and identifiers: the quoted IPv4 IP ID is checked as ours by
    /// [`Self::raw_fields_match`], and a quoted UDP checksum, turned back for the NAT's address, must be the one
    /// sent.
    fn source_believed(&self, id: ProbeId, reply: &Reply) -> bool {
        let ReplyKind::IcmpError(error) = &reply.kind else { return true };
        let (Some(quoted), Some(ours)) = (error.quote.src, self.config.source) else { return true };
        if quoted == ours {
            return true;
        }
        let checksum_ok = match error.quote.probe {
            QuotedProbe::Udp { checksum: Some(checksum), .. } => self
                .sent_checksum(id, Protocol::Udp)
                .is_some_and(|sent| sent == probe::unrewritten(checksum, quoted, ours)),
            _ => true,
        };
        self.config.raw_send && checksum_ok && (self.config.target.is_ipv6() || error.quote.ip_id.is_some())
    }

    /// Whether the quote in `reply` shows probe `id` altered on its way (another source address, or a UDP checksum
    /// other than the one sent): a NAT or other middlebox rewrote the probe and did not restore the quote.
    pub(crate) fn quote_rewritten(&self, id: ProbeId, reply: &Reply) -> bool {
        let ReplyKind::IcmpError(error) = &reply.kind else { return false };
        if matches!((error.quote.src, self.config.source), (Some(quoted), Some(ours)) if quoted != ours) {
            return true;
        }
        let QuotedProbe::Udp { checksum: Some(quoted), .. } = error.quote.probe else { return false };
        self.sent_checksum(id, Protocol::Udp).is_some_and(|sent| sent != quoted)
    }

    /// The checksum probe `id` was sent with, if it is a probe of `protocol` (UDP or ICMP Echo Request) and can be
    /// rebuilt as sent.
    fn sent_checksum(&self, id: ProbeId, protocol: Protocol) -> Option<u16> {
        let source = self.config.source?;
        let (probe, _) = self.rebuild_as_sent(id)?;
        let offset = match (protocol, &probe.transport) {
            (Protocol::Udp, ProbeTransport::Udp { .. }) => 6,
            (Protocol::Icmp, ProbeTransport::Icmp { .. }) => 2,
            _ => return None,
        };
        let sent = probe.transport_bytes(source, self.config.target);
        Some(u16::from_be_bytes([*sent.get(offset)?, *sent.get(offset + 1)?]))
    }

    /// Probe `id` built again as it was sent, if it was sent at the size probes are built now (path MTU discovery
    /// may have changed it since).
    fn rebuild_as_sent(&self, id: ProbeId) -> Option<(Probe, MatchKey)> {
        (self.log.record(id)?.size == self.factory.packet_len()).then(|| self.rebuild(id))?
    }

    /// Probe `id` built again as it was sent (the size aside, which path MTU discovery may have changed since).
    fn rebuild(&self, id: ProbeId) -> Option<(Probe, MatchKey)> {
        let hop = self.log.hop_of(id)?;
        Some(self.factory.build(id, hop.ttl, self.log.record(id)?.flow))
    }

    /// With raw sockets the IP ID and TCP sequence number are ours too: where a reply carries them, they must match.
    fn raw_fields_match(&self, id: ProbeId, reply: &Reply) -> bool {
        if !self.config.raw_send {
            return true;
        }
        match &reply.kind {
            ReplyKind::IcmpError(error) => {
                let ip_id_ok = error.quote.ip_id.is_none_or(|quoted| quoted == self.factory.ip_id(id));
                let seq_ok = match error.quote.probe {
                    QuotedProbe::Tcp { seq: Some(seq), .. } => seq == self.factory.tcp_seq(id),
                    _ => true,
                };
                ip_id_ok && seq_ok
            }
            // A SYN-ACK or a reset answering our SYN acknowledges its sequence number (a reset without ACK answers
            // no SYN: RFC 9293 3.10.7.1).
            ReplyKind::Tcp(answer) => answer.ack == Some(self.factory.tcp_seq(id).wrapping_add(1)),
            ReplyKind::EchoReply { .. } => true,
        }
    }
}
