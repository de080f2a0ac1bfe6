//! The closing-side timers' rules at their edges, segment by segment, at HZ=250 and HZ=1000:
//! keepalive, FIN_WAIT_2, TIME_WAIT and orphans (linux-tcp-timers.md §9, §12–§14).
//!
//! Expected times are computed here from the rules, not read from the stack: a timer armed for
//! `n` jiffies runs where Linux's timer wheel puts it (§0: one tick late below 63 ticks, then
//! rounded up past a multiple of 8, 64, 512 ticks), see [`fire`].
//!
//! A connection made by the fixtures has a 1 ms RTT, so its RTO is 201 ms rounded up to
//! jiffies: 51 ticks (204 ms) at HZ=250 and 201 ticks at HZ=1000 (§6).

use tcplab_stack::ss::TimerKind;
use tcplab_stack::{Domain, Errno, Fd, Shutdown, SockOpt, SockOptName, TcpState};
use tcplab_testkit::{
    Conn, Harness, active_open, expect_quiet, expect_sent, passive_open, peer_sends, peer_ts,
};
use tcplab_wire::TcpFlags;

use TcpState::*;

#[path = "common/timer_edges.rs"]
mod common;

use common::*;

// ---------------------------------------------------------------------------------------------
// Keepalive (§12)

/// SO_KEEPALIVE with TCP_KEEPIDLE `idle` s, TCP_KEEPINTVL 1 s, TCP_KEEPCNT `cnt`, set at `at`.
fn keepalive(h: &mut Harness, fd: Fd, idle: u32, cnt: u32, at: u64) {
    h.advance_to(at);
    for opt in [
        SockOpt::KeepIdle(idle),
        SockOpt::KeepIntvl(1),
        SockOpt::KeepCnt(cnt),
        SockOpt::KeepAlive(true),
    ] {
        h.call(|s, now| s.setsockopt(now, fd, opt)).unwrap();
    }
}

/// Idle time is measured from the last segment received: data at 500 ms makes the 2 s timer
/// (armed at 10 ms) re-arm for the rest; probes at SND.UNA − 1 then every second; after
/// TCP_KEEPCNT unanswered probes an RST and ETIMEDOUT.
#[test]
fn keepalive_counts_idle_from_the_last_segment_received() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        keepalive(&mut h, conn.fd, 2, 3, 10);
        let t = entry(&h).unwrap().timer.unwrap();
        assert_eq!((t.kind, t.count), (TimerKind::Keepalive, 0));
        peer_sends!(
            h,
            500,
            &format!("P. 1:101(100) ack 1 win 64 {}", ts(500, conn.ts(1)))
        );
        expect_sent!(h, 500, ". 1:1(0) ack 101 <...>");
        let (idle, intvl) = (jif(hz, 2000), jif(hz, 1000));
        let first = fire(hz, 10, idle);
        let last_rcv = 500 / tick_ms(hz);
        let elapsed = first / tick_ms(hz) - last_rcv;
        let mut at = fire(hz, first, idle - elapsed);
        for n in 1..=3 {
            expect_sent!(h, at, ". 0:0(0) ack 101 <...>");
            let t = entry(&h).unwrap().timer.unwrap();
            assert_eq!((t.kind, t.count), (TimerKind::Keepalive, n));
            at = fire(hz, at, intvl);
        }
        expect_sent!(h, at, "R. 1:1(0) ack 101 <...>");
        assert_eq!(error_of(&h, conn.fd), Some((at, Errno::ETIMEDOUT)));
        h.assert_state(conn.fd, Close);
    });
}

/// A live peer's answer zeroes probes_out: the next expiry, one interval later, finds the
/// connection idle for less than TCP_KEEPIDLE and re-arms for the rest, so the next probe
/// comes TCP_KEEPIDLE after the answer and the connection lives on.
#[test]
fn keepalive_answers_reset_the_probe_count() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        keepalive(&mut h, conn.fd, 2, 2, 1);
        let (idle, intvl) = (jif(hz, 2000), jif(hz, 1000));
        let mut at = fire(hz, 1, idle);
        for _ in 0..4 {
            let probe = expect_sent!(h, at, ". 0:0(0) ack 1 <...>");
            peer_sends!(
                h,
                at,
                &format!(". 1:1(0) ack 1 win 64 {}", ts(at, probe.tsval()))
            );
            let t = entry(&h).unwrap().timer.unwrap();
            assert_eq!(t.count, 0, "probes_out after an answer");
            let check = fire(hz, at, intvl);
            let elapsed = (check - at) / tick_ms(hz);
            at = fire(hz, check, idle - elapsed);
        }
        h.assert_state(conn.fd, Established);
        assert_eq!(error_of(&h, conn.fd), None);
    });
}

