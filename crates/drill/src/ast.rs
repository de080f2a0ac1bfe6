//! Syntax tree of a packetdrill script.
//!
//! The tree keeps what the script says, not what it means: sequence numbers stay relative,
//! symbolic constants stay names, shell and Python blocks stay raw text. Every node carries the
//! [`Pos`] of its first character so a runner can report `FILE:LINE:COL` for any failure.

use std::fmt;

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// Line number, starting at 1.
    pub line: u32,
    /// Column number, starting at 1.
    pub col: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// A whole script: `opt_options opt_init_command events opt_cleanup_command`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// `--name[=value]` lines before the first event.
    pub options: Vec<CmdOption>,
    /// A back-quoted shell command before the first event (usually `defaults.sh`).
    pub init_command: Option<Command>,
    /// The timed events, in file order.
    pub events: Vec<Event>,
    /// A back-quoted shell command after the last event, with no time.
    pub cleanup_command: Option<Command>,
}

/// A command-line option line such as `--tolerance_usecs=10000`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdOption {
    /// Where the leading `--` is.
    pub pos: Pos,
    /// The name without the leading `--` (`tolerance_usecs`).
    pub name: String,
    /// The value after `=`, if any.
    pub value: Option<OptionValue>,
}

/// The value of a command-line option, classified the way packetdrill's lexer would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionValue {
    /// A decimal or `0x` hexadecimal integer.
    Integer(u64),
    /// A dotted-quad IPv4 address, as written.
    Ipv4(String),
    /// An IPv6 address, as written.
    Ipv6(String),
    /// A double-quoted string, without its quotes.
    Str(String),
    /// Anything else (`ipv4`, `ipv4-mapped-ipv6`, `name=value`, ...), as written.
    Word(String),
}

/// One timed line of the script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Where the line starts (its time).
    pub pos: Pos,
    /// When the event is due.
    pub time: EventTime,
    /// What happens.
    pub action: Action,
}

/// A point in script time, in microseconds (seconds are converted exactly from the decimal
/// text; digits past the sixth decimal place are dropped, as packetdrill's cast does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Time {
    /// Where the number is.
    pub pos: Pos,
    /// The value in microseconds.
    pub usecs: u64,
}

/// The time column of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventTime {
    /// `0.100`: seconds since the script started.
    Absolute(Time),
    /// `+0.1`: seconds since the previous event.
    Relative(Time),
    /// `*`: any time.
    Any,
    /// `0.1~0.2`: any time in the absolute window.
    AbsoluteRange(Time, Time),
    /// `+.3~+.4`: any time in the window, both ends relative to the previous event.
    RelativeRange(Time, Time),
}

/// What an event does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A TCP segment to inject or to expect.
    Packet(TcpPacket),
    /// A system call and its expected result.
    Syscall(Syscall),
    /// A back-quoted shell command.
    Command(Command),
    /// A `%{ ... }%` Python block.
    Code(Code),
    /// A packet line this parser recognises but does not model (UDP, ICMP, tunnels).
    Unsupported(Unsupported),
}

/// Which way a packet goes, from the stack's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `<`: the script injects the packet into the stack.
    Inbound,
    /// `>`: the stack must send the packet.
    Outbound,
}

/// A TCP packet line: `< S. 0:0(0) ack 1 win 257 <mss 1460,nop>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpPacket {
    /// Where the direction character is.
    pub pos: Pos,
    /// Inbound or outbound.
    pub direction: Direction,
    /// `[ect0]`, `(tos 0x10)`, `[flowlabel 0x1]`, `(ttl 64)` if given.
    pub ip_info: Option<IpInfo>,
    /// `src_port>dst_port` if given.
    pub ports: Option<(u16, u16)>,
    /// The flags column.
    pub flags: TcpFlags,
    /// `start:end(len)`, relative to the sender's ISN.
    pub seq: SeqRange,
    /// `ack N`, relative to the receiver's ISN.
    pub ack: Option<u32>,
    /// `win N`, as it appears on the wire (unscaled).
    pub win: Option<u32>,
    /// `urg N`.
    pub urg: Option<u32>,
    /// The `<...>` option list, if any.
    pub options: Option<TcpOptions>,
}

/// The flags column. `.` means ACK; `-` means no flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpFlags {
    /// Where the column starts.
    pub pos: Pos,
    /// `F`.
    pub fin: bool,
    /// `S`.
    pub syn: bool,
    /// `R`.
    pub rst: bool,
    /// `P`.
    pub psh: bool,
    /// `.`.
    pub ack: bool,
    /// `U`.
    pub urg: bool,
    /// `E`.
    pub ece: bool,
    /// `W`.
    pub cwr: bool,
    /// `A` (AccECN's AE bit).
    pub ae: bool,
}

impl Default for Pos {
    fn default() -> Self {
        Pos { line: 1, col: 1 }
    }
}

/// `start:end(len)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeqRange {
    /// Where `start` is.
    pub pos: Pos,
    /// First sequence number.
    pub start: u32,
    /// Sequence number after the payload.
    pub end: u32,
    /// Payload length.
    pub len: u32,
}

