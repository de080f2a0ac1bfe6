//! The runner against hand-written scripts: what passes, and how a wrong script fails (the
//! line, the message, the expected and actual packet).

use tcplab_drill::run::{Failure, Family, RunOptions, Verdict, run};

fn verdict(src: &str, family: Family) -> Verdict {
    let script = tcplab_drill::parse("t.pkt", src).unwrap();
    run(&script, &RunOptions::new(family)).verdict
}

fn fail(src: &str) -> Failure {
    match verdict(src, Family::V4) {
        Verdict::Fail(f) => f,
        other => panic!("expected a failure, got {other:?}"),
    }
}

/// A server that accepts one connection; the scripts below go on from here.
const ACCEPT: &str = "\
`../common/defaults.sh`
    0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
   +0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
   +0 bind(3, ..., ...) = 0
   +0 listen(3, 1) = 0
   +0 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>
   +0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 8>
  +.1 < . 1:1(0) ack 1 win 257
   +0 accept(3, ..., ...) = 4
";

#[test]
fn a_correct_script_passes_in_both_families() {
    let src = format!(
        "{ACCEPT}\
   +0 write(4, ..., 1000) = 1000
   +0 > P. 1:1001(1000) ack 1
   +0 < . 1:1(0) ack 1001 win 257
 +.01 < P. 1:101(100) ack 1001 win 257
   +0 > . 1001:1001(0) ack 101
   +0 read(4, ..., 1000) = 100
   +0 close(4) = 0
   +0 > F. 1001:1001(0) ack 101
   +0 < F. 101:101(0) ack 1002 win 257
   +0 > . 1002:1002(0) ack 102
"
    );
    for family in [Family::V4, Family::V6] {
        assert_eq!(verdict(&src, family), Verdict::Pass, "{family:?}");
    }
}

#[test]
fn wrong_flags_fail_at_their_line_with_both_packets() {
    let src = format!("{ACCEPT}   +0 write(4, ..., 1000) = 1000\n   +0 > F. 1:1001(1000) ack 1\n");
    let f = fail(&src);
    assert_eq!(f.pos.line, 11);
    assert_eq!(
        f.message,
        "live packet field tcp_fin: expected: 1 (0x1) vs actual: 0 (0x0)"
    );
    assert_eq!(
        f.expected.as_deref(),
        Some("0.100000 F. 1:1001(1000) ack 1")
    );
    assert_eq!(
        f.actual.as_deref(),
        Some("0.100000 P. 1:1001(1000) ack 1 win 1050")
    );
}

#[test]
fn a_wrong_sequence_number_or_window_fails() {
    let f = fail(&format!(
        "{ACCEPT}   +0 write(4, ..., 1000) = 1000\n   +0 > P. 1:1001(1000) ack 2\n"
    ));
    assert_eq!(
        f.message,
        "live packet field tcp_ack_seq: expected: 2 (0x2) vs actual: 1 (0x1)"
    );
    let f = fail(&format!(
        "{ACCEPT}   +0 write(4, ..., 1000) = 1000\n   +0 > P. 1:1001(1000) ack 1 win 9\n"
    ));
    assert_eq!(
        f.message,
        "live packet field tcp_window: expected: 9 (0x9) vs actual: 1050 (0x41a)"
    );
    let f = fail(&format!(
        "{ACCEPT}   +0 write(4, ..., 1000) = 1000\n   +0 > P. 1:501(500) ack 1\n"
    ));
    assert_eq!(
        f.message,
        "live packet payload: expected 500 bytes vs actual 1000 bytes"
    );
}

#[test]
fn a_wrong_time_fails_with_the_scripted_and_actual_time() {
    // The first data segments of a connection are ACKed at once (quick-ACK mode), not 0.2 s
    // later.
    let src = format!("{ACCEPT} +.01 < P. 1:101(100) ack 1 win 257\n  +.2 > . 1:1(0) ack 101\n");
    let f = fail(&src);
    assert_eq!(f.pos.line, 11);
    assert_eq!(
        f.message,
        "timing error: expected outbound packet at 0.310000 sec but happened at 0.110000 sec; \
         tolerance 0.025000 sec"
    );
}

