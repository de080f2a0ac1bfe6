//! `tcplab run`, as a user runs it: a script in, the timeline, the assertions' results and
//! the exit status out.

use std::path::PathBuf;
use std::process::{Command, Output};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");

fn tcplab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tcplab"))
        .args(args)
        .output()
        .expect("the tcplab binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn example(name: &str) -> String {
    format!("{EXAMPLES}/{name}")
}

/// A file or directory under this test file's own scratch directory.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tcplab-run-tests");
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir.join(name)
}

fn write_script(name: &str, text: &str) -> String {
    let path = scratch(name);
    std::fs::write(&path, text).expect("write the script");
    path.display().to_string()
}

#[test]
fn run_prints_the_timeline_and_the_summary() {
    let o = tcplab(&["run", &example("fin_wait1_orphan.tcplab")]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{}", stderr(&o));
    // The client's ctrl-c at 1 s and its FIN, as tcpdump prints it.
    assert!(
        out.contains("  1.000000 client nc[1000]: exit: killed"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("  1.000000 client > IP 10.77.0.1.")
                && l.contains("Flags [F.], seq 1, ack 1")),
        "{out}"
    );
    assert!(out.contains("ESTABLISHED -> FIN_WAIT1"), "{out}");
    let last = out.lines().last().unwrap_or("");
    assert_eq!(last, "10 assertions passed, 0 failed", "{out}");
}

#[test]
fn quiet_prints_only_the_summary() {
    let o = tcplab(&["run", "--quiet", &example("time_wait.tcplab")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "9 assertions passed, 0 failed\n");
}

#[test]
fn json_lines_parse_with_t_and_kind() {
    let o = tcplab(&["run", "--json", &example("fin_wait1.tcplab")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let mut kinds = std::collections::BTreeSet::new();
    let mut last_t = 0.0;
    for line in out.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let t = v["t"].as_f64().unwrap_or_else(|| panic!("no t: {line}"));
        assert!(t >= last_t, "time goes backwards at {line}");
        last_t = t;
        kinds.insert(v["kind"].as_str().expect("a kind").to_string());
    }
    for k in [
        "packet", "state", "timer", "call", "app", "command", "snapshot",
    ] {
        assert!(kinds.contains(k), "no {k} event in {kinds:?}");
    }
    // The summary went to stderr, out of the JSON.
    assert!(
        stderr(&o).contains("assertions passed, 0 failed"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn same_seed_same_output() {
    let file = example("retries2.tcplab");
    let a = tcplab(&["run", "--seed", "42", &file]);
    let b = tcplab(&["run", "--seed", "42", &file]);
    assert_eq!(a.status.code(), Some(0), "{}", stderr(&a));
    assert_eq!(stdout(&a), stdout(&b));
    let c = tcplab(&["run", "--seed", "43", &file]);
    assert_ne!(stdout(&a), stdout(&c), "another seed, other ISNs and ports");
    assert_eq!(c.status.code(), Some(0), "{}", stderr(&c));
}

#[test]
fn check_determinism_runs_twice() {
    let o = tcplab(&[
        "run",
        "--quiet",
        "--check-determinism",
        &example("delayed_ack_100ms_noread.tcplab"),
    ]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{}", stderr(&o));
    assert!(
        out.contains("deterministic: two runs gave the same trace (hash "),
        "{out}"
    );
}

#[test]
fn a_broken_script_exits_2_with_its_position() {
    let file = write_script(
        "broken.tcplab",
        "host a 10.0.0.1\nhost b 10.0.0.2\nat 1s a: nc -l 1234 &\nat 0.5s b: nc a 1234\n",
    );
    let o = tcplab(&["run", &file]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(err.starts_with(&format!("{file}:4:")), "{err}");
    assert!(err.contains("expected"), "{err}");
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
}

/// A script with a `kernel` host runs in real time on namespaces, the other host a tcplab
/// stack on the same bridge; where that cannot be (no root), `tcplab run` says why and exits 2.
#[test]
fn a_script_with_a_kernel_host_runs_on_namespaces_or_says_why() {
    let file = write_script(
        "kernel.tcplab",
        "host a 10.88.0.1\nhost b 10.88.0.2 kernel\n\
         b: nc -l 1234 &\na: nc 10.88.0.2 1234 &\n\
         at 0.5s expect a: state %1 ESTABLISHED\n\
         at 0.5s expect b: ss -tan | grep ESTAB\nrun 1s\n",
    );
    let o = tcplab(&["run", &file]);
    match tcplab_kernel::check_available() {
        Ok(()) => {
            assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
            let out = stdout(&o);
            assert!(out.contains("2 assertions passed, 0 failed"), "{out}");
            // tcplab's timers show on a; the kernel host's states come from its tracepoint.
            assert!(out.contains(" b 10.88.0.2:1234 > 10.88.0.1:"), "{out}");
        }
        Err(why) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "cannot run under CI: {why}"
            );
            assert_eq!(o.status.code(), Some(2));
            let err = stderr(&o);
            assert!(err.contains("cannot run on the kernel"), "{err}");
        }
    }
}

#[test]
fn a_missing_file_exits_2() {
    let o = tcplab(&["run", "/nonexistent/x.tcplab"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("/nonexistent/x.tcplab: "),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_failing_assertion_exits_1_with_its_position() {
    let file = write_script(
        "failing.tcplab",
        "host client 10.77.0.1\n\
         host server 10.77.0.2\n\
         server: nc -l 1234 &\n\
         client: nc 10.77.0.2 1234 &\n\
         at 1s client: kill %1\n\
         at 1.5s expect client: state %1 ESTABLISHED\n\
         at 1.5s expect server: state %1 gone\n\
         expect no packet client > server flags F.\n\
         run 2s\n",
    );
    let o = tcplab(&["run", &file]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{}", stderr(&o));
    let failures: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with(&format!("{file}:")))
        .collect();
    assert_eq!(failures.len(), 2, "{out}");
    assert!(
        failures[0].starts_with(&format!("{file}:6:9: expected %1 on client in ESTABLISHED")),
        "{}",
        failures[0]
    );
    assert!(failures[0].contains(", but it was in "), "{}", failures[0]);
    assert!(
        failures[1].starts_with(&format!(
            "{file}:8:1: expected no packet client > server flags F."
        )),
        "{}",
        failures[1]
    );
    assert!(
        failures[1].contains("but client sent one at 1.000000"),
        "{}",
        failures[1]
    );
    assert!(out.ends_with("1 assertions passed, 2 failed\n"), "{out}");
}

#[test]
fn pcap_writes_one_readable_file_per_host() {
    let dir = scratch("pcap");
    let _ = std::fs::remove_dir_all(&dir);
    let o = tcplab(&[
        "run",
        "--quiet",
        "--pcap",
        &dir.display().to_string(),
        &example("linger_zero.tcplab"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for host in ["client", "server"] {
        let packets = tcplab_pcap::read_file(dir.join(format!("{host}.pcap")))
            .unwrap_or_else(|e| panic!("{host}.pcap: {e}"));
        // Handshake, RST, and what both hosts sent or received around it.
        assert!(packets.len() >= 4, "{host}: {} packets", packets.len());
        assert!(packets.windows(2).all(|w| w[0].time_ns <= w[1].time_ns));
        // The client's RST at 1 s is in both captures.
        let rst = packets
            .iter()
            .find(|p| p.datagram.len() >= 40 && p.datagram[33] & 0x04 != 0);
        let rst = rst.unwrap_or_else(|| panic!("{host}.pcap has the RST"));
        assert!(
            rst.time_ns >= 1_000_000_000 && rst.time_ns <= 1_000_100_000,
            "{host}: RST at {} ns",
            rst.time_ns
        );
    }
}

#[test]
fn tcpdump_in_a_script_writes_its_pcap() {
    let pcap = scratch("td.pcap");
    let _ = std::fs::remove_file(&pcap);
    let file = write_script(
        "tcpdump.tcplab",
        &format!(
            "host client 10.77.0.1\n\
             host server 10.77.0.2\n\
             server: nc -l 1234 &\n\
             at 0.5s client: tcpdump -n -w {} &\n\
             at 1s client: connect 10.77.0.2:1234 as s\n\
             client: write s 1000\n\
             at 2s client: kill %1\n\
             at 3s client: close s\n\
             run 4s\n",
            pcap.display()
        ),
    );
    let o = tcplab(&["run", "--quiet", &file]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let packets = tcplab_pcap::read_file(&pcap).expect("a readable pcap");
    assert!(!packets.is_empty());
    // From the handshake at 1 s until the kill at 2 s; the close at 3 s is not in it.
    assert!(
        packets
            .iter()
            .all(|p| p.time_ns >= 1_000_000_000 && p.time_ns <= 2_000_000_000)
    );
    assert!(packets.iter().any(|p| p.datagram.len() == 20 + 32 + 1000));
}
