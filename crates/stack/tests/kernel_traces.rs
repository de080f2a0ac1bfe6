//! Whole connections on a [`Pair`] against real Linux 6.18.44 traces (CONFIG_HZ=250): one test
//! per trace in `shared/reference/kernel/` (its SUMMARY.md describes them).
//!
//! Each test rebuilds the trace's situation — client a, server b on port 1234, a 25 µs one-way
//! delay (RTT ≈ 50 µs as on the veth), the trace's sysctls and socket options, its iptables DROP
//! rules as hooks — pulls the same trigger at the same time after the handshake, and checks,
//! against values read from the trace's JSON:
//! - the segments from the trigger on as the client sees them (everything a sent, and what b
//!   put on the wire): direction, flags, relative seq/ack, length, and each one's delay after
//!   the one before, within [`within`]'s tolerance;
//! - the states `ss` showed at the trace's sample times, and when a connection vanished;
//! - the errno the applications saw, and when;
//! - `ss`'s `timer:(kind,…,count)` at a few sample times.
//!
//! Loss is emulated as the client sees it. On the kernel an OUTPUT DROP is a local EPERM
//! (SUMMARY.md observation 10): the dropping side's segments never reach the wire and a FIN it
//! tries to send stays unsent, so that side's own retransmissions are not compared — only
//! what reached the client.

// Each test is named after its trace file, `<scenario>__<variant>`.
#![allow(non_snake_case)]

use std::collections::VecDeque;
use std::fmt;
use std::fs;
use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tcplab_stack::{Domain, Errno, Event, Fd, Instant, SockOpt, StackConfig, Sysctls, TcpState};
use tcplab_testkit::link::{Direction, Verdict};
use tcplab_testkit::pair::{Pair, Side};
use tcplab_wire::IpRepr;
use tcplab_wire::tcp::{TcpFlags, TcpRepr};

const TRACES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/reference/kernel/"
);
const PORT: u16 = 1234;
/// Half the veth's ~50 µs round trip.
const ONE_WAY: Duration = Duration::from_micros(25);
/// One jiffy at HZ=250.
const TICK_S: f64 = 0.004;
/// A segment this soon after the one before was sent in reaction to it, not by a timer (the
/// veth's reactions take 20–60 µs; the shortest timer, one jiffy, fires up to 4 ms later).
const AT_ONCE_S: f64 = 0.0005;

/// True if `actual_s` equals the kernel's `expected_s` as closely as the kernel's timers allow:
/// one 4 ms tick, plus the timer wheel's lateness of up to 1/8 of the length of the timer that
/// produced the event (linux-tcp-timers.md §0). Seconds; `timer_len_s` is 0 for an immediate
/// reaction.
fn within(expected_s: f64, actual_s: f64, timer_len_s: f64) -> bool {
    (actual_s - expected_s).abs() <= TICK_S + timer_len_s.abs() / 8.0 + 1e-9
}

// ---- the kernel's side: a trace file ---------------------------------------------------------

/// One TCP segment, with `t` in seconds from the trigger and seq/ack relative to each side's
/// ISN as tcpdump prints them (`ack` is `None` without the ACK flag).
#[derive(Clone, Debug, PartialEq)]
struct Seg {
    t: f64,
    dir: Direction,
    flags: String,
    seq: Option<i64>,
    ack: Option<i64>,
    len: u64,
}

impl Seg {
    fn same_segment(&self, other: &Seg) -> bool {
        (self.dir, &self.flags, self.seq, self.ack, self.len)
            == (other.dir, &other.flags, other.seq, other.ack, other.len)
    }
}

impl fmt::Display for Seg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let opt = |v: Option<i64>| v.map_or("-".to_string(), |v| v.to_string());
        write!(
            f,
            "{:>10.6} {} {:<3} seq={} ack={} len={}",
            self.t,
            self.dir,
            self.flags,
            opt(self.seq),
            opt(self.ack),
            self.len
        )
    }
}

/// What `ss` showed of a connection: its state and `timer:(kind,…,count)`; `None` if absent.
type Snap = Option<(String, Option<(String, u64)>)>;

fn show(s: &Snap) -> String {
    match s {
        None => "gone".into(),
        Some((state, None)) => state.clone(),
        Some((state, Some((kind, n)))) => format!("{state} timer:({kind},…,{n})"),
    }
}

struct Trace {
    name: String,
    json: Value,
}

fn num(v: &Value) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("expected a number, found {v}"))
}

