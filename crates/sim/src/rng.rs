//! Seeded pseudo-random numbers for link faults and per-host seeds.
//!
//! Guarantees: the same seed yields the same sequence on every platform (the generator is
//! written out here, not borrowed from a crate whose algorithm may change); nothing here reads
//! the clock or the OS entropy source; a stream derived from a name depends only on the run's
//! seed and that name, never on the order in which hosts or links were created.

/// SplitMix64 (Steele, Lea and Flood, 2014): one 64-bit state word and full period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    state: u64,
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// An independent stream for a named purpose (`"link client->server"`, `"host client"`).
    pub fn derive(seed: u64, name: &str) -> Rng {
        Rng::new(mix(seed ^ mix(fnv1a(name.as_bytes()))))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.state)
    }

    /// A float uniformly drawn from `[0, 1)` with 53 bits of precision.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p`; always consumes one draw, so that changing one probability
    /// does not shift the draws of the others.
    pub fn chance(&mut self, p: f64) -> bool {
        self.next_f64() < p
    }

    /// A number in `[0, n)`; `n == 0` yields 0 (after consuming a draw).
    pub fn below(&mut self, n: u64) -> u64 {
        let x = self.next_u64();
        if n == 0 {
            return 0;
        }
        ((u128::from(x) * u128::from(n)) >> 64) as u64
    }
}

/// SplitMix64's finaliser: a bijection of `u64` with strong avalanche.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// FNV-1a, 64 bits: a stable hash of names and of the trace.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    fnv1a_update(0xcbf2_9ce4_8422_2325, bytes)
}

/// Continues an FNV-1a hash over more bytes.
pub fn fnv1a_update(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_reference_values() {
        let mut r = Rng::new(0);
        assert_eq!(r.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(r.next_u64(), 0x6e78_9e6a_a1b9_65f4);
    }

    #[test]
    fn derived_streams_depend_on_seed_and_name_only() {
        let a = Rng::derive(7, "link a->b").next_u64();
        assert_eq!(a, Rng::derive(7, "link a->b").next_u64());
        assert_ne!(a, Rng::derive(7, "link b->a").next_u64());
        assert_ne!(a, Rng::derive(8, "link a->b").next_u64());
    }

    #[test]
    fn fnv_reference_value() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
