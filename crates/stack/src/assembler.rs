//! The receiver's out-of-order queue (Linux: `tp->out_of_order_queue`) and the SACK blocks it
//! advertises (Linux: `tp->selective_acks`, RFC 2018).
//!
//! Guarantees:
//! - Stored data never overlaps: each sequence number is held at most once, and a byte once
//!   stored is never replaced. Where a later segment disagrees with stored bytes, the stored
//!   (first-arrived) bytes win. Linux keeps overlapping skbs and lets the one starting lowest
//!   win; a conforming peer resends identical bytes, so the two differ only for a peer that
//!   rewrites retransmitted data.
//! - Correct across sequence wraparound: positions are unwrapped against `rcv_nxt`, which the
//!   caller passes on every call; data must lie within 2^31 − 1 bytes after it (the receive
//!   window is far smaller).
//! - [`Assembler::pop_ready`] delivers exactly the bytes contiguous from `rcv_nxt`, once each.
//! - SACK blocks follow `tcp_sack_new_ofo_skb()`, `tcp_sack_maybe_coalesce()` and
//!   `tcp_sack_remove()`: the block holding the most recent segment comes first (RFC 2018 §4),
//!   at most four are remembered, and blocks covered by `rcv_nxt` disappear.
//! - Stored bytes never exceed the budget. A segment that does not fit first evicts stored data
//!   that starts at or after it, highest sequence first, and clears the SACK blocks (as
//!   `tcp_prune_ofo_queue()` does); if it still does not fit it is dropped.
//!
//! Only data is stored. A FIN beyond a hole is the socket's to remember: it becomes acceptable
//! once `rcv_nxt` reaches its sequence number.

use std::collections::BTreeMap;
use std::ops::Bound::Excluded;

use crate::seq::{after, before};

/// Linux: TCP_NUM_SACKS, the SACK blocks a receiver remembers.
pub const TCP_NUM_SACKS: usize = 4;

/// What [`Assembler::insert`] did with a segment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InsertOutcome {
    /// Bytes of the segment that were new and are now stored.
    pub stored: u32,
    /// The lowest range of the segment that had already been received (before `rcv_nxt` or
    /// already queued): what a D-SACK (RFC 2883) would report.
    pub dsack: Option<(u32, u32)>,
    /// The segment did not fit the budget and nothing of it was stored.
    pub dropped: bool,
    /// Queued data was evicted to make room, and the SACK blocks were cleared.
    pub pruned: bool,
}

/// Out-of-order data beyond `rcv_nxt`, with the SACK state derived from it.
#[derive(Clone, Debug)]
pub struct Assembler {
    /// Non-overlapping runs of data keyed by unwrapped sequence number.
    segs: BTreeMap<i64, Vec<u8>>,
    /// `base_seq` unwraps to `base_abs`; both move to `rcv_nxt` on every call.
    base_seq: u32,
    base_abs: i64,
    bytes: usize,
    budget: usize,
    /// Linux: tp->selective_acks[] and rx_opt.num_sacks.
    selective_acks: [(u32, u32); TCP_NUM_SACKS],
    num_sacks: usize,
}

impl Default for Assembler {
    fn default() -> Self {
        Assembler::new()
    }
}

impl Assembler {
    /// An empty queue without a byte limit (the socket accounts for its receive buffer).
    pub const fn new() -> Assembler {
        Assembler::with_budget(usize::MAX)
    }

    /// An empty queue that holds at most `budget` bytes.
    pub const fn with_budget(budget: usize) -> Assembler {
        Assembler {
            segs: BTreeMap::new(),
            base_seq: 0,
            base_abs: 0,
            bytes: 0,
            budget,
            selective_acks: [(0, 0); TCP_NUM_SACKS],
            num_sacks: 0,
        }
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.segs.is_empty()
    }

    /// Whether the queue is as [`Assembler::new`] made it: nothing queued, no SACK block, no
    /// budget. (`base_seq` and `base_abs` do not count: every call first moves them to its
    /// `rcv_nxt`, and blocks past `num_sacks` are never read.)
    pub fn is_pristine(&self) -> bool {
        self.segs.is_empty() && self.bytes == 0 && self.num_sacks == 0 && self.budget == usize::MAX
    }

    /// Bytes queued.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The byte budget.
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Changes the budget; data already queued stays even if it exceeds the new value.
    pub fn set_budget(&mut self, budget: usize) {
        self.budget = budget;
    }

