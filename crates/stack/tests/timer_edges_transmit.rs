//! The transmit-side timers' rules at their edges, segment by segment, at HZ=250 and HZ=1000:
//! RTO and TLP counter limits and re-arming, the transmit slot replacing its previous kind, the
//! delayed ACK and the persist timer (linux-tcp-timers.md §1, §7, §8, §10, §11).
//!
//! Expected times are computed here from the rules, not read from the stack: a timer armed for
//! `n` jiffies runs where Linux's timer wheel puts it (§0: one tick late below 63 ticks, then
//! rounded up past a multiple of 8, 64, 512 ticks), see [`fire`].
//!
//! A connection made by the fixtures has a 1 ms RTT, so its RTO is 201 ms rounded up to
//! jiffies: 51 ticks (204 ms) at HZ=250 and 201 ticks at HZ=1000 (§6).

use tcplab_stack::socket::XmitTimer;
use tcplab_stack::ss::TimerKind;
use tcplab_stack::{Errno, SockOpt, TcpState};
use tcplab_testkit::{
    Conn, Harness, Sent, active_open, expect_quiet, expect_sent, peer_sends, peer_ts,
};

use TcpState::*;

#[path = "common/timer_edges.rs"]
mod common;

use common::*;

// ---------------------------------------------------------------------------------------------
// RTO, TLP and the transmit slot (§1, §7, §8)

/// Sends 10 bytes at 100 ms on a fresh connection; returns the TLP time.
fn send_lost_data(h: &mut Harness, hz: u32, conn: &Conn) -> u64 {
    h.advance_to(100);
    assert_eq!(h.send(conn.fd, b"0123456789"), Ok(10));
    expect_sent!(h, 100, "P. 1:11(10) ack 1 <...>");
    // PTO = min(2·SRTT + rto_min, RTO) = the RTO here.
    let tlp = fire(hz, 100, lan_rto(hz));
    expect_sent!(h, tlp, "P. 1:11(10) ack 1 <...>");
    tlp
}

/// tcp_retries2=3 is a time budget (model 3.0 s) from the first RTO retransmission, not from
/// the original send, and the TLP before it is not counted: TLP, 4 doubling RTO
/// retransmissions, ETIMEDOUT at the expiry past 3 s, no RST.
#[test]
fn retries2_is_a_time_budget_from_the_first_retransmission() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |s| s.tcp_retries2 = 3);
        let conn = active_open(&mut h);
        let tlp = send_lost_data(&mut h, hz, &conn);
        let (rtx, end) = rto_schedule(hz, tlp, 3000, false);
        assert_eq!(rtx.len(), 4, "{rtx:?}");
        for &t in &rtx {
            expect_sent!(h, t, "P. 1:11(10) ack 1 <...>");
        }
        expect_quiet!(h, end + 10_000);
        assert_eq!(error_of(&h, conn.fd), Some((end, Errno::ETIMEDOUT)));
    });
}

/// TCP_USER_TIMEOUT=1000 replaces retries2 and clamps the last RTO so the give-up check runs
/// right at first retransmission + 1 s (§7.3).
#[test]
fn user_timeout_clamps_the_last_rto() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        h.call(|s, now| s.setsockopt(now, conn.fd, SockOpt::UserTimeout(1000)))
            .unwrap();
        let tlp = send_lost_data(&mut h, hz, &conn);
        let (rtx, end) = rto_schedule(hz, tlp, 1000, true);
        for &t in &rtx {
            expect_sent!(h, t, "P. 1:11(10) ack 1 <...>");
        }
        expect_quiet!(h, end + 10_000);
        assert_eq!(error_of(&h, conn.fd), Some((end, Errno::ETIMEDOUT)));
        assert!(end < rtx[rtx.len() - 1] + (lan_rto(hz) << rtx.len()) * tick_ms(hz));
    });
}

