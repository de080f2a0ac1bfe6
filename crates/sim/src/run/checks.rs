//! The assertions: socket states, errnos and tool output at their step's time, packets over
//! the whole run at its end.

use tcplab_stack::TcpState;

use super::commands::{command_line, grep_all, tool_of};
use super::*;
use crate::timeline::Event;

impl Interp<'_> {
    /// The record a socket reference points at now, or why there is none.
    pub(super) fn resolve(&self, host: usize, sock: &SockRef) -> Result<usize, String> {
        match sock {
            SockRef::Named(n) => {
                let slot = self.slots.get(&(host, n.name.clone()));
                match slot {
                    Some(s) => match (s.rec, s.blocked) {
                        (Some(r), _) => Ok(r),
                        (None, Some(Block::Accept { .. })) => {
                            Err("its accept() had not returned yet".into())
                        }
                        (None, _) if !s.queue.is_empty() => {
                            Err("its first call had not run yet".into())
                        }
                        (None, _) => Err("the call that should have made it failed".into()),
                    },
                    None => Err("no command had run on it yet".into()),
                }
            }
            SockRef::Job { job, .. } => {
                let p = match self.jobs.get(&(host, *job)) {
                    Some(Job::Proc(p)) => *p,
                    Some(Job::Tcpdump(_)) => return Err("the job is a tcpdump".into()),
                    None => return Err("the job never started".into()),
                };
                let pid = self.sim.processes()[p.0].pid;
                let name = self.host_name(host);
                let mine = self
                    .tracker
                    .recs
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.host == name && r.pid == pid);
                let mut first = None;
                for (i, r) in mine {
                    if r.conn {
                        return Ok(i);
                    }
                    first = first.or(Some(i));
                }
                first.ok_or_else(|| "the job has no socket".to_string())
            }
        }
    }

    pub(super) fn find_entry(&self, rec: &DescRec) -> Option<SocketEntry> {
        let table = self.sim.sockets(&rec.host).ok()?;
        // An open descriptor is found by its number; one whose close() still sleeps
        // (SO_LINGER) has none in the table any more, and is found by its addresses.
        if rec.open
            && let Some(e) = table.iter().find(|e| e.fd == Some(Fd(rec.fd)))
        {
            return Some(e.clone());
        }
        let local = rec.local?;
        table
            .into_iter()
            .find(|e| e.local == local && e.peer == rec.peer)
    }

    pub(super) fn check_now(&mut self, e: &Expect) {
        let now = self.sim.now();
        let result = match e {
            Expect::State {
                host,
                sock,
                state,
                span,
            } => {
                let expected = state_expected(sock, &host.name, state, now);
                let (passed, seen) = match self.resolve(host.index, sock) {
                    Err(why) => (false, why),
                    Ok(r) => {
                        let rec = self.tracker.recs[r].clone();
                        let row = self.find_entry(&rec).map(|entry| {
                            let where_ = entry.peer.map_or_else(
                                || entry.local.to_string(),
                                |p| format!("{} > {p}", entry.local),
                            );
                            (entry.state, where_)
                        });
                        state_verdict(row, state, &rec.tuple())
                    }
                };
                AssertionResult {
                    span: *span,
                    passed,
                    expected,
                    seen,
                }
            }
            Expect::Errno {
                host,
                sock,
                errno,
                at,
                span,
            } => {
                let expected = errno_expected(sock, &host.name, *errno, at.as_ref(), now);
                let (passed, seen) = match self.resolve(host.index, sock) {
                    Err(why) => (false, why),
                    Ok(r) => errno_verdict(self.tracker.recs[r].last_err, *errno, at.as_ref()),
                };
                AssertionResult {
                    span: *span,
                    passed,
                    expected,
                    seen,
                }
            }
            Expect::Output {
                host,
                negate,
                snapshot,
                span,
            } => {
                let args: Vec<&str> = snapshot.args.iter().map(|w| w.text.as_str()).collect();
                let tool = tool_of(snapshot.tool);
                let command = command_line(tool, &args, &snapshot.greps);
                let expected = output_expected(&command, &host.name, *negate, now);
                let res = self
                    .sim
                    .tool_output(&host.name, tool, &args)
                    .map(|out| grep_all(&out, &snapshot.greps))
                    .map_err(|e| e.to_string());
                let (passed, seen) = output_verdict(res, *negate);
                AssertionResult {
                    span: *span,
                    passed,
                    expected,
                    seen,
                }
            }
            Expect::Packet { .. } | Expect::NoPacket { .. } => return,
        };
        self.results.push(result);
    }

    pub(super) fn check_packets(&mut self) {
        let deferred = std::mem::take(&mut self.deferred);
        let results = check_packet_expects(
            self.sc,
            self.sim.timeline().events(),
            &deferred,
            self.sim.now(),
        );
        self.results.extend(results);
    }
}

/// What `expect HOST: state SOCK STATE` expects, as a sentence.
pub fn state_expected(sock: &SockRef, host: &str, state: &ExpectedState, now: Instant) -> String {
    match state {
        ExpectedState::Is(s) => format!(
            "{} on {host} in {} at {now}",
            sock_name(sock),
            s.netstat_name()
        ),
        ExpectedState::Gone => format!("{} on {host} to be gone at {now}", sock_name(sock)),
    }
}