impl Trace {
    fn load(name: &str) -> Trace {
        let path = format!("{TRACES}{name}.json");
        let text = fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "cannot read the kernel trace {path}: {e}\n\
                 The reference traces belong in shared/reference/kernel/ beside the repository."
            )
        });
        let json =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"));
        Trace {
            name: name.to_string(),
            json,
        }
    }

    fn list(&self, key: &str) -> &Vec<Value> {
        self.json[key]
            .as_array()
            .unwrap_or_else(|| panic!("{}: no `{key}` list", self.name))
    }

    /// Applies the trace's `sysctls_set` for one host (`tla` or `tlb`).
    fn apply_sysctls(&self, ns: &str, s: &mut Sysctls) {
        let Some(set) = self.json["sysctls_set"][ns].as_object() else {
            return;
        };
        for (key, v) in set {
            let v = v.as_u64().unwrap_or_else(|| panic!("{key} = {v}?"));
            match key.as_str() {
                "tcp_orphan_retries" => s.tcp_orphan_retries = v as u8,
                "tcp_syn_retries" => s.tcp_syn_retries = v as u8,
                "tcp_syn_linear_timeouts" => s.tcp_syn_linear_timeouts = v as u8,
                "tcp_retries2" => s.tcp_retries2 = v as u8,
                "tcp_fin_timeout" => s.tcp_fin_timeout = v as u32,
                "tcp_invalid_ratelimit" => s.tcp_invalid_ratelimit = v as u32,
                other => panic!("{}: sysctl {other} has no mapping here", self.name),
            }
        }
    }

    /// The iptables DROP rules as (the direction they drop, from when).
    fn drops(&self) -> Vec<(Direction, f64)> {
        self.list("iptables")
            .iter()
            .map(|r| {
                let cmd = r["cmd"].as_str().unwrap_or_default();
                let server = r["ns"] == "tlb";
                let dir = match (server, cmd.contains(" OUTPUT ")) {
                    (true, true) | (false, false) => Direction::BtoA,
                    (true, false) | (false, true) => Direction::AtoB,
                };
                (dir, num(&r["t_rel_added"]))
            })
            .collect()
    }

    /// When the handshake completed, in seconds from the trigger.
    fn established(&self) -> f64 {
        self.list("driver_events")
            .iter()
            .find(|e| {
                e["desc"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("connection established"))
            })
            .map(|e| num(&e["t_rel"]))
            .unwrap_or_else(|| panic!("{}: no `connection established` event", self.name))
    }

    /// The segments from the trigger on that the client sent or received.
    fn segments(&self) -> Vec<Seg> {
        self.list("packets")
            .iter()
            .filter(|p| num(&p["t_rel"]) >= 0.0)
            .filter(|p| p["dir"] == "a->b" || p["on_wire"] == true)
            .map(|p| Seg {
                t: num(&p["t_rel"]),
                dir: if p["dir"] == "a->b" {
                    Direction::AtoB
                } else {
                    Direction::BtoA
                },
                flags: p["flags"].as_str().unwrap_or_default().to_string(),
                seq: p["seq"].as_i64(),
                ack: p["ack"].as_i64(),
                len: p["len"].as_u64().unwrap_or(0),
            })
            .collect()
    }

    fn call(&self, tag: &str) -> &Value {
        self.list("app")
            .iter()
            .find(|a| a["tag"] == tag)
            .unwrap_or_else(|| panic!("{}: no app call `{tag}`", self.name))
    }

    fn call_start(&self, tag: &str) -> f64 {
        num(&self.call(tag)["t_rel_start"])
    }

    fn call_end(&self, tag: &str) -> f64 {
        num(&self.call(tag)["t_rel_end"])
    }

    fn sample_times(&self, ns: &str) -> Vec<f64> {
        self.json["sample_times"][ns]
            .as_array()
            .unwrap_or_else(|| panic!("{}: no sample times for {ns}", self.name))
            .iter()
            .map(num)
            .collect()
    }

    /// The sample time on `ns` nearest `t`.
    fn nearest_sample(&self, ns: &str, t: f64) -> f64 {
        self.sample_times(ns)
            .into_iter()
            .min_by(|x, y| (x - t).abs().total_cmp(&(y - t).abs()))
            .expect("sample times")
    }

    /// What `ss` showed of the connection on `ns` at sample time `t`.
    fn snap(&self, ns: &str, t: f64) -> Snap {
        let s = self
            .list("ss_samples")
            .iter()
            .find(|s| s["ns"] == ns && (num(&s["t_rel"]) - t).abs() < 1e-6)?;
        let state = s["state"].as_str().unwrap_or_default().to_string();
        let timer = s["timer"].as_str().map(|timer| {
            let fields: Vec<&str> = timer.split(',').collect();
            let count = fields.last().and_then(|n| n.parse().ok()).unwrap_or(0);
            (fields[0].to_string(), count)
        });
        Some((state, timer))
    }

    /// (last seen, gone by) of the connection on `ns`, if it vanished while recorded.
    fn gone(&self, ns: &str) -> Option<(f64, f64)> {
        let tl = self
            .list("socket_timelines")
            .iter()
            .find(|t| t["ns"] == ns)
            .unwrap_or_else(|| panic!("{}: no socket timeline for {ns}", self.name));
        tl["gone_by"]
            .as_f64()
            .map(|gone| (num(&tl["last_seen"]), gone))
    }

    /// The time of the last segment sent or received before `t` (0 if none): when the timer
    /// that ended something at `t` was last armed.
    fn last_segment_before(&self, t: f64) -> f64 {
        // Segments within a millisecond before `t` are its consequences (the RST of a
        // keepalive give-up goes out just before recv() returns).
        self.segments()
            .iter()
            .map(|s| s.t)
            .filter(|&s| s < t - 0.001)
            .fold(0.0, f64::max)
    }
}

// ---- the lab's side --------------------------------------------------------------------------

fn ns_of(side: Side) -> &'static str {
    match side {
        Side::A => "tla",
        Side::B => "tlb",
    }
}

fn ix(side: Side) -> usize {
    match side {
        Side::A => 0,
        Side::B => 1,
    }
}

/// tcpdump's flag letters, in tcpdump's order.
fn flag_letters(flags: TcpFlags) -> String {
    [
        (TcpFlags::FIN, 'F'),
        (TcpFlags::SYN, 'S'),
        (TcpFlags::RST, 'R'),
        (TcpFlags::PSH, 'P'),
        (TcpFlags::ACK, '.'),
        (TcpFlags::URG, 'U'),
        (TcpFlags::ECE, 'E'),
        (TcpFlags::CWR, 'W'),
    ]
    .iter()
    .filter(|(f, _)| flags.contains(*f))
    .map(|&(_, c)| c)
    .collect()
}

/// What the lab records after every event, kept apart from the [`Pair`] so it can watch it run.
struct Watch {
    trigger: Instant,
    /// The connection's (local, remote) on each side.
    conn: [Option<(SocketAddr, SocketAddr)>; 2],
    /// Every change of the connection's state on each side, `None` once it is gone.
    changes: [Vec<(f64, Option<TcpState>)>; 2],
    /// The server application reads whatever arrives at once (a blocking recv loop).
    server_reads: Option<Fd>,
    /// The client application is blocked in sendall() with this much left to write.
    sendall: Option<(Fd, usize)>,
}

impl Watch {
    fn rel(&self, at: Instant) -> f64 {
        (at.as_nanos() as f64 - self.trigger.as_nanos() as f64) / 1e9
    }

    fn record(&mut self, p: &mut Pair) {
        if let Some(fd) = self.server_reads {
            let mut buf = [0u8; 65536];
            while let Ok(n) = p.call_b(|s, now| s.recv(now, fd, &mut buf)) {
                if n == 0 {
                    break;
                }
            }
        }
        if let Some((fd, left)) = &mut self.sendall {
            let fd = *fd;
            while *left > 0 {
                let chunk = vec![b'z'; (*left).min(65536)];
                match p.call_a(|s, now| s.send(now, fd, &chunk)) {
                    Ok(n) if n > 0 => *left -= n,
                    _ => break,
                }
            }
        }
        let now = self.rel(p.now());
        for side in [Side::A, Side::B] {
            let Some((local, remote)) = self.conn[ix(side)] else {
                continue;
            };
            // A socket in CLOSE is unhashed on Linux: the connection is over even while a
            // descriptor still holds it.
            let state = p
                .stack(side)
                .connections()
                .into_iter()
                .find(|&(l, r, s)| l == local && r == remote && s != TcpState::Close)
                .map(|(_, _, s)| s);
            let changes = &mut self.changes[ix(side)];
            if changes.last().map(|c| c.1) != Some(state) {
                changes.push((now, state));
            }
        }
    }
}

/// A [`Pair`] set up like one trace, run in step with the trace's clock (seconds from its
/// trigger), with what the lab's `ss` showed at the trace's sample times.
struct Lab {
    trace: Trace,
    p: Pair,
    watch: Watch,
    client: Option<Fd>,
    server: Option<Fd>,
    samples: [Vec<(f64, Snap)>; 2],
    pending: [VecDeque<f64>; 2],
}

