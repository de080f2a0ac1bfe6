//! Shared by the kernel tests: whether they can run, and running an example.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use tcplab_kernel::{KernelOptions, check_available, run_on_kernel};
use tcplab_sim::{Dir, EventKind, RunReport};

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether `test` can run here. It cannot without root and the tools; then it prints why and
/// passes, except under CI (`CI` set), where it fails.
pub fn can_run(test: &str) -> bool {
    match check_available() {
        Ok(()) => true,
        Err(why) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "{test}: cannot run under CI: {why}"
            );
            eprintln!("skipping {test}: {why}");
            false
        }
    }
}

/// Runs `examples/NAME.tcplab` on the kernel, stopping at `stop_after` if given (see
/// [`twice_if_late`]).
pub fn run_example(name: &str, stop_after: Option<Duration>) -> RunReport {
    let path = root().join("examples").join(format!("{name}.tcplab"));
    let sc = tcplab_sim::scenario::parse_file(&path).unwrap();
    let opts = KernelOptions {
        base_dir: root().join("examples"),
        pcap_dir: None,
        stop_after,
        verbose: false,
    };
    twice_if_late(name, || {
        run_on_kernel(&sc, &opts).unwrap_or_else(|e| panic!("{name} on the kernel: {e}"))
    })
}

/// Runs a real-time scenario, and once more if an assertion failed. The scripts' `±1ms`
/// tolerances are the kernel's; a run in real time on this 2-core virtual machine can have
/// a step a few milliseconds late (a stolen time slice, even at real-time priority), which
/// no script line can tell from a TCP difference. Relative packet times already allow for a
/// step's measured lateness (the runner's `forgive_lateness`); absolute times and state
/// checks do not, hence this second run. A real difference fails both runs; the first run's
/// failures are printed either way.
pub fn twice_if_late(name: &str, run: impl Fn() -> RunReport) -> RunReport {
    let first = run();
    let failed = failures(&first);
    if failed.is_empty() {
        return first;
    }
    eprintln!(
        "{name}: the first real-time run failed, running it once more:\n{}",
        failed.join("\n")
    );
    run()
}

/// Every failed assertion, one `line N: …` each.
fn failures(r: &RunReport) -> Vec<String> {
    r.assertions
        .iter()
        .filter(|a| !a.passed)
        .map(|a| format!("line {}: {}", a.span.line, a.sentence()))
        .collect()
}

/// Panics listing every failed assertion.
pub fn assert_all_pass(name: &str, r: &RunReport) {
    let failed = failures(r);
    assert!(
        failed.is_empty(),
        "{name} on the kernel:\n{}\n\ntimeline:\n{}",
        failed.join("\n"),
        r.timeline.text()
    );
    assert!(!r.assertions.is_empty(), "{name}: no assertion was checked");
}

/// The namespaces `ip netns list` shows that this process made.
pub fn my_namespaces() -> Vec<String> {
    let out = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .unwrap();
    let prefix = format!("tcplab-{}-", std::process::id());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with(&prefix))
        .map(str::to_string)
        .collect()
}

/// The client's FIN times in the reference trace fin_wait1_orphan__orphan_retries_3, in
/// seconds from the first; `None` (after printing why) when the reference is not there,
/// which fails under CI.
pub fn reference_fin_times(test: &str) -> Option<Vec<f64>> {
    let reference =
        root().join("../shared/reference/kernel/fin_wait1_orphan__orphan_retries_3.json");
    let Ok(text) = std::fs::read_to_string(&reference) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "{test}: no {}",
            reference.display()
        );
        eprintln!("skipping {test}: no {}", reference.display());
        return None;
    };
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    Some(
        json["observations"]["client_fin_times"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect(),
    )
}

/// The FINs host `client` sent match `want` (seconds from the first) within the kernel's
/// granularity: a tick at HZ=250 (4 ms) plus the timer wheel's slack, an eighth of the gap
/// since the previous FIN.
pub fn assert_fin_times_match(r: &RunReport, want: &[f64]) {
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
