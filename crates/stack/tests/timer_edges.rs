//! Every TCP timer's rules at their edges, segment by segment, at HZ=250 and HZ=1000: counter
//! limits, re-arming, and the transmit slot replacing its previous kind
//! (linux-tcp-timers.md §5–§14).
//!
//! Expected times are computed here from the rules, not read from the stack: a timer armed for
//! `n` jiffies runs where Linux's timer wheel puts it (§0: one tick late below 63 ticks, then
//! rounded up past a multiple of 8, 64, 512 ticks), see [`fire`].
//!
//! A connection made by the fixtures has a 1 ms RTT, so its RTO is 201 ms rounded up to
//! jiffies: 51 ticks (204 ms) at HZ=250 and 201 ticks at HZ=1000 (§6).

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use tcplab_stack::socket::XmitTimer;
use tcplab_stack::ss::{SocketEntry, TimerKind};
use tcplab_stack::{
    Domain, Errno, Event, Fd, Hz, Shutdown, SockOpt, SockOptName, StackConfig, Sysctls, TcpState,
};
use tcplab_testkit::{
    Conn, Harness, Sent, active_open, expect_quiet, expect_sent, passive_open, peer_sends, peer_ts,
};
use tcplab_wire::TcpFlags;

use TcpState::*;

/// Runs `body` at HZ=250 and at HZ=1000, naming the tick rate of a failure.
fn at_each_hz(body: impl Fn(u32)) {
    for hz in [250, 1000] {
        if let Err(e) = catch_unwind(AssertUnwindSafe(|| body(hz))) {
            eprintln!("failed at HZ={hz}");
            resume_unwind(e);
        }
    }
}

/// A harness at `hz` with sysctls changed by `sys`.
fn harness(hz: u32, sys: impl FnOnce(&mut Sysctls)) -> Harness {
    let mut sysctls = Sysctls::default();
    sys(&mut sysctls);
    Harness::with_config(StackConfig {
        hz: Hz(hz),
        sysctls,
        ..StackConfig::default()
    })
}

/// Linux: msecs_to_jiffies() (rounds up).
fn jif(hz: u32, ms: u64) -> u64 {
    (ms * u64::from(hz)).div_ceil(1000)
}

/// Milliseconds per tick.
fn tick_ms(hz: u32) -> u64 {
    1000 / u64::from(hz)
}

/// When a timer armed at `at_ms` for `len` jiffies runs, in ms: expiry = jiffies + len,
/// rounded up by the timer wheel to its level's granularity (kernel/time/timer.c).
fn fire(hz: u32, at_ms: u64, len: u64) -> u64 {
    let clk = at_ms / tick_ms(hz);
    let expires = clk + len;
    let shift = match len {
        0..63 => 0,
        63..504 => 3,
        504..4032 => 6,
        4032..32256 => 9,
        _ => 12,
    };
    (((expires >> shift) + 1) << shift) * tick_ms(hz)
}

/// The RTO the fixtures' 1 ms RTT leaves: usecs_to_jiffies(1 ms + 200 ms).
fn lan_rto(hz: u32) -> u64 {
    (201_000 * u64::from(hz)).div_ceil(1_000_000)
}

/// Everything the stack sends up to `until_ms`; the clock ends there.
fn sent_until(h: &mut Harness, until_ms: u64) -> Vec<Sent> {
    let mut v = Vec::new();
    while let Some(s) = h.next_sent(until_ms) {
        v.push(s.expect("undecodable segment"));
    }
    h.advance_to(until_ms);
    v
}

/// The first error reported on `fd`, with its time in ms.
fn error_of(h: &Harness, fd: Fd) -> Option<(u64, Errno)> {
    h.events().iter().find_map(|&(t, f, e)| match e {
        Event::Error(err) if f == fd => Some((t.as_millis(), err)),
        _ => None,
    })
}

/// The socket-table entry of the harness's 4-tuple, if any.
fn entry(h: &Harness) -> Option<SocketEntry> {
    let peer = h.peer_addr();
    h.stack()
        .sockets(h.now())
        .into_iter()
        .find(|e| e.peer == Some(peer) && e.state != Listen)
}

