//! The conformance corpus (../shared/conformance/packetdrill, beside the repository) and the
//! project's own scripts (tests/packetdrill). The corpus verdicts are pinned here so that
//! docs/conformance.md, which explains every failure, stays true.

use std::path::{Path, PathBuf};

use tcplab_drill::run::{Family, RunOptions, Verdict, run};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn corpus() -> Option<PathBuf> {
    let dir = root().join("../shared/conformance/packetdrill");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!(
            "skipped: the conformance corpus is not at {} (it sits beside the repository)",
            dir.display()
        );
        None
    }
}

fn scripts(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "pkt") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Runs `path` in both families and returns the IPv4 verdict, checking IPv6 agrees.
fn verdict_of(path: &Path, options: &RunOptions) -> Verdict {
    let src = std::fs::read_to_string(path).unwrap();
    let script =
        tcplab_drill::parse(&path.display().to_string(), &src).unwrap_or_else(|e| panic!("{e}"));
    let v4 = run(
        &script,
        &RunOptions {
            family: Family::V4,
            ..options.clone()
        },
    )
    .verdict;
    let v6 = run(
        &script,
        &RunOptions {
            family: Family::V6,
            ..options.clone()
        },
    )
    .verdict;
    assert_eq!(v4, v6, "{}: IPv4 and IPv6 differ", path.display());
    v4
}

/// The scripts that fail with upstream's default settings, and the start of the message
/// (docs/conformance.md explains each).
const EXPECTED_FAILURES: &[(&str, &str)] = &[
    (
        "accept_ack_drop.pkt",
        "timing error: expected outbound packet at 0.010000 sec but happened at 0.000000 sec",
    ),
    (
        "tcp_defer_accept.pkt",
        "timing error: expected outbound packet at 2.810000 sec but happened at 2.800000 sec",
    ),
    (
        "tcp_defer_accept_timeout.pkt",
        "timing error: expected outbound packet at 3.050000 sec but happened at 3.040000 sec",
    ),
    (
        "slow-start-after-win-update.pkt",
        "live packet field tcp_psh: expected: 1 (0x1) vs actual: 0 (0x0)",
    ),
    (
        "close-unread-data-rst.pkt",
        "bad value outbound TCP option 3",
    ),
    (
        "http-get-nonblocking-ts.pkt",
        "bad value outbound TCP option 3",
    ),
    (
        "init_rto_passive_open.pkt",
        "bad value outbound TCP option 3",
    ),
    ("listen-incoming-ack.pkt", "bad value outbound TCP option 3"),
    ("listen-incoming-rst.pkt", "bad value outbound TCP option 3"),
    (
        "listen-incoming-syn-ack.pkt",
        "bad value outbound TCP option 3",
    ),
];

#[test]
fn the_corpus_gives_the_documented_verdicts() {
    let Some(dir) = corpus() else { return };
    let all = scripts(&dir);
    assert_eq!(all.len(), 31, "the corpus has 31 scripts");
    let mut passed = 0;
    for path in &all {
        let name = path.file_name().unwrap().to_str().unwrap();
        let expected = EXPECTED_FAILURES.iter().find(|(n, _)| *n == name);
        match (verdict_of(path, &RunOptions::new(Family::V4)), expected) {
            (Verdict::Pass, None) => passed += 1,
            (Verdict::Fail(f), Some((_, msg))) => {
                assert!(f.message.starts_with(msg), "{name}: {}", f.message)
            }
            (v, e) => panic!("{name}: got {v:?}, expected {e:?}"),
        }
    }
    assert_eq!(passed, 21);
}

#[test]
fn gvisor_scripts_pass_with_the_tolerance_gvisor_runs_them_with() {
    let Some(dir) = corpus() else { return };
    let options = RunOptions {
        tolerance_usecs: 100_000,
        ..RunOptions::new(Family::V4)
    };
    for path in scripts(&dir.join("extra/gvisor")) {
        assert_eq!(
            verdict_of(&path, &options),
            Verdict::Pass,
            "{}",
            path.display()
        );
    }
}

#[test]
fn legacy_scripts_pass_with_a_tcp_rmem_that_gives_their_window_scale() {
    let Some(dir) = corpus() else { return };
    let options = RunOptions {
        sysctls: vec![("net.ipv4.tcp_rmem".into(), "4096 87380 2097152".into())],
        ..RunOptions::new(Family::V4)
    };
    let legacy = scripts(&dir.join("legacy-2013"));
    assert_eq!(legacy.len(), 6);
    for path in legacy {
        assert_eq!(
            verdict_of(&path, &options),
            Verdict::Pass,
            "{}",
            path.display()
        );
    }
}

#[test]
fn the_projects_own_scripts_all_pass() {
    let dir = root().join("tests/packetdrill");
    let all = scripts(&dir);
    assert!(
        all.len() >= 10,
        "expected the timer scripts in {}",
        dir.display()
    );
    for path in all {
        assert_eq!(
            verdict_of(&path, &RunOptions::new(Family::V4)),
            Verdict::Pass,
            "{}",
            path.display()
        );
    }
}
