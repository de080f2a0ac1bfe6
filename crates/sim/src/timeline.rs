//! The record of a run: every packet, state change, timer firing, application call and
//! snapshot, with its virtual time and host.
//!
//! Each event prints as a human line ([`Event::text`]) and as one JSON object
//! ([`Event::json`]); the trace hash is FNV-1a over the JSON lines, so two runs with the same
//! seed have the same hash exactly when they have the same events.
//!
//! # JSON schema (`--json`: one object per line)
//!
//! Every event has `t` (seconds of virtual time, a number with nanosecond precision) and
//! `kind`. By kind:
//!
//! - `packet`: `host`, `dir` (`"out"`: the host sent it; `"in"`: it reached the host),
//!   `src` and `dst` (`addr:port`, IPv6 as `[addr]:port`), `proto` (`"tcp"`, `"icmp"`,
//!   `"icmp6"` or the number), `flags` (tcpdump letters: `S`, `S.`, `.`, `P.`, `F.`, `R`,
//!   `R.`, …), `seq` (relative to the sender's ISN, 0 on a SYN), `ack` (relative to the
//!   peer's ISN, `null` without ACK), `len` (payload bytes), `win`, `dropped` (`null`, or
//!   what dropped it: the iptables rule as `iptables -S` prints it, `"link loss"`,
//!   `"link queue full"`, `"no host has this address"`), `note` (`null`, or what the link did:
//!   `"duplicated"`, `"reordered"`, `"corrupted"`), and `text` (the tcpdump line). An OUTPUT
//!   drop is an `out` event with `dropped` set; the datagram never reached the wire. A
//!   datagram lost on the link is an `out` event with `dropped` set and no `in` event.
//! - `state`: `host`, `local`, `remote`, `from`, `to` (netstat names: `ESTABLISHED`,
//!   `FIN_WAIT1`, …). Every socket: orphans, request and time-wait sockets included.
//! - `timer`: `host`, `local`, `remote`, `timer` (`RETRANS`, `LOSS_PROBE`, `PROBE0`,
//!   `REO_TIMEOUT`, `DACK`, `KEEPALIVE`, `SYNACK`, `TIME_WAIT`), `count` (retransmissions
//!   or probes before the handler ran).
//! - `note`: something Linux does that has no effect in tcplab: `host`, `local`, `remote`,
//!   `what`.
//! - `call`: `host`, `pid`, `process`, `call` (`socket`, `connect`, `listen`, `accept`,
//!   `write`, `read`, `shutdown`, `close`, `setsockopt`), `args` (text), `ret` (a number, or
//!   `null` on failure), `errno` (`null` or the name, `EINPROGRESS`).
//! - `app`: an asynchronous result: `host`, `pid`, `process`, `fd` (`null` for `exit`), `what` (`connected`,
//!   `connect_failed`, `eof`, `error`, `exit`), `errno` (`null` or a name), `detail` (text).
//! - `command`: a shell command run on a host (`iptables …`, `sysctl -w …`): `host`,
//!   `command`, `error` (`null` or the message).
//! - `snapshot`: `host`, `command` (`ss -tano`, `netstat -anp`), `output` (the text exactly
//!   as the tool prints it).
//! - `error`: a scheduled action that could not run: `message`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;

use tcplab_stack::{Errno, Instant, TcpState, TimerName, Trace};
use tcplab_wire::IpRepr;
use tcplab_wire::print::{Isns, tcpdump_datagram, tcpdump_line_relative};
use tcplab_wire::tcp::{TcpFlags, TcpRepr};

use crate::rng::fnv1a_update;

/// Which way a packet went, seen from `host`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dir {
    Out,
    In,
}

impl Dir {
    pub fn name(self) -> &'static str {
        match self {
            Dir::Out => "out",
            Dir::In => "in",
        }
    }
}

