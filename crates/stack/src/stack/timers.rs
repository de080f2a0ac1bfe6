//! The stack's timers: the wheel (`crate::wheel`) with each entry's owner packed into four
//! bytes, so that a wheel entry is 20 bytes and a million keepalive timers take 20 MB.

use crate::api::Fd;
use crate::time::Instant;
use crate::wheel::{TimerId, TimerWheel};

/// A timer's owner, by slab index.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub(super) enum TimerRef {
    /// A full socket's slot (0 transmit, 1 delayed ACK, 2 socket).
    Conn(u32, u8),
    Req(u32),
    Tw(u32),
    /// The end of a lingering close()'s wait (the sleeping process's timeout).
    Linger(Fd),
}

/// Bits of a packed owner that hold the index; the three above hold the kind.
const INDEX_BITS: u32 = 29;

impl TimerRef {
    /// Kinds 0–2 are the three slots of a full socket, 3 a request, 4 a time-wait record,
    /// 5 a lingering close.
    fn pack(self) -> u32 {
        let (kind, index) = match self {
            TimerRef::Conn(c, slot) => (u32::from(slot.min(2)), c),
            TimerRef::Req(r) => (3, r),
            TimerRef::Tw(t) => (4, t),
            TimerRef::Linger(fd) => (5, fd.0),
        };
        super::slab::pack(kind, index as usize, INDEX_BITS, "timer owner")
    }

    fn unpack(packed: u32) -> TimerRef {
        let (kind, index) = super::slab::unpack(packed, INDEX_BITS);
        let index = index as u32;
        match kind {
            0..=2 => TimerRef::Conn(index, kind as u8),
            3 => TimerRef::Req(index),
            4 => TimerRef::Tw(index),
            _ => TimerRef::Linger(Fd(index)),
        }
    }
}

/// The wheel, speaking in [`TimerRef`]s.
#[derive(Clone, Debug)]
pub(super) struct Timers(TimerWheel<u32>);

impl Timers {
    /// A wheel ticking once a jiffy of `tick_ns`.
    pub(super) fn new(tick_ns: u64) -> Timers {
        Timers(TimerWheel::new(tick_ns))
    }

    pub(super) fn insert(&mut self, at: Instant, r: TimerRef) -> TimerId {
        self.0.insert(at, r.pack())
    }

    pub(super) fn get(&self, id: TimerId) -> Option<(Instant, TimerRef)> {
        self.0.get(id).map(|(at, p)| (at, TimerRef::unpack(p)))
    }

    pub(super) fn remove(&mut self, id: TimerId) {
        self.0.remove(id);
    }

    /// The earliest deadline.
    pub(super) fn first(&self) -> Option<Instant> {
        self.0.peek().map(|(at, _, _)| at)
    }

    pub(super) fn pop_due(&mut self, now: Instant) -> Option<(Instant, TimerRef)> {
        self.0.pop_due(now).map(|(at, p)| (at, TimerRef::unpack(p)))
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (Instant, TimerRef)> + '_ {
        self.0.iter().map(|(at, p)| (at, TimerRef::unpack(p)))
    }

    pub(super) fn check(&self) -> Result<(), String> {
        self.0.check()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_pack_and_unpack() {
        for r in [
            TimerRef::Conn(0, 0),
            TimerRef::Conn((1 << INDEX_BITS) - 1, 2),
            TimerRef::Conn(7, 1),
            TimerRef::Req((1 << INDEX_BITS) - 1),
            TimerRef::Tw(12345),
            TimerRef::Linger(Fd(3)),
        ] {
            assert_eq!(TimerRef::unpack(r.pack()), r);
        }
    }

    #[test]
    #[should_panic(expected = "needs more than 29 bits")]
    fn an_index_too_large_stops_rather_than_misroutes() {
        TimerRef::Tw(1 << INDEX_BITS).pack();
    }
}