/// When the connection was first seen gone, in ms.
fn gone_at(h: &Harness) -> Option<u64> {
    h.conn_timeline()
        .iter()
        .find(|&&(_, s)| s == Close)
        .map(|&(t, _)| t.as_millis())
}

/// The peer's segment at `t` with its timestamps, echoing `ecr`.
fn ts(t: u64, ecr: u32) -> String {
    format!("<nop,nop,TS val {} ecr {ecr}>", peer_ts(t))
}

// ---------------------------------------------------------------------------------------------
// SYN retransmission (§5.1)

/// Expiry times of the SYN timer from 0: the first `linear + 1` at 1 s, then doubling.
fn syn_expiries(hz: u32, linear: u32, n: usize) -> Vec<u64> {
    let mut v = Vec::new();
    let (mut at, mut rto, mut total) = (0, u64::from(hz), 0);
    for _ in 0..n {
        at = fire(hz, at, rto);
        v.push(at);
        total += 1;
        if total > linear {
            rto *= 2;
        }
    }
    v
}

/// tcp_syn_retries=2 with 4 linear timeouts: the count limit is 6 but the time limit
/// (model(2, 1 s) = 7 s from the first SYN) comes first: 5 retransmissions, ETIMEDOUT at the
/// expiry after 7 s, no RST. With a long TCP_USER_TIMEOUT only the count limit is left: a
/// sixth retransmission, then ETIMEDOUT at the next expiry.
#[test]
fn syn_gives_up_at_the_time_limit_before_the_count_limit() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |s| s.tcp_syn_retries = 2);
        let fd = h.connect();
        let exp = syn_expiries(hz, 4, 7);
        let sent = sent_until(&mut h, 20_000);
        let times: Vec<u64> = sent.iter().map(|s| s.at.as_millis()).collect();
        let mut want = vec![0];
        want.extend(&exp[..5]);
        assert_eq!(times, want, "SYN send times");
        assert!(sent.iter().all(|s| s.rel.flags.0 == 0x02), "only SYNs");
        assert!(exp[5] >= 7000 && exp[4] < 7000);
        assert_eq!(error_of(&h, fd), Some((exp[5], Errno::ETIMEDOUT)));
        h.assert_state(fd, Close);

        let mut h = harness(hz, |s| s.tcp_syn_retries = 2);
        let fd = h.call(|s, _| s.socket(Domain::Inet)).unwrap();
        h.call(|s, now| s.setsockopt(now, fd, SockOpt::UserTimeout(600_000)))
            .unwrap();
        let peer = h.peer_addr();
        assert_eq!(
            h.call(|s, now| s.connect(now, fd, peer)),
            Err(Errno::EINPROGRESS)
        );
        let sent = sent_until(&mut h, 20_000);
        let times: Vec<u64> = sent.iter().map(|s| s.at.as_millis()).collect();
        let mut want = vec![0];
        want.extend(&exp[..6]);
        assert_eq!(times, want, "SYN send times, count limit 6");
        assert_eq!(error_of(&h, fd), Some((exp[6], Errno::ETIMEDOUT)));
    });
}

/// TCP_SYNCNT=1 replaces tcp_syn_retries: SYNs at 0, 1, 2 s and ETIMEDOUT at the 3 s expiry
/// (the time limit, model(1, 1 s) = 3 s, beats the count limit 1 + 4).
#[test]
fn syncnt_one_gives_up_after_three_seconds() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let fd = h.call(|s, _| s.socket(Domain::Inet)).unwrap();
        h.call(|s, now| s.setsockopt(now, fd, SockOpt::SynCnt(1)))
            .unwrap();
        let peer = h.peer_addr();
        let _ = h.call(|s, now| s.connect(now, fd, peer));
        let exp = syn_expiries(hz, 4, 3);
        let times: Vec<u64> = sent_until(&mut h, 10_000)
            .iter()
            .map(|s| s.at.as_millis())
            .collect();
        assert_eq!(times, vec![0, exp[0], exp[1]]);
        assert_eq!(error_of(&h, fd), Some((exp[2], Errno::ETIMEDOUT)));
    });
}