/// A datagram seen by a host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PacketEvent {
    pub host: String,
    pub dir: Dir,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    /// IP protocol number.
    pub proto: u8,
    /// tcpdump letters; empty for a datagram that is not TCP.
    pub flags: String,
    pub seq: u32,
    pub ack: Option<u32>,
    pub len: u32,
    pub win: u16,
    pub dropped: Option<String>,
    pub note: Option<String>,
    /// The tcpdump line (relative sequence numbers, as tcpdump shows them on this host).
    pub text: String,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    Packet(PacketEvent),
    State {
        host: String,
        local: SocketAddr,
        remote: SocketAddr,
        from: TcpState,
        to: TcpState,
    },
    Timer {
        host: String,
        local: SocketAddr,
        remote: SocketAddr,
        timer: TimerName,
        count: u32,
    },
    /// Something Linux does that has no effect in tcplab.
    Note {
        host: String,
        local: SocketAddr,
        remote: SocketAddr,
        what: String,
    },
    Call {
        host: String,
        pid: u32,
        process: String,
        call: &'static str,
        args: String,
        ret: Option<i64>,
        errno: Option<Errno>,
    },
    App {
        host: String,
        pid: u32,
        process: String,
        /// `None` for what concerns the whole process (`exit`).
        fd: Option<u32>,
        what: &'static str,
        errno: Option<Errno>,
        detail: String,
    },
    Command {
        host: String,
        command: String,
        error: Option<String>,
    },
    Snapshot {
        host: String,
        command: String,
        output: String,
    },
    Error {
        message: String,
    },
}

/// One event at a virtual time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub t: Instant,
    pub kind: EventKind,
}

/// The short name of a timer on the timeline.
pub fn timer_name(t: TimerName) -> &'static str {
    match t {
        TimerName::Retransmit => "RETRANS",
        TimerName::LossProbe => "LOSS_PROBE",
        TimerName::ZeroWindowProbe => "PROBE0",
        TimerName::ReorderTimeout => "REO_TIMEOUT",
        TimerName::DelayedAck => "DACK",
        TimerName::Keepalive => "KEEPALIVE",
        TimerName::SynAck => "SYNACK",
        TimerName::TimeWait => "TIME_WAIT",
    }
}

fn timer_count_noun(t: TimerName) -> Option<&'static str> {
    match t {
        TimerName::Retransmit
        | TimerName::LossProbe
        | TimerName::ReorderTimeout
        | TimerName::SynAck => Some("retransmits"),
        TimerName::ZeroWindowProbe | TimerName::Keepalive => Some("probes"),
        TimerName::DelayedAck | TimerName::TimeWait => None,
    }
}

/// A JSON string literal.
pub fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_opt_str(s: Option<&str>) -> String {
    s.map_or_else(|| "null".to_string(), json_str)
}

/// Seconds with nanosecond precision as a JSON number.
fn json_time(t: Instant) -> String {
    let ns = t.as_nanos();
    format!("{}.{:09}", ns / 1_000_000_000, ns % 1_000_000_000)
}

impl EventKind {
    /// A stack's trace record as a host's event (`None` for kinds the timeline does not
    /// show).
    pub fn from_trace(host: &str, tr: Trace) -> Option<EventKind> {
        let host = host.to_string();
        Some(match tr {
            Trace::State {
                local,
                remote,
                from,
                to,
            } => EventKind::State {
                host,
                local,
                remote,
                from,
                to,
            },
            Trace::Timer {
                local,
                remote,
                timer,
                count,
            } => EventKind::Timer {
                host,
                local,
                remote,
                timer,
                count,
            },
            Trace::Note {
                local,
                remote,
                what,
            } => EventKind::Note {
                host,
                local,
                remote,
                what: what.to_string(),
            },
            _ => return None,
        })
    }
}