    /// Discards all queued data and SACK state.
    pub fn clear(&mut self) {
        self.segs.clear();
        self.bytes = 0;
        self.num_sacks = 0;
    }

    /// The end of the highest queued data (Linux: `ooo_last_skb`'s end_seq).
    pub fn highest_seq(&self) -> Option<u32> {
        let (k, v) = self.segs.last_key_value()?;
        Some(self.seq_of(k + v.len() as i64))
    }

    /// Queued data as maximal contiguous `(start, end)` ranges in sequence order.
    pub fn ranges(&self) -> Vec<(u32, u32)> {
        let mut out: Vec<(i64, i64)> = Vec::new();
        for (k, v) in &self.segs {
            let end = k + v.len() as i64;
            match out.last_mut() {
                Some(last) if last.1 == *k => last.1 = end,
                _ => out.push((*k, end)),
            }
        }
        out.into_iter()
            .map(|(s, e)| (self.seq_of(s), self.seq_of(e)))
            .collect()
    }

    /// The SACK blocks to advertise, most recent first, at most `max` of them.
    pub fn sack_blocks(&self, max: usize) -> Vec<(u32, u32)> {
        self.selective_acks[..self.num_sacks.min(max)].to_vec()
    }

    /// Queues `data` received at `seq`. The part before `rcv_nxt` is ignored; a segment that
    /// starts beyond `rcv_nxt` updates the SACK blocks (even when every byte was already
    /// queued, as Linux does); one that starts at `rcv_nxt` is in order and does not.
    ///
    /// Linux: tcp_data_queue_ofo() in net/ipv4/tcp_input.c
    pub fn insert(&mut self, rcv_nxt: u32, seq: u32, data: &[u8]) -> InsertOutcome {
        self.rebase(rcv_nxt);
        let mut outcome = InsertOutcome::default();
        let Ok(len) = i32::try_from(data.len()) else {
            outcome.dropped = true;
            return outcome;
        };
        if len == 0 {
            return outcome;
        }
        let nxt = self.base_abs;
        let seg_start = self.unwrap(seq);
        let end = seg_start + i64::from(len);
        let end_seq = seq.wrapping_add(len as u32);
        if end <= nxt {
            outcome.dsack = Some((seq, end_seq));
            return outcome;
        }
        if end - nxt > i64::from(i32::MAX) {
            // Beyond anything a window can reach; positions there would not unwrap uniquely.
            outcome.dropped = true;
            return outcome;
        }
        let start = seg_start.max(nxt);
        if seg_start < nxt {
            outcome.dsack = Some((seq, rcv_nxt));
        }
        let in_order = start == nxt;

        let mut holes = self.holes(start, end);
        let mut need: i64 = holes.iter().map(|(a, b)| b - a).sum();
        if outcome.dsack.is_none() {
            outcome.dsack =
                first_covered(start, end, &holes).map(|(a, b)| (self.seq_of(a), self.seq_of(b)));
        }

        while over_budget(self.bytes, need, self.budget) {
            // Linux: tcp_prune_ofo_queue() — evict from the highest sequence down, but never
            // data that starts before the new segment.
            let Some((&k, _)) = self.segs.last_key_value() else {
                break;
            };
            if k < start {
                break;
            }
            if let Some(v) = self.segs.remove(&k) {
                self.bytes -= v.len();
            }
            outcome.pruned = true;
            holes = self.holes(start, end);
            need = holes.iter().map(|(a, b)| b - a).sum();
        }
        if outcome.pruned {
            self.num_sacks = 0;
        }
        if over_budget(self.bytes, need, self.budget) {
            outcome.dropped = true;
            return outcome;
        }

        for (a, b) in holes {
            let from = (a - seg_start) as usize;
            let to = (b - seg_start) as usize;
            if let Some(bytes) = data.get(from..to) {
                self.segs.insert(a, bytes.to_vec());
            }
        }
        self.bytes += need as usize;
        outcome.stored = need as u32;
        if !in_order {
            self.sack_new_ofo_skb(seq, end_seq);
        }
        outcome
    }

