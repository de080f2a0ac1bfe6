//! The types of the syscall-shaped API: descriptors, states, events, socket options.

use std::fmt;
use std::net::SocketAddr;

use crate::errno::Errno;

/// A socket descriptor. Numbered like Linux file descriptors: the lowest free number from 3.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Fd(pub u32);

impl fmt::Display for Fd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The address family given to `socket()`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Domain {
    Inet,
    Inet6,
}

/// The eleven TCP states of RFC 9293, plus CLOSED for a socket with no connection.
/// Values are Linux's `TCP_*` numbers (include/net/tcp_states.h), as `/proc/net/tcp` shows them.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum TcpState {
    Established = 1,
    SynSent = 2,
    SynRecv = 3,
    FinWait1 = 4,
    FinWait2 = 5,
    TimeWait = 6,
    Close = 7,
    CloseWait = 8,
    LastAck = 9,
    Listen = 10,
    Closing = 11,
}

impl TcpState {
    /// The name `ss` prints (`ESTAB`, `FIN-WAIT-1`, `TIME-WAIT`, …).
    pub fn ss_name(self) -> &'static str {
        match self {
            TcpState::Established => "ESTAB",
            TcpState::SynSent => "SYN-SENT",
            TcpState::SynRecv => "SYN-RECV",
            TcpState::FinWait1 => "FIN-WAIT-1",
            TcpState::FinWait2 => "FIN-WAIT-2",
            TcpState::TimeWait => "TIME-WAIT",
            TcpState::Close => "UNCONN",
            TcpState::CloseWait => "CLOSE-WAIT",
            TcpState::LastAck => "LAST-ACK",
            TcpState::Listen => "LISTEN",
            TcpState::Closing => "CLOSING",
        }
    }
    /// The name `netstat` prints (`ESTABLISHED`, `FIN_WAIT1`, …).
    pub fn netstat_name(self) -> &'static str {
        match self {
            TcpState::Established => "ESTABLISHED",
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynRecv => "SYN_RECV",
            TcpState::FinWait1 => "FIN_WAIT1",
            TcpState::FinWait2 => "FIN_WAIT2",
            TcpState::TimeWait => "TIME_WAIT",
            TcpState::Close => "CLOSE",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::LastAck => "LAST_ACK",
            TcpState::Listen => "LISTEN",
            TcpState::Closing => "CLOSING",
        }
    }
}

impl fmt::Display for TcpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.netstat_name())
    }
}

/// `shutdown()`'s `how`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Shutdown {
    Read,
    Write,
    Both,
}

/// What happened to a socket, drained with `poll_event`. Events belong to descriptors: once
/// `close()` has run, an orphan's further life is visible in `Stack::sockets` only, as in
/// Linux, where the descriptor is gone too.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Event {
    /// The socket moved from one TCP state to another.
    StateChanged { from: TcpState, to: TcpState },
    /// A listener has a connection ready for `accept()`.
    Acceptable,
    /// Data (or end of stream) can be read.
    Readable,
    /// Send buffer space became available.
    Writable,
    /// A connect finished (`connect()` succeeded).
    Connected,
    /// The connection failed or was torn down with this error (ECONNRESET, ETIMEDOUT, …).
    Error(Errno),
}

/// A socket option with its value, as `setsockopt` takes it and `getsockopt` returns it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SockOpt {
    /// SO_LINGER: `Some(seconds)` is l_onoff=1.
    Linger(Option<u32>),
    KeepAlive(bool),
    /// SO_RCVBUF as the user passed it (Linux stores double, and getsockopt returns the double).
    RcvBuf(u32),
    SndBuf(u32),
    ReuseAddr(bool),
    NoDelay(bool),
    /// TCP_KEEPIDLE in seconds.
    KeepIdle(u32),
    KeepIntvl(u32),
    KeepCnt(u32),
    /// TCP_USER_TIMEOUT in milliseconds (0 = off).
    UserTimeout(u32),
    /// TCP_LINGER2 in seconds.
    Linger2(i32),
    SynCnt(u32),
    QuickAck(u32),
    MaxSeg(u32),
    /// TCP_DEFER_ACCEPT in seconds. Linux stores it as a count of SYN-ACK timeouts, so
    /// getsockopt returns the seconds that count covers (5 reads back as 7, 3 as 3).
    DeferAccept(i32),
    /// SO_ERROR: reading it clears the pending error.
    Error(i32),
}

/// The name of a socket option, for `getsockopt`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum SockOptName {
    Linger,
    KeepAlive,
    RcvBuf,
    SndBuf,
    ReuseAddr,
    NoDelay,
    KeepIdle,
    KeepIntvl,
    KeepCnt,
    UserTimeout,
    Linger2,
    SynCnt,
    QuickAck,
    MaxSeg,
    DeferAccept,
    Error,
}

/// A datagram written by `poll_transmit` into the caller's buffer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Transmit {
    /// Bytes written at the start of the buffer: a whole IPv4 or IPv6 datagram.
    pub len: usize,
    pub src: SocketAddr,
    pub dst: SocketAddr,
}

/// A timer, as a timeline names it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum TimerName {
    /// ICSK_TIME_RETRANS (also SYN retransmission).
    Retransmit,
    /// ICSK_TIME_LOSS_PROBE.
    LossProbe,
    /// ICSK_TIME_PROBE0, the persist timer.
    ZeroWindowProbe,
    /// ICSK_TIME_REO_TIMEOUT.
    ReorderTimeout,
    DelayedAck,
    /// The socket timer: keepalive, or an orphan's long FIN_WAIT2.
    Keepalive,
    /// A request socket's SYN-ACK timer.
    SynAck,
    /// A time-wait record's timer (TIME_WAIT or its FIN_WAIT2 substate).
    TimeWait,
}

impl TimerName {
    /// Linux's name for it.
    pub fn linux_name(self) -> &'static str {
        match self {
            TimerName::Retransmit => "ICSK_TIME_RETRANS",
            TimerName::LossProbe => "ICSK_TIME_LOSS_PROBE",
            TimerName::ZeroWindowProbe => "ICSK_TIME_PROBE0",
            TimerName::ReorderTimeout => "ICSK_TIME_REO_TIMEOUT",
            TimerName::DelayedAck => "ICSK_TIME_DACK",
            TimerName::Keepalive => "sk_timer",
            TimerName::SynAck => "rsk_timer",
            TimerName::TimeWait => "tw_timer",
        }
    }
}

/// What happened inside the stack, for timelines: every socket's state changes (orphans,
/// request and time-wait sockets included) and every timer that fired. Collected only while
/// `Stack::set_tracing(true)`; drained with `Stack::poll_trace`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Trace {
    State {
        local: SocketAddr,
        remote: SocketAddr,
        from: TcpState,
        to: TcpState,
    },
    /// A timer fired; the counts are those before its handler ran (retransmissions for the
    /// transmit slot and SYN-ACKs, probes for persist and keepalive).
    Timer {
        local: SocketAddr,
        remote: SocketAddr,
        timer: TimerName,
        count: u32,
    },
    /// Something Linux does that has no effect in tcplab, shown for the timeline.
    Note {
        local: SocketAddr,
        remote: SocketAddr,
        what: &'static str,
    },
}
