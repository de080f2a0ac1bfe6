//! Segment-level tests: one stack under test and a peer scripted in packetdrill's notation.
//!
//! ```no_run
//! use tcplab_testkit::{Harness, expect_sent, peer_sends};
//!
//! let mut h = Harness::new();
//! let fd = h.connect();
//! let syn = expect_sent!(h, 0, "S 0:0(0) win 64240 <mss 1460,sackOK,TS val * ecr 0,nop,wscale 10>");
//! let ts = syn.tsval();
//! peer_sends!(h, 1, &format!("S. 0:0(0) ack 1 win 65160 <mss 1460,sackOK,TS val 500 ecr {ts},nop,wscale 10>"));
//! expect_sent!(h, 1, ". 1:1(0) ack 1 win 63 <nop,nop,TS val * ecr 500>");
//! # let _ = fd;
//! ```
//!
//! Numbers are relative as in packetdrill: the peer's from the ISN the test chose
//! ([`Harness::peer_isn`]), the stack's from the ISN in its latest SYN (absolute until it sent
//! one); `ack` fields and SACK blocks map the other way. Times are milliseconds of virtual time.
//!
//! Guarantees: the stack's timers run only when a call asks time to move forward, and then in
//! order, one expiry at a time; everything the stack sends is kept until an expectation takes
//! it, so nothing goes unseen; a failed expectation panics at the test's line with the expected
//! and the actual segment in the same notation, their times, and the whole trace so far.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::ops::{RangeFull, RangeInclusive};

use tcplab_stack::{Domain, Errno, Event, Fd, Instant, Shutdown, Stack, StackConfig, TcpState};
use tcplab_wire::tcp::{SackBlock, TcpFlags, TcpOption};

use crate::codec::{self, DecodeError, Segment};
use crate::notation::{RelSegment, SegmentSpec};
use crate::rng::Pattern;

/// When an expected segment may be sent, in milliseconds: `204` (exactly), `200..=210`,
/// [`around`]`(204, 4)`, or `..` (any time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct At {
    pub from: Instant,
    pub to: Instant,
}

impl From<u64> for At {
    fn from(ms: u64) -> At {
        At {
            from: Instant::from_millis(ms),
            to: Instant::from_millis(ms),
        }
    }
}

impl From<RangeInclusive<u64>> for At {
    fn from(r: RangeInclusive<u64>) -> At {
        At {
            from: Instant::from_millis(*r.start()),
            to: Instant::from_millis(*r.end()),
        }
    }
}

impl From<RangeFull> for At {
    fn from(_: RangeFull) -> At {
        At {
            from: Instant::ZERO,
            to: Instant::from_nanos(u64::MAX),
        }
    }
}

/// `ms` give or take `tolerance` milliseconds.
pub fn around(ms: u64, tolerance: u64) -> At {
    At {
        from: Instant::from_millis(ms.saturating_sub(tolerance)),
        to: Instant::from_millis(ms + tolerance),
    }
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.from == self.to {
            write!(f, "{}", ms(self.from))
        } else if self.to.as_nanos() == u64::MAX {
            write!(f, "any time from {}", ms(self.from))
        } else {
            write!(f, "{}..={}", ms(self.from), ms(self.to))
        }
    }
}

/// Milliseconds with microsecond precision, as failures print times.
fn ms(t: Instant) -> String {
    format!("{}.{:03} ms", t.as_micros() / 1000, t.as_micros() % 1000)
}

/// A segment the stack sent, as an expectation returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    pub at: Instant,
    /// In relative numbers.
    pub rel: RelSegment,
    pub segment: Segment,
}

impl Sent {
    pub fn payload(&self) -> &[u8] {
        &self.segment.payload
    }