/// IP-level decorations of a packet line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpInfo {
    /// Where the opening bracket is.
    pub pos: Pos,
    /// The items, in order (`ect0`, `tos 0x10`, `flowlabel 0x1`, `ttl 64`).
    pub items: Vec<IpInfoItem>,
}

/// One item of [`IpInfo`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IpInfoItem {
    /// `no_ecn`, `ect0`, `ect1`, `ect01`, `ce`.
    Ecn(String),
    /// `tos 0x..`.
    Tos(u64),
    /// `flowlabel 0x..`.
    FlowLabel(u64),
    /// `ttl N`.
    Ttl(u64),
}

/// The `<...>` part of a TCP packet line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpOptions {
    /// `<...>`: any options are fine.
    Any(Pos),
    /// An explicit list, in wire order.
    List(Vec<TcpOption>),
}

/// One TCP option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpOption {
    /// Where the option's first word is.
    pub pos: Pos,
    /// Which option.
    pub kind: TcpOptionKind,
}

/// The TCP options packetdrill knows by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpOptionKind {
    /// `nop`.
    Nop,
    /// `eol`.
    Eol,
    /// `mss N`.
    Mss(u32),
    /// `wscale N`.
    WScale(u32),
    /// `sackOK`.
    SackOk,
    /// `sack a:b c:d ...`.
    Sack(Vec<(u32, u32)>),
    /// `TS val N ecr N`.
    Timestamp {
        /// TSval.
        val: u32,
        /// TSecr.
        ecr: u32,
    },
    /// `md5 HEX`, as written.
    Md5(String),
    /// `FO [cookie]`: the RFC 7413 Fast Open option.
    FastOpen(Option<String>),
    /// `FOEXP [cookie]`: the experimental Fast Open option.
    FastOpenExp(Option<String>),
}

/// A system call line: `+0...0.2 read(4, ..., 100) = 100`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Syscall {
    /// Where the call's name is.
    pub pos: Pos,
    /// `...T`: the call blocks until time `T`. `T` has the same base as the event's start:
    /// after `+0.1...0.3` the call starts 0.1 s and returns 0.3 s after the previous event.
    pub end_time: Option<Time>,
    /// The function name (`socket`, `setsockopt`, ...).
    pub name: String,
    /// The arguments, in order.
    pub args: Vec<Expr>,
    /// The expected return value.
    pub result: Expr,
    /// The expected errno name (`EPIPE`), if any.
    pub errno: Option<Ident>,
    /// The parenthesised note after the result (`(Broken pipe)`), as written inside the parens.
    pub note: Option<Note>,
}

/// A bare name with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    /// Where the name is.
    pub pos: Pos,
    /// The name.
    pub name: String,
}

/// A free-text note such as `(Operation now in progress)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// Where the opening parenthesis is.
    pub pos: Pos,
    /// The words inside, joined by single spaces.
    pub text: String,
}

/// A system call argument or result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expr {
    /// Where the expression starts.
    pub pos: Pos,
    /// What it is.
    pub kind: ExprKind,
}

/// The expression forms of packetdrill's system call syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExprKind {
    /// `...`: any value, or "fill in the obvious value".
    Ellipsis,
    /// A decimal integer, possibly negative.
    Int(i64),
    /// A `0x` hexadecimal integer.
    Hex(u64),
    /// A symbolic name (`SOL_SOCKET`, `IPPROTO_TCP`, `AF_INET`).
    Word(String),
    /// A double-quoted string, escapes undone.
    Str(String),
    /// `"..."...`: a string that may be followed by more bytes.
    StrPrefix(String),
    /// `a | b`.
    BitOr(Box<Expr>, Box<Expr>),
    /// `name = value` inside a struct.
    Field(Ident, Box<Expr>),
    /// `name(args)`: `htons(8080)`, `inet_addr("1.2.3.4")`, `msg_iov(1)`.
    Call(Ident, Vec<Expr>),
    /// `name(args) = value`: `msg_iov(1)=[...]`.
    CallField(Ident, Vec<Expr>, Box<Expr>),
    /// `[a, b]`.
    Array(Vec<Expr>),
    /// `{a, b}` or `{name=value, ...}`.
    Struct(Vec<Expr>),
}

/// A back-quoted shell command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Where the opening back quote is.
    pub pos: Pos,
    /// The text between the back quotes, verbatim (may span lines).
    pub text: String,
}

/// A `%{ ... }%` Python block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    /// Where `%{` is.
    pub pos: Pos,
    /// The text between `%{` and `}%`, verbatim.
    pub text: String,
}

/// A packet line of a kind this crate does not model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// Where the direction character is.
    pub pos: Pos,
    /// What it is (`udp`, `icmp`, `ipv4`, `ipv6`, `gre`, `mpls`).
    pub kind: String,
    /// The rest of the line from the direction character on, verbatim.
    pub text: String,
}