/// With two segments out the PTO is 2·SRTT + 2 ms (no delayed-ACK allowance); the TLP
/// resends the last segment; a probe that went out clears icsk_pending first, so
/// tcp_rearm_rto() arms the full RTO from now, and the RTO resends the head.
#[test]
fn tlp_with_two_segments_out_and_the_rto_from_the_head() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        h.advance_to(100);
        assert_eq!(h.send(conn.fd, &[7u8; 2896]), Ok(2896));
        expect_sent!(h, 100, ". 1:1449(1448) ack 1 <...>");
        expect_sent!(h, 100, "P. 1449:2897(1448) ack 1 <...>");
        let pto = (4000 * u64::from(hz)).div_ceil(1_000_000);
        let tlp = fire(hz, 100, pto);
        expect_sent!(h, tlp, "P. 1449:2897(1448) ack 1 <...>");
        let rto = fire(hz, tlp, lan_rto(hz));
        expect_sent!(h, rto, ". 1:1449(1448) ack 1 <...>");
        expect_sent!(
            h,
            fire(hz, rto, 2 * lan_rto(hz)),
            ". 1:1449(1448) ack 1 <...>"
        );
    });
}

/// Without timestamps the ACK of retransmitted data is no RTT sample (Karn): it zeroes
/// icsk_retransmits (SND.UNA advanced) but leaves the backoff and the doubled RTO.
#[test]
fn ack_of_retransmitted_data_keeps_the_backoff_without_timestamps() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |s| s.tcp_timestamps = 0);
        let fd = h.connect();
        expect_sent!(h, 0, "S 0:0(0) <mss 1460,nop,nop,sackOK,nop,wscale 10>");
        peer_sends!(
            h,
            1,
            "S. 0:0(0) ack 1 win 65535 <mss 1460,nop,nop,sackOK,nop,wscale 10>"
        );
        expect_sent!(h, 1, ". 1:1(0) ack 1");
        h.advance_to(100);
        h.send(fd, b"0123456789").unwrap();
        expect_sent!(h, 100, "P. 1:11(10) ack 1");
        let tlp = fire(hz, 100, lan_rto(hz));
        expect_sent!(h, tlp, "P. 1:11(10) ack 1");
        let rto = fire(hz, tlp, lan_rto(hz));
        expect_sent!(h, rto, "P. 1:11(10) ack 1");
        peer_sends!(h, rto + 1, ". 1:1(0) ack 11 win 64");
        let i = h.stack().tcp_info(h.now(), fd).unwrap();
        assert_eq!((i.tcpi_retransmits, i.tcpi_backoff), (0, 1));
        let doubled = 2 * lan_rto(hz) * 1_000_000 / u64::from(hz);
        assert_eq!(u64::from(i.tcpi_rto), doubled);
    });
}

/// A TLP sends new data when the receive window allows, even with cwnd full: ten segments
/// fill the initial window, the eleventh waits, and the probe is that eleventh.
#[test]
fn tlp_sends_new_data_when_it_can() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        h.advance_to(100);
        h.send(conn.fd, &[3u8; 11 * 1448]).unwrap();
        let sent = sent_until(&mut h, 100);
        assert_eq!(sent.len(), 10, "initial window");
        let pto = (4000 * u64::from(hz)).div_ceil(1_000_000);
        expect_sent!(h, fire(hz, 100, pto), "P. 14481:15929(1448) ack 1 <...>");
    });
}

/// RACK's reordering timer takes the transmit slot: a SACK for the third of three segments
/// sent together leaves the first two within the reordering window (min_rtt / 4), so
/// ICSK_TIME_REO_TIMEOUT replaces the TLP for usecs_to_jiffies(250 µs) + TCP_TIMEOUT_MIN;
/// on expiry they are marked lost and the head is retransmitted.
#[test]
fn rack_reordering_timer_replaces_the_tlp() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        h.advance_to(100);
        h.send(conn.fd, &[5u8; 3 * 1448]).unwrap();
        let sent = sent_until(&mut h, 100);
        assert_eq!(sent.len(), 3);
        let kind = |h: &Harness| h.stack().sock(conn.fd).and_then(|s| s.xmit_kind);
        assert_eq!(kind(&h), Some(XmitTimer::LossProbe));
        peer_sends!(
            h,
            101,
            &format!(
                ". 1:1(0) ack 1 win 64 <nop,nop,TS val {} ecr {},nop,nop,sack 2897:4345>",
                peer_ts(101),
                conn.ts(100)
            )
        );
        assert_eq!(kind(&h), Some(XmitTimer::ReoTimeout));
        assert_eq!(entry(&h).unwrap().timer.unwrap().kind, TimerKind::On);
        let reo = fire(hz, 101, 1 + 2);
        expect_sent!(h, reo, ". 1:1449(1448) ack 1 <...>");
    });
}

