//! TCP_DEFER_ACCEPT on a listener, segment by segment, as Linux 6.18 does it.
//!
//! The option's seconds become a count of SYN-ACK timeouts (secs_to_retrans(): 3 s → 2,
//! 5 s → 3). While a request has seen fewer timeouts than that, a bare final ACK is dropped
//! and marked (tcp_check_req(): `inet_rsk(req)->acked = 1`); data (or a FIN) creates the child
//! at once. The SYN-ACK timer keeps running with its usual backoff, but a marked request
//! resends only from timeout `defer - 1` on and expires only once both tcp_synack_retries and
//! the deferral are used up (syn_ack_recalc()).
//!
//! The first two tests are gVisor's `tcp_defer_accept.pkt` and
//! `tcp_defer_accept_timeout.pkt` (shared/conformance/packetdrill/extra/gvisor), which pass on
//! Linux. Times are exact at HZ=250 with the timer wheel: the request timer armed at 0 for 250
//! ticks runs at tick 256 (1.024 s), re-armed for 500 ticks at tick 760 (3.040 s), for 1000 at
//! tick 1792 (7.168 s), for 2000 at 3840 (15.36 s), for 4000 at 7872 (31.488 s), for 8000 at
//! 16384 (65.536 s).

use std::net::SocketAddr;

use tcplab_stack::ss::TimerKind;
use tcplab_stack::{Domain, Errno, Fd, Hz, SockOpt, SockOptName, StackConfig, TcpState};
use tcplab_testkit::{Harness, expect_quiet, expect_sent, passive_open, peer_sends, peer_ts};

use TcpState::*;

/// The SYN of the gVisor scripts (no timestamps).
const SYN: &str = "S 0:0(0) win 32792 <mss 1460,sackOK,nop,nop,nop,wscale 7>";
/// Linux's answer to it: 64240 (65535 rounded down to the MSS), wscale 10 from tcp_rmem.
const SYN_ACK: &str = "S. 0:0(0) ack 1 win 64240 <mss 1460,nop,nop,sackOK,nop,wscale 10>";
const BARE_ACK: &str = ". 1:1(0) ack 1 win 257";

/// socket, setsockopt(TCP_DEFER_ACCEPT, `secs`), bind to port 80, listen(1), as the scripts
/// do; the harness sends to port 80.
fn defer_listener(h: Harness, secs: i32) -> (Harness, Fd) {
    let mut h = h.stack_port(80);
    let fd = h.call(|s, _| s.socket(Domain::Inet)).unwrap();
    h.call(|s, now| s.setsockopt(now, fd, SockOpt::DeferAccept(secs)))
        .unwrap();
    let addr = SocketAddr::new(h.stack_ip(), 80);
    h.call(|s, _| s.bind(fd, addr)).unwrap();
    h.call(|s, _| s.listen(fd, 1)).unwrap();
    (h, fd)
}

fn harness_at(hz: u32) -> Harness {
    Harness::with_config(StackConfig {
        hz: Hz(hz),
        ..StackConfig::default()
    })
}

fn accept(h: &mut Harness, l: Fd) -> Result<Fd, Errno> {
    h.call(|s, now| s.accept(now, l)).map(|(fd, _)| fd)
}

fn defer_of(h: &mut Harness, fd: Fd) -> SockOpt {
    h.call(|s, _| s.getsockopt(fd, SockOptName::DeferAccept))
        .unwrap()
}

/// The request socket's row in `ss`: (timer count = num_retrans, ms to expiry).
fn request_row(h: &Harness) -> Option<(u32, u64)> {
    let peer = h.peer_addr();
    h.stack()
        .sockets(h.now())
        .into_iter()
        .find(|e| e.peer == Some(peer) && e.state == SynRecv)
        .map(|e| {
            let t = e.timer.expect("SYN-RECV timer");
            assert_eq!(t.kind, TimerKind::On);
            (t.count, t.expires_ms)
        })
}

