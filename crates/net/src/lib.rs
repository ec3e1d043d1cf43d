//! The part of hoptrace that touches the operating system: sockets, and the event loop that drives the sans-IO
//! [`engine`].
//!
//! Without privileges (the default for ordinary users), UDP and TCP probes learn of ICMP errors through Linux's
//! socket error queue (`IP_RECVERR`, `MSG_ERRQUEUE`) and ICMP probes go through datagram "ping" sockets. With root
//! or `CAP_NET_RAW`, raw sockets send probes whose every header field is ours and receive whole ICMP messages,
//! extensions included.
//!
//! The loop is a plain `poll(2)` over a handful of descriptors: a trace has at most a few dozen sockets and wakes
//! only for replies and deadlines, so an async runtime would add weight and no speed. While waiting the process
//! sleeps in the kernel. A [`Fleet`] drives many traces from one such loop over sockets they share.

pub mod bulk;
mod departure;
mod error;
mod errqueue;
mod event_loop;
mod filter;
mod fleet;
mod icmp;
mod privilege;
mod random;
mod raw;
mod recv;
mod route;
mod sent_from;
mod sockopt;
mod source;
mod tcp;
mod udp;

pub use departure::Departure;
pub use error::NetError;
pub use event_loop::{idle, run, run_telling_failures};
pub use fleet::{Fleet, SharedSockets};
pub use privilege::{drop_privileges, lent_by_setuid, narrow_setuid, run_by_root};
pub use route::{next_hop, LinkAddress, NextHop};
pub use source::source_for;

use core::net::IpAddr;
use std::io;
use std::os::fd::BorrowedFd;
use std::time::Instant;

use engine::{Probe, Protocol, Reply, TraceConfig};

/// The length of the IP header the kernel puts in front of what a datagram or IPv6 raw socket sends.
pub(crate) fn ip_header_len(ipv6: bool) -> usize {
    if ipv6 {
        packet::ipv6::HEADER_LEN
    } else {
        packet::ipv4::HEADER_LEN
    }
}

/// Whether the reader at the other end of `fd` (a pipe or a socket) has gone, so that writing there would fail:
/// `poll(2)` reports an error condition on it. Never blocks.
pub fn reader_gone(fd: BorrowedFd<'_>) -> bool {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let mut fds = [PollFd::new(fd, PollFlags::empty())];
    poll(&mut fds, PollTimeout::ZERO)
        .is_ok_and(|_| fds[0].revents().is_some_and(|events| events.contains(PollFlags::POLLERR)))
}

/// Whether probes go through ordinary sockets or raw ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Privilege {
    /// Ordinary sockets: UDP and TCP with the error queue, ICMP through ping sockets.
    Unprivileged,
    /// Raw sockets (root or `CAP_NET_RAW`).
    Raw,
}

impl Privilege {
    /// Raw when this process may open raw sockets, else unprivileged.
    pub fn detect() -> Privilege {
        if raw::allowed() {
            Privilege::Raw
        } else {
            Privilege::Unprivileged
        }
    }
}

/// Socket options that apply to every probe.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SocketOptions {
    /// Send from this address (`-s`).
    pub source: Option<core::net::IpAddr>,
    /// Send through this interface (`-i`).
    pub interface: Option<String>,
    /// Type of service / traffic class (`-t`).
    pub tos: Option<u8>,
    /// Set Don't Fragment (`-F`).
    pub dont_fragment: bool,
    /// Send from this port (`--sport`; UDP and TCP) instead of one the kernel picks.
    pub source_port: Option<u16>,
    /// Firewall mark of every probe (`--fwmark`, `SO_MARK`).
    pub fwmark: Option<u32>,
    /// IPv6 flow label of every probe (`-l`); ping sockets ignore it.
    pub flow_label: Option<u32>,
    /// Send only to hosts on an attached network, bypassing routing (`-r`, `SO_DONTROUTE`).
    pub dont_route: bool,
}

/// A descriptor to wait on, and what it is waited for.
#[derive(Debug, Clone, Copy)]
pub struct Descriptor<'a> {
    /// The socket.
    pub fd: BorrowedFd<'a>,
    /// Waited on until writable (a connection attempt ends); otherwise until readable (a reply is there).
    pub writable: bool,
}

