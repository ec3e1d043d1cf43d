//! A bound on the probes any one destination receives per second, in constant memory.

use core::net::IpAddr;
use std::hash::BuildHasher;

/// Slots of the table; a collision only makes two addresses share a count (stricter, never looser).
const SLOTS: usize = 1 << 16;

/// Counts probes per destination address and second in a fixed table (Retina's "impact" bound).
#[derive(Debug, Clone)]
pub struct DestinationCap {
    per_second: u32,
    hasher: std::collections::hash_map::RandomState,
    /// Per slot: the second counted and the probes in it.
    slots: Vec<(u64, u32)>,
}

impl DestinationCap {
    /// A cap of `per_second` probes per destination per second (0: no cap).
    pub fn new(per_second: u32) -> DestinationCap {
        let slots = if per_second == 0 { Vec::new() } else { vec![(u64::MAX, 0); SLOTS] };
        DestinationCap { per_second, hasher: Default::default(), slots }
    }

    /// Counts a probe to `dst` in `second` (since any fixed origin) if the cap allows it; `false`: it must wait
    /// for a later second.
    pub fn admit(&mut self, dst: IpAddr, second: u64) -> bool {
        if self.per_second == 0 {
            return true;
        }
        let slot = &mut self.slots[self.hasher.hash_one(dst) as usize % SLOTS];
        if slot.0 != second {
            *slot = (second, 0);
        }
        if slot.1 >= self.per_second {
            return false;
        }
        slot.1 += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_destination_gets_its_cap_per_second_and_others_are_unaffected() {
        let mut cap = DestinationCap::new(3);
        let a: IpAddr = "198.18.0.1".parse().unwrap();
        let b: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!((0..5).map(|_| cap.admit(a, 7)).collect::<Vec<_>>(), [true, true, true, false, false]);
        assert!(cap.admit(b, 7));
        assert!(cap.admit(a, 8));
        let mut none = DestinationCap::new(0);
        assert!((0..1000).all(|_| none.admit(a, 0)));
    }
}
