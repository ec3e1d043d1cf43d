//! The packets in one block of a `TPACKET_V3` receive ring, read from its bytes alone: every offset and length the
//! block states is checked against the block, so that whatever it holds, the walk neither panics nor reads past it
//! nor loops for longer than the block has room for headers.

/// Where the block descriptor's fields are (`struct tpacket_block_desc`, host byte order).
const NUM_PKTS: usize = 12;
const OFFSET_TO_FIRST_PKT: usize = 16;
const BLK_LEN: usize = 20;
/// A packet's header (`struct tpacket3_hdr`, host byte order), padded to 16 bytes, then `struct sockaddr_ll`.
const NEXT_OFFSET: usize = 0;
const SEC: usize = 4;
const NSEC: usize = 8;
const SNAPLEN: usize = 12;
const NET: usize = 26;
const HEADER: usize = 48;
/// `sll_protocol` (network byte order) in the `sockaddr_ll` after the header.
const PROTOCOL: usize = HEADER + 2;

/// One captured packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Frame<'a> {
    /// Its link-layer protocol (`ETH_P_IP`, `ETH_P_IPV6`, …).
    pub protocol: u16,
    /// When the kernel captured it: seconds since the Unix epoch…
    pub sec: u32,
    /// …and nanoseconds.
    pub nsec: u32,
    /// The packet from its network header on, as captured (at most its snapshot length).
    pub bytes: &'a [u8],
}

/// The packets of `block`, in order.
pub(crate) fn frames(block: &[u8]) -> Frames<'_> {
    // Only the bytes the block says it filled.
    let used = u32_at(block, BLK_LEN).map_or(0, |len| len as usize);
    let block = block.get(..used).unwrap_or(block);
    Frames {
        block,
        offset: u32_at(block, OFFSET_TO_FIRST_PKT).map_or(0, |offset| offset as usize),
        left: u32_at(block, NUM_PKTS).unwrap_or(0),
    }
}

/// The walk over a block's packets.
#[derive(Debug)]
pub(crate) struct Frames<'a> {
    block: &'a [u8],
    offset: usize,
    left: u32,
}

impl<'a> Iterator for Frames<'a> {
    type Item = Frame<'a>;

    fn next(&mut self) -> Option<Frame<'a>> {
        if self.left == 0 {
            return None;
        }
        let frame = self.frame();
        // A packet out of place ends the walk; so does a next offset too short to hold a header (which also
        // bounds the walk by the block's size, whatever count it states).
        match (frame, self.field(NEXT_OFFSET)) {
            (Some(_), Some(next)) if next as usize >= HEADER => {
                self.left -= 1;
                self.offset = self.offset.saturating_add(next as usize);
            }
            _ => self.left = 0,
        }
        frame
    }
}

