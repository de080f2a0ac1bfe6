//! tcplab-testkit: deterministic test drivers for tcplab-stack.
//!
//! - [`Pair`]: two stacks on a simulated link (delay, loss, duplication, reordering,
//!   corruption, per-packet hooks) in virtual time, with a capture and an event log;
//! - [`Harness`]: one stack and a scripted peer, driven segment by segment with
//!   [`peer_sends!`], [`expect_sent!`] and [`expect_quiet!`] in packetdrill's notation
//!   ([`notation`]);
//! - [`fixtures`]: handshakes with Linux's exact segments, for tests that start established;
//! - [`Bulk`]: a two-way bulk transfer over a `Pair`, every byte checked;
//! - [`rng`]: the seeded generator and the seekable byte [`Pattern`] that transfer tests
//!   check data against.
//!
//! Guarantees: nothing here reads a clock, sleeps or uses OS randomness; every ordering is by
//! time and then by insertion, never by hash; a test run is a function of its seed.

pub mod bulk;
pub mod codec;
pub mod fixtures;
pub mod harness;
pub mod link;
pub mod notation;
pub mod pair;
pub mod rng;

pub use bulk::{Bulk, BulkError};
pub use codec::Segment;
pub use fixtures::{Conn, active_open, passive_open, peer_ts};
pub use harness::{At, Harness, Sent, around};
pub use link::{Direction, Faults, Packet, Verdict};
pub use notation::{RelSegment, SegmentSpec};
pub use pair::{Captured, LinkStats, Logged, Pair, Side};
pub use rng::{Pattern, Rng};