#[test]
fn a_wrong_errno_fails_naming_both() {
    let src = format!("{ACCEPT}   +0 read(4, ..., 10) = -1 EPIPE (Broken pipe)\n");
    // A blocking read with nothing to read holds the script up; make it non-blocking first.
    let src = src.replace(
        "   +0 read(",
        "   +0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n   +0 read(",
    );
    let f = fail(&src);
    assert_eq!(f.pos.line, 11);
    assert_eq!(
        f.message,
        "runtime error in read call: Expected errno 32 (Broken pipe) but got 11 (Resource \
         temporarily unavailable)"
    );
    let f = fail(&format!("{ACCEPT}   +0 close(4) = -1\n"));
    assert_eq!(
        f.message,
        "runtime error in close call: Expected result -1 but got 0"
    );
}

#[test]
fn a_blocking_call_returns_when_the_stack_wakes_it() {
    let src = format!(
        "{ACCEPT}   +0...0.3 read(4, ..., 1000) = 500\n  +.3 < P. 1:501(500) ack 1 win 257\n"
    );
    assert_eq!(verdict(&src, Family::V4), Verdict::Pass);
    // Scripted to return 0.1 s too early.
    let src = format!(
        "{ACCEPT}   +0...0.2 read(4, ..., 1000) = 500\n  +.3 < P. 1:501(500) ack 1 win 257\n"
    );
    let f = fail(&src);
    assert_eq!(f.pos.line, 10);
    assert!(
        f.message.starts_with(
            "timing error: expected system call return at 0.300000 sec but happened at 0.400000 sec"
        ),
        "{}",
        f.message
    );
}

#[test]
fn a_missing_packet_is_reported_with_how_long_the_runner_waited() {
    let f = fail(&format!("{ACCEPT}   +0 > P. 1:1001(1000) ack 1\n"));
    assert_eq!(f.pos.line, 10);
    assert!(
        f.message
            .starts_with("expected an outbound packet at 0.100000 sec but the stack sent nothing"),
        "{}",
        f.message
    );
}

#[test]
fn unsupported_lines_skip_the_script_naming_the_line() {
    let cases = [
        (
            "`ip link set dev tun0 mtu 1400`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n",
            "shell command not supported: `ip link set dev tun0 mtu 1400`",
        ),
        (
            "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 epoll_create(1) = 4\n",
            "system call epoll_create() is not supported",
        ),
        (
            "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 setsockopt(3, SOL_TCP, TCP_FASTOPEN, [1], 4) = 0\n",
            "socket option TCP_FASTOPEN is not modelled",
        ),
        (
            "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 < udp (1472)\n",
            "udp packets are not supported: `< udp (1472)`",
        ),
    ];
    for (src, reason) in cases {
        match verdict(src, Family::V4) {
            Verdict::Skip(s) => assert_eq!(s.reason, reason),
            other => panic!("{src}: {other:?}"),
        }
    }
}

#[test]
fn runs_are_deterministic() {
    let src = format!("{ACCEPT}   +0 write(4, ..., 5000) = 5000\n   +0 > P. 1:5001(5000) ack 1\n");
    let script = tcplab_drill::parse("t.pkt", &src).unwrap();
    let a = run(&script, &RunOptions::new(Family::V6));
    let b = run(&script, &RunOptions::new(Family::V6));
    assert_eq!(a, b);
    assert_eq!(a.verdict, Verdict::Pass);
    // The five segments were joined to match the one line, as packetdrill joins a TSO burst.
    assert_eq!(a.transcript.iter().filter(|l| l.contains(" > ")).count(), 6);
}

#[test]
fn a_blocking_call_woken_by_a_timer_returns_before_the_next_call() {
    // Nothing arrives: the connect ends when the SYN timer gives up (tcp_syn_retries=1: the
    // retry about 1 s after the SYN, the give-up 2 s after that), and the close after it
    // waits for that.
    let src = "\
`../common/defaults.sh
sysctl -q net.ipv4.tcp_syn_retries=1`
    0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
   +0...3 connect(3, ..., ...) = -1 ETIMEDOUT (Connection timed out)
   +3 close(3) = 0
";
    assert_eq!(verdict(src, Family::V4), Verdict::Pass);
    let late = src.replace("+0...3", "+0...2");
    assert!(
        matches!(verdict(&late, Family::V4), Verdict::Fail(_)),
        "a connect scripted to end before the SYN timer gives up must fail"
    );
}
