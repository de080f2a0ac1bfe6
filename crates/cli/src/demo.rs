//! `tcplab demo`: one connection between two tcplab stacks in virtual time.
//!
//! The network is the testkit's [`Pair`] (two stacks on one simulated link): the project's
//! discrete-event simulator crate does not exist yet, and the demo moves to it once it does.
//!
//! The applications are small and scripted like `nc`: the server listens on port 1234,
//! accepts one connection and closes its listener (as `nc -l` does), reads to end of stream
//! checking every byte, then closes; the client connects, writes its bytes and closes. The
//! bytes are a seeded [`Pattern`], so the server checks each one without a copy of what was
//! sent.
//!
//! Guarantees: the timeline is a function of the options (the wall-clock time in the summary
//! is the only exception); the run stops at `--timeout` of virtual time whatever the stacks do.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use tcplab_stack::ss::{SocketEntry, SsOptions, ss_table};
use tcplab_stack::{Errno, Event, Fd, Hz, Instant, StackConfig, Sysctls, TcpState};
use tcplab_testkit::{Direction, Pair, Pattern, Side};
use tcplab_wire::print::{Isns, tcpdump_datagram, tcpdump_line_relative};
use tcplab_wire::{IpRepr, TcpFlags, TcpRepr};

/// The server's port, as in the `nc -l 1234` of the seed article.
const SERVER_PORT: u16 = 1234;
/// Bytes per `send` and `recv` call.
const CHUNK: usize = 65536;
/// The listener's backlog (what `ss` shows as its Send-Q).
const BACKLOG: i32 = 128;

/// What `tcplab demo` runs.
#[derive(Clone, Debug)]
pub struct Options {
    pub bytes: u64,
    /// One-way delay of the link.
    pub delay: Duration,
    /// Loss probability in each direction.
    pub loss: f64,
    pub seed: u64,
    pub ipv6: bool,
    pub hz: Hz,
    /// Sysctl writes applied to both hosts, in order, by full name.
    pub sysctls: Vec<(String, String)>,
    /// Virtual times, in milliseconds, at which to print both hosts' `ss -tano`.
    pub ss_at: Vec<u64>,
    /// Virtual time after which the run stops.
    pub timeout: Duration,
    /// Where to write every datagram sent, lost ones included, as a pcap file.
    pub pcap: Option<PathBuf>,
}

/// Parses `--sysctl NAME=VALUE`, checking the write against Linux's rules so that a bad one
/// is a usage error before anything runs. A name without a dot or slash gets `net.ipv4.`.
pub fn parse_sysctl(text: &str) -> Result<(String, String), String> {
    let Some((name, value)) = text.split_once('=') else {
        return Err(format!(
            "expected NAME=VALUE such as net.ipv4.tcp_sack=0, got \"{text}\""
        ));
    };
    let mut name = name.trim().to_string();
    if !name.contains(['.', '/']) {
        name = format!("net.ipv4.{name}");
    }
    let value = value.trim().to_string();
    Sysctls::default()
        .set(&name, &value)
        .map_err(|e| e.to_string())?;
    Ok((name, value))
}

/// The demo's two applications.
#[derive(Debug)]
struct Apps {
    pattern: Pattern,
    bytes: u64,
    client: Fd,
    listener: Option<Fd>,
    /// The server's accepted socket, until it is closed.
    server: Option<Fd>,
    sent: u64,
    pending: Vec<u8>,
    pending_at: usize,
    client_closed: bool,
    received: u64,
    /// The first stream offset whose byte differed from the pattern.
    corrupt_at: Option<u64>,
    eof: bool,
    server_closed: bool,
    /// When the server read end of stream with every byte in place.
    verified_at: Option<Instant>,
    /// A socket call that failed other than with EAGAIN.
    failure: Option<String>,
    buf: Vec<u8>,
}

impl Apps {
    fn done(&self) -> bool {
        (self.client_closed && self.server_closed) || self.failure.is_some()
    }

    /// Makes every socket call that can make progress now, calling `after` after each one so
    /// that the timeline shows each call's effects in order.
    fn pump(&mut self, pair: &mut Pair, after: &mut dyn FnMut(&Pair)) {
        if self.failure.is_some() {
            return;
        }
        if let Err(e) = self
            .pump_server(pair, after)
            .and_then(|()| self.pump_client(pair, after))
        {
            self.failure = Some(e);
        }
    }

