//! The interpreter of the scenario language: runs a parsed [`Scenario`] on a [`Sim`] and
//! checks its assertions.
//!
//! [`run_scenario`] builds the hosts and the links at time 0, then walks the steps in time
//! order: the simulation runs up to a step's time, then the step's command runs. Host
//! assertions (`state`, `errno`, tool output) are checked at their step's time; packet
//! assertions are checked at the end over the packets that went on the wire (sent and not
//! dropped by an OUTPUT rule or the link).
//!
//! The socket program of each host is one process named after the script. Its calls block
//! as a C program with one thread per socket would: a command on a socket waits until the
//! call before it on the same socket has returned (`connect` until the handshake completes
//! or fails, `accept` until the listener has accepted a connection, `write` until every byte
//! is queued); commands on other sockets do not wait. While a call is blocked the simulation
//! advances one instant at a time, so the waiting command runs at the instant the call
//! returns, after that instant's events.
//!
//! Guarantees: a run is a function of the scenario and the seed (the same inputs give the
//! same timeline and trace hash); no script makes the interpreter panic; a problem only a
//! run can find is a [`RunError`] naming the file, line and column, and a command that fails
//! at run time is recorded on the timeline and in [`RunReport::warnings`] without stopping
//! the run.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tcplab_stack::ss::SocketEntry;
use tcplab_stack::{Domain, Errno, Fd, Hz, Instant, Shutdown, SockOpt};

use crate::apps::{ProcId, SockState};
use crate::link::LinkParams;
use crate::net::{Direction, HostConfig, HostId, Sim, SimError};
use crate::scenario::{
    Command, Expect, ExpectedState, Grep, HostCommand, KillTarget, Link, LinkPropKind, NcMode,
    PacketFilter, Scenario, ScenarioError, SnapshotTool, SockRef, Span, Step, Sysctl, TcpFlags,
    TimePoint, format_duration,
};
use crate::timeline::{Dir, EventKind, Timeline};
use crate::tools::Tool;

/// How to run a scenario.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Overrides the script's `seed` line; without either the seed is 1.
    pub seed: Option<u64>,
    /// The script's directory: `sysctl -p FILE` is relative to it.
    pub base_dir: PathBuf,
    /// Capture every host from time 0 and write `DIR/HOST.pcap` at the end.
    pub pcap_dir: Option<PathBuf>,
}

/// The seed of a script with no `seed` line and no `--seed`.
pub const DEFAULT_SEED: u64 = 1;

/// A scenario that cannot run to its end. Printed as `FILE:LINE:COL: message`, or
/// `FILE: message` for a problem of the run as a whole.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct RunError {
    pub file: String,
    pub span: Option<Span>,
    pub message: String,
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.span {
            Some(s) => write!(f, "{}:{}:{}: {}", self.file, s.line, s.col, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl From<ScenarioError> for RunError {
    fn from(e: ScenarioError) -> RunError {
        RunError {
            file: e.file,
            span: (e.line != 0).then(|| Span::new(e.line, e.col)),
            message: e.message,
        }
    }
}

/// The outcome of one `expect` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssertionResult {
    pub span: Span,
    pub passed: bool,
    /// What the line asks for: `%1 on client in FIN_WAIT1 at 1.500000`.
    pub expected: String,
    /// What the run showed: `it was in LAST_ACK`.
    pub seen: String,
}

impl AssertionResult {
    /// `expected …, but …` for a failure, `… as expected: …` for a pass.
    pub fn sentence(&self) -> String {
        if self.passed {
            format!("{} as expected: {}", self.expected, self.seen)
        } else {
            format!("expected {}, but {}", self.expected, self.seen)
        }
    }
}

/// A command that failed at run time (recorded on the timeline too); the run went on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunWarning {
    pub span: Span,
    pub message: String,
}

