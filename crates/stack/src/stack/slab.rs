//! Records by a stable index, with a free list: the socket, request and time-wait tables.
//!
//! The records live in chunks of a fixed count (a power of two, about 64 KiB each) rather than
//! one vector: a vector doubles when it grows, so a million time-wait records could hold room
//! for two million, and every doubling copies them all. Chunks are never moved or resized, so
//! the slack is under one chunk. Indexes, the free list (last freed, first reused) and the
//! iteration order (by index) are those of a single vector.

/// Bytes a chunk may take.
const CHUNK_BYTES: usize = 64 * 1024;

/// A slab index and a small kind in one `u32`, the kind in the bits above `index_bits` (the
/// 4-tuple table's and the timer wheel's references to records). An index that does not fit
/// stops the program: half a billion records of one kind would be hundreds of GiB, and a
/// reference that reached the wrong record would be worse than stopping.
pub(super) fn pack(kind: u32, index: usize, index_bits: u32, what: &str) -> u32 {
    let mask = (1u32 << index_bits) - 1;
    let i = u32::try_from(index)
        .ok()
        .filter(|i| *i <= mask)
        .unwrap_or_else(|| panic!("{what} index {index} needs more than {index_bits} bits"));
    (kind << index_bits) | i
}

/// (kind, index) of a value made by [`pack`].
pub(super) fn unpack(v: u32, index_bits: u32) -> (u32, usize) {
    (v >> index_bits, (v & ((1u32 << index_bits) - 1)) as usize)
}

/// See the module docs.
#[derive(Debug)]
pub(super) struct Slab<T> {
    /// Every chunk but the last is full (`PER_CHUNK` slots).
    chunks: Vec<Vec<Option<T>>>,
    free: Vec<usize>,
    /// Slots made so far, live or free.
    slots: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            chunks: Vec::new(),
            free: Vec::new(),
            slots: 0,
        }
    }
}

impl<T> Slab<T> {
    /// Slots per chunk: the largest power of two that fits `CHUNK_BYTES` (at least one).
    const SHIFT: u32 = {
        let per = CHUNK_BYTES
            / if size_of::<Option<T>>() == 0 {
                1
            } else {
                size_of::<Option<T>>()
            };
        if per <= 1 { 0 } else { per.ilog2() }
    };
    const PER_CHUNK: usize = 1 << Self::SHIFT;

    fn slot(&self, i: usize) -> Option<&Option<T>> {
        self.chunks
            .get(i >> Self::SHIFT)?
            .get(i & (Self::PER_CHUNK - 1))
    }

    fn slot_mut(&mut self, i: usize) -> Option<&mut Option<T>> {
        self.chunks
            .get_mut(i >> Self::SHIFT)?
            .get_mut(i & (Self::PER_CHUNK - 1))
    }

    pub fn insert(&mut self, v: T) -> usize {
        if let Some(i) = self.free.pop()
            && let Some(slot) = self.slot_mut(i)
        {
            *slot = Some(v);
            return i;
        }
        match self.chunks.last_mut() {
            Some(last) if last.len() < Self::PER_CHUNK => last.push(Some(v)),
            _ => {
                let mut chunk = Vec::with_capacity(Self::PER_CHUNK);
                chunk.push(Some(v));
                self.chunks.push(chunk);
            }
        }
        self.slots += 1;
        self.slots - 1
    }

    pub fn remove(&mut self, i: usize) -> Option<T> {
        let v = self.slot_mut(i)?.take();
        if v.is_some() {
            self.free.push(i);
        }
        v
    }

    pub fn get(&self, i: usize) -> Option<&T> {
        self.slot(i)?.as_ref()
    }

    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        self.slot_mut(i)?.as_mut()
    }

    /// Live records by index.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &T)> {
        self.chunks
            .iter()
            .flatten()
            .enumerate()
            .filter_map(|(i, v)| v.as_ref().map(|v| (i, v)))
    }

    /// Live records.
    pub fn len(&self) -> usize {
        self.slots - self.free.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_are_those_of_one_vector_with_a_free_list() {
        let mut t: Slab<u32> = Slab::default();
        let ids: Vec<usize> = (0..10).map(|n| t.insert(n)).collect();
        assert_eq!(ids, (0..10).collect::<Vec<_>>());
        assert_eq!(t.remove(3), Some(3));
        assert_eq!(t.remove(3), None);
        assert_eq!(t.remove(7), Some(7));
        assert_eq!(t.remove(99), None);
        assert_eq!(t.len(), 8);
        // Last freed, first reused.
        assert_eq!(t.insert(70), 7);
        assert_eq!(t.insert(30), 3);
        assert_eq!(t.insert(10), 10);
        assert_eq!(t.get(7), Some(&70));
        *t.get_mut(10).unwrap() += 1;
        let all: Vec<(usize, u32)> = t.iter().map(|(i, v)| (i, *v)).collect();
        let want: Vec<(usize, u32)> = (0..11)
            .map(|i| (i, [0, 1, 2, 30, 4, 5, 6, 70, 8, 9, 11][i]))
            .collect();
        assert_eq!(all, want);
        // Records of 16 KiB (and the `Option`'s byte): two to a chunk, a power of two, so
        // five records take three chunks.
        let mut s: Slab<[u8; 16 * 1024]> = Slab::default();
        assert_eq!(Slab::<[u8; 16 * 1024]>::PER_CHUNK, 2);
        for n in 0..5 {
            assert_eq!(s.insert([n; 16 * 1024]), usize::from(n));
        }
        assert_eq!(s.chunks.len(), 3);
        assert_eq!(s.get(4).map(|v| v[0]), Some(4));
        assert!(s.get(5).is_none());
    }

    #[test]
    fn chunks_are_about_64_kib() {
        assert_eq!(Slab::<u64>::PER_CHUNK * 16, CHUNK_BYTES);
        assert_eq!(Slab::<[u8; 100_000]>::PER_CHUNK, 1);
        let mut s: Slab<u64> = Slab::default();
        for n in 0..5000 {
            s.insert(n);
        }
        assert!(
            s.chunks
                .iter()
                .all(|c| c.capacity() == Slab::<u64>::PER_CHUNK)
        );
    }
}