    fn pump_server(&mut self, pair: &mut Pair, after: &mut dyn FnMut(&Pair)) -> Result<(), String> {
        if let Some(listener) = self.listener
            && self.server.is_none()
        {
            let accepted = pair.call_b(|s, now| s.accept(now, listener));
            after(pair);
            match accepted {
                Ok((fd, _)) => {
                    self.server = Some(fd);
                    self.listener = None;
                    let closed = pair.call_b(|s, now| s.close(now, listener));
                    after(pair);
                    closed.map_err(|e| call_error("server", "close", e))?;
                }
                Err(Errno::EAGAIN) => return Ok(()),
                Err(e) => return Err(call_error("server", "accept", e)),
            }
        }
        let Some(fd) = self.server else {
            return Ok(());
        };
        while !self.eof {
            let buf = &mut self.buf;
            let read = pair.call_b(|s, now| s.recv(now, fd, buf));
            after(pair);
            match read {
                Ok(0) => self.eof = true,
                Ok(n) => {
                    if self.corrupt_at.is_none()
                        && let Err(at) = self.pattern.check(self.received, &self.buf[..n])
                    {
                        self.corrupt_at = Some(at);
                    }
                    self.received += n as u64;
                }
                Err(Errno::EAGAIN) => return Ok(()),
                Err(e) => return Err(call_error("server", "recv", e)),
            }
        }
        if !self.server_closed {
            if self.received == self.bytes && self.corrupt_at.is_none() {
                self.verified_at = Some(pair.now());
            }
            let closed = pair.call_b(|s, now| s.close(now, fd));
            after(pair);
            closed.map_err(|e| call_error("server", "close", e))?;
            self.server_closed = true;
        }
        Ok(())
    }

    fn pump_client(&mut self, pair: &mut Pair, after: &mut dyn FnMut(&Pair)) -> Result<(), String> {
        let fd = self.client;
        if self.client_closed
            || !matches!(
                pair.a().state(fd),
                Some(TcpState::Established | TcpState::CloseWait)
            )
        {
            return Ok(());
        }
        while self.sent < self.bytes {
            if self.pending_at == self.pending.len() {
                let n = (self.bytes - self.sent).min(CHUNK as u64) as usize;
                self.pending.resize(n, 0);
                self.pattern.fill(self.sent, &mut self.pending);
                self.pending_at = 0;
            }
            let chunk = &self.pending[self.pending_at..];
            let written = pair.call_a(|s, now| s.send(now, fd, chunk));
            after(pair);
            match written {
                Ok(0) | Err(Errno::EAGAIN) => return Ok(()),
                Ok(n) => {
                    self.pending_at += n;
                    self.sent += n as u64;
                }
                Err(e) => return Err(call_error("client", "send", e)),
            }
        }
        let closed = pair.call_a(|s, now| s.close(now, fd));
        after(pair);
        closed.map_err(|e| call_error("client", "close", e))?;
        self.client_closed = true;
        Ok(())
    }
}

fn call_error(host: &str, call: &str, errno: Errno) -> String {
    format!("the {host}'s {call}() failed with {errno:?}")
}

fn host(side: Side) -> &'static str {
    match side {
        Side::A => "client",
        Side::B => "server",
    }
}

/// A socket's identity in the table: local address, and peer (none for a listener).
type SockKey = (SocketAddr, Option<SocketAddr>);

/// A timestamp as the timeline prints it, right-aligned: `  0.001000`.
fn stamp(at: Instant) -> String {
    format!("{:>10}", at.to_string())
}

/// Prints what the pair captured and logged since the last call, and counts packets.
///
/// State changes come from two sources. `Event::StateChanged` reports the changes of a socket
/// the application still holds, in order. A socket without a descriptor (a request sock, a
/// child not yet accepted, an orphan after `close()`, a time-wait record) reports nothing, so
/// its changes are found by comparing each host's socket table with the one seen before;
/// such a socket that passes through several states within one step shows only the first and
/// the last. Together they are what Linux's `sock:inet_sock_set_state` tracepoint shows.
#[derive(Debug, Default)]
struct Timeline {
    captured_seen: usize,
    events_seen: usize,
    /// Each host's sockets and their states as last printed.
    states: [BTreeMap<SockKey, TcpState>; 2],
    /// The descriptor each socket had while the application held it.
    fds: [BTreeMap<SockKey, Fd>; 2],
    /// Each flow's ISN, for tcpdump's relative numbers.
    isns: BTreeMap<(SocketAddr, SocketAddr), u32>,
    /// Each flow's highest sequence end sent, to spot retransmissions as tcpdump readers do.
    highest: BTreeMap<(SocketAddr, SocketAddr), u32>,
    packets: u64,
    lost: u64,
    retransmissions: u64,
    last_sent: Option<Instant>,
    last_activity: Instant,
    errors: Vec<String>,
}

