//! The stack's timer queue: a hierarchical timer wheel (as Linux's kernel/time/timer.c and
//! Varghese & Lauck's scheme) with exact firing order.
//!
//! Arming and cancelling are O(1): an entry sits in a doubly linked list in one slot, and a
//! slot's place follows from the entry's tick (one kernel jiffy). Eleven levels of 64 slots
//! each cover every `u64` tick. An entry lives at the lowest level whose slot span still holds
//! its tick apart from the cursor's, and when the cursor enters a higher-level slot, that slot's
//! entries move down (cascade).
//!
//! Unlike the kernel's wheel, this one is exact. Entries fire in the order of their deadline,
//! and ties break by the order they were armed in, as a queue sorted by (deadline, arming
//! sequence) would fire them. Each slot's list is kept sorted by deadline, and a new entry
//! goes after every entry with the same deadline. A cascade moves a list in order into lists
//! that were empty, so the order holds. The stack's deadlines are whole jiffies, so a
//! level-0 slot holds one deadline and insertion appends; other deadlines are still ordered
//! exactly, at the cost of a walk.
//!
//! Written here rather than taken from a crate: the wheels on crates.io fire a slot's entries
//! in no promised order or only to a tick, and a run must replay segment for segment.

use std::num::NonZeroU32;

use crate::time::Instant;

const LEVELS: usize = 11;
const SLOT_BITS: u32 = 6;
const SLOTS: usize = 1 << SLOT_BITS;
/// No entry: the end of the free list, an empty slot's head and tail.
const NIL: u32 = u32::MAX;
/// A link with this bit set is not an entry but the slot the list belongs to (as the kernel's
/// `hlist` head pointer): a list's first entry has `prev = SLOT | loc`, its last one
/// `next = SLOT | loc`, so an entry finds its slot without storing it.
const SLOT: u32 = 1 << 31;
/// The `prev` of a freed entry.
const FREE: u32 = u32::MAX;

/// A handle to an armed entry, valid until it fires or is cancelled. `Option<TimerId>` is
/// four bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TimerId(NonZeroU32);

impl TimerId {
    fn new(index: u32) -> TimerId {
        // Entries are indexed from 0 and links keep the top bit for slots; 2^31 entries would
        // be 40 GiB.
        assert!(index < SLOT, "timer wheel entries overflow 31 bits");
        TimerId(NonZeroU32::new(index + 1).expect("index below 2^31"))
    }

    fn index(self) -> u32 {
        self.0.get() - 1
    }
}

/// Whether a link names an entry (not a slot, not `NIL`).
fn is_entry(link: u32) -> bool {
    link & SLOT == 0
}

/// Twenty bytes with a four-byte payload: the deadline as two 32-bit halves (so the entry is
/// aligned to four bytes) and no slot field (the list's ends carry it).
#[derive(Clone, Debug)]
struct Entry<T> {
    at_lo: u32,
    at_hi: u32,
    what: T,
    /// The previous entry in the slot's list, `SLOT | loc` for the first one, or `FREE`.
    prev: u32,
    /// The next entry in the slot's list, `SLOT | loc` for the last one, or the next free
    /// entry once freed.
    next: u32,
}

impl<T> Entry<T> {
    fn new(at: Instant, what: T) -> Entry<T> {
        let ns = at.as_nanos();
        Entry {
            at_lo: ns as u32,
            at_hi: (ns >> 32) as u32,
            what,
            prev: FREE,
            next: NIL,
        }
    }

    fn at(&self) -> Instant {
        Instant::from_nanos(u64::from(self.at_hi) << 32 | u64::from(self.at_lo))
    }

    fn armed(&self) -> bool {
        self.prev != FREE
    }
}

/// See the module docs.
#[derive(Clone, Debug)]
pub struct TimerWheel<T> {
    tick_ns: u64,
    /// Every entry's tick is at or after this one (earlier deadlines sit in its slot).
    cursor: u64,
    entries: Vec<Entry<T>>,
    free: u32,
    /// (head, tail) of each slot's list, `NIL` when it is empty.
    lists: Vec<(u32, u32)>,
    /// The non-empty slots of each level.
    occupied: [u64; LEVELS],
    len: usize,
}