impl<'a> Descriptor<'a> {
    /// `fd`, waited on until readable.
    pub fn readable(fd: BorrowedFd<'a>) -> Self {
        Descriptor { fd, writable: false }
    }

    /// `fd`, waited on until writable.
    pub fn writable(fd: BorrowedFd<'a>) -> Self {
        Descriptor { fd, writable: true }
    }
}

/// Where a probe goes, and the address it leaves from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The trace's target.
    pub target: IpAddr,
    /// The trace's source address ([`Endpoint::source`]).
    pub source: IpAddr,
}

impl Route {
    /// The route of `config`'s probes, once [`Endpoint::configure`] set its source.
    pub fn of(config: &TraceConfig) -> Route {
        let source = config.source.unwrap_or_else(|| sockopt::unspecified(config.target.is_ipv6()));
        Route { target: config.target, source }
    }
}

/// Sends probes and collects replies: for one trace ([`open`]), or for many over shared sockets ([`SharedSockets`]).
pub trait Prober: Send {
    /// Sends `probe` along `route`, returning when it left: the moment just before the system call that put it on
    /// the wire.
    fn send(&mut self, probe: &Probe, route: Route) -> io::Result<Instant>;
    /// The descriptors to wait on for replies. (Errors are always reported.)
    fn descriptors(&self) -> Vec<Descriptor<'_>>;
    /// Reads every reply available now, without blocking, each with the time it was read.
    fn receive(&mut self, replies: &mut Vec<(Reply, Instant)>) -> io::Result<()>;
    /// Moves into `out` the probes [`receive`](Prober::receive) learnt the kernel's transmit time of, with that
    /// time: it corrects the time [`send`](Prober::send) returned, and comes before any reply to the probe.
    fn departures(&mut self, out: &mut Vec<Departure>) {
        let _ = out;
    }
    /// Replies the kernel dropped since the sockets were opened because a receive buffer was full, as far as it
    /// has said (it tells with the next packet it queues).
    fn dropped(&self) -> u64 {
        0
    }
}

/// What opening the sockets determined, which the trace's probes must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// The address probes leave from.
    pub source: IpAddr,
    /// The source port of UDP and TCP probes (the first one for classic TCP), or the identifier of ICMP echoes.
    pub identifier: u16,
    /// Whether probes go out through raw sockets (their IPv4 ID and TCP sequence number are then the engine's).
    pub raw: bool,
    /// A fresh random key for the fields that identify probes, which makes them unpredictable.
    pub secret: [u8; 16],
}

impl Endpoint {
    /// `config` completed with this endpoint: its source, port or ICMP identifier, raw sends and secret.
    pub fn configure(&self, config: &TraceConfig) -> TraceConfig {
        let mut config = config.clone();
        config.source = Some(self.source);
        config.raw_send = self.raw;
        config.secret = self.secret;
        match config.method.protocol {
            Protocol::Icmp => config.icmp_ident = self.identifier,
            Protocol::Udp | Protocol::Tcp => config.src_port = self.identifier,
        }
        config
    }
}

/// Opens the sockets for a trace of `config` (its target, method and waits); returns them with what they
/// determined, for [`Endpoint::configure`].
pub fn open(
    config: &TraceConfig,
    privilege: Privilege,
    options: &SocketOptions,
) -> Result<(Box<dyn Prober>, Endpoint), NetError> {
    let source = source_for(config.target, options)?;
    let raw = privilege == Privilege::Raw;
    fn boxed<P: Prober + 'static>((prober, identifier): (P, u16)) -> (Box<dyn Prober>, u16) {
        (Box::new(prober), identifier)
    }
    let (prober, identifier) = match (privilege, config.method.protocol) {
        (Privilege::Raw, _) => boxed(raw::RawProber::open(config, source, options)?),
        (Privilege::Unprivileged, Protocol::Udp) => boxed(udp::UdpProber::open(config, source, options)?),
        (Privilege::Unprivileged, Protocol::Icmp) => boxed(icmp::IcmpProber::open(config, source, options)?),
        (Privilege::Unprivileged, Protocol::Tcp) => boxed(tcp::TcpProber::open(config, options)?),
    };
    Ok((prober, Endpoint { source, identifier, raw, secret: random::bytes()? }))
}