fn side_index(side: Side) -> usize {
    match side {
        Side::A => 0,
        Side::B => 1,
    }
}

impl Timeline {
    /// Prints new events, then state changes seen in the socket tables, then new packets: a
    /// step's state change is what made the stack send, so that order reads as cause and
    /// effect.
    fn flush(&mut self, pair: &Pair, out: &mut impl Write) -> io::Result<()> {
        let now = pair.now();
        let tables = [pair.a().sockets(now), pair.b().sockets(now)];
        for (table, fds) in tables.iter().zip(self.fds.iter_mut()) {
            for e in table {
                if let Some(fd) = e.fd {
                    fds.insert((e.local, e.peer), fd);
                }
            }
        }
        for logged in pair.events().get(self.events_seen..).unwrap_or_default() {
            self.events_seen += 1;
            let i = side_index(logged.side);
            let who = host(logged.side);
            match logged.event {
                Event::StateChanged { from, to } => {
                    self.last_activity = logged.at;
                    let key = self.fds[i]
                        .iter()
                        .find(|&(_, &fd)| fd == logged.fd)
                        .map(|(&key, _)| key);
                    if let Some(key) = key {
                        self.states[i].insert(key, to);
                    }
                    writeln!(
                        out,
                        "{} {who}  fd {}: {from} -> {to}",
                        stamp(logged.at),
                        logged.fd
                    )?;
                }
                Event::Error(errno) => {
                    self.last_activity = logged.at;
                    self.errors
                        .push(format!("{who} fd {}: {errno:?}", logged.fd));
                    writeln!(
                        out,
                        "{} {who}  fd {}: error {errno:?}",
                        stamp(logged.at),
                        logged.fd
                    )?;
                }
                _ => {}
            }
        }
        for (side, table) in [Side::A, Side::B].into_iter().zip(&tables) {
            self.diff_states(side, table, now, out)?;
        }
        let captured = pair.captured();
        while let Some(c) = captured.get(self.captured_seen) {
            self.captured_seen += 1;
            self.packets += 1;
            self.last_sent = Some(c.at);
            self.last_activity = c.at;
            let side = match c.dir {
                Direction::AtoB => Side::A,
                Direction::BtoA => Side::B,
            };
            let mut line = self.describe(&c.bytes);
            if c.dropped {
                self.lost += 1;
            }
            if !c.note.is_empty() {
                line.push_str(&format!("  [{}]", c.note));
            }
            writeln!(out, "{} {} > {line}", stamp(c.at), host(side))?;
        }
        Ok(())
    }

    /// Prints the changes between the last table seen and `table` that no event reported.
    fn diff_states(
        &mut self,
        side: Side,
        table: &[SocketEntry],
        now: Instant,
        out: &mut impl Write,
    ) -> io::Result<()> {
        let i = side_index(side);
        let current: BTreeMap<SockKey, (TcpState, Option<Fd>)> = table
            .iter()
            .map(|e| ((e.local, e.peer), (e.state, e.fd)))
            .collect();
        let mut changes = Vec::new();
        for (key, &(state, fd)) in &current {
            let before = self.states[i].get(key).copied().unwrap_or(TcpState::Close);
            if before != state {
                changes.push((*key, before, state, fd));
            }
        }
        for (key, &before) in &self.states[i] {
            if !current.contains_key(key) && before != TcpState::Close {
                changes.push((*key, before, TcpState::Close, None));
            }
        }
        for (key, from, to, fd) in changes {
            self.last_activity = now;
            let label = match (fd, self.fds[i].get(&key)) {
                (Some(fd), _) => format!("fd {fd}"),
                (None, Some(fd)) => format!("fd {fd} (closed)"),
                (None, None) => match key.1 {
                    Some(peer) => format!("{} <> {peer} (no fd)", key.0),
                    None => format!("{} (no fd)", key.0),
                },
            };
            writeln!(
                out,
                "{} {}  {label}: {from} -> {to}",
                stamp(now),
                host(side)
            )?;
        }
        self.states[i] = current.into_iter().map(|(k, (s, _))| (k, s)).collect();
        Ok(())
    }

