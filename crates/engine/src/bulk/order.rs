//! The order of `bulk --targets`' probes: a seeded random permutation, in constant memory.

/// A random permutation of `0..n`: a full-period linear congruential walk over the next power of two, skipping
/// what is past `n`. It spreads each target's TTLs over the run so that no router sees them in a burst.
#[derive(Debug, Clone, Copy)]
pub struct Permutation {
    n: u64,
    mask: u64,
    a: u64,
    c: u64,
    x: u64,
    left: u64,
}

impl Permutation {
    /// The permutation of `0..n` that `seed` picks.
    pub fn new(n: u64, seed: u64) -> Permutation {
        let size = n.next_power_of_two().max(4);
        let mut state = seed;
        let mut next = || {
            // SplitMix64.
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        // a ≡ 1 (mod 4) and c odd: a full period modulo a power of two.
        let a = (next() & (size - 1) & !3) | 1;
        let c = next() | 1;
        let x = next() & (size - 1);
        Permutation { n, mask: size - 1, a, c, x, left: size }
    }
}

impl Iterator for Permutation {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        while self.left > 0 {
            self.left -= 1;
            self.x = self.a.wrapping_mul(self.x).wrapping_add(self.c) & self.mask;
            if self.x < self.n {
                return Some(self.x);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_permutation_visits_everything_once() {
        for n in [0, 1, 5, 1000, 4096] {
            let mut seen: Vec<u64> = Permutation::new(n, 7).collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..n).collect::<Vec<_>>());
        }
        // Not the identity, and another seed, another order.
        let first: Vec<u64> = Permutation::new(1000, 1).take(10).collect();
        assert_ne!(first, (0..10).collect::<Vec<_>>());
        assert_ne!(first, Permutation::new(1000, 2).take(10).collect::<Vec<_>>());
    }
}