    /// The segment's TSval, for the peer to echo; panics if it carries no timestamps.
    #[track_caller]
    pub fn tsval(&self) -> u32 {
        self.segment
            .options
            .iter()
            .find_map(|o| match o {
                TcpOption::Timestamps { tsval, .. } => Some(*tsval),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no timestamps option in {}", self.rel))
    }
}

struct Outbound {
    at: Instant,
    decoded: Result<(Segment, RelSegment), DecodeError>,
}

/// One stack and a scripted peer. See the module docs.
pub struct Harness {
    stack: Stack,
    now: Instant,
    stack_ip: IpAddr,
    peer_ip: IpAddr,
    stack_port: Option<u16>,
    peer_port: u16,
    peer_isn: u32,
    stack_isn: Option<u32>,
    peer_window: u16,
    ident: u16,
    pending: VecDeque<Outbound>,
    trace: Vec<String>,
    events: Vec<(Instant, Fd, Event)>,
    /// What `ss` would have shown of each 4-tuple, sampled after every input and command.
    ss: SsLog,
    buf: Vec<u8>,
}

impl fmt::Debug for Harness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Harness")
            .field("now", &self.now)
            .field(
                "stack",
                &SocketAddr::new(self.stack_ip, self.stack_port.unwrap_or(0)),
            )
            .field("peer", &SocketAddr::new(self.peer_ip, self.peer_port))
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl Default for Harness {
    fn default() -> Self {
        Harness::new()
    }
}

/// Steps at one instant before the harness decides the stack spins on a timer already due.
const MAX_STALLED_TIMERS: u32 = 100_000;

impl Harness {
    /// The stack at 10.0.0.1 with Linux defaults, the peer at 10.0.0.2:8080 with ISN 1e9.
    pub fn new() -> Harness {
        Harness::with_config(StackConfig::default())
    }

    /// Like [`Harness::new`] over IPv6: stack fd00::1, peer fd00::2.
    pub fn v6() -> Harness {
        let stack = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1));
        let peer = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2));
        Harness::build(
            StackConfig {
                addrs: vec![stack],
                ..Default::default()
            },
            peer,
        )
    }

    /// A stack built from `config`; empty `addrs` become 10.0.0.1.
    pub fn with_config(mut config: StackConfig) -> Harness {
        if config.addrs.is_empty() {
            config.addrs = vec![IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))];
        }
        let peer = if config.addrs[0].is_ipv4() {
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2))
        } else {
            IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2))
        };
        Harness::build(config, peer)
    }

    fn build(config: StackConfig, peer_ip: IpAddr) -> Harness {
        Harness {
            stack_ip: config.addrs[0],
            stack: Stack::new(config),
            now: Instant::ZERO,
            peer_ip,
            stack_port: None,
            peer_port: 8080,
            peer_isn: 1_000_000_000,
            stack_isn: None,
            peer_window: 65535,
            ident: 0,
            pending: VecDeque::new(),
            trace: Vec::new(),
            events: Vec::new(),
            ss: SsLog::default(),
            buf: vec![0; 65536],
        }
    }

    /// The peer's initial sequence number: relative 0 on its side.
    pub fn peer_isn(mut self, isn: u32) -> Harness {
        self.peer_isn = isn;
        self
    }

    pub fn peer_port(mut self, port: u16) -> Harness {
        self.peer_port = port;
        self
    }

    /// The stack's port, for tests that send to it before it sent anything.
    pub fn stack_port(mut self, port: u16) -> Harness {
        self.stack_port = Some(port);
        self
    }

    /// The window of peer segments written without `win` (default 65535).
    pub fn peer_window(mut self, win: u16) -> Harness {
        self.peer_window = win;
        self
    }

    pub fn now(&self) -> Instant {
        self.now
    }

    pub fn stack(&self) -> &Stack {
        &self.stack
    }

    pub fn peer_addr(&self) -> SocketAddr {
        SocketAddr::new(self.peer_ip, self.peer_port)
    }

    pub fn stack_ip(&self) -> IpAddr {
        self.stack_ip
    }

    pub fn domain(&self) -> Domain {
        if self.stack_ip.is_ipv4() {
            Domain::Inet
        } else {
            Domain::Inet6
        }
    }

    pub fn state(&self, fd: Fd) -> Option<TcpState> {
        self.stack.state(fd)
    }

    /// Every event the stack reported, with its time.
    pub fn events(&self) -> &[(Instant, Fd, Event)] {
        &self.events
    }

    /// The states `fd` went through by its `StateChanged` events: the first `from`, then each
    /// `to`.
    pub fn state_history(&self, fd: Fd) -> Vec<TcpState> {
        crate::pair::state_history(
            self.events
                .iter()
                .filter(|(_, f, _)| *f == fd)
                .map(|(_, _, e)| *e),
        )
    }

    /// The states the harness's connection (stack address and port, peer address and port)
    /// went through as `ss` shows them: sampled after every input and command, so states
    /// entered and left within one segment are not seen; `Close` once it is gone. Unlike
    /// [`Harness::state_history`] it follows the connection after `close()` and into TIME_WAIT.
    pub fn conn_history(&self) -> Vec<TcpState> {
        let local = SocketAddr::new(self.stack_ip, self.stack_port.unwrap_or(0));
        self.ss.history(local, self.peer_addr())
    }

    /// [`Harness::conn_history`] with the time each state was first seen.
    pub fn conn_timeline(&self) -> Vec<(Instant, TcpState)> {
        let local = SocketAddr::new(self.stack_ip, self.stack_port.unwrap_or(0));
        self.ss.timeline(local, self.peer_addr())
    }

    /// Asserts the connection's `ss` history ends with `tail`, printing the trace if not.
    #[track_caller]
    pub fn assert_conn_history_ends_with(&self, tail: &[TcpState]) {
        let history = self.conn_history();
        if !history.ends_with(tail) {
            self.fail(&format!(
                "connection states {history:?} do not end with {tail:?}"
            ));
        }
    }

    /// Asserts `fd`'s state, printing the trace if it differs.
    #[track_caller]
    pub fn assert_state(&self, fd: Fd, want: TcpState) {
        let got = self.stack.state(fd);
        if got != Some(want) {
            self.fail(&format!("fd {fd} is in {got:?}, expected {want:?}"));
        }
    }

    /// Every segment so far, `<` from the peer and `>` from the stack, with times.
    pub fn trace(&self) -> &[String] {
        &self.trace
    }

    /// The bytes the peer sends at relative sequence numbers `from..from + len`.
    pub fn peer_data(&self, from: u32, len: usize) -> Vec<u8> {
        let mut out = vec![0; len];
        Pattern::new(u64::from(self.peer_isn)).fill(u64::from(from), &mut out);
        out
    }

    /// Runs a socket call at the current time and collects what the stack sent.
    pub fn call<R>(&mut self, f: impl FnOnce(&mut Stack, Instant) -> R) -> R {
        let r = f(&mut self.stack, self.now);
        self.drain();
        r
    }

    /// socket + bind(stack address, `port`) + listen(128); the harness then sends to `port`.
    #[track_caller]
    pub fn listen(&mut self, port: u16) -> Fd {
        let (domain, addr) = (self.domain(), SocketAddr::new(self.stack_ip, port));
        let fd = self.call(|s, _| -> Result<Fd, Errno> {
            let fd = s.socket(domain)?;
            s.bind(fd, addr)?;
            s.listen(fd, 128)?;
            Ok(fd)
        });
        self.stack_port = Some(port);
        fd.unwrap_or_else(|e| self.fail(&format!("listen on {addr} failed: {e:?}")))
    }

    /// socket + non-blocking connect to the peer; `EINPROGRESS` is success.
    #[track_caller]
    pub fn connect(&mut self) -> Fd {
        let (domain, peer) = (self.domain(), self.peer_addr());
        let fd = self.call(|s, now| -> Result<Fd, Errno> {
            let fd = s.socket(domain)?;
            match s.connect(now, fd, peer) {
                Ok(()) | Err(Errno::EINPROGRESS) => Ok(fd),
                Err(e) => Err(e),
            }
        });
        fd.unwrap_or_else(|e| self.fail(&format!("connect to {peer} failed: {e:?}")))
    }

    #[track_caller]
    pub fn accept(&mut self, listener: Fd) -> Fd {
        match self.call(|s, now| s.accept(now, listener)) {
            Ok((fd, _)) => fd,
            Err(e) => self.fail(&format!("accept on {listener} failed: {e:?}")),
        }
    }

    pub fn send(&mut self, fd: Fd, data: &[u8]) -> Result<usize, Errno> {
        self.call(|s, now| s.send(now, fd, data))
    }

    /// Reads up to `max` bytes.
    pub fn recv(&mut self, fd: Fd, max: usize) -> Result<Vec<u8>, Errno> {
        let mut buf = vec![0; max];
        let n = self.call(|s, now| s.recv(now, fd, &mut buf))?;
        buf.truncate(n);
        Ok(buf)
    }

    pub fn shutdown(&mut self, fd: Fd, how: Shutdown) -> Result<(), Errno> {
        self.call(|s, now| s.shutdown(now, fd, how))
    }

    pub fn close(&mut self, fd: Fd) -> Result<(), Errno> {
        self.call(|s, now| s.close(now, fd))
    }

    /// Runs the stack's timers up to `at_ms`, then sets the clock there.
    #[track_caller]
    pub fn advance_to(&mut self, at_ms: u64) {
        let target = Instant::from_millis(at_ms);
        if target < self.now {
            self.fail(&format!(
                "time only moves forward: asked for {}",
                ms(target)
            ));
        }
        self.run_timers(target, false);
        self.now = target;
    }

    /// Fires due timers in order up to `limit`; with `until_output`, stops after the first
    /// expiry that made the stack send.
    fn run_timers(&mut self, limit: Instant, until_output: bool) {
        let mut stalled = 0;
        while let Some(t) = self.stack.poll_timeout().filter(|&t| t <= limit) {
            if t > self.now {
                self.now = t;
                stalled = 0;
            } else {
                stalled += 1;
                assert!(
                    stalled < MAX_STALLED_TIMERS,
                    "the stack keeps asking for a timer already due at {}\n{}",
                    ms(self.now),
                    self.trace.join("\n")
                );
            }
            self.stack.handle_timeout(self.now);
            self.drain();
            if until_output && !self.pending.is_empty() {
                return;
            }
        }
    }

    fn drain(&mut self) {
        while let Some(t) = self.stack.poll_transmit(self.now, &mut self.buf) {
            let bytes = self.buf[..t.len].to_vec();
            self.record_outbound(&bytes);
        }
        while let Some((fd, event)) = self.stack.poll_event() {
            self.events.push((self.now, fd, event));
        }
        self.ss.sample(self.now, &self.stack);
    }

    fn record_outbound(&mut self, bytes: &[u8]) {
        let decoded = codec::decode(bytes).map(|seg| {
            if seg.has(TcpFlags::SYN) {
                self.stack_isn = Some(seg.seq);
            }
            if self.stack_port.is_none() {
                self.stack_port = Some(seg.src.port());
            }
            let rel = self.outbound_rel(&seg);
            (seg, rel)
        });
        let text = match &decoded {
            Ok((_, rel)) => rel.to_string(),
            Err(e) => format!("[{e}]"),
        };
        self.trace.push(format!("{:>14} > {text}", ms(self.now)));
        self.pending.push_back(Outbound {
            at: self.now,
            decoded,
        });
    }

    fn outbound_rel(&self, seg: &Segment) -> RelSegment {
        let base = self.stack_isn.unwrap_or(0);
        RelSegment {
            flags: seg.flags,
            seq: seg.seq.wrapping_sub(base),
            len: seg.payload.len() as u32,
            ack: seg.ack.wrapping_sub(self.peer_isn),
            win: seg.window,
            options: shift_sack(&seg.options, self.peer_isn.wrapping_neg()),
        }
    }

    /// Injects a segment from the peer at `at_ms`, after running the stack's timers up to then.
    /// The payload is [`Harness::peer_data`] at the segment's sequence numbers.
    #[track_caller]
    pub fn peer_sends(&mut self, at_ms: u64, line: &str) {
        let spec = self.parse(line);
        let payload = self.peer_data(spec.seq, spec.len as usize);
        self.peer_sends_payload(at_ms, line, &payload);
    }

    /// Like [`Harness::peer_sends`] with a payload of the test's choosing (its length must be
    /// the segment's).
    #[track_caller]
    pub fn peer_sends_payload(&mut self, at_ms: u64, line: &str, payload: &[u8]) {
        let spec = self.parse(line);
        if payload.len() != spec.len as usize {
            self.fail(&format!(
                "`{line}` says {} bytes but the payload has {}",
                spec.len,
                payload.len()
            ));
        }
        let Some(options) = spec.concrete_options() else {
            self.fail(&format!(
                "`{line}`: the peer can only send exact options, no `*` or `...`"
            ));
        };
        let Some(stack_port) = self.stack_port else {
            self.fail("the stack's port is unknown: listen first, or set Harness::stack_port");
        };
        self.advance_to(at_ms);
        let stack_base = self.stack_isn.unwrap_or(0);
        let seg = Segment {
            src: self.peer_addr(),
            dst: SocketAddr::new(self.stack_ip, stack_port),
            seq: self.peer_isn.wrapping_add(spec.seq),
            ack: stack_base.wrapping_add(spec.ack.unwrap_or(0)),
            flags: spec.flags,
            window: spec.win.unwrap_or(self.peer_window),
            options: shift_sack(&options, stack_base),
            payload: payload.to_vec(),
        };
        self.ident = self.ident.wrapping_add(1);
        let bytes = codec::encode(&seg, self.ident);
        self.trace.push(format!("{:>14} < {spec}", ms(self.now)));
        self.inject(&bytes);
    }

    /// Hands the stack an arbitrary datagram at the current time (for malformed input).
    pub fn inject(&mut self, datagram: &[u8]) {
        self.stack.handle_packet(self.now, datagram);
        self.drain();
    }

    /// Takes the next segment the stack sent, running timers up to `until_ms` if it has sent
    /// nothing yet.
    pub fn next_sent(&mut self, until_ms: u64) -> Option<Result<Sent, (Instant, DecodeError)>> {
        if self.pending.is_empty() {
            let limit = Instant::from_millis(until_ms).max(self.now);
            self.run_timers(limit, true);
        }
        let out = self.pending.pop_front()?;
        Some(match out.decoded {
            Ok((segment, rel)) => Ok(Sent {
                at: out.at,
                rel,
                segment,
            }),
            Err(e) => Err((out.at, e)),
        })
    }

    /// Asserts that the next segment the stack sent matches `line` and went out within `at`.
    #[track_caller]
    pub fn expect_sent(&mut self, at: impl Into<At>, line: &str) -> Sent {
        let at = at.into();
        let spec = self.parse(line);
        let until = at.to.as_nanos() / 1_000_000;
        let head = format!("expected at {at}: {spec}");
        let sent = match self.next_sent(until) {
            None => self.fail(&format!(
                "{head}\n  but nothing was sent by {}",
                ms(at.to.min(self.now))
            )),
            Some(Err((t, e))) => {
                self.fail(&format!("{head}\n  but at {} the stack sent {e}", ms(t)))
            }
            Some(Ok(sent)) => sent,
        };
        let mut problems = spec.mismatches(&sent.rel);
        if sent.at < at.from || sent.at > at.to {
            problems.push(format!("sent at {}", ms(sent.at)));
        }
        let want_dst = self.peer_addr();
        if sent.segment.dst != want_dst {
            problems.push(format!(
                "sent to {} instead of {want_dst}",
                sent.segment.dst
            ));
        }
        if sent.segment.src.ip() != self.stack_ip {
            problems.push(format!("sent from {}", sent.segment.src));
        }
        if !problems.is_empty() {
            self.fail(&format!(
                "{head}\n  actual at {}: {}\n  differences: {}",
                ms(sent.at),
                sent.rel,
                problems.join("; ")
            ));
        }
        sent
    }

    /// Asserts that the stack sends nothing more up to `until_ms` (timers run up to then).
    #[track_caller]
    pub fn expect_quiet(&mut self, until_ms: u64) {
        self.advance_to(until_ms);
        if let Some(out) = self.pending.front() {
            let what = match &out.decoded {
                Ok((_, rel)) => rel.to_string(),
                Err(e) => e.to_string(),
            };
            let at = out.at;
            self.fail(&format!(
                "expected nothing sent until {}\n  but at {} the stack sent: {what}",
                ms(Instant::from_millis(until_ms)),
                ms(at)
            ));
        }
    }

    #[track_caller]
    fn parse(&self, line: &str) -> SegmentSpec {
        line.parse()
            .unwrap_or_else(|e| self.fail(&format!("bad segment in the test: {e}")))
    }

    #[track_caller]
    fn fail(&self, msg: &str) -> ! {
        let mut events = String::new();
        for (t, fd, e) in &self.events {
            events.push_str(&format!("{:>14}   fd {fd} {e:?}\n", ms(*t)));
        }
        panic!(
            "{msg}\n\ntrace (< peer to stack, > stack to peer; stack ISN {}, peer ISN {}):\n{}\n\nevents:\n{events}\nconnection states: {:?}",
            self.stack_isn
                .map_or("unknown".to_string(), |i| i.to_string()),
            self.peer_isn,
            self.trace.join("\n"),
            self.conn_history(),
        )
    }
}

