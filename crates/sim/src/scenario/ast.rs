//! The parsed form of a scenario script: plain data, every node with the position it was
//! written at. The parser has already checked what it can check alone (declared hosts,
//! sockets and jobs, times that never go backwards, option names, units), so an interpreter
//! can match on these types without re-validating them.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

pub use tcplab_stack::{Errno, Shutdown, SockOpt, TcpState};

/// A position in the script: 1-based line and column. Columns count characters, not bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub line: u32,
    pub col: u32,
}

impl Span {
    pub fn new(line: u32, col: u32) -> Span {
        Span { line, col }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// A whole script.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// The file name the script was parsed under; `sysctl -p` paths are relative to its
    /// directory.
    pub file: String,
    /// `host NAME ADDR [kernel]` lines, in order. `HostRef::index` points into this list.
    pub hosts: Vec<Host>,
    /// `link` lines written before the first `at` line: the network at time 0. Link lines
    /// after that are steps (`Command::Link`).
    pub links: Vec<Link>,
    /// `seed` and `hz`.
    pub settings: Settings,
    /// Everything that happens at a time, in file order (which is also time order).
    pub steps: Vec<Step>,
    /// `run DURATION`: the run ends at this absolute time.
    pub run: Option<Run>,
}

impl Scenario {
    /// The host a reference points at.
    pub fn host(&self, r: &HostRef) -> Option<&Host> {
        self.hosts.get(r.index)
    }

    /// The host with this name.
    pub fn host_named(&self, name: &str) -> Option<&Host> {
        self.hosts.iter().find(|h| h.name == name)
    }

    /// The HZ the script sets for host `index` (`Scenario::hosts`): its own `HOST: hz`, else
    /// the global `hz`, else `None` (the simulator's default).
    pub fn hz_of(&self, index: usize) -> Option<u32> {
        let own = self
            .settings
            .hz
            .iter()
            .find(|s| s.host.as_ref().is_some_and(|h| h.index == index));
        own.or_else(|| self.settings.hz.iter().find(|s| s.host.is_none()))
            .map(|s| s.hz)
    }
}

/// `host NAME ADDR [kernel]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Host {
    pub name: String,
    pub addr: IpAddr,
    /// Marked `kernel`: runs on the real kernel instead of a tcplab stack.
    pub kernel: bool,
    pub span: Span,
}

/// A use of a declared host's name.
#[derive(Clone, Debug, PartialEq)]
pub struct HostRef {
    pub name: String,
    /// Index into `Scenario::hosts`.
    pub index: usize,
    pub span: Span,
}

/// `link A B PROPS…` (both directions) or `link A -> B PROPS…` (one direction).
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    pub from: HostRef,
    pub to: HostRef,
    /// True for `link A B`: the properties apply to A -> B and B -> A alike.
    pub both_ways: bool,
    /// In the order written; each kind at most once per line.
    pub props: Vec<LinkProp>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LinkProp {
    pub kind: LinkPropKind,
    pub span: Span,
}

/// One property of a link direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkPropKind {
    /// `delay 25us`: one-way propagation delay.
    Delay(Duration),
    /// `jitter 1ms`: each packet's delay is drawn uniformly from `delay ± jitter` (never
    /// below zero).
    Jitter(Duration),
    /// `rate 10mbit`: serialisation rate in bits per second (as tc writes rates; divide by
    /// 8 for bytes).
    Rate(u64),
    /// `queue 100`: the most packets waiting for (or in) serialisation; more are
    /// tail-dropped. Meaningful with a `rate`.
    Queue(u32),
    /// `loss 1%`.
    Loss(Ppm),
    /// `dup 1%`.
    Dup(Ppm),
    /// `reorder 5% 10ms`: with this probability a packet is held back this much longer, so
    /// that later packets overtake it.
    Reorder(Ppm, Duration),
    /// `corrupt 0.1%`: the packet is damaged after its IP header; the receiver's checksum
    /// check drops it.
    Corrupt(Ppm),
}

/// A probability in parts per million: `1%` is `Ppm(10_000)`, `100%` is `Ppm(1_000_000)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ppm(pub u32);

/// `seed` and `hz` lines.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Settings {
    /// `seed N`: the simulator's random seed.
    pub seed: Option<Seed>,
    /// `hz N` (every host, `host: None`) and `HOST: hz N` (one host, overrides the global
    /// one). At most one per scope.
    pub hz: Vec<HzSetting>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Seed {
    pub value: u64,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct HzSetting {
    pub host: Option<HostRef>,
    /// One of Linux's CONFIG_HZ choices: 100, 250, 300, 1000.
    pub hz: u32,
    pub span: Span,
}

/// `run 60s`.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    pub duration: Duration,
    pub span: Span,
}

