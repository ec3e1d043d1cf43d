//! Hostile traffic from inside a lab node, for tests and benchmarks: floods of ICMP errors that answer no probe
//! of the client's, at a fixed rate for a bounded time. Sent by a thread that enters the node's namespace.

use std::fs::File;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use nix::sched::{setns, CloneFlags};
use socket2::{Domain, Protocol, Socket, Type};

use crate::error::{Error, Result};
use crate::lab::Lab;
use crate::spec::NodeId;

/// ICMP Time Exceeded messages sent to `to`, `rate` a second for `duration`, each quoting a UDP datagram from
/// `to` to port 9 of `quoted_dst` (every other one) or of an address no probe goes to: errors that answer nothing
/// the client sent, some of which a filter on the quoted destination cannot tell apart.
#[derive(Debug, Clone, Copy)]
pub struct Flood {
    /// Who gets the errors (the tracing client).
    pub to: IpAddr,
    /// The destination every other error quotes (the client's target, say).
    pub quoted_dst: IpAddr,
    /// Errors a second.
    pub rate: u32,
    /// How long (bounded: at most a minute).
    pub duration: Duration,
}

/// The longest flood allowed.
const MAX_DURATION: Duration = Duration::from_secs(60);

/// Hostile traffic under way ([`Lab::flood`], [`Lab::forge`]): a thread inside a node's namespace.
#[derive(Debug)]
pub struct Attack {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<std::io::Result<u64>>,
}

impl Attack {
    /// Starts `body` on a thread named `name` inside `node`'s namespace; `body` sees the stop flag.
    pub(crate) fn start(
        lab: &Lab,
        node: NodeId,
        name: &str,
        body: impl FnOnce(&AtomicBool) -> std::io::Result<u64> + Send + 'static,
    ) -> Result<Self> {
        let ns = lab.ns(node).to_owned();
        let namespace =
            File::open(format!("/run/netns/{ns}")).map_err(|e| Error::io(format!("opening namespace {ns}"), e))?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                setns(&namespace, CloneFlags::CLONE_NEWNET)?;
                body(&stopped)
            })
            .map_err(|e| Error::io(format!("starting thread {name}"), e))?;
        Ok(Attack { stop, thread })
    }

    /// Waits for it to end by itself; how many packets it sent.
    pub fn join(self) -> std::io::Result<u64> {
        self.thread.join().unwrap_or_else(|_| Err(std::io::Error::other("the attacking thread panicked")))
    }

    /// Ends it now; how many packets it sent.
    pub fn stop(self) -> std::io::Result<u64> {
        self.stop.store(true, Ordering::Relaxed);
        self.join()
    }
}

impl Lab {
    /// Starts `flood` from `node`.
    pub fn flood(&self, node: NodeId, flood: Flood) -> Result<Attack> {
        Attack::start(self, node, "netlab-flood", move |stop| send_flood(&flood, stop))
    }
}

fn send_flood(flood: &Flood, stop: &AtomicBool) -> std::io::Result<u64> {
    let ipv6 = flood.to.is_ipv6();
    let (domain, protocol) = if ipv6 { (Domain::IPV6, Protocol::ICMPV6) } else { (Domain::IPV4, Protocol::ICMPV4) };
    let socket = Socket::new(domain, Type::RAW, Some(protocol))?;
    socket.set_nonblocking(true)?;
    let to = SocketAddr::new(flood.to, 0).into();
    let unrelated: IpAddr =
        if ipv6 { "2001:db8:ffff::9".parse() } else { "198.19.255.9".parse() }.expect("a literal address");
    let start = Instant::now();
    let duration = flood.duration.min(MAX_DURATION);
    let mut sent = 0u64;
    while start.elapsed() < duration && !stop.load(Ordering::Relaxed) {
        // Whole milliseconds: as many as the rate allows by now, then a sleep to the next millisecond.
        let due = (start.elapsed().as_micros() as u64 * u64::from(flood.rate)) / 1_000_000;
        while sent < due {
            let quoted_dst = if sent.is_multiple_of(2) { flood.quoted_dst } else { unrelated };
            let message = time_exceeded(flood.to, quoted_dst, sent as u16);
            // A full buffer costs the packet, not the flood.
            let _ = socket.send_to(&message, &to);
            sent += 1;
        }
        thread::sleep(Duration::from_millis(1));
    }
    Ok(sent)
}

/// An ICMP (ICMPv6) Time Exceeded quoting a UDP datagram from `src` port `sport` to `quoted_dst` port 9.
fn time_exceeded(src: IpAddr, quoted_dst: IpAddr, sport: u16) -> Vec<u8> {
    let udp = |len: u16| {
        let mut udp = sport.max(1024).to_be_bytes().to_vec();
        udp.extend(9u16.to_be_bytes());
        udp.extend(len.to_be_bytes());
        udp.extend([0, 0]);
        udp
    };
    match (src, quoted_dst) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => {
            let mut message = vec![11, 0, 0, 0, 0, 0, 0, 0, 0x45, 0, 0, 28, 0, 0, 0, 0, 1, 17, 0, 0];
            message.extend(src.octets());
            message.extend(dst.octets());
            message.extend(udp(8));
            let sum = packet::checksum::finish(packet::checksum::data(&message));
            message[2..4].copy_from_slice(&sum.to_be_bytes());
            message
        }
        (IpAddr::V6(src), IpAddr::V6(dst)) => {
            // The kernel computes an ICMPv6 checksum itself.
            let mut message = vec![3, 0, 0, 0, 0, 0, 0, 0, 0x60, 0, 0, 0, 0, 8, 17, 1];
            message.extend(src.octets());
            message.extend(dst.octets());
            message.extend(udp(8));
            message
        }
        _ => Vec::new(),
    }
}
