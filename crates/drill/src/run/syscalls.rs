//! System call events (packetdrill's run_system_call.c): decoding packetdrill's argument
//! syntax, calling the stack, emulating blocking calls, and checking results and errno.

use std::net::SocketAddr;

use tcplab_stack::api::{Shutdown, SockOptName};
use tcplab_stack::{Domain, Errno, Fd, Instant, SockOpt, TcpState};

use super::{Failure, FdEntry, Pending, Runner, Step, Stop, When, secs};
use crate::ast::{Expr, ExprKind, Pos, Syscall};

const O_RDWR: i64 = 0x2;
const O_NONBLOCK: i64 = 0x800;

const POLLIN: i64 = 0x1;
const POLLOUT: i64 = 0x4;
const POLLERR: i64 = 0x8;
const POLLHUP: i64 = 0x10;
const POLLRDHUP: i64 = 0x2000;

/// A call that could not complete yet and is retried as the stack makes progress.
#[derive(Debug)]
pub(super) enum Blocked {
    Accept {
        listen: Fd,
    },
    Connect {
        live: Fd,
    },
    Read {
        live: Fd,
        len: usize,
    },
    Write {
        live: Fd,
        left: usize,
        done: usize,
    },
    Poll {
        fds: Vec<(i64, Fd, i64)>,
        expect_revents: Vec<Option<i64>>,
        deadline: Option<u64>,
    },
    /// `close()` sleeping under SO_LINGER {1, t} (`Stack::close_blocking`).
    Close {
        live: Fd,
        script: i64,
    },
}

/// What one attempt at a call gave.
enum Attempt {
    Done(Result<i64, Errno>),
    Blocked(Blocked),
}

/// The value of a symbolic constant packetdrill scripts use.
fn constant(name: &str) -> Option<i64> {
    Some(match name {
        "AF_INET" => 2,
        "AF_INET6" => 10,
        "SOCK_STREAM" => 1,
        "SOCK_NONBLOCK" => 0x800,
        "IPPROTO_TCP" | "SOL_TCP" => 6,
        "SOL_SOCKET" => 1,
        "O_RDWR" => O_RDWR,
        "O_NONBLOCK" => O_NONBLOCK,
        "F_GETFL" => 3,
        "F_SETFL" => 4,
        "SHUT_RD" => 0,
        "SHUT_WR" => 1,
        "SHUT_RDWR" => 2,
        "SIOCINQ" | "FIONREAD" => 0x541b,
        "SIOCOUTQ" | "TIOCOUTQ" => 0x5411,
        "POLLIN" => POLLIN,
        "POLLOUT" => POLLOUT,
        "POLLERR" => POLLERR,
        "POLLHUP" => POLLHUP,
        "POLLRDHUP" => POLLRDHUP,
        "MSG_DONTWAIT" => 0x40,
        _ => return None,
    })
}

/// Evaluates an integer expression: a number, a constant, `a|b`, or a one-element `[n]`.
fn int(e: &Expr) -> Result<i64, Stop> {
    match &e.kind {
        ExprKind::Int(n) => Ok(*n),
        ExprKind::Hex(n) => Ok(*n as i64),
        ExprKind::Word(w) => constant(w)
            .ok_or_else(|| Stop::skip(e.pos, format!("the constant {w} is not supported"))),
        ExprKind::BitOr(a, b) => Ok(int(a)? | int(b)?),
        ExprKind::Array(items) if items.len() == 1 => int(&items[0]),
        _ => Err(Stop::fail(e.pos, "expected an integer here")),
    }
}

fn arg(call: &Syscall, i: usize) -> Result<&Expr, Stop> {
    call.args.get(i).ok_or_else(|| {
        Stop::fail(
            call.pos,
            format!("{}() needs at least {} arguments", call.name, i + 1),
        )
    })
}

fn errno_of(name: &str) -> Option<Errno> {
    match name {
        "EWOULDBLOCK" => Some(Errno::EAGAIN),
        other => Errno::from_name(other),
    }
}

