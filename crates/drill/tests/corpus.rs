//! Every packetdrill script of the shared conformance corpus parses.

use std::path::{Path, PathBuf};

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/conformance/packetdrill"
);

/// Scripts known not to parse, relative to the corpus root (none today).
const KNOWN_FAILURES: &[&str] = &[];

fn scripts(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            scripts(&path, out);
        } else if path.extension().is_some_and(|e| e == "pkt") {
            out.push(path);
        }
    }
}

#[test]
fn every_corpus_script_parses() {
    let root = Path::new(CORPUS);
    let mut paths = Vec::new();
    scripts(root, &mut paths);
    assert!(paths.len() >= 31, "corpus not found at {CORPUS}");
    let mut failures = Vec::new();
    let mut events = 0;
    for path in &paths {
        let rel = path.strip_prefix(root).unwrap().display().to_string();
        let src = std::fs::read_to_string(path).unwrap();
        match tcplab_drill::parse(&rel, &src) {
            Ok(script) => {
                assert!(!script.events.is_empty(), "{rel}: no events");
                events += script.events.len();
            }
            Err(e) => {
                eprintln!("{e}");
                failures.push(rel);
            }
        }
    }
    assert_eq!(failures, KNOWN_FAILURES);
    assert!(events > 400, "only {events} events parsed");
}

fn corpus_script(rel: &str) -> tcplab_drill::Script {
    let path = Path::new(CORPUS).join(rel);
    let src = std::fs::read_to_string(&path).unwrap();
    tcplab_drill::parse(rel, &src).unwrap()
}

#[test]
fn corpus_spot_checks() {
    use tcplab_drill::ast::{Action, OptionValue};

    let s = corpus_script("gtests/net/tcp/slow_start/slow-start-after-win-update.pkt");
    let init = s.init_command.expect("init command");
    assert!(init.text.starts_with("../common/defaults.sh\n"));
    assert!(init.text.contains("tcp_min_tso_segs=10"));
    let cleanup = s.cleanup_command.expect("cleanup command");
    assert_eq!(cleanup.text, "/tmp/sysctl_restore_${PPID}.sh");
    let code = s
        .events
        .iter()
        .filter(|e| matches!(e.action, Action::Code(_)))
        .count();
    assert_eq!(code, 6);

    let s = corpus_script("gtests/net/tcp/ts_recent/fin_tsval.pkt");
    let opts: Vec<(&str, Option<&OptionValue>)> = s
        .options
        .iter()
        .map(|o| (o.name.as_str(), o.value.as_ref()))
        .collect();
    assert_eq!(
        opts,
        vec![
            ("tcp_ts_tick_usecs", Some(&OptionValue::Integer(1000))),
            ("tolerance_usecs", Some(&OptionValue::Integer(7000))),
        ]
    );

    let s = corpus_script(
        "legacy-2013/gtests/net/packetdrill/tests/linux/connect/http-get-nonblocking-ts.pkt",
    );
    assert!(s.init_command.is_none());
    let notes: Vec<String> = s
        .events
        .iter()
        .filter_map(|e| match &e.action {
            Action::Syscall(c) => c.note.as_ref().map(|n| n.text.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(notes, vec!["flags O_RDWR", "Operation now in progress"]);
}