/// One line that happens at a time.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The `at` prefix as written, if any.
    pub at: Option<TimeSpec>,
    /// The absolute time the step runs at: its own `at`, else the previous `at`'s time (0
    /// before the first `at`). Never less than the previous step's time.
    pub time: Duration,
    pub command: Command,
    /// The line as written, without its comment (`at 3s   client: kill -INT %1`), for
    /// transcripts and failure messages.
    pub text: String,
    /// The start of the line.
    pub span: Span,
}

impl Step {
    /// The host the step runs on or is about, if it is tied to one.
    pub fn host(&self) -> Option<&HostRef> {
        match &self.command {
            Command::Host(h, _) => Some(h),
            Command::Link(_) => None,
            Command::Expect(e) => e.host(),
        }
    }
}

/// A time as written: `3.5s` (absolute) or `+100ms` (relative), and what it resolves to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeSpec {
    /// Written with a leading `+`.
    pub relative: bool,
    /// The duration as written, without the `+`.
    pub value: Duration,
    /// The absolute time: `value`, or `value` after the reference time for a relative one
    /// (the previous `at` for an `at`; the step's time inside an `expect`).
    pub time: Duration,
    pub span: Span,
}

/// What a step does.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// `HOST: command`.
    Host(HostRef, HostCommand),
    /// A `link` line after the first `at`: these properties change from this time on; the
    /// others stay as they were.
    Link(Link),
    /// `expect …`.
    Expect(Expect),
}

/// A command run on one host, modelled on the real tool or system call.
#[derive(Clone, Debug, PartialEq)]
pub enum HostCommand {
    Sysctl(Sysctl),
    Nc(Nc),
    Kill(Kill),
    /// `iptables ARGS…`: the arguments exactly as written; the simulator parses them.
    Iptables(Iptables),
    /// `ss …` / `netstat …`, optionally `| grep …`: prints a snapshot into the transcript.
    Snapshot(Snapshot),
    Tcpdump(Tcpdump),
    /// `socket NAME`: socket(), so that options can be set before connect or listen.
    Socket {
        sock: SockName,
        span: Span,
    },
    /// `connect ADDR:PORT as NAME`: connect() (blocking), on the socket created by `socket
    /// NAME` if there is one, else on a new one.
    Connect {
        sock: SockName,
        to: Endpoint,
        span: Span,
    },
    /// `listen [ADDR:]PORT as NAME [backlog N]`: bind() and listen(), on the socket created
    /// by `socket NAME` if there is one, else on a new one.
    Listen {
        sock: SockName,
        addr: Option<IpAddr>,
        port: u16,
        backlog: Option<u32>,
        span: Span,
    },
    /// `accept LISTENER as NAME`: a blocking accept().
    Accept {
        listener: SockName,
        sock: SockName,
        span: Span,
    },
    /// `write NAME BYTES [repeat N every DURATION]`: send() that many bytes (blocking until
    /// all are queued), once or N times at that interval.
    Write {
        sock: SockName,
        bytes: u64,
        repeat: Option<Repeat>,
        span: Span,
    },
    /// `read NAME`: from now on the program reads whatever arrives (a blocking recv() loop).
    Read {
        sock: SockName,
        span: Span,
    },
    /// `noread NAME`: the program stops calling recv() on the socket.
    NoRead {
        sock: SockName,
        span: Span,
    },
    /// `shutdown NAME rd|wr|rdwr`.
    Shutdown {
        sock: SockName,
        how: Shutdown,
        span: Span,
    },
    /// `close NAME`.
    Close {
        sock: SockName,
        span: Span,
    },
    /// `setsockopt NAME OPTION VALUE`.
    Setsockopt {
        sock: SockName,
        opt: SockOpt,
        span: Span,
    },
}

/// A bare word of the script (quotes removed), for arguments kept as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub span: Span,
}

/// `sysctl …`.
#[derive(Clone, Debug, PartialEq)]
pub enum Sysctl {
    /// `sysctl -w KEY=VALUE…`.
    Write {
        assignments: Vec<SysctlAssign>,
        span: Span,
    },
    /// `sysctl -p FILE`: a sysctl.conf file, relative to the script's directory.
    Load { file: Word, span: Span },
    /// `sysctl KEY…`: prints the values into the transcript.
    Show { keys: Vec<Word>, span: Span },
}

/// `KEY=VALUE`. A key written with `/` separators is stored with dots, as sysctl does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SysctlAssign {
    pub key: String,
    pub value: String,
    pub span: Span,
}