/// gVisor `tcp_defer_accept.pkt`: with TCP_DEFER_ACCEPT=5 (3 timeouts) the bare ACKs at 0 and
/// 2.6 s are dropped and accept() says EAGAIN; the timeout at 1.024 s resends nothing (the
/// request is marked acked and 0 < 3 - 1); data at 2.8 s creates the child, which ACKs it at
/// once (quick-ACK mode of a new connection), and accept() returns it with the 4 bytes.
#[test]
fn bare_acks_are_dropped_until_data_arrives() {
    let (mut h, l) = defer_listener(Harness::new(), 5);
    assert_eq!(defer_of(&mut h, l), SockOpt::DeferAccept(7));
    peer_sends!(h, 0, SYN);
    expect_sent!(h, 0, SYN_ACK);
    peer_sends!(h, 0, BARE_ACK);
    expect_quiet!(h, 100);
    assert_eq!(accept(&mut h, l), Err(Errno::EAGAIN));
    assert_eq!(
        h.stack().counts(),
        (0, 1, 0),
        "no child, the request lives on"
    );
    // The timer ran at 1.024 s without a resend and was re-armed for 500 ticks (tick 756).
    h.advance_to(1100);
    assert_eq!(request_row(&h), Some((0, 3024 - 1100)));
    peer_sends!(h, 2600, BARE_ACK);
    expect_quiet!(h, 2700);
    assert_eq!(accept(&mut h, l), Err(Errno::EAGAIN));
    peer_sends!(h, 2800, ". 1:5(4) ack 1 win 257");
    expect_sent!(h, 2800, ". 1:1(0) ack 5 win 63");
    let fd = accept(&mut h, l).expect("the child is in the accept queue");
    h.assert_state(fd, Established);
    assert_eq!(defer_of(&mut h, fd), SockOpt::DeferAccept(0));
    assert_eq!(h.recv(fd, 4), Ok(h.peer_data(1, 4)));
    h.close(fd).unwrap();
    expect_sent!(h, 2800, "F. 1:1(0) ack 5 win 63");
    peer_sends!(h, 2800, "F. 5:5(0) ack 2 win 257");
    expect_sent!(h, 2800, ". 2:2(0) ack 6 win 63");
    assert_eq!(
        h.conn_history(),
        vec![SynRecv, Established, FinWait1, TimeWait]
    );
}

/// gVisor `tcp_defer_accept_timeout.pkt`: with TCP_DEFER_ACCEPT=3 (2 timeouts) the bare ACKs
/// at 0 and 2.6 s are dropped; the timeout at 1.024 s is silent, the one at 3.040 s
/// (num_timeout 1 = defer - 1) resends the SYN-ACK "as a last ditch attempt", and a bare ACK
/// after it (num_timeout 2, no longer below the deferral) creates the child. The script allows
/// the resend 0.35–2.35 s after 2.7 s with packetdrill's 100 ms tolerance.
#[test]
fn bare_ack_after_the_last_ditch_synack_is_accepted() {
    let (mut h, l) = defer_listener(Harness::new(), 3);
    assert_eq!(defer_of(&mut h, l), SockOpt::DeferAccept(3));
    peer_sends!(h, 0, SYN);
    expect_sent!(h, 0, SYN_ACK);
    peer_sends!(h, 0, BARE_ACK);
    expect_quiet!(h, 100);
    assert_eq!(accept(&mut h, l), Err(Errno::EAGAIN));
    peer_sends!(h, 2600, BARE_ACK);
    expect_quiet!(h, 2700);
    assert_eq!(accept(&mut h, l), Err(Errno::EAGAIN));
    expect_sent!(h, 3040, SYN_ACK);
    // ss counts the resend (num_retrans 1); the timer is re-armed for 1000 ticks (tick 1760).
    assert_eq!(request_row(&h), Some((1, 7040 - 3040)));
    peer_sends!(h, 3040, BARE_ACK);
    expect_quiet!(h, 3040);
    let fd = accept(&mut h, l).expect("the bare ACK completed the handshake");
    h.assert_state(fd, Established);
    h.close(fd).unwrap();
    expect_sent!(h, 3040, "F. 1:1(0) ack 1 win 63");
    peer_sends!(h, 3040, "F. 1:1(0) ack 2 win 257");
    expect_sent!(h, 3040, ". 2:2(0) ack 2 win 63");
}

/// The same at HZ=1000: the 1000-tick timer runs at 1.024 s (second wheel level, 64-tick
/// buckets), the 2000-tick one at 3.072 s.
#[test]
fn last_ditch_synack_at_hz_1000() {
    let (mut h, l) = defer_listener(harness_at(1000), 3);
    peer_sends!(h, 0, SYN);
    expect_sent!(h, 0, SYN_ACK);
    peer_sends!(h, 0, BARE_ACK);
    peer_sends!(h, 2600, BARE_ACK);
    expect_quiet!(h, 3071);
    expect_sent!(h, 3072, SYN_ACK);
    peer_sends!(h, 3072, BARE_ACK);
    assert!(accept(&mut h, l).is_ok());
}

