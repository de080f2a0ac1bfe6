//! Bulk transfer both ways over a faulty link, for many seeds: 1 % loss, 1 % duplication and
//! 1 % reordering (a datagram held 3 ms on a 1 ms link). Every byte must arrive intact and in
//! order, and both sides must end CLOSED or TIME_WAIT.
//!
//! `TCPLAB_LOSSY_MIB` sets the MiB moved each way (default 64) and `TCPLAB_LOSSY_SEEDS` the
//! number of seeds (default 20), e.g. `TCPLAB_LOSSY_MIB=1 cargo test --test lossy_transfer`.

use std::time::Duration;

use tcplab_stack::TcpState;
use tcplab_testkit::{Bulk, Pair, Side};

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a whole number")),
        Err(_) => default,
    }
}

/// Runs one seed; the error names the seed and carries the tail of the capture.
fn run_seed(seed: u64, bytes: u64) -> Result<(), String> {
    // Names the seed if a helper panics instead of returning an error.
    eprintln!("lossy_transfer: seed {seed}, {bytes} bytes each way");
    let mut pair = Pair::with_seed(seed)
        .delay(Duration::from_millis(1))
        .loss(0.01)
        .duplicate(0.01)
        .reorder(0.01, Duration::from_millis(3))
        // The tail is enough to see what went wrong; a full capture of 128 MiB would not fit.
        .capture_limit(300);
    let (a, _, b) = pair.connect(5001);
    let mut bulk = Bulk::new(seed, a, b, bytes, bytes);
    // Generous: a clean run at these rates needs a few virtual seconds per 64 MiB.
    let limit = Duration::from_secs(120 + bytes / (64 * 1024));
    bulk.run(&mut pair, limit)
        .map_err(|e| format!("seed {seed}: {e}\n{}", pair.dump()))?;
    let stats = pair.stats();
    if stats.lost == 0 || stats.duplicated == 0 || stats.reordered == 0 {
        return Err(format!(
            "seed {seed}: the link injected too few faults: {stats:?}"
        ));
    }
    pair.call_a(|s, now| s.close(now, a))
        .map_err(|e| format!("seed {seed}: close a: {e:?}"))?;
    pair.call_b(|s, now| s.close(now, b))
        .map_err(|e| format!("seed {seed}: close b: {e:?}"))?;
    pair.run_until_idle();
    for (side, fd) in [(Side::A, a), (Side::B, b)] {
        let history = pair.conn_history(side, fd);
        match history.last() {
            Some(TcpState::Close | TcpState::TimeWait) => {}
            other => {
                return Err(format!(
                    "seed {seed}: {side:?} ended in {other:?} after {history:?}\n{}",
                    pair.dump()
                ));
            }
        }
    }
    Ok(())
}

#[test]
fn bulk_both_ways_survives_loss_duplication_and_reordering() {
    let mib = env_u64("TCPLAB_LOSSY_MIB", 64);
    let seeds = env_u64("TCPLAB_LOSSY_SEEDS", 20);
    let bytes = mib * 1024 * 1024;
    let failures: Vec<String> = (0..seeds)
        .filter_map(|seed| run_seed(seed, bytes).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {seeds} seeds failed moving {mib} MiB each way; first failure:\n{}",
        failures.len(),
        failures[0]
    );
}
