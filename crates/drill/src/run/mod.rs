//! Runs a parsed script against one [`tcplab_stack::Stack`] in virtual time, playing the remote
//! peer the way google/packetdrill does on a tun device.
//!
//! The runner keeps packetdrill's rules (its run.c, run_packet.c, run_system_call.c):
//! - a `+t` time counts from when the previous event finished (two inbound packets in a row
//!   count from the first one's scripted time); times are checked with `--tolerance_usecs`
//!   or 12.5 % of the scripted gap, whichever is larger;
//! - inbound packets are injected at their time; outbound packets are taken from what the stack
//!   sent, in order, and checked field by field (flags, seq, ack, window if given, urgent
//!   pointer, options in order unless `<...>`, payload length) and in time; consecutive
//!   segments are joined until the script's payload length is reached, as upstream joins the
//!   pieces of a TSO burst; TS val is checked only with `--tcp_ts_tick_usecs`, TS ecr never;
//! - sequence numbers are relative to the ISNs (the stack's is learned from its first SYN),
//!   inbound TS ecr values are mapped back to the TSvals the stack really sent;
//! - system calls marked `...end` block (other events go on meanwhile) and are checked to
//!   return at `end`; a later system call first waits for a blocked one;
//! - `%{ }%` blocks see `tcp_info` as it was at their time and run after the last event;
//! - nothing checks for packets the script does not mention, as upstream.
//!
//! Virtual time makes a run deterministic: the same script and seed give the same verdict and
//! the same transcript.

pub mod env;
mod packets;
pub mod python;
mod syscalls;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;

use tcplab_stack::info::TcpInfo;
use tcplab_stack::{Fd, Hz, Instant, Stack, StackConfig, Sysctls};

use crate::ast::{Action, Direction, EventTime, Pos, Script};
pub use env::{Family, Setup};

/// How to run a script.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub family: Family,
    /// Seeds the stack's ISNs, timestamp offsets and ports.
    pub seed: u64,
    /// The stack's clock tick. This machine's kernel runs at 250.
    pub hz: Hz,
    /// The timing tolerance of scripts that do not set `--tolerance_usecs` themselves
    /// (packetdrill's command-line `--tolerance_usecs`; upstream's default is 4000).
    pub tolerance_usecs: u64,
    /// Sysctls written before the script starts (`net.ipv4.tcp_rmem`, value), as an
    /// administrator would have set them on the host.
    pub sysctls: Vec<(String, String)>,
}

impl RunOptions {
    pub fn new(family: Family) -> RunOptions {
        RunOptions {
            family,
            seed: 1,
            hz: Hz::default(),
            tolerance_usecs: env::DEFAULT_TOLERANCE_USECS,
            sysctls: Vec::new(),
        }
    }
}

/// The result of one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail(Failure),
    Skip(Skipped),
}

/// Why a run failed: where, what, and for packets the expected and actual packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub pos: Pos,
    pub message: String,
    /// The script's packet (or call) in packetdrill notation, when the failure is about one.
    pub expected: Option<String>,
    /// What the stack did instead, in the same notation.
    pub actual: Option<String>,
}

/// Why a run could not be made faithfully: the script needs something tcplab does not model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub pos: Option<Pos>,
    pub reason: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.pos, self.message)?;
        if let Some(e) = &self.expected {
            write!(f, "\n  script packet: {e}")?;
        }
        if let Some(a) = &self.actual {
            write!(f, "\n  actual packet: {a}")?;
        }
        Ok(())
    }
}

/// A run's verdict and what happened on the wire and in the calls, one line each
/// (`0.100 < S 0:0(0) win 32792 <...>`), in time order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub verdict: Verdict,
    pub transcript: Vec<String>,
}

/// Runs `script` once with `options`.
pub fn run(script: &Script, options: &RunOptions) -> Outcome {
    let mut runner = Runner::new(script, options);
    let verdict = match runner.run_all() {
        Ok(()) => Verdict::Pass,
        Err(Stop::Fail(f)) => Verdict::Fail(*f),
        Err(Stop::Skip(s)) => Verdict::Skip(s),
    };
    Outcome {
        verdict,
        transcript: runner.transcript,
    }
}

/// How a run ends early.
#[derive(Debug)]
enum Stop {
    Fail(Box<Failure>),
    Skip(Skipped),
}