/// A first ACK that carries data is not bare: the child is created at once and ACKs it, with
/// no bare ACK before it; nor is an ACK carrying only a FIN (its end_seq is rcv_isn + 2), which
/// leaves the child in CLOSE_WAIT.
#[test]
fn data_or_fin_on_the_first_ack_creates_the_child_at_once() {
    let (mut h, l) = defer_listener(Harness::new(), 5);
    peer_sends!(h, 0, SYN);
    expect_sent!(h, 0, SYN_ACK);
    peer_sends!(h, 10, "P. 1:101(100) ack 1 win 257");
    expect_sent!(h, 10, ". 1:1(0) ack 101 win 63");
    let fd = accept(&mut h, l).expect("child");
    assert_eq!(h.recv(fd, 1000), Ok(h.peer_data(1, 100)));
    h.assert_state(fd, Established);

    let (mut h, l) = defer_listener(Harness::new().peer_port(8081), 5);
    peer_sends!(h, 0, SYN);
    expect_sent!(h, 0, SYN_ACK);
    peer_sends!(h, 10, "F. 1:1(0) ack 1 win 257");
    let fd = accept(&mut h, l).expect("child");
    h.assert_state(fd, CloseWait);
    // tcp_fin() entered pingpong mode and no data set an ATO: the delayed ACK is armed for
    // 0 ticks and runs at the next tick.
    expect_sent!(h, 12, ". 1:1(0) ack 2 win 63");
}

/// A request whose peer never ACKs is not marked: with the option set it resends and expires
/// exactly as without it (1.024, 3.04, 7.168, 15.36, 31.488 s, gone at 65.536 s).
#[test]
fn unacked_request_keeps_the_plain_synack_schedule() {
    let (mut h, _) = defer_listener(Harness::new(), 5);
    peer_sends!(h, 0, SYN);
    expect_sent!(h, 0, SYN_ACK);
    for at in [1024, 3040, 7168, 15360, 31488] {
        expect_sent!(h, at, SYN_ACK);
    }
    expect_quiet!(h, 65535);
    assert!(request_row(&h).is_some());
    expect_quiet!(h, 65536);
    assert!(request_row(&h).is_none(), "expired at the fifth timeout");
}

/// A marked request with TCP_DEFER_ACCEPT=5 (3 timeouts) and timestamps: silent at 1.024 and
/// 3.04 s, resends from the timeout with num_timeout 2 (7.168 s) on, each SYN-ACK echoing the
/// TSval of the last bare ACK (tcp_check_req() stores req->ts_recent before dropping it), and
/// expires at 65.536 s like an unmarked one (5 ≥ tcp_synack_retries and 5 ≥ 3).
#[test]
fn marked_request_resends_from_defer_minus_one_and_echoes_the_last_ack() {
    let (mut h, _) = defer_listener(Harness::new(), 5);
    peer_sends!(
        h,
        0,
        &format!(
            "S 0:0(0) win 64240 <mss 1460,sackOK,TS val {} ecr 0,nop,wscale 10>",
            peer_ts(0)
        )
    );
    let syn_ack = expect_sent!(
        h,
        0,
        &format!(
            "S. 0:0(0) ack 1 win 65160 <mss 1460,sackOK,TS val * ecr {},nop,wscale 10>",
            peer_ts(0)
        )
    );
    let ts0 = syn_ack.tsval();
    let ack = |t: u64| {
        format!(
            ". 1:1(0) ack 1 win 63 <nop,nop,TS val {} ecr {ts0}>",
            peer_ts(t)
        )
    };
    peer_sends!(h, 1, &ack(1));
    peer_sends!(h, 5000, &ack(5000));
    expect_quiet!(h, 7167);
    assert_eq!(request_row(&h).map(|r| r.0), Some(0), "nothing resent yet");
    for at in [7168, 15360, 31488] {
        let again = expect_sent!(
            h,
            at,
            &format!(
                "S. 0:0(0) ack 1 win 65160 <mss 1460,sackOK,TS val {} ecr {},nop,wscale 10>",
                ts0 + at as u32,
                peer_ts(5000)
            )
        );
        assert_eq!(again.at.as_millis(), at);
    }
    assert_eq!(request_row(&h).map(|r| r.0), Some(3));
    expect_quiet!(h, 65535);
    assert!(request_row(&h).is_some());
    expect_quiet!(h, 65536);
    assert!(request_row(&h).is_none(), "expired");
    assert_eq!(h.stack().counts(), (0, 0, 0));
}