/// Per 4-tuple state histories as `ss` would show them.
#[derive(Clone, Debug, Default)]
pub(crate) struct SsLog {
    seen: BTreeMap<(SocketAddr, SocketAddr), Vec<(Instant, TcpState)>>,
}

impl SsLog {
    /// Records every change since the last sample; a tuple that vanished is recorded `Close`.
    /// When a tuple is listed twice (a descriptor still open on a CLOSED socket beside the
    /// time-wait entry that carries on the connection), the state other than `Close` wins.
    pub(crate) fn sample(&mut self, now: Instant, stack: &Stack) {
        let mut current: BTreeMap<(SocketAddr, SocketAddr), TcpState> = BTreeMap::new();
        for (local, remote, state) in stack.connections() {
            let slot = current.entry((local, remote)).or_insert(state);
            if *slot == TcpState::Close {
                *slot = state;
            }
        }
        for (&key, &state) in &current {
            let h = self.seen.entry(key).or_default();
            if h.last().map(|&(_, s)| s) != Some(state) {
                h.push((now, state));
            }
        }
        for (key, h) in &mut self.seen {
            if !current.contains_key(key) && h.last().map(|&(_, s)| s) != Some(TcpState::Close) {
                h.push((now, TcpState::Close));
            }
        }
    }

