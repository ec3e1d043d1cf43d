//! When probes left: the kernel's transmit timestamps (`SO_TIMESTAMPING`, software, taken as the driver is handed
//! the packet), so that an RTT runs from the wire to the wire — not from before the system call, whose work
//! (building the packet, the route lookup) would otherwise count as network latency.
//!
//! The kernel returns each stamp on the socket's error queue with a copy of the packet as it was handed to the
//! driver: a link-layer header (of a length that depends on the device), the IP packet, perhaps padding. A stamp
//! is matched to its probe by the bytes at a known place in the IP packet (the start of the payload, or of the
//! packet itself for raw sockets), which carry each probe's unpredictable fields; a stamp that matches nothing is
//! ignored, and a probe whose stamp never comes keeps the time taken just before its system call.

use core::net::IpAddr;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use engine::ProbeId;
use nix::sys::socket::{setsockopt, sockopt, TimestampingFlag};
use socket2::Socket;

use crate::recv::Received;

/// Bytes compared to tell probes apart: each probe's own bytes (keyed payload, identifier, sequence number)
/// lie within them.
const KEY_LEN: usize = 16;

/// Fewer bytes than this do not tell probes apart: such probes keep their send-call time.
const MIN_KEY_LEN: usize = 8;

/// How long a probe's stamp is awaited: it comes within microseconds unless the packet was dropped on the way
/// to the driver (then never).
const PATIENCE: Duration = Duration::from_secs(1);

/// Link-layer header lengths tried when the packet was padded: none (TUN, IP tunnels), Ethernet, 802.1Q.
const LINK_HEADERS: [usize; 3] = [0, 14, 18];

/// Asks the kernel for software transmit timestamps of everything `socket` sends. A kernel that refuses leaves
/// the send-call times in use.
pub(crate) fn enable(socket: &Socket) {
    let flags = TimestampingFlag::SOF_TIMESTAMPING_TX_SOFTWARE | TimestampingFlag::SOF_TIMESTAMPING_SOFTWARE;
    let _ = setsockopt(socket, sockopt::Timestamping, &flags);
}

/// When a probe left, as the kernel said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Departure {
    /// The probe's target: with sockets many traces share, the probe's number is not enough to name it.
    pub target: IpAddr,
    /// The probe.
    pub probe: ProbeId,
    /// When it left.
    pub at: Instant,
}

/// A probe sent whose transmit stamp is awaited.
#[derive(Debug)]
struct Awaited {
    id: ProbeId,
    target: IpAddr,
    /// The IP packet's length.
    packet_len: usize,
    /// Where the compared bytes start in the IP packet.
    key_at: usize,
    key: [u8; KEY_LEN],
    key_len: usize,
    sent_at: Instant,
}

/// Probes awaiting their transmit stamps, and the stamps matched so far.
#[derive(Debug, Default)]
pub(crate) struct Departures {
    awaited: VecDeque<Awaited>,
    departed: Vec<Departure>,
}

impl Departures {
    /// Records that probe `id` was sent to `target` at `sent_at`: the kernel put `added` bytes of headers in
    /// front of `sent`, the bytes handed to it, and may have rewritten the first `rewritten` of them (a checksum,
    /// an identifier); the rest tells the probe.
    pub(crate) fn sent(
        &mut self,
        (id, target): (ProbeId, IpAddr),
        sent_at: Instant,
        added: usize,
        sent: &[u8],
        rewritten: usize,
    ) {
        let (packet_len, key_at) = (added + sent.len(), added + rewritten);
        let bytes = sent.get(rewritten..).unwrap_or_default();
        let key_len = bytes.len().min(KEY_LEN);
        if key_len < MIN_KEY_LEN {
            return;
        }
        while self.awaited.front().is_some_and(|old| sent_at.saturating_duration_since(old.sent_at) > PATIENCE) {
            self.awaited.pop_front();
        }
        let mut key = [0; KEY_LEN];
        key[..key_len].copy_from_slice(&bytes[..key_len]);
        self.awaited.push_back(Awaited { id, target, packet_len, key_at, key, key_len, sent_at });
    }

