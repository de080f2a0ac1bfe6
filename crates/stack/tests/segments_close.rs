//! Connection tear-down, segment by segment, against Linux 6.18's exact segments and states.
//!
//! States are checked as `ss` shows them ([`Harness::conn_history`]): after `close()` the
//! descriptor is gone but the connection lives on as an orphan and then a time-wait entry.

use tcplab_stack::{Instant, TcpState};
use tcplab_testkit::{
    Harness, active_open, expect_quiet, expect_sent, passive_open, peer_sends, peer_ts,
};

use TcpState::*;

/// When the connection was first seen gone, if it was.
fn gone_at(h: &Harness) -> Option<Instant> {
    h.conn_timeline()
        .iter()
        .find(|&&(_, s)| s == Close)
        .map(|&(t, _)| t)
}

/// Mirrors the client side of `time_wait__plain`: close() 0.3 s after the handshake sends
/// `F.` with the client's window; the server's `F.` (its ACK riding on its FIN) is ACKed at
/// once; the connection sits in TIME_WAIT for 60 s, then goes silently. (It passes FIN_WAIT2
/// within that one segment, which `ss` never shows; the next test sees it.)
#[test]
fn stack_closes_first_and_peer_answers_with_fin_ack() {
    let mut h = Harness::new();
    let conn = active_open(&mut h);
    h.advance_to(300);
    h.close(conn.fd).unwrap();
    expect_sent!(
        h,
        300,
        &format!(
            "F. 1:1(0) ack 1 win 63 <nop,nop,TS val {} ecr {}>",
            conn.ts(300),
            peer_ts(1)
        )
    );
    h.assert_conn_history_ends_with(&[Established, FinWait1]);
    peer_sends!(
        h,
        301,
        &format!(
            "F. 1:1(0) ack 2 win 64 <nop,nop,TS val {} ecr {}>",
            peer_ts(301),
            conn.ts(300)
        )
    );
    expect_sent!(
        h,
        301,
        &format!(
            ". 2:2(0) ack 2 win 63 <nop,nop,TS val {} ecr {}>",
            conn.ts(301),
            peer_ts(301)
        )
    );
    h.assert_conn_history_ends_with(&[Established, FinWait1, TimeWait]);
    expect_quiet!(h, 59_000);
    assert_eq!(gone_at(&h), None, "TIME_WAIT ended early");
    expect_quiet!(h, 70_000);
    let gone = gone_at(&h).expect("TIME_WAIT never ended");
    // TCP_TIMEWAIT_LEN is 60 s counted in jiffies from the 4 ms tick the FIN arrived in (so
    // up to one tick less than 60 s), and the kernel's timer wheel may fire up to 1/8 late.
    assert!(
        (Instant::from_millis(60_297)..=Instant::from_millis(67_801)).contains(&gone),
        "TIME_WAIT ended at {gone}"
    );
}

/// Mirrors `fin_wait2_timeout__shutdown_wr`'s exchange with a separate ACK: the peer ACKs the
/// FIN one jiffy later (FIN_WAIT2), sends its own FIN later, and the stack ACKs that at once
/// (TIME_WAIT). A retransmitted FIN in TIME_WAIT is ACKed again (SUMMARY observation 9), still
/// echoing the first FIN's TSval: tcp_timewait_state_process() updates ts_recent only for an
/// in-sequence segment.
#[test]
fn stack_closes_first_then_fin_wait2_then_time_wait() {
    let mut h = Harness::new();
    let conn = active_open(&mut h);
    h.advance_to(300);
    h.close(conn.fd).unwrap();
    expect_sent!(
        h,
        300,
        &format!(
            "F. 1:1(0) ack 1 win 63 <nop,nop,TS val {} ecr {}>",
            conn.ts(300),
            peer_ts(1)
        )
    );
    peer_sends!(
        h,
        304,
        &format!(
            ". 1:1(0) ack 2 win 64 <nop,nop,TS val {} ecr {}>",
            peer_ts(304),
            conn.ts(300)
        )
    );
    expect_quiet!(h, 1000);
    h.assert_conn_history_ends_with(&[Established, FinWait1, FinWait2]);
    peer_sends!(
        h,
        1000,
        &format!(
            "F. 1:1(0) ack 2 win 64 <nop,nop,TS val {} ecr {}>",
            peer_ts(1000),
            conn.ts(300)
        )
    );
    expect_sent!(
        h,
        1000,
        &format!(
            ". 2:2(0) ack 2 win 63 <nop,nop,TS val {} ecr {}>",
            conn.ts(1000),
            peer_ts(1000)
        )
    );
    h.assert_conn_history_ends_with(&[FinWait1, FinWait2, TimeWait]);
    peer_sends!(
        h,
        1300,
        &format!(
            "F. 1:1(0) ack 2 win 64 <nop,nop,TS val {} ecr {}>",
            peer_ts(1300),
            conn.ts(1000)
        )
    );
    expect_sent!(
        h,
        1300,
        &format!(
            ". 2:2(0) ack 2 win 63 <nop,nop,TS val {} ecr {}>",
            conn.ts(1300),
            peer_ts(1000)
        )
    );
    expect_quiet!(h, 5000);
}

