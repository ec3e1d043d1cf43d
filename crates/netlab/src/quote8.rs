//! A router that quotes 8 bytes (RFC 792's minimum), for tests: the kernel cannot be told to (it quotes up to 576
//! bytes), so the node is made silent and a thread answers in its place. It sniffs the client's probes to a target
//! (IPv4) that expire in the node — those that arrive with TTL 1 — and sends the client a Time Exceeded from the
//! node's address quoting the probe's IP header and first 8 bytes of transport only.

use std::collections::HashSet;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

use crate::attack::Attack;
use crate::error::Result;
use crate::forge::{icmp, ipv4, ETH_P_IP, IPPROTO_RAW};
use crate::lab::Lab;
use crate::spec::NodeId;

/// What the short-quoting router answers.
#[derive(Debug, Clone, Copy)]
pub struct ShortQuotes {
    /// The tracing client.
    pub client: Ipv4Addr,
    /// Its target.
    pub target: Ipv4Addr,
    /// The address the node answers from (its address towards the client).
    pub from: Ipv4Addr,
    /// How long it answers (at most a minute).
    pub duration: Duration,
}

impl Lab {
    /// Starts answering, in `node` (which should be [`crate::RouterOpts::silent`]), the probes that expire there
    /// with Time Exceeded messages quoting 8 bytes; the attack's count is the messages sent.
    pub fn quote_8_bytes(&self, node: NodeId, quotes: ShortQuotes) -> Result<Attack> {
        Attack::start(self, node, "netlab-quote8", move |stop| run(&quotes, stop))
    }
}

fn run(quotes: &ShortQuotes, stop: &AtomicBool) -> std::io::Result<u64> {
    let started = Instant::now();
    let running = || !stop.load(Ordering::Relaxed) && started.elapsed() < quotes.duration.min(Duration::from_secs(60));
    let sniffer = Socket::new(Domain::PACKET, Type::DGRAM, Some(Protocol::from(i32::from(ETH_P_IP.to_be()))))?;
    sniffer.set_read_timeout(Some(Duration::from_millis(50)))?;
    let sender = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(IPPROTO_RAW)))?;
    let to = SocketAddr::new(IpAddr::V4(quotes.client), 0).into();
    // A probe forwarded through the node shows twice: in with TTL n, out with n - 1. One seen with TTL 2 going out
    // with TTL 1 is no probe expiring here: remember the transport bytes of those seen with TTL 2.
    let mut passing: HashSet<Vec<u8>> = HashSet::new();
    let mut buf = [0u8; 2048];
    let mut sent = 0;
    while running() {
        let Ok(len) = (&sniffer).read(&mut buf) else { continue };
        let packet = &buf[..len];
        let header = usize::from(packet.first().map_or(0, |b| b & 0xf)) * 4;
        let is_probe = header >= 20
            && packet.len() >= header + 8
            && packet[0] >> 4 == 4
            && packet[12..16] == quotes.client.octets()
            && packet[16..20] == quotes.target.octets();
        if !is_probe {
            continue;
        }
        let transport = &packet[header..len.min(header + 16)];
        match packet[8] {
            2 => {
                if passing.len() > 100_000 {
                    passing.clear();
                }
                passing.insert(transport.to_vec());
            }
            1 if !passing.remove(transport) => {
                let mut rest = vec![0; 4];
                rest.extend(&packet[..header + 8]);
                let message = ipv4(quotes.from, quotes.client, 1, &icmp(11, 0, &rest));
                if sender.send_to(&message, &to).is_ok() {
                    sent += 1;
                }
            }
            _ => {}
        }
    }
    Ok(sent)
}