/// `nc -l PORT` or `nc ADDR PORT`.
#[derive(Clone, Debug, PartialEq)]
pub struct Nc {
    pub mode: NcMode,
    /// The job number `&` gave it (`%1` is 1), per host.
    pub job: Option<u32>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NcMode {
    /// `nc -l [-p] PORT`: accepts one connection, then closes the listener.
    Listen { port: u16, span: Span },
    /// `nc ADDR PORT`.
    Connect { to: Endpoint },
}

/// An address and port. Written `10.0.0.2:1234`, `[::1]:1234`, `server:1234`, or for `nc`
/// as two words.
#[derive(Clone, Debug, PartialEq)]
pub struct Endpoint {
    pub addr: IpAddr,
    pub port: u16,
    /// Set when the address was written as a host's name.
    pub host: Option<HostRef>,
    pub span: Span,
}

/// `kill [-SIGNAL] %N|PID`.
#[derive(Clone, Debug, PartialEq)]
pub struct Kill {
    pub signal: Signal,
    pub target: KillTarget,
    pub span: Span,
}

/// The signals a script can send; each ends the process, which closes its sockets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    Hup,
    /// What ctrl-c sends.
    Int,
    Kill,
    /// `kill`'s default.
    Term,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KillTarget {
    /// `%N`: checked to name a job started earlier on the same host.
    Job(u32),
    /// A process id, as `netstat -p` prints it.
    Pid(u32),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Iptables {
    pub args: Vec<Word>,
    pub span: Span,
}

/// `ss ARGS… [| grep …]…` or `netstat ARGS… [| grep …]…`.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub tool: SnapshotTool,
    /// The tool's arguments as written (`-tano`, `state`, `established`, …).
    pub args: Vec<Word>,
    /// Filters applied in order.
    pub greps: Vec<Grep>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotTool {
    Ss,
    Netstat,
}

/// `grep [-v] [-i] [-F] PATTERN`: keeps the lines containing PATTERN (a fixed string).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grep {
    pub invert: bool,
    pub ignore_case: bool,
    pub pattern: String,
    pub span: Span,
}

/// `tcpdump [-n] [-i IF] [-w FILE] [FILTER…]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Tcpdump {
    /// `-w FILE`: a pcap file, relative to the working directory of the run. Without it the
    /// packets are printed into the transcript.
    pub file: Option<Word>,
    /// `-i IF`.
    pub interface: Option<Word>,
    /// `-n`.
    pub numeric: bool,
    /// A pcap filter expression, the words as written.
    pub filter: Vec<Word>,
    pub job: Option<u32>,
    pub span: Span,
}

impl Tcpdump {
    /// The command as the timeline shows it: `tcpdump [-n] [-i IF] [-w FILE] [FILTER…]`.
    pub fn command_line(&self) -> String {
        let mut words = vec!["tcpdump".to_string()];
        if self.numeric {
            words.push("-n".into());
        }
        if let Some(i) = &self.interface {
            words.extend(["-i".to_string(), i.text.clone()]);
        }
        if let Some(f) = &self.file {
            words.extend(["-w".to_string(), f.text.clone()]);
        }
        words.extend(self.filter.iter().map(|w| w.text.clone()));
        words.join(" ")
    }
}

/// The name of a socket of the socket program (`s`, `l`, `c`), unique per host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SockName {
    pub name: String,
    pub span: Span,
}

/// `repeat N every DURATION`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repeat {
    /// How many writes in all (at least 1).
    pub count: u32,
    pub every: Duration,
    pub span: Span,
}

impl Repeat {
    /// The writes after the first and the time between them, for a `write` line with or
    /// without `repeat`: `(0, 0)` without.
    pub fn later(repeat: Option<&Repeat>) -> (u32, Duration) {
        repeat.map_or((0, Duration::ZERO), |r| {
            (r.count.saturating_sub(1), r.every)
        })
    }
}

/// A socket an assertion is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SockRef {
    /// A socket of the socket program.
    Named(SockName),
    /// `%N`: the connection of `nc` job N (for `nc -l`, the accepted connection, or the
    /// listener while none has been accepted).
    Job { job: u32, span: Span },
}

