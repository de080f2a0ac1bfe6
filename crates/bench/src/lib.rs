//! tcplab-bench: the workloads of `tcplab bench`, each written once for tcplab and once for
//! smoltcp so the two stacks run the same application over the same in-memory link.
//!
//! - [`tcplab_net`] and [`smoltcp_net`]: two hosts (10.0.0.1 and 10.0.0.2) joined by a queue
//!   of IPv4 datagrams per direction, in virtual time: every delivery of what is queued
//!   advances the clock by [`ONE_WAY_DELAY`], and when nothing is in flight and the
//!   application waits, the clock jumps to the earlier host's next timer;
//! - the workloads, as functions of each module: `bulk` (one connection, a checked transfer),
//!   `churn` (sequential connect / 1-byte request / 1-byte response / close cycles), `many`
//!   (N established connections, each exchanging a 64-byte request and its echo per pass).
//!
//! Guarantees: every workload checks what it moves (each byte of a bulk transfer against
//! [`Pattern`], each echo against its request, each churn cycle through to the peer's close)
//! and returns a [`BenchError`] rather than a figure when anything is missing or wrong. The
//! figures are wall-clock time around the work only (setup outside, except `many`'s setup,
//! which is reported on its own). Datagram buffers come from a pool shared by both directions,
//! so neither stack is charged for the link's allocations.

use std::fmt;
use std::time::Duration;

pub mod link;
pub mod scale;
pub mod smoltcp_net;
pub mod tcplab_net;

pub use link::Pattern;

/// The link's one-way delay in virtual time (a LAN-like 50 µs round trip).
pub const ONE_WAY_DELAY: Duration = Duration::from_micros(25);
/// Bytes per `send` and per `recv` in the bulk workload.
pub const CHUNK: usize = 65536;
/// The socket buffer size both stacks get in bulk: smoltcp's send and receive rings, and
/// tcplab's `tcp_wmem[2]` and `tcp_rmem[2]` (see [`tcplab_net::bulk_equal`]). Far above the
/// link's bandwidth-delay product (125 KB at 20 Gbit/s and a 50 µs round trip), so the window
/// limits neither stack.
pub const BULK_BUFFER: usize = 1 << 20;
/// The bytes of one `many` request (and of its echo).
pub const MESSAGE_LEN: usize = 64;
/// The first server port; `churn` and `many` listen on consecutive ports from here.
pub const SERVER_PORT: u16 = 5001;
/// Distinct 4-tuples one server port gives a client that uses tcplab's default
/// `ip_local_port_range` (32768–60999); more server ports are opened when a workload needs more.
pub const TUPLES_PER_SERVER_PORT: u64 = 28_000;

/// What a bulk run moved and how long it took.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BulkResult {
    pub bytes: u64,
    pub elapsed: Duration,
    /// Datagrams the link carried, both directions.
    pub datagrams: u64,
}

impl BulkResult {
    /// Payload throughput in Gbit/s.
    pub fn gbps(&self) -> f64 {
        self.bytes as f64 * 8.0 / self.elapsed.as_secs_f64() / 1e9
    }
}

/// How a churn run treats the client's TIME_WAIT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeWait {
    /// As the stack does it (tcplab: Linux's 60 s record; smoltcp: the socket stays in its
    /// set for its 10 s TIME_WAIT and the application removes it once it is closed).
    Honour,
    /// The application removes the client's socket as soon as it reaches TIME_WAIT (smoltcp
    /// only; nothing is sent for it).
    Discard,
}

/// What a churn run did.
#[derive(Clone, Debug, PartialEq)]
pub struct ChurnResult {
    /// Cycles completed (connect, request, response, both closes).
    pub cycles: u64,
    pub elapsed: Duration,
    /// TIME_WAIT entries still alive on either host when the run ended.
    pub time_wait_alive: u64,
    /// Virtual time the run covered.
    pub virtual_time: Duration,
    /// Why the run stopped before its count, if it did (ports ran out, the time budget).
    pub stopped: Option<String>,
}

impl ChurnResult {
    pub fn per_sec(&self) -> f64 {
        self.cycles as f64 / self.elapsed.as_secs_f64()
    }
}

/// What a many run did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ManyResult {
    pub conns: usize,
    /// Wall-clock time to open and accept every connection.
    pub setup: Duration,
    /// Request/echo exchanges completed.
    pub messages: u64,
    /// Wall-clock time of the exchanges.
    pub elapsed: Duration,
}

impl ManyResult {
    pub fn per_sec(&self) -> f64 {
        self.messages as f64 / self.elapsed.as_secs_f64()
    }
}

/// Why a workload could not produce a figure.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A socket call failed with something the workload does not expect.
    #[error("{stack}: {call} failed: {detail}")]
    Call {
        stack: &'static str,
        call: &'static str,
        detail: String,
    },
    /// A received byte differed from what was sent.
    #[error("{stack}: wrong data at stream offset {offset}")]
    Corrupt { stack: &'static str, offset: u64 },
    /// Nothing in flight, no timer armed, and the application still waiting.
    #[error("{stack}: stalled while {waiting} (nothing in flight and no timer armed)")]
    Stalled {
        stack: &'static str,
        waiting: &'static str,
    },
}

impl BenchError {
    pub(crate) fn call(stack: &'static str, call: &'static str, e: impl fmt::Debug) -> Self {
        BenchError::Call {
            stack,
            call,
            detail: format!("{e:?}"),
        }
    }
}

/// The number of server ports a workload of `tuples` distinct connections needs.
pub fn server_ports_for(tuples: u64) -> u16 {
    tuples.div_ceil(TUPLES_PER_SERVER_PORT).clamp(1, 64) as u16
}

/// The median of some figures (the mean of the middle two for an even count).
pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The request of connection `i` in pass `pass` of the many workload.
pub fn message(i: usize, pass: u32) -> [u8; MESSAGE_LEN] {
    let mut m = [0u8; MESSAGE_LEN];
    let tag = (i as u64) << 16 | u64::from(pass);
    for (k, b) in m.iter_mut().enumerate() {
        *b = (tag.rotate_left(k as u32 * 5) as u8) ^ k as u8;
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn server_ports_cover_the_tuples() {
        assert_eq!(server_ports_for(1), 1);
        assert_eq!(server_ports_for(28_000), 1);
        assert_eq!(server_ports_for(100_000), 4);
    }

    #[test]
    fn messages_differ_between_connections_and_passes() {
        assert_ne!(message(1, 0), message(2, 0));
        assert_ne!(message(1, 0), message(1, 1));
    }
}