impl<T: Copy> TimerWheel<T> {
    /// A wheel whose ticks are `tick_ns` long (at least 1).
    pub fn new(tick_ns: u64) -> TimerWheel<T> {
        TimerWheel {
            tick_ns: tick_ns.max(1),
            cursor: 0,
            entries: Vec::new(),
            free: NIL,
            lists: vec![(NIL, NIL); LEVELS * SLOTS],
            occupied: [0; LEVELS],
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn tick(&self, at: Instant) -> u64 {
        at.as_nanos() / self.tick_ns
    }

    /// Where an entry with tick `tick` goes, relative to the cursor: `level * 64 + slot`.
    fn place(&self, tick: u64) -> u32 {
        let t = tick.max(self.cursor);
        let diff = t ^ self.cursor;
        let level = if diff == 0 {
            0
        } else {
            ((63 - diff.leading_zeros()) / SLOT_BITS) as usize
        };
        let slot = (t >> (SLOT_BITS as usize * level)) as usize & (SLOTS - 1);
        (level * SLOTS + slot) as u32
    }

    /// Arms an entry firing at `at`, after every entry armed before it for the same instant.
    pub fn insert(&mut self, at: Instant, what: T) -> TimerId {
        let entry = Entry::new(at, what);
        let id = if self.free == NIL {
            self.entries.push(entry);
            (self.entries.len() - 1) as u32
        } else {
            let id = self.free;
            self.free = self.entries[id as usize].next;
            self.entries[id as usize] = entry;
            id
        };
        let handle = TimerId::new(id);
        self.link(id);
        self.len += 1;
        handle
    }

    /// Puts entry `id` into its slot's list, after the last entry due no later than it.
    fn link(&mut self, id: u32) {
        let at = self.entries[id as usize].at();
        let loc = self.place(self.tick(at));
        let (head, tail) = self.lists[loc as usize];
        let mut after = tail;
        while is_entry(after) && self.entries[after as usize].at() > at {
            after = self.entries[after as usize].prev;
        }
        let after = is_entry(after).then_some(after);
        let before = match after {
            None => is_entry(head).then_some(head),
            Some(a) => Some(self.entries[a as usize].next).filter(|&n| is_entry(n)),
        };
        let e = &mut self.entries[id as usize];
        e.prev = after.unwrap_or(SLOT | loc);
        e.next = before.unwrap_or(SLOT | loc);
        let list = &mut self.lists[loc as usize];
        match after {
            None => list.0 = id,
            Some(a) => self.entries[a as usize].next = id,
        }
        match before {
            None => list.1 = id,
            Some(b) => self.entries[b as usize].prev = id,
        }
        let level = loc as usize / SLOTS;
        self.occupied[level] |= 1 << (loc as usize % SLOTS);
    }

    /// Takes entry `id` out of its slot's list (it stays allocated). A neighbour that is
    /// the slot itself says which slot's head or tail to move.
    fn unlink(&mut self, id: u32) {
        let Entry { prev, next, .. } = self.entries[id as usize];
        match (is_entry(prev), is_entry(next)) {
            (true, true) => {
                self.entries[prev as usize].next = next;
                self.entries[next as usize].prev = prev;
            }
            (false, true) => {
                self.entries[next as usize].prev = prev;
                self.lists[(prev & !SLOT) as usize].0 = next;
            }
            (true, false) => {
                self.entries[prev as usize].next = next;
                self.lists[(next & !SLOT) as usize].1 = prev;
            }
            (false, false) => {
                let loc = (prev & !SLOT) as usize;
                self.lists[loc] = (NIL, NIL);
                self.occupied[loc / SLOTS] &= !(1 << (loc % SLOTS));
            }
        }
    }

    /// Cancels entry `id`, returning it; `None` if it is not armed.
    pub fn remove(&mut self, id: TimerId) -> Option<(Instant, T)> {
        let id = id.index();
        let e = self.entries.get(id as usize)?;
        if !e.armed() {
            return None;
        }
        let found = (e.at(), e.what);
        self.unlink(id);
        let e = &mut self.entries[id as usize];
        e.prev = FREE;
        e.next = self.free;
        self.free = id;
        self.len -= 1;
        Some(found)
    }

    /// The entry behind `id`, if it is armed.
    pub fn get(&self, id: TimerId) -> Option<(Instant, T)> {
        let e = self.entries.get(id.index() as usize)?;
        e.armed().then_some((e.at(), e.what))
    }

    /// The entry that fires first, with its handle. Entries at a level are all earlier than
    /// those at the levels above, and within a level the lowest occupied slot is the earliest,
    /// so this is a scan of eleven words.
    pub fn peek(&self) -> Option<(Instant, T, TimerId)> {
        let level = self.occupied.iter().position(|bits| *bits != 0)?;
        let slot = self.occupied[level].trailing_zeros() as usize;
        let id = self.lists[level * SLOTS + slot].0;
        let e = &self.entries[id as usize];
        Some((e.at(), e.what, TimerId::new(id)))
    }

    /// Removes and returns the first entry if it is due at `now`. When none is, the cursor
    /// moves up to `now` (moving entries down the levels).
    pub fn pop_due(&mut self, now: Instant) -> Option<(Instant, T)> {
        match self.peek() {
            Some((at, _, id)) if at <= now => self.remove(id),
            _ => {
                self.advance(self.tick(now));
                None
            }
        }
    }

    /// Moves the cursor to tick `to`. Every entry due before `to` has fired, so the only
    /// entries out of place are those in the slots the cursor enters.
    fn advance(&mut self, to: u64) {
        if to <= self.cursor {
            return;
        }
        let from = self.cursor;
        self.cursor = to;
        for level in (1..LEVELS).rev() {
            let shift = SLOT_BITS as usize * level;
            if from >> shift == to >> shift {
                continue;
            }
            let loc = level * SLOTS + ((to >> shift) as usize & (SLOTS - 1));
            let mut id = self.lists[loc].0;
            if id == NIL {
                continue;
            }
            self.lists[loc] = (NIL, NIL);
            self.occupied[level] &= !(1 << (loc % SLOTS));
            while is_entry(id) {
                let next = self.entries[id as usize].next;
                self.link(id);
                id = next;
            }
        }
    }

    /// Every armed entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (Instant, T)> + '_ {
        self.entries
            .iter()
            .filter(|e| e.armed())
            .map(|e| (e.at(), e.what))
    }

    /// Checks the wheel's own invariants (lists linked both ways and sorted, every entry where
    /// the cursor says it belongs, the occupancy bits right, the count right).
    pub fn check(&self) -> Result<(), String> {
        let mut seen = 0;
        for (loc, &(head, tail)) in self.lists.iter().enumerate() {
            let (level, slot) = (loc / SLOTS, loc % SLOTS);
            if (self.occupied[level] >> slot & 1 == 1) != (head != NIL) {
                return Err(format!("slot {level}/{slot}: occupancy bit is wrong"));
            }
            let this = SLOT | loc as u32;
            if head == NIL {
                if tail != NIL {
                    return Err(format!("slot {level}/{slot}: tail without a head"));
                }
                continue;
            }
            let (mut prev, mut id) = (this, head);
            while is_entry(id) {
                let e = &self.entries[id as usize];
                if e.prev != prev {
                    return Err(format!("slot {level}/{slot}: entry {id} is mislinked"));
                }
                if is_entry(prev) && self.entries[prev as usize].at() > e.at() {
                    return Err(format!("slot {level}/{slot}: list out of order"));
                }
                let tick = self.tick(e.at());
                if tick >= self.cursor && self.place(tick) as usize != loc {
                    return Err(format!("entry {id} at {} is in the wrong slot", e.at()));
                }
                if tick < self.cursor && loc != self.place(self.cursor) as usize {
                    return Err(format!("overdue entry {id} is not in the cursor's slot"));
                }
                seen += 1;
                (prev, id) = (id, e.next);
            }
            if id != this {
                return Err(format!(
                    "slot {level}/{slot}: list does not end at its slot"
                ));
            }
            if tail != prev {
                return Err(format!("slot {level}/{slot}: tail is wrong"));
            }
        }
        if seen != self.len {
            return Err(format!("{seen} entries linked, {} counted", self.len));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;

    /// What the wheel must match: a queue sorted by (deadline, arming sequence).
    #[derive(Default)]
    struct Model {
        set: BTreeSet<(Instant, u64, u32)>,
        seq: u64,
    }

    #[derive(Clone, Debug)]
    enum Op {
        /// Arm at now + this many ns.
        Arm(u64),
        /// Cancel the n-th live entry (modulo the count).
        Cancel(usize),
        /// Move time on by this many ns and fire what is due.
        Run(u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            // Whole ticks, as the stack arms (4 ms ticks), near and far.
            4 => (0u64..600).prop_map(|j| Op::Arm(j * 4_000_000)),
            1 => (0u64..1u64 << 40).prop_map(|j| Op::Arm(j * 4_000_000)),
            // Deadlines inside a tick.
            2 => (0u64..3_000_000_000).prop_map(Op::Arm),
            2 => any::<usize>().prop_map(Op::Cancel),
            3 => (0u64..2_000_000_000).prop_map(Op::Run),
            1 => (0u64..1u64 << 50).prop_map(Op::Run),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn fires_in_deadline_then_arming_order(ops in proptest::collection::vec(op(), 1..300)) {
            let mut wheel = TimerWheel::<u32>::new(4_000_000);
            let mut model = Model::default();
            let mut ids: Vec<(TimerId, Instant, u64, u32)> = Vec::new();
            let mut now = Instant::ZERO;
            let mut label = 0u32;
            for op in ops {
                match op {
                    Op::Arm(d) => {
                        let at = Instant::from_nanos(now.as_nanos().saturating_add(d));
                        label += 1;
                        model.seq += 1;
                        model.set.insert((at, model.seq, label));
                        let id = wheel.insert(at, label);
                        ids.push((id, at, model.seq, label));
                    }
                    Op::Cancel(n) if !ids.is_empty() => {
                        let (id, at, seq, label) = ids.swap_remove(n % ids.len());
                        prop_assert!(model.set.remove(&(at, seq, label)));
                        prop_assert_eq!(wheel.remove(id), Some((at, label)));
                    }
                    Op::Cancel(_) => {}
                    Op::Run(d) => {
                        now = Instant::from_nanos(now.as_nanos().saturating_add(d));
                        while let Some((at, label)) = wheel.pop_due(now) {
                            let first = model.set.pop_first();
                            prop_assert_eq!(first.map(|f| (f.0, f.2)), Some((at, label)));
                            ids.retain(|x| x.3 != label);
                        }
                        prop_assert!(model.set.first().is_none_or(|f| f.0 > now));
                    }
                }
                prop_assert_eq!(wheel.peek().map(|p| (p.0, p.1)), model.set.first().map(|f| (f.0, f.2)));
                prop_assert_eq!(wheel.len(), model.set.len());
                if let Err(e) = wheel.check() {
                    return Err(TestCaseError::fail(e));
                }
            }
        }
    }

    #[test]
    fn an_entry_is_20_bytes_with_a_4_byte_payload() {
        assert_eq!(std::mem::size_of::<Entry<u32>>(), 20);
    }

    #[test]
    fn ties_fire_in_arming_order_across_cascades() {
        let mut wheel = TimerWheel::new(4_000_000);
        let far = Instant::from_secs(7200);
        // Armed while the deadline is levels away, then again once the cursor is close.
        let a = wheel.insert(far, 'a');
        wheel.insert(far, 'b');
        assert_eq!(wheel.pop_due(Instant::from_secs(7199)), None);
        wheel.insert(far, 'c');
        wheel.insert(Instant::from_secs(7199), 'z');
        assert_eq!(wheel.remove(a), Some((far, 'a')));
        let mut fired = Vec::new();
        while let Some((_, w)) = wheel.pop_due(far) {
            fired.push(w);
        }
        assert_eq!(fired, ['z', 'b', 'c']);
        assert!(wheel.is_empty());
        assert_eq!(wheel.remove(a), None);
    }
}