/// TCP_USER_TIMEOUT=2500 in SYN_SENT: SYNs at 0, 1, 2 s, then the timer is clamped to what is
/// left of the user timeout (tcp_clamp_rto_to_user_timeout()) and connect fails at 2.5 s.
#[test]
fn user_timeout_ends_syn_sent_at_the_user_timeout() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let fd = h.call(|s, _| s.socket(Domain::Inet)).unwrap();
        h.call(|s, now| s.setsockopt(now, fd, SockOpt::UserTimeout(2500)))
            .unwrap();
        let peer = h.peer_addr();
        let _ = h.call(|s, now| s.connect(now, fd, peer));
        let exp = syn_expiries(hz, 4, 2);
        let times: Vec<u64> = sent_until(&mut h, 10_000)
            .iter()
            .map(|s| s.at.as_millis())
            .collect();
        assert_eq!(times, vec![0, exp[0], exp[1]]);
        let last = fire(hz, exp[1], jif(hz, 2500 - exp[1]));
        assert_eq!(error_of(&h, fd), Some((last, Errno::ETIMEDOUT)));
    });
}

/// A SYN-ACK whose ACK does not cover the SYN is answered with an RST, and since no SYN was
/// retransmitted yet the SYN timer is re-armed for TCP_TIMEOUT_MIN (2 ticks): a new SYN goes
/// out almost at once (tcp_rcv_synsent_state_process()).
#[test]
fn bad_synack_brings_the_syn_back_after_two_ticks() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        h.connect();
        expect_sent!(h, 0, "S 0:0(0) <...>");
        peer_sends!(h, 100, "S. 0:0(0) ack 5 win 65535 <mss 1460>");
        expect_sent!(h, 100, "R 5:5(0)");
        expect_sent!(h, fire(hz, 100, 2), "S 0:0(0) <...>");
    });
}

/// Without an RTT sample from the handshake (the SYN was retransmitted, Karn's rule, and no
/// timestamps) the RTO becomes TCP_TIMEOUT_FALLBACK, 3 s; with timestamps the echo of the
/// retransmitted SYN's TSval is a sample (76 ms here: RTO 76 + 200 ms).
#[test]
fn handshake_without_rtt_sample_falls_back_to_three_seconds() {
    at_each_hz(|hz| {
        for tstamps in [0, 1] {
            let mut h = harness(hz, |s| s.tcp_timestamps = tstamps);
            let fd = h.connect();
            h.next_sent(0).unwrap().unwrap();
            let again = fire(hz, 0, u64::from(hz));
            let syn = expect_sent!(h, again, "S 0:0(0) <...>");
            let at = again + 76;
            if tstamps == 0 {
                peer_sends!(
                    h,
                    at,
                    "S. 0:0(0) ack 1 win 65535 <mss 1460,nop,nop,sackOK,nop,wscale 10>"
                );
            } else {
                peer_sends!(
                    h,
                    at,
                    &format!(
                        "S. 0:0(0) ack 1 win 65160 <mss 1460,sackOK,TS val {} ecr {},nop,wscale 10>",
                        peer_ts(at),
                        syn.tsval()
                    )
                );
            }
            expect_sent!(h, at, ". 1:1(0) ack 1 <...>");
            let rto = h.stack().tcp_info(h.now(), fd).unwrap().tcpi_rto;
            let want = if tstamps == 0 { 3_000_000 } else { 276_000 };
            assert_eq!(rto, want, "tcp_timestamps={tstamps}");
        }
    });
}