/// What a run produced.
#[derive(Clone, Debug)]
pub struct RunReport {
    pub timeline: Timeline,
    /// In the order of the script's lines.
    pub assertions: Vec<AssertionResult>,
    pub warnings: Vec<RunWarning>,
    pub hash: u64,
    /// The virtual time the run ended at.
    pub end: Instant,
    /// Files written: `--pcap` captures and `tcpdump -w` files.
    pub files: Vec<PathBuf>,
}

impl RunReport {
    pub fn passed(&self) -> usize {
        self.assertions.iter().filter(|a| a.passed).count()
    }

    pub fn failed(&self) -> usize {
        self.assertions.len() - self.passed()
    }
}

/// Runs a scenario to its end. See the module docs.
pub fn run_scenario(sc: &Scenario, opts: RunOptions) -> Result<RunReport, RunError> {
    run_scenario_with_progress(sc, opts, &mut |_, _| {})
}

/// Virtual time between calls of the progress callback when nothing blocks.
const CHUNK: Duration = Duration::from_millis(100);

/// As [`run_scenario`], calling `progress(now, end)` as virtual time advances.
pub fn run_scenario_with_progress(
    sc: &Scenario,
    opts: RunOptions,
    progress: &mut dyn FnMut(Instant, Instant),
) -> Result<RunReport, RunError> {
    let mut it = Interp::new(sc, opts)?;
    it.run(progress)?;
    it.finish()
}

fn instant(d: Duration) -> Instant {
    Instant::from_nanos(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// The program name Linux keeps for a process (`comm`): at most 15 bytes.
pub fn comm_name(file: &str) -> String {
    let stem = Path::new(file)
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty())
        .unwrap_or("scenario");
    let mut out = String::new();
    for c in stem.chars() {
        if out.len() + c.len_utf8() > 15 {
            break;
        }
        out.push(c);
    }
    out
}
mod checks;
mod commands;
mod tracker;

pub use checks::{
    check_packet_expects, errno_expected, errno_verdict, output_expected, output_verdict,
    sock_name, state_expected, state_verdict, time_point, within,
};
pub use commands::{command_line, grep_all};

use tracker::{DescRec, Tracker};

/// A call of the socket program waiting for its turn on its socket.
#[derive(Clone, Debug)]
struct Op {
    span: Span,
    kind: OpKind,
}

/// A call of a host's socket program, as a script line makes it (the real-time backend's
/// host threads run the same calls).
#[derive(Clone, Debug)]
pub enum OpKind {
    Socket,
    Connect(SocketAddr),
    Listen {
        addr: Option<IpAddr>,
        port: u16,
        backlog: Option<u32>,
    },
    Accept {
        listener: String,
    },
    Write(u64),
    Read(bool),
    Shutdown(Shutdown),
    Close,
    SetOpt(SockOpt),
}

impl OpKind {
    /// The command's word in a script.
    pub fn name(&self) -> &'static str {
        match self {
            OpKind::Socket => "socket",
            OpKind::Connect(_) => "connect",
            OpKind::Listen { .. } => "listen",
            OpKind::Accept { .. } => "accept",
            OpKind::Write(_) => "write",
            OpKind::Read(true) => "read",
            OpKind::Read(false) => "noread",
            OpKind::Shutdown(_) => "shutdown",
            OpKind::Close => "close",
            OpKind::SetOpt(_) => "setsockopt",
        }
    }
}

/// Why a socket's next command waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Block {
    Connect,
    Accept {
        listener: usize,
    },
    Write,
    /// `close()` sleeping under SO_LINGER {1, t}.
    Close {
        proc: ProcId,
        fd: Fd,
    },
}

/// A named socket of a host's socket program.
#[derive(Debug, Default)]
struct Slot {
    rec: Option<usize>,
    queue: VecDeque<Op>,
    blocked: Option<Block>,
}

/// A later write of a `write … repeat N every D` line.
#[derive(Clone, Debug)]
struct Repeat {
    host: usize,
    sock: String,
    span: Span,
    bytes: u64,
    left: u32,
    every: Duration,
}