impl Event {
    /// The kind's name, as the JSON `kind` field.
    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            EventKind::Packet(_) => "packet",
            EventKind::State { .. } => "state",
            EventKind::Timer { .. } => "timer",
            EventKind::Note { .. } => "note",
            EventKind::Call { .. } => "call",
            EventKind::App { .. } => "app",
            EventKind::Command { .. } => "command",
            EventKind::Snapshot { .. } => "snapshot",
            EventKind::Error { .. } => "error",
        }
    }

    /// The host the event belongs to, if any.
    pub fn host(&self) -> Option<&str> {
        match &self.kind {
            EventKind::Packet(p) => Some(&p.host),
            EventKind::State { host, .. }
            | EventKind::Timer { host, .. }
            | EventKind::Note { host, .. }
            | EventKind::Call { host, .. }
            | EventKind::App { host, .. }
            | EventKind::Command { host, .. }
            | EventKind::Snapshot { host, .. } => Some(host),
            EventKind::Error { .. } => None,
        }
    }

    /// The event as one JSON object (no trailing newline). See the module docs for the schema.
    pub fn json(&self) -> String {
        let mut o = format!(
            "{{\"t\":{},\"kind\":\"{}\"",
            json_time(self.t),
            self.kind_name()
        );
        match &self.kind {
            EventKind::Packet(p) => {
                let proto = match p.proto {
                    6 => "tcp".to_string(),
                    1 => "icmp".to_string(),
                    58 => "icmp6".to_string(),
                    n => n.to_string(),
                };
                let _ = write!(
                    o,
                    ",\"host\":{},\"dir\":\"{}\",\"src\":{},\"dst\":{},\"proto\":{},\"flags\":{},\"seq\":{},\"ack\":{},\"len\":{},\"win\":{},\"dropped\":{},\"note\":{},\"text\":{}",
                    json_str(&p.host),
                    p.dir.name(),
                    json_str(&p.src.to_string()),
                    json_str(&p.dst.to_string()),
                    json_str(&proto),
                    json_str(&p.flags),
                    p.seq,
                    p.ack.map_or_else(|| "null".to_string(), |a| a.to_string()),
                    p.len,
                    p.win,
                    json_opt_str(p.dropped.as_deref()),
                    json_opt_str(p.note.as_deref()),
                    json_str(&p.text)
                );
            }
            EventKind::State {
                host,
                local,
                remote,
                from,
                to,
            } => {
                let _ = write!(
                    o,
                    ",\"host\":{},\"local\":{},\"remote\":{},\"from\":\"{}\",\"to\":\"{}\"",
                    json_str(host),
                    json_str(&local.to_string()),
                    json_str(&remote.to_string()),
                    from.netstat_name(),
                    to.netstat_name()
                );
            }
            EventKind::Timer {
                host,
                local,
                remote,
                timer,
                count,
            } => {
                let _ = write!(
                    o,
                    ",\"host\":{},\"local\":{},\"remote\":{},\"timer\":\"{}\",\"count\":{count}",
                    json_str(host),
                    json_str(&local.to_string()),
                    json_str(&remote.to_string()),
                    timer_name(*timer)
                );
            }
            EventKind::Note {
                host,
                local,
                remote,
                what,
            } => {
                let _ = write!(
                    o,
                    ",\"host\":{},\"local\":{},\"remote\":{},\"what\":{}",
                    json_str(host),
                    json_str(&local.to_string()),
                    json_str(&remote.to_string()),
                    json_str(what)
                );
            }
            EventKind::Call {
                host,
                pid,
                process,
                call,
                args,
                ret,
                errno,
            } => {
                let _ = write!(
                    o,
                    ",\"host\":{},\"pid\":{pid},\"process\":{},\"call\":\"{call}\",\"args\":{},\"ret\":{},\"errno\":{}",
                    json_str(host),
                    json_str(process),
                    json_str(args),
                    ret.map_or_else(|| "null".to_string(), |r| r.to_string()),
                    json_opt_str(errno.map(|e| e.name()))
                );
            }
            EventKind::App {
                host,
                pid,
                process,
                fd,
                what,
                errno,
                detail,
            } => {
                let _ = write!(
                    o,
                    ",\"host\":{},\"pid\":{pid},\"process\":{},\"fd\":{},\"what\":\"{what}\",\"errno\":{},\"detail\":{}",
                    json_str(host),
                    json_str(process),
                    fd.map_or_else(|| "null".to_string(), |f| f.to_string()),
                    json_opt_str(errno.map(|e| e.name())),
                    json_str(detail)
                );
            }
            EventKind::Command {
                host,
                command,
                error,
            } => {
                let _ = write!(
                    o,
                    ",\"host\":{},\"command\":{},\"error\":{}",
                    json_str(host),
                    json_str(command),
                    json_opt_str(error.as_deref())
                );
            }
            EventKind::Snapshot {
                host,
                command,
                output,
            } => {
                let _ = write!(
                    o,
                    ",\"host\":{},\"command\":{},\"output\":{}",
                    json_str(host),
                    json_str(command),
                    json_str(output)
                );
            }
            EventKind::Error { message } => {
                let _ = write!(o, ",\"message\":{}", json_str(message));
            }
        }
        o.push('}');
        o
    }

    /// The human line(s): `  3.000000 client  > IP 10.0.0.1.40000 > 10.0.0.2.1234: …`, host
    /// names padded to `width`. A snapshot prints its command, then the tool's output.
    pub fn text(&self, width: usize) -> String {
        let head = format!(
            "{:>10} {:<width$}",
            self.t.to_string(),
            self.host().unwrap_or("")
        );
        match &self.kind {
            EventKind::Packet(p) => {
                let arrow = match p.dir {
                    Dir::Out => '>',
                    Dir::In => '<',
                };
                let mut s = format!("{head} {arrow} {}", p.text);
                if let Some(n) = &p.note {
                    let _ = write!(s, " [{n}]");
                }
                if let Some(d) = &p.dropped {
                    let _ = write!(s, " [dropped: {d}]");
                }
                s
            }
            EventKind::State {
                local,
                remote,
                from,
                to,
                ..
            } => format!("{head} {local} > {remote} {from} -> {to}"),
            EventKind::Timer {
                local,
                remote,
                timer,
                count,
                ..
            } => {
                let mut s = format!(
                    "{head} timer {} fired for {local} > {remote}",
                    timer_name(*timer)
                );
                if let Some(noun) = timer_count_noun(*timer) {
                    let _ = write!(s, " ({noun} {count})");
                }
                s
            }
            EventKind::Note {
                local,
                remote,
                what,
                ..
            } => format!("{head} {local} > {remote} note: {what}"),
            EventKind::Call {
                pid,
                process,
                call,
                args,
                ret,
                errno,
                ..
            } => {
                let result = match (ret, errno) {
                    (Some(r), _) => r.to_string(),
                    (None, Some(e)) => format!("-1 {} ({})", e.name(), e.text()),
                    (None, None) => "-1".to_string(),
                };
                format!("{head} {process}[{pid}]: {call}({args}) = {result}")
            }
            EventKind::App {
                pid,
                process,
                fd,
                what,
                errno,
                detail,
                ..
            } => {
                let mut s = match fd {
                    Some(fd) => format!("{head} {process}[{pid}]: fd {fd} {what}"),
                    None => format!("{head} {process}[{pid}]: {what}"),
                };
                if let Some(e) = errno {
                    let _ = write!(s, " {} ({})", e.name(), e.text());
                }
                if !detail.is_empty() {
                    let _ = write!(s, ": {detail}");
                }
                s
            }
            EventKind::Command { command, error, .. } => match error {
                None => format!("{head} $ {command}"),
                Some(e) => format!("{head} $ {command}\n{e}"),
            },
            EventKind::Snapshot {
                command, output, ..
            } => format!("{head} $ {command}\n{}", output.trim_end_matches('\n')),
            EventKind::Error { message } => format!("{head} error: {message}"),
        }
    }
}

