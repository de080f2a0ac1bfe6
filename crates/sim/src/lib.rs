//! tcplab-sim: a deterministic discrete-event network simulator that runs tcplab stacks in
//! virtual time, and the scenario language that drives it.
//!
//! - [`net`]: [`Sim`], hosts on one switch, links, the event loop, timed [`Action`]s;
//! - [`link`]: one direction of a link (delay, jitter, rate, queue, loss, duplication,
//!   reordering, corruption);
//! - [`firewall`]: iptables' INPUT and OUTPUT chains with their argument syntax;
//! - [`apps`]: processes and their sockets, `nc -l` and `nc`;
//! - [`timeline`]: the event log, its human and JSON lines and its hash;
//! - [`tools`]: `ss` and `netstat` snapshots;
//! - [`rng`]: the seeded generator.
//!
//! A run is a function of its seed and of the calls made: the same seed gives the same
//! timeline byte for byte, which [`check_determinism`] verifies by running twice.

pub mod apps;
pub mod firewall;
pub mod link;
pub mod net;
pub mod rng;
pub mod run;
pub mod scenario;
pub mod soak;
pub mod timeline;
pub mod tools;

pub use apps::{ProcId, Process, Program, SockState, pattern_byte};
pub use firewall::{Chain, Firewall, FirewallError, Verdict, reject_reply};
pub use link::{LinkParams, LinkStats};
pub use net::{Action, Direction, HostConfig, HostId, Sim, SimError};
pub use run::{AssertionResult, RunError, RunOptions, RunReport, RunWarning, run_scenario};
pub use timeline::{Dir, Event, EventKind, Timeline};
pub use tools::{Tool, ToolError};

/// Two runs of the same experiment gave different traces.
#[derive(Debug, thiserror::Error)]
#[error(
    "the run is not deterministic: expected the same trace twice, got hash {first:016x} then {second:016x} (first difference at event {index}: {detail})"
)]
pub struct NondeterminismError {
    pub first: u64,
    pub second: u64,
    pub index: usize,
    pub detail: String,
}

/// Runs `build` twice (each call must build and run a whole simulation from scratch) and
/// compares the trace hashes; on a mismatch, names the first event that differs.
pub fn check_determinism<F>(mut build: F) -> Result<u64, NondeterminismError>
where
    F: FnMut() -> Sim,
{
    let a = build();
    let b = build();
    if a.trace_hash() == b.trace_hash() {
        return Ok(a.trace_hash());
    }
    let (ea, eb) = (a.timeline().events(), b.timeline().events());
    let index = ea
        .iter()
        .zip(eb)
        .position(|(x, y)| x != y)
        .unwrap_or(ea.len().min(eb.len()));
    let detail = match (ea.get(index), eb.get(index)) {
        (Some(x), Some(y)) => format!("{} vs {}", x.json(), y.json()),
        (Some(x), None) => format!("{} vs the end", x.json()),
        (None, Some(y)) => format!("the end vs {}", y.json()),
        (None, None) => "no event differs; the hashes do".to_string(),
    };
    Err(NondeterminismError {
        first: a.trace_hash(),
        second: b.trace_hash(),
        index,
        detail,
    })
}
