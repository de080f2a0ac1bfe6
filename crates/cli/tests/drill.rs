//! `tcplab drill`, run as a user runs it.

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

/// A scratch folder of scripts, fresh for each test.
fn folder(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("tcplab-drill-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    for (file, text) in files {
        std::fs::write(dir.join(file), text).expect("script written");
    }
    dir
}

const GOOD: &str = "\
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>
+0 > S. 0:0(0) ack 1 <...>
+.1 < . 1:1(0) ack 1 win 257
+0 accept(3, ..., ...) = 4
+0 write(4, ..., 1000) = 1000
+0 > P. 1:1001(1000) ack 1
";

#[test]
fn a_folder_runs_every_script_and_sums_up() {
    let wrong_flags = GOOD.replace("> P. 1:1001", "> F. 1:1001");
    let dir = folder(
        "mixed",
        &[
            ("a_good.pkt", GOOD),
            ("b_wrong_flags.pkt", &wrong_flags),
            (
                "c_udp.pkt",
                "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 < udp (10)\n",
            ),
            (
                "d_syntax.pkt",
                "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 > S 0:0 <mss 1460>\n",
            ),
            ("notes.txt", "not a script"),
        ],
    );
    let out = tcplab(&["drill", dir.to_str().unwrap()]);
    let text = stdout(&out);
    let d = dir.display();
    let expected = format!(
        "PASS  {d}/a_good.pkt
FAIL  {d}/b_wrong_flags.pkt [ipv4, ipv6]
      {d}/b_wrong_flags.pkt:9:4: live packet field tcp_fin: expected: 1 (0x1) vs actual: 0 (0x0)
      | +0 > F. 1:1001(1000) ack 1
      script packet: 0.100000 F. 1:1001(1000) ack 1
      actual packet: 0.100000 P. 1:1001(1000) ack 1 win 63
SKIP  {d}/c_udp.pkt: udp packets are not supported: `< udp (10)` (line 2)
FAIL  {d}/d_syntax.pkt
      {d}/d_syntax.pkt:2:12: expected `(`, found `<`
      | +0 > S 0:0 <mss 1460>
      |            ^
1 passed, 2 failed, 1 skipped
"
    );
    assert_eq!(text, expected);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_passing_run_exits_zero_and_verbose_prints_the_transcript() {
    let dir = folder("good", &[("good.pkt", GOOD)]);
    let out = tcplab(&[
        "drill",
        "--v6",
        "-v",
        dir.join("good.pkt").to_str().unwrap(),
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("-- ipv6 transcript --"), "{text}");
    assert!(!text.contains("ipv4"), "{text}");
    assert!(
        text.contains("0.100000 > P. 1:1001(1000) ack 1 win 63"),
        "{text}"
    );
    assert!(text.ends_with("1 passed, 0 failed, 0 skipped\n"), "{text}");
}

#[test]
fn tolerance_and_sysctls_come_from_the_command_line() {
    // The ACK comes at once; the script says 10 ms later, fine at 100 ms of tolerance.
    let late = format!(
        "{GOOD}+0 < . 1:1(0) ack 1001 win 257\n+0 close(4) = 0\n+0 > F. 1001:1001(0) ack 1\n+0 < F. 1:1(0) ack 1002 win 257\n+.01 > . 1002:1002(0) ack 2\n"
    );
    let dir = folder("tolerance", &[("late.pkt", &late)]);
    let path = dir.join("late.pkt");
    let p = path.to_str().unwrap();
    assert_eq!(tcplab(&["drill", p]).status.code(), Some(1));
    assert_eq!(
        tcplab(&["drill", "--tolerance-usecs", "100000", p])
            .status
            .code(),
        Some(0)
    );
    // wscale follows tcp_rmem[2]: 10 by default, 6 with 2 MiB.
    let ws6 = GOOD.replace(
        "> S. 0:0(0) ack 1 <...>",
        "> S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 6>",
    );
    let dir = folder("sysctl", &[("ws6.pkt", &ws6)]);
    let p = dir.join("ws6.pkt");
    let p = p.to_str().unwrap();
    assert_eq!(tcplab(&["drill", p]).status.code(), Some(1));
    let out = tcplab(&["drill", "--sysctl", "tcp_rmem=4096 87380 2097152", p]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn a_missing_path_is_a_usage_error() {
    let out = tcplab(&["drill", "/nonexistent/x.pkt"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).starts_with("tcplab drill: /nonexistent/x.pkt: "));
}
