//! Two stacks joined by a simulated link, in virtual time.
//!
//! Guarantees:
//! - event-driven: time jumps to the next arrival or the next `poll_timeout()` of either stack;
//!   at one instant, arrivals go first in the order they were sent, then a's timer, then b's;
//!   nothing is ordered by a hash;
//! - after every input and every command the pair drains both `poll_transmit` (into a
//!   65,536-byte buffer) and `poll_event`, so no output is ever left behind;
//! - a run is a function of the seed and the calls made: [`Pair::trace_hash`] is the same for
//!   two runs of the same test.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tcplab_stack::{Domain, Errno, Event, Fd, Instant, Stack, StackConfig, Sysctls, TcpState};
use tcplab_wire::IpRepr;
use tcplab_wire::print::{Isns, tcpdump_line_relative};
use tcplab_wire::tcp::{TcpFlags, TcpRepr};

use crate::codec::l4_offset;
use crate::harness::SsLog;
use crate::link::{Direction, Faults, Hook, Link, Packet, Verdict};
use crate::rng::Rng;

/// One of the pair's two hosts.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Side {
    /// The client, 10.0.0.1 or fd00::1.
    A,
    /// The server, 10.0.0.2 or fd00::2.
    B,
}

impl Side {
    /// The direction of datagrams this side sends.
    pub fn outbound(self) -> Direction {
        match self {
            Side::A => Direction::AtoB,
            Side::B => Direction::BtoA,
        }
    }
}

/// A datagram as the sender put it on the link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Captured {
    /// When it was sent.
    pub at: Instant,
    pub dir: Direction,
    pub bytes: Vec<u8>,
    /// True if no copy of it was delivered.
    pub dropped: bool,
    /// What the link did to it, empty if nothing.
    pub note: String,
}

/// An event a stack reported, with when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Logged {
    pub at: Instant,
    pub side: Side,
    pub fd: Fd,
    pub event: Event,
}

/// What the link did, counted over the whole run (the capture may keep only a tail).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Datagrams the stacks sent.
    pub sent: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub reordered: u64,
    pub corrupted: u64,
    /// Datagrams a hook dropped, delayed, duplicated or replaced.
    pub hooked: u64,
}

struct InFlight {
    dir: Direction,
    bytes: Vec<u8>,
}

/// Steps at one instant before the pair decides a stack is spinning on a timer already due.
const MAX_STEPS_WITHOUT_PROGRESS: u32 = 100_000;
/// Datagrams one drain may take before the pair decides a stack is looping.
const MAX_TRANSMITS_PER_DRAIN: u32 = 1_000_000;
/// How far `run_until_idle` goes before it gives up.
const IDLE_LIMIT: Duration = Duration::from_secs(3600);

/// Two stacks, a link, and a virtual clock. See the module docs.
pub struct Pair {
    a: Stack,
    b: Stack,
    config_a: StackConfig,
    config_b: StackConfig,
    seed: u64,
    now: Instant,
    delay: Duration,
    /// Indexed by `Direction as usize`.
    links: [Link; 2],
    hooks: Vec<Hook>,
    in_flight: BTreeMap<(Instant, u64), InFlight>,
    next_seq: u64,
    capture: VecDeque<Captured>,
    capture_limit: usize,
    hash: u64,
    stats: LinkStats,
    events: Vec<Logged>,
    /// What `ss` would show on each host, sampled after every drain; indexed by side.
    ss: [SsLog; 2],
    /// The 4-tuples of the sockets `connect` made, for `conn_history`.
    tuples: BTreeMap<(Side, Fd), (SocketAddr, SocketAddr)>,
    idle_horizon: Duration,
    buf: Vec<u8>,
    started: bool,
}

impl fmt::Debug for Pair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pair")
            .field("seed", &self.seed)
            .field("now", &self.now)
            .field("delay", &self.delay)
            .field("in_flight", &self.in_flight.len())
            .field("hooks", &self.hooks.len())
            .field("captured", &self.capture.len())
            .field("events", &self.events.len())
            .finish_non_exhaustive()
    }
}

impl Default for Pair {
    fn default() -> Self {
        Pair::new()
    }
}

fn index(dir: Direction) -> usize {
    match dir {
        Direction::AtoB => 0,
        Direction::BtoA => 1,
    }
}