#[derive(Clone, Copy, Debug)]
enum Job {
    Proc(ProcId),
    Tcpdump(usize),
}

#[derive(Clone, Debug)]
struct Capture {
    host: usize,
    path: PathBuf,
    start: Instant,
    stop: Option<Instant>,
    span: Span,
}

struct Interp<'a> {
    sc: &'a Scenario,
    opts: RunOptions,
    sim: Sim,
    end: Instant,
    prog_name: String,
    progs: Vec<Option<ProcId>>,
    jobs: BTreeMap<(usize, u32), Job>,
    slots: BTreeMap<(usize, String), Slot>,
    /// Per listener record: the sockets whose `accept` waits for it, in order.
    waiters: BTreeMap<usize, VecDeque<(usize, String)>>,
    tracker: Tracker,
    repeats: BTreeMap<(Instant, u64), Repeat>,
    repeat_seq: u64,
    captures: Vec<Capture>,
    results: Vec<AssertionResult>,
    warnings: Vec<RunWarning>,
    deferred: Vec<&'a Step>,
}

impl fmt::Debug for Interp<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interp")
            .field("file", &self.sc.file)
            .field("sim", &self.sim)
            .finish_non_exhaustive()
    }
}

impl<'a> Interp<'a> {
    fn new(sc: &'a Scenario, opts: RunOptions) -> Result<Interp<'a>, RunError> {
        let seed = opts
            .seed
            .or(sc.settings.seed.as_ref().map(|s| s.value))
            .unwrap_or(DEFAULT_SEED);
        let mut sim = Sim::new(seed);
        let err = |span: Span, message: String| RunError {
            file: sc.file.clone(),
            span: Some(span),
            message,
        };
        for (i, h) in sc.hosts.iter().enumerate() {
            if h.kernel {
                return Err(err(
                    h.span,
                    format!(
                        "host `{}` is marked `kernel`: the simulator runs tcplab hosts only; a scenario with a kernel host runs in real time on network namespaces (`tcplab run FILE`, which needs root), or clear the marks to simulate every host",
                        h.name
                    ),
                ));
            }
            let config = HostConfig {
                hz: sc.hz_of(i).map_or_else(Hz::default, Hz),
                ..HostConfig::default()
            };
            sim.add_host(&h.name, h.addr, config)
                .map_err(|e| err(h.span, e.to_string()))?;
        }
        let last_step = sc.steps.last().map_or(Duration::ZERO, |s| s.time);
        let end = instant(sc.run.as_ref().map_or(last_step, |r| r.duration));
        if opts.pcap_dir.is_some() {
            for h in &sc.hosts {
                let _ = sim.start_capture(&h.name);
            }
        }
        let mut it = Interp {
            sc,
            opts,
            sim,
            end,
            prog_name: comm_name(&sc.file),
            progs: vec![None; sc.hosts.len()],
            jobs: BTreeMap::new(),
            slots: BTreeMap::new(),
            waiters: BTreeMap::new(),
            tracker: Tracker::default(),
            repeats: BTreeMap::new(),
            repeat_seq: 0,
            captures: Vec::new(),
            results: Vec::new(),
            warnings: Vec::new(),
            deferred: Vec::new(),
        };
        for link in &sc.links {
            it.apply_link(link)?;
        }
        Ok(it)
    }

    fn error(&self, span: Option<Span>, message: String) -> RunError {
        RunError {
            file: self.sc.file.clone(),
            span,
            message,
        }
    }

    fn sim_error(&self, e: SimError) -> RunError {
        self.error(None, format!("the simulation stopped: {e}"))
    }

    fn host_name(&self, i: usize) -> &'a str {
        self.sc.hosts.get(i).map_or("", |h| h.name.as_str())
    }