impl Lab {
    /// Client and server with the trace's sysctls, default HZ 250, a 25 µs one-way delay.
    fn new(name: &str) -> Lab {
        let trace = Trace::load(name);
        let mut a = StackConfig::default();
        trace.apply_sysctls("tla", &mut a.sysctls);
        let mut b = StackConfig::default();
        trace.apply_sysctls("tlb", &mut b.sysctls);
        let p = Pair::new().config_a(a).config_b(b).delay(ONE_WAY);
        Lab {
            trace,
            p,
            watch: Watch {
                trigger: Instant::ZERO,
                conn: [None, None],
                changes: [Vec::new(), Vec::new()],
                server_reads: None,
                sendall: None,
            },
            client: None,
            server: None,
            samples: [Vec::new(), Vec::new()],
            pending: [VecDeque::new(), VecDeque::new()],
        }
    }

    fn at(&self, t: f64) -> Instant {
        let ns = self.watch.trigger.as_nanos() as i128 + (t * 1e9).round() as i128;
        Instant::from_nanos(ns.max(0) as u64)
    }

    fn client(&self) -> Fd {
        self.client.expect("no client socket")
    }

    fn server(&self) -> Fd {
        self.server.expect("no accepted server socket")
    }

    fn listen(&mut self, opts: &[SockOpt]) -> SocketAddr {
        let addr = SocketAddr::new(self.p.addr(Side::B), PORT);
        let r = self.p.call_b(|s, now| -> Result<Fd, Errno> {
            let fd = s.socket(Domain::Inet)?;
            for &o in opts {
                s.setsockopt(now, fd, o)?;
            }
            s.bind(fd, addr)?;
            s.listen(fd, 16)?;
            Ok(fd)
        });
        r.unwrap_or_else(|e| panic!("listen on {addr}: {e:?}"));
        addr
    }

    fn connect(&mut self, server: SocketAddr, opts: &[SockOpt]) -> Fd {
        let r = self.p.call_a(|s, now| -> Result<Fd, Errno> {
            let fd = s.socket(Domain::Inet)?;
            for &o in opts {
                s.setsockopt(now, fd, o)?;
            }
            match s.connect(now, fd, server) {
                Ok(()) | Err(Errno::EINPROGRESS) => Ok(fd),
                Err(e) => Err(e),
            }
        });
        let fd = r.unwrap_or_else(|e| panic!("connect to {server}: {e:?}"));
        let entry = self
            .p
            .a()
            .sockets(self.p.now())
            .into_iter()
            .find(|e| e.fd == Some(fd))
            .expect("the connecting socket");
        let local = entry.local;
        self.watch.conn = [Some((local, server)), Some((server, local))];
        self.client = Some(fd);
        fd
    }

    /// Opens the connection with these options set before connect() and before listen(), and
    /// puts the trigger where the trace has it relative to the end of the handshake.
    fn open(&mut self, client_opts: &[SockOpt], listener_opts: &[SockOpt]) {
        let server = self.listen(listener_opts);
        let listener = self
            .p
            .b()
            .sockets(self.p.now())
            .into_iter()
            .find(|e| e.state == TcpState::Listen)
            .and_then(|e| e.fd)
            .expect("listener");
        let client = self.connect(server, client_opts);
        let up = self.p.run_while(
            |p| p.a().state(client) != Some(TcpState::Established),
            Duration::from_secs(1),
        );
        assert!(up, "{}: no connection within 1 s", self.trace.name);
        let est = self
            .p
            .events_of(Side::A, client)
            .into_iter()
            .find(|(_, e)| {
                matches!(
                    e,
                    Event::StateChanged {
                        to: TcpState::Established,
                        ..
                    }
                )
            })
            .map(|(at, _)| at)
            .expect("client established");
        let offset = Duration::from_secs_f64(-self.trace.established());
        // connect() returns just after the handshake's ACK went out, so a trigger at that
        // instant comes after the ACK, as on the kernel.
        self.start(est + offset.max(Duration::from_micros(1)));
        // The server accepts as soon as the ACK is in (before the trigger, or just after it
        // when the trigger is the end of the handshake).
        loop {
            self.server = self
                .p
                .call_b(|s, now| s.accept(now, listener))
                .ok()
                .map(|(fd, _)| fd);
            if self.server.is_some() {
                break;
            }
            let t = self.watch.rel(self.p.now()) + 1e-6;
            assert!(t < 1.0, "{}: nothing to accept", self.trace.name);
            self.run_to(t);
        }
    }

    /// A listener on b; the trigger is a's connect() (made by the caller) one second in.
    fn prepare_connect(&mut self) -> SocketAddr {
        let server = self.listen(&[]);
        self.p.run_until(Instant::from_secs(1));
        self.start(Instant::from_secs(1));
        server
    }

    fn start(&mut self, trigger: Instant) {
        assert!(trigger >= self.p.now(), "trigger in the past");
        self.watch.trigger = trigger;
        for (dir, t) in self.trace.drops() {
            let from = self.at(t);
            // A rule dated before now must not have missed a segment.
            assert!(
                !self
                    .p
                    .captured()
                    .iter()
                    .any(|c| c.dir == dir && c.at >= from),
                "drop rule added too late"
            );
            self.p.add_hook(move |pkt| {
                if pkt.dir == dir && pkt.at >= from {
                    Verdict::Drop
                } else {
                    Verdict::Pass
                }
            });
        }
        for side in [Side::A, Side::B] {
            self.pending[ix(side)] = self
                .trace
                .sample_times(ns_of(side))
                .into_iter()
                .filter(|&t| t >= 0.0)
                .collect();
        }
        self.run_to(0.0);
    }

    /// Runs to `t` seconds after the trigger, recording after every event and sampling `ss` at
    /// the trace's sample times.
    fn run_to(&mut self, t: f64) {
        let end = self.at(t);
        assert!(end >= self.p.now(), "{t} s is in the past");
        loop {
            let next = [Side::A, Side::B]
                .into_iter()
                .filter_map(|side| self.pending[ix(side)].front().map(|&s| (self.at(s), side)))
                .filter(|&(at, _)| at <= end)
                .min();
            let stop = next.map_or(end, |(at, _)| at);
            let watch = &mut self.watch;
            self.p.run_while(
                |p| {
                    watch.record(p);
                    true
                },
                stop - self.p.now(),
            );
            let Some((_, side)) = next else { break };
            let t = self.pending[ix(side)].pop_front().expect("pending sample");
            let snap = self.snap(side);
            self.samples[ix(side)].push((t, snap));
        }
    }

    /// The lab's `ss` line for the connection on `side`. A socket in CLOSE is left out, as
    /// inet_diag cannot see it (`linger_zero__reset_socket_leaves_the_table` checks the table).
    fn snap(&self, side: Side) -> Snap {
        let (local, remote) = self.watch.conn[ix(side)]?;
        let e = self
            .p
            .stack(side)
            .sockets(self.p.now())
            .into_iter()
            .find(|e| e.local == local && e.peer == Some(remote) && e.state != TcpState::Close)?;
        Some((
            e.state.ss_name().to_string(),
            e.timer
                .map(|t| (t.kind.ss_name().to_string(), u64::from(t.count))),
        ))
    }