/// TCP_KEEPIDLE on a running keepalive timer re-arms it for the new idle time less the
/// idle time so far, or at once when that has passed: 5 s idle, then KEEPIDLE 3 → a probe at
/// the next tick.
#[test]
fn keepidle_rearms_for_what_is_left_of_the_idle_time() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        h.call(|s, now| s.setsockopt(now, conn.fd, SockOpt::KeepAlive(true)))
            .unwrap();
        h.advance_to(5000);
        h.call(|s, now| s.setsockopt(now, conn.fd, SockOpt::KeepIdle(3)))
            .unwrap();
        expect_sent!(h, fire(hz, 5000, 0), ". 0:0(0) ack 1 <...>");
        h.advance_to(6000);
        h.call(|s, now| s.setsockopt(now, conn.fd, SockOpt::KeepIdle(10)))
            .unwrap();
        // 10 s from the last segment received (the handshake at 1 ms).
        let last_rcv = 1 / tick_ms(hz);
        let left = jif(hz, 10_000) - (6000 / tick_ms(hz) - last_rcv);
        expect_sent!(h, fire(hz, 6000, left), ". 0:0(0) ack 1 <...>");
    });
}

/// While data is outstanding keepalive stays dormant (re-armed for the full idle time): a
/// silent peer meets only RTO retransmissions, never a keepalive probe or its RST.
#[test]
fn keepalive_is_dormant_while_data_is_outstanding() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        keepalive(&mut h, conn.fd, 1, 1, 1);
        h.advance_to(100);
        h.send(conn.fd, b"0123456789").unwrap();
        let sent = sent_until(&mut h, 30_000);
        assert!(sent.len() > 5);
        for s in &sent {
            assert_eq!(
                s.rel.to_string().split(' ').nth(1),
                Some("1:11(10)"),
                "{}",
                s.rel
            );
        }
        h.assert_state(conn.fd, Established);
    });
}

/// SO_KEEPALIVE arms the timer only when it turns keepalive on (tcp_set_keepalive() runs
/// before the flag is set): setting it again does not push the first probe back.
#[test]
fn so_keepalive_again_does_not_rearm() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |s| s.tcp_keepalive_time = 2);
        let conn = active_open(&mut h);
        h.call(|s, now| s.setsockopt(now, conn.fd, SockOpt::KeepAlive(true)))
            .unwrap();
        h.advance_to(1500);
        h.call(|s, now| s.setsockopt(now, conn.fd, SockOpt::KeepAlive(true)))
            .unwrap();
        expect_sent!(h, fire(hz, 1, jif(hz, 2000)), ". 0:0(0) ack 1 <...>");
    });
}

/// An accepted socket inherits the listener's SO_KEEPALIVE, keepalive times and
/// TCP_USER_TIMEOUT; its keepalive timer starts when the child is created.
#[test]
fn accepted_socket_inherits_keepalive_and_user_timeout() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let l = h.listen(1234);
        for opt in [
            SockOpt::KeepAlive(true),
            SockOpt::KeepIdle(2),
            SockOpt::UserTimeout(7000),
        ] {
            h.call(|s, now| s.setsockopt(now, l, opt)).unwrap();
        }
        peer_sends!(
            h,
            0,
            &format!(
                "S 0:0(0) win 64240 <mss 1460,sackOK,TS val {} ecr 0,nop,wscale 10>",
                peer_ts(0)
            )
        );
        let synack = expect_sent!(h, 0, "S. 0:0(0) ack 1 <...>");
        peer_sends!(
            h,
            1,
            &format!(". 1:1(0) ack 1 win 63 {}", ts(1, synack.tsval()))
        );
        let fd = h.accept(l);
        for (name, want) in [
            (SockOptName::KeepAlive, SockOpt::KeepAlive(true)),
            (SockOptName::KeepIdle, SockOpt::KeepIdle(2)),
            (SockOptName::UserTimeout, SockOpt::UserTimeout(7000)),
        ] {
            assert_eq!(h.call(|s, _| s.getsockopt(fd, name)), Ok(want));
        }
        expect_sent!(h, fire(hz, 1, jif(hz, 2000)), ". 0:0(0) ack 1 <...>");
    });
}

