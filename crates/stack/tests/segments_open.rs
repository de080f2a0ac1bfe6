//! Connection set-up, segment by segment, against Linux 6.18's exact segments.
//!
//! Window and option values mirror the reference traces (`time_wait__plain` and the other
//! `shared/reference/kernel/*.json` handshakes: wscale 10 from Linux 6.18's default
//! `tcp_rmem`; see `tcplab_testkit::fixtures`).

use tcplab_stack::{Domain, Errno, TcpState};
use tcplab_testkit::{
    Harness, active_open, expect_quiet, expect_sent, passive_open, peer_sends, peer_ts,
};

use TcpState::*;

/// Mirrors the client side of `time_wait__plain`: `S` win 64240, `S.` win 65160, `.` win 63.
#[test]
fn active_open_sends_linux_syn_and_acks_the_syn_ack() {
    let mut h = Harness::new();
    let conn = active_open(&mut h);
    assert_eq!(h.state_history(conn.fd), vec![Close, SynSent, Established]);
    expect_quiet!(h, 1000);
}

/// Mirrors the server side of `time_wait__plain`.
#[test]
fn passive_open_answers_syn_with_linux_syn_ack() {
    let mut h = Harness::new();
    let conn = passive_open(&mut h, 1234);
    h.assert_state(conn.fd, Established);
    // `ss` shows the request socket, then the full socket.
    assert_eq!(h.conn_history(), vec![SynRecv, Established]);
    expect_quiet!(h, 1000);
}

/// With no answer, Linux retransmits the SYN after 1 s (`syn_retries__syn_retries_3`: SYNs at
/// 0.000 and 1.013 s, the same segment with a fresh TSval), and a late SYN-ACK still
/// completes the handshake. The 250-tick timer sits in the wheel's second level, so it runs
/// up to 8 ticks (32 ms) after its expiry: the trace's 13 ms, tcplab's 24 ms from a tick edge.
#[test]
fn active_open_retransmits_syn_after_one_second() {
    let mut h = Harness::new();
    let fd = h.connect();
    let syn = expect_sent!(
        h,
        0,
        "S 0:0(0) win 64240 <mss 1460,sackOK,TS val * ecr 0,nop,wscale 10>"
    );
    let ts0 = syn.tsval();
    let again = expect_sent!(
        h,
        1000..=1032,
        "S 0:0(0) win 64240 <mss 1460,sackOK,TS val * ecr 0,nop,wscale 10>"
    );
    assert_eq!(again.tsval(), ts0.wrapping_add(again.at.as_millis() as u32));
    peer_sends!(
        h,
        1100,
        &format!(
            "S. 0:0(0) ack 1 win 65160 <mss 1460,sackOK,TS val {} ecr {},nop,wscale 10>",
            peer_ts(1100),
            again.tsval()
        )
    );
    expect_sent!(
        h,
        1100,
        &format!(
            ". 1:1(0) ack 1 win 63 <nop,nop,TS val {} ecr {}>",
            ts0 + 1100,
            peer_ts(1100)
        )
    );
    h.assert_state(fd, Established);
}

/// Both ends send a SYN. Linux (tcp_rcv_synsent_state_process) moves to SYN_RECV and answers
/// the crossing SYN with a SYN-ACK that is its own SYN again (same ISN, `win 64240`, SYN
/// options echoing the peer's TSval); the peer's SYN-ACK then completes the handshake
/// (tcp_validate_incoming lets that SYN through in SYN_RECV since Linux 6.10, commit "tcp:
/// Don't drop SYN+ACK for simultaneous connect()"; before, it drew a challenge ACK) and, its
/// SYN occupying sequence
/// space already received, is answered with an immediate ACK (tcp_data_queue's "retransmit"
/// path, which may add a D-SACK block, hence `<...>`).
#[test]
fn simultaneous_open_goes_through_syn_recv() {
    let mut h = Harness::new();
    let fd = h.connect();
    let syn = expect_sent!(
        h,
        0,
        "S 0:0(0) win 64240 <mss 1460,sackOK,TS val * ecr 0,nop,wscale 10>"
    );
    let ts0 = syn.tsval();
    peer_sends!(
        h,
        1,
        &format!(
            "S 0:0(0) win 64240 <mss 1460,sackOK,TS val {} ecr 0,nop,wscale 10>",
            peer_ts(1)
        )
    );
    expect_sent!(
        h,
        1,
        &format!(
            "S. 0:0(0) ack 1 win 64240 <mss 1460,sackOK,TS val {} ecr {},nop,wscale 10>",
            ts0 + 1,
            peer_ts(1)
        )
    );
    h.assert_state(fd, SynRecv);
    peer_sends!(
        h,
        2,
        &format!(
            "S. 0:0(0) ack 1 win 64240 <mss 1460,sackOK,TS val {} ecr {},nop,wscale 10>",
            peer_ts(2),
            ts0
        )
    );
    h.assert_state(fd, Established);
    expect_sent!(h, 2, ". 1:1(0) ack 1 <...>");
    assert_eq!(
        h.state_history(fd),
        vec![Close, SynSent, SynRecv, Established]
    );
    expect_quiet!(h, 1000);
}

