//! The 4-tuple table (Linux: the established hash, `inet_ehash_bucket`, searched by
//! `__inet_lookup_established()`): every full, request and time-wait socket by (local,
//! remote). As in Linux the table holds only references and the records hold the addresses: an
//! entry is a packed [`ConnRef`] of 4 bytes, hashed from the 4-tuple, and a lookup compares the
//! addresses of the record each candidate points to. With a million time-wait records this is
//! about 10 bytes of table per record where a map keyed by two `SocketAddr`s took 170.
//!
//! Guarantees: a lookup is exact (an entry matches only if its record's addresses equal the
//! 4-tuple, `SocketAddr` equality); `insert` replaces the entry whose record has the same
//! 4-tuple, as a map's insert would; `remove` takes out exactly the given reference. Every entry
//! must lead to a live record whose addresses do not change while it is in the table (the
//! table rehashes from them when it grows); `check_invariants` verifies it. The table is never
//! iterated for output, so its hash order leaks nowhere.

use std::hash::BuildHasher;
use std::net::SocketAddr;

use hashbrown::HashTable;

use super::{Slab, Stack};
use crate::hash::FastHash;
use crate::listen::ReqSock;
use crate::socket::Sock;
use crate::timewait::TwSock;

/// What a 4-tuple leads to.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub(super) enum ConnRef {
    Conn(usize),
    Req(usize),
    Tw(usize),
}

/// Bits of a packed [`ConnRef`] that hold the index; the two above them hold the kind.
const INDEX_BITS: u32 = 30;

impl ConnRef {
    fn pack(self) -> u32 {
        let (kind, i) = match self {
            ConnRef::Conn(i) => (0, i),
            ConnRef::Req(i) => (1, i),
            ConnRef::Tw(i) => (2, i),
        };
        super::slab::pack(kind, i, INDEX_BITS, "socket")
    }

    fn unpack(v: u32) -> ConnRef {
        match super::slab::unpack(v, INDEX_BITS) {
            (0, i) => ConnRef::Conn(i),
            (1, i) => ConnRef::Req(i),
            (_, i) => ConnRef::Tw(i),
        }
    }
}

/// The records a [`ConnRef`] points into.
#[derive(Clone, Copy)]
pub(super) struct Records<'a> {
    pub conns: &'a Slab<Sock>,
    pub reqs: &'a Slab<ReqSock>,
    pub tws: &'a Slab<TwSock>,
}

impl Records<'_> {
    /// Whether `r` is a live record for `(local, remote)`.
    fn is(&self, r: ConnRef, local: &SocketAddr, remote: &SocketAddr) -> bool {
        match r {
            ConnRef::Conn(c) => self
                .conns
                .get(c)
                .is_some_and(|s| s.local == *local && s.remote == *remote),
            ConnRef::Req(x) => self.reqs.get(x).is_some_and(|s| s.addrs.is(local, remote)),
            ConnRef::Tw(x) => self.tws.get(x).is_some_and(|s| s.addrs.is(local, remote)),
        }
    }

    /// The 4-tuple of record `r`, if it is live.
    pub fn tuple(&self, r: ConnRef) -> Option<(SocketAddr, SocketAddr)> {
        match r {
            ConnRef::Conn(c) => self.conns.get(c).map(|s| (s.local, s.remote)),
            ConnRef::Req(x) => self
                .reqs
                .get(x)
                .map(|s| (s.addrs.local(), s.addrs.remote())),
            ConnRef::Tw(x) => self.tws.get(x).map(|s| (s.addrs.local(), s.addrs.remote())),
        }
    }
}

/// See the module docs.
#[derive(Debug)]
pub(super) struct TupleTable {
    table: HashTable<u32>,
    hash: FastHash,
}

impl TupleTable {
    pub fn new(hash: FastHash) -> TupleTable {
        TupleTable {
            table: HashTable::new(),
            hash,
        }
    }

    fn hash_of(hash: FastHash, local: SocketAddr, remote: SocketAddr) -> u64 {
        hash.hash_one((local, remote))
    }

    pub fn get(&self, recs: Records<'_>, local: SocketAddr, remote: SocketAddr) -> Option<ConnRef> {
        let h = Self::hash_of(self.hash, local, remote);
        self.table
            .find(h, |v| recs.is(ConnRef::unpack(*v), &local, &remote))
            .map(|v| ConnRef::unpack(*v))
    }

    /// Makes `(local, remote)` lead to `r`, replacing what it led to.
    pub fn insert(&mut self, recs: Records<'_>, local: SocketAddr, remote: SocketAddr, r: ConnRef) {
        let hash = self.hash;
        let h = Self::hash_of(hash, local, remote);
        if let Some(v) = self
            .table
            .find_mut(h, |v| recs.is(ConnRef::unpack(*v), &local, &remote))
        {
            *v = r.pack();
            return;
        }
        self.table.insert_unique(h, r.pack(), |v| {
            let (l, rm) = recs
                .tuple(ConnRef::unpack(*v))
                .unwrap_or_else(|| panic!("4-tuple table entry {v:#x} leads to no record"));
            Self::hash_of(hash, l, rm)
        });
    }

    /// Takes out the entry for `r` under `(local, remote)`; false if there was none. The
    /// record itself may already be gone.
    pub fn remove(&mut self, local: SocketAddr, remote: SocketAddr, r: ConnRef) -> bool {
        let h = Self::hash_of(self.hash, local, remote);
        let packed = r.pack();
        match self.table.find_entry(h, |v| *v == packed) {
            Ok(e) => {
                e.remove();
                true
            }
            Err(_) => false,
        }
    }

    /// Every entry, in no particular order (for the invariant checks only).
    pub fn refs(&self) -> impl Iterator<Item = ConnRef> + '_ {
        self.table.iter().map(|v| ConnRef::unpack(*v))
    }
}

impl Stack {
    pub(super) fn records(&self) -> Records<'_> {
        Records {
            conns: &self.conns,
            reqs: &self.reqs,
            tws: &self.tws,
        }
    }

    /// What `(local, remote)` leads to.
    pub(super) fn tuple_get(&self, local: SocketAddr, remote: SocketAddr) -> Option<ConnRef> {
        self.tuples.get(self.records(), local, remote)
    }

    /// Makes `(local, remote)` lead to `r` (whose record is live).
    pub(super) fn tuple_insert(&mut self, local: SocketAddr, remote: SocketAddr, r: ConnRef) {
        let recs = Records {
            conns: &self.conns,
            reqs: &self.reqs,
            tws: &self.tws,
        };
        self.tuples.insert(recs, local, remote, r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_pack_and_unpack() {
        for r in [
            ConnRef::Conn(0),
            ConnRef::Req(1),
            ConnRef::Tw((1 << INDEX_BITS) - 1),
            ConnRef::Conn(12_345),
        ] {
            assert_eq!(ConnRef::unpack(r.pack()), r);
        }
        assert_ne!(ConnRef::Conn(5).pack(), ConnRef::Tw(5).pack());
    }

    #[test]
    #[should_panic(expected = "needs more than 30 bits")]
    fn an_index_past_the_packing_is_refused() {
        ConnRef::Req(1 << INDEX_BITS).pack();
    }
}
