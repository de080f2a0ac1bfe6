//! The in-memory link both stacks use, and the bulk workload's byte pattern.
//!
//! A datagram on the link is a buffer and the length used in it. Once warm, a transfer
//! allocates nothing: smoltcp writes each datagram into a buffer from the link's pool, which
//! goes back to the pool once read; tcplab hands over the buffer it built the datagram in,
//! which goes back to that stack once read. Either way each datagram is written once and read
//! from a slice of its buffer.

use std::collections::VecDeque;

/// One datagram in flight: its buffer and the bytes used.
#[derive(Debug)]
pub struct Datagram {
    pub buf: Vec<u8>,
    pub len: usize,
}

impl Datagram {
    pub fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// The datagrams in flight in one direction, in sending order.
pub type Queue = VecDeque<Datagram>;

/// Reusable datagram buffers of one size (smoltcp's).
#[derive(Debug)]
pub struct Pool {
    size: usize,
    free: Vec<Vec<u8>>,
}

impl Pool {
    /// Buffers of `size` bytes (the link's MTU).
    pub fn new(size: usize) -> Pool {
        Pool {
            size,
            free: Vec::new(),
        }
    }

    /// A buffer of the pool's size (zeroed only when first made).
    pub fn take(&mut self) -> Vec<u8> {
        self.free.pop().unwrap_or_else(|| vec![0; self.size])
    }

    pub fn give(&mut self, buf: Vec<u8>) {
        self.free.push(buf);
    }
}

/// The bulk stream: a fixed pseudo-random sequence with a prime period, so the receiver checks
/// every byte with one comparison per `recv` and no segment size lines up with the period.
#[derive(Clone, Debug)]
pub struct Pattern {
    /// One period followed by [`crate::CHUNK`] more bytes, so any window of up to a chunk
    /// starting inside the period is contiguous.
    bytes: Vec<u8>,
}

/// The pattern's period in bytes (the largest prime below 65,536).
pub const PATTERN_PERIOD: usize = 65_521;

impl Default for Pattern {
    fn default() -> Self {
        Pattern::new()
    }
}

impl Pattern {
    pub fn new() -> Pattern {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let period: Vec<u8> = (0..PATTERN_PERIOD)
            .map(|_| {
                // xorshift64*: cheap and good enough to catch a shifted or repeated segment.
                x ^= x >> 12;
                x ^= x << 25;
                x ^= x >> 27;
                (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
            })
            .collect();
        let bytes = (0..PATTERN_PERIOD + crate::CHUNK)
            .map(|i| period[i % PATTERN_PERIOD])
            .collect();
        Pattern { bytes }
    }

    /// The `len` bytes (at most a chunk) from stream offset `offset`.
    pub fn window(&self, offset: u64, len: usize) -> &[u8] {
        let at = (offset % PATTERN_PERIOD as u64) as usize;
        &self.bytes[at..at + len.min(crate::CHUNK)]
    }

    /// The offset of the first byte of `data` (received at stream offset `offset`) that
    /// differs from the pattern, if any.
    pub fn mismatch(&self, offset: u64, data: &[u8]) -> Option<u64> {
        let mut done = 0;
        while done < data.len() {
            let n = (data.len() - done).min(crate::CHUNK);
            let want = self.window(offset + done as u64, n);
            let got = &data[done..done + n];
            if want != got {
                let i = want.iter().zip(got).position(|(a, b)| a != b).unwrap_or(0);
                return Some(offset + (done + i) as u64);
            }
            done += n;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_follow_the_period() {
        let p = Pattern::new();
        let a = p.window(10, 100).to_vec();
        assert_eq!(p.window(10 + PATTERN_PERIOD as u64, 100), &a[..]);
        // A window across the end of the period continues at its start.
        let w = p.window(PATTERN_PERIOD as u64 - 3, 6).to_vec();
        assert_eq!(&w[3..], p.window(0, 3));
    }

    #[test]
    fn mismatch_finds_the_first_wrong_byte() {
        let p = Pattern::new();
        let mut data = p.window(1000, 5000).to_vec();
        assert_eq!(p.mismatch(1000, &data), None);
        data[1234] ^= 1;
        assert_eq!(p.mismatch(1000, &data), Some(2234));
    }
}