/// The transmit slot holds one kind at a time (icsk_pending): sending arms the TLP instead of
/// the RTO; the TLP's expiry re-arms the RTO (not counted: retransmits and backoff stay 0); the
/// RTO counts and backs off; an ACK of new data with new data sent arms the TLP again and the
/// RTT sample resets the backoff. `ss` shows `on` for all of them.
#[test]
fn tlp_and_rto_replace_each_other_in_the_transmit_slot() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        let kind = |h: &Harness| h.stack().sock(conn.fd).and_then(|s| s.xmit_kind);
        let info = |h: &Harness| h.stack().tcp_info(h.now(), conn.fd).unwrap();
        assert_eq!(kind(&h), None);
        h.advance_to(100);
        h.send(conn.fd, b"0123456789").unwrap();
        expect_sent!(h, 100, "P. 1:11(10) ack 1 <...>");
        assert_eq!(kind(&h), Some(XmitTimer::LossProbe));
        assert_eq!(entry(&h).unwrap().timer.unwrap().kind, TimerKind::On);
        let tlp = fire(hz, 100, lan_rto(hz));
        expect_sent!(h, tlp, "P. 1:11(10) ack 1 <...>");
        assert_eq!(kind(&h), Some(XmitTimer::Retrans));
        let i = info(&h);
        assert_eq!((i.tcpi_retransmits, i.tcpi_backoff), (0, 0), "TLP counted");
        let rto = fire(hz, tlp, lan_rto(hz));
        expect_sent!(h, rto, "P. 1:11(10) ack 1 <...>");
        assert_eq!(kind(&h), Some(XmitTimer::Retrans));
        let i = info(&h);
        assert_eq!((i.tcpi_retransmits, i.tcpi_backoff), (1, 1));
        let t = entry(&h).unwrap().timer.unwrap();
        assert_eq!((t.kind, t.count), (TimerKind::On, 1));
        // The ACK's timestamp echo is an RTT sample: the backoff goes, and new data sent on
        // the ACK arms a TLP in place of the RTO.
        h.advance_to(rto + 10);
        h.send(conn.fd, b"abc").unwrap();
        peer_sends!(
            h,
            rto + 20,
            &format!(". 1:1(0) ack 11 win 64 {}", ts(rto + 20, conn.ts(rto)))
        );
        expect_sent!(h, rto + 20, "P. 11:14(3) ack 1 <...>");
        assert_eq!(kind(&h), Some(XmitTimer::LossProbe));
        let i = info(&h);
        assert_eq!((i.tcpi_retransmits, i.tcpi_backoff), (0, 0));
    });
}

// ---------------------------------------------------------------------------------------------
// Delayed ACK (§10)

/// Feeds 17 one-byte segments 100 ms apart: the first 16 are ACKed at once (quick-ACK credit
/// min(rcv_wnd / 2·rcv_mss, 16)), the 17th after ato = 40 ms. Returns the 17th's arrival.
fn use_up_quickacks(h: &mut Harness, conn: &Conn) -> u64 {
    for n in 1..=16u32 {
        let t = 100 * u64::from(n);
        peer_sends!(h, t, &byte_seg(conn, n, t));
        expect_sent!(h, t, &format!(". 1:1(0) ack {} <...>", n + 1));
    }
    peer_sends!(h, 1700, &byte_seg(conn, 17, 1700));
    1700
}

#[test]
fn sixteen_quick_acks_then_ato_40ms() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        let t = use_up_quickacks(&mut h, &conn);
        expect_sent!(h, fire(hz, t, jif(hz, 40)), ". 1:1(0) ack 18 <...>");
    });
}

/// Reading the queue empty with an ACK scheduled and a small pushed segment seen sends the
/// ACK at once (__tcp_cleanup_rbuf()).
#[test]
fn reading_sends_the_scheduled_ack() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        let t = use_up_quickacks(&mut h, &conn);
        h.advance_to(t + 10);
        assert_eq!(h.recv(conn.fd, 100).map(|v| v.len()), Ok(17));
        expect_sent!(h, t + 10, ". 1:1(0) ack 18 <...>");
        expect_quiet!(h, t + 500);
    });
}

/// The ACK of a FIN goes through the delayed path (tcp_fin() enters pingpong mode): after
/// data was received, ato is 40 ms.
#[test]
fn fin_is_acked_after_the_delayed_ack_timeout() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        peer_sends!(h, 100, &byte_seg(&conn, 1, 100));
        expect_sent!(h, 100, ". 1:1(0) ack 2 <...>");
        peer_sends!(
            h,
            200,
            &format!("F. 2:2(0) ack 1 win 64 {}", ts(200, conn.ts(100)))
        );
        h.assert_state(conn.fd, CloseWait);
        expect_sent!(h, fire(hz, 200, jif(hz, 40)), ". 1:1(0) ack 3 <...>");
    });
}

