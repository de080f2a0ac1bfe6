//! The `tcplab` binary, run as a user runs it: arguments in, stdout, stderr and exit status
//! out.

use std::path::PathBuf;
use std::process::{Command, Output};

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

/// A file or directory under this test's own scratch directory.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tcplab-cli-tests");
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir.join(name)
}

/// The summary line with the wall-clock time cut off, the one part that varies.
fn without_wall_clock(out: &str) -> String {
    out.lines()
        .map(|l| match l.rfind("; ") {
            Some(i) if l.starts_with("summary:") => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn summary(out: &str) -> &str {
    out.lines()
        .find(|l| l.starts_with("summary:"))
        .expect("a summary line")
}

#[test]
fn demo_delivers_and_shows_linux_syn() {
    let o = tcplab(&["demo"]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}\n{}", stderr(&o));
    let syn = out
        .lines()
        .find(|l| l.contains("Flags [S],"))
        .expect("a SYN line");
    // Linux 6.18's SYN: MSS from a 1500-byte MTU, SACK, timestamps, and window scale 10
    // (tcp_rmem[2] is 32 MiB since Linux 6.10).
    assert!(syn.starts_with("  0.000000 client > IP 10.0.0.1."), "{syn}");
    assert!(syn.contains("> 10.0.0.2.1234: Flags [S], seq "), "{syn}");
    assert!(
        syn.contains(", win 64240, options [mss 1460,sackOK,TS val "),
        "{syn}"
    );
    assert!(syn.ends_with(" ecr 0,nop,wscale 10], length 0"), "{syn}");
    for state in [
        "client  fd 3: CLOSE -> SYN_SENT",
        "client  fd 3: SYN_SENT -> ESTABLISHED",
        "client  fd 3 (closed): ESTABLISHED -> FIN_WAIT1",
        "server  fd 4: ESTABLISHED -> CLOSE_WAIT",
        "server  fd 4 (closed): CLOSE_WAIT -> LAST_ACK",
        "client  fd 3 (closed): TIME_WAIT -> CLOSE",
    ] {
        assert!(out.contains(state), "missing {state:?} in\n{out}");
    }
    // After the handshake tcpdump numbers relative to each side's ISN.
    assert!(out.contains("Flags [.], seq 1:1449, ack 1, win "), "{out}");
    let s = summary(&out);
    assert!(
        s.starts_with("summary: 100000 of 100000 bytes delivered and verified at "),
        "{s}"
    );
    assert!(s.contains("(0 lost on the link), 0 retransmitted"), "{s}");
}

#[test]
fn demo_with_loss_still_verifies_the_data() {
    let o = tcplab(&["demo", "--loss", "0.05", "--seed", "3"]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}\n{}", stderr(&o));
    assert!(out.contains("  [lost]"), "{out}");
    let s = summary(&out);
    assert!(
        s.starts_with("summary: 100000 of 100000 bytes delivered and verified at "),
        "{s}"
    );
    assert!(!s.contains(", 0 retransmitted"), "{s}");
}

#[test]
fn demo_is_a_function_of_its_seed() {
    let args = ["demo", "--loss", "0.1", "--seed", "7", "--bytes", "30000"];
    let first = stdout(&tcplab(&args));
    let second = stdout(&tcplab(&args));
    assert_eq!(without_wall_clock(&first), without_wall_clock(&second));
    let other = stdout(&tcplab(&[
        "demo", "--loss", "0.1", "--seed", "8", "--bytes", "30000",
    ]));
    assert_ne!(without_wall_clock(&first), without_wall_clock(&other));
}

#[test]
fn demo_prints_ss_snapshots_ipv6_and_sysctls() {
    let o = tcplab(&[
        "demo",
        "--ipv6",
        "--bytes",
        "1000",
        "--hz",
        "1000",
        "--sysctl",
        "tcp_timestamps=0",
        "--ss-at",
        "1",
        "--ss-at",
        "30000",
    ]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}\n{}", stderr(&o));
    assert!(
        out.contains("# sysctl net.ipv4.tcp_timestamps = 0 on both hosts"),
        "{out}"
    );
    let syn = out
        .lines()
        .find(|l| l.contains("Flags [S],"))
        .expect("a SYN line");
    assert!(
        syn.contains("IP6 fd00::1.")
            && syn.contains("win 64800, options [mss 1440,nop,nop,sackOK,nop,wscale 10]"),
        "{syn}"
    );
    assert!(out.contains("  0.001000 server  $ ss -tano"), "{out}");
    // The table as ss lays it out; an IPv6 wildcard peer prints as `*:*`.
    let listen: Vec<&str> = out
        .lines()
        .find(|l| l.trim_start().starts_with("LISTEN"))
        .expect("a LISTEN line")
        .split_whitespace()
        .collect();
    assert_eq!(
        listen,
        ["LISTEN", "0", "128", "[fd00::2]:1234", "*:*"],
        "{out}"
    );
    assert!(out.contains(" 30.000000 client  $ ss -tano"), "{out}");
    assert!(out.contains("TIME-WAIT 0      0"), "{out}");
    assert!(out.contains("timer:(timewait,30sec,0)"), "{out}");
}

#[test]
fn demo_fails_when_nothing_gets_through() {
    let o = tcplab(&["demo", "--loss", "1", "--timeout", "30"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        summary(&out)
            .starts_with("summary: 0 of 100000 bytes delivered, end of stream not reached"),
        "{out}"
    );
    assert!(
        summary(&out).contains("stopped at the 30s virtual-time limit"),
        "{out}"
    );
}

#[test]
fn demo_writes_a_pcap_of_every_datagram() {
    let run = |name: &str| {
        let path = scratch(name);
        let file = path.to_str().unwrap();
        let args = [
            "demo", "--loss", "0.05", "--seed", "3", "--bytes", "30000", "--pcap", file,
        ];
        let o = tcplab(&args);
        assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
        (stdout(&o), path)
    };
    let (out, path) = run("demo.pcap");
    let packets = tcplab_pcap::read_file(&path).unwrap_or_else(|e| panic!("{e}"));
    // Lost datagrams were sent too: the file holds every packet the summary counts.
    let count = format!("; {} packets (", packets.len());
    assert!(summary(&out).contains(&count), "{count} in {out}");
    let syn = tcplab_wire::print::tcpdump_datagram(&packets[0].datagram);
    assert!(syn.starts_with("IP 10.0.0.1."), "{syn}");
    assert!(syn.contains("> 10.0.0.2.1234: Flags [S], seq "), "{syn}");
    assert_eq!(packets[0].time_ns, 0);
    assert!(packets.windows(2).all(|w| w[0].time_ns <= w[1].time_ns));
    // The same run gives the same file.
    let (_, again) = run("demo-again.pcap");
    let same = std::fs::read(&path).unwrap() == std::fs::read(&again).unwrap();
    assert!(same, "two runs of one seed wrote different files");

    let o = tcplab(&["demo", "--pcap", "/nonexistent-dir/demo.pcap"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    let expected = "tcplab: /nonexistent-dir/demo.pcap: cannot create it: ";
    assert!(err.starts_with(expected), "{err}");
}

#[test]
fn demo_rejects_bad_flags_with_usage_errors() {
    for (args, needle) in [
        (
            &["demo", "--loss", "2"][..],
            "a probability lies between 0 and 1",
        ),
        (
            &["demo", "--hz", "123"][..],
            "possible values: 100, 250, 300, 1000",
        ),
        (
            &["demo", "--sysctl", "net.ipv4.tcp_fin_timeout=abc"][..],
            "expected an integer, got \"abc\"",
        ),
        (&["demo", "--sysctl", "tcp_sack"][..], "expected NAME=VALUE"),
        (
            &["demo", "--frobnicate"][..],
            "unexpected argument '--frobnicate'",
        ),
    ] {
        let o = tcplab(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
        assert!(stdout(&o).is_empty(), "{args:?}");
    }
}

#[test]
fn sysctl_prints_every_default() {
    for args in [&["sysctl"][..], &["sysctl", "--defaults"][..]] {
        let o = tcplab(args);
        assert!(o.status.success());
        let out = stdout(&o);
        assert!(out.contains("\nnet.ipv4.tcp_fin_timeout = 60\n"), "{out}");
        assert!(out.contains("\nnet.ipv4.tcp_syn_retries = 6\n"), "{out}");
        assert!(
            out.contains("\nnet.ipv4.tcp_rmem = 4096\t131072\t33554432\n"),
            "{out}"
        );
    }
}

#[test]
fn sysctl_check_reports_line_and_column() {
    let bad = scratch("bad.conf");
    std::fs::write(
        &bad,
        "# tuned\nnet.ipv4.tcp_fin_timeout = 30\n  net.ipv4.tcp_syn_retries = abc\n",
    )
    .expect("write bad.conf");
    let o = tcplab(&["sysctl", "--check", bad.to_str().expect("utf-8 path")]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.starts_with(&format!(
            "{}:3:30: net.ipv4.tcp_syn_retries: expected an integer, got \"abc\"\n",
            bad.display()
        )),
        "{err}"
    );
    assert!(
        err.ends_with("\n                               ^\n"),
        "{err:?}"
    );
    assert!(stdout(&o).is_empty());
}

#[test]
fn sysctl_check_prints_the_non_defaults() {
    let good = scratch("good.conf");
    std::fs::write(
        &good,
        "net.ipv4.tcp_fin_timeout = 30\n; comment\n-net.ipv4.no_such_knob = 1\n",
    )
    .expect("write good.conf");
    let o = tcplab(&["sysctl", "--check", good.to_str().expect("utf-8 path")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.ends_with("\nnet.ipv4.tcp_fin_timeout = 30\n"), "{out}");
    assert_eq!(out.lines().filter(|l| !l.starts_with('#')).count(), 1);
}

#[test]
fn sysctl_proc_reads_a_tree() {
    let root = scratch("proc-sys");
    let ipv4 = root.join("net").join("ipv4");
    std::fs::create_dir_all(&ipv4).expect("create tree");
    std::fs::write(ipv4.join("tcp_fin_timeout"), "15\n").expect("write knob");
    std::fs::write(ipv4.join("tcp_syn_retries"), "6\n").expect("write knob");
    let o = tcplab(&["sysctl", "--proc", root.to_str().expect("utf-8 path")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("\nnet.ipv4.tcp_fin_timeout = 15\n"), "{out}");
    assert!(!out.contains("tcp_syn_retries ="), "{out}");
    assert!(
        out.contains("# net.ipv4.tcp_keepalive_time: not present on this kernel"),
        "{out}"
    );
    let missing = tcplab(&["sysctl", "--proc", "/no/such/dir"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("expected a directory such as /proc/sys"));
}

#[test]
fn sysctl_rejects_two_actions() {
    let o = tcplab(&["sysctl", "--check", "x.conf", "--proc"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot be used with"), "{}", stderr(&o));
}

/// A SYN from 10.0.0.1:40000 to 10.0.0.2:1234 as Linux sends it, checksums correct.
const SYN: &str = "45 00 00 3c 12 34 40 00 40 06 14 86 0a 00 00 01 0a 00 00 02 \
                   9c 40 04 d2 00 00 30 39 00 00 00 00 a0 02 fa f0 63 d9 00 00 \
                   02 04 05 b4 04 02 08 0a 00 00 03 e8 00 00 00 00 01 03 03 07";

#[test]
fn decode_prints_a_syn_three_ways() {
    let o = tcplab(&["decode", SYN]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "tcpdump:     IP 10.0.0.1.40000 > 10.0.0.2.1234: Flags [S], seq 12345, win 64240, \
         options [mss 1460,sackOK,TS val 1000 ecr 0,nop,wscale 7], length 0"
    );
    assert_eq!(
        lines[1],
        "packetdrill: S 12345:12345(0) win 64240 <mss 1460,sackOK,TS val 1000 ecr 0,nop,wscale 7>"
    );
    for field in [
        "  header checksum       0x1486 (correct)",
        "  flags                 DF",
        "  source port           40000",
        "  data offset           10 (40 bytes)",
        "  flags                 0x002 [S] SYN",
        "  checksum              0x63d9 (correct)",
        "    wscale 7 (kind 3)",
    ] {
        assert!(lines.contains(&field), "missing {field:?} in\n{out}");
    }
    // The same bytes split over several arguments decode the same.
    let split: Vec<&str> = SYN.split_whitespace().collect();
    let mut args = vec!["decode"];
    args.extend(split);
    assert_eq!(stdout(&tcplab(&args)), out);
}

#[test]
fn decode_flags_a_wrong_checksum() {
    let o = tcplab(&["decode", &SYN.replace("63 d9", "00 00")]);
    assert!(o.status.success());
    assert!(
        stdout(&o).contains("  checksum              0x0000 (wrong, should be 0x63d9)"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn decode_of_garbage_fails_cleanly() {
    for (hex, needle) in [
        ("zz", "'z' at character 1 is not a hex digit"),
        ("450", "3 hex digits, an odd number"),
        (
            "45 00 00 3c",
            "cannot decode the datagram: the packet is truncated: 20 bytes are needed but only 4 are present",
        ),
        (
            "00 00 00 00 00 00",
            "the IP version field is 0, expected 4 or 6",
        ),
        (
            "45000028000000004006000001020304050607080000000000000000000000001002fff000000000",
            "cannot decode the TCP segment: the TCP data offset field is 1 words",
        ),
    ] {
        let o = tcplab(&["decode", hex]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{hex}: {err}");
        assert!(err.contains(needle), "{hex}: {err}");
        assert!(!err.contains("panicked"), "{hex}: {err}");
    }
}
