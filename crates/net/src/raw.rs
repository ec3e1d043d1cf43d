//! Raw sockets (root or `CAP_NET_RAW`): probes are built whole by the engine, replies are whole ICMP messages —
//! with the router's quote, extensions (MPLS labels) and all. Opened for the unspecified target, the sockets
//! serve traces to any target: the kernel's filters then check everything but the destination.

use core::net::{IpAddr, SocketAddr};
use std::io;
use std::os::fd::AsFd;
use std::time::Instant;

use engine::{decode, Probe, Protocol as ProbeProtocol, Reply, TraceConfig};
use packet::IpProtocol;
use socket2::{Domain, Protocol, Socket, Type};

use crate::departure::{self, Departure, Departures};
use crate::{filter, random, recv, sockopt, Descriptor, NetError, Prober, Route, SocketOptions};

/// Whether this process may open raw sockets.
pub(crate) fn allowed() -> bool {
    Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4)).is_ok()
}

/// Sends through one raw socket and listens on raw ICMP (and TCP, for TCP probes) sockets.
pub(crate) struct RawProber {
    sender: Socket,
    listeners: Vec<Listener>,
    /// Holds the UDP source port so that no other program on this host uses it meanwhile.
    _port_reservation: Option<Socket>,
    /// The address the sockets are bound to (unspecified when shared).
    source: IpAddr,
    ipv6: bool,
    tos: u8,
    dont_fragment: bool,
    /// The user's IPv6 flow label (`-l`).
    flow_label: Option<u32>,
    departures: Departures,
    buf: Vec<u8>,
}

impl RawProber {
    /// Opens the raw sockets for probes of `config` from `source`; returns them with the source port (UDP, TCP)
    /// or ICMP identifier the probes are to carry.
    pub(crate) fn open(config: &TraceConfig, source: IpAddr, options: &SocketOptions) -> Result<(Self, u16), NetError> {
        let ipv6 = config.target.is_ipv6();
        let domain = if ipv6 { Domain::IPV6 } else { Domain::IPV4 };
        let probe_protocol = config.method.ip_protocol(ipv6);
        // IPv4: one IPPROTO_RAW socket (header included) sends every kind of probe with our own IP header.
        // IPv6 has no header inclusion: a raw socket of the probe's protocol, the kernel adds the header.
        let send_protocol = if ipv6 { i32::from(u8::from(probe_protocol)) } else { libc::IPPROTO_RAW };
        let sender = privileged_socket(domain, Type::RAW, send_protocol)?;
        sockopt::apply(&sender, ipv6, options)?;
        sender.bind(&SocketAddr::new(source, 0).into()).map_err(|error| NetError::BadSource(source, error))?;
        // An IPv6 raw socket also receives every packet of its protocol, replies included: unread, they would fill
        // the buffer its transmit stamps are counted against.
        filter::attach(&sender, &filter::nothing()).map_err(NetError::io("filtering the sending socket"))?;
        departure::enable(&sender);

        let mut port_reservation = None;
        let identifier = match config.method.protocol {
            ProbeProtocol::Udp => {
                // Reserved on every address: a quote naming another source (a NAT's) with this port is ours.
                let socket = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))
                    .map_err(NetError::io("reserving a UDP port"))?;
                socket
                    .bind(&SocketAddr::new(sockopt::unspecified(ipv6), options.source_port.unwrap_or(0)).into())
                    .map_err(NetError::io("reserving a UDP port"))?;
                let port = sockopt::local_addr(&socket)?.port();
                port_reservation = Some(socket);
                port
            }
            ProbeProtocol::Icmp => u16::from_ne_bytes(random::bytes()?),
            ProbeProtocol::Tcp => match options.source_port {
                Some(port) => port,
                None => crate::tcp::first_source_port()?,
            },
        };

        let buffer = sockopt::receive_buffer_for(config.max_in_flight);
        let icmp = if ipv6 { libc::IPPROTO_ICMPV6 } else { libc::IPPROTO_ICMP };
        let ours = match config.method.protocol {
            ProbeProtocol::Udp => filter::Ours::Udp { src_port: identifier },
            ProbeProtocol::Icmp => filter::Ours::Echo { ident: identifier },
            ProbeProtocol::Tcp => filter::Ours::Tcp { dst_port: config.dst_port },
        };
        let icmp_filter = filter::icmp(config.target, ours);
        let mut listeners = vec![Listener::open(domain, icmp, ipv6, &icmp_filter, buffer)?];
        if config.method.is_tcp() {
            listeners.push(Listener::open(
                domain,
                libc::IPPROTO_TCP,
                ipv6,
                &filter::tcp(config.target, config.dst_port),
                buffer,
            )?);
        }
        let prober = RawProber {
            sender,
            listeners,
            _port_reservation: port_reservation,
            source,
            ipv6,
            tos: options.tos.unwrap_or(0),
            dont_fragment: options.dont_fragment,
            flow_label: options.flow_label,
            departures: Departures::default(),
            buf: vec![0; 4096],
        };
        Ok((prober, identifier))
    }
}