    /// tcpdump's line with relative numbers after the SYN; counts a retransmission when a
    /// segment occupying sequence space ends at or before the flow's highest end so far.
    fn describe(&mut self, bytes: &[u8]) -> String {
        let Some((ip, tcp)) = IpRepr::parse(bytes)
            .ok()
            .and_then(|(ip, l4)| TcpRepr::parse(l4).ok().map(|tcp| (ip, tcp)))
        else {
            return tcpdump_datagram(bytes);
        };
        let fwd = (
            SocketAddr::new(ip.src(), tcp.src_port),
            SocketAddr::new(ip.dst(), tcp.dst_port),
        );
        if tcp.flags.contains(TcpFlags::SYN) && !self.isns.contains_key(&fwd) {
            self.isns.insert(fwd, tcp.seq);
        }
        let len = tcp.seg_len();
        if len > 0 && !tcp.flags.contains(TcpFlags::RST) {
            let end = tcp.seq.wrapping_add(len);
            match self.highest.get(&fwd) {
                Some(&high) if (end.wrapping_sub(high) as i32) <= 0 => self.retransmissions += 1,
                _ => {
                    self.highest.insert(fwd, end);
                }
            }
        }
        let seq = self.isns.get(&fwd).copied().unwrap_or(0);
        let ack = self.isns.get(&(fwd.1, fwd.0)).copied().unwrap_or(0);
        tcpdump_line_relative(&ip, &tcp, Isns { seq, ack }).to_string()
    }
}

/// Runs the demo, printing to `out`; exit status 1 if the data did not arrive intact.
pub fn run(opts: &Options, out: &mut impl Write) -> io::Result<ExitCode> {
    let wall = std::time::Instant::now();
    let mut sysctls = Sysctls::default();
    for (name, value) in &opts.sysctls {
        // Already checked by the argument parser, against the same defaults.
        if let Err(e) = sysctls.set(name, value) {
            eprintln!("tcplab: --sysctl {name}={value}: {e}");
            return Ok(ExitCode::from(2));
        }
    }
    let mut pair = Pair::with_seed(opts.seed);
    if opts.ipv6 {
        pair = pair.ipv6();
    }
    let config = StackConfig {
        sysctls,
        hz: opts.hz,
        ..StackConfig::default()
    };
    let mut pair = pair
        .config_a(config.clone())
        .config_b(config)
        .delay(opts.delay)
        .loss(opts.loss);
    let (client_addr, server_addr) = (pair.addr(Side::A), pair.addr(Side::B));
    let server = SocketAddr::new(server_addr, SERVER_PORT);
    writeln!(
        out,
        "# tcplab demo: {} bytes from client {client_addr} to server {server}, one-way delay \
         {:?}, loss {}, seed {}, HZ {}",
        opts.bytes, opts.delay, opts.loss, opts.seed, opts.hz.0
    )?;
    for (name, value) in &opts.sysctls {
        writeln!(out, "# sysctl {name} = {value} on both hosts")?;
    }
    let domain = pair.domain();
    let listener = pair.call_b(|s, _| -> Result<Fd, Errno> {
        let fd = s.socket(domain)?;
        s.bind(fd, server)?;
        s.listen(fd, BACKLOG)?;
        Ok(fd)
    });
    let client = pair.call_a(|s, now| -> Result<Fd, Errno> {
        let fd = s.socket(domain)?;
        match s.connect(now, fd, server) {
            Ok(()) | Err(Errno::EINPROGRESS) => Ok(fd),
            Err(e) => Err(e),
        }
    });
    let (listener, client) = match (listener, client) {
        (Ok(l), Ok(c)) => (l, c),
        (Err(e), _) => return setup_failed("server", "listen", e),
        (_, Err(e)) => return setup_failed("client", "connect", e),
    };
    let mut apps = Apps {
        pattern: Pattern::new(opts.seed),
        bytes: opts.bytes,
        client,
        listener: Some(listener),
        server: None,
        sent: 0,
        pending: Vec::new(),
        pending_at: 0,
        client_closed: false,
        received: 0,
        corrupt_at: None,
        eof: false,
        server_closed: false,
        verified_at: None,
        failure: None,
        buf: vec![0; CHUNK],
    };
    let mut timeline = Timeline::default();
    let mut stops: Vec<Instant> = opts
        .ss_at
        .iter()
        .map(|&ms| Instant::from_millis(ms))
        .collect();
    stops.sort();
    stops.dedup();
    let deadline = Instant::ZERO + opts.timeout;
    let delay = opts.delay;
    let mut write_error = None;
    let mut next_stop = 0;
    let finished = loop {
        let until = stops
            .get(next_stop)
            .copied()
            .unwrap_or(deadline)
            .min(deadline);
        let limit = until.saturating_since(pair.now());
        let quiet = pair.run_while(
            |p| {
                let mut flush = |p: &Pair| {
                    if write_error.is_none() {
                        write_error = timeline.flush(p, out).err();
                    }
                };
                flush(p);
                apps.pump(p, &mut flush);
                // Keep going until both applications are done, no timer is armed and the last
                // datagram sent has had time to arrive.
                write_error.is_none()
                    && !(apps.done()
                        && p.a().poll_timeout().is_none()
                        && p.b().poll_timeout().is_none()
                        && timeline.last_sent.is_none_or(|t| p.now() >= t + delay))
            },
            limit,
        );
        if let Some(e) = write_error.take() {
            return Err(e);
        }
        if quiet {
            break true;
        }
        if pair.now() >= deadline && stops.get(next_stop).is_none_or(|&s| s > deadline) {
            break false;
        }
        print_tables(&pair, out)?;
        next_stop += 1;
    };
    // Snapshots asked for after the run ended still print: they show what is left.
    for &stop in stops.get(next_stop..).unwrap_or_default() {
        if stop > deadline {
            break;
        }
        pair.run_until(stop);
        timeline.flush(&pair, out)?;
        print_tables(&pair, out)?;
    }
    if let Some(path) = &opts.pcap {
        let sent = pair.captured().iter();
        let datagrams = sent.map(|c| (c.at.as_nanos(), &c.bytes[..]));
        if let Err(e) = tcplab_pcap::write_file(path, datagrams) {
            eprintln!("tcplab: {e}");
            return Ok(ExitCode::FAILURE);
        }
    }
    summary(opts, &apps, &timeline, finished, wall, out)
}