impl Stop {
    fn fail(pos: Pos, message: impl Into<String>) -> Stop {
        Stop::Fail(Box::new(Failure {
            pos,
            message: message.into(),
            expected: None,
            actual: None,
        }))
    }
    fn skip(pos: Pos, reason: impl Into<String>) -> Stop {
        Stop::Skip(Skipped {
            pos: Some(pos),
            reason: reason.into(),
        })
    }
}

type Step = Result<(), Stop>;

/// packetdrill's `--tolerance_percent` default on Linux, in tenths of a percent.
const TOLERANCE_PERMILLE: u64 = 125;

/// How long the runner waits for an outbound packet that is late before giving up.
const SNIFF_GIVE_UP_USECS: u64 = 600_000_000;

/// A datagram the stack sent and when.
#[derive(Clone, Debug)]
struct Sent {
    at: u64,
    bytes: Vec<u8>,
}

/// One script fd.
#[derive(Clone, Copy, Debug)]
struct FdEntry {
    live: Fd,
    nonblocking: bool,
}

/// The connection the script plays the far end of.
#[derive(Clone, Debug, Default)]
struct Peer {
    /// The stack's port, once known (the bind port, or learned from a SYN).
    local_port: Option<u16>,
    remote_port: u16,
    /// The stack's ISN, learned from its SYN or SYN-ACK, and the script's value for it.
    live_local_isn: Option<u32>,
    script_local_isn: u32,
    /// The script's ISN (its SYN's sequence number).
    remote_isn: u32,
    /// First TS val seen from the stack: (script value, live value).
    ts_base: Option<(u32, u32)>,
    /// Script TS val -> live TS val, for rewriting the script's TS ecr.
    ts_map: HashMap<u32, u32>,
}

/// A blocking system call in progress.
#[derive(Debug)]
struct Pending {
    pos: Pos,
    call: syscalls::Blocked,
    syscall: crate::ast::Syscall,
    /// Script time the call must return at, and its tolerance.
    end: u64,
    tolerance: u64,
    /// When it returned, once it has, and whether its result was right.
    done: Option<(u64, Result<(), Box<Failure>>)>,
}

/// A `%{ }%` block waiting for the end of the script.
#[derive(Debug)]
struct CodeRun {
    pos: Pos,
    text: String,
    info: Result<TcpInfo, String>,
}

struct Runner<'s> {
    script: &'s Script,
    setup: Setup,
    stack: Stack,
    /// Virtual time since the script started, in microseconds.
    now: u64,
    sent: VecDeque<Sent>,
    fds: BTreeMap<i64, FdEntry>,
    /// The script fd `%{ }%` blocks read `tcp_info` from (the newest socket).
    under_test: Option<i64>,
    peer: Peer,
    pending: Option<Pending>,
    saved_sysctls: Option<Sysctls>,
    drop_transmits: bool,
    codes: Vec<CodeRun>,
    transcript: Vec<String>,
    host_sysctls: Vec<(String, String)>,
}