/// Mirrors the server side of `fin_wait2_timeout__*`: the peer's FIN is ACKed one jiffy later
/// (tcp_fin enters pingpong mode, ato 0: 2-4 ms at HZ=250), the socket is in CLOSE_WAIT and
/// reads end of stream; close() sends `F.` (LAST_ACK) and the peer's ACK closes it.
#[test]
fn peer_closes_first_then_stack_closes_later() {
    let mut h = Harness::new();
    let conn = passive_open(&mut h, 1234);
    peer_sends!(
        h,
        300,
        &format!(
            "F. 1:1(0) ack 1 win 63 <nop,nop,TS val {} ecr {}>",
            peer_ts(300),
            conn.ts(0)
        )
    );
    h.assert_state(conn.fd, CloseWait);
    assert_eq!(h.recv(conn.fd, 100), Ok(vec![]));
    let ack = expect_sent!(
        h,
        300..=304,
        &format!(
            ". 1:1(0) ack 2 win 64 <nop,nop,TS val * ecr {}>",
            peer_ts(300)
        )
    );
    conn.check_ts(&ack);
    h.advance_to(500);
    h.close(conn.fd).unwrap();
    expect_sent!(
        h,
        500,
        &format!(
            "F. 1:1(0) ack 2 win 64 <nop,nop,TS val {} ecr {}>",
            conn.ts(500),
            peer_ts(300)
        )
    );
    h.assert_conn_history_ends_with(&[Established, CloseWait, LastAck]);
    peer_sends!(
        h,
        501,
        &format!(
            ". 2:2(0) ack 2 win 63 <nop,nop,TS val {} ecr {}>",
            peer_ts(501),
            conn.ts(500)
        )
    );
    h.assert_conn_history_ends_with(&[CloseWait, LastAck, Close]);
    expect_quiet!(h, 10_000);
}

/// Mirrors the server side of `time_wait__plain`: the application closes as soon as it reads
/// end of stream, so the delayed ACK of the peer's FIN rides on the stack's own FIN (a single
/// `F.`, 0.9 ms after the client's FIN in the trace).
#[test]
fn peer_closes_first_and_stack_closes_at_once() {
    let mut h = Harness::new();
    let conn = passive_open(&mut h, 1234);
    peer_sends!(
        h,
        300,
        &format!(
            "F. 1:1(0) ack 1 win 63 <nop,nop,TS val {} ecr {}>",
            peer_ts(300),
            conn.ts(0)
        )
    );
    assert_eq!(h.recv(conn.fd, 100), Ok(vec![]));
    h.close(conn.fd).unwrap();
    expect_sent!(
        h,
        300,
        &format!(
            "F. 1:1(0) ack 2 win 64 <nop,nop,TS val {} ecr {}>",
            conn.ts(300),
            peer_ts(300)
        )
    );
    peer_sends!(
        h,
        301,
        &format!(
            ". 2:2(0) ack 2 win 63 <nop,nop,TS val {} ecr {}>",
            peer_ts(301),
            conn.ts(300)
        )
    );
    h.assert_conn_history_ends_with(&[Established, CloseWait, LastAck, Close]);
    expect_quiet!(h, 10_000);
}

/// Both ends close at once. The stack, in FIN_WAIT1, gets the peer's FIN that does not ACK its
/// own: Linux tcp_fin() ACKs it at once and moves to CLOSING; the peer's ACK of the stack's FIN
/// then brings TIME_WAIT.
#[test]
fn simultaneous_close_goes_through_closing() {
    let mut h = Harness::new();
    let conn = active_open(&mut h);
    h.advance_to(300);
    h.close(conn.fd).unwrap();
    expect_sent!(
        h,
        300,
        &format!(
            "F. 1:1(0) ack 1 win 63 <nop,nop,TS val {} ecr {}>",
            conn.ts(300),
            peer_ts(1)
        )
    );
    peer_sends!(
        h,
        301,
        &format!(
            "F. 1:1(0) ack 1 win 64 <nop,nop,TS val {} ecr {}>",
            peer_ts(301),
            conn.ts(1)
        )
    );
    expect_sent!(
        h,
        301,
        &format!(
            ". 2:2(0) ack 2 win 63 <nop,nop,TS val {} ecr {}>",
            conn.ts(301),
            peer_ts(301)
        )
    );
    h.assert_conn_history_ends_with(&[Established, FinWait1, Closing]);
    peer_sends!(
        h,
        302,
        &format!(
            ". 2:2(0) ack 2 win 64 <nop,nop,TS val {} ecr {}>",
            peer_ts(302),
            conn.ts(300)
        )
    );
    h.assert_conn_history_ends_with(&[FinWait1, Closing, TimeWait]);
    expect_quiet!(h, 10_000);
}