/// TCP_QUICKACK 0 enters pingpong mode (data ACKs wait for the timer); setting it to 1 while
/// an ACK is scheduled sends that ACK at once.
#[test]
fn quickack_option_delays_and_then_flushes() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        h.call(|s, now| s.setsockopt(now, conn.fd, SockOpt::QuickAck(0)))
            .unwrap();
        peer_sends!(h, 100, &byte_seg(&conn, 1, 100));
        expect_quiet!(h, 120);
        h.call(|s, now| s.setsockopt(now, conn.fd, SockOpt::QuickAck(1)))
            .unwrap();
        expect_sent!(h, 120, ". 1:1(0) ack 2 <...>");
        expect_quiet!(h, 1000);
    });
}

/// The delayed-ACK timeout is capped at rto_min − 1 tick (tcp_delack_max()): with
/// tcp_rto_min_us = 20 ms the 40 ms ato of a pingpong connection becomes 16 ms at HZ=250 and
/// 19 ms at HZ=1000.
#[test]
fn delayed_ack_is_capped_below_rto_min() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |s| s.tcp_rto_min_us = 20_000);
        let conn = active_open(&mut h);
        h.call(|s, now| s.setsockopt(now, conn.fd, SockOpt::QuickAck(0)))
            .unwrap();
        peer_sends!(h, 100, &byte_seg(&conn, 1, 100));
        expect_sent!(h, fire(hz, 100, jif(hz, 20) - 1), ". 1:1(0) ack 2 <...>");
    });
}

/// Data sent while an ACK is delayed carries it and cancels the delayed-ACK timer: no bare
/// ACK follows.
#[test]
fn outgoing_data_carries_the_delayed_ack() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        h.call(|s, now| s.setsockopt(now, conn.fd, SockOpt::QuickAck(0)))
            .unwrap();
        peer_sends!(h, 100, &byte_seg(&conn, 1, 100));
        h.advance_to(110);
        h.send(conn.fd, b"x").unwrap();
        expect_sent!(h, 110, "P. 1:2(1) ack 2 <...>");
        let tlp = fire(hz, 110, lan_rto(hz));
        expect_quiet!(h, tlp - 1);
    });
}

/// Outside quick-ACK mode a full-sized segment waits, the second makes more than one full
/// segment unacknowledged and is ACKed at once.
#[test]
fn two_full_segments_are_acked_at_once() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        h.call(|s, now| s.setsockopt(now, conn.fd, SockOpt::QuickAck(0)))
            .unwrap();
        peer_sends!(
            h,
            100,
            &format!(". 1:1449(1448) ack 1 win 64 {}", ts(100, conn.ts(1)))
        );
        expect_quiet!(h, 101);
        peer_sends!(
            h,
            101,
            &format!(". 1449:2897(1448) ack 1 win 64 {}", ts(101, conn.ts(1)))
        );
        expect_sent!(h, 101, ". 1:1(0) ack 2897 <...>");
    });
}

// ---------------------------------------------------------------------------------------------
// Persist timer / zero-window probes (§11)

/// The peer answers a probe with its closed window.
fn answer_probe(h: &mut Harness, probe: &Sent) {
    let t = probe.at.as_millis();
    peer_sends!(
        h,
        t,
        &format!(". 1:1(0) ack 1 win 0 {}", ts(t, probe.tsval()))
    );
}

