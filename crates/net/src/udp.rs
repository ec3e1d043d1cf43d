//! Unprivileged UDP probes: one ordinary UDP socket, ICMP errors from its error queue. Bound to the wildcard
//! address, it may serve many traces to many targets (each probe names its destination and source).

use core::net::SocketAddr;
use std::io;
use std::os::fd::AsFd;

use std::time::Instant;

use engine::{Probe, ProbeTransport, QuotedProbe, Reply, TraceConfig};
use socket2::{Domain, Protocol, Socket, Type};

use crate::departure::{self, Departure, Departures};
use crate::sent_from::SentFrom;
use crate::{errqueue, recv, sockopt, Descriptor, NetError, Prober, Route, SocketOptions};

/// Sends UDP probes from one socket bound to the source address and an ephemeral port.
pub(crate) struct UdpProber {
    socket: Socket,
    local: SocketAddr,
    /// The source of each destination's probes.
    sent_from: SentFrom,
    ipv6: bool,
    /// The IP and UDP headers' length before each payload.
    headers: usize,
    /// The user's IPv6 flow label (`-l`).
    flow_label: Option<u32>,
    /// Payload sizes sent so far (one, or a few with path MTU discovery): a quote of one of these sizes is whole.
    payload_lens: Vec<usize>,
    departures: Departures,
    buf: Vec<u8>,
}

impl UdpProber {
    /// Opens the socket for probes of `config` from `source` (the unspecified address when shared); returns it with
    /// its source port.
    pub(crate) fn open(
        config: &TraceConfig,
        source: core::net::IpAddr,
        options: &SocketOptions,
    ) -> Result<(Self, u16), NetError> {
        let ipv6 = config.target.is_ipv6();
        let domain = if ipv6 { Domain::IPV6 } else { Domain::IPV4 };
        let socket =
            Socket::new(domain, Type::DGRAM, Some(Protocol::UDP)).map_err(NetError::io("opening a UDP socket"))?;
        let local = sockopt::prepare_datagram(&socket, Some(source), options, sockopt::Bind::Wildcard)?;
        sockopt::prepare_receiving(&socket, sockopt::receive_buffer_for(config.max_in_flight))
            .map_err(NetError::io("preparing to receive"))?;
        departure::enable(&socket);
        let prober = UdpProber {
            socket,
            local,
            sent_from: SentFrom::default(),
            ipv6,
            headers: usize::from(engine::Method::classic(engine::Protocol::Udp).header_len(ipv6)),
            flow_label: options.flow_label,
            payload_lens: Vec::new(),
            departures: Departures::default(),
            buf: vec![0; 65_536],
        };
        Ok((prober, local.port()))
    }
}

impl Prober for UdpProber {
    fn send(&mut self, probe: &Probe, route: Route) -> io::Result<Instant> {
        let ProbeTransport::Udp { dst_port, payload, .. } = &probe.transport else {
            return Err(io::ErrorKind::InvalidInput.into());
        };
        if !self.payload_lens.contains(&payload.len()) {
            self.payload_lens.push(payload.len());
        }
        self.sent_from.note(route);
        sockopt::set_ttl(&self.socket, self.ipv6, probe.ttl)?;
        let to = sockopt::destination(route.target, *dst_port, self.flow_label);
        let sent_at = sockopt::send_from(&self.socket, payload, to, route.source)?;
        self.departures.sent((probe.id, route.target), sent_at, self.headers, payload, 0);
        Ok(sent_at)
    }

    fn descriptors(&self) -> Vec<Descriptor<'_>> {
        vec![Descriptor::readable(self.socket.as_fd())]
    }

    fn receive(&mut self, replies: &mut Vec<(Reply, Instant)>) -> io::Result<()> {
        while let Some(received) = recv::receive(&self.socket, &mut self.buf, true)? {
            if self.departures.take_stamp(&received, &self.buf[..received.len]) {
                continue;
            }
            let at = received.at;
            let Some(dst) = received.from else { continue };
            let local = SocketAddr::new(self.sent_from.of(dst.ip(), self.local.ip()), self.local.port());
            // The kernel hands back the rest of the ICMP message after the quoted UDP header: the payload's tag is
            // in its first bytes; the checksum (which tells Paris probes apart) can be recomputed only from a whole
            // payload.
            let extensions_at = received.error.and_then(|error| error.extensions_at);
            let whole = whole_payload(&self.payload_lens, received.len, extensions_at, self.headers);
            let checksum = whole.map(|len| errqueue::udp_checksum(local, dst, &self.buf[..len]));
            let tag = engine::reply::payload_tag(&self.buf[..extensions_at.unwrap_or(received.len).min(received.len)]);
            let quoted = QuotedProbe::Udp { src_port: local.port(), dst_port: dst.port(), checksum, tag };
            if let Some(reply) = errqueue::reply(&received, &self.buf[..received.len], local, quoted) {
                replies.push((reply, at));
            }
        }
        // Datagrams sent back to us (a destination that echoes UDP) are not replies; drain them.
        while recv::receive(&self.socket, &mut self.buf, false)?.is_some() {}
        Ok(())
    }

    fn departures(&mut self, out: &mut Vec<Departure>) {
        self.departures.take(out);
    }
}

/// How much of the `len` bytes the error queue returned after a quoted UDP header is the probe's payload, if it
/// is all there, given the payload sizes sent. A router that quoted less leaves it unknown. One that appended
/// RFC 4884 extensions quoted at least 128 bytes of IP packet, zero-padded if the probe was shorter, and the
/// kernel says where the extensions start (`extensions_at`); `headers` is the quoted IP and UDP header length.
fn whole_payload(sent: &[usize], len: usize, extensions_at: Option<usize>, headers: usize) -> Option<usize> {
    let Some(at) = extensions_at else { return sent.contains(&len).then_some(len) };
    if at != 128usize.saturating_sub(headers) {
        return sent.contains(&at).then_some(at); // no padding: the quote ends where the probe did, or short of it
    }
    // Padded up to 128 bytes, or a probe of exactly that size: the one size sent that fits, if there is one.
    let mut fitting = sent.iter().filter(|&&size| size <= at);
    match (fitting.next(), fitting.next()) {
        (Some(&size), None) => Some(size),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::whole_payload;

    #[test]
    fn the_payload_is_whole_only_when_all_of_it_was_quoted() {
        let v4 = 28;
        assert_eq!(whole_payload(&[32], 32, None, v4), Some(32));
        assert_eq!(whole_payload(&[32], 20, None, v4), None); // quoted short
        assert_eq!(whole_payload(&[32], 112, None, v4), None); // longer, and no word of extensions: unknown
        assert_eq!(whole_payload(&[32], 112, Some(100), v4), Some(32)); // padded to 128, extensions after
        assert_eq!(whole_payload(&[52], 92, Some(80), 48), Some(52)); // the same over IPv6
        assert_eq!(whole_payload(&[112], 112, Some(100), v4), None); // cut at 128: not all there
        assert_eq!(whole_payload(&[100], 112, Some(100), v4), Some(100)); // exactly 128 bytes
        assert_eq!(whole_payload(&[32, 1372], 1384, Some(1372), v4), Some(1372)); // longer than 128: no padding
        assert_eq!(whole_payload(&[32, 72], 112, Some(100), v4), None); // padded, and two sizes fit: which?
    }
}