impl<'s> Runner<'s> {
    fn new(script: &'s Script, options: &RunOptions) -> Runner<'s> {
        let mut setup = Setup::new(options.family);
        setup.tolerance_usecs = options.tolerance_usecs;
        let config = StackConfig {
            addrs: vec![setup.local_ip],
            hz: options.hz,
            seed: options.seed,
            mtu: setup.mtu,
            ..StackConfig::default()
        };
        Runner {
            script,
            peer: Peer {
                remote_port: setup.remote_port,
                ..Peer::default()
            },
            setup,
            stack: Stack::new(config),
            now: 0,
            sent: VecDeque::new(),
            fds: BTreeMap::new(),
            under_test: None,
            pending: None,
            saved_sysctls: None,
            drop_transmits: false,
            codes: Vec::new(),
            transcript: Vec::new(),
            host_sysctls: options.sysctls.clone(),
        }
    }

    fn run_all(&mut self) -> Step {
        let script = self.script;
        self.setup
            .apply_options(&script.options)
            .map_err(|(pos, reason)| Stop::skip(pos, reason))?;
        // Options may change addresses and the MTU: rebuild the stack with them.
        let mut config = self.stack.config().clone();
        config.addrs = vec![self.setup.local_ip];
        config.mtu = self.setup.mtu;
        env::apply_sysctls(&mut config.sysctls, &self.host_sysctls).map_err(|e| {
            Stop::Skip(Skipped {
                pos: None,
                reason: format!("host sysctl: {e}"),
            })
        })?;
        self.stack = Stack::new(config);
        if let Some(cmd) = &script.init_command {
            self.shell(cmd.pos, &cmd.text)?;
        }
        // The adjusted (scripted) time of the previous event and whether it was inbound.
        let mut last: Option<(u64, bool)> = None;
        for (i, event) in script.events.iter().enumerate() {
            let inbound = matches!(
                &event.action,
                Action::Packet(p) if p.direction == Direction::Inbound
            );
            let outbound = matches!(
                &event.action,
                Action::Packet(p) if p.direction == Direction::Outbound
            );
            let base = match last {
                Some((t, true)) if inbound => t,
                _ => self.now,
            };
            let (start, end) = match event.time {
                EventTime::Absolute(t) => (t.usecs, t.usecs),
                EventTime::Relative(t) => (base + t.usecs, base + t.usecs),
                EventTime::Any => (base, base),
                EventTime::AbsoluteRange(a, b) => (a.usecs, b.usecs),
                EventTime::RelativeRange(a, b) => (base + a.usecs, base + b.usecs),
            };
            let ranged = matches!(
                event.time,
                EventTime::Any | EventTime::AbsoluteRange(..) | EventTime::RelativeRange(..)
            );
            if ranged && !outbound {
                return Err(Stop::fail(
                    event.pos,
                    "event time ranges and `*` can only be used with outbound packets",
                ));
            }
            if i == 0 && start != 0 {
                return Err(Stop::fail(event.pos, "first event should be at time 0"));
            }
            let gap = last.map_or(0, |(t, _)| start.saturating_sub(t));
            let tolerance = self
                .setup
                .tolerance_usecs
                .max(gap * TOLERANCE_PERMILLE / 1000);
            let when = When {
                start,
                end,
                tolerance,
                any: matches!(event.time, EventTime::Any),
                relative: matches!(
                    event.time,
                    EventTime::Relative(_) | EventTime::RelativeRange(..)
                )
                .then_some(base),
                checked: i > 0,
            };
            match &event.action {
                Action::Packet(p) if p.direction == Direction::Inbound => {
                    self.wait_until(start)?;
                    self.check_time(event.pos, "inbound packet", &when, self.now)?;
                    self.inject(p)?;
                }
                Action::Packet(p) => self.expect(p, &when)?,
                Action::Syscall(call) => {
                    self.await_idle(event.pos)?;
                    self.wait_until(start)?;
                    self.check_time(event.pos, "system call start", &when, self.now)?;
                    self.syscall(call, &when)?;
                }
                Action::Command(cmd) => {
                    self.wait_until(start)?;
                    self.check_time(event.pos, "command", &when, self.now)?;
                    self.shell(cmd.pos, &cmd.text)?;
                }
                Action::Code(code) => {
                    self.wait_until(start)?;
                    self.check_time(event.pos, "data collection for code", &when, self.now)?;
                    let info = self.snapshot();
                    self.codes.push(CodeRun {
                        pos: code.pos,
                        text: code.text.clone(),
                        info,
                    });
                }
                Action::Unsupported(u) => {
                    return Err(Stop::skip(
                        u.pos,
                        format!("{} packets are not supported: `{}`", u.kind, u.text.trim()),
                    ));
                }
            }
            self.settle_pending()?;
            last = Some((start, inbound));
        }
        // Upstream waits up to a second for a blocked call before it gives up.
        if self.pending.is_some() {
            let give_up = self.now + 1_000_000;
            self.wait_until(give_up.min(self.next_interesting(give_up)))?;
            self.settle_pending()?;
            if let Some(p) = &self.pending {
                return Err(Stop::fail(
                    p.pos,
                    "the script ended while this blocking system call was still in progress",
                ));
            }
        }
        if let Some(cmd) = &script.cleanup_command {
            self.shell(cmd.pos, &cmd.text)?;
        }
        self.run_codes()
    }

    /// Runs the stack's timers up to `t` (script time), collecting what it sends.
    fn wait_until(&mut self, t: u64) -> Step {
        while let Some(at) = self.stack.poll_timeout() {
            let at_us = ceil_us(at);
            if at_us > t {
                break;
            }
            self.now = self.now.max(at_us);
            self.stack.handle_timeout(Instant::from_micros(self.now));
            self.after_input()?;
        }
        self.now = self.now.max(t);
        Ok(())
    }

    /// The earliest time something may happen before `limit`.
    fn next_interesting(&self, limit: u64) -> u64 {
        self.stack
            .poll_timeout()
            .map_or(limit, |t| ceil_us(t).min(limit))
    }

    /// Collects what the stack sent and lets a blocked call make progress.
    fn after_input(&mut self) -> Step {
        self.drain_transmits();
        self.retry_pending()?;
        self.drain_transmits();
        Ok(())
    }

    /// Moves what the stack sent into the queue the script's `>` lines read, stamped now.
    fn drain_transmits(&mut self) {
        let mut buf = vec![0u8; 65_600];
        while let Some(tx) = self
            .stack
            .poll_transmit(Instant::from_micros(self.now), &mut buf)
        {
            let bytes = buf[..tx.len].to_vec();
            self.transcript.push(format!(
                "{} > {}",
                secs(self.now),
                self.describe_live(&bytes)
            ));
            self.sent.push_back(Sent {
                at: self.now,
                bytes,
            });
        }
        while self.stack.poll_event().is_some() {}
    }

    /// Checks an event's time: `actual` against the scripted window with its tolerance.
    fn check_time(&self, pos: Pos, what: &str, when: &When, actual: u64) -> Step {
        if when.any || !when.checked {
            return Ok(());
        }
        let tol = when.tolerance;
        let early = actual + tol < when.start;
        let late = actual > when.end + tol;
        if !early && !late {
            return Ok(());
        }
        let message = if when.start != when.end {
            match when.relative {
                Some(base) => format!(
                    "timing error: expected {what} in relative time range +{}~+{} sec but \
                     happened at {} sec",
                    secs(when.start - base),
                    secs(when.end - base),
                    signed_secs(actual as i64 - base as i64)
                ),
                None => format!(
                    "timing error: expected {what} in time range {}~{} sec but happened at {} sec",
                    secs(when.start),
                    secs(when.end),
                    secs(actual)
                ),
            }
        } else {
            format!(
                "timing error: expected {what} at {} sec but happened at {} sec; tolerance {} sec",
                secs(when.start),
                secs(actual),
                secs(tol)
            )
        };
        Err(Stop::fail(pos, message))
    }

    /// Applies a back-quoted shell command.
    fn shell(&mut self, pos: Pos, text: &str) -> Step {
        let effects = env::shell_effects(text).map_err(|e| Stop::skip(pos, e.to_string()))?;
        for effect in effects {
            match effect {
                env::ShellEffect::Sysctls(set) => {
                    if self.saved_sysctls.is_none() {
                        self.saved_sysctls = Some(self.stack.sysctls().clone());
                    }
                    env::apply_sysctls(self.stack.sysctls_mut(), &set)
                        .map_err(|e| Stop::skip(pos, e.to_string()))?;
                }
                env::ShellEffect::Restore => {
                    if let Some(saved) = self.saved_sysctls.take() {
                        *self.stack.sysctls_mut() = saved;
                    }
                }
                env::ShellEffect::DropTransmits(on) => {
                    self.drop_transmits = on;
                    let filter: Option<tcplab_stack::OutputFilter> =
                        if on { Some(Box::new(|_| false)) } else { None };
                    self.stack.set_output_filter(filter);
                }
            }
        }
        Ok(())
    }

    /// `tcp_info` of the socket under test, now.
    fn snapshot(&self) -> Result<TcpInfo, String> {
        let fd = self
            .under_test
            .and_then(|s| self.fds.get(&s))
            .ok_or("no socket to read tcp_info from")?;
        self.stack
            .tcp_info(Instant::from_micros(self.now), fd.live)
            .map_err(|e| format!("getsockopt(TCP_INFO): {} ({})", e.name(), e.text()))
    }

    /// Runs the `%{ }%` blocks in order, each with the `tcp_info` of its time.
    fn run_codes(&mut self) -> Step {
        for code in std::mem::take(&mut self.codes) {
            let info = code
                .info
                .map_err(|e| Stop::fail(code.pos, format!("runtime error in code: {e}")))?;
            let lookup = |name: &str| code_lookup(&info, name);
            match python::exec(&code.text, &lookup) {
                Ok(printed) => {
                    for line in printed {
                        self.transcript.push(format!("print: {line}"));
                    }
                }
                Err(e) => {
                    let at = code_pos(code.pos, &e);
                    return Err(match e {
                        python::CodeError::Unsupported { what, .. } => Stop::skip(at, what),
                        other => Stop::fail(at, format!("error in Python code: {other}")),
                    });
                }
            }
        }
        Ok(())
    }
}

/// The scripted window of one event.
#[derive(Clone, Copy, Debug)]
struct When {
    start: u64,
    end: u64,
    tolerance: u64,
    any: bool,
    /// The base a relative time counts from (for messages).
    relative: Option<u64>,
    /// False for the first event, whose time upstream never checks.
    checked: bool,
}

/// The file position of a position inside a code block's text.
fn code_pos(block: Pos, e: &python::CodeError) -> Pos {
    let p = match e {
        python::CodeError::AssertFailed { pos, .. }
        | python::CodeError::Unsupported { pos, .. }
        | python::CodeError::Error { pos, .. } => *pos,
    };
    if p.line <= 1 {
        // The text starts right after `%{`.
        Pos {
            line: block.line,
            col: block.col + 2 + p.col.saturating_sub(1),
        }
    } else {
        Pos {
            line: block.line + p.line - 1,
            col: p.col,
        }
    }
}

/// What a name in a `%{ }%` block means: a `tcp_info` field or one of the constants
/// packetdrill defines for them.
fn code_lookup(info: &TcpInfo, name: &str) -> python::Lookup {
    use python::{Lookup, Value};
    if let Some(v) = info.field(name) {
        return Lookup::Value(Value::Int(i128::from(v)));
    }
    const CONSTANTS: &[(&str, i128)] = &[
        ("TCP_ESTABLISHED", 1),
        ("TCP_SYN_SENT", 2),
        ("TCP_SYN_RECV", 3),
        ("TCP_FIN_WAIT1", 4),
        ("TCP_FIN_WAIT2", 5),
        ("TCP_TIME_WAIT", 6),
        ("TCP_CLOSE", 7),
        ("TCP_CLOSE_WAIT", 8),
        ("TCP_LAST_ACK", 9),
        ("TCP_LISTEN", 10),
        ("TCP_CLOSING", 11),
        ("TCP_CA_Open", 0),
        ("TCP_CA_Disorder", 1),
        ("TCP_CA_CWR", 2),
        ("TCP_CA_Recovery", 3),
        ("TCP_CA_Loss", 4),
        ("TCPI_OPT_TIMESTAMPS", 1),
        ("TCPI_OPT_SACK", 2),
        ("TCPI_OPT_WSCALE", 4),
        ("TCPI_OPT_ECN", 8),
        ("TCPI_OPT_ECN_SEEN", 16),
        ("TCPI_OPT_SYN_DATA", 32),
    ];
    if let Some((_, v)) = CONSTANTS.iter().find(|(n, _)| *n == name) {
        return Lookup::Value(Value::Int(*v));
    }
    if name.starts_with("tcpi_")
        || name.starts_with("bbr_")
        || name.starts_with("dctcp_")
        || name.starts_with("tcpv_")
        || name.starts_with("SK_MEMINFO_")
    {
        return Lookup::Unsupported(format!("`{name}` is not modelled by tcplab's tcp_info"));
    }
    Lookup::Unknown
}

/// A stack instant as script microseconds, rounded up so that running the stack at it fires
/// whatever is due.
fn ceil_us(t: Instant) -> u64 {
    t.as_nanos().div_ceil(1_000)
}

/// `1.234567` seconds, as packetdrill prints times.
fn secs(us: u64) -> String {
    format!("{}.{:06}", us / 1_000_000, us % 1_000_000)
}

/// `+0.100000` or `-0.004000` seconds.
fn signed_secs(us: i64) -> String {
    let sign = if us < 0 { '-' } else { '+' };
    format!("{sign}{}", secs(us.unsigned_abs()))
}
