//! A packet-ring receiver (`AF_PACKET`, `TPACKET_V3`), as caracal's capture through libpcap: the kernel copies each
//! reply a classic BPF filter lets through into a ring of blocks shared with this process and stamps it there, with
//! no socket buffer, queue or clone per reply and without turning on receive timestamps for every packet of the
//! host; outgoing packets are not tapped at all (`PACKET_IGNORE_OUTGOING`). Its losses (ring full) are counted by
//! the kernel (`PACKET_STATISTICS`).

mod block;
mod sys;

use std::os::fd::AsFd;
use std::time::Duration;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use socket2::{Domain, Socket, Type};

pub(crate) use block::Frame;

use crate::sockopt::{get_option, set_option};
use crate::{filter, NetError};

/// A block's size: 32 pages, room for about 800 replies.
const BLOCK_SIZE: usize = 128 << 10;
/// Blocks in the ring: 4 MiB, replies for about 250 ms at 100,000 a second while the reader is away.
const BLOCKS: usize = 32;
/// The largest packet the ring is sized for (`TPACKET_V3` packs packets tighter; this only sets the frame count).
const FRAME_SIZE: usize = 2048;
/// How long the kernel keeps a block that is not full before handing it over, in milliseconds: the latency of a
/// reply at low rates.
const RETIRE_MS: u32 = 2;

/// The ring, its socket, and where reading resumes.
#[derive(Debug)]
pub(crate) struct PacketRing {
    // Unmapped before the socket closes: fields drop in order.
    mapping: sys::Mapping,
    socket: Socket,
    next: usize,
    lost: u64,
}

impl PacketRing {
    /// Opens a ring that captures the ICMP (`v4`) and ICMPv6 (`v6`) messages this host receives on any interface.
    pub(crate) fn open(v4: bool, v6: bool) -> Result<PacketRing, NetError> {
        // Every protocol on every interface; the filter chooses. What comes before it is attached waits in the
        // socket's queue, which is never read.
        let all = i32::from((libc::ETH_P_ALL as u16).to_be());
        let socket = crate::raw::privileged_socket(Domain::PACKET, Type::DGRAM, all)?;
        let io = |what| move |error| NetError::io(what)(error);
        filter::attach(&socket, &filter::capture(v4, v6)).map_err(io("attaching the capture filter"))?;
        let packet = |name, value: libc::c_int| set_option(&socket, libc::SOL_PACKET, name, &value);
        // Not even tapped (Linux 4.20); an older kernel taps them and the filter drops them.
        let _ = packet(libc::PACKET_IGNORE_OUTGOING, 1);
        packet(libc::PACKET_VERSION, libc::tpacket_versions::TPACKET_V3 as libc::c_int)
            .map_err(io("asking for TPACKET_V3"))?;
        let request = libc::tpacket_req3 {
            tp_block_size: BLOCK_SIZE as u32,
            tp_block_nr: BLOCKS as u32,
            tp_frame_size: FRAME_SIZE as u32,
            tp_frame_nr: (BLOCK_SIZE / FRAME_SIZE * BLOCKS) as u32,
            tp_retire_blk_tov: RETIRE_MS,
            tp_sizeof_priv: 0,
            tp_feature_req_word: 0,
        };
        set_option(&socket, libc::SOL_PACKET, libc::PACKET_RX_RING, &request)
            .map_err(io("setting up the receive ring"))?;
        let mapping = sys::Mapping::map(&socket, BLOCK_SIZE, BLOCKS).map_err(io("mapping the receive ring"))?;
        Ok(PacketRing { mapping, socket, next: 0, lost: 0 })
    }

    /// Hands every packet of the blocks the kernel has filled to `on_frame`, in order.
    pub(crate) fn drain(&mut self, mut on_frame: impl FnMut(Frame<'_>)) {
        while self.mapping.with_block(self.next, |bytes| block::frames(bytes).for_each(&mut on_frame)).is_some() {
            self.next = (self.next + 1) % self.mapping.blocks();
        }
    }

    /// Waits up to `timeout` for the kernel to hand a block over.
    pub(crate) fn wait(&self, timeout: Duration) {
        let mut fds = [PollFd::new(self.socket.as_fd(), PollFlags::POLLIN)];
        let timeout = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX);
        let _ = poll(&mut fds, timeout);
    }

    /// How long a block that is not full may take to come: after this, whatever arrived before is readable.
    pub(crate) fn latency() -> Duration {
        Duration::from_millis(u64::from(RETIRE_MS))
    }

    /// The packets the kernel dropped so far because the ring was full.
    pub(crate) fn lost(&mut self) -> u64 {
        // `PACKET_STATISTICS` counts since it was last read (reading resets it).
        if let Ok(stats) = get_option::<libc::tpacket_stats_v3>(&self.socket, libc::SOL_PACKET, libc::PACKET_STATISTICS)
        {
            self.lost += u64::from(stats.tp_drops);
        }
        self.lost
    }
}
