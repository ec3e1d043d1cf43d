//! The fields that identify probes, made unpredictable: keyed pseudo-random permutations of the probe number.
//!
//! A trace's secret (drawn at random per run by the caller) keys SipHash-1-3, the round function of a small
//! Feistel network over the field's width. A permutation keeps every probe's value distinct (two probes never
//! share a key) and can be inverted to find the probe a value belongs to; without the secret, neither a blind
//! attacker nor one who saw earlier probes can tell the next value.

use core::hash::Hasher;

use siphasher::sip::SipHasher13;

/// Which field a value is for: each gets its own permutation.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Field {
    IpId = 1,
    ParisUdpChecksum = 2,
    EchoSeq = 3,
    TcpSeq = 4,
    Payload = 5,
}

/// Feistel rounds: four make a pseudo-random permutation of a good round function (Luby–Rackoff).
const ROUNDS: u8 = 4;

/// The keyed permutations of one trace.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keyed {
    secret: [u8; 16],
}

impl Keyed {
    pub(crate) fn new(secret: [u8; 16]) -> Self {
        Keyed { secret }
    }

    /// The round function: 64 pseudo-random bits of (field, round, value).
    fn prf(&self, field: Field, round: u8, value: u32) -> u64 {
        let mut hasher = SipHasher13::new_with_key(&self.secret);
        hasher.write(&[field as u8, round]);
        hasher.write_u32(value);
        hasher.finish()
    }

    /// A permutation of the 16-bit values.
    pub(crate) fn permute16(&self, field: Field, value: u16) -> u16 {
        let (mut left, mut right) = ((value >> 8) as u8, value as u8);
        for round in 0..ROUNDS {
            (left, right) = (right, left ^ self.prf(field, round, u32::from(right)) as u8);
        }
        u16::from(left) << 8 | u16::from(right)
    }

    /// The inverse of [`Self::permute16`].
    pub(crate) fn unpermute16(&self, field: Field, value: u16) -> u16 {
        let (mut left, mut right) = ((value >> 8) as u8, value as u8);
        for round in (0..ROUNDS).rev() {
            (left, right) = (right ^ self.prf(field, round, u32::from(left)) as u8, left);
        }
        u16::from(left) << 8 | u16::from(right)
    }

    /// A permutation of the values below `bound` (cycle walking: permute until the value falls below it).
    pub(crate) fn permute_below(&self, field: Field, value: u16, bound: u16) -> u16 {
        let mut value = self.permute16(field, value);
        while value >= bound {
            value = self.permute16(field, value);
        }
        value
    }

    /// A permutation of the 32-bit values.
    pub(crate) fn permute32(&self, field: Field, value: u32) -> u32 {
        let (mut left, mut right) = ((value >> 16) as u16, value as u16);
        for round in 0..ROUNDS {
            (left, right) = (right, left ^ self.prf(field, round, u32::from(right)) as u16);
        }
        u32::from(left) << 16 | u32::from(right)
    }

    /// Fills `out` with pseudo-random bytes for probe number `n` (the first `k` the same whatever its length).
    pub(crate) fn fill(&self, field: Field, n: u32, out: &mut [u8]) {
        for (block, chunk) in (0u32..).zip(out.chunks_mut(8)) {
            let bytes = self.prf(field, 0, n ^ block.rotate_right(8)).to_be_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn permutations_are_one_to_one_invertible_and_depend_on_the_secret() {
        let keyed = Keyed::new([7; 16]);
        let other = Keyed::new([8; 16]);
        let mut seen = HashSet::new();
        for value in 0..=u16::MAX {
            let permuted = keyed.permute16(Field::IpId, value);
            assert!(seen.insert(permuted), "{value} collides");
            assert_eq!(keyed.unpermute16(Field::IpId, permuted), value);
        }
        let same = (0..1000u16).filter(|&v| keyed.permute16(Field::IpId, v) == other.permute16(Field::IpId, v)).count();
        assert!(same < 10, "{same} of 1000 values alike under two secrets");
        let below: HashSet<u16> =
            (0..0xfffd).map(|v| keyed.permute_below(Field::ParisUdpChecksum, v, 0xfffd)).collect();
        assert_eq!(below.len(), 0xfffd);
        assert!(below.iter().all(|&v| v < 0xfffd));
        let wide: HashSet<u32> = (0..100_000).map(|v| keyed.permute32(Field::TcpSeq, v)).collect();
        assert_eq!(wide.len(), 100_000);
    }

    /// `len` pseudo-random bytes for probe number `n`.
    fn bytes(keyed: &Keyed, field: Field, n: u32, len: usize) -> Vec<u8> {
        let mut out = vec![0; len];
        keyed.fill(field, n, &mut out);
        out
    }

    #[test]
    fn consecutive_values_do_not_follow_each_other() {
        let keyed = Keyed::new([1; 16]);
        let steps: HashSet<u16> = (0..100u16)
            .map(|v| keyed.permute16(Field::EchoSeq, v + 1).wrapping_sub(keyed.permute16(Field::EchoSeq, v)))
            .collect();
        assert!(steps.len() > 90, "{} distinct steps", steps.len());
        assert_ne!(bytes(&keyed, Field::Payload, 1, 12), bytes(&keyed, Field::Payload, 2, 12));
        assert_eq!(bytes(&keyed, Field::Payload, 1, 12).len(), 12);
        // A shorter run is the start of a longer one.
        assert_eq!(bytes(&keyed, Field::Payload, 1, 10), bytes(&keyed, Field::Payload, 1, 12)[..10]);
    }
}
