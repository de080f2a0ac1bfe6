//! Data in both directions, segment by segment, against Linux 6.18's behaviour.
//!
//! Windows are those of the reference traces (wscale 10). After a few small segments the
//! server still advertises 64 (`delayed_ack__*`); after full-sized segments the value depends
//! on Linux's truesize accounting (`tcp_grow_window()`, `scaling_ratio`), which no trace pins,
//! so those ACKs leave `win` unchecked.

use tcplab_stack::{Errno, TcpState};
use tcplab_testkit::{
    Harness, active_open, expect_quiet, expect_sent, passive_open, peer_sends, peer_ts,
};

/// Mirrors `delayed_ack__interval_500ms`: a reading server ACKs each 10-byte segment at once
/// (quick-ACK mode after the handshake, and gaps longer than the RTO re-enter it).
#[test]
fn received_data_is_acked_at_once_in_quickack_mode() {
    let mut h = Harness::new();
    let conn = passive_open(&mut h, 1234);
    let fd = conn.fd;
    peer_sends!(
        h,
        10,
        &format!(
            "P. 1:11(10) ack 1 win 63 <nop,nop,TS val {} ecr {}>",
            peer_ts(10),
            conn.ts(0)
        )
    );
    expect_sent!(
        h,
        10,
        &format!(
            ". 1:1(0) ack 11 win 64 <nop,nop,TS val {} ecr {}>",
            conn.ts(10),
            peer_ts(10)
        )
    );
    assert_eq!(h.recv(fd, 1000), Ok(h.peer_data(1, 10)));
    peer_sends!(
        h,
        510,
        &format!(
            "P. 11:21(10) ack 1 win 63 <nop,nop,TS val {} ecr {}>",
            peer_ts(510),
            conn.ts(10)
        )
    );
    expect_sent!(
        h,
        510,
        &format!(
            ". 1:1(0) ack 21 win 64 <nop,nop,TS val {} ecr {}>",
            conn.ts(510),
            peer_ts(510)
        )
    );
    assert_eq!(h.recv(fd, 1000), Ok(h.peer_data(11, 10)));
    assert_eq!(h.recv(fd, 1000), Err(Errno::EAGAIN));
    expect_quiet!(h, 2000);
}

/// Two full-sized segments back to back: each is ACKed at once while in quick-ACK mode.
#[test]
fn full_segments_are_acked_each_in_quickack_mode() {
    let mut h = Harness::new();
    let conn = passive_open(&mut h, 1234);
    let ecr = conn.ts(0);
    peer_sends!(
        h,
        20,
        &format!(
            ". 1:1449(1448) ack 1 win 63 <nop,nop,TS val {} ecr {ecr}>",
            peer_ts(20)
        )
    );
    expect_sent!(
        h,
        20,
        &format!(
            ". 1:1(0) ack 1449 <nop,nop,TS val {} ecr {}>",
            conn.ts(20),
            peer_ts(20)
        )
    );
    peer_sends!(
        h,
        20,
        &format!(
            "P. 1449:2897(1448) ack 1 win 63 <nop,nop,TS val {} ecr {ecr}>",
            peer_ts(20)
        )
    );
    expect_sent!(
        h,
        20,
        &format!(
            ". 1:1(0) ack 2897 <nop,nop,TS val {} ecr {}>",
            conn.ts(20),
            peer_ts(20)
        )
    );
    assert_eq!(h.recv(conn.fd, 4000), Ok(h.peer_data(1, 2896)));
    expect_quiet!(h, 1000);
}

/// Mirrors the first data segment of `retries2__retries2_5`: a 100-byte write goes out at once
/// as `P.` with the client's window (63), and nothing follows once the
/// peer ACKs it.
#[test]
fn small_write_is_sent_at_once_with_psh() {
    let mut h = Harness::new();
    let conn = active_open(&mut h);
    h.advance_to(10);
    let data: Vec<u8> = (0..100u8).collect();
    assert_eq!(h.send(conn.fd, &data), Ok(100));
    let sent = expect_sent!(
        h,
        10,
        &format!(
            "P. 1:101(100) ack 1 win 63 <nop,nop,TS val {} ecr {}>",
            conn.ts(10),
            peer_ts(1)
        )
    );
    assert_eq!(sent.payload(), &data[..]);
    peer_sends!(
        h,
        11,
        &format!(
            ". 1:1(0) ack 101 win 64 <nop,nop,TS val {} ecr {}>",
            peer_ts(11),
            conn.ts(10)
        )
    );
    expect_quiet!(h, 5000);
    h.assert_state(conn.fd, TcpState::Established);
}