impl Pair {
    /// A clean link with a 1 ms one-way delay, seed 0.
    pub fn new() -> Pair {
        Pair::with_seed(0)
    }

    /// A clean link with a 1 ms one-way delay; `seed` drives the faults and both stacks' ISN and
    /// port choices.
    pub fn with_seed(seed: u64) -> Pair {
        let rng = Rng::new(seed);
        let config = |addr: Ipv4Addr| StackConfig {
            addrs: vec![IpAddr::V4(addr)],
            ..Default::default()
        };
        let mut pair = Pair {
            a: Stack::new(StackConfig::default()),
            b: Stack::new(StackConfig::default()),
            config_a: config(Ipv4Addr::new(10, 0, 0, 1)),
            config_b: config(Ipv4Addr::new(10, 0, 0, 2)),
            seed,
            now: Instant::ZERO,
            delay: Duration::from_millis(1),
            links: [
                Link::new(Faults::default(), rng.fork(1)),
                Link::new(Faults::default(), rng.fork(2)),
            ],
            hooks: Vec::new(),
            in_flight: BTreeMap::new(),
            next_seq: 0,
            capture: VecDeque::new(),
            capture_limit: usize::MAX,
            hash: 0xcbf2_9ce4_8422_2325,
            stats: LinkStats::default(),
            events: Vec::new(),
            ss: [SsLog::default(), SsLog::default()],
            tuples: BTreeMap::new(),
            idle_horizon: Duration::from_secs(10),
            buf: vec![0; 65536],
            started: false,
        };
        pair.rebuild();
        pair
    }

    fn rebuild(&mut self) {
        assert!(
            !self.started,
            "configure a Pair before the first command or run"
        );
        let rng = Rng::new(self.seed);
        self.config_a.seed = rng.fork(3).next_u64();
        self.config_b.seed = rng.fork(4).next_u64();
        self.a = Stack::new(self.config_a.clone());
        self.b = Stack::new(self.config_b.clone());
    }

