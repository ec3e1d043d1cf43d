//! A sweeping forger on the path, for tests: it sniffs one probe from the client to its target (IPv4), then sends
//! the client, as fast as it can, sweeps of forged replies that try every value of the one 16-bit field that
//! tells probes apart — the echo sequence number, a UDP checksum or destination port, a TCP source port — all else
//! copied from the probe. Sweeps take turns: Time Exceeded from an address off the path quoting 8 bytes (RFC 792's
//! minimum), then the destination's own answer (an Echo Reply with no payload, a Port Unreachable quoting 8 bytes,
//! a reset without ACK). Bounded: one sweep is 65,536 packets, at most [`Sweep::sweeps`] of them, at most a minute.

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

use crate::attack::Attack;
use crate::error::Result;
use crate::forge::{fix_transport_checksum, icmp, ipv4, ETH_P_IP, IPPROTO_RAW};
use crate::lab::Lab;
use crate::spec::NodeId;

/// What the sweeping forger does.
#[derive(Debug, Clone, Copy)]
pub struct Sweep {
    /// The tracing client.
    pub client: Ipv4Addr,
    /// Its target.
    pub target: Ipv4Addr,
    /// The address its Time Exceeded messages come from: one off the path.
    pub forger: Ipv4Addr,
    /// Sweeps to send at most (65,536 packets each).
    pub sweeps: u32,
    /// How long it runs at most (capped at a minute).
    pub duration: Duration,
}

/// One kind of forged reply: which field of the probe is swept, and what carries it.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// A Time Exceeded quoting 8 bytes, the 16-bit field at this offset of the transport header swept.
    TimeExceeded(usize),
    /// The destination's answer, the field at this offset of the probe's transport header swept.
    Answer(usize),
}

impl Lab {
    /// Starts `sweep` in `node` (a router on the client's path); the attack's count is the packets sent.
    pub fn sweep(&self, node: NodeId, sweep: Sweep) -> Result<Attack> {
        Attack::start(self, node, "netlab-sweep", move |stop| run(&sweep, stop))
    }
}

fn run(sweep: &Sweep, stop: &AtomicBool) -> std::io::Result<u64> {
    let started = Instant::now();
    let running = || !stop.load(Ordering::Relaxed) && started.elapsed() < sweep.duration.min(Duration::from_secs(60));
    let Some(probe) = sniff(sweep, &running)? else { return Ok(0) };
    // (offsets in the transport header: echo sequence number; UDP checksum, destination port; TCP source port)
    let kinds: &[Kind] = match probe[9] {
        1 => &[Kind::TimeExceeded(6), Kind::Answer(6)],
        17 => &[Kind::TimeExceeded(6), Kind::Answer(6), Kind::TimeExceeded(2), Kind::Answer(2)],
        6 => &[Kind::TimeExceeded(0), Kind::Answer(0)],
        _ => return Ok(0),
    };
    let sender = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(IPPROTO_RAW)))?;
    let to = SocketAddr::new(IpAddr::V4(sweep.client), 0).into();
    let mut sent = 0;
    for round in 0..sweep.sweeps as usize {
        let kind = kinds[round % kinds.len()];
        for value in 0..=u16::MAX {
            if value % 1024 == 0 && !running() {
                return Ok(sent);
            }
            let Some(packet) = forged(sweep, &probe, kind, value) else { continue };
            // A full buffer costs the packet, not the sweep.
            if sender.send_to(&packet, &to).is_ok() {
                sent += 1;
            }
        }
    }
    Ok(sent)
}

/// The first probe from the client to the target crossing the node, from its IP header on.
fn sniff(sweep: &Sweep, running: &dyn Fn() -> bool) -> std::io::Result<Option<Vec<u8>>> {
    let sniffer = Socket::new(Domain::PACKET, Type::DGRAM, Some(Protocol::from(i32::from(ETH_P_IP.to_be()))))?;
    sniffer.set_read_timeout(Some(Duration::from_millis(50)))?;
    let mut buf = [0u8; 2048];
    while running() {
        let Ok(len) = (&sniffer).read(&mut buf) else { continue };
        let packet = &buf[..len];
        let header = usize::from(packet.first().map_or(0, |b| b & 0xf)) * 4;
        if packet.len() >= header + 8
            && packet[0] >> 4 == 4
            && packet[12..16] == sweep.client.octets()
            && packet[16..20] == sweep.target.octets()
        {
            return Ok(Some(packet.to_vec()));
        }
    }
    Ok(None)
}

/// `probe`'s IP header and first 8 transport bytes, the 16-bit field at `at` set to `value`.
fn short_probe(probe: &[u8], at: usize, value: u16) -> Vec<u8> {
    let header = usize::from(probe[0] & 0xf) * 4;
    let mut quoted = probe[..header + 8].to_vec();
    quoted[header + at..header + at + 2].copy_from_slice(&value.to_be_bytes());
    quoted
}

/// The forged reply of `kind` to `probe` with `value` in the swept field.
fn forged(sweep: &Sweep, probe: &[u8], kind: Kind, value: u16) -> Option<Vec<u8>> {
    let header = usize::from(probe[0] & 0xf) * 4;
    let transport = probe.get(header..header + 8)?;
    match (kind, probe[9]) {
        (Kind::TimeExceeded(at), _) => {
            let mut rest = vec![0; 4];
            rest.extend(short_probe(probe, at, value));
            Some(ipv4(sweep.forger, sweep.client, 1, &icmp(11, 0, &rest)))
        }
        // An Echo Reply with the probe's identifier, no payload.
        (Kind::Answer(_), 1) => {
            let mut rest = transport[4..6].to_vec();
            rest.extend(value.to_be_bytes());
            Some(ipv4(sweep.target, sweep.client, 1, &icmp(0, 0, &rest)))
        }
        (Kind::Answer(at), 17) => {
            let mut rest = vec![0; 4];
            rest.extend(short_probe(probe, at, value));
            Some(ipv4(sweep.target, sweep.client, 1, &icmp(3, 3, &rest)))
        }
        // A reset without ACK from the probe's destination port to the swept port.
        (Kind::Answer(_), 6) => {
            let mut tcp = transport[2..4].to_vec();
            tcp.extend(value.to_be_bytes());
            tcp.extend([0; 8]); // sequence and acknowledgement numbers
            tcp.extend([0x50, 0x04, 0, 0, 0, 0, 0, 0]); // RST, no window
            let mut packet = ipv4(sweep.target, sweep.client, 6, &tcp);
            fix_transport_checksum(&mut packet, 20);
            Some(packet)
        }
        _ => None,
    }
}