/// Probes are bare ACKs at SND.UNA − 1; the interval doubles per probe sent, with the backoff
/// exponent capped at tcp_retries2 (3 here: 8 × base); an answer zeroes probes_out but not
/// the backoff; tcp_retries2 consecutive unanswered probes end the connection with ETIMEDOUT
/// and no RST.
#[test]
fn persist_backs_off_and_counts_only_unanswered_probes() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |s| s.tcp_retries2 = 3);
        let conn = active_open(&mut h);
        let base = lan_rto(hz).max(jif(hz, 200));
        let mut at = zero_window(&mut h, hz, &conn);
        let mut backoff = 0;
        for n in 0..5 {
            let probe = expect_sent!(h, at, ". 0:0(0) ack 1 <...>");
            backoff = (backoff + 1).min(3);
            let probes = h.stack().tcp_info(h.now(), conn.fd).unwrap().tcpi_probes;
            if n < 2 {
                assert_eq!(probes, 1);
                answer_probe(&mut h, &probe);
                let i = h.stack().tcp_info(h.now(), conn.fd).unwrap();
                assert_eq!((i.tcpi_probes, u32::from(i.tcpi_backoff)), (0, backoff));
            } else {
                assert_eq!(u32::from(probes), n - 1, "unanswered probes");
            }
            at = fire(hz, at, base << backoff);
        }
        // Three unanswered probes: the next expiry gives up.
        expect_quiet!(h, at + 60_000);
        assert_eq!(error_of(&h, conn.fd), Some((at, Errno::ETIMEDOUT)));
    });
}

/// With TCP_USER_TIMEOUT the probing ends at the first probe + the user timeout even though
/// every probe is answered (probes_tstamp is not reset by answers); each re-arm is clamped
/// to what is left of it, at least 2 ticks (tcp_clamp_probe0_to_user_timeout()).
#[test]
fn persist_user_timeout_counts_from_the_first_probe() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        h.call(|s, now| s.setsockopt(now, conn.fd, SockOpt::UserTimeout(3000)))
            .unwrap();
        let base = lan_rto(hz).max(jif(hz, 200));
        let first = zero_window(&mut h, hz, &conn);
        let (ut, tick) = (jif(hz, 3000), tick_ms(hz));
        let (mut at, mut backoff) = (first, 0);
        let end = loop {
            let elapsed = (at - first) / tick;
            if at > first && elapsed >= ut {
                break at;
            }
            let probe = expect_sent!(h, at, ". 0:0(0) ack 1 <...>");
            answer_probe(&mut h, &probe);
            backoff += 1;
            let left = (ut - elapsed).max(2);
            at = fire(hz, at, (base << backoff).min(left));
        };
        expect_quiet!(h, end + 10_000);
        assert_eq!(error_of(&h, conn.fd), Some((end, Errno::ETIMEDOUT)));
    });
}

/// Answered probes keep a zero-window connection alive for ever: the interval doubles up to
/// base << 10 and is then capped at rto_max (120 s), probes_out staying 0.
#[test]
fn persist_interval_is_capped_at_rto_max() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        let base = lan_rto(hz).max(jif(hz, 200));
        let rto_max = 120 * u64::from(hz);
        let mut at = zero_window(&mut h, hz, &conn);
        let mut intervals = Vec::new();
        for backoff in 1..=14u32 {
            let probe = expect_sent!(h, at, ". 0:0(0) ack 1 <...>");
            answer_probe(&mut h, &probe);
            let len = (base << backoff.min(10)).min(rto_max);
            intervals.push(len);
            at = fire(hz, at, len);
        }
        assert_eq!(intervals[intervals.len() - 1], rto_max);
        assert!(intervals[8] < rto_max, "{intervals:?}");
        h.assert_state(conn.fd, Established);
        assert_eq!(h.stack().tcp_info(h.now(), conn.fd).unwrap().tcpi_probes, 0);
    });
}

/// A window too small for the head segment is not used by the normal send path; the persist
/// timer's probe then sends as much as fits, with PSH (tcp_write_wakeup()), and probing
/// stops because data is in flight.
#[test]
fn persist_probe_fills_a_partly_open_window() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        // Window 1 << 10 = 1024 bytes, less than one MSS.
        peer_sends!(
            h,
            50,
            &format!(". 1:1(0) ack 1 win 1 {}", ts(50, conn.ts(1)))
        );
        h.advance_to(100);
        assert_eq!(h.send(conn.fd, &[1u8; 2000]), Ok(2000));
        let at = fire(hz, 100, lan_rto(hz).max(jif(hz, 200)));
        expect_sent!(h, at, "P. 1:1025(1024) ack 1 <...>");
        let kind = h.stack().sock(conn.fd).and_then(|s| s.xmit_kind);
        assert_ne!(kind, Some(XmitTimer::Probe0));
        assert_eq!(h.stack().tcp_info(h.now(), conn.fd).unwrap().tcpi_probes, 0);
    });
}