impl Runner<'_> {
    fn live_fd(&self, e: &Expr) -> Result<Fd, Stop> {
        let script = int(e)?;
        self.fds
            .get(&script)
            .map(|f| f.live)
            .ok_or_else(|| Stop::fail(e.pos, format!("unable to find fd with script fd {script}")))
    }

    fn nonblocking(&self, e: &Expr) -> bool {
        int(e)
            .ok()
            .and_then(|s| self.fds.get(&s))
            .is_some_and(|f| f.nonblocking)
    }

    /// Runs a system call event that starts now.
    pub(super) fn syscall(&mut self, call: &Syscall, when: &When) -> Step {
        let now = Instant::from_micros(self.now);
        let attempt = self.attempt(call, now)?;
        let said = match &attempt {
            Attempt::Done(r) => result_text(r),
            Attempt::Blocked(_) => "... (blocks)".to_string(),
        };
        self.transcript
            .push(format!("{} {}() {said}", secs(self.now), call.name));
        self.drain_transmits();
        let (end, tolerance) = match call.end_time {
            Some(t) => {
                let end = when.relative.map_or(t.usecs, |base| base + t.usecs);
                let gap = end.saturating_sub(when.start);
                (
                    end,
                    self.setup
                        .tolerance_usecs
                        .max(gap * super::TOLERANCE_PERMILLE / 1000),
                )
            }
            None => (when.start, when.tolerance),
        };
        match attempt {
            Attempt::Done(result) => {
                let checked = self.check_result(call, result);
                self.pending = Some(Pending {
                    pos: call.pos,
                    call: Blocked::Accept {
                        listen: Fd(u32::MAX),
                    },
                    syscall: call.clone(),
                    end,
                    tolerance,
                    done: Some((self.now, checked)),
                });
                if call.end_time.is_none() {
                    // A call that did not block is checked now, without an end time.
                    let p = self.pending.take().and_then(|p| p.done);
                    if let Some((_, Err(f))) = p {
                        return Err(Stop::Fail(f));
                    }
                }
                Ok(())
            }
            Attempt::Blocked(b) => {
                self.pending = Some(Pending {
                    pos: call.pos,
                    call: b,
                    syscall: call.clone(),
                    end,
                    tolerance,
                    done: None,
                });
                if call.end_time.is_none() {
                    // The script did not say this call blocks: it holds up the script, as it
                    // holds up packetdrill's main thread.
                    self.await_idle(call.pos)?;
                }
                Ok(())
            }
        }
    }

    /// Waits for a blocked call to return, then checks it.
    pub(super) fn await_idle(&mut self, pos: Pos) -> Step {
        let give_up = self.now + super::SNIFF_GIVE_UP_USECS;
        while self.pending.as_ref().is_some_and(|p| p.done.is_none()) {
            let next = self.stack.poll_timeout().map(super::ceil_us);
            let poll_deadline = match &self.pending {
                Some(Pending {
                    call: Blocked::Poll { deadline, .. },
                    ..
                }) => *deadline,
                _ => None,
            };
            let next = match (next, poll_deadline) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            match next {
                Some(at) if at <= give_up => {
                    self.now = self.now.max(at);
                    self.stack.handle_timeout(Instant::from_micros(self.now));
                    // A timer may be what wakes the call (a connect that times out, a poll
                    // deadline), so the blocked call is retried, not only the output drained.
                    self.after_input()?;
                }
                _ => {
                    let p = self.pending.take().map_or(pos, |p| p.pos);
                    return Err(Stop::fail(
                        p,
                        "this blocking system call never returned: the stack has nothing \
                         left to do that could wake it",
                    ));
                }
            }
        }
        self.settle_pending()
    }

    /// Retries a blocked call (after every input to the stack).
    pub(super) fn retry_pending(&mut self) -> Step {
        let Some(mut p) = self.pending.take() else {
            return Ok(());
        };
        if p.done.is_none() {
            let now = Instant::from_micros(self.now);
            let call = std::mem::replace(
                &mut p.call,
                Blocked::Accept {
                    listen: Fd(u32::MAX),
                },
            );
            match self.resume(call, now, &p.syscall)? {
                Attempt::Done(result) => {
                    self.transcript.push(format!(
                        "{} {}() returns {}",
                        secs(self.now),
                        p.syscall.name,
                        result_text(&result)
                    ));
                    p.done = Some((self.now, self.check_result(&p.syscall, result)));
                }
                Attempt::Blocked(b) => p.call = b,
            }
        }
        self.pending = Some(p);
        Ok(())
    }

    /// Reports a blocked call that has returned: its result, then its return time.
    pub(super) fn settle_pending(&mut self) -> Step {
        if self.pending.as_ref().is_none_or(|p| p.done.is_none()) {
            return Ok(());
        }
        let Some(p) = self.pending.take() else {
            return Ok(());
        };
        let Some((at, result)) = p.done else {
            return Ok(());
        };
        result.map_err(Stop::Fail)?;
        let early = at + p.tolerance < p.end;
        let late = at > p.end + p.tolerance;
        if early || late {
            return Err(Stop::fail(
                p.pos,
                format!(
                    "timing error: expected system call return at {} sec but happened at {} \
                     sec; tolerance {} sec",
                    secs(p.end),
                    secs(at),
                    secs(p.tolerance)
                ),
            ));
        }
        Ok(())
    }

    /// Compares a result with the script's `= value [ERRNO (text)]`.
    fn check_result(
        &mut self,
        call: &Syscall,
        result: Result<i64, Errno>,
    ) -> Result<(), Box<Failure>> {
        let fail = |message: String| {
            Box::new(Failure {
                pos: call.pos,
                message: format!("runtime error in {} call: {message}", call.name),
                expected: None,
                actual: None,
            })
        };
        let expected = match &call.result.kind {
            ExprKind::Ellipsis => None,
            _ => Some(
                int(&call.result)
                    .map_err(|_| fail("the expected result must be an integer".to_string()))?,
            ),
        };
        let is_fd_call = matches!(call.name.as_str(), "socket" | "accept");
        match (result, expected) {
            (Ok(v), Some(want)) if is_fd_call && want >= 0 => {
                let _ = v;
            }
            (Ok(v), Some(want)) if v != want => {
                return Err(fail(format!("Expected result {want} but got {v}")));
            }
            (Ok(_), _) => {}
            (Err(e), Some(want)) if want != -1 => {
                return Err(fail(format!(
                    "Expected result {want} but got -1 with errno {} ({})",
                    e as i32,
                    e.text()
                )));
            }
            (Err(e), _) => {
                if let Some(name) = &call.errno {
                    let want = errno_of(&name.name)
                        .ok_or_else(|| fail(format!("unknown errno name {}", name.name)))?;
                    if want != e {
                        return Err(fail(format!(
                            "Expected errno {} ({}) but got {} ({})",
                            want as i32,
                            want.text(),
                            e as i32,
                            e.text()
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// First attempt at a call.
    fn attempt(&mut self, call: &Syscall, now: Instant) -> Result<Attempt, Stop> {
        let done = |r: Result<i64, Errno>| Ok(Attempt::Done(r));
        match call.name.as_str() {
            "socket" => {
                let ty = int(arg(call, 1)?)?;
                if ty & 0xf != 1 {
                    return Err(Stop::skip(
                        call.pos,
                        "only SOCK_STREAM sockets are supported",
                    ));
                }
                let domain = match self.setup.family {
                    super::Family::V4 => Domain::Inet,
                    super::Family::V6 => Domain::Inet6,
                };
                let r = self.stack.socket(domain);
                if let Ok(fd) = r {
                    let script = int(&call.result).unwrap_or(i64::from(fd.0));
                    self.fds.insert(
                        script,
                        FdEntry {
                            live: fd,
                            nonblocking: ty & O_NONBLOCK != 0,
                        },
                    );
                    self.under_test = Some(script);
                }
                done(r.map(|fd| i64::from(fd.0)))
            }
            "bind" => {
                let fd = self.live_fd(arg(call, 0)?)?;
                let addr = SocketAddr::new(self.setup.local_ip, self.setup.port);
                self.peer.local_port = Some(self.setup.port);
                done(self.stack.bind(fd, addr).map(|()| 0))
            }
            "listen" => {
                let fd = self.live_fd(arg(call, 0)?)?;
                let backlog = int(arg(call, 1)?)?;
                done(self.stack.listen(fd, backlog as i32).map(|()| 0))
            }
            "accept" | "accept4" => {
                let listen = self.live_fd(arg(call, 0)?)?;
                if self.nonblocking(arg(call, 0)?) {
                    let r = self.try_accept(call, listen, now);
                    return done(r);
                }
                self.resume(Blocked::Accept { listen }, now, call)
            }
            "connect" => {
                let live = self.live_fd(arg(call, 0)?)?;
                let addr = SocketAddr::new(self.setup.remote_ip, self.setup.port);
                let r = self.stack.connect(now, live, addr);
                self.drain_transmits();
                match r {
                    Err(Errno::EINPROGRESS) if !self.nonblocking(arg(call, 0)?) => {
                        self.resume(Blocked::Connect { live }, now, call)
                    }
                    other => done(other.map(|()| 0)),
                }
            }
            "read" | "recv" | "recvfrom" => {
                let live = self.live_fd(arg(call, 0)?)?;
                let len = int(arg(call, 2)?)?.max(0) as usize;
                let flags = if call.name == "read" {
                    0
                } else {
                    int(arg(call, 3)?)?
                };
                if flags & !0x40 != 0 {
                    return Err(Stop::skip(
                        call.pos,
                        format!("{}() flags {flags:#x} are not supported", call.name),
                    ));
                }
                if self.nonblocking(arg(call, 0)?) || flags & 0x40 != 0 {
                    let mut buf = vec![0u8; len];
                    let r = self.stack.recv(now, live, &mut buf);
                    self.drain_transmits();
                    return done(r.map(|n| n as i64));
                }
                self.resume(Blocked::Read { live, len }, now, call)
            }
            "write" | "send" | "sendto" => {
                let live = self.live_fd(arg(call, 0)?)?;
                let len = int(arg(call, 2)?)?.max(0) as usize;
                let flags = if call.name == "write" {
                    0
                } else {
                    int(arg(call, 3)?)?
                };
                if flags & !0x40 != 0 {
                    return Err(Stop::skip(
                        call.pos,
                        format!("{}() flags {flags:#x} are not supported", call.name),
                    ));
                }
                if self.nonblocking(arg(call, 0)?) || flags & 0x40 != 0 {
                    let r = self.stack.send(now, live, &vec![0u8; len]);
                    self.drain_transmits();
                    return done(r.map(|n| n as i64));
                }
                self.resume(
                    Blocked::Write {
                        live,
                        left: len,
                        done: 0,
                    },
                    now,
                    call,
                )
            }
            "close" => {
                let e = arg(call, 0)?;
                let live = self.live_fd(e)?;
                let script = int(e)?;
                // A running process's close(): with SO_LINGER {1, t} it sleeps while the
                // FIN is unacknowledged, for at most t seconds.
                self.resume(Blocked::Close { live, script }, now, call)
            }
            "shutdown" => {
                let live = self.live_fd(arg(call, 0)?)?;
                let how = match int(arg(call, 1)?)? {
                    0 => Shutdown::Read,
                    1 => Shutdown::Write,
                    2 => Shutdown::Both,
                    _ => return done(Err(Errno::EINVAL)),
                };
                let r = self.stack.shutdown(now, live, how);
                self.drain_transmits();
                done(r.map(|()| 0))
            }
            "setsockopt" => self.setsockopt(call, now),
            "getsockopt" => self.getsockopt(call),
            "fcntl" => {
                let e = arg(call, 0)?;
                let script = int(e)?;
                self.live_fd(e)?;
                match int(arg(call, 1)?)? {
                    3 => {
                        let nb = self.nonblocking(e);
                        done(Ok(O_RDWR | if nb { O_NONBLOCK } else { 0 }))
                    }
                    4 => {
                        let flags = int(arg(call, 2)?)?;
                        if let Some(f) = self.fds.get_mut(&script) {
                            f.nonblocking = flags & O_NONBLOCK != 0;
                        }
                        done(Ok(0))
                    }
                    other => Err(Stop::skip(
                        call.pos,
                        format!("fcntl command {other} is not supported"),
                    )),
                }
            }
            "ioctl" => {
                let live = self.live_fd(arg(call, 0)?)?;
                let req = int(arg(call, 1)?)?;
                let want = int(arg(call, 2)?)?;
                let Some(sock) = self.stack.sock(live) else {
                    return done(Err(Errno::EINVAL));
                };
                let value = match req {
                    0x541b => sock.queues.rcvbuf.len() as i64,
                    0x5411 => i64::from(sock.write_seq.wrapping_sub(sock.snd_una)),
                    other => {
                        return Err(Stop::skip(
                            call.pos,
                            format!("ioctl request {other:#x} is not supported"),
                        ));
                    }
                };
                if value != want {
                    return Err(Stop::fail(
                        call.pos,
                        format!(
                            "runtime error in ioctl call: Bad ioctl optval: expected: {want} actual: {value}"
                        ),
                    ));
                }
                done(Ok(0))
            }
            "poll" => self.poll(call),
            other => Err(Stop::skip(
                call.pos,
                format!("system call {other}() is not supported"),
            )),
        }
    }

    fn try_accept(&mut self, call: &Syscall, listen: Fd, now: Instant) -> Result<i64, Errno> {
        let (fd, _) = self.stack.accept(now, listen)?;
        let script = int(&call.result).unwrap_or(i64::from(fd.0));
        self.fds.insert(
            script,
            FdEntry {
                live: fd,
                nonblocking: false,
            },
        );
        self.under_test = Some(script);
        Ok(i64::from(fd.0))
    }

    /// Tries a blocked call again.
    fn resume(&mut self, b: Blocked, now: Instant, call: &Syscall) -> Result<Attempt, Stop> {
        Ok(match b {
            Blocked::Accept { listen } => match self.try_accept(call, listen, now) {
                Err(Errno::EAGAIN) => Attempt::Blocked(Blocked::Accept { listen }),
                r => Attempt::Done(r),
            },
            Blocked::Connect { live } => match self.stack.state(live) {
                Some(TcpState::SynSent | TcpState::SynRecv) => {
                    Attempt::Blocked(Blocked::Connect { live })
                }
                _ => match self.stack.getsockopt(live, SockOptName::Error) {
                    Ok(SockOpt::Error(0)) => Attempt::Done(Ok(0)),
                    Ok(SockOpt::Error(e)) => {
                        Attempt::Done(Err(Errno::from_raw(e).unwrap_or(Errno::ECONNREFUSED)))
                    }
                    Ok(_) => Attempt::Done(Ok(0)),
                    Err(e) => Attempt::Done(Err(e)),
                },
            },
            Blocked::Read { live, len } => {
                let mut buf = vec![0u8; len];
                match self.stack.recv(now, live, &mut buf) {
                    Err(Errno::EAGAIN) => Attempt::Blocked(Blocked::Read { live, len }),
                    r => Attempt::Done(r.map(|n| n as i64)),
                }
            }
            Blocked::Write { live, left, done } => {
                match self.stack.send(now, live, &vec![0u8; left]) {
                    Ok(n) if n == left => Attempt::Done(Ok((done + n) as i64)),
                    Ok(n) => Attempt::Blocked(Blocked::Write {
                        live,
                        left: left - n,
                        done: done + n,
                    }),
                    Err(Errno::EAGAIN) => Attempt::Blocked(Blocked::Write { live, left, done }),
                    Err(e) if done > 0 => {
                        let _ = e;
                        Attempt::Done(Ok(done as i64))
                    }
                    Err(e) => Attempt::Done(Err(e)),
                }
            }
            Blocked::Close { live, script } => {
                let r = self.stack.close_blocking(now, live);
                self.drain_transmits();
                match r {
                    Err(Errno::EAGAIN) => Attempt::Blocked(Blocked::Close { live, script }),
                    r => {
                        if r.is_ok() {
                            self.fds.remove(&script);
                        }
                        Attempt::Done(r.map(|()| 0))
                    }
                }
            }
            Blocked::Poll {
                fds,
                expect_revents,
                deadline,
            } => {
                let ready = self.poll_ready(&fds);
                let count = ready.iter().filter(|&&r| r != 0).count() as i64;
                let timed_out = deadline.is_some_and(|d| self.now >= d);
                if count == 0 && !timed_out {
                    Attempt::Blocked(Blocked::Poll {
                        fds,
                        expect_revents,
                        deadline,
                    })
                } else {
                    for (i, (want, got)) in expect_revents.iter().zip(&ready).enumerate() {
                        let want = want.unwrap_or(0);
                        if want != *got {
                            return Err(Stop::fail(
                                call.pos,
                                format!(
                                    "runtime error in poll call: Expected revents of {want:#x} but got {got:#x} for pollfd {i}"
                                ),
                            ));
                        }
                    }
                    Attempt::Done(Ok(count))
                }
            }
        })
    }

    fn setsockopt(&mut self, call: &Syscall, now: Instant) -> Result<Attempt, Stop> {
        let live = self.live_fd(arg(call, 0)?)?;
        let level = int(arg(call, 1)?)?;
        let name_expr = arg(call, 2)?;
        let value = arg(call, 3)?;
        let name = match &name_expr.kind {
            ExprKind::Word(w) => w.as_str(),
            _ => return Err(Stop::fail(name_expr.pos, "expected a socket option name")),
        };
        let v = || -> Result<u32, Stop> { Ok(int(value)?.clamp(0, i64::from(u32::MAX)) as u32) };
        let opt = match (level, name) {
            (1, "SO_REUSEADDR") => SockOpt::ReuseAddr(v()? != 0),
            (1, "SO_KEEPALIVE") => SockOpt::KeepAlive(v()? != 0),
            (1, "SO_RCVBUF") => SockOpt::RcvBuf(v()?),
            (1, "SO_SNDBUF") => SockOpt::SndBuf(v()?),
            (1, "SO_LINGER") => {
                let (onoff, secs) = linger(value)?;
                SockOpt::Linger((onoff != 0).then_some(secs))
            }
            (6, "TCP_NODELAY") => SockOpt::NoDelay(v()? != 0),
            (6, "TCP_MAXSEG") => SockOpt::MaxSeg(v()?),
            (6, "TCP_KEEPIDLE") => SockOpt::KeepIdle(v()?),
            (6, "TCP_KEEPINTVL") => SockOpt::KeepIntvl(v()?),
            (6, "TCP_KEEPCNT") => SockOpt::KeepCnt(v()?),
            (6, "TCP_SYNCNT") => SockOpt::SynCnt(v()?),
            (6, "TCP_QUICKACK") => SockOpt::QuickAck(v()?),
            (6, "TCP_USER_TIMEOUT") => SockOpt::UserTimeout(v()?),
            (6, "TCP_LINGER2") => SockOpt::Linger2(int(value)? as i32),
            (6, "TCP_DEFER_ACCEPT") => SockOpt::DeferAccept(int(value)? as i32),
            _ => {
                return Err(Stop::skip(
                    name_expr.pos,
                    format!("socket option {name} is not modelled"),
                ));
            }
        };
        let r = self.stack.setsockopt(now, live, opt);
        self.drain_transmits();
        Ok(Attempt::Done(r.map(|()| 0)))
    }

    fn getsockopt(&mut self, call: &Syscall) -> Result<Attempt, Stop> {
        let live = self.live_fd(arg(call, 0)?)?;
        let name_expr = arg(call, 2)?;
        let name = match &name_expr.kind {
            ExprKind::Word(w) => w.as_str(),
            _ => return Err(Stop::fail(name_expr.pos, "expected a socket option name")),
        };
        let which = match name {
            "SO_REUSEADDR" => SockOptName::ReuseAddr,
            "SO_KEEPALIVE" => SockOptName::KeepAlive,
            "SO_RCVBUF" => SockOptName::RcvBuf,
            "SO_SNDBUF" => SockOptName::SndBuf,
            "SO_ERROR" => SockOptName::Error,
            "TCP_NODELAY" => SockOptName::NoDelay,
            "TCP_MAXSEG" => SockOptName::MaxSeg,
            "TCP_KEEPIDLE" => SockOptName::KeepIdle,
            "TCP_KEEPINTVL" => SockOptName::KeepIntvl,
            "TCP_KEEPCNT" => SockOptName::KeepCnt,
            "TCP_SYNCNT" => SockOptName::SynCnt,
            "TCP_USER_TIMEOUT" => SockOptName::UserTimeout,
            "TCP_LINGER2" => SockOptName::Linger2,
            "TCP_DEFER_ACCEPT" => SockOptName::DeferAccept,
            _ => {
                return Err(Stop::skip(
                    name_expr.pos,
                    format!("socket option {name} is not modelled for getsockopt"),
                ));
            }
        };
        let r = self.stack.getsockopt(live, which);
        let value = match r {
            Ok(opt) => match opt {
                SockOpt::ReuseAddr(b) | SockOpt::KeepAlive(b) | SockOpt::NoDelay(b) => i64::from(b),
                SockOpt::RcvBuf(n)
                | SockOpt::SndBuf(n)
                | SockOpt::MaxSeg(n)
                | SockOpt::KeepIdle(n)
                | SockOpt::KeepIntvl(n)
                | SockOpt::KeepCnt(n)
                | SockOpt::SynCnt(n)
                | SockOpt::UserTimeout(n)
                | SockOpt::QuickAck(n) => i64::from(n),
                SockOpt::Linger2(n) | SockOpt::Error(n) | SockOpt::DeferAccept(n) => i64::from(n),
                SockOpt::Linger(_) => {
                    return Err(Stop::skip(
                        call.pos,
                        "getsockopt(SO_LINGER) is not supported",
                    ));
                }
            },
            Err(e) => return Ok(Attempt::Done(Err(e))),
        };
        let want_expr = arg(call, 3)?;
        if !matches!(want_expr.kind, ExprKind::Ellipsis) {
            let want = int(want_expr)?;
            if want != value {
                return Err(Stop::fail(
                    want_expr.pos,
                    format!(
                        "runtime error in getsockopt call: Bad getsockopt optval: expected: \
                         {want} actual: {value}"
                    ),
                ));
            }
        }
        Ok(Attempt::Done(Ok(0)))
    }

    /// `poll([{fd=4, events=POLLIN, revents=POLLIN}], 1, timeout)`.
    fn poll(&mut self, call: &Syscall) -> Result<Attempt, Stop> {
        let list = arg(call, 0)?;
        let ExprKind::Array(items) = &list.kind else {
            return Err(Stop::fail(list.pos, "expected an array of pollfd structs"));
        };
        let mut fds = Vec::new();
        let mut expect = Vec::new();
        for item in items {
            let ExprKind::Struct(fields) = &item.kind else {
                return Err(Stop::fail(item.pos, "expected {fd=..., events=...}"));
            };
            let (mut fd, mut events, mut revents) = (None, 0, None);
            for f in fields {
                let ExprKind::Field(name, value) = &f.kind else {
                    return Err(Stop::fail(f.pos, "expected name=value"));
                };
                match name.name.as_str() {
                    "fd" => fd = Some((int(value)?, self.live_fd(value)?)),
                    "events" => events = int(value)?,
                    "revents" => revents = Some(int(value)?),
                    other => {
                        return Err(Stop::fail(
                            name.pos,
                            format!("unknown pollfd field {other}"),
                        ));
                    }
                }
            }
            let (script, live) = fd.ok_or_else(|| Stop::fail(item.pos, "pollfd needs fd="))?;
            fds.push((script, live, events));
            expect.push(revents);
        }
        let nfds = int(arg(call, 1)?)?;
        if nfds != fds.len() as i64 {
            return Err(Stop::fail(
                call.pos,
                "nfds must equal the number of pollfd structs",
            ));
        }
        let timeout = int(arg(call, 2)?)?;
        let deadline = (timeout >= 0).then(|| self.now + timeout as u64 * 1000);
        self.resume(
            Blocked::Poll {
                fds,
                expect_revents: expect,
                deadline,
            },
            Instant::from_micros(self.now),
            call,
        )
    }

    /// The revents of each pollfd now (Linux: tcp_poll()).
    fn poll_ready(&self, fds: &[(i64, Fd, i64)]) -> Vec<i64> {
        fds.iter()
            .map(|&(_, live, events)| {
                let mut mask = 0;
                if let Some(sock) = self.stack.sock(live) {
                    let closed = sock.state == TcpState::Close;
                    if sock.snd_shutdown && sock.rcv_shutdown || closed {
                        mask |= POLLHUP;
                    }
                    if sock.rcv_shutdown || sock.fin_received {
                        mask |= POLLIN | POLLRDHUP;
                    }
                    if !sock.queues.rcvbuf.is_empty() {
                        mask |= POLLIN;
                    }
                    let connected = !matches!(sock.state, TcpState::SynSent | TcpState::SynRecv);
                    if connected && !sock.snd_shutdown && !closed {
                        mask |= POLLOUT;
                    }
                    if sock.rare.sk_err.is_some() {
                        mask |= POLLERR;
                    }
                }
                mask & (events | POLLERR | POLLHUP)
            })
            .collect()
    }
}

/// `= 4` or `= -1 EAGAIN (Resource temporarily unavailable)`.
fn result_text(r: &Result<i64, Errno>) -> String {
    match r {
        Ok(v) => format!("= {v}"),
        Err(e) => format!("= -1 {} ({})", e.name(), e.text()),
    }
}

/// `{onoff=1, linger=0}`.
fn linger(e: &Expr) -> Result<(i64, u32), Stop> {
    let ExprKind::Struct(fields) = &e.kind else {
        return Err(Stop::fail(e.pos, "expected {onoff=..., linger=...}"));
    };
    let (mut onoff, mut secs) = (0, 0);
    for f in fields {
        if let ExprKind::Field(name, value) = &f.kind {
            match name.name.as_str() {
                "onoff" | "l_onoff" => onoff = int(value)?,
                "linger" | "l_linger" => secs = int(value)?.max(0) as u32,
                _ => {}
            }
        }
    }
    Ok((onoff, secs))
}