/// A deferral longer than tcp_synack_retries keeps a marked request past its usual expiry:
/// TCP_DEFER_ACCEPT=60 is 6 timeouts, so the five timeouts up to 31.488 s are silent, the
/// sixth (65.536 s, num_timeout 5 = defer - 1) resends, and the request expires at the next,
/// 16000 ticks later in 512-tick buckets (131.072 s) — unless a bare ACK comes first, which
/// num_timeout 6 no longer defers.
#[test]
fn long_deferral_outlives_synack_retries() {
    let (mut h, l) = defer_listener(Harness::new(), 60);
    assert_eq!(defer_of(&mut h, l), SockOpt::DeferAccept(63));
    peer_sends!(h, 0, SYN);
    expect_sent!(h, 0, SYN_ACK);
    peer_sends!(h, 0, BARE_ACK);
    expect_quiet!(h, 65535);
    expect_sent!(h, 65536, SYN_ACK);
    // ss counts down to the stored expiry, tick 16384 + 16000 (129.536 s).
    assert_eq!(request_row(&h), Some((1, 129_536 - 65_536)));
    expect_quiet!(h, 131_071);
    assert!(request_row(&h).is_some());
    expect_quiet!(h, 131_072);
    assert!(request_row(&h).is_none(), "expired without a reset");

    let (mut h, l) = defer_listener(Harness::new(), 60);
    peer_sends!(h, 0, SYN);
    expect_sent!(h, 0, SYN_ACK);
    peer_sends!(h, 0, BARE_ACK);
    expect_sent!(h, 65536, SYN_ACK);
    peer_sends!(h, 65600, BARE_ACK);
    expect_quiet!(h, 65600);
    assert!(accept(&mut h, l).is_ok());
}

/// getsockopt returns retrans_to_secs(secs_to_retrans(v)): the seconds the SYN-ACK timeouts
/// (1 s, doubling, capped at 120 s) add up to. Negative and zero turn the option off; the count
/// saturates at 255. The value is kept from a fresh socket through listen(), can be changed
/// on a listener, and an accepted child starts without it.
#[test]
fn getsockopt_rounds_up_to_whole_timeouts() {
    let mut h = Harness::new();
    let fd = h.call(|s, _| s.socket(Domain::Inet)).unwrap();
    assert_eq!(defer_of(&mut h, fd), SockOpt::DeferAccept(0));
    for (set, get) in [
        (0, 0),
        (-5, 0),
        (1, 1),
        (2, 3),
        (3, 3),
        (4, 7),
        (5, 7),
        (7, 7),
        (8, 15),
        (30, 31),
        (100, 127),
        (128, 247),
        (200, 247),
        (i32::MAX, 29_887),
    ] {
        h.call(|s, now| s.setsockopt(now, fd, SockOpt::DeferAccept(set)))
            .unwrap();
        assert_eq!(defer_of(&mut h, fd), SockOpt::DeferAccept(get), "set {set}");
    }

    let (mut h, l) = defer_listener(Harness::new(), 5);
    assert_eq!(defer_of(&mut h, l), SockOpt::DeferAccept(7));
    h.call(|s, now| s.setsockopt(now, l, SockOpt::DeferAccept(10)))
        .unwrap();
    assert_eq!(defer_of(&mut h, l), SockOpt::DeferAccept(15));
    // Turned off on the listener, a bare ACK completes the handshake again.
    h.call(|s, now| s.setsockopt(now, l, SockOpt::DeferAccept(0)))
        .unwrap();
    peer_sends!(h, 0, SYN);
    expect_sent!(h, 0, SYN_ACK);
    peer_sends!(h, 1, BARE_ACK);
    expect_quiet!(h, 1000);
    let fd = accept(&mut h, l).expect("child");
    assert_eq!(defer_of(&mut h, fd), SockOpt::DeferAccept(0));
}

/// A listener without the option is unchanged: the bare ACK completes the handshake at once
/// (the fixture's Linux handshake), and getsockopt reads 0.
#[test]
fn listener_without_the_option_accepts_a_bare_ack() {
    let mut h = Harness::new();
    let conn = passive_open(&mut h, 80);
    let l = conn.listener.unwrap();
    assert_eq!(defer_of(&mut h, l), SockOpt::DeferAccept(0));
    assert_eq!(h.conn_history(), vec![SynRecv, Established]);
    expect_quiet!(h, 1000);
}