/// Whether a socket's row in the socket table (its state and `local > peer`, or `None` when
/// it has none) is what `want` says, and what was seen; `tuple` names the socket when it has
/// no row.
pub fn state_verdict(
    row: Option<(TcpState, String)>,
    want: &ExpectedState,
    tuple: &str,
) -> (bool, String) {
    match (row, want) {
        (None, ExpectedState::Gone) => (true, "it was not in the socket table".to_string()),
        (None, ExpectedState::Is(_)) => (
            false,
            format!("it ({tuple}) was no longer in the socket table"),
        ),
        (Some((st, where_)), want) => (
            *want == ExpectedState::Is(st),
            format!("it was in {} ({where_})", st.netstat_name()),
        ),
    }
}

/// What `expect HOST: errno SOCK ERRNO [at T]` expects, as a sentence.
pub fn errno_expected(
    sock: &SockRef,
    host: &str,
    errno: Option<Errno>,
    at: Option<&TimePoint>,
    now: Instant,
) -> String {
    let mut expected = match errno {
        Some(e) => format!(
            "the last failed call on {} on {host} to have failed with {}",
            sock_name(sock),
            e.name()
        ),
        None => format!(
            "no failed call on {} on {host} (errno none)",
            sock_name(sock)
        ),
    };
    if let Some(tp) = at {
        expected.push_str(&format!(" at {}", time_point(tp)));
    }
    expected.push_str(&format!(" (checked at {now})"));
    expected
}

/// Whether a socket's last failure (errno and time) is what was expected, and what was
/// seen.
pub fn errno_verdict(
    last: Option<(Errno, Instant)>,
    want: Option<Errno>,
    at: Option<&TimePoint>,
) -> (bool, String) {
    match (last, want) {
        (None, None) => (true, "no call on it had failed".to_string()),
        (None, Some(_)) => (false, "no call on it had failed".to_string()),
        (Some((got, t)), want) => (
            want == Some(got) && at.is_none_or(|tp| within(t, tp)),
            format!("a call failed with {} at {t}", got.name()),
        ),
    }
}

/// What `expect [not] HOST: TOOL … | grep …` expects, as a sentence.
pub fn output_expected(command: &str, host: &str, negate: bool, now: Instant) -> String {
    if negate {
        format!("`{command}` on {host} at {now} to print nothing")
    } else {
        format!("`{command}` on {host} at {now} to print a line")
    }
}

/// Whether a tool's output after the greps (or why the tool failed) is what was expected,
/// and what was seen.
pub fn output_verdict(lines: Result<String, String>, negate: bool) -> (bool, String) {
    match lines {
        Err(e) => (false, format!("the tool failed: {e}")),
        Ok(lines) => {
            let n = lines.lines().count();
            let first = lines.lines().next().unwrap_or("").trim_end();
            let seen = match n {
                0 => "it printed nothing".to_string(),
                1 => format!("it printed `{first}`"),
                n => format!("it printed {n} lines, the first `{first}`"),
            };
            ((n > 0) != negate, seen)
        }
    }
}

/// Evaluates the `expect packet` and `expect no packet` steps among `steps` over the packets
/// of `events` that went on the wire (`out` TCP packets not dropped), as the simulator does at
/// the end of a run that ended at `end` (the end of an `expect no packet` window without
/// `until`). Other steps are ignored. Results are in the order of `steps`.
pub fn check_packet_expects(
    sc: &Scenario,
    events: &[Event],
    steps: &[&Step],
    end: Instant,
) -> Vec<AssertionResult> {
    let wire = wire_packets(events);
    let mut results = Vec::new();
    for step in steps {
        let Command::Expect(e) = &step.command else {
            continue;
        };
        match e {
            Expect::Packet {
                filter,
                times,
                span,
            } => {
                let matching: Vec<Instant> = wire
                    .iter()
                    .filter(|w| matches(sc, filter, w))
                    .map(|w| w.t)
                    .collect();
                let mut missed = Vec::new();
                let mut seen = Vec::new();
                for tp in times {
                    if matching.iter().any(|&t| within(t, tp)) {
                        continue;
                    }
                    missed.push(time_point(tp));
                    let target = instant(tp.time.time);
                    let nearest = matching
                        .iter()
                        .min_by_key(|&&t| t.max(target) - t.min(target))
                        .copied();
                    seen.push(match nearest {
                        Some(t) => format!(
                            "the nearest to {} was at {t} ({})",
                            format_duration(tp.time.time),
                            offset(t, target)
                        ),
                        None => "none matched in the whole run".to_string(),
                    });
                }
                let desc = describe(filter);
                let all: Vec<String> = times.iter().map(time_point).collect();
                results.push(if missed.is_empty() {
                    AssertionResult {
                        span: *span,
                        passed: true,
                        expected: format!("a packet {desc} at {}", all.join(", ")),
                        seen: format!("{} matching packets", matching.len()),
                    }
                } else {
                    seen.dedup();
                    AssertionResult {
                        span: *span,
                        passed: false,
                        expected: format!("a packet {desc} at {}", missed.join(", ")),
                        seen: seen.join("; "),
                    }
                });
            }
            Expect::NoPacket {
                filter,
                from,
                until,
                span,
            } => {
                let lo = from.map_or(Instant::ZERO, |t| instant(t.time));
                let hi = until.map_or(end, |t| instant(t.time));
                let hit = wire
                    .iter()
                    .find(|w| w.t >= lo && w.t <= hi && matches(sc, filter, w));
                let mut expected = format!("no packet {}", describe(filter));
                if let Some(f) = from {
                    expected.push_str(&format!(" from {}", format_duration(f.time)));
                }
                if let Some(u) = until {
                    expected.push_str(&format!(" until {}", format_duration(u.time)));
                }
                results.push(match hit {
                    None => AssertionResult {
                        span: *span,
                        passed: true,
                        expected,
                        seen: "none was sent".into(),
                    },
                    Some(w) => AssertionResult {
                        span: *span,
                        passed: false,
                        expected,
                        seen: format!("{} sent one at {}: {}", w.host, w.t, w.text),
                    },
                });
            }
            _ => {}
        }
    }
    results
}

