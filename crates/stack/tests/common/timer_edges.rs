//! Helpers shared by the `timer_edges_*` tests: tick arithmetic, the timer wheel's rounding,
//! the fixtures' RTO and views of what the stack did.
//!
//! Each test file uses only part of them.

#![allow(dead_code)]

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use tcplab_stack::ss::{SocketEntry, TimerKind};
use tcplab_stack::{Errno, Event, Fd, Hz, StackConfig, Sysctls, TcpState};
use tcplab_testkit::{Conn, Harness, Sent, peer_sends, peer_ts};

use TcpState::*;

/// Runs `body` at HZ=250 and at HZ=1000, naming the tick rate of a failure.
pub fn at_each_hz(body: impl Fn(u32)) {
    for hz in [250, 1000] {
        if let Err(e) = catch_unwind(AssertUnwindSafe(|| body(hz))) {
            eprintln!("failed at HZ={hz}");
            resume_unwind(e);
        }
    }
}

/// A harness at `hz` with sysctls changed by `sys`.
pub fn harness(hz: u32, sys: impl FnOnce(&mut Sysctls)) -> Harness {
    let mut sysctls = Sysctls::default();
    sys(&mut sysctls);
    Harness::with_config(StackConfig {
        hz: Hz(hz),
        sysctls,
        ..StackConfig::default()
    })
}

/// Linux: msecs_to_jiffies() (rounds up).
pub fn jif(hz: u32, ms: u64) -> u64 {
    (ms * u64::from(hz)).div_ceil(1000)
}

/// Milliseconds per tick.
pub fn tick_ms(hz: u32) -> u64 {
    1000 / u64::from(hz)
}

/// When a timer armed at `at_ms` for `len` jiffies runs, in ms: expiry = jiffies + len,
/// rounded up by the timer wheel to its level's granularity (kernel/time/timer.c).
pub fn fire(hz: u32, at_ms: u64, len: u64) -> u64 {
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
pub fn lan_rto(hz: u32) -> u64 {
    (201_000 * u64::from(hz)).div_ceil(1_000_000)
}

/// Everything the stack sends up to `until_ms`; the clock ends there.
pub fn sent_until(h: &mut Harness, until_ms: u64) -> Vec<Sent> {
    let mut v = Vec::new();
    while let Some(s) = h.next_sent(until_ms) {
        v.push(s.expect("undecodable segment"));
    }
    h.advance_to(until_ms);
    v
}

/// The first error reported on `fd`, with its time in ms.
pub fn error_of(h: &Harness, fd: Fd) -> Option<(u64, Errno)> {
    h.events().iter().find_map(|&(t, f, e)| match e {
        Event::Error(err) if f == fd => Some((t.as_millis(), err)),
        _ => None,
    })
}

/// The socket-table entry of the harness's 4-tuple, if any.
pub fn entry(h: &Harness) -> Option<SocketEntry> {
    let peer = h.peer_addr();
    h.stack()
        .sockets(h.now())
        .into_iter()
        .find(|e| e.peer == Some(peer) && e.state != Listen)
}

/// When the connection was first seen gone, in ms.
pub fn gone_at(h: &Harness) -> Option<u64> {
    h.conn_timeline()
        .iter()
        .find(|&&(_, s)| s == Close)
        .map(|&(t, _)| t.as_millis())
}

/// The peer's segment at `t` with its timestamps, echoing `ecr`.
pub fn ts(t: u64, ecr: u32) -> String {
    format!("<nop,nop,TS val {} ecr {ecr}>", peer_ts(t))
}

/// RTO expiries after the TLP until the give-up: retransmission times and the give-up time.
/// `limit_ms` is the bound on now − retrans_stamp; `clamp` applies TCP_USER_TIMEOUT's clamp.
pub fn rto_schedule(hz: u32, tlp: u64, limit_ms: u64, clamp: bool) -> (Vec<u64>, u64) {
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

/// The peer's 1-byte segment number `n` (from 1) at `t`.
pub fn byte_seg(conn: &Conn, n: u32, t: u64) -> String {
    format!("P. {n}:{}(1) ack 1 win 64 {}", n + 1, ts(t, conn.ts(1)))
}

/// Closes the peer's window at 50 ms and queues 10 bytes at 100 ms: nothing goes out, the
/// persist timer is armed for max(RTO, 200 ms). Returns the first probe time.
pub fn zero_window(h: &mut Harness, hz: u32, conn: &Conn) -> u64 {
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
