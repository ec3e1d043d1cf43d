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
//! sleeps in the kernel.

mod error;
mod errqueue;
mod event_loop;
mod filter;
mod icmp;
mod privilege;
mod random;
mod raw;
mod recv;
mod sockopt;
mod source;
mod tcp;
mod udp;

pub use error::NetError;
pub use event_loop::{idle, run, run_telling_failures};
pub use privilege::{drop_privileges, run_by_root};
pub use source::source_for;

use engine::{Probe, Reply, TraceConfig};
use nix::poll::PollFd;
use std::io;
use std::time::Instant;

/// Whether probes go through ordinary sockets or raw ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

/// Sends probes and collects replies for one trace.
pub trait Prober {
    /// Sends `probe`, returning when it left: the moment just before the system call that put it on the wire.
    fn send(&mut self, probe: &Probe) -> io::Result<Instant>;
    /// The descriptors to wait on for replies, with the events that mean one may be there. (Errors are always
    /// reported.)
    fn descriptors(&self) -> Vec<PollFd<'_>>;
    /// Reads every reply available now, without blocking, each with the time it was read.
    fn receive(&mut self, replies: &mut Vec<(Reply, Instant)>) -> io::Result<()>;
    /// Replies the kernel dropped since the sockets were opened because a receive buffer was full, as far as it
    /// has said (it tells with the next packet it queues).
    fn dropped(&self) -> u64 {
        0
    }
}

/// Opens the sockets for a trace of `config` and completes `config` with what they determine: the source
/// address, the source port, the ICMP identifier, whether sends are raw — and a fresh random secret, which makes
/// the fields that identify probes unpredictable.
pub fn open(
    config: &mut TraceConfig,
    privilege: Privilege,
    options: &SocketOptions,
) -> Result<Box<dyn Prober>, NetError> {
    use engine::Method;
    let source = source_for(config.target, options)?;
    config.source = Some(source);
    config.raw_send = privilege == Privilege::Raw;
    config.secret = random::bytes()?;
    Ok(match (privilege, config.method) {
        (Privilege::Raw, _) => Box::new(raw::RawProber::open(config, options)?),
        (Privilege::Unprivileged, Method::Udp | Method::UdpParis) => Box::new(udp::UdpProber::open(config, options)?),
        (Privilege::Unprivileged, Method::Icmp | Method::IcmpParis) => {
            Box::new(icmp::IcmpProber::open(config, options)?)
        }
        (Privilege::Unprivileged, Method::Tcp | Method::TcpParis) => Box::new(tcp::TcpProber::open(config, options)?),
    })
}