/// Keepalive runs in CLOSE_WAIT too: after the peer's FIN, probes (ACKing the FIN) and the
/// RST come on the same schedule.
#[test]
fn keepalive_probes_in_close_wait() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        peer_sends!(
            h,
            1,
            &format!("F. 1:1(0) ack 1 win 64 {}", ts(1, conn.ts(1)))
        );
        keepalive(&mut h, conn.fd, 2, 1, 1);
        expect_sent!(h, 1..=20, ". 1:1(0) ack 2 <...>");
        h.assert_state(conn.fd, CloseWait);
        let p1 = fire(hz, 1, jif(hz, 2000));
        expect_sent!(h, p1, ". 0:0(0) ack 2 <...>");
        let end = fire(hz, p1, jif(hz, 1000));
        expect_sent!(h, end, "R. 1:1(0) ack 2 <...>");
        assert_eq!(error_of(&h, conn.fd), Some((end, Errno::ETIMEDOUT)));
    });
}

/// With TCP_USER_TIMEOUT the count is ignored: the abort comes at the first expiry where the
/// idle time reaches the user timeout and a probe went out (idle 2 s, interval 1 s, count 10,
/// user timeout 3.5 s: probes at 2 and 3 s, RST at 4 s; with a user timeout of 1 s, below
/// the idle time, one probe and the RST one interval later).
#[test]
fn keepalive_user_timeout_overrides_the_count() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        h.call(|s, now| s.setsockopt(now, conn.fd, SockOpt::UserTimeout(3500)))
            .unwrap();
        keepalive(&mut h, conn.fd, 2, 10, 1);
        let (idle, intvl) = (jif(hz, 2000), jif(hz, 1000));
        let p1 = fire(hz, 1, idle);
        let p2 = fire(hz, p1, intvl);
        let end = fire(hz, p2, intvl);
        assert!(p2 < 3500 && end >= 3500);
        expect_sent!(h, p1, ". 0:0(0) ack 1 <...>");
        expect_sent!(h, p2, ". 0:0(0) ack 1 <...>");
        expect_sent!(h, end, "R. 1:1(0) ack 1 <...>");
        assert_eq!(error_of(&h, conn.fd), Some((end, Errno::ETIMEDOUT)));

        // A user timeout below the idle time: exactly one probe, the abort one interval on.
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        h.call(|s, now| s.setsockopt(now, conn.fd, SockOpt::UserTimeout(1000)))
            .unwrap();
        keepalive(&mut h, conn.fd, 2, 10, 1);
        let p1 = fire(hz, 1, idle);
        let end = fire(hz, p1, intvl);
        expect_sent!(h, p1, ". 0:0(0) ack 1 <...>");
        expect_sent!(h, end, "R. 1:1(0) ack 1 <...>");
        assert_eq!(error_of(&h, conn.fd), Some((end, Errno::ETIMEDOUT)));
    });
}

// ---------------------------------------------------------------------------------------------
// FIN_WAIT_2 (§13)

/// close() at 100 ms sends the FIN; the peer ACKs it at 101 ms.
fn close_and_fin_acked(h: &mut Harness, conn: &Conn) {
    h.advance_to(100);
    h.close(conn.fd).unwrap();
    let fin = expect_sent!(h, 100, "F. 1:1(0) ack 1 <...>");
    peer_sends!(
        h,
        101,
        &format!(". 1:1(0) ack 2 win 64 {}", ts(101, fin.tsval()))
    );
}

/// An orphan in FIN_WAIT2 with tcp_fin_timeout=5 becomes a FIN-WAIT-2 time-wait record that
/// disappears silently after 5 s.
#[test]
fn orphan_fin_wait2_lasts_fin_timeout() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |s| s.tcp_fin_timeout = 5);
        let conn = active_open(&mut h);
        close_and_fin_acked(&mut h, &conn);
        let e = entry(&h).expect("FIN-WAIT-2 record");
        assert_eq!(e.state, FinWait2);
        assert_eq!(e.timer.unwrap().kind, TimerKind::TimeWait);
        let end = fire(hz, 101, jif(hz, 5000));
        expect_quiet!(h, end + 1000);
        assert_eq!(gone_at(&h), Some(end));
    });
}

/// The orphan FIN_WAIT2 lifetime is at least 3.5·RTO ((rto << 2) − (rto >> 1),
/// tcp_fin_time()): tcp_fin_timeout=0 gives 179 ticks at HZ=250 and 704 at HZ=1000.
#[test]
fn fin_timeout_is_raised_to_three_and_a_half_rto() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |s| s.tcp_fin_timeout = 0);
        let conn = active_open(&mut h);
        close_and_fin_acked(&mut h, &conn);
        let rto = lan_rto(hz);
        let end = fire(hz, 101, (rto << 2) - (rto >> 1));
        expect_quiet!(h, end + 1000);
        assert_eq!(gone_at(&h), Some(end));
    });
}

