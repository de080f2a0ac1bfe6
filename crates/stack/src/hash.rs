//! A fast keyed hasher for the stack's lookup tables (the 4-tuple map, listeners by port, a
//! connection's armed timers).
//!
//! Every datagram looks up its 4-tuple, and std's SipHash-1-3 costs more than the rest of the
//! lookup. This is the multiply-rotate hash of rustc's FxHasher over 64-bit words, started
//! from a key drawn from the stack's seed (as Linux keys `inet_ehashfn()` with a boot-time
//! secret), so two stacks do not share bucket layouts. It is not a defence against a peer that
//! learns the key; the tables are never iterated, so no order depends on it.

use std::hash::{BuildHasher, Hasher};

const K: u64 = 0x517c_c1b7_2722_0a95;

/// Builds [`FastHasher`]s from one key.
#[derive(Clone, Copy, Debug)]
pub struct FastHash {
    key: u64,
}

impl FastHash {
    pub fn new(key: u64) -> FastHash {
        FastHash { key }
    }
}

impl BuildHasher for FastHash {
    type Hasher = FastHasher;
    fn build_hasher(&self) -> FastHasher {
        FastHasher { hash: self.key }
    }
}

/// See the module docs.
#[derive(Clone, Copy, Debug)]
pub struct FastHasher {
    hash: u64,
}

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }
    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }
    #[inline]
    fn write_u16(&mut self, n: u16) {
        self.add(u64::from(n));
    }
    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }
    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }
    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        // A final avalanche so that the low bits the table uses depend on every input bit.
        let mut h = self.hash;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::net::{IpAddr, Ipv4Addr, SocketAddr};

    #[test]
    fn tuples_that_differ_in_one_port_hash_apart() {
        let b = FastHash::new(7);
        let local = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 80);
        let hashes: HashSet<u64> = (0..10_000u16)
            .map(|p| {
                let remote = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), p);
                b.hash_one((local, remote)) & 0xffff
            })
            .collect();
        // 10 000 tuples in 65 536 buckets: a good hash leaves few collisions.
        assert!(hashes.len() > 9_000, "{}", hashes.len());
    }

    #[test]
    fn the_key_changes_the_hash() {
        assert_ne!(
            FastHash::new(1).hash_one(42u64),
            FastHash::new(2).hash_one(42u64)
        );
    }
}
