//! Initial sequence numbers and timestamp offsets, as Linux chooses them (RFC 6528).
//!
//! Linux hashes the connection's addresses with SipHash-2-4 under a boot-time secret and adds
//! a clock that ticks once every 64 ns (`secure_tcp_seq()`, `secure_tcp_ts_off()` in
//! net/core/secure_seq.c). Here the two secrets derive from a seed, so a simulation run twice
//! with the same seed picks the same numbers.
//!
//! Guarantees: the same seed, addresses and time give the same value on every run and
//! platform; the hash input is laid out byte for byte as the kernel lays it out (addresses and
//! ports in network order), so only the secret differs from a real host.

use std::net::IpAddr;

use siphasher::sip::SipHasher24;

use crate::time::Instant;

/// A 128-bit SipHash key, as `siphash_key_t` holds it (`key[0]`, `key[1]`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct SiphashKey([u64; 2]);

impl SiphashKey {
    /// Linux: siphash() in lib/siphash.c — SipHash-2-4 over `data`, 64-bit output.
    fn hash(self, data: &[u8]) -> u64 {
        use std::hash::Hasher;
        let mut h = SipHasher24::new_with_keys(self.0[0], self.0[1]);
        h.write(data);
        h.finish()
    }
}

/// Chooses initial sequence numbers and timestamp offsets for new connections.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IsnGenerator {
    /// `net_secret`: keys the sequence-number hash.
    net_secret: SiphashKey,
    /// `ts_secret`: keys the timestamp-offset hash, separate so one cannot reveal the other.
    ts_secret: SiphashKey,
}

/// One step of SplitMix64, a well-mixed and portable way to stretch a seed into keys.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl IsnGenerator {
    /// Derives both secrets from `seed`, standing in for the kernel's boot-time random keys.
    pub fn new(seed: u64) -> Self {
        let mut state = seed;
        let net_secret = SiphashKey([splitmix64(&mut state), splitmix64(&mut state)]);
        let ts_secret = SiphashKey([splitmix64(&mut state), splitmix64(&mut state)]);
        IsnGenerator {
            net_secret,
            ts_secret,
        }
    }

    /// The initial sequence number for the connection `saddr:sport -> daddr:dport` at `now`.
    ///
    /// `now` stands in for `ktime_get_real_ns()`: the ISN advances by one every 64 ns, so a
    /// reused 4-tuple gets a number ahead of the old connection's (RFC 6528 §3). Mixed address
    /// families hash as IPv6 with the IPv4 address mapped, which Linux never meets.
    ///
    /// Linux: secure_tcp_seq() and secure_tcpv6_seq() in net/core/secure_seq.c
    pub fn isn(&self, now: Instant, saddr: IpAddr, sport: u16, daddr: IpAddr, dport: u16) -> u32 {
        let hash = match (saddr, daddr) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                // siphash_3u32(saddr, daddr, sport << 16 | dport): three little-endian words
                // whose bytes are the big-endian fields, so dport's bytes come first.
                let mut msg = [0u8; 12];
                msg[0..4].copy_from_slice(&s.octets());
                msg[4..8].copy_from_slice(&d.octets());
                msg[8..10].copy_from_slice(&dport.to_be_bytes());
                msg[10..12].copy_from_slice(&sport.to_be_bytes());
                self.net_secret.hash(&msg)
            }
            _ => {
                // struct { saddr; daddr; sport; dport } hashed up to the end of dport.
                let mut msg = Vec::with_capacity(36);
                msg.extend_from_slice(&v6_octets(saddr));
                msg.extend_from_slice(&v6_octets(daddr));
                msg.extend_from_slice(&sport.to_be_bytes());
                msg.extend_from_slice(&dport.to_be_bytes());
                self.net_secret.hash(&msg)
            }
        };
        seq_scale(hash as u32, now)
    }

    /// The offset added to this connection's TCP timestamps (the caller uses 0 when
    /// `tcp_timestamps` is not 1, as Linux does).
    ///
    /// Linux: secure_tcp_ts_off() and secure_tcpv6_ts_off() in net/core/secure_seq.c
    pub fn ts_offset(&self, saddr: IpAddr, daddr: IpAddr) -> u32 {
        let hash = match (saddr, daddr) {
            // siphash_2u32(saddr, daddr): the eight address bytes in network order.
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                let mut msg = [0u8; 8];
                msg[0..4].copy_from_slice(&s.octets());
                msg[4..8].copy_from_slice(&d.octets());
                self.ts_secret.hash(&msg)
            }
            _ => {
                let mut msg = v6_octets(saddr).to_vec();
                msg.extend_from_slice(&v6_octets(daddr));
                self.ts_secret.hash(&msg)
            }
        };
        hash as u32
    }
}