    /// Runs until `side`'s socket reports an error, at most to `limit` s after the trigger.
    fn run_to_error(&mut self, side: Side, fd: Fd, limit: f64) {
        let end = self.at(limit);
        while self.p.now() < end && self.error(side, fd).is_none() {
            let step = (self.p.now() + Duration::from_millis(1)).min(end);
            let t = self.watch.rel(step);
            self.run_to(t);
        }
    }

    /// The first error `side`'s socket reported: (s after the trigger, errno).
    fn error(&self, side: Side, fd: Fd) -> Option<(f64, Errno)> {
        self.p
            .events_of(side, fd)
            .into_iter()
            .find_map(|(at, e)| match e {
                Event::Error(e) => Some((self.watch.rel(at), e)),
                _ => None,
            })
    }

    /// The segments from the trigger on that a sent or b put on the wire to a.
    fn segments(&self) -> Vec<Seg> {
        let parse = |bytes: &[u8]| {
            let (_, l4) = IpRepr::parse(bytes).ok()?;
            let tcp = TcpRepr::parse(l4).ok()?;
            Some((tcp.seq, tcp.ack, tcp.flags, tcp.payload.len() as u64))
        };
        let mut isn = [None, None];
        let mut out = Vec::new();
        for c in self.p.captured() {
            let Some((seq, ack, flags, len)) = parse(&c.bytes) else {
                continue;
            };
            let (me, peer) = match c.dir {
                Direction::AtoB => (0, 1),
                Direction::BtoA => (1, 0),
            };
            if flags.contains(TcpFlags::SYN) {
                isn[me] = Some(seq);
            }
            if c.at < self.watch.trigger || (c.dir == Direction::BtoA && c.dropped) {
                continue;
            }
            let rel = |x: u32, base: Option<u32>| i64::from(x.wrapping_sub(base.unwrap_or(0)));
            out.push(Seg {
                t: self.watch.rel(c.at),
                dir: c.dir,
                flags: flag_letters(flags),
                seq: Some(rel(seq, isn[me])),
                ack: flags.contains(TcpFlags::ACK).then(|| rel(ack, isn[peer])),
                len,
            });
        }
        out
    }

    // ---- checks: each adds what differs from the kernel to `errs` ---------------------------

    /// The segment sequence, and each segment's delay after the previous one (or the trigger).
    fn check_segments(&self, errs: &mut Vec<String>) {
        self.check_segments_from(errs, |_| true);
    }

