//! ICMP and ICMPv6 messages in through a packet ring, each with the kernel's capture time.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

use engine::bulk::Arrival;
use packet::{IpProtocol, Ipv6Packet};

use super::ring::{Frame, PacketRing};
use crate::NetError;

/// The longest wait for replies before `stop` is looked at again.
const PAUSE: std::time::Duration = std::time::Duration::from_millis(10);

/// One message as read.
#[derive(Debug, Clone, Copy)]
pub struct Capture<'a> {
    /// The message as a raw socket gives it: IPv4, the whole packet; IPv6, the ICMPv6 message with its addresses
    /// (the destination is one of this host's, the probe's source) and hop limit.
    pub arrival: Arrival<'a>,
    /// When the kernel received it, in microseconds since the Unix epoch.
    pub micros: u64,
}

/// Reads every ICMP (and ICMPv6) message this host receives, as a raw socket would, through a packet ring.
#[derive(Debug)]
pub struct BulkReceiver {
    ring: PacketRing,
}

impl BulkReceiver {
    /// Opens the ring for the families wanted.
    pub fn open(v4: bool, v6: bool) -> Result<BulkReceiver, NetError> {
        Ok(BulkReceiver { ring: PacketRing::open(v4, v6)? })
    }

    /// Reads messages, handing each to `on_message`, until `stop` is set; then reads what is left and returns.
    /// `on_drained` is called whenever the ring was read empty (to flush what was written of them, say).
    pub fn run(
        &mut self,
        stop: &AtomicBool,
        mut on_message: impl FnMut(Capture<'_>),
        mut on_drained: impl FnMut(),
    ) -> io::Result<()> {
        let mut on_frame = |frame: Frame<'_>| deliver(frame, &mut on_message);
        loop {
            let stopping = stop.load(Ordering::Acquire);
            if stopping {
                // The block being filled is handed over within the retire timeout.
                std::thread::sleep(2 * PacketRing::latency());
            }
            self.ring.drain(&mut on_frame);
            on_drained();
            if stopping {
                return Ok(());
            }
            // Batched like caracal's capture: the kernel wakes us when a block is full or has waited its time.
            self.ring.wait(PAUSE);
        }
    }

    /// Messages the kernel dropped so far because the ring was full (the reader was behind).
    pub fn lost(&mut self) -> u64 {
        self.ring.lost()
    }
}

/// Hands the message in a captured packet to `on_message`, as a raw socket would give it; drops what is not one.
fn deliver(frame: Frame<'_>, on_message: &mut impl FnMut(Capture<'_>)) {
    let micros = u64::from(frame.sec) * 1_000_000 + u64::from(frame.nsec) / 1_000;
    match frame.protocol {
        // The filter took only ICMP: the decoder checks the rest, as of what a raw socket gives (a packet too
        // short for an IPv4 header is none).
        ETH_P_IP if frame.bytes.len() >= 20 => on_message(Capture { arrival: Arrival::V4(frame.bytes), micros }),
        ETH_P_IPV6 => {
            let Ok(ip) = Ipv6Packet::new_checked(frame.bytes) else { return };
            if ip.next_header() != IpProtocol::Icmpv6 {
                return;
            }
            // The message, without any link-layer padding after it (`new_checked` saw that it fits).
            let arrival = Arrival::V6 {
                message: ip.payload(),
                from: ip.src_addr(),
                to: ip.dst_addr(),
                hop_limit: ip.hop_limit(),
            };
            on_message(Capture { arrival, micros });
        }
        _ => {}
    }
}

const ETH_P_IP: u16 = libc::ETH_P_IP as u16;
const ETH_P_IPV6: u16 = libc::ETH_P_IPV6 as u16;