/// A socket in pingpong mode (TCP_QUICKACK 0 before connect(): __tcp_sock_set_quickack()
/// works in any state) delays the handshake's third ACK by TCP_DELACK_MAX, hoping to carry
/// it on data (tcp_rcv_synsent_state_process()).
#[test]
fn pingpong_delays_the_third_ack() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let fd = h.call(|s, _| s.socket(Domain::Inet)).unwrap();
        h.call(|s, now| s.setsockopt(now, fd, SockOpt::QuickAck(0)))
            .unwrap();
        let peer = h.peer_addr();
        let _ = h.call(|s, now| s.connect(now, fd, peer));
        let syn = expect_sent!(h, 0, "S 0:0(0) <...>");
        peer_sends!(
            h,
            1,
            &format!(
                "S. 0:0(0) ack 1 win 65160 <mss 1460,sackOK,TS val {} ecr {},nop,wscale 10>",
                peer_ts(1),
                syn.tsval()
            )
        );
        h.assert_state(fd, Established);
        expect_sent!(h, fire(hz, 1, u64::from(hz) / 5), ". 1:1(0) ack 1 <...>");
    });
}

// ---------------------------------------------------------------------------------------------
// SYN-ACK retransmission by a request socket (§5.2)

/// The request socket resends its SYN-ACK at 1, 2, 4, 8, 16 s intervals (req->timeout <<
/// num_timeout, no linear phase), shows `SYN-RECV timer:(on,…,n)`, and after
/// tcp_synack_retries (5) is dropped at the next expiry without an RST; the client's late
/// ACK then draws one from the listener.
#[test]
fn synack_doubles_then_the_request_expires_silently() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        h.listen(80);
        peer_sends!(
            h,
            0,
            &format!(
                "S 0:0(0) win 64240 <mss 1460,sackOK,TS val {} ecr 0,nop,wscale 10>",
                peer_ts(0)
            )
        );
        expect_sent!(h, 0, "S. 0:0(0) ack 1 <...>");
        let mut at = 0;
        for k in 0..5u32 {
            let e = entry(&h).expect("request socket");
            assert_eq!(e.state, SynRecv);
            let t = e.timer.expect("SYN-RECV timer");
            assert_eq!((t.kind, t.count), (TimerKind::On, k));
            at = fire(hz, at, u64::from(hz) << k);
            expect_sent!(h, at, "S. 0:0(0) ack 1 <...>");
        }
        let end = fire(hz, at, u64::from(hz) << 5);
        expect_quiet!(h, end - 1);
        assert!(entry(&h).is_some(), "request gone before its last expiry");
        expect_quiet!(h, end + 200_000);
        assert!(entry(&h).is_none(), "request still there");
        // The client learns only when it sends: its ACK now meets the listener alone.
        let t = end + 200_000;
        peer_sends!(h, t, &format!(". 1:1(0) ack 1 win 63 {}", ts(t, 0)));
        expect_sent!(h, t, "R 1:1(0)");
    });
}

/// TCP_SYNCNT on the listener replaces tcp_synack_retries for its request sockets: with 1,
/// one resend at 1 s and the request is gone at the 3 s expiry.
#[test]
fn listener_syncnt_limits_synack_retries() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        let l = h.listen(80);
        h.call(|s, now| s.setsockopt(now, l, SockOpt::SynCnt(1)))
            .unwrap();
        peer_sends!(h, 0, "S 0:0(0) win 65535 <mss 1460>");
        expect_sent!(h, 0, "S. 0:0(0) ack 1 <mss 1460>");
        let first = fire(hz, 0, u64::from(hz));
        expect_sent!(h, first, "S. 0:0(0) ack 1 <mss 1460>");
        let end = fire(hz, first, 2 * u64::from(hz));
        expect_quiet!(h, end - 1);
        assert!(entry(&h).is_some());
        expect_quiet!(h, end + 60_000);
        assert!(entry(&h).is_none(), "request still there");
    });
}