    /// Compares the exchanges from the first segment `start` accepts on each side.
    fn check_segments_from(&self, errs: &mut Vec<String>, start: impl Fn(&Seg) -> bool) {
        // Segments before the start are not compared; times count from the first one kept.
        let skip = |v: Vec<Seg>| -> (Vec<Seg>, f64) {
            let i = v.iter().position(&start).unwrap_or(v.len());
            let t0 = if i == 0 { 0.0 } else { v[i].t };
            (v[i..].to_vec(), t0)
        };
        let (kernel, k0) = skip(self.trace.segments());
        let (lab, l0) = skip(self.segments());
        // Shown with --nocapture: the whole exchange, for reading next to the trace.
        for s in &lab {
            eprintln!("lab {s}");
        }
        let before = errs.len();
        let (mut prev_k, mut prev_l) = (k0, l0);
        for (i, (k, l)) in kernel.iter().zip(&lab).enumerate() {
            if !k.same_segment(l) {
                errs.push(format!("segment {i}: kernel `{k}`, lab `{l}`"));
                break;
            }
            let (gk, gl) = (k.t - prev_k, l.t - prev_l);
            // One tick of tolerance cannot tell an answer sent at once from one sent by a
            // one-jiffy timer, so that difference is checked on its own.
            // The first segment's delay includes the kernel-side application's own latency.
            if i > 0 && (gk < AT_ONCE_S) != (gl < AT_ONCE_S) {
                errs.push(format!(
                    "segment {i} `{k}`: {:.3} ms after the one before on the kernel, {:.3} ms \
                     in the lab: {} sent it at once",
                    gk * 1e3,
                    gl * 1e3,
                    if gk < AT_ONCE_S {
                        "only the kernel"
                    } else {
                        "only the lab"
                    }
                ));
            } else if !within(gk, gl, gk) {
                errs.push(format!(
                    "segment {i} `{k}`: {:.1} ms after the one before on the kernel, {:.1} ms \
                     in the lab (at {:.6})",
                    gk * 1e3,
                    gl * 1e3,
                    l.t
                ));
            }
            (prev_k, prev_l) = (k.t, l.t);
        }
        if kernel.len() != lab.len() {
            errs.push(format!(
                "{} segments on the kernel, {} in the lab",
                kernel.len(),
                lab.len()
            ));
        }
        if errs.len() > before {
            let list = |v: &[Seg]| {
                v.iter()
                    .map(|s| format!("    {s}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            errs.push(format!(
                "  kernel:\n{}\n  lab:\n{}",
                list(&kernel),
                list(&lab)
            ));
        }
    }

    /// RST or no RST, and which way.
    fn check_rst(&self, errs: &mut Vec<String>) {
        let rsts = |v: Vec<Seg>| -> Vec<String> {
            v.into_iter()
                .filter(|s| s.flags.contains('R'))
                .map(|s| format!("{} {}", s.dir, s.flags))
                .collect()
        };
        let (k, l) = (rsts(self.trace.segments()), rsts(self.segments()));
        if k != l {
            errs.push(format!("RSTs: kernel {k:?}, lab {l:?}"));
        }
    }

    /// The states `ss` showed at the trace's sample times from the trigger on, each once.
    fn check_states(&self, side: Side, errs: &mut Vec<String>) {
        let ns = ns_of(side);
        let dedup = |v: Vec<String>| {
            let mut out: Vec<String> = Vec::new();
            for s in v {
                if out.last() != Some(&s) {
                    out.push(s);
                }
            }
            out
        };
        let state = |s: &Snap| s.as_ref().map_or("gone".to_string(), |s| s.0.clone());
        let taken = &self.samples[ix(side)];
        let kernel = dedup(
            taken
                .iter()
                .map(|(t, _)| state(&self.trace.snap(ns, *t)))
                .collect(),
        );
        let lab = dedup(taken.iter().map(|(_, s)| state(s)).collect());
        if kernel != lab {
            errs.push(format!("{ns} states: kernel {kernel:?}, lab {lab:?}"));
        }
    }

    /// `ss`'s state and timer kind and count at the trace samples nearest `times`.
    fn check_ss(&self, side: Side, times: &[f64], errs: &mut Vec<String>) {
        let ns = ns_of(side);
        for &want in times {
            let t = self.trace.nearest_sample(ns, want);
            let kernel = self.trace.snap(ns, t);
            let Some((_, lab)) = self.samples[ix(side)]
                .iter()
                .find(|(s, _)| (s - t).abs() < 1e-9)
            else {
                errs.push(format!("{ns}: the lab did not run to the sample at {t}"));
                continue;
            };
            if &kernel != lab {
                errs.push(format!(
                    "{ns} ss at {t:.3}: kernel `{}`, lab `{}`",
                    show(&kernel),
                    show(lab)
                ));
            }
        }
    }

    /// When the connection vanished on `side`, against the trace's (last seen, gone by)
    /// window; `timer_start` is when the timer that ends it was armed. A connection the trace
    /// saw to the end must still be there.
    fn check_gone_after(&self, side: Side, timer_start: f64, errs: &mut Vec<String>) {
        let ns = ns_of(side);
        let changes = &self.watch.changes[ix(side)];
        let lab = changes.last().filter(|c| c.1.is_none()).map(|c| c.0);
        match (self.trace.gone(ns), lab) {
            (None, None) => {}
            (None, Some(t)) => errs.push(format!(
                "{ns}: the kernel's connection lived to the end, the lab's went at {t:.3}"
            )),
            (Some((seen, gone)), None) => errs.push(format!(
                "{ns}: the kernel's connection went between {seen:.3} and {gone:.3}, the lab's \
                 is still there ({changes:?})"
            )),
            (Some((seen, gone)), Some(t)) => {
                let len = gone - timer_start;
                if !((seen..=gone).contains(&t) || within(seen, t, len) || within(gone, t, len)) {
                    errs.push(format!(
                        "{ns}: the kernel's connection went between {seen:.3} and {gone:.3}, \
                         the lab's at {t:.3}"
                    ));
                }
            }
        }
    }

    /// Like [`Lab::check_gone_after`], timed from the last segment before the kernel's end.
    fn check_gone(&self, side: Side, errs: &mut Vec<String>) {
        let start = self
            .trace
            .gone(ns_of(side))
            .map_or(0.0, |(seen, _)| self.trace.last_segment_before(seen));
        self.check_gone_after(side, start, errs);
    }

    /// The errno a blocked call got (the trace's app call `tag`) against the first error the
    /// lab's socket reported, and when, timed from the last segment before it.
    fn check_error(&self, side: Side, fd: Fd, tag: &str, errs: &mut Vec<String>) {
        let name = self.trace.call(tag)["errname"].as_str().unwrap_or("none");
        let t = self.trace.call_end(tag);
        let len = t - self.trace.last_segment_before(t);
        match self.error(side, fd) {
            Some((at, e)) if e.name() == name && within(t, at, len) => {}
            Some((at, e)) => errs.push(format!(
                "`{tag}`: kernel {name} at {t:.3}, lab {} at {at:.3}",
                e.name()
            )),
            None => errs.push(format!("`{tag}`: kernel {name} at {t:.3}, lab no error")),
        }
    }

    /// The result of a call made at the trace's time against the trace's.
    fn check_result(&self, tag: &str, lab: Result<usize, Errno>, errs: &mut Vec<String>) {
        let call = self.trace.call(tag);
        let kernel = call["errname"].as_str().unwrap_or("ok");
        let lab = lab.map_or_else(|e| e.name(), |_| "ok");
        if kernel != lab {
            errs.push(format!("`{tag}`: kernel {kernel}, lab {lab}"));
        }
    }

    fn finish(&self, errs: Vec<String>) {
        assert!(
            errs.is_empty(),
            "{} differs from Linux:\n{}",
            self.trace.name,
            errs.join("\n")
        );
    }
}

// ---- one test per trace ----------------------------------------------------------------------

/// Kernel: with tcp_orphan_retries=3 the orphaned client's FIN went at 0, 0.205 (TLP), 0.413,
/// 0.837, 1.669 and 3.337 s; `ss` showed `FIN-WAIT-1 timer:(on,…,n)` counting RTO
/// retransmissions only; the socket vanished silently when the next RTO fired (~6.7 s); no RST.
/// Lab: the server's output to the client is dropped from 0.3 s before the close; the server
/// reads EOF and closes, as in the trace (its own FIN never reaches the client either way).
#[test]
fn fin_wait1_orphan__orphan_retries_3() {
    let mut lab = Lab::new("fin_wait1_orphan__orphan_retries_3");
    lab.open(&[], &[]);
    let (c, s) = (lab.client(), lab.server());
    lab.p.call_a(|st, now| st.close(now, c)).unwrap();
    lab.run_to(lab.trace.call_end("server recv"));
    let eof = lab.p.call_b(|st, now| st.recv(now, s, &mut [0; 1000]));
    let mut errs = Vec::new();
    lab.check_result("server recv", eof, &mut errs);
    lab.run_to(lab.trace.call_start("server close after EOF"));
    lab.p.call_b(|st, now| st.close(now, s)).unwrap();
    lab.run_to(11.2);
    lab.check_segments(&mut errs);
    lab.check_rst(&mut errs);
    lab.check_states(Side::A, &mut errs);
    lab.check_states(Side::B, &mut errs);
    lab.check_gone(Side::A, &mut errs);
    lab.check_ss(Side::A, &[0.3, 0.6, 1.2, 2.5, 5.0, 7.0], &mut errs);
    lab.finish(errs);
}

/// Kernel: tcp_syn_retries=3 with the default 4 linear timeouts sent SYNs at 0, 1.013, 2.037,
/// 3.061, 4.085, 5.109, 7.129 and 11.157 s; connect() failed with ETIMEDOUT at 19.350 s; no
/// RST. Lab: the server drops everything from the client (INPUT DROP), connect() is the
/// trigger.
#[test]
fn syn_retries__syn_retries_3() {
    syn_retries(
        "syn_retries__syn_retries_3",
        &[0.5, 1.5, 2.5, 3.6, 4.6, 6.0, 9.0, 15.0, 20.0],
    );
}

/// Kernel: tcp_syn_retries=3, tcp_syn_linear_timeouts=0 sent SYNs at 0, 1.028, 3.043 and
/// 7.299 s; connect() failed with ETIMEDOUT at 15.492 s; no RST. Lab: as above.
#[test]
fn syn_retries__syn_retries_3_linear_0() {
    syn_retries(
        "syn_retries__syn_retries_3_linear_0",
        &[0.5, 2.0, 5.0, 10.0, 16.5],
    );
}

fn syn_retries(name: &str, ss_times: &[f64]) {
    let mut lab = Lab::new(name);
    let server = lab.prepare_connect();
    let c = lab.connect(server, &[]);
    let end = lab
        .trace
        .sample_times("tla")
        .last()
        .copied()
        .expect("samples");
    lab.run_to(end);
    let mut errs = Vec::new();
    lab.check_segments(&mut errs);
    lab.check_rst(&mut errs);
    lab.check_error(Side::A, c, "client connect", &mut errs);
    let again = lab.p.call_a(|st, now| st.connect(now, c, server));
    if again.is_ok() {
        errs.push("connect() after the failure succeeded".into());
    }
    let history = lab.p.state_history(Side::A, c);
    let want = [TcpState::Close, TcpState::SynSent, TcpState::Close];
    if history != want {
        errs.push(format!(
            "client states by events: {history:?}, want {want:?}"
        ));
    }
    lab.check_states(Side::A, &mut errs);
    lab.check_gone(Side::A, &mut errs);
    lab.check_ss(Side::A, ss_times, &mut errs);
    lab.finish(errs);
}

/// Kernel: with tcp_retries2=5 the 100-byte segment went at 0, 0.206 (TLP), 0.414, 0.846,
/// 1.682, 3.342 and 6.766 s; the blocked recv() got ETIMEDOUT at 13.422 s, a later send()
/// EPIPE, recv() 0 and SO_ERROR 0; the socket vanished; no RST. Lab: the server's output is
/// dropped from 0.3 s before the send; the server reads the data as in the trace.
#[test]
fn retries2__retries2_5() {
    let mut lab = Lab::new("retries2__retries2_5");
    lab.open(&[], &[]);
    let (c, s) = (lab.client(), lab.server());
    lab.p
        .call_a(|st, now| st.send(now, c, &[b'x'; 100]))
        .unwrap();
    lab.run_to(lab.trace.call_end("server recv"));
    let mut errs = Vec::new();
    let got = lab.p.call_b(|st, now| st.recv(now, s, &mut [0; 1000]));
    if got != Ok(100) {
        errs.push(format!("server recv: kernel 100 bytes, lab {got:?}"));
    }
    lab.run_to_error(Side::A, c, 20.0);
    lab.check_error(Side::A, c, "client blocking recv", &mut errs);
    let mut buf = [0u8; 1000];
    let recv = lab.p.call_a(|st, now| st.recv(now, c, &mut buf));
    if recv != Err(Errno::ETIMEDOUT) {
        errs.push(format!("blocked recv(): kernel ETIMEDOUT, lab {recv:?}"));
    }
    let send = lab.p.call_a(|st, now| st.send(now, c, &[b'y'; 10]));
    lab.check_result("client send after failure", send, &mut errs);
    let recv = lab.p.call_a(|st, now| st.recv(now, c, &mut buf));
    if recv != Ok(0) {
        errs.push(format!("recv() after the failure: kernel 0, lab {recv:?}"));
    }
    let so_error = lab
        .p
        .call_a(|st, _| st.getsockopt(c, tcplab_stack::SockOptName::Error));
    if so_error != Ok(SockOpt::Error(0)) {
        errs.push(format!(
            "SO_ERROR after the failure: kernel 0, lab {so_error:?}"
        ));
    }
    lab.run_to(14.8);
    lab.check_segments(&mut errs);
    lab.check_rst(&mut errs);
    lab.check_states(Side::A, &mut errs);
    lab.check_gone(Side::A, &mut errs);
    lab.check_ss(Side::A, &[0.3, 0.6, 1.2, 2.5, 5.0, 10.0, 14.0], &mut errs);
    lab.finish(errs);
}

const KEEPALIVE_2_1_3: [SockOpt; 4] = [
    SockOpt::KeepAlive(true),
    SockOpt::KeepIdle(2),
    SockOpt::KeepIntvl(1),
    SockOpt::KeepCnt(3),
];

/// Kernel: SO_KEEPALIVE with TCP_KEEPIDLE=2, TCP_KEEPINTVL=1, TCP_KEEPCNT=3 and a server whose
/// output is dropped from 0.5 s: probes (`.` seq=snd_una-1, no payload) at 2.019, 3.043 and
/// 4.067 s; at 5.091 s an RST (`R.`) and ETIMEDOUT for the client's blocked recv(), ECONNRESET
/// for the server's; the client's later send() got EPIPE; `ss` counted the probes 0→1→2→3.
/// Lab: the same options before connect(); the trigger is the end of the handshake.
#[test]
fn keepalive__peer_dead() {
    let mut lab = Lab::new("keepalive__peer_dead");
    lab.open(&KEEPALIVE_2_1_3, &[]);
    let (c, s) = (lab.client(), lab.server());
    lab.run_to_error(Side::A, c, 8.0);
    let mut errs = Vec::new();
    lab.check_error(Side::A, c, "client blocking recv", &mut errs);
    let recv = lab.p.call_a(|st, now| st.recv(now, c, &mut [0; 1000]));
    if recv != Err(Errno::ETIMEDOUT) {
        errs.push(format!("blocked recv(): kernel ETIMEDOUT, lab {recv:?}"));
    }
    let send = lab.p.call_a(|st, now| st.send(now, c, &[b'y'; 10]));
    lab.check_result("client send after failure", send, &mut errs);
    lab.run_to(6.5);
    lab.check_error(Side::B, s, "server recv", &mut errs);
    lab.check_segments(&mut errs);
    lab.check_rst(&mut errs);
    lab.check_states(Side::A, &mut errs);
    lab.check_states(Side::B, &mut errs);
    lab.check_gone(Side::A, &mut errs);
    lab.check_gone(Side::B, &mut errs);
    lab.check_ss(Side::A, &[1.0, 2.5, 3.5, 4.5, 6.0], &mut errs);
    lab.check_ss(Side::B, &[1.0, 6.0], &mut errs);
    lab.finish(errs);
}

/// Kernel: the same keepalive settings with a live peer: a probe every 2 s (KEEPIDLE, not
/// KEEPINTVL, since each is answered) at 2.019, 4.039 and 6.052 s, each ACKed at once;
/// `ss` showed `timer:(keepalive,…,0)` throughout; no error, no RST.
#[test]
fn keepalive__peer_alive() {
    let mut lab = Lab::new("keepalive__peer_alive");
    lab.open(&KEEPALIVE_2_1_3, &[]);
    let (c, s) = (lab.client(), lab.server());
    lab.run_to(7.6);
    let mut errs = Vec::new();
    for (side, fd) in [(Side::A, c), (Side::B, s)] {
        if let Some((t, e)) = lab.error(side, fd) {
            errs.push(format!(
                "{side:?}: no error on the kernel, lab {e:?} at {t:.3}"
            ));
        }
    }
    lab.check_segments(&mut errs);
    lab.check_rst(&mut errs);
    lab.check_states(Side::A, &mut errs);
    lab.check_states(Side::B, &mut errs);
    lab.check_ss(Side::A, &[1.0, 3.0, 5.0, 7.0], &mut errs);
    lab.finish(errs);
}

/// Kernel: tcp_fin_timeout=3; the client close()s, the server ACKs the FIN one jiffy later;
/// the orphan shows as `FIN-WAIT-2 timer:(timewait,…,0)` and vanishes silently ~3.2 s later.
/// The server's data at 5 s draws a bare `R` (seq = its ack); its second send() at 5.3 s gets
/// EPIPE (RST in CLOSE_WAIT) and recv() 0.
#[test]
fn fin_wait2_timeout__orphan() {
    let mut lab = Lab::new("fin_wait2_timeout__orphan");
    lab.open(&[], &[]);
    let (c, s) = (lab.client(), lab.server());
    lab.p.call_a(|st, now| st.close(now, c)).unwrap();
    lab.run_to(lab.trace.call_end("server recv"));
    let mut errs = Vec::new();
    let eof = lab.p.call_b(|st, now| st.recv(now, s, &mut [0; 1000]));
    lab.check_result("server recv", eof, &mut errs);
    lab.run_to(lab.trace.call_start("server send at 5 s"));
    let sent = lab.p.call_b(|st, now| st.send(now, s, b"late data"));
    lab.check_result("server send at 5 s", sent, &mut errs);
    lab.run_to(lab.trace.call_start("server 2nd send"));
    let sent = lab.p.call_b(|st, now| st.send(now, s, b"more data"));
    lab.check_result("server 2nd send", sent, &mut errs);
    lab.run_to(lab.trace.call_start("server recv after RST"));
    let eof = lab.p.call_b(|st, now| st.recv(now, s, &mut [0; 1000]));
    lab.check_result("server recv after RST", eof, &mut errs);
    lab.run_to(6.7);
    lab.check_segments(&mut errs);
    lab.check_rst(&mut errs);
    lab.check_states(Side::A, &mut errs);
    lab.check_states(Side::B, &mut errs);
    lab.check_gone(Side::A, &mut errs);
    lab.check_gone(Side::B, &mut errs);
    lab.check_ss(Side::A, &[0.5, 2.5, 3.5], &mut errs);
    lab.check_ss(Side::B, &[1.0, 5.5], &mut errs);
    lab.finish(errs);
}

/// Kernel: tcp_fin_timeout=3 and shutdown(SHUT_WR) without close(): FIN_WAIT2 with no timer
/// at all for 8 s; close() at 8 s turns it into `FIN-WAIT-2 timer:(timewait,…,0)`, gone ~3.2 s
/// later; no RST. The server stays in CLOSE_WAIT.
#[test]
fn fin_wait2_timeout__shutdown_wr() {
    let mut lab = Lab::new("fin_wait2_timeout__shutdown_wr");
    lab.open(&[], &[]);
    let (c, s) = (lab.client(), lab.server());
    lab.p
        .call_a(|st, now| st.shutdown(now, c, tcplab_stack::Shutdown::Write))
        .unwrap();
    lab.run_to(lab.trace.call_end("server recv"));
    let mut errs = Vec::new();
    let eof = lab.p.call_b(|st, now| st.recv(now, s, &mut [0; 1000]));
    lab.check_result("server recv", eof, &mut errs);
    let close_at = lab.trace.call_start("client close at 8 s");
    lab.run_to(close_at);
    lab.p.call_a(|st, now| st.close(now, c)).unwrap();
    lab.run_to(12.8);
    lab.check_segments(&mut errs);
    lab.check_rst(&mut errs);
    lab.check_states(Side::A, &mut errs);
    lab.check_states(Side::B, &mut errs);
    lab.check_gone_after(Side::A, close_at, &mut errs);
    lab.check_gone(Side::B, &mut errs);
    lab.check_ss(Side::A, &[1.0, 7.5, 8.5, 10.5, 11.5], &mut errs);
    lab.check_ss(Side::B, &[1.0, 12.0], &mut errs);
    lab.finish(errs);
}

/// Kernel: a plain active close: `F.` from the client; the server app reads EOF and closes
/// within the delayed-ACK jiffy, so its ACK rides on its FIN (`F.` at 0.9 ms); the client ACKs
/// and sits in `TIME-WAIT timer:(timewait,59sec,0)`, its timer starting at 60.0 s (59.992 s
/// left at the first sample, 6 ms in); the server's socket is gone.
#[test]
fn time_wait__plain() {
    let mut lab = Lab::new("time_wait__plain");
    lab.open(&[], &[]);
    let (c, s) = (lab.client(), lab.server());
    lab.p.call_a(|st, now| st.close(now, c)).unwrap();
    lab.run_to(lab.trace.call_end("server recv"));
    let mut errs = Vec::new();
    let eof = lab.p.call_b(|st, now| st.recv(now, s, &mut [0; 1000]));
    lab.check_result("server recv", eof, &mut errs);
    lab.run_to(lab.trace.call_start("server close after EOF"));
    lab.p.call_b(|st, now| st.close(now, s)).unwrap();
    let first = lab.trace.nearest_sample("tla", 0.0);
    lab.run_to(first);
    let kernel_left = lab.trace.list("ss_samples").iter().find_map(|x| {
        (x["ns"] == "tla" && (num(&x["t_rel"]) - first).abs() < 1e-6)
            .then(|| num(&x["diag"]["expires_ms"]) / 1e3)
    });
    let lab_left = lab
        .p
        .a()
        .sockets(lab.p.now())
        .into_iter()
        .find_map(|e| e.timer.map(|t| t.expires_ms as f64 / 1e3));
    match (kernel_left, lab_left) {
        (Some(k), Some(l)) if within(k, l, 60.0) => {}
        (k, l) => errs.push(format!(
            "TIME_WAIT timer left at {first:.3}: kernel {k:?} s, lab {l:?} s"
        )),
    }
    lab.run_to(3.9);
    lab.check_segments(&mut errs);
    lab.check_rst(&mut errs);
    lab.check_states(Side::A, &mut errs);
    lab.check_states(Side::B, &mut errs);
    lab.check_gone(Side::A, &mut errs);
    lab.check_gone(Side::B, &mut errs);
    lab.check_ss(Side::A, &[0.0, 2.0, 3.5], &mut errs);
    lab.finish(errs);
}

/// Kernel: the server's listener has SO_RCVBUF=4096 (window 2896, wscale 0) and the server
/// never reads; the client sendall()s 1 MiB. 4344 bytes get in; the server advertises a zero
/// window at 0.042 s (its 40 ms delayed ACK); zero-window probes (`.` seq=snd_una-1, len 0) at
/// 0.254, 0.699, 1.564, 3.258, 6.810 and 13.750 s; the probe at 0.699 is not answered (the
/// receiver's 500 ms tcp_invalid_ratelimit); `ss` shows `persist` with the unanswered count.
///
/// How the first 4344 bytes get in depends on the kernel's real-time send path (sendall()
/// pushed one segment, the ACK overtook the next two, and the receiver, out of window space,
/// let its delayed ACK carry the zero window 40 ms later), so the segments are compared from
/// the first zero-window probe on; before that, both must have filled exactly the window.
#[test]
fn persist__default() {
    let mut lab = Lab::new("persist__default");
    lab.open(&[], &[SockOpt::RcvBuf(4096)]);
    let (c, s) = (lab.client(), lab.server());
    let mut errs = Vec::new();
    let kernel = lab.trace.call("server SO_RCVBUF")["value"].as_u64();
    let got = lab
        .p
        .call_b(|st, _| st.getsockopt(s, tcplab_stack::SockOptName::RcvBuf));
    if got.map(|o| match o {
        SockOpt::RcvBuf(v) => Some(u64::from(v)),
        _ => None,
    }) != Ok(kernel)
    {
        errs.push(format!(
            "accepted socket's SO_RCVBUF: kernel {kernel:?}, lab {got:?}"
        ));
    }
    let window = |v: &Value| v["win"].as_u64();
    let kernel_synack = lab
        .trace
        .list("packets")
        .iter()
        .find(|x| x["flags"] == "S.")
        .and_then(window);
    let lab_synack = lab.p.captured().iter().find_map(|x| {
        let (_, l4) = IpRepr::parse(&x.bytes).ok()?;
        let tcp = TcpRepr::parse(l4).ok()?;
        (tcp.flags.contains(TcpFlags::SYN) && tcp.flags.contains(TcpFlags::ACK))
            .then_some(u64::from(tcp.window))
    });
    if kernel_synack != lab_synack {
        errs.push(format!(
            "SYN-ACK window: kernel {kernel_synack:?}, lab {lab_synack:?}"
        ));
    }
    lab.watch.sendall = Some((c, 1 << 20));
    lab.run_to(15.4);
    let probe = |x: &Seg| x.dir == Direction::AtoB && x.len == 0 && x.seq == Some(4344);
    let filled = |v: &[Seg]| {
        v.iter()
            .filter(|x| x.dir == Direction::AtoB && x.len > 0)
            .filter_map(|x| x.seq.map(|s| s + x.len as i64))
            .max()
    };
    if filled(&lab.trace.segments()) != filled(&lab.segments()) {
        errs.push(format!(
            "bytes sent before the window closed: kernel {:?}, lab {:?}",
            filled(&lab.trace.segments()),
            filled(&lab.segments())
        ));
    }
    lab.check_segments_from(&mut errs, probe);
    lab.check_rst(&mut errs);
    lab.check_states(Side::A, &mut errs);
    lab.check_states(Side::B, &mut errs);
    lab.check_ss(Side::A, &[0.1, 0.5, 1.0, 2.5, 10.0], &mut errs);
    lab.finish(errs);
}

/// Sends 10 bytes at each time the trace's client sent a data segment (TCP_NODELAY).
fn send_like_the_trace(lab: &mut Lab) {
    let c = lab.client();
    let times: Vec<f64> = lab
        .trace
        .segments()
        .iter()
        .filter(|s| s.dir == Direction::AtoB && s.len > 0)
        .map(|s| s.t)
        .collect();
    for t in times {
        lab.run_to(t);
        lab.p
            .call_a(|st, now| st.send(now, c, &[b'd'; 10]))
            .unwrap();
    }
}

/// Kernel: a TCP_NODELAY client sends 10 bytes every 0.5 s and the server app reads each at
/// once: every ACK is immediate (0.03–0.05 ms), by the ACK on read and by quick-ACK mode
/// re-entered after gaps longer than the RTO.
#[test]
fn delayed_ack__interval_500ms() {
    let mut lab = Lab::new("delayed_ack__interval_500ms");
    lab.open(&[SockOpt::NoDelay(true)], &[]);
    lab.watch.server_reads = Some(lab.server());
    send_like_the_trace(&mut lab);
    lab.run_to(4.5);
    let mut errs = Vec::new();
    lab.check_segments(&mut errs);
    lab.check_rst(&mut errs);
    lab.check_states(Side::A, &mut errs);
    lab.check_states(Side::B, &mut errs);
    lab.check_ss(Side::A, &[0.25, 1.75, 3.75], &mut errs);
    lab.finish(errs);
}

/// Kernel: 10 bytes every 0.1 s to a server app that never reads: the first 16 segments are
/// ACKed at once (quick-ACK credit), the rest by the delayed-ACK timer 40–47 ms later.
#[test]
fn delayed_ack__interval_100ms_noread() {
    let mut lab = Lab::new("delayed_ack__interval_100ms_noread");
    lab.open(&[SockOpt::NoDelay(true)], &[]);
    send_like_the_trace(&mut lab);
    lab.run_to(3.9);
    let mut errs = Vec::new();
    lab.check_segments(&mut errs);
    lab.check_rst(&mut errs);
    lab.check_states(Side::A, &mut errs);
    lab.check_states(Side::B, &mut errs);
    lab.check_ss(Side::A, &[0.5, 1.5, 3.5], &mut errs);
    lab.finish(errs);
}

/// Kernel: close() after SO_LINGER {1, 0} sends `R.` (seq = snd_nxt) at once and no FIN; both
/// sockets vanish; the server's blocked recv() gets ECONNRESET, its send() then EPIPE.
#[test]
fn linger_zero() {
    let mut lab = Lab::new("linger_zero");
    lab.open(&[], &[]);
    let (c, s) = (lab.client(), lab.server());
    let mut errs = Vec::new();
    let set = lab
        .p
        .call_a(|st, now| st.setsockopt(now, c, SockOpt::Linger(Some(0))));
    if set.is_err() {
        errs.push(format!("SO_LINGER {{1, 0}}: {set:?}"));
    }
    lab.p.call_a(|st, now| st.close(now, c)).unwrap();
    lab.run_to(lab.trace.call_start("server send after RST"));
    lab.check_error(Side::B, s, "server blocking recv", &mut errs);
    let recv = lab.p.call_b(|st, now| st.recv(now, s, &mut [0; 1000]));
    if recv != Err(Errno::ECONNRESET) {
        errs.push(format!("server recv(): kernel ECONNRESET, lab {recv:?}"));
    }
    let send = lab.p.call_b(|st, now| st.send(now, s, b"after rst"));
    lab.check_result("server send after RST", send, &mut errs);
    lab.run_to(1.8);
    lab.check_segments(&mut errs);
    lab.check_rst(&mut errs);
    lab.check_states(Side::A, &mut errs);
    lab.check_states(Side::B, &mut errs);
    lab.check_gone(Side::A, &mut errs);
    lab.check_gone(Side::B, &mut errs);
    lab.check_ss(Side::A, &[0.5], &mut errs);
    lab.check_ss(Side::B, &[0.5], &mut errs);
    lab.finish(errs);
}

/// Kernel (linger_zero): once the RST came in, `ss` no longer listed the server's socket,
/// although the application still held its descriptor: tcp_done() unhashes a socket in CLOSE.
#[test]
fn linger_zero__reset_socket_leaves_the_table() {
    let mut lab = Lab::new("linger_zero");
    lab.open(&[SockOpt::Linger(Some(0))], &[]);
    let (c, s) = (lab.client(), lab.server());
    lab.p.call_a(|st, now| st.close(now, c)).unwrap();
    lab.run_to(0.5);
    let t = lab.trace.nearest_sample("tlb", 0.5);
    assert_eq!(lab.trace.snap("tlb", t), None, "the trace lists the socket");
    let listed: Vec<String> = lab
        .p
        .b()
        .sockets(lab.p.now())
        .into_iter()
        .filter(|e| e.fd == Some(s))
        .map(|e| e.state.ss_name().to_string())
        .collect();
    assert!(
        listed.is_empty(),
        "the kernel's ss no longer lists the reset server socket; the lab lists it as {listed:?}"
    );
}
