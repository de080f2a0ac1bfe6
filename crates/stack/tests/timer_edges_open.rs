//! The SYN and SYN-ACK timers' rules at their edges, segment by segment, at HZ=250 and
//! HZ=1000: counter and time limits, re-arming, and the request socket's resends
//! (linux-tcp-timers.md §5).
//!
//! Expected times are computed here from the rules, not read from the stack: a timer armed for
//! `n` jiffies runs where Linux's timer wheel puts it (§0: one tick late below 63 ticks, then
//! rounded up past a multiple of 8, 64, 512 ticks), see [`fire`].

use tcplab_stack::ss::TimerKind;
use tcplab_stack::{Domain, Errno, SockOpt, TcpState};
use tcplab_testkit::{expect_quiet, expect_sent, peer_sends, peer_ts};

use TcpState::*;

#[path = "common/timer_edges.rs"]
mod common;

use common::*;

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