fn setup_failed(who: &str, call: &str, e: Errno) -> io::Result<ExitCode> {
    eprintln!("tcplab: {}", call_error(who, call, e));
    Ok(ExitCode::FAILURE)
}

/// Both hosts' `ss -tano`, from the stack's own socket table.
fn print_tables(pair: &Pair, out: &mut impl Write) -> io::Result<()> {
    let now = pair.now();
    let opts = SsOptions {
        timers: true,
        ..SsOptions::default()
    };
    for side in [Side::A, Side::B] {
        writeln!(out, "{} {}  $ ss -tano", stamp(now), host(side))?;
        // The table as ss lays it out, each column as wide as its widest cell.
        let table = ss_table(&pair.stack(side).sockets(now), opts);
        for line in table.lines() {
            writeln!(out, "{:>10}   {}", "", line)?;
        }
    }
    Ok(())
}

fn summary(
    opts: &Options,
    apps: &Apps,
    timeline: &Timeline,
    finished: bool,
    wall: std::time::Instant,
    out: &mut impl Write,
) -> io::Result<ExitCode> {
    let intact = apps.verified_at.is_some();
    let delivered = match (apps.verified_at, apps.corrupt_at) {
        (Some(at), _) => format!(
            "{} of {} bytes delivered and verified at {at} s",
            apps.received, opts.bytes
        ),
        (None, Some(offset)) => format!(
            "{} of {} bytes delivered, wrong from stream offset {offset}",
            apps.received, opts.bytes
        ),
        (None, None) => format!(
            "{} of {} bytes delivered, end of stream {}",
            apps.received,
            opts.bytes,
            if apps.eof {
                "came early"
            } else {
                "not reached"
            }
        ),
    };
    let ended = if finished {
        format!("all quiet at {} s", timeline.last_activity)
    } else {
        format!("stopped at the {:?} virtual-time limit", opts.timeout)
    };
    writeln!(
        out,
        "summary: {delivered}; {ended}; {} packets ({} lost on the link), {} retransmitted; \
         {:.1} ms wall clock",
        timeline.packets,
        timeline.lost,
        timeline.retransmissions,
        wall.elapsed().as_secs_f64() * 1000.0
    )?;
    if let Some(failure) = &apps.failure {
        writeln!(out, "error: {failure}")?;
    }
    for e in &timeline.errors {
        writeln!(out, "error: {e}")?;
    }
    Ok(if intact {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
