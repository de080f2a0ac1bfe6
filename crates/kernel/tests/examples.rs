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

use common::{assert_all_pass, assert_fin_times_match, can_run, reference_fin_times, run_example};

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
    let Some(want) = reference_fin_times(test) else {
        return;
    };
    let r = run_example("fin_wait1_orphan", Some(Duration::from_millis(8600)));
    assert_all_pass("fin_wait1_orphan", &r);
    assert_fin_times_match(&r, &want);
}