/// A 3000-byte write within the initial window of 10 segments leaves as two MSS-sized segments
/// (1460 − 12 bytes of timestamps = 1448) and the 104-byte rest, PSH only on the last one
/// (tcp_sendmsg marks PSH at the end of the write; Nagle does not hold the tail back since no
/// earlier small segment is unacknowledged).
#[test]
fn large_write_is_split_at_mss_with_psh_on_the_last_segment() {
    let mut h = Harness::new();
    let conn = active_open(&mut h);
    h.advance_to(10);
    let data: Vec<u8> = (0..3000u32).map(|i| (i * 7) as u8).collect();
    assert_eq!(h.send(conn.fd, &data), Ok(3000));
    let opts = format!("<nop,nop,TS val {} ecr {}>", conn.ts(10), peer_ts(1));
    let s1 = expect_sent!(h, 10, &format!(". 1:1449(1448) ack 1 win 63 {opts}"));
    let s2 = expect_sent!(h, 10, &format!(". 1449:2897(1448) ack 1 win 63 {opts}"));
    let s3 = expect_sent!(h, 10, &format!("P. 2897:3001(104) ack 1 win 63 {opts}"));
    let wire: Vec<u8> = [s1.payload(), s2.payload(), s3.payload()].concat();
    assert_eq!(wire, data);
    peer_sends!(
        h,
        11,
        &format!(
            ". 1:1(0) ack 3001 win 64 <nop,nop,TS val {} ecr {}>",
            peer_ts(11),
            conn.ts(10)
        )
    );
    expect_quiet!(h, 5000);
}

/// Request and response: the server ACKs the request at once, then its reply carries the ACK
/// again with the data.
#[test]
fn request_and_response() {
    let mut h = Harness::new();
    let conn = passive_open(&mut h, 1234);
    peer_sends!(
        h,
        10,
        &format!(
            "P. 1:101(100) ack 1 win 63 <nop,nop,TS val {} ecr {}>",
            peer_ts(10),
            conn.ts(0)
        )
    );
    expect_sent!(
        h,
        10,
        &format!(
            ". 1:1(0) ack 101 win 64 <nop,nop,TS val {} ecr {}>",
            conn.ts(10),
            peer_ts(10)
        )
    );
    assert_eq!(h.recv(conn.fd, 1000), Ok(h.peer_data(1, 100)));
    h.advance_to(20);
    assert_eq!(h.send(conn.fd, &[0x55; 50]), Ok(50));
    let reply = expect_sent!(
        h,
        20,
        &format!(
            "P. 1:51(50) ack 101 win 64 <nop,nop,TS val {} ecr {}>",
            conn.ts(20),
            peer_ts(10)
        )
    );
    assert_eq!(reply.payload(), &[0x55; 50]);
    peer_sends!(
        h,
        21,
        &format!(
            ". 101:101(0) ack 51 win 63 <nop,nop,TS val {} ecr {}>",
            peer_ts(21),
            conn.ts(20)
        )
    );
    expect_quiet!(h, 5000);
}

/// Out-of-order data is ACKed at once with a SACK block for what arrived (RFC 2018), echoing
/// the TSval of the last in-order segment (RFC 7323 §4.3, Linux tcp_replace_ts_recent(): an
/// out-of-order segment does not update ts_recent); the hole's arrival is ACKed cumulatively
/// and the application reads the bytes in order.
#[test]
fn out_of_order_segment_gets_a_dup_ack_with_sack() {
    let mut h = Harness::new();
    let conn = passive_open(&mut h, 1234);
    let ecr = conn.ts(0);
    peer_sends!(
        h,
        10,
        &format!(
            "P. 101:201(100) ack 1 win 63 <nop,nop,TS val {} ecr {ecr}>",
            peer_ts(10)
        )
    );
    expect_sent!(
        h,
        10,
        &format!(
            ". 1:1(0) ack 1 <nop,nop,TS val {} ecr {},nop,nop,sack 101:201>",
            conn.ts(10),
            peer_ts(1)
        )
    );
    assert_eq!(h.recv(conn.fd, 1000), Err(Errno::EAGAIN));
    peer_sends!(
        h,
        11,
        &format!(
            ". 1:101(100) ack 1 win 63 <nop,nop,TS val {} ecr {ecr}>",
            peer_ts(11)
        )
    );
    expect_sent!(
        h,
        11,
        &format!(
            ". 1:1(0) ack 201 <nop,nop,TS val {} ecr {}>",
            conn.ts(11),
            peer_ts(11)
        )
    );
    assert_eq!(h.recv(conn.fd, 1000), Ok(h.peer_data(1, 200)));
}
