//! close() with SO_LINGER {1, t>0}, as Linux 6.18 does it.
//!
//! inet_release() passes `sk_lingertime` (t·HZ) to tcp_close(); __tcp_close() queues the FIN
//! and sleeps in sk_stream_wait_close() while the socket is in FIN_WAIT1, CLOSING or LAST_ACK,
//! for at most that long, and close() returns 0 either way. Only then is the socket orphaned
//! (sock_orphan()) and the rest of __tcp_close() run: an orphan in FIN_WAIT2 gets its linger2
//! timer or becomes a time-wait record. Nothing on that path looks at O_NONBLOCK, so a
//! non-blocking socket waits too; only a process that is exiting (PF_EXITING) does not.
//!
//! `Stack::close_blocking` models the call: `Err(EAGAIN)` while it sleeps, then `Ok(())`.
//! The reference traces have no SO_LINGER {1, t>0} run; the peer's timing follows
//! `fin_wait2_timeout__orphan` (the server ACKs the FIN within a few ms).

use tcplab_stack::{Errno, Fd, SockOpt, TcpState};
use tcplab_testkit::{Conn, Harness, active_open, expect_sent, peer_sends, peer_ts};

use TcpState::*;

fn linger(h: &mut Harness, fd: Fd, secs: u32) {
    h.call(|s, now| s.setsockopt(now, fd, SockOpt::Linger(Some(secs))))
        .unwrap();
}

fn close_blocking(h: &mut Harness, fd: Fd) -> Result<(), Errno> {
    h.call(|s, now| s.close_blocking(now, fd))
}

fn peer(h: &mut Harness, at: u64, line: &str, conn: &Conn, ecr_at: u64) {
    peer_sends!(
        h,
        at,
        &format!(
            "{line} <nop,nop,TS val {} ecr {}>",
            peer_ts(at),
            conn.ts(ecr_at)
        )
    );
}

/// Like `fin_wait2_timeout__orphan`, with SO_LINGER {1, 5}: close() sends the FIN and sleeps;
/// the descriptor is gone for every other call. The peer's ACK of the FIN at 14 ms wakes it:
/// close() returns then, and only then does the socket become an orphan, whose FIN_WAIT2
/// (tcp_fin_timeout 60 s, not above TCP_TIMEWAIT_LEN) turns into a time-wait record.
#[test]
fn close_waits_until_the_fin_is_acked() {
    let mut h = Harness::new();
    let conn = active_open(&mut h);
    linger(&mut h, conn.fd, 5);
    h.advance_to(10);
    assert_eq!(close_blocking(&mut h, conn.fd), Err(Errno::EAGAIN));
    expect_sent!(h, 10, "F. 1:1(0) ack 1 <...>");
    assert_eq!(h.send(conn.fd, b"x"), Err(Errno::EBADF));
    assert_eq!(h.close(conn.fd), Err(Errno::EBADF));
    h.advance_to(13);
    assert_eq!(close_blocking(&mut h, conn.fd), Err(Errno::EAGAIN));
    assert_eq!(h.stack().counts(), (1, 0, 0), "still a full socket");
    peer(&mut h, 14, ". 1:1(0) ack 2 win 64", &conn, 10);
    assert_eq!(close_blocking(&mut h, conn.fd), Ok(()));
    assert_eq!(
        h.stack().counts(),
        (0, 0, 1),
        "FIN_WAIT2 as a time-wait record"
    );
    assert_eq!(
        h.conn_history(),
        vec![SynSent, Established, FinWait1, FinWait2]
    );
    // The number is free again once the call has returned.
    assert_eq!(close_blocking(&mut h, conn.fd), Err(Errno::EBADF));
}

/// The peer never ACKs: the FIN is retransmitted (TLP, then RTOs) while close() sleeps; after
/// the linger time (1 s = 250 jiffies, on the timer wheel) close() returns 0 and the socket
/// lives on as an orphan in FIN_WAIT1.
#[test]
fn close_returns_zero_when_the_linger_time_runs_out() {
    let mut h = Harness::new();
    let conn = active_open(&mut h);
    linger(&mut h, conn.fd, 1);
    h.advance_to(10);
    assert_eq!(close_blocking(&mut h, conn.fd), Err(Errno::EAGAIN));
    expect_sent!(h, 10, "F. 1:1(0) ack 1 <...>");
    h.advance_to(1009);
    assert_eq!(close_blocking(&mut h, conn.fd), Err(Errno::EAGAIN));
    let deadline = h.stack().poll_timeout().expect("timers are armed");
    assert!(deadline.as_nanos() <= 1_100_000_000, "{deadline:?}");
    h.advance_to(1100);
    assert_eq!(close_blocking(&mut h, conn.fd), Ok(()));
    let (_, _, state) = h.stack().connections()[0];
    assert_eq!(state, FinWait1, "the orphan keeps retransmitting its FIN");
    assert_eq!(h.stack().counts(), (1, 0, 0));
}

/// Passive close with SO_LINGER {1, 5}: the peer's FIN first (CLOSE_WAIT), then close() sends
/// ours and sleeps in LAST_ACK until the peer ACKs it; the socket is then gone.
#[test]
fn close_waits_in_last_ack() {
    let mut h = Harness::new();
    let conn = active_open(&mut h);
    linger(&mut h, conn.fd, 5);
    peer(&mut h, 10, "F. 1:1(0) ack 1 win 64", &conn, 1);
    // tcp_fin() enters pingpong mode: the ACK goes by the delayed-ACK timer.
    h.expect_sent(.., ". 1:1(0) ack 2 <...>");
    h.advance_to(20);
    assert_eq!(close_blocking(&mut h, conn.fd), Err(Errno::EAGAIN));
    expect_sent!(h, 20, "F. 1:1(0) ack 2 <...>");
    peer(&mut h, 24, ". 2:2(0) ack 2 win 64", &conn, 20);
    assert_eq!(close_blocking(&mut h, conn.fd), Ok(()));
    assert_eq!(h.stack().counts(), (0, 0, 0));
}

/// Nothing to wait for: in FIN_WAIT2 already (after shutdown(SHUT_WR) and the ACK), or with
/// SO_LINGER {1, 0}, close_blocking() returns at once, as sk_wait_event() finds its condition
/// true before sleeping. Stack::close() never waits (a process that is exiting).
#[test]
fn close_does_not_wait_outside_the_closing_states() {
    let mut h = Harness::new();
    let conn = active_open(&mut h);
    linger(&mut h, conn.fd, 5);
    h.shutdown(conn.fd, tcplab_stack::Shutdown::Write).unwrap();
    expect_sent!(h, 1, "F. 1:1(0) ack 1 <...>");
    peer(&mut h, 5, ". 1:1(0) ack 2 win 64", &conn, 1);
    h.assert_state(conn.fd, FinWait2);
    assert_eq!(close_blocking(&mut h, conn.fd), Ok(()));
    assert_eq!(h.stack().counts(), (0, 0, 1));

    let mut h = Harness::new();
    let conn = active_open(&mut h);
    linger(&mut h, conn.fd, 5);
    assert_eq!(h.close(conn.fd), Ok(()));
    expect_sent!(h, 1, "F. 1:1(0) ack 1 <...>");
    assert_eq!(h.close(conn.fd), Err(Errno::EBADF));
}