/// TCP_LINGER2 < 0: the ACK of an orphan's FIN is answered with an RST and the socket closes.
#[test]
fn negative_linger2_resets_instead_of_waiting() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        h.call(|s, now| s.setsockopt(now, conn.fd, SockOpt::Linger2(-1)))
            .unwrap();
        close_and_fin_acked(&mut h, &conn);
        expect_sent!(h, 101, "R 2:2(0) <...>");
        assert_eq!(gone_at(&h), Some(101));
        expect_quiet!(h, 120_000);
    });
}

/// TCP_LINGER2=65 (> 60 s): 5 s on the full socket (`ss`: keepalive timer), then 5 s as a
/// FIN-WAIT-2 record (`timewait`): 2·(65 − 60) s in all, nothing sent.
#[test]
fn linger2_above_60s_waits_two_halves() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        h.call(|s, now| s.setsockopt(now, conn.fd, SockOpt::Linger2(65)))
            .unwrap();
        close_and_fin_acked(&mut h, &conn);
        let e = entry(&h).unwrap();
        assert_eq!(e.state, FinWait2);
        assert_eq!(e.timer.unwrap().kind, TimerKind::Keepalive);
        let half = fire(hz, 101, jif(hz, 5000));
        expect_quiet!(h, half);
        let e = entry(&h).expect("FIN-WAIT-2 record");
        assert_eq!(
            (e.state, e.timer.unwrap().kind),
            (FinWait2, TimerKind::TimeWait)
        );
        let end = fire(hz, half, jif(hz, 5000));
        expect_quiet!(h, end + 1000);
        assert_eq!(gone_at(&h), Some(end));
    });
}

/// During the first half of a TCP_LINGER2 > 60 s wait the orphan is a full socket: the
/// peer's FIN is ACKed and starts a full 60 s TIME_WAIT.
#[test]
fn fin_in_the_first_half_of_linger2_brings_time_wait() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        h.call(|s, now| s.setsockopt(now, conn.fd, SockOpt::Linger2(90)))
            .unwrap();
        close_and_fin_acked(&mut h, &conn);
        assert_eq!(entry(&h).unwrap().timer.unwrap().kind, TimerKind::Keepalive);
        peer_sends!(
            h,
            2000,
            &format!("F. 1:1(0) ack 2 win 64 {}", ts(2000, conn.ts(100)))
        );
        expect_sent!(h, 2000, ". 2:2(0) ack 2 <...>");
        let e = entry(&h).unwrap();
        assert_eq!(
            (e.state, e.timer.unwrap().kind),
            (TimeWait, TimerKind::TimeWait)
        );
        let end = fire(hz, 2000, jif(hz, 60_000));
        expect_quiet!(h, end + 1000);
        assert_eq!(gone_at(&h), Some(end));
    });
}

/// New data reaching the full FIN_WAIT2 orphan (receive side shut by close()) is answered
/// with an RST and the socket closes (tcp_rcv_state_process(), TCPAbortOnData).
#[test]
fn data_in_the_first_half_of_linger2_draws_a_rst() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        h.call(|s, now| s.setsockopt(now, conn.fd, SockOpt::Linger2(90)))
            .unwrap();
        close_and_fin_acked(&mut h, &conn);
        peer_sends!(
            h,
            2000,
            &format!("P. 1:11(10) ack 2 win 64 {}", ts(2000, conn.ts(100)))
        );
        expect_sent!(h, 2000, "R 2:2(0)");
        assert_eq!(gone_at(&h), Some(2000));
    });
}

/// In a FIN_WAIT2 that is not orphaned, keepalive is the only timer: probes at SND.UNA − 1
/// (after our FIN), then RST and ETIMEDOUT.
#[test]
fn keepalive_times_out_a_half_closed_fin_wait2() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        h.advance_to(100);
        h.shutdown(conn.fd, Shutdown::Write).unwrap();
        let fin = expect_sent!(h, 100, "F. 1:1(0) ack 1 <...>");
        peer_sends!(
            h,
            101,
            &format!(". 1:1(0) ack 2 win 64 {}", ts(101, fin.tsval()))
        );
        keepalive(&mut h, conn.fd, 2, 1, 101);
        let p1 = fire(hz, 101, jif(hz, 2000));
        expect_sent!(h, p1, ". 1:1(0) ack 1 <...>");
        let end = fire(hz, p1, jif(hz, 1000));
        expect_sent!(h, end, "R. 2:2(0) ack 1 <...>");
        assert_eq!(error_of(&h, conn.fd), Some((end, Errno::ETIMEDOUT)));
    });
}