    /// Hands `out` the queued bytes contiguous from `rcv_nxt`, in order, and forgets them and
    /// any data below `rcv_nxt`. Returns the bytes delivered: the caller's new `rcv_nxt` is
    /// `rcv_nxt + returned`.
    ///
    /// Linux: tcp_ofo_queue() and tcp_sack_remove() in net/ipv4/tcp_input.c
    pub fn pop_ready(&mut self, rcv_nxt: u32, out: &mut impl FnMut(&[u8])) -> u32 {
        self.rebase(rcv_nxt);
        let mut nxt = self.base_abs;
        let mut delivered: u64 = 0;
        while let Some(entry) = self.segs.first_entry() {
            let k = *entry.key();
            let end = k + entry.get().len() as i64;
            if k > nxt {
                break;
            }
            let v = entry.remove();
            self.bytes -= v.len();
            if end <= nxt {
                continue; // already delivered by other means
            }
            let from = (nxt - k) as usize;
            out(&v[from..]);
            delivered += (v.len() - from) as u64;
            nxt = end;
        }
        let delivered = delivered.min(u64::from(u32::MAX)) as u32;
        self.sack_remove(rcv_nxt.wrapping_add(delivered));
        delivered
    }

    /// [`Assembler::pop_ready`] into a new vector.
    pub fn pop_ready_vec(&mut self, rcv_nxt: u32) -> Vec<u8> {
        let mut v = Vec::new();
        self.pop_ready(rcv_nxt, &mut |b: &[u8]| v.extend_from_slice(b));
        v
    }

    /// Moves the unwrapping origin to `rcv_nxt`, so every later position is within ±2^31 of it.
    fn rebase(&mut self, rcv_nxt: u32) {
        if self.segs.is_empty() {
            self.base_abs = 0;
        } else {
            self.base_abs = self.unwrap(rcv_nxt);
        }
        self.base_seq = rcv_nxt;
    }

    fn unwrap(&self, seq: u32) -> i64 {
        self.base_abs + i64::from(seq.wrapping_sub(self.base_seq) as i32)
    }

    fn seq_of(&self, abs: i64) -> u32 {
        self.base_seq.wrapping_add((abs - self.base_abs) as u32)
    }

    /// The parts of `[start, end)` not yet queued, in order.
    fn holes(&self, start: i64, end: i64) -> Vec<(i64, i64)> {
        let mut holes = Vec::new();
        let mut cur = start;
        if let Some((k, v)) = self.segs.range(..=start).next_back() {
            cur = cur.max(k + v.len() as i64);
        }
        for (k, v) in self.segs.range((Excluded(start), Excluded(end))) {
            if *k > cur {
                holes.push((cur, *k));
            }
            cur = cur.max(k + v.len() as i64);
        }
        if cur < end {
            holes.push((cur, end));
        }
        holes
    }

    /// Records a new out-of-order segment: extend the first block it touches and move that
    /// block to the front, or push a new block at the front, forgetting the oldest if full.
    ///
    /// Linux: tcp_sack_new_ofo_skb() in net/ipv4/tcp_input.c
    fn sack_new_ofo_skb(&mut self, seq: u32, end_seq: u32) {
        let cur = self.num_sacks;
        for i in 0..cur {
            if sack_extend(&mut self.selective_acks[i], seq, end_seq) {
                self.selective_acks[..=i].rotate_right(1);
                if cur > 1 {
                    self.sack_maybe_coalesce();
                }
                return;
            }
        }
        let n = cur.min(TCP_NUM_SACKS - 1);
        self.selective_acks[..=n].rotate_right(1);
        self.selective_acks[0] = (seq, end_seq);
        self.num_sacks = n + 1;
    }

    /// Merges into the first block every other block it now overlaps or touches.
    ///
    /// Linux: tcp_sack_maybe_coalesce() in net/ipv4/tcp_input.c
    fn sack_maybe_coalesce(&mut self) {
        let mut i = 1;
        while i < self.num_sacks {
            let (s, e) = self.selective_acks[i];
            if sack_extend(&mut self.selective_acks[0], s, e) {
                self.selective_acks[i..self.num_sacks].rotate_left(1);
                self.num_sacks -= 1;
                continue;
            }
            i += 1;
        }
    }

    /// Drops the blocks `rcv_nxt` has reached; all of them once nothing is queued.
    ///
    /// Linux: tcp_sack_remove() in net/ipv4/tcp_input.c
    fn sack_remove(&mut self, rcv_nxt: u32) {
        if self.segs.is_empty() {
            self.num_sacks = 0;
            return;
        }
        let mut i = 0;
        while i < self.num_sacks {
            if !before(rcv_nxt, self.selective_acks[i].0) {
                self.selective_acks[i..self.num_sacks].rotate_left(1);
                self.num_sacks -= 1;
                continue;
            }
            i += 1;
        }
    }
}

