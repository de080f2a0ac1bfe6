//! The internet checksum (RFC 1071) and the TCP pseudo-headers of IPv4 (RFC 9293 §3.1) and
//! IPv6 (RFC 8200 §8.1).
//!
//! Guarantees: partial sums are plain `u32`/`u64` values that can be added in any order and
//! folded once at the end (the ones' complement sum is associative and commutative, RFC 1071
//! §2), so a caller can checksum a header and a payload separately; nothing here panics.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Adds `data` to the running ones' complement sum `acc`, returning the new unfolded sum.
///
/// Bytes are taken as big-endian 16-bit words; an odd final byte is padded with a zero byte.
/// The body is read eight bytes at a time in the machine's byte order, its two 32-bit halves
/// summed into two 64-bit accumulators (no byte swap per word, and no carry chain between
/// them); the folded total is swapped to big-endian once at the end, which gives the same
/// value because the ones' complement sum commutes with swapping the bytes of every word
/// (RFC 1071 §2(B)). Neither accumulator can overflow for a slice shorter than 2^35 bytes.
pub fn accumulate(acc: u64, data: &[u8]) -> u64 {
    let (mut lo, mut hi) = (0u64, 0u64);
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        let w = u64::from_ne_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        lo += w & 0xffff_ffff;
        hi += w >> 32;
    }
    let rest = words.remainder();
    let mut tail = [0u8; 8];
    tail[..rest.len()].copy_from_slice(rest);
    let w = u64::from_ne_bytes(tail);
    let native = fold(lo + (w & 0xffff_ffff) + hi + (w >> 32));
    // A zero sum stays zero and a nonzero one stays nonzero, so the caller's fold sees exactly
    // what it saw when every word was summed big-endian.
    acc + u64::from(u16::from_be(native))
}

/// Folds an unfolded sum into 16 bits with end-around carry (RFC 1071 §4.1).
pub fn fold(sum: u64) -> u16 {
    let mut s = sum;
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

/// The checksum field value for `data` alone: the complement of its folded sum.
pub fn checksum(data: &[u8]) -> u16 {
    !fold(accumulate(0, data))
}

/// The unfolded sum of the IPv4 pseudo-header: source, destination, zero, protocol, length.
pub fn pseudo_header_v4(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, len: u16) -> u64 {
    u64::from(u32::from(src)) + u64::from(u32::from(dst)) + u64::from(protocol) + u64::from(len)
}

/// The unfolded sum of the IPv6 pseudo-header: source, destination, 32-bit upper-layer length,
/// three zero bytes and the next header.
pub fn pseudo_header_v6(src: Ipv6Addr, dst: Ipv6Addr, next_header: u8, len: u32) -> u64 {
    let s = accumulate(0, &src.octets());
    let d = accumulate(0, &dst.octets());
    s + d + u64::from(len) + u64::from(next_header)
}

/// The pseudo-header sum for two addresses of the same family, or `None` if they differ.
///
/// For IPv4 the length is truncated to 16 bits, as the IPv4 pseudo-header carries it.
pub fn pseudo_header(src: IpAddr, dst: IpAddr, protocol: u8, len: u32) -> Option<u64> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => Some(pseudo_header_v4(s, d, protocol, len as u16)),
        (IpAddr::V6(s), IpAddr::V6(d)) => Some(pseudo_header_v6(s, d, protocol, len)),
        _ => None,
    }
}

/// Updates a checksum field after one 16-bit word of the covered data changed from `old` to
/// `new`, without touching the rest of the data (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')).
pub fn update_u16(check: u16, old: u16, new: u16) -> u16 {
    let sum = u64::from(!check) + u64::from(!old) + u64::from(new);
    !fold(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A byte-at-a-time reference sum, deliberately written the slow and obvious way.
    fn reference(data: &[u8]) -> u16 {
        let mut sum: u32 = 0;
        let mut i = 0;
        while i < data.len() {
            let hi = u32::from(data[i]);
            let lo = u32::from(data.get(i + 1).copied().unwrap_or(0));
            sum += (hi << 8) | lo;
            while sum > 0xffff {
                sum = (sum & 0xffff) + (sum >> 16);
            }
            i += 2;
        }
        !(sum as u16)
    }

    #[test]
    fn rfc1071_example_sums_to_ddf2() {
        // RFC 1071 §3 example: the words 0001 f203 f4f5 f6f7 sum to 0xddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(accumulate(0, &data)), 0xddf2);
        assert_eq!(checksum(&data), !0xddf2);
    }

    #[test]
    fn every_length_matches_reference() {
        let data: Vec<u8> = (0..64u32).map(|i| (i * 37 + 11) as u8).collect();
        for n in 0..data.len() {
            assert_eq!(checksum(&data[..n]), reference(&data[..n]), "length {n}");
        }
    }

    #[test]
    fn long_slices_and_offsets_match_reference() {
        let data: Vec<u8> = (0..4000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for start in 0..9 {
            for len in [
                0,
                1,
                7,
                8,
                9,
                15,
                16,
                17,
                63,
                1460,
                1461,
                3000,
                3991 - start,
            ] {
                let d = &data[start..start + len];
                assert_eq!(checksum(d), reference(d), "start {start} length {len}");
            }
        }
        // All ones: every word 0xffff, the case where end-around carries pile up.
        let ones = vec![0xffu8; 1501];
        assert_eq!(checksum(&ones), reference(&ones));
        assert_eq!(fold(accumulate(0, &[0u8; 20])), 0);
    }

    #[test]
    fn split_sums_combine_at_even_boundaries() {
        let data: Vec<u8> = (0..40u32).map(|i| (i * 101) as u8).collect();
        let whole = fold(accumulate(0, &data));
        let parts = fold(accumulate(accumulate(0, &data[..12]), &data[12..]));
        assert_eq!(whole, parts);
    }

    #[test]
    fn incremental_update_equals_recompute() {
        let mut data = [0x45u8, 0x00, 0x00, 0x3c, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06];
        let before = checksum(&data);
        let old = u16::from_be_bytes([data[8], data[9]]);
        data[8] = 0x3f; // TTL decremented.
        let new = u16::from_be_bytes([data[8], data[9]]);
        assert_eq!(update_u16(before, old, new), checksum(&data));
    }

    #[test]
    fn pseudo_header_rejects_mixed_families() {
        let v4 = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
        assert_eq!(pseudo_header(v4, v6, 6, 20), None);
        assert!(pseudo_header(v6, v6, 6, 20).is_some());
    }
}