    /// Records a command that could not run, on the timeline and as a warning.
    fn warn(&mut self, span: Span, message: String) {
        let now = self.sim.now();
        self.sim.timeline_mut().push(
            now,
            EventKind::Error {
                message: format!("line {}: {message}", span.line),
            },
        );
        self.warnings.push(RunWarning { span, message });
    }

    fn apply_link(&mut self, link: &Link) -> Result<(), RunError> {
        let a = self.host_name(link.from.index);
        let b = self.host_name(link.to.index);
        let mut dirs = vec![(a, b)];
        if link.both_ways {
            dirs.push((b, a));
        }
        for (x, y) in dirs {
            let mut p = self
                .sim
                .link_params(x, y)
                .map_err(|e| self.error(Some(link.span), e.to_string()))?;
            for prop in &link.props {
                apply_prop(&mut p, prop.kind);
            }
            self.sim
                .set_link(x, y, p, Direction::OneWay)
                .map_err(|e| self.error(Some(link.span), e.to_string()))?;
        }
        Ok(())
    }

    fn run(&mut self, progress: &mut dyn FnMut(Instant, Instant)) -> Result<(), RunError> {
        let steps = &self.sc.steps;
        let mut next = 0;
        loop {
            let step_t = steps.get(next).map(|s| instant(s.time));
            let rep_t = self.repeats.keys().next().map(|k| k.0);
            let target = match (step_t, rep_t) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => match a.or(b) {
                    Some(t) => t,
                    None => break,
                },
            };
            self.advance(target, progress)?;
            while let Some((&key, _)) = self.repeats.iter().next() {
                if key.0 > target {
                    break;
                }
                if let Some(r) = self.repeats.remove(&key) {
                    self.repeat_write(r);
                }
            }
            while let Some(step) = steps.get(next) {
                if instant(step.time) > target {
                    break;
                }
                next += 1;
                self.step(step)?;
                self.settle();
            }
        }
        let end = self.end.max(self.sim.now());
        self.advance(end, progress)?;
        Ok(())
    }

    /// Runs the simulation up to `target`, one instant at a time while a call blocks.
    fn advance(
        &mut self,
        target: Instant,
        progress: &mut dyn FnMut(Instant, Instant),
    ) -> Result<(), RunError> {
        self.settle();
        while self.sim.now() < target {
            let now = self.sim.now();
            let until = if self.waiting() {
                match self.sim.next_event() {
                    Some(n) if n <= now => now,
                    Some(n) => n.min(target),
                    None => target,
                }
            } else {
                (now + CHUNK).min(target)
            };
            self.sim.run_until(until).map_err(|e| self.sim_error(e))?;
            self.settle();
            progress(self.sim.now(), self.end);
        }
        Ok(())
    }

    fn waiting(&self) -> bool {
        self.slots
            .values()
            .any(|s| s.blocked.is_some() || !s.queue.is_empty())
    }

    /// Catches up with the timeline, then runs every socket command whose turn has come,
    /// until nothing changes.
    fn settle(&mut self) {
        loop {
            self.tracker.sync(&self.sim);
            self.bind_accepts();
            if !self.pump() {
                break;
            }
        }
    }

    fn bind_accepts(&mut self) {
        let listeners: Vec<usize> = self.waiters.keys().copied().collect();
        for l in listeners {
            loop {
                let ready = self
                    .tracker
                    .recs
                    .get(l)
                    .is_some_and(|r| !r.accepted.is_empty());
                let has_waiter = self.waiters.get(&l).is_some_and(|w| !w.is_empty());
                if !ready || !has_waiter {
                    break;
                }
                let (Some(conn), Some(key)) = (
                    self.tracker.recs[l].accepted.pop_front(),
                    self.waiters.get_mut(&l).and_then(VecDeque::pop_front),
                ) else {
                    break;
                };
                let slot = self.slots.entry(key).or_default();
                slot.rec = Some(conn);
                slot.blocked = None;
            }
        }
        self.waiters.retain(|_, w| !w.is_empty());
    }

    /// One pass over the sockets: unblocks returned calls and runs the commands whose turn
    /// has come. True when something ran.
    fn pump(&mut self) -> bool {
        let mut progress = false;
        let keys: Vec<(usize, String)> = self.slots.keys().cloned().collect();
        for key in keys {
            while let Some((blocked, rec)) = self.slots.get(&key).map(|s| (s.blocked, s.rec)) {
                if let Some(b) = blocked {
                    if let Block::Close { proc, fd } = b {
                        // A sleeping close returns when the stack says so.
                        if !self.sim.close_resume(proc, fd).unwrap_or(true) {
                            break;
                        }
                        progress = true;
                        self.tracker.sync(&self.sim);
                    } else if self.still_blocked(b, rec) {
                        break;
                    }
                    if let Some(s) = self.slots.get_mut(&key) {
                        s.blocked = None;
                    }
                }
                let Some(op) = self.slots.get_mut(&key).and_then(|s| s.queue.pop_front()) else {
                    break;
                };
                progress = true;
                let block = self.exec(&key, op);
                self.tracker.sync(&self.sim);
                if let Some(s) = self.slots.get_mut(&key) {
                    s.blocked = block;
                }
                self.bind_accepts();
            }
        }
        progress
    }

    fn sock_state(&self, rec: usize) -> Option<&SockState> {
        let r = self.tracker.recs.get(rec)?;
        if !r.open {
            return None;
        }
        let h = self.sim.host_id(&r.host).ok()?;
        let p = self
            .sim
            .processes()
            .iter()
            .find(|p| p.host == h && p.pid == r.pid)?;
        p.socks.get(&Fd(r.fd))
    }

    fn still_blocked(&self, b: Block, rec: Option<usize>) -> bool {
        match b {
            Block::Accept { .. } => true,
            Block::Connect => rec
                .and_then(|r| self.sock_state(r))
                .is_some_and(|s| s.connecting),
            Block::Write => rec
                .and_then(|r| self.sock_state(r))
                .is_some_and(|s| s.to_send > 0 && s.error.is_none()),
            // Retried in `pump`, which may make it return.
            Block::Close { .. } => true,
        }
    }

    /// The host's socket program, started at its first command.
    fn step(&mut self, step: &'a Step) -> Result<(), RunError> {
        match &step.command {
            Command::Link(link) => self.apply_link(link),
            Command::Expect(e) => {
                match e {
                    Expect::Packet { .. } | Expect::NoPacket { .. } => self.deferred.push(step),
                    _ => self.check_now(e),
                }
                Ok(())
            }
            Command::Host(h, cmd) => self.host_command(h.index, cmd),
        }
    }

    fn finish(mut self) -> Result<RunReport, RunError> {
        self.settle();
        self.check_packets();
        let mut files = Vec::new();
        let now = self.sim.now();
        for c in self.captures.clone() {
            let stop = c.stop.unwrap_or(now);
            let bytes = self
                .pcap_between(c.host, c.start, stop)
                .map_err(|e| self.error(Some(c.span), format!("tcpdump: {e}")))?;
            std::fs::write(&c.path, bytes).map_err(|e| {
                self.error(
                    Some(c.span),
                    format!("tcpdump: cannot write {}: {e}", c.path.display()),
                )
            })?;
            files.push(c.path.clone());
        }
        if let Some(dir) = self.opts.pcap_dir.clone() {
            std::fs::create_dir_all(&dir).map_err(|e| {
                self.error(
                    None,
                    format!("cannot create the pcap directory {}: {e}", dir.display()),
                )
            })?;
            for (i, h) in self.sc.hosts.iter().enumerate() {
                let path = dir.join(format!("{}.pcap", h.name));
                let bytes = self
                    .pcap_between(i, Instant::ZERO, now)
                    .map_err(|e| self.error(None, format!("pcap: {e}")))?;
                std::fs::write(&path, bytes).map_err(|e| {
                    self.error(None, format!("cannot write {}: {e}", path.display()))
                })?;
                files.push(path);
            }
        }
        self.results.sort_by_key(|r| r.span);
        let timeline = self.sim.timeline().clone();
        Ok(RunReport {
            hash: timeline.hash(),
            timeline,
            assertions: self.results,
            warnings: self.warnings,
            end: now,
            files,
        })
    }

    /// A host's datagrams captured in `[start, stop]`, as a pcap file.
    fn pcap_between(
        &self,
        host: usize,
        start: Instant,
        stop: Instant,
    ) -> Result<Vec<u8>, tcplab_pcap::Error> {
        let mut w = tcplab_pcap::PcapWriter::new(Vec::new())?;
        if let Some(cap) = self.sim.hosts.get(host).and_then(|h| h.capture.as_ref()) {
            for (t, bytes) in cap {
                if *t >= start && *t <= stop {
                    w.write_datagram(t.as_nanos(), bytes)?;
                }
            }
        }
        w.finish()
    }
}