/// Widens `sp` to cover `[seq, end_seq)` if the two overlap or touch.
///
/// Linux: tcp_sack_extend() in net/ipv4/tcp_input.c
fn sack_extend(sp: &mut (u32, u32), seq: u32, end_seq: u32) -> bool {
    if !after(seq, sp.1) && !after(sp.0, end_seq) {
        if before(seq, sp.0) {
            sp.0 = seq;
        }
        if after(end_seq, sp.1) {
            sp.1 = end_seq;
        }
        return true;
    }
    false
}

fn over_budget(bytes: usize, need: i64, budget: usize) -> bool {
    (bytes as u128) + (need.max(0) as u128) > budget as u128
}

/// The first part of `[start, end)` outside `holes` (which are sorted and inside it).
fn first_covered(start: i64, end: i64, holes: &[(i64, i64)]) -> Option<(i64, i64)> {
    let mut p = start;
    for &(a, b) in holes {
        if a > p {
            return Some((p, a));
        }
        p = b;
    }
    (p < end).then_some((p, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bytes(from: u32, len: usize) -> Vec<u8> {
        (0..len).map(|i| (from as usize + i) as u8).collect()
    }

    /// Inserts `[seq, seq+len)` of the reference stream (byte at seq s is `s as u8`).
    fn put(a: &mut Assembler, rcv_nxt: u32, seq: u32, len: usize) -> InsertOutcome {
        a.insert(rcv_nxt, seq, &bytes(seq, len))
    }

    #[test]
    fn in_order_segment_is_delivered_at_once() {
        let mut a = Assembler::new();
        let o = put(&mut a, 1000, 1000, 100);
        assert_eq!(
            o,
            InsertOutcome {
                stored: 100,
                ..Default::default()
            }
        );
        assert!(a.sack_blocks(4).is_empty(), "in-order data is not SACKed");
        assert_eq!(a.pop_ready_vec(1000), bytes(1000, 100));
        assert!(a.is_empty());
        assert_eq!(a.bytes(), 0);
    }

    #[test]
    fn reverse_order_reassembles() {
        let mut a = Assembler::new();
        for i in (1..10u32).rev() {
            put(&mut a, 0, i * 100, 100);
            assert_eq!(a.pop_ready_vec(0), Vec::<u8>::new(), "hole at 0 stays");
        }
        assert_eq!(a.bytes(), 900);
        assert_eq!(a.ranges(), vec![(100, 1000)]);
        put(&mut a, 0, 0, 100);
        let mut chunks = 0;
        let n = a.pop_ready(0, &mut |_| chunks += 1);
        assert_eq!(n, 1000);
        assert_eq!(chunks, 10);
        assert!(a.is_empty());
    }

    #[test]
    fn overlaps_keep_the_first_bytes_and_report_dsack() {
        let mut a = Assembler::new();
        assert_eq!(a.insert(0, 100, &[1; 100]).stored, 100);
        // Overlaps 150..200 and adds 200..250; the old bytes stay.
        let o = a.insert(0, 150, &[2; 100]);
        assert_eq!(o.stored, 50);
        assert_eq!(o.dsack, Some((150, 200)));
        // Covers the whole run plus both sides: only the edges are new.
        let o = a.insert(0, 50, &[3; 250]);
        assert_eq!(o.stored, 100);
        assert_eq!(o.dsack, Some((100, 250)));
        a.insert(0, 0, &[4; 50]);
        let got = a.pop_ready_vec(0);
        let mut want = vec![4u8; 50];
        want.extend([3; 50]);
        want.extend([1; 100]);
        want.extend([2; 50]);
        want.extend([3; 50]);
        assert_eq!(got, want);
    }

    #[test]
    fn duplicates_store_nothing() {
        let mut a = Assembler::new();
        put(&mut a, 0, 100, 100);
        let o = put(&mut a, 0, 120, 30);
        assert_eq!((o.stored, o.dsack), (0, Some((120, 150))));
        assert_eq!(a.bytes(), 100);
        // Entirely below rcv_nxt.
        let o = put(&mut a, 500, 400, 100);
        assert_eq!((o.stored, o.dsack, o.dropped), (0, Some((400, 500)), false));
        // Straddling rcv_nxt: the old part is reported, the rest is in order.
        let mut a = Assembler::new();
        let o = put(&mut a, 500, 450, 100);
        assert_eq!((o.stored, o.dsack), (50, Some((450, 500))));
        assert_eq!(a.pop_ready_vec(500), bytes(500, 50));
    }

    #[test]
    fn wraps_around_2_32() {
        let mut a = Assembler::new();
        let isn = u32::MAX - 150;
        let s1 = isn.wrapping_add(100); // u32::MAX − 50
        let s2 = isn.wrapping_add(200); // 49 after the wrap
        put(&mut a, isn, s2, 100);
        put(&mut a, isn, s1, 100);
        assert_eq!(a.ranges(), vec![(s1, s2.wrapping_add(100))]);
        assert_eq!(a.sack_blocks(4), vec![(s1, s2.wrapping_add(100))]);
        assert_eq!(a.highest_seq(), Some(s2.wrapping_add(100)));
        put(&mut a, isn, isn, 100);
        let got = a.pop_ready_vec(isn);
        assert_eq!(got.len(), 300);
        let want: Vec<u8> = (0..300u32).map(|i| isn.wrapping_add(i) as u8).collect();
        assert_eq!(got, want);
        assert!(a.sack_blocks(4).is_empty());
    }

    #[test]
    fn sack_blocks_follow_linux_order() {
        let mut a = Assembler::new();
        let nxt = 1000;
        put(&mut a, nxt, 2000, 100);
        assert_eq!(a.sack_blocks(4), vec![(2000, 2100)]);
        put(&mut a, nxt, 3000, 100);
        put(&mut a, nxt, 4000, 100);
        assert_eq!(
            a.sack_blocks(4),
            vec![(4000, 4100), (3000, 3100), (2000, 2100)]
        );
        // Extending an older block moves it to the front (RFC 2018 §4).
        put(&mut a, nxt, 2100, 100);
        assert_eq!(
            a.sack_blocks(4),
            vec![(2000, 2200), (4000, 4100), (3000, 3100)]
        );
        // A fifth block pushes out the least recent.
        put(&mut a, nxt, 5000, 100);
        put(&mut a, nxt, 6000, 100);
        assert_eq!(
            a.sack_blocks(4),
            vec![(6000, 6100), (5000, 5100), (2000, 2200), (4000, 4100)]
        );
        assert_eq!(a.sack_blocks(3).len(), 3);
        // 3000..3100 is still queued but its block was forgotten, as in Linux.
        put(&mut a, nxt, 2200, 800);
        assert_eq!(
            a.sack_blocks(4),
            vec![(2000, 3000), (6000, 6100), (5000, 5100), (4000, 4100)]
        );
        // Touching 4000 extends that block; it does not reach (2000, 3000), so no merge.
        put(&mut a, nxt, 3100, 900);
        assert_eq!(
            a.sack_blocks(4),
            vec![(3100, 4100), (2000, 3000), (6000, 6100), (5000, 5100)]
        );
        // A duplicate beyond rcv_nxt still refreshes its block's position.
        put(&mut a, nxt, 5000, 50);
        assert_eq!(a.sack_blocks(1), vec![(5000, 5100)]);
        // Filling the hole delivers 1000..4100 and drops the blocks rcv_nxt reached.
        put(&mut a, nxt, 1000, 1000);
        assert_eq!(a.pop_ready(nxt, &mut |_| {}), 3100);
        assert_eq!(a.sack_blocks(4), vec![(5000, 5100), (6000, 6100)]);
    }

    #[test]
    fn bridging_segment_coalesces_blocks() {
        let mut a = Assembler::new();
        put(&mut a, 0, 100, 100);
        put(&mut a, 0, 300, 100);
        put(&mut a, 0, 500, 100);
        // 200..300 touches both (100,200) and (300,400): the first match absorbs the other.
        put(&mut a, 0, 200, 100);
        assert_eq!(a.sack_blocks(4), vec![(100, 400), (500, 600)]);
    }

    #[test]
    fn budget_prunes_from_the_top_then_drops() {
        let mut a = Assembler::with_budget(300);
        put(&mut a, 0, 1000, 100);
        put(&mut a, 0, 2000, 100);
        put(&mut a, 0, 3000, 100);
        // Earlier data evicts the highest run and clears the SACK state.
        let o = put(&mut a, 0, 500, 100);
        assert_eq!((o.stored, o.pruned, o.dropped), (100, true, false));
        assert_eq!(a.ranges(), vec![(500, 600), (1000, 1100), (2000, 2100)]);
        assert_eq!(a.sack_blocks(4), vec![(500, 600)]);
        assert_eq!(a.bytes(), 300);
        // Data above everything queued cannot evict anything: dropped.
        let o = put(&mut a, 0, 9000, 10);
        assert_eq!((o.stored, o.pruned, o.dropped), (0, false, true));
        assert_eq!(a.bytes(), 300);
        // Too big even after evicting everything above it: dropped, but the eviction stands.
        let o = put(&mut a, 0, 1500, 400);
        assert!(o.dropped && o.pruned);
        assert_eq!(a.ranges(), vec![(500, 600), (1000, 1100)]);
    }

    #[test]
    fn out_of_reach_and_empty_segments() {
        let mut a = Assembler::new();
        assert!(put(&mut a, 0, 0x7fff_fff9, 10).dropped);
        // Half the sequence space away counts as old, as before() has it.
        let o = put(&mut a, 0, 0x8000_0000, 10);
        assert_eq!(
            (o.stored, o.dropped, o.dsack),
            (0, false, Some((0x8000_0000, 0x8000_000a)))
        );
        assert_eq!(a.insert(0, 5, &[]), InsertOutcome::default());
        assert!(a.is_empty());
        assert_eq!(a.highest_seq(), None);
    }

    #[test]
    fn caller_advancing_rcv_nxt_discards_stale_data() {
        let mut a = Assembler::new();
        put(&mut a, 0, 100, 100);
        put(&mut a, 0, 300, 100);
        // The socket delivered 0..250 itself: 100..200 is stale, 200..250 partly too.
        assert_eq!(a.pop_ready_vec(250), Vec::<u8>::new());
        assert_eq!(a.ranges(), vec![(300, 400)]);
        assert_eq!(a.bytes(), 100);
        assert_eq!(a.pop_ready_vec(350), bytes(350, 50));
        assert!(a.is_empty());
    }

    proptest! {
        /// Any segmentation, order and duplication of a stream reassembles to the stream.
        #[test]
        fn reassembles_any_permutation(
            isn in any::<u32>(),
            len in 0usize..3000,
            cuts in proptest::collection::vec(0usize..3000, 0..40),
            extra in proptest::collection::vec((0usize..3000, 1usize..400), 0..20),
            order in any::<u64>(),
        ) {
            let stream: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let mut points: Vec<usize> = cuts.into_iter().filter(|c| *c < len).collect();
            points.push(0);
            points.push(len);
            points.sort_unstable();
            points.dedup();
            let mut segs: Vec<(usize, usize)> = points.windows(2).map(|w| (w[0], w[1])).collect();
            // Overlapping duplicates of arbitrary ranges.
            for (s, l) in extra {
                if s < len {
                    segs.push((s, (s + l).min(len)));
                }
            }
            // Deterministic shuffle from `order`.
            let mut state = order | 1;
            for i in (1..segs.len()).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                segs.swap(i, (state % (i as u64 + 1)) as usize);
            }

            let mut a = Assembler::new();
            let mut rcv_nxt = isn;
            let mut out = Vec::new();
            for (s, e) in segs {
                let seq = isn.wrapping_add(s as u32);
                a.insert(rcv_nxt, seq, &stream[s..e]);
                let n = a.pop_ready(rcv_nxt, &mut |b: &[u8]| out.extend_from_slice(b));
                rcv_nxt = rcv_nxt.wrapping_add(n);
                // Every advertised block lies beyond rcv_nxt and is queued data.
                let ranges = a.ranges();
                for (bs, be) in a.sack_blocks(4) {
                    prop_assert!(after(bs, rcv_nxt));
                    prop_assert!(ranges.iter().any(|&(rs, re)| {
                        !before(bs, rs) && !after(be, re) && before(bs, be)
                    }), "block {:?} not in {:?}", (bs, be), ranges);
                }
                prop_assert_eq!(a.bytes(), ranges.iter().map(|(s, e)| e.wrapping_sub(*s) as usize).sum::<usize>());
            }
            prop_assert_eq!(out, stream);
            prop_assert_eq!(rcv_nxt, isn.wrapping_add(len as u32));
            prop_assert!(a.is_empty());
            prop_assert!(a.sack_blocks(4).is_empty());
        }
    }
}