/// The 16 bytes of an address as an IPv6 socket holds it (IPv4 as `::ffff:a.b.c.d`).
fn v6_octets(addr: IpAddr) -> [u8; 16] {
    match addr {
        IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
        IpAddr::V6(a) => a.octets(),
    }
}

/// Linux: seq_scale() in net/core/secure_seq.c — adds the 64 ns clock (RFC 6528's M).
fn seq_scale(seq: u32, now: Instant) -> u32 {
    seq.wrapping_add((now.as_nanos() >> 6) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    const A: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn siphash_is_2_4_with_the_reference_vector() {
        // The SipHash paper's Appendix A: key 00..0f, message 00..0e.
        let key = SiphashKey([
            u64::from_le_bytes([0, 1, 2, 3, 4, 5, 6, 7]),
            u64::from_le_bytes([8, 9, 10, 11, 12, 13, 14, 15]),
        ]);
        let msg: Vec<u8> = (0u8..15).collect();
        assert_eq!(key.hash(&msg), 0xa129_ca61_49be_45e5);
    }

    #[test]
    fn deterministic_per_seed() {
        let g1 = IsnGenerator::new(42);
        let g2 = IsnGenerator::new(42);
        let g3 = IsnGenerator::new(43);
        let now = Instant::from_millis(1234);
        assert_eq!(g1.isn(now, A, 40000, B, 80), g2.isn(now, A, 40000, B, 80));
        assert_eq!(g1.ts_offset(A, B), g2.ts_offset(A, B));
        assert_ne!(g1.isn(now, A, 40000, B, 80), g3.isn(now, A, 40000, B, 80));
        assert_ne!(g1.ts_offset(A, B), g3.ts_offset(A, B));
    }

    #[test]
    fn different_per_four_tuple() {
        let g = IsnGenerator::new(7);
        let now = Instant::ZERO;
        let base = g.isn(now, A, 40000, B, 80);
        assert_ne!(base, g.isn(now, A, 40001, B, 80));
        assert_ne!(base, g.isn(now, A, 40000, B, 81));
        assert_ne!(base, g.isn(now, B, 40000, A, 80));
        // Swapping the ports must matter: the kernel packs them as sport << 16 | dport.
        assert_ne!(base, g.isn(now, A, 80, B, 40000));
        let v6a = IpAddr::V6(Ipv6Addr::LOCALHOST);
        let v6b = IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2));
        assert_ne!(
            g.isn(now, v6a, 40000, v6b, 80),
            g.isn(now, v6a, 40000, v6b, 81)
        );
    }

    #[test]
    fn ipv4_message_layout_matches_siphash_3u32() {
        // siphash_3u32(first, second, third) hashes the three words little-endian.
        let g = IsnGenerator::new(1);
        let (s, d) = (Ipv4Addr::new(192, 168, 1, 2), Ipv4Addr::new(192, 168, 1, 3));
        let (sport, dport) = (0x1234u16, 0x0050u16);
        let first = u32::from_le_bytes(s.octets());
        let second = u32::from_le_bytes(d.octets());
        let third = u32::from(sport.swap_bytes()) << 16 | u32::from(dport.swap_bytes());
        let mut msg = Vec::new();
        for w in [first, second, third] {
            msg.extend_from_slice(&w.to_le_bytes());
        }
        let expect = g.net_secret.hash(&msg) as u32;
        assert_eq!(
            g.isn(Instant::ZERO, IpAddr::V4(s), sport, IpAddr::V4(d), dport),
            expect
        );
    }

    #[test]
    fn advances_one_per_64_ns() {
        let g = IsnGenerator::new(9);
        let at = |ns| g.isn(Instant::from_nanos(ns), A, 1, B, 2);
        let base = at(0);
        assert_eq!(at(63), base);
        assert_eq!(at(64), base.wrapping_add(1));
        assert_eq!(at(64 * 1000), base.wrapping_add(1000));
        // One second is 15,625,000 steps.
        assert_eq!(at(1_000_000_000), base.wrapping_add(15_625_000));
    }

    #[test]
    fn ts_offset_depends_on_addresses_only() {
        let g = IsnGenerator::new(5);
        assert_ne!(g.ts_offset(A, B), g.ts_offset(B, A));
        let c = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 3));
        assert_ne!(g.ts_offset(A, B), g.ts_offset(A, c));
        // The key is separate from the ISN key: the offset is not the time-zero ISN's hash.
        assert_ne!(g.ts_offset(A, B), g.isn(Instant::ZERO, A, 0, B, 0));
    }
}
