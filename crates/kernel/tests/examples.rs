//! Examples on the real kernel: every `expect` line of examples/linger_zero.tcplab and
//! examples/fin_wait1_orphan.tcplab passes (they were written from kernel traces), and the
//! FIN retransmission times of fin_wait1_orphan match the reference trace
//! (../shared/reference/kernel/fin_wait1_orphan__orphan_retries_3.json) within the
//! kernel's granularity: a tick at HZ=250 (4 ms) plus the timer wheel's slack, an eighth of
//! the gap since the previous FIN (the rule the example's own tolerances follow).
//!
//! Needs root and the tools `tcplab_kernel::check_available` names; without them each test
//! prints why and passes, except under CI (`CI` set), where it fails.

mod common;

use std::time::Duration;

use common::{assert_all_pass, can_run, root, run_example};
use tcplab_sim::{Dir, EventKind};

#[test]
fn linger_zero_on_the_kernel() {
    if !can_run("linger_zero_on_the_kernel") {
        return;
    }
    let r = run_example("linger_zero", None);
    assert_all_pass("linger_zero", &r);
}

/// One run for both checks of fin_wait1_orphan, stopped after its last assertion (8.5 s).
#[test]
fn fin_wait1_orphan_on_the_kernel_matches_its_expectations_and_the_trace() {
    let test = "fin_wait1_orphan_on_the_kernel_matches_its_expectations_and_the_trace";
    if !can_run(test) {
        return;
    }
    let reference =
        root().join("../shared/reference/kernel/fin_wait1_orphan__orphan_retries_3.json");
    let Ok(text) = std::fs::read_to_string(&reference) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "{test}: no {}",
            reference.display()
        );
        eprintln!("skipping {test}: no {}", reference.display());
        return;
    };
    let r = run_example("fin_wait1_orphan", Some(Duration::from_millis(8600)));
    assert_all_pass("fin_wait1_orphan", &r);

    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let want: Vec<f64> = json["observations"]["client_fin_times"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let fins: Vec<f64> = r
        .timeline
        .events()
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Packet(p)
                if p.host == "client" && p.dir == Dir::Out && p.flags.contains('F') =>
            {
                Some(e.t.as_nanos() as f64 / 1e9)
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        fins.len(),
        want.len(),
        "client FINs at {fins:?}, the trace has {want:?}"
    );
    let got: Vec<f64> = fins.iter().map(|t| t - fins[0]).collect();
    for i in 1..want.len() {
        let tolerance = 0.004 + (want[i] - want[i - 1]) / 8.0;
        assert!(
            (got[i] - want[i]).abs() <= tolerance,
            "FIN {i} at +{:.6}s, the trace's at +{:.3}s (tolerance {:.3}s); all: {got:?}",
            got[i],
            want[i],
            tolerance
        );
    }
}