/// After shutdown(SHUT_WR) the application still holds the socket: FIN_WAIT2 has no timer and
/// waits for the peer's FIN for ever.
#[test]
fn fin_wait2_after_shutdown_waits_forever() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |s| s.tcp_fin_timeout = 5);
        let conn = active_open(&mut h);
        h.advance_to(100);
        h.shutdown(conn.fd, Shutdown::Write).unwrap();
        let fin = expect_sent!(h, 100, "F. 1:1(0) ack 1 <...>");
        peer_sends!(
            h,
            101,
            &format!(". 1:1(0) ack 2 win 64 {}", ts(101, fin.tsval()))
        );
        expect_quiet!(h, 1_000_000);
        h.assert_state(conn.fd, FinWait2);
        assert_eq!(entry(&h).unwrap().timer, None);
    });
}

/// Data arriving at a FIN-WAIT-2 time-wait record draws a bare RST (TCP_TW_RST).
#[test]
fn data_at_a_fin_wait2_record_draws_a_bare_rst() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        close_and_fin_acked(&mut h, &conn);
        assert_eq!(entry(&h).unwrap().timer.unwrap().kind, TimerKind::TimeWait);
        peer_sends!(
            h,
            1000,
            &format!("P. 1:11(10) ack 2 win 64 {}", ts(1000, conn.ts(100)))
        );
        expect_sent!(h, 1000, "R 2:2(0)");
    });
}

/// The RST of TCP_TW_RST also ends the record: tcp_v4_rcv() sends it and then
/// inet_twsk_deschedule_put(). Data and a SYN at or after RCV.NXT both take that path.
#[test]
fn data_or_syn_at_a_fin_wait2_record_kills_it() {
    at_each_hz(|hz| {
        for syn in [false, true] {
            let mut h = harness(hz, |_| {});
            let conn = active_open(&mut h);
            close_and_fin_acked(&mut h, &conn);
            let seg = if syn {
                format!(
                    "S 1:1(0) win 64240 <mss 1460,sackOK,TS val {} ecr 0,nop,wscale 10>",
                    peer_ts(1000)
                )
            } else {
                format!("P. 1:11(10) ack 2 win 64 {}", ts(1000, conn.ts(100)))
            };
            peer_sends!(h, 1000, &seg);
            let rst = h.next_sent(1000).expect("no RST").unwrap();
            assert!(rst.segment.has(TcpFlags::RST), "{}", rst.rel);
            assert_eq!(gone_at(&h), Some(1000), "the record outlived its RST");
        }
    });
}

/// An in-window RST (SEQ = RCV.NXT) ends a FIN-WAIT-2 record silently.
#[test]
fn rst_ends_a_fin_wait2_record() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        close_and_fin_acked(&mut h, &conn);
        peer_sends!(h, 1000, "R 1:1(0)");
        expect_quiet!(h, 70_000);
        assert_eq!(gone_at(&h), Some(1000));
    });
}

// ---------------------------------------------------------------------------------------------
// TIME_WAIT (§14)

/// The stack closes at 300 ms, the peer's FIN+ACK at 301 ms brings TIME_WAIT; returns the
/// stack's snd_nxt (absolute) after its FIN.
fn time_wait(h: &mut Harness, conn: &Conn) -> u32 {
    h.advance_to(300);
    h.close(conn.fd).unwrap();
    let fin = expect_sent!(h, 300, "F. 1:1(0) ack 1 <...>");
    peer_sends!(
        h,
        301,
        &format!("F. 1:1(0) ack 2 win 64 {}", ts(301, fin.tsval()))
    );
    expect_sent!(h, 301, ". 2:2(0) ack 2 <...>");
    h.assert_conn_history_ends_with(&[TimeWait]);
    fin.segment.seq.wrapping_add(1)
}

