//! Two stacks over a clean simulated link: handshake, transfer and close end to end.

use std::time::Duration;

use tcplab_stack::{Event, Shutdown, TcpState};
use tcplab_testkit::{Bulk, Pair, Side};

use TcpState::*;

/// True if `history` (as `ss` shows it) ends by one of the orderly closes of RFC 9293 §3.6 as
/// Linux runs them, possibly followed by the time-wait entry's expiry. Sampling between
/// events cannot see FIN_WAIT2 when the peer's ACK and FIN arrive in one segment.
fn orderly_close(history: &[TcpState]) -> bool {
    let history = match history {
        [rest @ .., TimeWait, Close] => &history[..rest.len() + 1],
        _ => history,
    };
    [
        &[Established, FinWait1, FinWait2, TimeWait][..],
        &[Established, FinWait1, TimeWait][..],
        &[Established, FinWait1, Closing, TimeWait][..],
        &[Established, CloseWait, LastAck, Close][..],
    ]
    .iter()
    .any(|tail| history.ends_with(tail))
}

/// Handshake, 100 KiB each way, orderly close: every byte arrives in order and both sides end
/// CLOSED or TIME_WAIT through Linux's state sequences.
#[test]
fn handshake_transfer_and_close_over_a_clean_link() {
    let mut pair = Pair::with_seed(1);
    let (a, listener, b) = pair.connect(1234);
    assert_eq!(pair.b().state(listener), Some(Listen));
    assert_eq!(
        pair.state_history(Side::A, a),
        vec![Close, SynSent, Established]
    );
    assert!(
        pair.events_of(Side::A, a)
            .iter()
            .any(|&(_, e)| e == Event::Connected)
    );

    let mut bulk = Bulk::new(1, a, b, 100 * 1024, 100 * 1024);
    bulk.run(&mut pair, Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("{e}\n{}", pair.dump()));

    // Each side shut down writing inside `Bulk` once its data was queued, in whichever order
    // the run produced, so each ends by one of the three orderly sequences.
    pair.run_until_idle();
    let a_states = pair.conn_history(Side::A, a);
    let b_states = pair.conn_history(Side::B, b);
    assert!(
        orderly_close(&a_states),
        "a went through {a_states:?}\n{}",
        pair.dump()
    );
    assert!(
        orderly_close(&b_states),
        "b went through {b_states:?}\n{}",
        pair.dump()
    );
    assert!(
        a_states.last() == Some(&TimeWait) || b_states.last() == Some(&TimeWait),
        "someone closed first, so someone is in TIME_WAIT\n{}",
        pair.dump()
    );
    pair.call_a(|s, now| s.close(now, a)).unwrap();
    pair.call_b(|s, now| s.close(now, b)).unwrap();
    pair.run_until_idle();
}

/// The application on b closes as soon as it reads end of stream, as `time_wait__plain`'s
/// server does, so b's ACK rides on its FIN: a goes FIN_WAIT1 → TIME_WAIT (passing FIN_WAIT2
/// within that segment), b CLOSE_WAIT → LAST_ACK → CLOSED, and the time-wait entry goes 60 s
/// later. b's history starts with its request socket (SYN_RECV).
#[test]
fn close_sequence_and_time_wait_release() {
    let mut pair = Pair::with_seed(2);
    let (a, _, b) = pair.connect(80);
    pair.run_for(Duration::from_millis(300));
    pair.call_a(|s, now| s.close(now, a)).unwrap();
    let mut eof = false;
    let ok = pair.run_while(
        |p| {
            if !eof {
                let mut buf = [0u8; 16];
                eof = p.call_b(|s, now| s.recv(now, b, &mut buf)) == Ok(0);
                if eof {
                    p.call_b(|s, now| s.close(now, b)).unwrap();
                }
            }
            !eof
        },
        Duration::from_secs(5),
    );
    assert!(ok, "b never saw end of stream\n{}", pair.dump());
    pair.run_for(Duration::from_secs(1));
    let a_states = pair.conn_history(Side::A, a);
    let b_states = pair.conn_history(Side::B, b);
    assert_eq!(
        a_states,
        vec![SynSent, Established, FinWait1, TimeWait],
        "{}",
        pair.dump()
    );
    assert_eq!(
        b_states,
        vec![SynRecv, Established, CloseWait, LastAck, Close],
        "{}",
        pair.dump()
    );
    pair.run_for(Duration::from_secs(70));
    assert_eq!(
        pair.conn_history(Side::A, a).last(),
        Some(&Close),
        "TIME_WAIT not over after 70 s\n{}",
        pair.dump()
    );
}

/// The same seed gives the same run, datagram for datagram, even over a faulty link.
#[test]
fn same_seed_same_trace() {
    let run = |seed| {
        let mut pair = Pair::with_seed(seed)
            .loss(0.05)
            .duplicate(0.05)
            .reorder(0.05, Duration::from_millis(3));
        let (a, _, b) = pair.connect(1234);
        let mut bulk = Bulk::new(seed, a, b, 200_000, 50_000);
        bulk.run(&mut pair, Duration::from_secs(120))
            .unwrap_or_else(|e| panic!("{e}\n{}", pair.dump()));
        pair.call_a(|s, now| s.shutdown(now, a, Shutdown::Both))
            .unwrap();
        pair.run_until_idle();
        (pair.trace_hash(), pair.now())
    };
    assert_eq!(run(7), run(7));
}

/// IPv6 end to end.
#[test]
fn transfer_over_ipv6() {
    let mut pair = Pair::with_seed(3).ipv6();
    let (a, _, b) = pair.connect(1234);
    let mut bulk = Bulk::new(3, a, b, 50_000, 50_000);
    bulk.run(&mut pair, Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("{e}\n{}", pair.dump()));
}

/// Corrupted datagrams are dropped on their checksum and the data still arrives intact.
#[test]
fn corruption_is_caught_by_the_checksum() {
    let mut pair = Pair::with_seed(4).corrupt(0.05);
    let (a, _, b) = pair.connect(1234);
    let mut bulk = Bulk::new(4, a, b, 300_000, 300_000);
    bulk.run(&mut pair, Duration::from_secs(300))
        .unwrap_or_else(|e| panic!("{e}\n{}", pair.dump()));
    let corrupted = pair
        .captured()
        .iter()
        .filter(|c| c.note.contains("corrupted"))
        .count();
    assert!(
        corrupted > 0,
        "the link corrupted nothing; the test proves nothing"
    );
}
