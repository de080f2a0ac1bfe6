//! Soak seeds sized for CI: random networks, workloads and firewall flaps, each checked (see
//! `tcplab_sim::soak`). A failure names the seed and the command that replays it.

use tcplab_sim::check_determinism;
use tcplab_sim::soak::{replay_command, run_seed, run_seed_sim};

/// Seeds run on every `cargo test`: about 1.3 s of test time per hundred seeds on one core
/// at the test profile's optimisation level (6.5 s for these 500).
const SEEDS: std::ops::Range<u64> = 0..500;

#[test]
fn soak_seeds_pass() {
    let mut failed = Vec::new();
    for seed in SEEDS {
        let r = run_seed(seed);
        if !r.passed() {
            failed.push(format!(
                "seed {seed}:\n  {}\n  replay: {}",
                r.failures.join("\n  "),
                replay_command(seed)
            ));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn a_seed_replays_byte_for_byte() {
    for seed in [3, 42, 1234] {
        let hash = check_determinism(|| run_seed_sim(seed).1);
        assert!(hash.is_ok(), "seed {seed}: {}", hash.unwrap_err());
    }
}

#[test]
fn a_seed_reports_what_it_drew_and_what_happened() {
    let r = run_seed(7);
    assert!(r.passed(), "{:?}", r.failures);
    assert!(
        r.setup.iter().any(|l| l.starts_with("host h0 ")),
        "{:?}",
        r.setup
    );
    assert!(r.setup.iter().any(|l| l.starts_with("link h0->h1: delay ")));
    assert!(!r.outcomes.is_empty());
    // Every timer has settled: the run went past tcp_retries2's budget.
    assert!(r.end.as_nanos() >= 1_300_000_000_000, "{}", r.end);
    assert_eq!(
        replay_command(7),
        "tcplab soak --seeds 1 --from 7 --verbose"
    );
}

/// Seed 3742: a receiver whose buffer is filled by its out-of-order queue drops the
/// in-sequence segment that would fill the hole instead of pruning the queue (Linux:
/// tcp_try_rmem_schedule() -> tcp_prune_queue() -> tcp_prune_ofo_queue() makes room), so
/// the connection stalls for good.
#[test]
fn seed_3742_in_sequence_data_is_not_dropped_for_the_ofo_queue() {
    let r = run_seed(3742);
    assert!(r.passed(), "{:?}", r.failures);
}