/// An assertion. A failed one fails the run with its position and what was seen.
#[derive(Clone, Debug, PartialEq)]
pub enum Expect {
    /// `expect HOST: state SOCK STATE`: at the step's time.
    State {
        host: HostRef,
        sock: SockRef,
        state: ExpectedState,
        span: Span,
    },
    /// `expect HOST: errno SOCK ERRNO|none [at TIME [±TOL]]`: the errno of the last failed
    /// call on the socket (`none`: no call has failed), at the step's time; with `at`, that
    /// call also failed at this time within the tolerance.
    Errno {
        host: HostRef,
        sock: SockRef,
        errno: Option<Errno>,
        at: Option<TimePoint>,
        span: Span,
    },
    /// `expect HOST: [!] ss|netstat … [| grep …]`: at the step's time the output (after the
    /// greps) has at least one line; with `!`, none.
    Output {
        host: HostRef,
        negate: bool,
        snapshot: Snapshot,
        span: Span,
    },
    /// `expect packet FILTER at TIME [±TOL][, TIME [±TOL]]…` (or `expect rst …`): for every
    /// time, at least one packet on the wire matches the filter within the tolerance.
    Packet {
        filter: PacketFilter,
        times: Vec<TimePoint>,
        span: Span,
    },
    /// `expect no packet FILTER [from TIME] [until TIME]` (or `expect no rst …`): no packet
    /// matches in the window (the whole run by default; both ends inclusive).
    NoPacket {
        filter: PacketFilter,
        from: Option<TimeSpec>,
        until: Option<TimeSpec>,
        span: Span,
    },
}

impl Expect {
    /// The host a host-scoped assertion is about.
    pub fn host(&self) -> Option<&HostRef> {
        match self {
            Expect::State { host, .. }
            | Expect::Errno { host, .. }
            | Expect::Output { host, .. } => Some(host),
            Expect::Packet { .. } | Expect::NoPacket { .. } => None,
        }
    }
}

/// The state `expect … state` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpectedState {
    /// A TCP state; written with Linux's, netstat's or ss's spelling (`FIN_WAIT1`,
    /// `FIN-WAIT-1`, `ESTABLISHED`, `ESTAB`).
    Is(TcpState),
    /// `gone`: the socket is no longer in the host's socket table (an orphan that died or a
    /// closed socket that was freed).
    Gone,
}

/// A time with its tolerance: matches `[time - tolerance, time + tolerance]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimePoint {
    pub time: TimeSpec,
    /// Zero when none was written.
    pub tolerance: Duration,
}

/// Which packets an assertion is about: all the given fields must match.
#[derive(Clone, Debug, PartialEq)]
pub struct PacketFilter {
    /// `A > B`: sent by host A to host B.
    pub from: Option<HostRef>,
    pub to: Option<HostRef>,
    pub flags: Option<FlagMatch>,
    /// Sequence and acknowledgment numbers relative to each direction's initial sequence
    /// number, as tcpdump prints them (the SYN is seq 0).
    pub seq: Option<u32>,
    pub ack: Option<u32>,
    /// TCP payload length.
    pub len: Option<u32>,
    /// The window field as sent (unscaled).
    pub win: Option<u32>,
    pub span: Span,
}

/// `flags F.` (exactly these flags) or `rst` (at least RST).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlagMatch {
    pub flags: TcpFlags,
    /// True: the flag set equals `flags`. False: it contains `flags`.
    pub exact: bool,
    pub span: Span,
}

/// TCP header flags, the header's bit values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;

    /// tcpdump's letters in tcpdump's order.
    pub const LETTERS: [(u8, char); 8] = [
        (Self::FIN, 'F'),
        (Self::SYN, 'S'),
        (Self::RST, 'R'),
        (Self::PSH, 'P'),
        (Self::ACK, '.'),
        (Self::URG, 'U'),
        (Self::ECE, 'E'),
        (Self::CWR, 'W'),
    ];

    /// Parses tcpdump's letters (`S.`, `FP.`, `R`), in any order, each at most once; `none`
    /// is the empty set.
    pub fn from_letters(s: &str) -> Option<TcpFlags> {
        if s == "none" {
            return Some(TcpFlags(0));
        }
        if s.is_empty() {
            return None;
        }
        let mut bits = 0u8;
        for c in s.chars() {
            let (bit, _) = Self::LETTERS.iter().find(|(_, l)| *l == c)?;
            if bits & bit != 0 {
                return None;
            }
            bits |= bit;
        }
        Some(TcpFlags(bits))
    }
}

/// As tcpdump prints them: `S.`, `FP.`, `none`.
impl fmt::Display for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("none");
        }
        for (bit, letter) in Self::LETTERS {
            if self.0 & bit != 0 {
                write!(f, "{letter}")?;
            }
        }
        Ok(())
    }
}

/// A duration as a script would write it: `3.5s`, `200ms`, `25us`, `0s`.
pub fn format_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    let (scale, unit) = if ns >= 1_000_000_000 || ns == 0 {
        (1_000_000_000u128, "s")
    } else if ns >= 1_000_000 {
        (1_000_000, "ms")
    } else if ns >= 1_000 {
        (1_000, "us")
    } else {
        (1, "ns")
    };
    let whole = ns / scale;
    let frac = ns % scale;
    if frac == 0 {
        return format!("{whole}{unit}");
    }
    let width = scale.ilog10() as usize;
    let digits = format!("{frac:0width$}");
    format!("{whole}.{}{unit}", digits.trim_end_matches('0'))
}