/// TIME_WAIT is 60 s (TCP_TIMEWAIT_LEN) plus the wheel's rounding; a retransmitted FIN is
/// ACKed again and restarts the full 60 s, every time; an old duplicate ACK restarts it too
/// and is answered at most once per tcp_invalid_ratelimit.
#[test]
fn time_wait_is_re_armed_by_a_retransmitted_fin() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        time_wait(&mut h, &conn);
        let e = entry(&h).unwrap();
        assert_eq!(
            (e.state, e.timer.unwrap().kind),
            (TimeWait, TimerKind::TimeWait)
        );
        peer_sends!(
            h,
            30_000,
            &format!("F. 1:1(0) ack 2 win 64 {}", ts(30_000, conn.ts(300)))
        );
        expect_sent!(h, 30_000, ". 2:2(0) ack 2 <...>");
        // A FIN occupies sequence space, so its re-ACK is never rate-limited
        // (tcp_oow_rate_limited()); zero-length old duplicates are, but still re-arm.
        peer_sends!(
            h,
            30_200,
            &format!("F. 1:1(0) ack 2 win 64 {}", ts(30_200, conn.ts(300)))
        );
        expect_sent!(h, 30_200, ". 2:2(0) ack 2 <...>");
        for (t, answered) in [(30_400, true), (30_600, false)] {
            peer_sends!(
                h,
                t,
                &format!(". 1:1(0) ack 2 win 64 {}", ts(t, conn.ts(300)))
            );
            if answered {
                expect_sent!(h, t, ". 2:2(0) ack 2 <...>");
            }
        }
        let end = fire(hz, 30_600, jif(hz, 60_000));
        expect_quiet!(h, end - 1);
        assert_eq!(gone_at(&h), None, "TIME_WAIT not re-armed");
        expect_quiet!(h, end + 1000);
        assert_eq!(gone_at(&h), Some(end));

        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        time_wait(&mut h, &conn);
        let end = fire(hz, 301, jif(hz, 60_000));
        expect_quiet!(h, end + 1000);
        assert_eq!(gone_at(&h), Some(end));
    });
}

/// An RST at RCV.NXT kills a TIME_WAIT record (RFC 1337 hazard TW-2) unless
/// tcp_rfc1337=1; an RST at any other sequence number is ignored.
#[test]
fn rst_kills_time_wait_unless_rfc1337() {
    at_each_hz(|hz| {
        for rfc1337 in [0, 1] {
            let mut h = harness(hz, |s| s.tcp_rfc1337 = rfc1337);
            let conn = active_open(&mut h);
            time_wait(&mut h, &conn);
            // An RST off RCV.NXT is ignored either way.
            peer_sends!(h, 500, "R 7:7(0)");
            peer_sends!(h, 1000, "R 2:2(0)");
            expect_quiet!(h, 2000);
            if rfc1337 == 0 {
                assert_eq!(gone_at(&h), Some(1000));
            } else {
                assert_eq!(gone_at(&h), None, "rfc1337=1 must ignore the RST");
            }
        }
    });
}

/// A SYN with a higher sequence number reaches the listener through a TIME_WAIT record; the
/// new connection's ISN is the old snd_nxt + 65537 (tcp_tw_isn).
#[test]
fn syn_after_time_wait_reuses_the_pair_with_a_later_isn() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = passive_open(&mut h, 1234);
        let snd_nxt = time_wait(&mut h, &conn);
        peer_sends!(
            h,
            5000,
            &format!(
                "S 100000:100000(0) win 64240 <mss 1460,sackOK,TS val {} ecr 0,nop,wscale 10>",
                peer_ts(5000)
            )
        );
        let synack = expect_sent!(h, 5000, "S. 0:0(0) ack 100001 <...>");
        assert_eq!(synack.segment.seq, snd_nxt.wrapping_add(65537));
    });
}

/// A SYN with a lower sequence number but a newer timestamp also reaches the listener
/// (tcp_timewait_state_process(): SEQ after RCV.NXT, or TSval after ts_recent).
#[test]
fn syn_with_newer_timestamp_reuses_the_pair() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = passive_open(&mut h, 1234);
        let snd_nxt = time_wait(&mut h, &conn);
        peer_sends!(
            h,
            5000,
            &format!(
                "S 0:0(0) win 64240 <mss 1460,sackOK,TS val {} ecr 0,nop,wscale 10>",
                peer_ts(5000)
            )
        );
        let synack = expect_sent!(h, 5000, "S. 0:0(0) ack 1 <...>");
        assert_eq!(synack.segment.seq, snd_nxt.wrapping_add(65537));
    });
}

/// A SYN that is neither after RCV.NXT nor newer by timestamp is an old duplicate: it is
/// ACKed (rate-limited) and, having no ACK flag, does not re-arm the timer.
#[test]
fn old_syn_in_time_wait_is_acked_without_rearming() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = passive_open(&mut h, 1234);
        time_wait(&mut h, &conn);
        // Same TSval as the FIN that brought TIME_WAIT: not newer, and not PAWS-rejected
        // (an older one would be, and PAWS rejects do re-arm).
        peer_sends!(
            h,
            5000,
            &format!(
                "S 0:0(0) win 64240 <mss 1460,sackOK,TS val {} ecr 0,nop,wscale 10>",
                peer_ts(301)
            )
        );
        expect_sent!(h, 5000, ". 2:2(0) ack 2 <...>");
        let end = fire(hz, 301, jif(hz, 60_000));
        expect_quiet!(h, end + 1000);
        assert_eq!(gone_at(&h), Some(end));
    });
}

