//! Unprivileged UDP probes: one ordinary UDP socket, ICMP errors from its error queue.

use core::net::SocketAddr;
use std::io;
use std::os::fd::AsFd;

use nix::poll::{PollFd, PollFlags};
use std::time::Instant;

use engine::{Probe, ProbeTransport, QuotedProbe, Reply, TraceConfig};
use socket2::{Domain, Protocol, Socket, Type};

use crate::{errqueue, recv, sockopt, NetError, Prober, SocketOptions};

/// Sends UDP probes from one socket bound to the source address and an ephemeral port.
pub(crate) struct UdpProber {
    socket: Socket,
    local: SocketAddr,
    target: core::net::IpAddr,
    ipv6: bool,
    /// Payload sizes sent so far (one, or a few with path MTU discovery): a quote of one of these sizes is whole.
    payload_lens: Vec<usize>,
    buf: Vec<u8>,
}

impl UdpProber {
    /// Opens the socket and records its port in `config`.
    pub(crate) fn open(config: &mut TraceConfig, options: &SocketOptions) -> Result<Self, NetError> {
        let ipv6 = config.target.is_ipv6();
        let domain = if ipv6 { Domain::IPV6 } else { Domain::IPV4 };
        let socket =
            Socket::new(domain, Type::DGRAM, Some(Protocol::UDP)).map_err(NetError::io("opening a UDP socket"))?;
        let local = sockopt::prepare_datagram(&socket, config.source, options, true)?;
        config.src_port = local.port();
        Ok(UdpProber { socket, local, target: config.target, ipv6, payload_lens: Vec::new(), buf: vec![0; 65_536] })
    }
}

impl UdpProber {
    /// How much of a quote `len` bytes long is the probe's payload, if it is all there. A router that quoted
    /// less leaves it unknown; one that padded its quote and appended RFC 4884 extensions quoted more, and with
    /// one payload size sent the probe's is its start.
    fn whole_payload(&self, len: usize) -> Option<usize> {
        match self.payload_lens.as_slice() {
            _ if self.payload_lens.contains(&len) => Some(len),
            &[sent] if len > sent => Some(sent),
            _ => None,
        }
    }
}

impl Prober for UdpProber {
    fn send(&mut self, probe: &Probe) -> io::Result<Instant> {
        let ProbeTransport::Udp { dst_port, payload, .. } = &probe.transport else {
            return Err(io::ErrorKind::InvalidInput.into());
        };
        if !self.payload_lens.contains(&payload.len()) {
            self.payload_lens.push(payload.len());
        }
        sockopt::set_ttl(&self.socket, self.ipv6, probe.ttl)?;
        sockopt::send_from(&self.socket, payload, SocketAddr::new(self.target, *dst_port), self.local.ip())
    }

    fn descriptors(&self) -> Vec<PollFd<'_>> {
        vec![PollFd::new(self.socket.as_fd(), PollFlags::POLLIN)]
    }

    fn receive(&mut self, replies: &mut Vec<(Reply, Instant)>) -> io::Result<()> {
        while let Some(received) = recv::receive(&self.socket, &mut self.buf, true)? {
            let at = received.at;
            let Some(dst) = received.from else { continue };
            // The kernel hands back the rest of the ICMP message after the quoted UDP header: the checksum (which
            // tells Paris probes apart) can be recomputed only from a whole payload.
            let checksum =
                self.whole_payload(received.len).map(|len| errqueue::udp_checksum(self.local, dst, &self.buf[..len]));
            let quoted = QuotedProbe::Udp { src_port: self.local.port(), dst_port: dst.port(), checksum };
            if let Some(reply) = errqueue::reply(&received, &self.buf[..received.len], self.local, quoted) {
                replies.push((reply, at));
            }
        }
        // Datagrams sent back to us (a destination that echoes UDP) are not replies; drain them.
        while recv::receive(&self.socket, &mut self.buf, false)?.is_some() {}
        Ok(())
    }
}