impl<'a> Frames<'a> {
    /// The packet whose header is at the current offset.
    fn frame(&self) -> Option<Frame<'a>> {
        let header = self.block.get(self.offset..)?;
        let start = usize::from(u16_at(header, NET)?);
        let len = self.field(SNAPLEN)? as usize;
        Some(Frame {
            protocol: u16::from_be_bytes(header.get(PROTOCOL..PROTOCOL + 2)?.try_into().ok()?),
            sec: self.field(SEC)?,
            nsec: self.field(NSEC)?,
            bytes: header.get(start..start.checked_add(len)?)?,
        })
    }

    /// A 32-bit field of the current packet's header.
    fn field(&self, at: usize) -> Option<u32> {
        u32_at(self.block.get(self.offset..)?, at)
    }
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(bytes.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(bytes.get(at..at.checked_add(2)?)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A block as the kernel lays one out: descriptor, then each packet's header, address and bytes, 16-aligned.
    fn block(packets: &[(u16, u32, u32, &[u8])]) -> Vec<u8> {
        let first = 48;
        let mut block = vec![0u8; first];
        block[NUM_PKTS..NUM_PKTS + 4].copy_from_slice(&(packets.len() as u32).to_ne_bytes());
        block[OFFSET_TO_FIRST_PKT..OFFSET_TO_FIRST_PKT + 4].copy_from_slice(&(first as u32).to_ne_bytes());
        for (n, (protocol, sec, nsec, bytes)) in packets.iter().enumerate() {
            let at = block.len();
            let net = 80usize; // header, sockaddr_ll, aligned: where the kernel puts a cooked packet
            let size = (net + bytes.len()).next_multiple_of(16);
            block.resize(at + size, 0);
            let next = if n + 1 == packets.len() { 0 } else { size as u32 };
            let mut put =
                |offset: usize, value: &[u8]| block[at + offset..at + offset + value.len()].copy_from_slice(value);
            put(NEXT_OFFSET, &next.to_ne_bytes());
            put(SEC, &sec.to_ne_bytes());
            put(NSEC, &nsec.to_ne_bytes());
            put(SNAPLEN, &(bytes.len() as u32).to_ne_bytes());
            put(16, &(bytes.len() as u32).to_ne_bytes());
            put(NET, &(net as u16).to_ne_bytes());
            put(PROTOCOL, &protocol.to_be_bytes());
            put(net, bytes);
        }
        let len = block.len() as u32;
        block[BLK_LEN..BLK_LEN + 4].copy_from_slice(&len.to_ne_bytes());
        block.resize(4096, 0xee); // the rest of the block: stale bytes
        block
    }

    #[test]
    fn a_block_gives_its_packets_in_order_with_their_times() {
        let block =
            block(&[(0x0800, 1_700_000_000, 123_456_789, &[0x45; 28]), (0x86dd, 1_700_000_001, 5, &[0x60; 61])]);
        let frames: Vec<Frame<'_>> = frames(&block).collect();
        assert_eq!(
            frames,
            [
                Frame { protocol: 0x0800, sec: 1_700_000_000, nsec: 123_456_789, bytes: &[0x45; 28] },
                Frame { protocol: 0x86dd, sec: 1_700_000_001, nsec: 5, bytes: &[0x60; 61] },
            ]
        );
    }

    #[test]
    fn a_packet_out_of_the_block_ends_the_walk() {
        let mut bytes = block(&[(0x0800, 1, 2, &[0x45; 28]), (0x0800, 3, 4, &[0x45; 28])]);
        // The second packet's length runs past what the block filled.
        let second = 48 + (80 + 28usize).next_multiple_of(16);
        bytes[second + SNAPLEN..second + SNAPLEN + 4].copy_from_slice(&4000u32.to_ne_bytes());
        assert_eq!(frames(&bytes).count(), 1);
        // A count larger than the packets there, with a zero next offset: the walk stops at the last one.
        bytes[NUM_PKTS..NUM_PKTS + 4].copy_from_slice(&u32::MAX.to_ne_bytes());
        assert_eq!(frames(&bytes).count(), 1);
        // A next offset too short to hold a header.
        bytes[48..52].copy_from_slice(&1u32.to_ne_bytes());
        assert_eq!(frames(&bytes).count(), 1);
        assert_eq!(frames(&[]).count(), 0);
    }

    proptest! {
        #[test]
        fn any_bytes_walk_without_panic_within_the_block(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut count = 0usize;
            for frame in frames(&bytes) {
                count += 1;
                let inside = bytes.as_ptr_range();
                prop_assert!(frame.bytes.is_empty() || inside.contains(&frame.bytes.as_ptr()));
            }
            prop_assert!(count <= bytes.len() / HEADER + 1);
        }

        #[test]
        fn a_corrupted_block_walks_without_panic(flips in proptest::collection::vec((0usize..400, any::<u8>()), 0..12)) {
            let mut bytes = block(&[(0x0800, 1, 2, &[0x45; 40]), (0x86dd, 3, 4, &[0x60; 90])]);
            for (at, value) in flips {
                bytes[at] = value;
            }
            prop_assert!(frames(&bytes).count() <= 2 + bytes.len() / HEADER);
        }
    }
}
