//! Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4), as Linux's `before()`/`after()`.

/// Linux: before() in include/net/tcp.h — `a` is earlier than `b` in sequence space.
#[inline]
pub fn before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// Linux: after().
#[inline]
pub fn after(a: u32, b: u32) -> bool {
    before(b, a)
}

/// `a <= b` in sequence space.
#[inline]
pub fn before_eq(a: u32, b: u32) -> bool {
    !after(a, b)
}

/// `a >= b` in sequence space.
#[inline]
pub fn after_eq(a: u32, b: u32) -> bool {
    !before(a, b)
}

/// Linux: between() — `low <= seq <= high` in sequence space.
#[inline]
pub fn between(seq: u32, low: u32, high: u32) -> bool {
    high.wrapping_sub(low) >= seq.wrapping_sub(low)
}

/// The later of two sequence numbers.
#[inline]
pub fn seq_max(a: u32, b: u32) -> u32 {
    if after(a, b) { a } else { b }
}

/// The earlier of two sequence numbers.
#[inline]
pub fn seq_min(a: u32, b: u32) -> u32 {
    if before(a, b) { a } else { b }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps() {
        assert!(before(u32::MAX, 0));
        assert!(after(0, u32::MAX));
        assert!(before_eq(5, 5));
        assert!(between(1, u32::MAX, 3));
        assert!(!between(4, u32::MAX, 3));
        assert_eq!(seq_max(u32::MAX, 1), 1);
    }
}