/// A raw or packet socket, or the error that says such sockets need privileges.
pub(crate) fn privileged_socket(domain: Domain, kind: Type, protocol: i32) -> Result<Socket, NetError> {
    Socket::new(domain, kind, Some(Protocol::from(protocol))).map_err(|error| match error.raw_os_error() {
        Some(libc::EPERM | libc::EACCES) => NetError::RawNotPermitted,
        _ => NetError::io("opening a raw or packet socket")(error),
    })
}

/// A raw socket that receives replies of one protocol.
struct Listener {
    socket: Socket,
    /// The IP protocol.
    protocol: IpProtocol,
    /// Packets the kernel dropped on this socket so far, as it last said.
    dropped: u32,
}

impl Listener {
    /// Opens a listener for `protocol` that takes only what `program` accepts, with room for `buffer` bytes.
    fn open(
        domain: Domain,
        protocol: i32,
        ipv6: bool,
        program: &[libc::sock_filter],
        buffer: usize,
    ) -> Result<Self, NetError> {
        let socket = privileged_socket(domain, Type::RAW, protocol)?;
        // Filter first: nothing unfiltered is queued in between (what was is read and dropped by the decoder).
        filter::attach(&socket, program).map_err(NetError::io("filtering replies"))?;
        socket.set_nonblocking(true).map_err(NetError::io("making the socket non-blocking"))?;
        sockopt::prepare_receiving(&socket, buffer).map_err(NetError::io("preparing to receive"))?;
        if ipv6 {
            use nix::sys::socket::{setsockopt, sockopt};
            setsockopt(&socket, sockopt::Ipv6RecvHopLimit, &true)
                .map_err(|errno| NetError::io("asking for hop limits")(errno.into()))?;
            // Our address, which the ICMPv6 checksum covers, when bound to none.
            setsockopt(&socket, sockopt::Ipv6RecvPacketInfo, &true)
                .map_err(|errno| NetError::io("asking for destination addresses")(errno.into()))?;
        }
        Ok(Listener { socket, protocol: IpProtocol::from(protocol as u8), dropped: 0 })
    }
}

impl Prober for RawProber {
    fn send(&mut self, probe: &Probe, route: Route) -> io::Result<Instant> {
        let to = sockopt::destination(route.target, 0, self.flow_label).into();
        // The kernel adds the IPv6 header and may fill in fields of our IPv4 one; the transport's checksum (2
        // bytes in) may be its too (ICMPv6's always is): what follows tells the probe.
        let (sent_at, bytes, added, rewritten) = if self.ipv6 {
            sockopt::set_ttl(&self.sender, true, probe.ttl)?;
            let bytes = probe.transport_bytes(route.source, route.target);
            (sockopt::send_to(&self.sender, &bytes, &to)?, bytes, packet::ipv6::HEADER_LEN, 4)
        } else {
            let bytes = probe.packet_bytes(route.source, route.target, self.tos, self.dont_fragment);
            (sockopt::send_to(&self.sender, &bytes, &to)?, bytes, 0, packet::ipv4::HEADER_LEN + 4)
        };
        self.departures.sent((probe.id, route.target), sent_at, added, &bytes, rewritten);
        Ok(sent_at)
    }

    fn descriptors(&self) -> Vec<Descriptor<'_>> {
        self.listeners.iter().map(|listener| Descriptor::readable(listener.socket.as_fd())).collect()
    }

    fn receive(&mut self, replies: &mut Vec<(Reply, Instant)>) -> io::Result<()> {
        // The stamps first: a reply read below may answer a probe whose stamp waits here.
        while let Some(received) = recv::receive(&self.sender, &mut self.buf, true)? {
            self.departures.take_stamp(&received, &self.buf[..received.len]);
        }
        for listener in &mut self.listeners {
            while let Some(received) = recv::receive(&listener.socket, &mut self.buf, false)? {
                let at = received.at;
                listener.dropped = listener.dropped.max(received.dropped);
                let bytes = &self.buf[..received.len];
                let reply = match (self.ipv6, received.from) {
                    (false, _) => decode::ipv4_packet(bytes),
                    (true, Some(from)) => {
                        let to = received.to.unwrap_or(self.source);
                        decode::ipv6_payload(bytes, listener.protocol, from.ip(), to, received.ttl)
                    }
                    (true, None) => continue,
                };
                if let Ok(reply) = reply {
                    replies.push((reply, at));
                }
            }
        }
        Ok(())
    }

    fn dropped(&self) -> u64 {
        self.listeners.iter().map(|listener| u64::from(listener.dropped)).sum()
    }

    fn departures(&mut self, out: &mut Vec<Departure>) {
        self.departures.take(out);
    }
}