/// A PAWS-rejected segment (TSval older than ts_recent) re-arms TIME_WAIT and is ACKed.
#[test]
fn paws_rejected_segment_rearms_time_wait() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        time_wait(&mut h, &conn);
        peer_sends!(
            h,
            20_000,
            &format!(". 2:2(0) ack 2 win 64 {}", ts(100, conn.ts(300)))
        );
        expect_sent!(h, 20_000, ". 2:2(0) ack 2 <...>");
        let end = fire(hz, 20_000, jif(hz, 60_000));
        expect_quiet!(h, end - 1);
        assert_eq!(gone_at(&h), None);
        expect_quiet!(h, end + 1000);
        assert_eq!(gone_at(&h), Some(end));
    });
}

/// With no listener on the port, a new-connection SYN at a TIME_WAIT record is not reset:
/// tcp_v4_rcv() falls through from TCP_TW_SYN to the time-wait ACK.
#[test]

fn syn_at_time_wait_without_listener_is_acked() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        time_wait(&mut h, &conn);
        peer_sends!(
            h,
            5000,
            &format!(
                "S 100000:100000(0) win 64240 <mss 1460,sackOK,TS val {} ecr 0,nop,wscale 10>",
                peer_ts(5000)
            )
        );
        expect_sent!(h, 5000, ". 2:2(0) ack 2 <...>");
        h.assert_conn_history_ends_with(&[TimeWait]);
    });
}

/// tcp_max_tw_buckets=0: the active closer skips TIME_WAIT, and the peer's later FIN draws an
/// RST from no socket.
#[test]
fn no_time_wait_record_when_buckets_are_exhausted() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |s| s.tcp_max_tw_buckets = 0);
        let conn = active_open(&mut h);
        close_and_fin_acked(&mut h, &conn);
        assert_eq!(gone_at(&h), Some(101), "no FIN-WAIT-2 record");
        peer_sends!(
            h,
            500,
            &format!("F. 1:1(0) ack 2 win 64 {}", ts(500, conn.ts(100)))
        );
        expect_sent!(h, 500, "R 2:2(0)");
    });
}

/// tcp_tw_reuse=1: connect() may take a TIME_WAIT 4-tuple once the record is older than
/// tcp_tw_reuse_delay, with ISN = old snd_nxt + 65537; before that, and with tcp_tw_reuse=0
/// or 2 (not loopback), the only port is unavailable.
#[test]
fn tw_reuse_lets_connect_take_the_pair_after_the_delay() {
    at_each_hz(|hz| {
        for reuse in [0, 1, 2] {
            let mut h = harness(hz, |s| {
                s.tcp_tw_reuse = reuse;
                s.ip_local_port_range = [40000, 40000];
            });
            let conn = active_open(&mut h);
            let snd_nxt = time_wait(&mut h, &conn);
            let peer = h.peer_addr();
            let try_connect = |h: &mut Harness, at: u64| {
                h.advance_to(at);
                h.call(|s, now| {
                    let fd = s.socket(Domain::Inet)?;
                    s.connect(now, fd, peer)
                })
            };
            assert_eq!(try_connect(&mut h, 1300), Err(Errno::EADDRNOTAVAIL));
            let late = try_connect(&mut h, 1302);
            if reuse == 1 {
                assert_eq!(late, Err(Errno::EINPROGRESS));
                let syn = expect_sent!(h, 1302, "S 0:0(0) <...>");
                assert_eq!(syn.segment.src.port(), 40000);
                assert_eq!(syn.segment.seq, snd_nxt.wrapping_add(65537));
            } else {
                assert_eq!(late, Err(Errno::EADDRNOTAVAIL), "tcp_tw_reuse={reuse}");
            }
        }
    });
}

// ---------------------------------------------------------------------------------------------
// Orphans (§9)

/// tcp_orphan_retries=0 means 8 while the RTO is below rto_max: an orphan whose FIN is never
/// ACKed sends a TLP and 8 RTO retransmissions and vanishes at the expiry past 102.2 s from
/// the first, without an RST.
#[test]
fn orphan_retries_zero_means_eight() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        h.advance_to(100);
        h.close(conn.fd).unwrap();
        expect_sent!(h, 100, "F. 1:1(0) ack 1 <...>");
        let tlp = fire(hz, 100, lan_rto(hz));
        expect_sent!(h, tlp, "F. 1:1(0) ack 1 <...>");
        let (rtx, end) = rto_schedule(hz, tlp, 102_200, false);
        assert_eq!(rtx.len(), 8, "{rtx:?}");
        for &t in &rtx {
            expect_sent!(h, t, "F. 1:1(0) ack 1 <...>");
        }
        expect_quiet!(h, end + 200_000);
        assert_eq!(gone_at(&h), Some(end));
    });
}