fn wire_packets(events: &[Event]) -> Vec<WirePacket> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Packet(p) if p.dir == Dir::Out && p.dropped.is_none() && p.proto == 6 => {
                Some(WirePacket {
                    t: e.t,
                    host: p.host.clone(),
                    dst: p.dst.ip(),
                    flags: TcpFlags::from_letters(&p.flags).unwrap_or_default(),
                    seq: p.seq,
                    ack: p.ack,
                    len: p.len,
                    win: u32::from(p.win),
                    text: p.text.clone(),
                })
            }
            _ => None,
        })
        .collect()
}

fn matches(sc: &Scenario, f: &PacketFilter, w: &WirePacket) -> bool {
    if let Some(from) = &f.from
        && sc.hosts.get(from.index).map_or("", |h| h.name.as_str()) != w.host
    {
        return false;
    }
    if let Some(to) = &f.to
        && sc.hosts.get(to.index).map(|h| h.addr) != Some(w.dst)
    {
        return false;
    }
    if let Some(m) = &f.flags {
        let ok = if m.exact {
            w.flags == m.flags
        } else {
            w.flags.0 & m.flags.0 == m.flags.0
        };
        if !ok {
            return false;
        }
    }
    f.seq.is_none_or(|s| s == w.seq)
        && f.ack.is_none_or(|a| Some(a) == w.ack)
        && f.len.is_none_or(|l| l == w.len)
        && f.win.is_none_or(|x| x == w.win)
}

fn describe(f: &PacketFilter) -> String {
    let mut parts = Vec::new();
    if f.from.is_some() || f.to.is_some() {
        let name = |h: &Option<crate::scenario::HostRef>| {
            h.as_ref().map_or("*".to_string(), |h| h.name.clone())
        };
        parts.push(format!("{} > {}", name(&f.from), name(&f.to)));
    }
    if let Some(m) = &f.flags {
        if m.exact {
            parts.push(format!("flags {}", m.flags));
        } else {
            parts.push(format!("with flags {}", m.flags));
        }
    }
    for (word, v) in [
        ("seq", f.seq),
        ("ack", f.ack),
        ("len", f.len),
        ("win", f.win),
    ] {
        if let Some(v) = v {
            parts.push(format!("{word} {v}"));
        }
    }
    if parts.is_empty() {
        "of any kind".into()
    } else {
        parts.join(" ")
    }
}

/// A TCP segment that went on the wire.
#[derive(Clone, Debug)]
struct WirePacket {
    t: Instant,
    host: String,
    dst: IpAddr,
    flags: TcpFlags,
    seq: u32,
    ack: Option<u32>,
    len: u32,
    win: u32,
    text: String,
}

/// `c` or `%1`, as an assertion names a socket.
pub fn sock_name(s: &SockRef) -> String {
    match s {
        SockRef::Named(n) => n.name.clone(),
        SockRef::Job { job, .. } => format!("%{job}"),
    }
}

/// Whether `t` is within the time point's tolerance.
pub fn within(t: Instant, tp: &TimePoint) -> bool {
    let at = instant(tp.time.time);
    let lo = instant(tp.time.time.saturating_sub(tp.tolerance));
    let hi = at + tp.tolerance;
    t >= lo && t <= hi
}

/// `12ms late`, `3.5ms early`, `on time`.
pub(super) fn offset(t: Instant, target: Instant) -> String {
    if t > target {
        format!("{} late", format_duration(t - target))
    } else if t < target {
        format!("{} early", format_duration(target - t))
    } else {
        "on time".into()
    }
}

/// `1.5s` or `1.5s ±1ms`.
pub fn time_point(tp: &TimePoint) -> String {
    if tp.tolerance.is_zero() {
        format_duration(tp.time.time)
    } else {
        format!(
            "{} ±{}",
            format_duration(tp.time.time),
            format_duration(tp.tolerance)
        )
    }
}
