//! Every script in `examples/` runs to its end with every assertion passing, and the seed
//! experiment's script shows what the article and the kernel trace show.

use std::path::{Path, PathBuf};

use tcplab_sim::run::{RunOptions, RunReport, run_scenario};
use tcplab_sim::scenario::parse_file;
use tcplab_sim::timeline::{Dir, EventKind};
use tcplab_stack::{Instant, TcpState};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");

/// Assertions that fail because the simulator differs from Linux, not because the example
/// is wrong: (file, line, what differs). Each must still fail, so that a fix in the stack
/// shows up here and the entry is removed.
const KNOWN_SIMULATOR_GAPS: &[(&str, u32, &str)] = &[];

fn run(path: &Path) -> RunReport {
    let sc = parse_file(path).unwrap_or_else(|e| panic!("{e}"));
    let opts = RunOptions {
        base_dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
        ..RunOptions::default()
    };
    run_scenario(&sc, opts).unwrap_or_else(|e| panic!("{e}"))
}

fn examples() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(EXAMPLES)
        .expect("the examples directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "tcplab"))
        .collect();
    v.sort();
    v
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[test]
fn every_example_passes() {
    let paths = examples();
    assert!(paths.len() >= 10, "examples found: {paths:?}");
    let mut problems = Vec::new();
    let mut gaps_seen = Vec::new();
    let mut checked = 0;
    for path in &paths {
        let report = run(path);
        let name = file_name(path);
        for w in &report.warnings {
            problems.push(format!(
                "{name}:{}: a command failed: {}",
                w.span, w.message
            ));
        }
        checked += report.assertions.len();
        for a in report.assertions.iter().filter(|a| !a.passed) {
            let known = KNOWN_SIMULATOR_GAPS
                .iter()
                .any(|(f, line, _)| *f == name && *line == a.span.line);
            if known {
                gaps_seen.push((name.clone(), a.span.line));
            } else {
                problems.push(format!("{name}:{}: {}", a.span, a.sentence()));
            }
        }
    }
    for (f, line, why) in KNOWN_SIMULATOR_GAPS {
        if !gaps_seen.contains(&(f.to_string(), *line)) {
            problems.push(format!(
                "{f}:{line} passes now; remove it from KNOWN_SIMULATOR_GAPS ({why})"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(checked >= 80, "only {checked} assertions ran");
}

#[test]
fn every_example_is_deterministic() {
    for path in examples() {
        let a = run(&path);
        let b = run(&path);
        assert_eq!(a.hash, b.hash, "{}", path.display());
        assert_eq!(a.timeline.json_lines(), b.timeline.json_lines());
    }
}

/// The seed article's experiment, checked against the kernel trace
/// fin_wait1_orphan__orphan_retries_3.
#[test]
fn fin_wait1_script_shows_the_articles_states_and_the_kernels_times() {
    let report = run(&Path::new(EXAMPLES).join("fin_wait1.tcplab"));
    let events = report.timeline.events();

    // Half a second after the ctrl-c: FIN_WAIT1 on the client, LAST_ACK on the server.
    let snapshot = |host: &str| {
        events
            .iter()
            .find_map(|e| match &e.kind {
                EventKind::Snapshot {
                    host: h, output, ..
                } if h == host && e.t == Instant::from_millis(3500) => Some(output.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("a snapshot of {host} at 3.5 s"))
    };
    let client = snapshot("client");
    let server = snapshot("server");
    assert!(client.contains("FIN_WAIT1"), "{client}");
    assert!(server.contains("LAST_ACK"), "{server}");
    // `| grep tcp` kept only the connection's line.
    assert_eq!(client.lines().count(), 1, "{client}");

    // The client's FIN at 3 s, then the TLP and the RTOs at the kernel's times.
    let fins: Vec<f64> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Packet(p)
                if p.host == "client"
                    && p.dir == Dir::Out
                    && p.dropped.is_none()
                    && p.flags.contains('F') =>
            {
                Some((e.t.as_nanos() as f64 - 3e9) / 1e9)
            }
            _ => None,
        })
        .collect();
    let kernel = [0.0, 0.205, 0.413, 0.837, 1.669, 3.337];
    assert_eq!(fins.len(), kernel.len(), "client FINs at +{fins:?} s");
    for (t, k) in fins.iter().zip(kernel) {
        // One 4 ms tick plus the timer wheel's slack at these lengths (level 1: 32 ms).
        assert!(
            (t - k).abs() <= 0.004 + 0.032,
            "FIN at +{t:.6} s, the kernel sent it at +{k} s"
        );
    }

    // The client's socket gives up and vanishes; the server stays in LAST_ACK.
    let last_state = |host: &str| {
        events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::State { host: h, to, .. } if h == host => Some((e.t, *to)),
                _ => None,
            })
            .next_back()
    };
    let (t, s) = last_state("client").expect("client state changes");
    assert_eq!(s, TcpState::Close);
    assert!(
        t > Instant::from_millis(6337) && t < Instant::from_secs(12),
        "{t}"
    );
    assert_eq!(last_state("server").map(|x| x.1), Some(TcpState::LastAck));

    // No RST from anyone.
    assert!(events.iter().all(|e| match &e.kind {
        EventKind::Packet(p) => !p.flags.contains('R'),
        _ => true,
    }));
}

/// The same experiment, with its assertions in the script, passes them all.
#[test]
fn fin_wait1_orphan_script_asserts_the_kernel_trace() {
    let report = run(&Path::new(EXAMPLES).join("fin_wait1_orphan.tcplab"));
    assert!(report.assertions.len() >= 10, "{:?}", report.assertions);
    let failed: Vec<String> = report
        .assertions
        .iter()
        .filter(|a| !a.passed)
        .map(|a| format!("{}: {}", a.span, a.sentence()))
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
}

// The interpreter's own rules, on small scripts.

fn run_text(name: &str, text: &str) -> RunReport {
    let sc = tcplab_sim::scenario::parse(name, text).unwrap_or_else(|e| panic!("{e}"));
    run_scenario(&sc, RunOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// The `call` events of one host: (time, call, args, return value).
fn calls(report: &RunReport, host: &str) -> Vec<(Instant, String, String, Option<i64>)> {
    report
        .timeline
        .events()
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Call {
                host: h,
                call,
                args,
                ret,
                ..
            } if h == host => Some((e.t, call.to_string(), args.clone(), *ret)),
            _ => None,
        })
        .collect()
}

const TWO_HOSTS: &str =
    "host client 10.77.0.1\nhost server 10.77.0.2\nlink client server delay 25us\n";

#[test]
fn accept_resolves_when_a_connection_arrives_and_later_commands_wait_for_it() {
    let report = run_text(
        "accept.tcplab",
        &format!(
            "{TWO_HOSTS}server: listen 1234 as l\n\
             server: accept l as c\n\
             server: read c\n\
             at 1s client: connect 10.77.0.2:1234 as s\n\
             client: write s 100\n\
             at 1.5s expect server: state c ESTABLISHED\n\
             run 2s\n"
        ),
    );
    let failed: Vec<String> = report
        .assertions
        .iter()
        .filter(|a| !a.passed)
        .map(|a| a.sentence())
        .collect();
    assert!(failed.is_empty(), "{failed:?}");
    let server = calls(&report, "server");
    let accept = server.iter().find(|c| c.1 == "accept").expect("an accept");
    assert!(accept.0 > Instant::from_secs(1), "{accept:?}");
    // The program named after the script read the 100 bytes once they arrived.
    let read = server
        .iter()
        .find(|c| c.1 == "read" && c.3 == Some(100))
        .unwrap_or_else(|| panic!("{server:?}"));
    assert!(read.0 < Instant::from_millis(1001), "{read:?}");
    let process = report.timeline.events().iter().find_map(|e| match &e.kind {
        EventKind::Call { process, .. } => Some(process.clone()),
        _ => None,
    });
    assert_eq!(process.as_deref(), Some("accept"));
}

#[test]
fn a_blocked_write_holds_back_later_commands_on_its_socket_only() {
    let report = run_text(
        "blocked.tcplab",
        &format!(
            "{TWO_HOSTS}server: socket l\n\
             server: setsockopt l SO_RCVBUF 4096\n\
             server: listen 1234 as l\n\
             server: accept l as c\n\
             client: connect 10.77.0.2:1234 as s\n\
             client: connect 10.77.0.2:1234 as t\n\
             at 1s client: write s 1MiB\n\
             client: close s\n\
             client: close t\n\
             expect no packet client > server flags F. seq 4345\n\
             at 2s expect client: state s ESTABLISHED\n\
             at 2s expect client: state t FIN_WAIT2\n\
             run 3s\n"
        ),
    );
    let failed: Vec<String> = report
        .assertions
        .iter()
        .filter(|a| !a.passed)
        .map(|a| format!("{}: {}", a.span, a.sentence()))
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert_eq!(report.assertions.len(), 3);
    let closes: Vec<_> = calls(&report, "client")
        .into_iter()
        .filter(|c| c.1 == "close")
        .collect();
    assert_eq!(closes.len(), 1, "only t's close ran: {closes:?}");
}

#[test]
fn repeated_writes_run_at_their_interval() {
    let report = run_text(
        "repeat.tcplab",
        &format!(
            "{TWO_HOSTS}server: listen 1234 as l\n\
             server: accept l as c\n\
             server: read c\n\
             client: connect 10.77.0.2:1234 as s\n\
             at 1s client: write s 10 repeat 4 every 250ms\n\
             expect packet client > server len 10 at +0s, +250ms, +500ms, +750ms ±1ms\n\
             expect no packet client > server len 10 from 1.8s\n\
             run 3s\n"
        ),
    );
    assert!(
        report.assertions.iter().all(|a| a.passed),
        "{:?}",
        report.assertions
    );
    let writes: Vec<Instant> = calls(&report, "client")
        .into_iter()
        .filter(|c| c.1 == "write")
        .map(|c| c.0)
        .collect();
    assert_eq!(
        writes,
        [1000, 1250, 1500, 1750].map(Instant::from_millis).to_vec()
    );
}

#[test]
fn link_steps_and_sysctl_files_take_effect() {
    let dir = std::env::temp_dir().join(format!("tcplab-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("tuning.conf"),
        "# the client's orphans\nnet.ipv4.tcp_fin_timeout = 7\n",
    )
    .unwrap();
    let text = format!(
        "{TWO_HOSTS}client: sysctl -p tuning.conf\n\
         client: sysctl net.ipv4.tcp_fin_timeout\n\
         server: nc -l 1234 &\n\
         client: nc server 1234 &\n\
         at 1s link client -> server loss 100%\n\
         at 1s client: kill %1\n\
         at 1.5s expect client: state %1 FIN_WAIT1\n\
         at 1.5s expect server: state %1 ESTABLISHED\n\
         expect no packet server > client from 1s\n\
         run 2s\n"
    );
    let sc = tcplab_sim::scenario::parse("link.tcplab", &text).unwrap();
    let report = run_scenario(
        &sc,
        RunOptions {
            base_dir: dir.clone(),
            ..RunOptions::default()
        },
    )
    .unwrap();
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert!(
        report.assertions.iter().all(|a| a.passed),
        "{:?}",
        report.assertions
    );
    let shown = report.timeline.events().iter().find_map(|e| match &e.kind {
        EventKind::Snapshot {
            command, output, ..
        } if command.starts_with("sysctl") => Some(output.clone()),
        _ => None,
    });
    assert_eq!(shown.as_deref(), Some("net.ipv4.tcp_fin_timeout = 7\n"));
    let lost = report.timeline.events().iter().any(|e| match &e.kind {
        EventKind::Packet(p) => p.dropped.as_deref() == Some("link loss") && p.flags == "F.",
        _ => false,
    });
    assert!(lost, "the client's FIN was lost on the link");

    // A file that does not exist stops the run at the `sysctl -p` line's file word.
    let sc = tcplab_sim::scenario::parse(
        "link.tcplab",
        &format!("{TWO_HOSTS}client: sysctl -p missing.conf\n"),
    )
    .unwrap();
    let err = run_scenario(
        &sc,
        RunOptions {
            base_dir: dir.clone(),
            ..RunOptions::default()
        },
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("link.tcplab:4:19: sysctl -p: cannot read"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn failed_commands_are_warnings_and_the_run_goes_on() {
    let report = run_text(
        "warn.tcplab",
        &format!(
            "{TWO_HOSTS}client: sysctl -w net.ipv4.tcp_frobs=1\n\
             client: iptables -A FORWARD -j DROP\n\
             client: ss -an\n\
             server: nc -l 1234 &\n\
             at 1s server: kill %1\n\
             at 2s server: kill %1\n\
             run 3s\n"
        ),
    );
    let lines: Vec<u32> = report.warnings.iter().map(|w| w.span.line).collect();
    assert_eq!(lines, [4, 5, 6, 9], "{:?}", report.warnings);
    assert_eq!(report.end, Instant::from_secs(3));
}

/// Whatever a script that parses asks for, the run ends without a panic.
#[test]
fn no_script_that_parses_makes_the_run_panic() {
    for path in examples() {
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        // Every script made of a prefix of the example's lines, and every script with one
        // line left out.
        for n in 0..=lines.len() {
            for script in [lines[..n].join("\n"), {
                let mut v = lines.clone();
                if n < v.len() {
                    v.remove(n);
                }
                v.join("\n")
            }] {
                if let Ok(sc) = tcplab_sim::scenario::parse("x.tcplab", &script) {
                    let _ = run_scenario(&sc, RunOptions::default());
                }
            }
        }
    }
}
