//! Shared by the kernel tests: whether they can run, and running an example.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use tcplab_kernel::{KernelOptions, check_available, run_on_kernel};
use tcplab_sim::RunReport;

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

/// Runs `examples/NAME.tcplab` on the kernel, stopping at `stop_after` if given.
pub fn run_example(name: &str, stop_after: Option<Duration>) -> RunReport {
    let path = root().join("examples").join(format!("{name}.tcplab"));
    let sc = tcplab_sim::scenario::parse_file(&path).unwrap();
    let opts = KernelOptions {
        base_dir: root().join("examples"),
        pcap_dir: None,
        stop_after,
        verbose: false,
    };
    run_on_kernel(&sc, &opts).unwrap_or_else(|e| panic!("{name} on the kernel: {e}"))
}

/// Panics listing every failed assertion.
pub fn assert_all_pass(name: &str, r: &RunReport) {
    let failed: Vec<String> = r
        .assertions
        .iter()
        .filter(|a| !a.passed)
        .map(|a| format!("line {}: {}", a.span.line, a.sentence()))
        .collect();
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