fn apply_prop(p: &mut LinkParams, kind: LinkPropKind) {
    let prob = |ppm: crate::scenario::Ppm| f64::from(ppm.0) / 1_000_000.0;
    match kind {
        LinkPropKind::Delay(d) => p.delay = d,
        LinkPropKind::Jitter(d) => p.jitter = d,
        // tc's rates are bits per second; the link counts bytes.
        LinkPropKind::Rate(bits) => p.rate = Some(bits.div_ceil(8).max(1)),
        LinkPropKind::Queue(n) => p.queue_limit = Some(n as usize),
        LinkPropKind::Loss(x) => p.loss = prob(x),
        LinkPropKind::Dup(x) => p.duplicate = prob(x),
        LinkPropKind::Reorder(x, d) => {
            p.reorder = prob(x);
            p.reorder_delay = d;
        }
        LinkPropKind::Corrupt(x) => p.corrupt = prob(x),
    }
}

#[cfg(test)]
mod tests {
    use super::commands::{command_line, grep_all};
    use super::*;

    #[test]
    fn a_kernel_host_is_refused_naming_its_line_and_where_it_runs() {
        let sc = crate::scenario::parse("k.tcplab", "host a 10.0.0.1\nhost b 10.0.0.2 kernel\n")
            .unwrap();
        let e = run_scenario(&sc, RunOptions::default()).unwrap_err();
        assert_eq!(e.span.map(|s| s.line), Some(2), "{e}");
        assert!(e.message.contains("`tcplab run FILE`"), "{e}");
    }

    #[test]
    fn comm_is_cut_at_15_bytes() {
        assert_eq!(
            comm_name("examples/fin_wait1_orphan.tcplab"),
            "fin_wait1_orpha"
        );
        assert_eq!(comm_name("t.tcplab"), "t");
        assert_eq!(comm_name(""), "scenario");
    }

    #[test]
    fn greps_apply_in_order() {
        let g = |p: &str, invert: bool, ignore_case: bool| Grep {
            invert,
            ignore_case,
            pattern: p.into(),
            span: Span::default(),
        };
        let text = "tcp LISTEN\ntcp ESTABLISHED\nudp x\n";
        assert_eq!(
            grep_all(text, &[g("tcp", false, false)]),
            "tcp LISTEN\ntcp ESTABLISHED\n"
        );
        assert_eq!(
            grep_all(text, &[g("tcp", false, false), g("listen", true, true)]),
            "tcp ESTABLISHED\n"
        );
        assert_eq!(grep_all(text, &[g("nothing", false, false)]), "");
        assert_eq!(
            command_line(Tool::Ss, &["-tan"], &[g("a b", true, false)]),
            "ss -tan | grep -v 'a b'"
        );
    }
}