/// A retransmitted SYN is answered at once with a SYN-ACK (the first out-of-window answer is
/// not rate-limited) and pushes the request timer to now + 1 s (tcp_check_req()); another
/// copy 300 ms later is rate-limited (tcp_invalid_ratelimit): no answer, no push.
#[test]
fn retransmitted_syn_gets_a_synack_at_once_and_pushes_the_timer() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        h.listen(80);
        let syn = format!(
            "S 0:0(0) win 64240 <mss 1460,sackOK,TS val {} ecr 0,nop,wscale 10>",
            peer_ts(0)
        );
        peer_sends!(h, 0, &syn);
        expect_sent!(h, 0, "S. 0:0(0) ack 1 <...>");
        peer_sends!(h, 600, &syn);
        expect_sent!(h, 600, "S. 0:0(0) ack 1 <...>");
        // A third copy within tcp_invalid_ratelimit is not answered and leaves the timer.
        peer_sends!(h, 900, &syn);
        let next = fire(hz, 600, u64::from(hz));
        assert!(next > fire(hz, 0, u64::from(hz)));
        expect_sent!(h, next, "S. 0:0(0) ack 1 <...>");
    });
}

/// `ss` shows a request socket's `num_retrans` (inet_req_diag_fill()), which counts the
/// SYN-ACK resent for a retransmitted SYN as well as those resent by the timer
/// (`num_timeout`, which only /proc/net/tcp shows).
#[test]
fn ss_counts_every_synack_resend_of_a_request() {
    at_each_hz(|hz| {
        let mut h = harness(hz, |_| {});
        h.listen(80);
        let syn = format!(
            "S 0:0(0) win 64240 <mss 1460,sackOK,TS val {} ecr 0,nop,wscale 10>",
            peer_ts(0)
        );
        peer_sends!(h, 0, &syn);
        expect_sent!(h, 0, "S. 0:0(0) ack 1 <...>");
        peer_sends!(h, 600, &syn);
        expect_sent!(h, 600, "S. 0:0(0) ack 1 <...>");
        let t = entry(&h).and_then(|e| e.timer).expect("SYN-RECV timer");
        assert_eq!(t.count, 1, "ss shows num_retrans");
    });
}

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

/// RTO expiries after the TLP until the give-up: retransmission times and the give-up time.
/// `limit_ms` is the bound on now − retrans_stamp; `clamp` applies TCP_USER_TIMEOUT's clamp.
fn rto_schedule(hz: u32, tlp: u64, limit_ms: u64, clamp: bool) -> (Vec<u64>, u64) {
    let rto = lan_rto(hz);
    let mut rtx = vec![fire(hz, tlp, rto)];
    let mut k = 1;
    loop {
        let last = *rtx.last().unwrap();
        let mut len = rto << k;
        if clamp {
            let elapsed = last - rtx[0];
            len = len.min(jif(hz, limit_ms.saturating_sub(elapsed)).max(1));
        }
        let e = fire(hz, last, len);
        if e - rtx[0] >= limit_ms {
            return (rtx, e);
        }
        rtx.push(e);
        k += 1;
    }
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
#[ignore = "not modelled yet: RACK (tcp_recovery.c) is not implemented, so no reordering timer replaces the TLP"]
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

/// The peer's 1-byte segment number `n` (from 1) at `t`.
fn byte_seg(conn: &Conn, n: u32, t: u64) -> String {
    format!("P. {n}:{}(1) ack 1 win 64 {}", n + 1, ts(t, conn.ts(1)))
}

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

/// Closes the peer's window at 50 ms and queues 10 bytes at 100 ms: nothing goes out, the
/// persist timer is armed for max(RTO, 200 ms). Returns the first probe time.
fn zero_window(h: &mut Harness, hz: u32, conn: &Conn) -> u64 {
    peer_sends!(
        h,
        50,
        &format!(". 1:1(0) ack 1 win 0 {}", ts(50, conn.ts(1)))
    );
    h.advance_to(100);
    assert_eq!(h.send(conn.fd, b"0123456789"), Ok(10));
    let t = entry(h).unwrap().timer.expect("persist timer");
    assert_eq!(t.kind, TimerKind::Persist);
    fire(hz, 100, lan_rto(hz).max(jif(hz, 200)))
}

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