    /// Takes the stamp `received` is, if it is one (then returns true): `looped` is the packet returned with it.
    pub(crate) fn take_stamp(&mut self, received: &Received, looped: &[u8]) -> bool {
        if !received.error.is_some_and(|error| error.is_departure()) {
            return false;
        }
        if let Some(at) = received.departed {
            self.stamped(looped, at);
        }
        true
    }

    /// Takes a stamp: `looped` is the packet the kernel returned with it, stamped at `at`.
    fn stamped(&mut self, looped: &[u8], at: Instant) {
        let found = self.awaited.iter().position(|awaited| {
            // Unpadded, the IP packet ends the copy; padded, it starts after one of the usual link headers.
            let unpadded = looped.len().checked_sub(awaited.packet_len);
            unpadded.into_iter().chain(LINK_HEADERS).any(|start| {
                let at = start + awaited.key_at;
                looped.get(at..at + awaited.key_len) == Some(&awaited.key[..awaited.key_len])
            })
        });
        if let Some(awaited) = found.and_then(|index| self.awaited.remove(index)) {
            // A stamp before the call began is a clock step or a mismatch: the call's time stands.
            if at >= awaited.sent_at {
                self.departed.push(Departure { target: awaited.target, probe: awaited.id, at });
            }
        }
    }

    /// The probes whose stamps came since the last call, with when they left.
    pub(crate) fn take(&mut self, out: &mut Vec<Departure>) {
        out.append(&mut self.departed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TARGET: IpAddr = IpAddr::V4(core::net::Ipv4Addr::new(198, 18, 0, 1));

    fn id(n: u32) -> (ProbeId, IpAddr) {
        (ProbeId(n), TARGET)
    }

    fn departed(n: u32, at: Instant) -> Departure {
        Departure { target: TARGET, probe: ProbeId(n), at }
    }

    /// An IP packet of `len` bytes whose bytes from 28 on are `tag` repeated.
    fn packet(len: usize, tag: u8) -> Vec<u8> {
        let mut bytes = vec![0x45; len];
        bytes[28..].fill(tag);
        bytes
    }

    #[test]
    fn a_stamp_goes_to_the_probe_whose_bytes_the_copy_carries_behind_any_link_header_or_padding() {
        let start = Instant::now();
        let mut departures = Departures::default();
        let (a, b) = (packet(60, 0xaa), packet(60, 0xbb));
        departures.sent(id(1), start, 0, &a, 28);
        departures.sent(id(2), start, 0, &b, 28);
        let later = start + Duration::from_micros(7);
        // b's stamp first, behind an Ethernet header; then a's, padded after an Ethernet header.
        departures.stamped(&[&[0; 14][..], &b].concat(), later);
        departures.stamped(&[&[0; 14][..], &a, &[0; 4][..]].concat(), later + Duration::from_micros(1));
        // A copy of something else: no probe's.
        departures.stamped(&packet(60, 0xcc), later);
        let mut out = Vec::new();
        departures.take(&mut out);
        assert_eq!(out, vec![departed(2, later), departed(1, later + Duration::from_micros(1))]);
        departures.take(&mut out);
        assert_eq!(out.len(), 2, "taken once");
    }

    #[test]
    fn probes_too_short_to_tell_apart_and_stamps_before_the_call_are_ignored() {
        let start = Instant::now() + Duration::from_secs(1);
        let mut departures = Departures::default();
        departures.sent(id(1), start, 28, &[1, 2], 0);
        departures.sent(id(2), start, 0, &packet(60, 0xaa), 28);
        departures.stamped(&packet(30, 1), start);
        departures.stamped(&packet(60, 0xaa), start - Duration::from_micros(1));
        let mut out = Vec::new();
        departures.take(&mut out);
        assert_eq!(out, vec![]);
    }

    #[test]
    fn a_stamp_long_awaited_is_given_up() {
        let start = Instant::now();
        let mut departures = Departures::default();
        departures.sent(id(1), start, 0, &packet(60, 0xaa), 28);
        departures.sent(id(2), start + PATIENCE * 2, 0, &packet(60, 0xbb), 28);
        departures.stamped(&packet(60, 0xaa), start + PATIENCE * 2);
        let mut out = Vec::new();
        departures.take(&mut out);
        assert_eq!(out, vec![]);
        assert_eq!(departures.awaited.len(), 1);
    }
}