/// The event log of a run, with its running hash and the per-host tcpdump state needed to
/// print relative sequence numbers.
#[derive(Clone, Debug)]
pub struct Timeline {
    events: Vec<Event>,
    hash: u64,
    /// Width of the host column.
    width: usize,
    /// Per host: the ISN of each direction of each flow, learned from SYNs as tcpdump does.
    isns: BTreeMap<(String, SocketAddr, SocketAddr), u32>,
    /// Keep events (the hash is kept regardless).
    keep: bool,
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline {
            events: Vec::new(),
            hash: 0xcbf2_9ce4_8422_2325,
            width: 0,
            isns: BTreeMap::new(),
            keep: true,
        }
    }
}

impl Timeline {
    pub fn new() -> Timeline {
        Timeline::default()
    }

    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// `host`'s calls of `call` (`"read"`, `"close"`, …) in time order: when each was made and
    /// what it returned.
    pub fn calls<'a>(
        &'a self,
        host: &'a str,
        call: &'a str,
    ) -> impl Iterator<Item = (Instant, Option<i64>)> + 'a {
        self.events.iter().filter_map(move |e| match &e.kind {
            EventKind::Call {
                host: h,
                call: c,
                ret,
                ..
            } if h == host && *c == call => Some((e.t, *ret)),
            _ => None,
        })
    }

    /// FNV-1a over every event's JSON line and a newline.
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// Whether to keep events in memory (the hash covers them either way).
    pub fn set_keep(&mut self, keep: bool) {
        self.keep = keep;
    }

    /// Makes the host column at least as wide as `name`.
    pub fn widen(&mut self, name: &str) {
        self.width = self.width.max(name.len());
    }

    pub fn push(&mut self, t: Instant, kind: EventKind) {
        let e = Event { t, kind };
        let line = e.json();
        self.hash = fnv1a_update(self.hash, line.as_bytes());
        self.hash = fnv1a_update(self.hash, b"\n");
        if self.keep {
            self.events.push(e);
        }
    }

    /// Records a datagram seen by `host`, parsing it for the fields and tcpdump text.
    pub fn packet(
        &mut self,
        t: Instant,
        host: &str,
        dir: Dir,
        datagram: &[u8],
        dropped: Option<String>,
        note: Option<String>,
    ) {
        let ev = self.packet_event(host, dir, datagram, dropped, note);
        self.push(t, EventKind::Packet(ev));
    }

    fn packet_event(
        &mut self,
        host: &str,
        dir: Dir,
        datagram: &[u8],
        dropped: Option<String>,
        note: Option<String>,
    ) -> PacketEvent {
        let unspecified = SocketAddr::from(([0, 0, 0, 0], 0));
        let mut ev = PacketEvent {
            host: host.to_string(),
            dir,
            src: unspecified,
            dst: unspecified,
            proto: 0,
            flags: String::new(),
            seq: 0,
            ack: None,
            len: 0,
            win: 0,
            dropped,
            note,
            text: String::new(),
        };
        let Ok((ip, payload)) = IpRepr::parse(datagram) else {
            ev.text = tcpdump_datagram(datagram);
            return ev;
        };
        ev.proto = ip.protocol();
        ev.src = SocketAddr::new(ip.src(), 0);
        ev.dst = SocketAddr::new(ip.dst(), 0);
        let tcp = match TcpRepr::parse(payload) {
            Ok(tcp) if ip.protocol() == tcplab_wire::IPPROTO_TCP => tcp,
            _ => {
                ev.text = tcpdump_datagram(datagram);
                return ev;
            }
        };
        ev.src = SocketAddr::new(ip.src(), tcp.src_port);
        ev.dst = SocketAddr::new(ip.dst(), tcp.dst_port);
        let fwd = (host.to_string(), ev.src, ev.dst);
        let rev = (host.to_string(), ev.dst, ev.src);
        if tcp.flags.contains(TcpFlags::SYN) {
            self.isns.insert(fwd.clone(), tcp.seq);
            if tcp.flags.contains(TcpFlags::ACK) {
                self.isns
                    .entry(rev.clone())
                    .or_insert(tcp.ack.wrapping_sub(1));
            }
        }
        let my_isn = self.isns.get(&fwd).copied();
        let peer_isn = self.isns.get(&rev).copied();
        ev.flags = tcp.flags.to_string();
        ev.seq = tcp.seq.wrapping_sub(my_isn.unwrap_or(0));
        ev.ack = tcp
            .flags
            .contains(TcpFlags::ACK)
            .then(|| tcp.ack.wrapping_sub(peer_isn.unwrap_or(0)));
        ev.len = tcp.payload.len() as u32;
        ev.win = tcp.window;
        let isns = Isns {
            seq: my_isn.unwrap_or(0),
            ack: peer_isn.unwrap_or(0),
        };
        ev.text = tcpdump_line_relative(&ip, &tcp, isns).to_string();
        ev
    }

    /// Every event as its human line, one per line.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for e in &self.events {
            out.push_str(&e.text(self.width));
            out.push('\n');
        }
        out
    }

    /// Every event as a JSON line.
    pub fn json_lines(&self) -> String {
        let mut out = String::new();
        for e in &self.events {
            out.push_str(&e.json());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn human_lines() {
        let mut tl = Timeline::new();
        tl.widen("client");
        tl.widen("server");
        tl.push(
            Instant::from_secs(3),
            EventKind::State {
                host: "client".into(),
                local: addr("10.0.0.1:40000"),
                remote: addr("10.0.0.2:1234"),
                from: TcpState::Established,
                to: TcpState::FinWait1,
            },
        );
        tl.push(
            Instant::from_millis(3205),
            EventKind::Timer {
                host: "client".into(),
                local: addr("10.0.0.1:40000"),
                remote: addr("10.0.0.2:1234"),
                timer: TimerName::Retransmit,
                count: 2,
            },
        );
        tl.push(
            Instant::from_secs(1),
            EventKind::Call {
                host: "client".into(),
                pid: 1000,
                process: "nc".into(),
                call: "connect",
                args: "3, 10.0.0.2:1234".into(),
                ret: None,
                errno: Some(Errno::EINPROGRESS),
            },
        );
        assert_eq!(
            tl.text(),
            "  3.000000 client 10.0.0.1:40000 > 10.0.0.2:1234 ESTABLISHED -> FIN_WAIT1\n\
             \x20 3.205000 client timer RETRANS fired for 10.0.0.1:40000 > 10.0.0.2:1234 (retransmits 2)\n\
             \x20 1.000000 client nc[1000]: connect(3, 10.0.0.2:1234) = -1 EINPROGRESS (Operation now in progress)\n"
        );
        assert_eq!(
            tl.events()[0].json(),
            "{\"t\":3.000000000,\"kind\":\"state\",\"host\":\"client\",\"local\":\"10.0.0.1:40000\",\"remote\":\"10.0.0.2:1234\",\"from\":\"ESTABLISHED\",\"to\":\"FIN_WAIT1\"}"
        );
    }

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_str("a\"b\\c\nd\u{1}"), "\"a\\\"b\\\\c\\nd\\u0001\"");
    }

    #[test]
    fn hash_covers_every_event() {
        let mut a = Timeline::new();
        let mut b = Timeline::new();
        b.set_keep(false);
        for tl in [&mut a, &mut b] {
            tl.push(
                Instant::ZERO,
                EventKind::Error {
                    message: "x".into(),
                },
            );
        }
        assert_eq!(a.hash(), b.hash());
        assert!(b.events().is_empty());
        a.push(
            Instant::ZERO,
            EventKind::Error {
                message: "y".into(),
            },
        );
        assert_ne!(a.hash(), b.hash());
    }

    #[test]
    fn a_non_ip_datagram_is_still_recorded() {
        let mut tl = Timeline::new();
        tl.packet(Instant::ZERO, "h", Dir::In, &[0xff, 1, 2], None, None);
        let EventKind::Packet(p) = &tl.events()[0].kind else {
            panic!("a packet event")
        };
        assert!(p.text.starts_with("[invalid IP datagram"), "{}", p.text);
    }
}
