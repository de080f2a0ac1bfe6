//! Handshakes with Linux 6.18's exact segments, for tests that start from ESTABLISHED.
//!
//! The values are those of the reference traces (`shared/reference/kernel/*.json`, e.g.
//! `time_wait__plain`), whose hosts ran Linux 6.18's default `tcp_rmem` (max 32 MiB, hence
//! wscale 10): a client SYN offers `win 64240` (65535 rounded down to the MSS), a server SYN-ACK
//! `win 65160` (rounded down to MSS − 12 for timestamps), and the first scaled windows are
//! `rcv_ssthresh` rounded up to the scale unit (Linux: `__tcp_select_window()`), i.e. 63 for
//! the client (64240 → 64512) and 64 for the server (65160 → 65536).
//!
//! The peer's TSval is [`peer_ts`]`(t)` at `t` ms; the stack's TSval is read from its first SYN
//! or SYN-ACK and, Linux's timestamp clock ticking in milliseconds, is that plus the elapsed ms.

use tcplab_stack::{Event, Fd, TcpState};

use crate::harness::{Harness, Sent};

/// The peer's TSval at `at_ms`.
pub fn peer_ts(at_ms: u64) -> u32 {
    1_000_000u32.wrapping_add(at_ms as u32)
}

/// An established connection made by a fixture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conn {
    pub fd: Fd,
    /// The listener, for a passive open.
    pub listener: Option<Fd>,
    /// The stack's TSval at time 0.
    pub ts0: u32,
}

impl Conn {
    /// The stack's TSval at `at_ms`.
    pub fn ts(&self, at_ms: u64) -> u32 {
        self.ts0.wrapping_add(at_ms as u32)
    }

    /// Asserts `sent` carries the TSval of the millisecond it was sent in.
    #[track_caller]
    pub fn check_ts(&self, sent: &Sent) {
        let want = self.ts(sent.at.as_millis());
        assert_eq!(
            sent.tsval(),
            want,
            "TSval of `{}` sent at {:?}",
            sent.rel,
            sent.at
        );
    }
}

/// The stack connects at 0 ms, the peer (a Linux server) answers at 1 ms, the stack ACKs.
#[track_caller]
pub fn active_open(h: &mut Harness) -> Conn {
    let fd = h.connect();
    h.assert_state(fd, TcpState::SynSent);
    let syn = h.expect_sent(
        0,
        "S 0:0(0) win 64240 <mss 1460,sackOK,TS val * ecr 0,nop,wscale 10>",
    );
    let ts0 = syn.tsval();
    h.peer_sends(
        1,
        &format!(
            "S. 0:0(0) ack 1 win 65160 <mss 1460,sackOK,TS val {} ecr {ts0},nop,wscale 10>",
            peer_ts(1)
        ),
    );
    let conn = Conn {
        fd,
        listener: None,
        ts0,
    };
    h.expect_sent(
        1,
        &format!(
            ". 1:1(0) ack 1 win 63 <nop,nop,TS val {} ecr {}>",
            conn.ts(1),
            peer_ts(1)
        ),
    );
    h.assert_state(fd, TcpState::Established);
    assert!(
        h.events()
            .iter()
            .any(|&(_, f, e)| f == fd && e == Event::Connected)
    );
    conn
}

/// The stack listens on `port`; the peer (a Linux client) sends its SYN at 0 ms and its ACK
/// at 1 ms; the stack accepts.
#[track_caller]
pub fn passive_open(h: &mut Harness, port: u16) -> Conn {
    let listener = h.listen(port);
    h.assert_state(listener, TcpState::Listen);
    h.peer_sends(
        0,
        &format!(
            "S 0:0(0) win 64240 <mss 1460,sackOK,TS val {} ecr 0,nop,wscale 10>",
            peer_ts(0)
        ),
    );
    let syn_ack = h.expect_sent(
        0,
        &format!(
            "S. 0:0(0) ack 1 win 65160 <mss 1460,sackOK,TS val * ecr {},nop,wscale 10>",
            peer_ts(0)
        ),
    );
    let ts0 = syn_ack.tsval();
    h.peer_sends(
        1,
        &format!(
            ". 1:1(0) ack 1 win 63 <nop,nop,TS val {} ecr {ts0}>",
            peer_ts(1)
        ),
    );
    h.expect_quiet(1);
    let fd = h.accept(listener);
    h.assert_state(fd, TcpState::Established);
    h.assert_state(listener, TcpState::Listen);
    Conn {
        fd,
        listener: Some(listener),
        ts0,
    }
}
