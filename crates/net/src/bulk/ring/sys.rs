//! What the packet ring needs of the kernel that socket2 and nix do not wrap: the ring's shared mapping with its
//! blocks' status words, all of the ring's own `unsafe` (its options and statistics go through `sockopt`).
#![allow(unsafe_code)]

use core::ptr::NonNull;
use core::sync::atomic::{AtomicU32, Ordering};
use std::io;
use std::os::fd::AsRawFd;

use socket2::Socket;

/// Where a block's status word is: after the descriptor's version and private-area offset.
const STATUS: usize = 8;

/// The receive ring as mapped into this process: `blocks` blocks of `block_size` bytes, each owned by the kernel
/// until it sets the block's status to `TP_STATUS_USER`, then by us until we set it back.
#[derive(Debug)]
pub(super) struct Mapping {
    base: NonNull<u8>,
    block_size: usize,
    blocks: usize,
}

// SAFETY: the mapping is plain shared memory owned by this value alone; nothing in it is tied to a thread.
unsafe impl Send for Mapping {}

impl Mapping {
    /// Maps the ring `socket` was given (`PACKET_RX_RING`) with these dimensions. `block_size` must be a multiple
    /// of the page size (the kernel refuses the ring otherwise).
    pub(super) fn map(socket: &Socket, block_size: usize, blocks: usize) -> io::Result<Mapping> {
        let len = block_size.checked_mul(blocks).ok_or(io::ErrorKind::InvalidInput)?;
        // SAFETY: a fresh shared mapping of the socket's ring at an address the kernel chooses; nothing else is
        // mapped or aliased. Its length is the ring's exactly.
        let address = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                socket.as_raw_fd(),
                0,
            )
        };
        if address == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let base = NonNull::new(address.cast()).ok_or(io::ErrorKind::InvalidData)?;
        Ok(Mapping { base, block_size, blocks })
    }

    /// How many blocks the ring has.
    pub(super) fn blocks(&self) -> usize {
        self.blocks
    }

    /// Block `index`'s status word, if there is such a block.
    fn status(&self, index: usize) -> Option<&AtomicU32> {
        if index >= self.blocks || self.block_size < STATUS + 4 {
            return None;
        }
        // SAFETY: the offset is inside the mapping (checked above), 4-aligned (blocks start on pages), and the
        // word lives as long as `self`. The kernel writes it too, so it is only ever accessed atomically.
        Some(unsafe { AtomicU32::from_ptr(self.base.as_ptr().add(index * self.block_size + STATUS).cast()) })
    }

    /// If the kernel has handed block `index` over, runs `read` on its bytes and hands it back; else `None`.
    pub(super) fn with_block<R>(&self, index: usize, read: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let status = self.status(index)?;
        if status.load(Ordering::Acquire) & libc::TP_STATUS_USER == 0 {
            return None;
        }
        // SAFETY: the block is inside the mapping; the kernel writes none of it while its status says it is ours
        // (it stops filling the ring instead), and the acquire load above orders its writes before our reads.
        // The slice lives only for `read` (which cannot return it), before the block goes back.
        let bytes =
            unsafe { core::slice::from_raw_parts(self.base.as_ptr().add(index * self.block_size), self.block_size) };
        let result = read(bytes);
        status.store(libc::TP_STATUS_KERNEL, Ordering::Release);
        Some(result)
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly what `map` mapped; no slice of it outlives `with_block`.
        unsafe {
            libc::munmap(self.base.as_ptr().cast(), self.block_size * self.blocks);
        }
    }
}