    /// Uses fd00::1 and fd00::2 instead of the IPv4 addresses.
    pub fn ipv6(mut self) -> Pair {
        self.config_a.addrs = vec![IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1))];
        self.config_b.addrs = vec![IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2))];
        self.rebuild();
        self
    }

    /// One-way delay of every datagram.
    pub fn delay(mut self, delay: Duration) -> Pair {
        self.delay = delay;
        self
    }

    pub fn loss(mut self, p: f64) -> Pair {
        self.links.iter_mut().for_each(|l| l.faults.loss = p);
        self
    }

    pub fn duplicate(mut self, p: f64) -> Pair {
        self.links.iter_mut().for_each(|l| l.faults.duplicate = p);
        self
    }

    /// With probability `p` a datagram is held back `extra` longer, so later ones overtake it.
    pub fn reorder(mut self, p: f64, extra: Duration) -> Pair {
        self.links.iter_mut().for_each(|l| {
            l.faults.reorder = p;
            l.faults.reorder_delay = extra;
        });
        self
    }

    /// With probability `p` one byte of the TCP segment is flipped.
    pub fn corrupt(mut self, p: f64) -> Pair {
        self.links.iter_mut().for_each(|l| l.faults.corrupt = p);
        self
    }

    /// Sets every fault of one direction at once.
    pub fn faults(mut self, dir: Direction, faults: Faults) -> Pair {
        self.links[index(dir)].faults = faults;
        self
    }

    /// Adds a per-packet rule after the existing ones.
    pub fn hook(mut self, hook: impl FnMut(&Packet<'_>) -> Verdict + 'static) -> Pair {
        self.hooks.push(Box::new(hook));
        self
    }

    /// Adds a per-packet rule while running (a test can start dropping at some point).
    pub fn add_hook(&mut self, hook: impl FnMut(&Packet<'_>) -> Verdict + 'static) {
        self.hooks.push(Box::new(hook));
    }

    pub fn clear_hooks(&mut self) {
        self.hooks.clear();
    }

    /// Replaces a's configuration. Empty `addrs` keep 10.0.0.1 (or fd00::1); `seed` is replaced
    /// by one derived from the pair's seed so a run stays reproducible from one number.
    pub fn config_a(mut self, mut config: StackConfig) -> Pair {
        if config.addrs.is_empty() {
            config.addrs = self.config_a.addrs.clone();
        }
        self.config_a = config;
        self.rebuild();
        self
    }

    /// Like [`Pair::config_a`], for b.
    pub fn config_b(mut self, mut config: StackConfig) -> Pair {
        if config.addrs.is_empty() {
            config.addrs = self.config_b.addrs.clone();
        }
        self.config_b = config;
        self.rebuild();
        self
    }

    /// Changes sysctls on both hosts.
    pub fn sysctls(mut self, f: impl Fn(&mut Sysctls)) -> Pair {
        f(&mut self.config_a.sysctls);
        f(&mut self.config_b.sysctls);
        self.rebuild();
        self
    }

    /// `run_until_idle` stops once nothing is in flight and no timer is due within this span
    /// (default 10 s, which skips TIME_WAIT's 60 s and keepalive's 2 h).
    pub fn idle_horizon(mut self, horizon: Duration) -> Pair {
        self.idle_horizon = horizon;
        self
    }

    /// Keeps only the last `n` captured datagrams (the trace hash still covers all of them).
    pub fn capture_limit(mut self, n: usize) -> Pair {
        self.capture_limit = n;
        self
    }

    pub fn now(&self) -> Instant {
        self.now
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn a(&self) -> &Stack {
        &self.a
    }

    pub fn b(&self) -> &Stack {
        &self.b
    }

    pub fn stack(&self, side: Side) -> &Stack {
        match side {
            Side::A => &self.a,
            Side::B => &self.b,
        }
    }

    /// Direct access; whatever the stack queues is drained at the next step or call.
    pub fn stack_mut(&mut self, side: Side) -> &mut Stack {
        self.started = true;
        match side {
            Side::A => &mut self.a,
            Side::B => &mut self.b,
        }
    }

    pub fn addr(&self, side: Side) -> IpAddr {
        match side {
            Side::A => self.config_a.addrs[0],
            Side::B => self.config_b.addrs[0],
        }
    }

    pub fn domain(&self) -> Domain {
        if self.addr(Side::A).is_ipv4() {
            Domain::Inet
        } else {
            Domain::Inet6
        }
    }

    /// Runs a socket call on one stack at the current time, then drains its output.
    pub fn call<R>(&mut self, side: Side, f: impl FnOnce(&mut Stack, Instant) -> R) -> R {
        let now = self.now;
        let r = f(self.stack_mut(side), now);
        self.drain(side);
        r
    }

    pub fn call_a<R>(&mut self, f: impl FnOnce(&mut Stack, Instant) -> R) -> R {
        self.call(Side::A, f)
    }

    pub fn call_b<R>(&mut self, f: impl FnOnce(&mut Stack, Instant) -> R) -> R {
        self.call(Side::B, f)
    }

    /// Every event either stack reported, in order.
    pub fn events(&self) -> &[Logged] {
        &self.events
    }

    /// The events one socket reported.
    pub fn events_of(&self, side: Side, fd: Fd) -> Vec<(Instant, Event)> {
        self.events
            .iter()
            .filter(|l| l.side == side && l.fd == fd)
            .map(|l| (l.at, l.event))
            .collect()
    }

    /// The states a socket went through according to its `StateChanged` events: the first
    /// event's `from`, then every `to`.
    pub fn state_history(&self, side: Side, fd: Fd) -> Vec<TcpState> {
        state_history(
            self.events
                .iter()
                .filter(|l| l.side == side && l.fd == fd)
                .map(|l| l.event),
        )
    }

    /// The states of a connection made by [`Pair::connect`] as `ss` on that side shows them,
    /// sampled after every event; it goes on after `close()` (orphan, TIME_WAIT) and ends with
    /// `Close` once the stack forgot the connection. Empty for other descriptors.
    pub fn conn_history(&self, side: Side, fd: Fd) -> Vec<TcpState> {
        match self.tuples.get(&(side, fd)) {
            Some(&(local, remote)) => self.ss_history(side, local, remote),
            None => Vec::new(),
        }
    }

    /// The `ss` history of any 4-tuple on one side.
    pub fn ss_history(&self, side: Side, local: SocketAddr, remote: SocketAddr) -> Vec<TcpState> {
        let log = match side {
            Side::A => &self.ss[0],
            Side::B => &self.ss[1],
        };
        log.history(local, remote)
    }

    /// The datagrams kept by the capture, oldest first.
    pub fn captured(&self) -> &VecDeque<Captured> {
        &self.capture
    }

    /// What the link did so far.
    pub fn stats(&self) -> LinkStats {
        self.stats
    }

    /// A hash of every datagram sent so far (time, direction, bytes, fate), for comparing two
    /// runs of one seed.
    pub fn trace_hash(&self) -> u64 {
        self.hash
    }

    /// tcpdump's lines for the capture, sequence numbers relative to each flow's SYN.
    pub fn tcpdump_lines(&self) -> Vec<String> {
        let mut isns: BTreeMap<(SocketAddr, SocketAddr), u32> = BTreeMap::new();
        let mut lines = Vec::with_capacity(self.capture.len());
        for c in &self.capture {
            let text = match IpRepr::parse(&c.bytes)
                .ok()
                .and_then(|(ip, l4)| TcpRepr::parse(l4).ok().map(|tcp| (ip, tcp)))
            {
                Some((ip, tcp)) => {
                    let fwd = (
                        SocketAddr::new(ip.src(), tcp.src_port),
                        SocketAddr::new(ip.dst(), tcp.dst_port),
                    );
                    if tcp.flags.contains(TcpFlags::SYN) {
                        isns.insert(fwd, tcp.seq);
                    }
                    let seq = isns.get(&fwd).copied().unwrap_or(0);
                    let ack = isns.get(&(fwd.1, fwd.0)).copied().unwrap_or(0);
                    tcpdump_line_relative(&ip, &tcp, Isns { seq, ack }).to_string()
                }
                None => tcplab_wire::print::tcpdump_datagram(&c.bytes),
            };
            let note = if c.note.is_empty() {
                String::new()
            } else {
                format!("  [{}]", c.note)
            };
            lines.push(format!("{} {} {text}{note}", c.at, c.dir));
        }
        lines
    }

    /// The capture and the event log as text, for failure messages.
    pub fn dump(&self) -> String {
        let mut out = String::from("capture:\n");
        for l in self.tcpdump_lines() {
            out.push_str("  ");
            out.push_str(&l);
            out.push('\n');
        }
        out.push_str("events:\n");
        for l in &self.events {
            out.push_str(&format!(
                "  {} {:?} fd {} {:?}\n",
                l.at, l.side, l.fd, l.event
            ));
        }
        out
    }

    fn drain(&mut self, side: Side) {
        self.started = true;
        let mut sent = 0;
        loop {
            let stack = match side {
                Side::A => &mut self.a,
                Side::B => &mut self.b,
            };
            let Some(t) = stack.poll_transmit(self.now, &mut self.buf) else {
                break;
            };
            sent += 1;
            assert!(
                sent < MAX_TRANSMITS_PER_DRAIN,
                "{side:?} keeps transmitting at {}",
                self.now
            );
            let bytes = self.buf[..t.len].to_vec();
            self.transmit(side.outbound(), bytes);
        }
        let stack = match side {
            Side::A => &mut self.a,
            Side::B => &mut self.b,
        };
        while let Some((fd, event)) = stack.poll_event() {
            self.events.push(Logged {
                at: self.now,
                side,
                fd,
                event,
            });
        }
        let ss = match side {
            Side::A => &mut self.ss[0],
            Side::B => &mut self.ss[1],
        };
        ss.sample(self.now, stack);
    }

    fn schedule(&mut self, at: Instant, dir: Direction, bytes: Vec<u8>) {
        self.in_flight
            .insert((at, self.next_seq), InFlight { dir, bytes });
        self.next_seq += 1;
    }

    fn record(&mut self, dir: Direction, bytes: &[u8], dropped: bool, note: String) {
        for word in [self.now.as_nanos(), index(dir) as u64, u64::from(dropped)] {
            self.hash = fnv(self.hash, &word.to_le_bytes());
        }
        self.hash = fnv(self.hash, bytes);
        if self.capture_limit == 0 {
            return;
        }
        if self.capture.len() >= self.capture_limit {
            self.capture.pop_front();
        }
        self.capture.push_back(Captured {
            at: self.now,
            dir,
            bytes: bytes.to_vec(),
            dropped,
            note,
        });
    }

    /// Puts one datagram on the link: hooks first, then the random faults.
    fn transmit(&mut self, dir: Direction, bytes: Vec<u8>) {
        let packet = Packet {
            dir,
            at: self.now,
            bytes: &bytes,
        };
        let verdict = self
            .hooks
            .iter_mut()
            .map(|hook| hook(&packet))
            .find(|v| *v != Verdict::Pass)
            .unwrap_or(Verdict::Pass);
        let arrive = self.now + self.delay;
        self.stats.sent += 1;
        if verdict != Verdict::Pass {
            self.stats.hooked += 1;
        }
        match verdict {
            Verdict::Drop => self.record(dir, &bytes, true, "dropped by hook".into()),
            Verdict::Delay(d) => {
                self.record(dir, &bytes, false, format!("held {d:?} by hook"));
                self.schedule(arrive + d, dir, bytes);
            }
            Verdict::Duplicate => {
                self.record(dir, &bytes, false, "duplicated by hook".into());
                self.schedule(arrive, dir, bytes.clone());
                self.schedule(arrive, dir, bytes);
            }
            Verdict::Replace(new) => {
                self.record(dir, &bytes, false, "replaced by hook".into());
                self.schedule(arrive, dir, new);
            }
            Verdict::Pass => {
                let fate = self.links[index(dir)].fate();
                let stats = &mut self.stats;
                stats.lost += u64::from(fate.lost);
                stats.duplicated += u64::from(!fate.lost && fate.duplicated);
                stats.reordered += u64::from(!fate.lost && !fate.extra_delay.is_zero());
                stats.corrupted += u64::from(!fate.lost && fate.corruption.is_some());
                if fate.lost {
                    self.record(dir, &bytes, true, "lost".into());
                    return;
                }
                let mut notes = Vec::new();
                let mut delivered = bytes.clone();
                if let Some(c) = fate.corruption {
                    let l4 = l4_offset(&delivered).unwrap_or(0);
                    c.apply(&mut delivered, l4);
                    notes.push("corrupted".to_string());
                }
                if !fate.extra_delay.is_zero() {
                    notes.push(format!("held {:?}", fate.extra_delay));
                }
                if fate.duplicated {
                    notes.push("duplicated".to_string());
                }
                self.record(dir, &bytes, false, notes.join(", "));
                let at = arrive + fate.extra_delay;
                if fate.duplicated {
                    self.schedule(at, dir, delivered.clone());
                }
                self.schedule(at, dir, delivered);
            }
        }
    }

    /// Performs the next event at or before `limit`; false if there is none.
    fn step(&mut self, limit: Instant, stalled: &mut u32) -> bool {
        self.drain(Side::A);
        self.drain(Side::B);
        let arrival = self.in_flight.keys().next().map(|&(t, _)| t);
        let ta = self.a.poll_timeout();
        let tb = self.b.poll_timeout();
        let next = [arrival, ta, tb].into_iter().flatten().min();
        let Some(next) = next.filter(|&t| t <= limit) else {
            return false;
        };
        if next > self.now {
            self.now = next;
            *stalled = 0;
        } else {
            *stalled += 1;
            assert!(
                *stalled < MAX_STEPS_WITHOUT_PROGRESS,
                "virtual time stuck at {}: a stack keeps asking for a timer already due\n{}",
                self.now,
                self.dump()
            );
        }
        if arrival == Some(next) {
            let (_, pkt) = self
                .in_flight
                .pop_first()
                .expect("an arrival was just seen");
            let side = match pkt.dir {
                Direction::AtoB => Side::B,
                Direction::BtoA => Side::A,
            };
            let now = self.now;
            self.stack_mut(side).handle_packet(now, &pkt.bytes);
            self.drain(side);
        } else {
            let side = if ta == Some(next) { Side::A } else { Side::B };
            let now = self.now;
            self.stack_mut(side).handle_timeout(now);
            self.drain(side);
        }
        true
    }

    /// Runs every event up to `t`, then sets the clock to `t`.
    pub fn run_until(&mut self, t: Instant) {
        let mut stalled = 0;
        while self.step(t, &mut stalled) {}
        self.now = self.now.max(t);
    }

    pub fn run_for(&mut self, d: Duration) {
        self.run_until(self.now + d);
    }

    /// Runs while `cond` holds, calling it before the first event and after each one (it may
    /// make socket calls through [`Pair::call`]). True if `cond` turned false within `limit`.
    pub fn run_while(&mut self, mut cond: impl FnMut(&mut Pair) -> bool, limit: Duration) -> bool {
        let deadline = self.now + limit;
        let mut stalled = 0;
        loop {
            if !cond(self) {
                return true;
            }
            if !self.step(deadline, &mut stalled) {
                self.now = self.now.max(deadline);
                return !cond(self);
            }
        }
    }

    /// Runs until nothing is in flight and neither stack has a timer due within the idle
    /// horizon; returns the time it stopped. Panics after an hour of virtual time.
    pub fn run_until_idle(&mut self) -> Instant {
        let give_up = self.now + IDLE_LIMIT;
        let mut stalled = 0;
        loop {
            self.drain(Side::A);
            self.drain(Side::B);
            let horizon = self.now + self.idle_horizon;
            let timer_soon = [self.a.poll_timeout(), self.b.poll_timeout()]
                .into_iter()
                .flatten()
                .any(|t| t <= horizon);
            if self.in_flight.is_empty() && !timer_soon {
                return self.now;
            }
            assert!(
                self.step(give_up, &mut stalled),
                "the pair was still busy after {IDLE_LIMIT:?} of virtual time\n{}",
                self.dump()
            );
        }
    }

    /// Listens on b at `port`, connects from a, runs until the handshake is done and accepts.
    /// Returns (a's socket, b's listener, b's accepted socket); panics with the trace if the
    /// connection is not up within 10 s of virtual time.
    pub fn connect(&mut self, port: u16) -> (Fd, Fd, Fd) {
        let domain = self.domain();
        let server = SocketAddr::new(self.addr(Side::B), port);
        let listener = self.call_b(|s, _| -> Result<Fd, Errno> {
            let fd = s.socket(domain)?;
            s.bind(fd, server)?;
            s.listen(fd, 128)?;
            Ok(fd)
        });
        let listener = listener.unwrap_or_else(|e| panic!("listen on {server} failed: {e:?}"));
        let client = self.call_a(|s, now| -> Result<Fd, Errno> {
            let fd = s.socket(domain)?;
            match s.connect(now, fd, server) {
                Ok(()) | Err(Errno::EINPROGRESS) => Ok(fd),
                Err(e) => Err(e),
            }
        });
        let client = client.unwrap_or_else(|e| panic!("connect to {server} failed: {e:?}"));
        let mut accepted = None;
        let done = self.run_while(
            |p| {
                if accepted.is_none() {
                    accepted = p.call_b(|s, now| s.accept(now, listener)).ok();
                }
                !(accepted.is_some() && p.a.state(client) == Some(TcpState::Established))
            },
            Duration::from_secs(10),
        );
        match (done, accepted) {
            (true, Some((fd, peer))) => {
                self.tuples.insert((Side::A, client), (peer, server));
                self.tuples.insert((Side::B, fd), (server, peer));
                (client, listener, fd)
            }
            _ => panic!(
                "connection to {server} not established within 10 s\n{}",
                self.dump()
            ),
        }
    }
}

/// The first `from`, then every `to`, of the `StateChanged` events among `events`.
pub(crate) fn state_history(events: impl Iterator<Item = Event>) -> Vec<TcpState> {
    let mut out = Vec::new();
    for e in events {
        if let Event::StateChanged { from, to } = e {
            if out.is_empty() {
                out.push(from);
            }
            out.push(to);
        }
    }
    out
}

/// FNV-1a, to fold a trace into one comparable number.
fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn datagram(n: u8) -> Vec<u8> {
        vec![n; 4]
    }

    #[test]
    fn same_instant_arrivals_keep_send_order() {
        let mut p = Pair::new().delay(Duration::from_millis(5));
        for n in [3, 1, 2] {
            p.transmit(Direction::AtoB, datagram(n));
        }
        let order: Vec<u8> = p.in_flight.values().map(|f| f.bytes[0]).collect();
        assert_eq!(order, vec![3, 1, 2]);
        let times: Vec<Instant> = p.in_flight.keys().map(|&(t, _)| t).collect();
        assert!(times.iter().all(|&t| t == Instant::from_millis(5)));
    }

    #[test]
    fn hooks_chain_in_order_and_first_verdict_wins() {
        let mut p = Pair::new()
            .hook(|pkt| {
                if pkt.bytes[0] == 1 {
                    Verdict::Drop
                } else {
                    Verdict::Pass
                }
            })
            .hook(|pkt| {
                if pkt.bytes[0] <= 2 {
                    Verdict::Duplicate
                } else {
                    Verdict::Pass
                }
            })
            .hook(|_| Verdict::Delay(Duration::from_millis(7)));
        for n in [1, 2, 3] {
            p.transmit(Direction::BtoA, datagram(n));
        }
        let flights: Vec<(Instant, u8)> = p
            .in_flight
            .iter()
            .map(|(&(t, _), f)| (t, f.bytes[0]))
            .collect();
        let ms = Instant::from_millis;
        assert_eq!(flights, vec![(ms(1), 2), (ms(1), 2), (ms(8), 3)]);
        let fates: Vec<(bool, &str)> = p
            .captured()
            .iter()
            .map(|c| (c.dropped, c.note.as_str()))
            .collect();
        assert_eq!(
            fates,
            vec![
                (true, "dropped by hook"),
                (false, "duplicated by hook"),
                (false, "held 7ms by hook")
            ]
        );
    }

    #[test]
    fn reordering_lets_later_datagrams_overtake() {
        let mut p = Pair::with_seed(1).reorder(1.0, Duration::from_millis(3));
        p.transmit(Direction::AtoB, datagram(1));
        p.links[0].faults.reorder = 0.0;
        p.transmit(Direction::AtoB, datagram(2));
        let order: Vec<u8> = p.in_flight.values().map(|f| f.bytes[0]).collect();
        assert_eq!(order, vec![2, 1]);
    }

    #[test]
    fn same_seed_same_link_fates() {
        let run = |seed| {
            let mut p = Pair::with_seed(seed).loss(0.3).duplicate(0.3).corrupt(0.3);
            for n in 0..200u8 {
                p.transmit(Direction::AtoB, datagram(n));
                p.transmit(Direction::BtoA, datagram(n));
            }
            (
                p.trace_hash(),
                p.captured()
                    .iter()
                    .map(|c| c.note.clone())
                    .collect::<Vec<_>>(),
            )
        };
        assert_eq!(run(9), run(9));
        assert_ne!(run(9).0, run(10).0);
    }

    #[test]
    fn corrupted_datagrams_fail_the_tcp_checksum() {
        use crate::codec::{DecodeError, Segment, decode, encode};
        let seg = Segment {
            src: "10.0.0.1:4000".parse().unwrap(),
            dst: "10.0.0.2:80".parse().unwrap(),
            seq: 1,
            ack: 1,
            flags: TcpFlags::ACK,
            window: 63,
            options: vec![],
            payload: vec![0; 100],
        };
        let mut p = Pair::with_seed(5).corrupt(1.0);
        for _ in 0..50 {
            p.transmit(Direction::AtoB, encode(&seg, 1));
        }
        assert_eq!(p.stats().corrupted, 50);
        for flight in p.in_flight.values() {
            assert_eq!(decode(&flight.bytes), Err(DecodeError::BadChecksum));
        }
    }

    #[test]
    fn capture_limit_keeps_the_tail() {
        let mut p = Pair::new().capture_limit(2);
        for n in 0..5 {
            p.transmit(Direction::AtoB, datagram(n));
        }
        let kept: Vec<u8> = p.captured().iter().map(|c| c.bytes[0]).collect();
        assert_eq!(kept, vec![3, 4]);
    }

    #[test]
    fn state_history_starts_with_the_first_from() {
        use TcpState::*;
        let events = [
            Event::StateChanged {
                from: Close,
                to: SynSent,
            },
            Event::Connected,
            Event::StateChanged {
                from: SynSent,
                to: Established,
            },
        ];
        assert_eq!(
            state_history(events.into_iter()),
            vec![Close, SynSent, Established]
        );
    }

    #[test]
    fn run_until_moves_the_clock_without_events() {
        let mut p = Pair::new();
        p.run_until(Instant::from_millis(250));
        assert_eq!(p.now(), Instant::from_millis(250));
        p.run_for(Duration::from_millis(50));
        assert_eq!(p.now(), Instant::from_millis(300));
    }
}
