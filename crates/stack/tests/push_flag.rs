//! Where PSH goes on the segments of a write, as Linux 6.18's tcp_sendmsg_locked() decides.
//!
//! Linux builds the write queue in skbs of `size_goal` bytes (one MSS here: tcplab sends no
//! TSO bursts) and marks PSH with tcp_mark_push(), which also sets `pushed_seq = write_seq`:
//! - on the skb that ends a write (tcp_push());
//! - on every skb that fills up in the middle of a write while forced_push() holds, that is
//!   `after(write_seq, pushed_seq + (max_window >> 1))`: more than half the largest window the
//!   peer ever offered has been queued since the last PSH;
//! - not on an unsent tail skb that the next write() appends to: its first append clears the
//!   flag (`if (!copied) TCP_SKB_CB(skb)->tcp_flags &= ~TCPHDR_PSH`).

use tcplab_stack::Fd;
use tcplab_testkit::{Harness, expect_sent, peer_sends, peer_ts};

/// Opens a connection to a peer offering window 2896 with window scale 0, like the server of
/// `persist__default` (SO_RCVBUF=4096 on its listener): max_window is 2896.
fn open_small_window(h: &mut Harness) -> Fd {
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
            "S. 0:0(0) ack 1 win 2896 <mss 1460,sackOK,TS val {} ecr {ts0},nop,wscale 0>",
            peer_ts(1)
        )
    );
    expect_sent!(h, 1, ". 1:1(0) ack 1 win 63 <...>");
    fd
}

fn peer_acks(h: &mut Harness, at: u64, ack: u32, win: u32) {
    peer_sends!(
        h,
        at,
        &format!(
            ". 1:1(0) ack {ack} win {win} <nop,nop,TS val {} ecr 0>",
            peer_ts(at)
        )
    );
}

/// Mirrors `persist__default`: the client sendall()s 1 MiB into a window of 2896 and the
/// kernel's segments are `. 1:1449`, `P. 1449:2897`, `. 2897:4345` — PSH in the middle of the
/// write, every other segment, because half of max_window (1448) is one MSS: the skb ending
/// at 1449 is not past `pushed_seq + 1448` = 1449, the one ending at 2897 is, and so on.
#[test]
fn long_write_gets_psh_every_half_max_window() {
    let mut h = Harness::new();
    let fd = open_small_window(&mut h);
    h.advance_to(10);
    let queued = h.send(fd, &vec![b'z'; 1 << 20]).unwrap();
    assert!(
        queued > 8 * 1448,
        "the write fills several segments: {queued}"
    );
    expect_sent!(h, 10, ". 1:1449(1448) ack 1 <...>");
    expect_sent!(h, 10, "P. 1449:2897(1448) ack 1 <...>");
    peer_acks(&mut h, 11, 1449, 2896);
    expect_sent!(h, 11, ". 2897:4345(1448) ack 1 <...>");
    peer_acks(&mut h, 12, 4345, 2896);
    expect_sent!(h, 12, "P. 4345:5793(1448) ack 1 <...>");
    expect_sent!(h, 12, ". 5793:7241(1448) ack 1 <...>");
    let sock = h.stack().sock(fd).unwrap();
    assert_eq!(
        sock.pushed_seq.wrapping_sub(sock.iss),
        1 + queued as u32,
        "tcp_push() at the end of the write sets pushed_seq = write_seq"
    );
}

/// A write that appends to an unsent tail skb clears that skb's PSH: 100 bytes go out at
/// once, the next 100 wait behind them (Nagle), and a 3000-byte write then fills their skb to
/// one MSS. Linux sends `. 101:1549`, not `P.`, and PSH only on the segment ending the write.
/// With max_window 65160 no forced push happens within 3200 bytes.
#[test]
fn appending_to_the_unsent_tail_clears_its_psh() {
    let mut h = Harness::new();
    let conn = tcplab_testkit::active_open(&mut h);
    h.advance_to(10);
    assert_eq!(h.send(conn.fd, &[1; 100]), Ok(100));
    expect_sent!(h, 10, "P. 1:101(100) ack 1 <...>");
    assert_eq!(h.send(conn.fd, &[2; 100]), Ok(100));
    assert_eq!(h.send(conn.fd, &[3; 3000]), Ok(3000));
    // Full segments pass Nagle; the short rest waits for the first segment's ACK.
    expect_sent!(h, 10, ". 101:1549(1448) ack 1 <...>");
    expect_sent!(h, 10, ". 1549:2997(1448) ack 1 <...>");
    peer_acks(&mut h, 11, 101, 64);
    expect_sent!(h, 11, "P. 2997:3201(204) ack 1 <...>");
}

/// A write that ends exactly on a full skb keeps its PSH: the next write starts a new skb
/// (the tail skb has no room left), so nothing clears the flag.
#[test]
fn a_full_tail_skb_keeps_its_psh() {
    let mut h = Harness::new();
    let conn = tcplab_testkit::active_open(&mut h);
    h.advance_to(10);
    assert_eq!(h.send(conn.fd, &[1; 100]), Ok(100));
    expect_sent!(h, 10, "P. 1:101(100) ack 1 <...>");
    assert_eq!(h.send(conn.fd, &[2; 1448]), Ok(1448));
    assert_eq!(h.send(conn.fd, &[3; 100]), Ok(100));
    expect_sent!(h, 10, "P. 101:1549(1448) ack 1 <...>");
    peer_acks(&mut h, 11, 1549, 64);
    expect_sent!(h, 11, "P. 1549:1649(100) ack 1 <...>");
}
