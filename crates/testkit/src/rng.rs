//! Seeded pseudo-random numbers and byte patterns.
//!
//! Guarantees: the same seed yields the same sequence on every platform and in every version of
//! this crate (the algorithms are written out here rather than borrowed from a crate whose
//! generator may change), and nothing here reads the clock or the OS entropy source.

/// SplitMix64 (Steele, Lea and Flood, 2014): one 64-bit state word, full period, and good
/// enough statistics for fault injection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    state: u64,
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.state)
    }

    /// A float uniformly drawn from `[0, 1)` with 53 bits of precision.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p` (`p <= 0` never, `p >= 1` always); always consumes one draw so
    /// that changing one probability does not shift the draws of the others.
    pub fn chance(&mut self, p: f64) -> bool {
        self.next_f64() < p
    }

    /// A number in `[0, n)`; `n == 0` yields 0.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            self.next_u64();
            return 0;
        }
        // Multiply-shift: unbiased enough for test inputs and free of division.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// An independent generator for a named purpose, so adding a consumer does not perturb the
    /// draws of the existing ones.
    pub fn fork(&self, stream: u64) -> Rng {
        Rng::new(mix(
            self.state ^ mix(stream.wrapping_add(0x5851_f42d_4c95_7f2d))
        ))
    }
}

/// SplitMix64's finaliser: a bijection of `u64` with strong avalanche.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// An endless, seekable pseudo-random byte stream: byte `i` of the pattern depends only on the
/// seed and `i`, so a receiver can check any slice without keeping a copy of what was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pattern {
    seed: u64,
}

impl Pattern {
    pub fn new(seed: u64) -> Pattern {
        Pattern {
            seed: mix(seed ^ 0x243f_6a88_85a3_08d3),
        }
    }

    /// Byte `offset` of the stream.
    pub fn byte_at(&self, offset: u64) -> u8 {
        let word = mix(self.seed ^ (offset / 8).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        word.to_le_bytes()[(offset % 8) as usize]
    }

    /// Fills `buf` with the stream from `offset` on.
    pub fn fill(&self, offset: u64, buf: &mut [u8]) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = self.byte_at(offset + i as u64);
        }
    }

    /// Checks `buf` against the stream from `offset` on; `Err` holds the stream offset of the
    /// first byte that differs.
    pub fn check(&self, offset: u64, buf: &[u8]) -> Result<(), u64> {
        match buf
            .iter()
            .enumerate()
            .find(|&(i, &b)| b != self.byte_at(offset + i as u64))
        {
            Some((i, _)) => Err(offset + i as u64),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        let xs: Vec<u64> = (0..100).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..100).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(Rng::new(43).next_u64(), xs[0]);
    }

    #[test]
    fn splitmix_reference_values() {
        // First outputs of SplitMix64 seeded with 0, as published with the algorithm.
        let mut r = Rng::new(0);
        assert_eq!(r.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(r.next_u64(), 0x6e78_9e6a_a1b9_65f4);
    }

    #[test]
    fn chance_extremes_and_rate() {
        let mut r = Rng::new(7);
        assert!((0..1000).all(|_| !r.chance(0.0)));
        assert!((0..1000).all(|_| r.chance(1.0)));
        let hits = (0..100_000).filter(|_| r.chance(0.01)).count();
        assert!(
            (800..1200).contains(&hits),
            "1% of 100000 draws gave {hits}"
        );
    }

    #[test]
    fn below_stays_in_range() {
        let mut r = Rng::new(9);
        assert!((0..10_000).all(|_| r.below(7) < 7));
        assert_eq!(r.below(0), 0);
    }

    #[test]
    fn pattern_is_seekable_and_checkable() {
        let p = Pattern::new(5);
        let mut whole = vec![0u8; 100];
        p.fill(0, &mut whole);
        let mut tail = vec![0u8; 37];
        p.fill(63, &mut tail);
        assert_eq!(&whole[63..], &tail[..]);
        assert_eq!(p.check(63, &tail), Ok(()));
        tail[10] ^= 1;
        assert_eq!(p.check(63, &tail), Err(73));
        let mut other = vec![0u8; 100];
        Pattern::new(6).fill(0, &mut other);
        assert_ne!(whole, other);
    }
}
