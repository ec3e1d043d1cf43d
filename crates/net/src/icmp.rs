//! Unprivileged ICMP echo probes through a datagram ("ping") socket: the kernel sets the identifier to the
//! socket's port, delivers echo replies, and puts ICMP errors on the error queue. The kernel finds the socket by
//! identifier alone, so one socket bound to the wildcard address serves traces to any number of targets.

use core::net::SocketAddr;
use std::io;
use std::os::fd::AsFd;

use std::time::Instant;

use engine::{Probe, QuotedProbe, Reply, ReplyKind, TraceConfig};
use socket2::{Domain, Protocol, Socket, Type};

use crate::departure::{self, Departure, Departures};
use crate::sent_from::SentFrom;
use crate::{errqueue, recv, sockopt, Descriptor, NetError, Prober, Route, SocketOptions};

/// Sends Echo Requests from one ping socket.
pub(crate) struct IcmpProber {
    socket: Socket,
    local: SocketAddr,
    /// The source of each destination's probes.
    sent_from: SentFrom,
    ipv6: bool,
    buf: Vec<u8>,
    /// Packets the kernel dropped on the socket so far, as it last said.
    dropped: u32,
    departures: Departures,
}

impl IcmpProber {
    /// Opens the ping socket for probes of `config` from `source` (the unspecified address when shared); returns it
    /// with its ICMP identifier.
    pub(crate) fn open(
        config: &TraceConfig,
        source: core::net::IpAddr,
        options: &SocketOptions,
    ) -> Result<(Self, u16), NetError> {
        let ipv6 = config.target.is_ipv6();
        let (domain, protocol) = if ipv6 { (Domain::IPV6, Protocol::ICMPV6) } else { (Domain::IPV4, Protocol::ICMPV4) };
        let socket = Socket::new(domain, Type::DGRAM, Some(protocol)).map_err(|error| match error.raw_os_error() {
            Some(libc::EACCES | libc::EPERM) => NetError::IcmpNotPermitted,
            _ => NetError::io("opening an ICMP socket")(error),
        })?;
        if ipv6 && options.flow_label.is_some() {
            return Err(NetError::FlowLabelNeedsRaw);
        }
        // A ping socket's port is its ICMP identifier: `--sport` is for UDP and TCP.
        let options = SocketOptions { source_port: None, ..options.clone() };
        let local = sockopt::prepare_datagram(&socket, Some(source), &options, sockopt::Bind::Source)?;
        sockopt::prepare_receiving(&socket, sockopt::receive_buffer_for(config.max_in_flight))
            .map_err(NetError::io("preparing to receive"))?;
        departure::enable(&socket);
        let (sent_from, departures) = (SentFrom::default(), Departures::default());
        let prober = IcmpProber { socket, local, sent_from, ipv6, buf: vec![0; 2048], dropped: 0, departures };
        Ok((prober, local.port()))
    }

    /// The type, identifier and sequence number of the Echo message at the start of `bytes`.
    fn echo_fields(&self, bytes: &[u8]) -> Option<(u8, u16, u16)> {
        if self.ipv6 {
            let echo = packet::Icmpv6Packet::new_checked(bytes).ok()?;
            Some((echo.msg_type(), echo.echo_ident(), echo.echo_seq_no()))
        } else {
            let echo = packet::Icmpv4Packet::new_checked(bytes).ok()?;
            Some((echo.msg_type(), echo.echo_ident(), echo.echo_seq_no()))
        }
    }
}

impl Prober for IcmpProber {
    fn send(&mut self, probe: &Probe, route: Route) -> io::Result<Instant> {
        self.sent_from.note(route);
        sockopt::set_ttl(&self.socket, self.ipv6, probe.ttl)?;
        // The kernel fills in the identifier and the checksum; the rest is ours.
        let bytes = probe.transport_bytes(route.source, route.target);
        let sent_at = sockopt::send_to(&self.socket, &bytes, &SocketAddr::new(route.target, 0).into())?;
        // The kernel rewrites the echo header (identifier, checksum): the payload tells the probe.
        let added = crate::ip_header_len(self.ipv6);
        self.departures.sent((probe.id, route.target), sent_at, added, &bytes, packet::icmpv4::HEADER_LEN);
        Ok(sent_at)
    }

    fn descriptors(&self) -> Vec<Descriptor<'_>> {
        vec![Descriptor::readable(self.socket.as_fd())]
    }

    fn receive(&mut self, replies: &mut Vec<(Reply, Instant)>) -> io::Result<()> {
        let echo_reply =
            if self.ipv6 { packet::icmpv6::msg_type::ECHO_REPLY } else { packet::icmpv4::msg_type::ECHO_REPLY };
        while let Some(received) = recv::receive(&self.socket, &mut self.buf, false)? {
            let at = received.at;
            self.dropped = self.dropped.max(received.dropped);
            let (Some(from), Some((kind, ident, seq))) = (received.from, self.echo_fields(&self.buf[..received.len]))
            else {
                continue;
            };
            if kind == echo_reply {
                let tag = engine::reply::payload_tag(self.buf.get(8..received.len).unwrap_or_default());
                let kind = ReplyKind::EchoReply { ident, seq, tag };
                let size = u16::try_from(received.len + crate::ip_header_len(self.ipv6)).ok();
                replies.push((Reply { from: from.ip(), ttl: received.ttl, size, kind }, at));
            }
        }
        while let Some(received) = recv::receive(&self.socket, &mut self.buf, true)? {
            if self.departures.take_stamp(&received, &self.buf[..received.len]) {
                continue;
            }
            let at = received.at;
            // The kernel hands back the quoted Echo Request from its header on, as far as the router quoted it.
            let quote_len = received.error.and_then(|error| error.extensions_at).unwrap_or(received.len);
            let quoted = &self.buf[..quote_len.min(received.len)];
            let Some((_, ident, seq)) = self.echo_fields(quoted) else {
                continue;
            };
            let checksum = Some(u16::from_be_bytes([quoted[2], quoted[3]]));
            let tag = quoted.get(8..).and_then(engine::reply::payload_tag);
            let probe = QuotedProbe::Icmp { ident, seq, checksum, tag };
            let source = received.from.map_or(self.local.ip(), |dst| self.sent_from.of(dst.ip(), self.local.ip()));
            let local = SocketAddr::new(source, self.local.port());
            if let Some(reply) = errqueue::reply(&received, &self.buf[..received.len], local, probe) {
                replies.push((reply, at));
            }
        }
        Ok(())
    }

    fn dropped(&self) -> u64 {
        u64::from(self.dropped)
    }

    fn departures(&mut self, out: &mut Vec<Departure>) {
        self.departures.take(out);
    }
}
