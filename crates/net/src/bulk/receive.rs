//! ICMP and ICMPv6 messages in through a packet ring, each with the kernel's capture time.

use core::net::IpAddr;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

use packet::{IpProtocol, Ipv6Packet};

use super::ring::{Frame, PacketRing};
use crate::NetError;

/// The longest wait for replies before `stop` is looked at again.
const PAUSE: std::time::Duration = std::time::Duration::from_millis(10);

/// One message as read.
#[derive(Debug, Clone, Copy)]
pub struct Capture<'a> {
    /// IPv4: the whole packet, header included. IPv6: the ICMPv6 message.
    pub bytes: &'a [u8],
    /// Whether it is ICMPv6.
    pub ipv6: bool,
    /// Its sender.
    pub from: IpAddr,
    /// Its destination: one of this host's addresses, the probe's source.
    pub to: IpAddr,
    /// Its hop limit (IPv6; for IPv4 it is in the header).
    pub hop_limit: Option<u8>,
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
        let mut on_frame = |frame: Frame<'_>| {
            if let Some(capture) = capture(frame) {
                on_message(capture);
            }
        };
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

/// The message in a captured packet, as a raw socket would give it; `None` for what is not one.
fn capture(frame: Frame<'_>) -> Option<Capture<'_>> {
    let micros = u64::from(frame.sec) * 1_000_000 + u64::from(frame.nsec) / 1_000;
    match frame.protocol {
        // The filter took only ICMP: the decoder checks the rest, as of what a raw socket gives.
        ETH_P_IP => {
            let from = IpAddr::from(<[u8; 4]>::try_from(frame.bytes.get(12..16)?).ok()?);
            let to = IpAddr::from(<[u8; 4]>::try_from(frame.bytes.get(16..20)?).ok()?);
            Some(Capture { bytes: frame.bytes, ipv6: false, from, to, hop_limit: None, micros })
        }
        ETH_P_IPV6 => {
            let ip = Ipv6Packet::new_checked(frame.bytes).ok()?;
            if ip.next_header() != IpProtocol::Icmpv6 {
                return None;
            }
            // The message, without any link-layer padding after it (`new_checked` saw that it fits).
            let bytes = frame.bytes.get(40..40 + usize::from(ip.payload_len()))?;
            let (from, to, hop_limit) = (IpAddr::V6(ip.src_addr()), IpAddr::V6(ip.dst_addr()), Some(ip.hop_limit()));
            Some(Capture { bytes, ipv6: true, from, to, hop_limit, micros })
        }
        _ => None,
    }
}

const ETH_P_IP: u16 = libc::ETH_P_IP as u16;
const ETH_P_IPV6: u16 = libc::ETH_P_IPV6 as u16;