/// "Alive" means RTO < rto_max: with tcp_rto_max_ms=1000 the orphan's RTO reaches the cap
/// after three backoffs, tcp_orphan_retries=0 then means 0 retries (model 0.2 s, long
/// passed), and the orphan is gone at that expiry, silently.
#[test]
fn orphan_with_rto_at_rto_max_gets_no_more_retries() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |s| s.tcp_rto_max_ms = 1000);
        let conn = active_open(&mut h);
        h.advance_to(100);
        h.close(conn.fd).unwrap();
        expect_sent!(h, 100, "F. 1:1(0) ack 1 <...>");
        let tlp = fire(hz, 100, lan_rto(hz));
        expect_sent!(h, tlp, "F. 1:1(0) ack 1 <...>");
        let cap = u64::from(hz);
        let (mut at, mut rto) = (tlp, lan_rto(hz));
        while rto < cap {
            at = fire(hz, at, rto);
            expect_sent!(h, at, "F. 1:1(0) ack 1 <...>");
            rto = (rto * 2).min(cap);
        }
        let end = fire(hz, at, rto);
        expect_quiet!(h, end + 60_000);
        assert_eq!(gone_at(&h), Some(end));
    });
}

/// close() with unread data resets the connection at once instead of sending a FIN
/// (RFC 2525 §2.17): no orphan, no timer.
#[test]
fn close_with_unread_data_resets() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        peer_sends!(h, 100, &byte_seg(&conn, 1, 100));
        expect_sent!(h, 100, ". 1:1(0) ack 2 <...>");
        h.advance_to(200);
        h.close(conn.fd).unwrap();
        expect_sent!(h, 200, "R. 1:1(0) ack 2 <...>");
        assert_eq!(gone_at(&h), Some(200));
        expect_quiet!(h, 10_000 + u64::from(hz));
    });
}

/// An orphan probing a zero window counts unanswered probes against tcp_orphan_retries (2
/// here) and dies at the next expiry, silently (tcp_probe_timer()).
#[test]
fn orphan_persist_gives_up_after_orphan_retries() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |s| s.tcp_orphan_retries = 2);
        let conn = active_open(&mut h);
        let base = lan_rto(hz).max(jif(hz, 200));
        let p1 = zero_window(&mut h, hz, &conn);
        h.close(conn.fd).unwrap();
        let p2 = fire(hz, p1, base << 1);
        let end = fire(hz, p2, base << 2);
        expect_sent!(h, p1, ". 0:0(0) ack 1 <...>");
        expect_sent!(h, p2, ". 0:0(0) ack 1 <...>");
        expect_quiet!(h, end + 60_000);
        assert_eq!(gone_at(&h), Some(end));
    });
}

/// Closing a listener resets the connections still waiting in its accept queue.
#[test]
fn closing_a_listener_resets_unaccepted_connections() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let l = h.listen(1234);
        peer_sends!(
            h,
            0,
            &format!(
                "S 0:0(0) win 64240 <mss 1460,sackOK,TS val {} ecr 0,nop,wscale 10>",
                peer_ts(0)
            )
        );
        let synack = expect_sent!(h, 0, "S. 0:0(0) ack 1 <...>");
        peer_sends!(
            h,
            1,
            &format!(". 1:1(0) ack 1 win 63 {}", ts(1, synack.tsval()))
        );
        h.advance_to(100);
        h.close(l).unwrap();
        expect_sent!(h, 100, "R. 1:1(0) ack 1 <...>");
        expect_quiet!(h, 10_000 + u64::from(hz));
    });
}

/// tcp_max_orphans=0: the orphan is killed with an RST at its first RTO
/// (tcp_out_of_resources()). At close() itself the cached orphan count (refreshed every
/// 100 ms) does not yet include it, so the FIN and the TLP go out first.
#[test]
fn too_many_orphans_are_reset() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |s| s.tcp_max_orphans = 0);
        let conn = active_open(&mut h);
        h.advance_to(100);
        h.close(conn.fd).unwrap();
        expect_sent!(h, 100, "F. 1:1(0) ack 1 <...>");
        let tlp = fire(hz, 100, lan_rto(hz));
        expect_sent!(h, tlp, "F. 1:1(0) ack 1 <...>");
        let rto = fire(hz, tlp, lan_rto(hz));
        expect_sent!(h, rto, "R. 2:2(0) ack 1 <...>");
        assert_eq!(gone_at(&h), Some(rto));
    });
}