    pub(crate) fn history(&self, local: SocketAddr, remote: SocketAddr) -> Vec<TcpState> {
        self.timeline(local, remote)
            .into_iter()
            .map(|(_, s)| s)
            .collect()
    }

    pub(crate) fn timeline(
        &self,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Vec<(Instant, TcpState)> {
        self.seen.get(&(local, remote)).cloned().unwrap_or_default()
    }
}

/// SACK blocks moved by `delta` in sequence space, other options unchanged.
fn shift_sack(options: &[TcpOption], delta: u32) -> Vec<TcpOption> {
    options
        .iter()
        .map(|o| match o {
            TcpOption::Sack(blocks) => TcpOption::Sack(
                blocks
                    .iter()
                    .map(|b| SackBlock {
                        left: b.left.wrapping_add(delta),
                        right: b.right.wrapping_add(delta),
                    })
                    .collect(),
            ),
            other => other.clone(),
        })
        .collect()
}

/// Injects a segment from the peer: `peer_sends!(h, at_ms, "P. 1:101(100) ack 1")`.
#[macro_export]
macro_rules! peer_sends {
    ($h:expr, $at:expr, $seg:expr $(,)?) => {
        $h.peer_sends($at, $seg)
    };
}

/// Asserts the stack's next segment: `expect_sent!(h, 204, ". 1:1(0) ack 1")`, where the time
/// may also be a range `200..=210`, `around(204, 4)` or `..`.
#[macro_export]
macro_rules! expect_sent {
    ($h:expr, $at:expr, $seg:expr $(,)?) => {
        $h.expect_sent($at, $seg)
    };
}

/// Asserts the stack sends nothing until the given millisecond: `expect_quiet!(h, 1000)`.
#[macro_export]
macro_rules! expect_quiet {
    ($h:expr, $until:expr $(,)?) => {
        $h.expect_quiet($until)
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_windows() {
        assert_eq!(
            At::from(5),
            At {
                from: Instant::from_millis(5),
                to: Instant::from_millis(5)
            }
        );
        assert_eq!(At::from(3..=9).to, Instant::from_millis(9));
        assert_eq!(around(2, 4).from, Instant::ZERO);
        assert_eq!(around(204, 4).to_string(), "200.000 ms..=208.000 ms");
        assert_eq!(At::from(..).from, Instant::ZERO);
    }

    #[test]
    fn sack_blocks_shift_both_ways() {
        let opts = vec![
            TcpOption::Nop,
            TcpOption::Sack(vec![SackBlock { left: 1, right: 5 }]),
        ];
        let there = shift_sack(&opts, u32::MAX - 1);
        assert_eq!(shift_sack(&there, 2), opts);
    }

    #[test]
    fn outbound_numbers_are_relative_to_the_learned_isns() {
        let mut h = Harness::new().peer_isn(100);
        let syn_ack = Segment {
            src: "10.0.0.1:80".parse().unwrap(),
            dst: "10.0.0.2:8080".parse().unwrap(),
            seq: 5000,
            ack: 101,
            flags: TcpFlags(TcpFlags::SYN.0 | TcpFlags::ACK.0),
            window: 65160,
            options: vec![
                TcpOption::Nop,
                TcpOption::Nop,
                TcpOption::Sack(vec![SackBlock {
                    left: 150,
                    right: 160,
                }]),
            ],
            payload: vec![],
        };
        h.record_outbound(&codec::encode(&syn_ack, 1));
        let sent = h.expect_sent(0, "S. 0:0(0) ack 1 win 65160 <nop,nop,sack 50:60>");
        assert_eq!(sent.segment.seq, 5000);
        assert_eq!(h.stack_port, Some(80));
        let data = Segment {
            seq: 5001,
            flags: TcpFlags::ACK,
            payload: vec![7; 10],
            ..syn_ack
        };
        h.record_outbound(&codec::encode(&data, 2));
        assert_eq!(
            h.expect_sent(.., ". 1:11(10) ack 1 <...>").payload(),
            &[7; 10]
        );
        expect_quiet!(h, 10);
    }

    #[test]
    #[should_panic(expected = "differences: flags . != S.")]
    fn mismatch_names_the_difference() {
        let mut h = Harness::new();
        let seg = Segment {
            src: "10.0.0.1:80".parse().unwrap(),
            dst: "10.0.0.2:8080".parse().unwrap(),
            seq: 1,
            ack: 1,
            flags: TcpFlags::ACK,
            window: 1,
            options: vec![],
            payload: vec![],
        };
        h.record_outbound(&codec::encode(&seg, 1));
        expect_sent!(h, 0, "S. 0:0(0)");
    }

    #[test]
    #[should_panic(expected = "nothing was sent")]
    fn nothing_sent_fails() {
        let mut h = Harness::new();
        expect_sent!(h, 100, "S 0:0(0)");
    }

    #[test]
    fn peer_data_is_reproducible() {
        let h = Harness::new();
        assert_eq!(h.peer_data(1, 100)[50..], h.peer_data(51, 50)[..]);
    }
}