/// A segment with ACK to a port nobody listens on gets `R` with seq = its ack and no ACK flag
/// (Linux: tcp_v4_send_reset; `fin_wait2_timeout__orphan` shows `R seq=2 win=0`).
#[test]
fn rst_to_closed_port_for_segment_with_ack() {
    let mut h = Harness::new().stack_port(1234);
    peer_sends!(h, 0, ". 1:1(0) ack 5000 win 63");
    expect_sent!(h, 0, "R 5000:5000(0) win 0");
    peer_sends!(h, 10, "P. 1:11(10) ack 77 win 63");
    expect_sent!(h, 10, "R 77:77(0) win 0");
    expect_quiet!(h, 1000);
}

/// A segment without ACK gets `R.` with seq 0 and ack = its seq + SYN + FIN + payload.
#[test]
fn rst_to_closed_port_for_segment_without_ack() {
    let mut h = Harness::new().stack_port(1234);
    peer_sends!(
        h,
        0,
        &format!(
            "S 0:0(0) win 64240 <mss 1460,sackOK,TS val {} ecr 0,nop,wscale 10>",
            peer_ts(0)
        )
    );
    expect_sent!(h, 0, "R. 0:0(0) ack 1 win 0");
    peer_sends!(h, 5, "P 1:11(10) win 63");
    expect_sent!(h, 5, "R. 0:0(0) ack 11 win 0");
    peer_sends!(h, 6, "F 20:20(0) win 63");
    expect_sent!(h, 6, "R. 0:0(0) ack 21 win 0");
    expect_quiet!(h, 1000);
}

/// An RST is never answered with an RST (RFC 9293 §3.10.7.1).
#[test]
fn rst_to_closed_port_is_not_answered() {
    let mut h = Harness::new().stack_port(1234);
    peer_sends!(h, 0, "R 1:1(0) win 0");
    peer_sends!(h, 1, "R. 1:1(0) ack 9 win 0");
    expect_quiet!(h, 1000);
}

/// A listener with no such port: connecting to a closed port, the stack sees `R.` to its SYN
/// and connect fails with ECONNREFUSED.
#[test]
fn active_open_refused_by_rst() {
    let mut h = Harness::new();
    let fd = h.connect();
    expect_sent!(
        h,
        0,
        "S 0:0(0) win 64240 <mss 1460,sackOK,TS val * ecr 0,nop,wscale 10>"
    );
    peer_sends!(h, 1, "R. 0:0(0) ack 1 win 0");
    expect_quiet!(h, 5000);
    let err = h.call(|s, _| s.getsockopt(fd, tcplab_stack::SockOptName::Error));
    assert_eq!(
        err,
        Ok(tcplab_stack::SockOpt::Error(Errno::ECONNREFUSED as i32))
    );
    h.assert_state(fd, Close);
}

/// Over IPv6 the MSS is 1440 (MTU − 60): Linux's SYN offers 65535 rounded down to it (64800),
/// and the third ACK's window is 64800 rounded up to 1024-byte units (64).
#[test]
fn active_open_over_ipv6() {
    let mut h = Harness::v6();
    assert_eq!(h.domain(), Domain::Inet6);
    let fd = h.connect();
    let syn = expect_sent!(
        h,
        0,
        "S 0:0(0) win 64800 <mss 1440,sackOK,TS val * ecr 0,nop,wscale 10>"
    );
    let ts0 = syn.tsval();
    peer_sends!(
        h,
        1,
        &format!(
            "S. 0:0(0) ack 1 win 64260 <mss 1440,sackOK,TS val {} ecr {ts0},nop,wscale 10>",
            peer_ts(1)
        )
    );
    expect_sent!(
        h,
        1,
        &format!(
            ". 1:1(0) ack 1 win 64 <nop,nop,TS val {} ecr {}>",
            ts0 + 1,
            peer_ts(1)
        )
    );
    h.assert_state(fd, Established);
}