/// Data in flight when the window closes: the RTO path, not the persist timer, handles it,
/// and tcp_retries2 does not apply (§7.1 step 3). The connection dies only once nothing was
/// received for more than 2·rto_max (240 s) and retransmission lasted as long, at an RTO
/// expiry, silently.
#[test]
fn zero_window_with_data_in_flight_ignores_retries2() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |s| s.tcp_retries2 = 3);
        let conn = active_open(&mut h);
        h.advance_to(100);
        h.send(conn.fd, b"0123456789").unwrap();
        expect_sent!(h, 100, "P. 1:11(10) ack 1 <...>");
        peer_sends!(
            h,
            150,
            &format!(". 1:1(0) ack 1 win 0 {}", ts(150, conn.ts(100)))
        );
        let tick = tick_ms(hz);
        let limit = 240 * u64::from(hz);
        let tlp = fire(hz, 100, lan_rto(hz));
        let r1 = fire(hz, tlp, lan_rto(hz));
        let (mut at, mut rto, mut rtx) = (r1, lan_rto(hz), vec![tlp, r1]);
        let end = loop {
            rto = (rto * 2).min(120 * u64::from(hz));
            let expires = at / tick + rto;
            at = fire(hz, at, rto);
            if expires - 150 / tick > limit && jif(hz, at - r1) > limit {
                break at;
            }
            rtx.push(at);
        };
        let sent = sent_until(&mut h, end + 100_000);
        assert_eq!(
            sent.iter().map(|s| s.at.as_millis()).collect::<Vec<_>>(),
            rtx
        );
        assert!(
            sent.iter()
                .all(|s| s.rel.to_string().starts_with("P. 1:11(10)"))
        );
        assert_eq!(error_of(&h, conn.fd), Some((end, Errno::ETIMEDOUT)));
    });
}

/// An answer that opens the window ends probing: the data goes out at once and the transmit
/// slot's PROBE0 is replaced by a loss probe; backoff and probes_out are reset.
#[test]
fn opening_the_window_replaces_the_persist_timer() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        let at = zero_window(&mut h, hz, &conn);
        let kind = |h: &Harness| h.stack().sock(conn.fd).and_then(|s| s.xmit_kind);
        assert_eq!(kind(&h), Some(XmitTimer::Probe0));
        let probe = expect_sent!(h, at, ". 0:0(0) ack 1 <...>");
        peer_sends!(
            h,
            at,
            &format!(". 1:1(0) ack 1 win 64 {}", ts(at, probe.tsval()))
        );
        expect_sent!(h, at, "P. 1:11(10) ack 1 <...>");
        assert_eq!(kind(&h), Some(XmitTimer::LossProbe));
        let e = entry(&h).unwrap().timer.unwrap();
        assert_eq!((e.kind, e.count, e.probes), (TimerKind::On, 0, 0));
        let i = h.stack().tcp_info(h.now(), conn.fd).unwrap();
        assert_eq!((i.tcpi_backoff, i.tcpi_probes), (0, 0));
    });
}

/// A zero-length segment at RCV.NXT − 1 (a window or keepalive probe) is out of window: the
/// stack answers with a duplicate ACK, at most one per tcp_invalid_ratelimit (500 ms). A
/// 1-byte probe is not rate-limited (tcp_oow_rate_limited() exempts data).
#[test]
fn probes_are_answered_at_most_once_per_500ms() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let conn = active_open(&mut h);
        for (t, answered) in [(1000, true), (1300, false), (1499, false), (1500, true)] {
            peer_sends!(
                h,
                t,
                &format!(". 0:0(0) ack 1 win 64 {}", ts(t, conn.ts(1)))
            );
            if answered {
                expect_sent!(h, t, ". 1:1(0) ack 1 <...>");
            } else {
                expect_quiet!(h, t);
            }
        }
        // A BSD-style 1-byte keepalive at RCV.NXT − 1 is an in-window duplicate: answered at
        // once with a D-SACK block, every time.
        for t in [1600, 1700] {
            peer_sends_payload(
                &mut h,
                t,
                &format!(". 0:1(1) ack 1 win 64 {}", ts(t, conn.ts(1))),
            );
            expect_sent!(
                h,
                t,
                ". 1:1(0) ack 1 <nop,nop,TS val * ecr *,nop,nop,sack 0:1>"
            );
        }
    });
}

/// The peer's byte at relative sequence 0 is the SYN's, so a 1-byte segment there needs an
/// explicit payload.
fn peer_sends_payload(h: &mut Harness, at: u64, line: &str) {
    h.peer_sends_payload(at, line, b"x");
}
