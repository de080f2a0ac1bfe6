//! `tcplab diff` on the example scenarios: the simulator against the host's Linux.
//!
//! These tests run every host of a scenario on the real kernel, in network namespaces the
//! kernel backend makes and removes, so they need root, `ip`, `tc`, `iptables` and tracefs.
//! Without them they print why and pass, except under CI (`CI` set), where they fail.
//!
//! docs/fidelity.md lists, for each example, whether the two agree; a scenario listed there
//! as differing must differ (and say why there), every other one checked here must agree.

use std::path::{Path, PathBuf};
use std::process::Command;

const TCPLAB: &str = env!("CARGO_BIN_EXE_tcplab");

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Why the kernel backend cannot run here, if it cannot.
fn missing() -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("not running as root".into());
    }
    for tool in ["ip", "tc", "iptables"] {
        let found = std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()));
        if !found {
            return Some(format!("`{tool}` is not installed"));
        }
    }
    None
}

fn can_run(test: &str) -> bool {
    match missing() {
        None => true,
        Some(why) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "{test}: cannot run under CI: {why}"
            );
            eprintln!("skipping {test}: {why} (needs root, ip, tc, iptables)");
            false
        }
    }
}

fn diff(example: &str) -> (Option<i32>, String, String) {
    let out = Command::new(TCPLAB)
        .arg("diff")
        .arg(root().join("examples").join(example))
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The examples whose simulator and kernel timelines agree, each checked here.
const AGREE: &[&str] = &[
    "linger_zero.tcplab",
    "delayed_ack_500ms.tcplab",
    "delayed_ack_100ms_noread.tcplab",
    "fin_wait1_orphan.tcplab",
    "user_timeout.tcplab",
    "keepalive_peer_dead.tcplab",
    "keepalive_peer_alive.tcplab",
];

#[test]
fn examples_agree_with_the_kernel() {
    if !can_run("examples_agree_with_the_kernel") {
        return;
    }
    let mut failures = Vec::new();
    for example in AGREE {
        let (code, stdout, stderr) = diff(example);
        eprintln!("--- {example}\n{stdout}{stderr}");
        if code != Some(0) {
            failures.push(format!("{example}: exit {code:?}\n{stdout}{stderr}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// docs/fidelity.md: an orphan in FIN_WAIT2 becomes a time-wait entry on Linux, and the
/// tracepoint reports the full socket's end at once, while the connection (and tcplab's
/// socket) lives on until tcp_fin_timeout. The diff must show exactly that row.
#[test]
fn the_fin_wait2_orphan_difference_is_the_documented_one() {
    if !can_run("the_fin_wait2_orphan_difference_is_the_documented_one") {
        return;
    }
    let (code, stdout, stderr) = diff("fin_wait2_orphan.tcplab");
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("differ: 16 events agree, 1 at a different time, 0 only in the simulator, 0 only on the kernel"),
        "{stdout}"
    );
    let row = stdout
        .lines()
        .find(|l| l.contains(" ~ "))
        .expect("no row marked ~");
    assert!(row.contains("FIN_WAIT2 -> CLOSE (with server)"), "{row}");
    let fidelity = std::fs::read_to_string(root().join("docs/fidelity.md")).unwrap();
    assert!(fidelity.contains("fin_wait2_orphan.tcplab"));
}

#[test]
fn a_difference_is_marked_and_fails() {
    if !can_run("a_difference_is_marked_and_fails") {
        return;
    }
    // A tolerance of zero: real time never matches virtual time to the nanosecond, so some
    // gap must be marked `~`, and the exit status says the timelines differ.
    let out = Command::new(TCPLAB)
        .args(["diff", "--tolerance-ms", "0"])
        .arg(root().join("examples/linger_zero.tcplab"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains(" ~ "), "{stdout}");
    assert!(stdout.contains("differ: "), "{stdout}");
}

#[test]
fn a_bad_tolerance_is_a_usage_error() {
    let out = Command::new(TCPLAB)
        .args(["diff", "--tolerance-ms=-1", "x.tcplab"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--tolerance-ms"), "{stderr}");
}
