//! Processes on hosts: descriptors driven by calls made at given times, with the behaviour of
//! a blocking program written as a poll loop.
//!
//! - `connect(dst)`: `socket` + non-blocking `connect` (`EINPROGRESS`); the completion or
//!   failure is recorded when the stack reports it.
//! - `listen(port)`: `socket`, `SO_REUSEADDR`, `bind` to the wildcard address, `listen`;
//!   connections are accepted as they become ready.
//! - `send(n)`: queues `n` bytes of [`pattern_byte`]; they are written as the send buffer
//!   allows, like a blocking `write` in a loop.
//! - read mode: when on, the socket is drained whenever it is readable, counting bytes and
//!   checking them against the pattern; `read` returning 0 and read errors are recorded.
//! - `kill`: closes every descriptor and ends the process (what ctrl-c does to `nc`).
//!
//! `nc -l PORT` ([`Sim::nc_listen`]) listens with backlog 1, accepts one connection and closes
//! the listener, as OpenBSD nc does without `-k`; `nc ADDR PORT` ([`Sim::nc_connect`])
//! connects. Both read what arrives and send nothing unless told; both exit (closing their
//! socket) when the connection reaches end of stream or fails, as nc does.
//!
//! Every call is recorded on the timeline with its result or errno; asynchronous results are
//! `app` events.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use tcplab_stack::{Domain, Errno, Event, Fd, Shutdown, SockOpt};

use crate::net::{HostId, Sim, SimError};
use crate::timeline::EventKind;

/// A process, by the order it was spawned in the simulation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProcId(pub usize);

/// What a process does on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Program {
    /// Only what it is told.
    Plain,
    /// `nc`: exits at end of stream or on an error.
    Nc,
}

/// Byte `offset` of the data processes send: the lowercase alphabet, repeated.
pub fn pattern_byte(offset: u64) -> u8 {
    b'a' + (offset % 26) as u8
}

/// What a process knows about one of its sockets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SockState {
    pub listener: bool,
    /// A listener that stops listening after its first connection (`nc -l`).
    pub accept_once: bool,
    pub connecting: bool,
    pub connected: bool,
    /// Read mode: drain on every readable event.
    pub reading: bool,
    /// Bytes still to write.
    pub to_send: u64,
    /// Bytes written so far (the pattern offset of the next byte).
    pub sent: u64,
    pub received: u64,
    /// Received bytes that differ from the pattern.
    pub mismatched: u64,
    pub eof: bool,
    pub error: Option<Errno>,
    pub peer: Option<SocketAddr>,
}

/// A process on a host.
#[derive(Clone, Debug)]
pub struct Process {
    pub host: HostId,
    pub pid: u32,
    pub name: String,
    pub program: Program,
    pub alive: bool,
    pub socks: BTreeMap<Fd, SockState>,
    /// The socket calls without a descriptor act on: the latest connected or accepted one.
    pub current: Option<Fd>,
}

const READ_CHUNK: usize = 65536;
const WRITE_CHUNK: u64 = 65536;

impl Sim {
    /// Starts a process named `name` on a host that does only what it is told.
    pub fn spawn(&mut self, host: &str, name: &str) -> Result<ProcId, SimError> {
        self.spawn_program(host, name, Program::Plain)
    }

    /// Starts a process running `program`. Nothing is recorded until it makes a call, so a
    /// scenario can create its processes up front and schedule their calls.
    pub fn spawn_program(
        &mut self,
        host: &str,
        name: &str,
        program: Program,
    ) -> Result<ProcId, SimError> {
        let h = self.host_id(host)?;
        let pid = self.hosts[h.0].next_pid;
        self.hosts[h.0].next_pid += 1;
        self.procs.push(Process {
            host: h,
            pid,
            name: name.to_string(),
            program,
            alive: true,
            socks: BTreeMap::new(),
            current: None,
        });
        Ok(ProcId(self.procs.len() - 1))
    }

    /// `nc -l PORT` on a host, now.
    pub fn nc_listen(&mut self, host: &str, port: u16) -> Result<ProcId, SimError> {
        let p = self.spawn_program(host, "nc", Program::Nc)?;
        self.listen(p, port)?;
        Ok(p)
    }

    /// `nc ADDR PORT` on a host, now.
    pub fn nc_connect(&mut self, host: &str, dst: SocketAddr) -> Result<ProcId, SimError> {
        let p = self.spawn_program(host, "nc", Program::Nc)?;
        self.connect(p, dst)?;
        Ok(p)
    }

    /// The latest process named `name` on a host, preferring one still running.
    pub fn find_process(&self, host: &str, name: &str) -> Option<ProcId> {
        let h = self.host_id(host).ok()?;
        let mut found = None;
        for (i, p) in self.procs.iter().enumerate().rev() {
            if p.host == h && p.name == name {
                if p.alive {
                    return Some(ProcId(i));
                }
                found = found.or(Some(ProcId(i)));
            }
        }
        found
    }

    pub fn process(&self, p: ProcId) -> Result<&Process, SimError> {
        self.procs.get(p.0).ok_or(SimError::UnknownProcess(p.0))
    }

    /// Every process, in spawn order.
    pub fn processes(&self) -> &[Process] {
        &self.procs
    }

    /// The `pid/name` that owns a descriptor on a host, as netstat prints it.
    pub(crate) fn owner_label(&self, h: HostId, fd: Fd) -> Option<String> {
        let p = self.hosts.get(h.0)?.owners.get(&fd)?;
        let proc = self.procs.get(p.0)?;
        Some(format!("{}/{}", proc.pid, proc.name))
    }

    fn live(&self, p: ProcId) -> Result<&Process, SimError> {
        let proc = self.process(p)?;
        if !proc.alive {
            return Err(SimError::Exited {
                name: proc.name.clone(),
                pid: proc.pid,
            });
        }
        Ok(proc)
    }

    fn resolve_fd(&self, p: ProcId, fd: Option<Fd>) -> Result<Fd, SimError> {
        let proc = self.live(p)?;
        match fd {
            Some(fd) if proc.socks.contains_key(&fd) => Ok(fd),
            Some(fd) => Err(SimError::NoSuchFd {
                name: proc.name.clone(),
                pid: proc.pid,
                fd,
            }),
            None => proc.current.ok_or_else(|| SimError::NoSocket {
                name: proc.name.clone(),
                pid: proc.pid,
            }),
        }
    }

    fn record_call(
        &mut self,
        p: ProcId,
        call: &'static str,
        args: String,
        res: Result<i64, Errno>,
    ) {
        let proc = &self.procs[p.0];
        let kind = EventKind::Call {
            host: self.hosts[proc.host.0].name.clone(),
            pid: proc.pid,
            process: proc.name.clone(),
            call,
            args,
            ret: res.ok(),
            errno: res.err(),
        };
        self.timeline.push(self.now(), kind);
    }

    fn record_app(
        &mut self,
        p: ProcId,
        fd: Option<Fd>,
        what: &'static str,
        errno: Option<Errno>,
        detail: String,
    ) {
        let proc = &self.procs[p.0];
        let kind = EventKind::App {
            host: self.hosts[proc.host.0].name.clone(),
            pid: proc.pid,
            process: proc.name.clone(),
            fd: fd.map(|f| f.0),
            what,
            errno,
            detail,
        };
        self.timeline.push(self.now(), kind);
    }

    fn new_socket(&mut self, p: ProcId, domain: Domain) -> Result<Fd, SimError> {
        let h = self.procs[p.0].host;
        let res = self.hosts[h.0].stack.socket(domain);
        let family = match domain {
            Domain::Inet => "AF_INET",
            Domain::Inet6 => "AF_INET6",
        };
        self.record_call(
            p,
            "socket",
            format!("{family}, SOCK_STREAM, IPPROTO_TCP"),
            res.map(|fd| i64::from(fd.0)),
        );
        let fd = res.map_err(|errno| SimError::Syscall {
            call: "socket",
            errno,
        })?;
        self.hosts[h.0].owners.insert(fd, p);
        self.procs[p.0].socks.insert(fd, SockState::default());
        Ok(fd)
    }

    /// `connect(dst)` from a new socket; returns its descriptor. The handshake completes (or
    /// fails) later, as an `app` event.
    pub fn connect(&mut self, p: ProcId, dst: SocketAddr) -> Result<Fd, SimError> {
        self.live(p)?;
        let h = self.procs[p.0].host;
        let domain = if dst.is_ipv4() {
            Domain::Inet
        } else {
            Domain::Inet6
        };
        let fd = self.new_socket(p, domain)?;
        let now = self.now();
        let res = self.hosts[h.0].stack.connect(now, fd, dst);
        self.record_call(p, "connect", format!("{fd}, {dst}"), res.map(|()| 0));
        self.procs[p.0].current = Some(fd);
        if self.procs[p.0].program == Program::Nc
            && let Some(s) = self.procs[p.0].socks.get_mut(&fd)
        {
            s.reading = true;
        }
        let out = match res {
            Ok(()) | Err(Errno::EINPROGRESS) => {
                if let Some(s) = self.procs[p.0].socks.get_mut(&fd) {
                    s.peer = Some(dst);
                    if res.is_ok() {
                        s.connected = true;
                    } else {
                        s.connecting = true;
                    }
                }
                Ok(fd)
            }
            Err(errno) => {
                if self.procs[p.0].program == Program::Nc {
                    self.exit(p, "connect failed");
                }
                Err(SimError::Syscall {
                    call: "connect",
                    errno,
                })
            }
        };
        self.drain(h);
        out
    }

    /// `listen(port)` on the wildcard address with backlog 128 (`nc`: backlog 1, one
    /// connection, read mode on); connections are accepted automatically. Returns the
    /// listening descriptor.
    pub fn listen(&mut self, p: ProcId, port: u16) -> Result<Fd, SimError> {
        self.live(p)?;
        let nc = self.procs[p.0].program == Program::Nc;
        let backlog = if nc { 1 } else { 128 };
        let h = self.procs[p.0].host;
        let v4 = self.hosts[h.0].addrs[0].is_ipv4();
        let (domain, any) = if v4 {
            (Domain::Inet, IpAddr::V4(Ipv4Addr::UNSPECIFIED))
        } else {
            (Domain::Inet6, IpAddr::V6(Ipv6Addr::UNSPECIFIED))
        };
        let fd = self.new_socket(p, domain)?;
        let now = self.now();
        let res = self.hosts[h.0]
            .stack
            .setsockopt(now, fd, SockOpt::ReuseAddr(true));
        self.record_call(
            p,
            "setsockopt",
            format!("{fd}, SOL_SOCKET, SO_REUSEADDR, 1"),
            res.map(|()| 0),
        );
        let addr = SocketAddr::new(any, port);
        let res = self.hosts[h.0].stack.bind(fd, addr);
        self.record_call(p, "bind", format!("{fd}, {addr}"), res.map(|()| 0));
        res.map_err(|errno| SimError::Syscall {
            call: "bind",
            errno,
        })?;
        let res = self.hosts[h.0].stack.listen(fd, backlog);
        self.record_call(p, "listen", format!("{fd}, {backlog}"), res.map(|()| 0));
        res.map_err(|errno| SimError::Syscall {
            call: "listen",
            errno,
        })?;
        if let Some(s) = self.procs[p.0].socks.get_mut(&fd) {
            s.listener = true;
            s.accept_once = nc;
            s.reading = nc;
        }
        self.drain(h);
        Ok(fd)
    }

    /// Queues `bytes` bytes of the pattern for writing on `fd` (the current connection when
    /// `None`).
    pub fn send(&mut self, p: ProcId, fd: Option<Fd>, bytes: u64) -> Result<(), SimError> {
        let fd = self.resolve_fd(p, fd)?;
        if let Some(s) = self.procs[p.0].socks.get_mut(&fd) {
            s.to_send += bytes;
        }
        self.pump_send(p, fd);
        self.drain(self.procs[p.0].host);
        Ok(())
    }

    /// Turns read mode on or off for `fd` (for the listener, the mode its accepted
    /// connections start in).
    pub fn set_read(&mut self, p: ProcId, fd: Option<Fd>, on: bool) -> Result<(), SimError> {
        let fd = self.resolve_fd(p, fd)?;
        if let Some(s) = self.procs[p.0].socks.get_mut(&fd) {
            s.reading = on;
        }
        if on {
            self.pump_read(p, fd);
        }
        self.drain(self.procs[p.0].host);
        Ok(())
    }

    pub fn shutdown(&mut self, p: ProcId, fd: Option<Fd>, how: Shutdown) -> Result<(), SimError> {
        let fd = self.resolve_fd(p, fd)?;
        let h = self.procs[p.0].host;
        let now = self.now();
        let res = self.hosts[h.0].stack.shutdown(now, fd, how);
        let how_name = match how {
            Shutdown::Read => "SHUT_RD",
            Shutdown::Write => "SHUT_WR",
            Shutdown::Both => "SHUT_RDWR",
        };
        self.record_call(p, "shutdown", format!("{fd}, {how_name}"), res.map(|()| 0));
        self.drain(h);
        res.map_err(|errno| SimError::Syscall {
            call: "shutdown",
            errno,
        })
    }

    pub fn close(&mut self, p: ProcId, fd: Option<Fd>) -> Result<(), SimError> {
        let fd = self.resolve_fd(p, fd)?;
        let res = self.close_fd(p, fd);
        self.drain(self.procs[p.0].host);
        res.map_err(|errno| SimError::Syscall {
            call: "close",
            errno,
        })
    }

    /// `close()` as the socket program makes it (a running process): with SO_LINGER
    /// {1, t>0} it sleeps while the FIN is unacknowledged, for at most t seconds
    /// (`Stack::close_blocking`). `Ok(true)` when it has returned; `Ok(false)` while it
    /// sleeps: call [`Sim::close_resume`] after later events. The call is on the timeline
    /// when it returns.
    pub fn close_waiting(&mut self, p: ProcId, fd: Option<Fd>) -> Result<bool, SimError> {
        let fd = self.resolve_fd(p, fd)?;
        let returned = self.close_resume(p, fd)?;
        Ok(returned)
    }

    /// Tries a sleeping [`Sim::close_waiting`] again: `Ok(true)` once it has returned.
    pub fn close_resume(&mut self, p: ProcId, fd: Fd) -> Result<bool, SimError> {
        let h = self.procs[p.0].host;
        let now = self.now();
        let res = self.hosts[h.0].stack.close_blocking(now, fd);
        if res == Err(Errno::EAGAIN) {
            self.drain(h);
            return Ok(false);
        }
        self.record_call(p, "close", fd.to_string(), res.map(|()| 0));
        self.forget_fd(p, fd);
        self.drain(h);
        res.map(|()| true).map_err(|errno| SimError::Syscall {
            call: "close",
            errno,
        })
    }

    /// The process no longer holds `fd` (its close() returned).
    fn forget_fd(&mut self, p: ProcId, fd: Fd) {
        let h = self.procs[p.0].host;
        self.hosts[h.0].owners.remove(&fd);
        let proc = &mut self.procs[p.0];
        proc.socks.remove(&fd);
        if proc.current == Some(fd) {
            proc.current = None;
        }
    }

    fn close_fd(&mut self, p: ProcId, fd: Fd) -> Result<(), Errno> {
        let h = self.procs[p.0].host;
        let now = self.now();
        let res = self.hosts[h.0].stack.close(now, fd);
        self.record_call(p, "close", fd.to_string(), res.map(|()| 0));
        self.forget_fd(p, fd);
        res
    }

    pub fn setsockopt(&mut self, p: ProcId, fd: Option<Fd>, opt: SockOpt) -> Result<(), SimError> {
        let fd = self.resolve_fd(p, fd)?;
        let h = self.procs[p.0].host;
        let now = self.now();
        let res = self.hosts[h.0].stack.setsockopt(now, fd, opt);
        self.record_call(p, "setsockopt", format!("{fd}, {opt:?}"), res.map(|()| 0));
        self.drain(h);
        res.map_err(|errno| SimError::Syscall {
            call: "setsockopt",
            errno,
        })
    }

    /// Closes every descriptor of the process and ends it (ctrl-c).
    pub fn kill(&mut self, p: ProcId) -> Result<(), SimError> {
        self.live(p)?;
        self.exit(p, "killed");
        self.drain(self.procs[p.0].host);
        Ok(())
    }

    /// Ends a process: closes its descriptors in ascending order.
    fn exit(&mut self, p: ProcId, why: &str) {
        if !self.procs[p.0].alive {
            return;
        }
        let fds: Vec<Fd> = self.procs[p.0].socks.keys().copied().collect();
        self.record_app(p, None, "exit", None, why.to_string());
        for fd in fds {
            let _ = self.close_fd(p, fd);
        }
        self.procs[p.0].alive = false;
    }

    /// A descriptor event from a host's stack.
    pub(crate) fn on_event(&mut self, h: HostId, fd: Fd, ev: Event) {
        let Some(&p) = self.hosts[h.0].owners.get(&fd) else {
            return;
        };
        if !self.procs[p.0].alive || !self.procs[p.0].socks.contains_key(&fd) {
            return;
        }
        match ev {
            Event::Acceptable => self.accept_ready(p, fd),
            Event::Readable => {
                if self.procs[p.0].socks.get(&fd).is_some_and(|s| s.reading) {
                    self.pump_read(p, fd);
                }
            }
            Event::Writable => self.pump_send(p, fd),
            Event::Connected => {
                if let Some(s) = self.procs[p.0].socks.get_mut(&fd) {
                    s.connecting = false;
                    s.connected = true;
                }
                self.record_app(p, Some(fd), "connected", None, String::new());
                self.pump_send(p, fd);
                if self.procs[p.0].socks.get(&fd).is_some_and(|s| s.reading) {
                    self.pump_read(p, fd);
                }
            }
            Event::Error(e) => {
                let connecting = self.procs[p.0].socks.get_mut(&fd).is_some_and(|s| {
                    s.error = Some(e);
                    std::mem::take(&mut s.connecting)
                });
                let what = if connecting {
                    "connect_failed"
                } else {
                    "error"
                };
                self.record_app(p, Some(fd), what, Some(e), String::new());
                if self.procs[p.0].program == Program::Nc {
                    self.exit(p, "connection failed");
                }
            }
            Event::StateChanged { .. } => {}
        }
    }

    fn accept_ready(&mut self, p: ProcId, lfd: Fd) {
        let h = self.procs[p.0].host;
        loop {
            let now = self.now();
            let res = self.hosts[h.0].stack.accept(now, lfd);
            let (nfd, peer) = match res {
                Ok(v) => v,
                Err(Errno::EAGAIN) => return,
                Err(e) => {
                    self.record_call(p, "accept", lfd.to_string(), Err(e));
                    return;
                }
            };
            self.record_call(p, "accept", format!("{lfd}, {peer}"), Ok(i64::from(nfd.0)));
            let (reading, once) = self.procs[p.0]
                .socks
                .get(&lfd)
                .map_or((false, false), |s| (s.reading, s.accept_once));
            self.hosts[h.0].owners.insert(nfd, p);
            self.procs[p.0].socks.insert(
                nfd,
                SockState {
                    connected: true,
                    reading,
                    peer: Some(peer),
                    ..SockState::default()
                },
            );
            self.procs[p.0].current = Some(nfd);
            if reading {
                self.pump_read(p, nfd);
            }
            if once {
                let _ = self.close_fd(p, lfd);
                return;
            }
        }
    }

    fn pump_read(&mut self, p: ProcId, fd: Fd) {
        let h = self.procs[p.0].host;
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            let Some(s) = self.procs[p.0].socks.get(&fd) else {
                return;
            };
            if s.eof || s.connecting {
                return;
            }
            let now = self.now();
            let res = self.hosts[h.0].stack.recv(now, fd, &mut buf);
            match res {
                Err(Errno::EAGAIN) => return,
                Ok(0) => {
                    self.record_call(p, "read", format!("{fd}, {READ_CHUNK}"), Ok(0));
                    if let Some(s) = self.procs[p.0].socks.get_mut(&fd) {
                        s.eof = true;
                    }
                    self.record_app(p, Some(fd), "eof", None, "read returned 0".to_string());
                    if self.procs[p.0].program == Program::Nc {
                        self.exit(p, "end of stream");
                    }
                    return;
                }
                Ok(n) => {
                    self.record_call(p, "read", format!("{fd}, {READ_CHUNK}"), Ok(n as i64));
                    if let Some(s) = self.procs[p.0].socks.get_mut(&fd) {
                        let bad = buf[..n]
                            .iter()
                            .enumerate()
                            .filter(|&(i, &b)| b != pattern_byte(s.received + i as u64))
                            .count();
                        s.received += n as u64;
                        s.mismatched += bad as u64;
                    }
                }
                Err(e) => {
                    self.record_call(p, "read", format!("{fd}, {READ_CHUNK}"), Err(e));
                    if let Some(s) = self.procs[p.0].socks.get_mut(&fd) {
                        s.error = Some(e);
                    }
                    if self.procs[p.0].program == Program::Nc {
                        self.exit(p, "read failed");
                    }
                    return;
                }
            }
        }
    }

    fn pump_send(&mut self, p: ProcId, fd: Fd) {
        let h = self.procs[p.0].host;
        loop {
            let Some(s) = self.procs[p.0].socks.get(&fd) else {
                return;
            };
            if s.connecting || s.to_send == 0 {
                return;
            }
            let n = s.to_send.min(WRITE_CHUNK);
            let chunk: Vec<u8> = (0..n).map(|i| pattern_byte(s.sent + i)).collect();
            let now = self.now();
            let res = self.hosts[h.0].stack.send(now, fd, &chunk);
            match res {
                // A blocking write waits here; it does not see EAGAIN.
                Err(Errno::EAGAIN) => return,
                Ok(w) => {
                    self.record_call(p, "write", format!("{fd}, {n} bytes"), Ok(w as i64));
                    if let Some(s) = self.procs[p.0].socks.get_mut(&fd) {
                        s.sent += w as u64;
                        s.to_send -= (w as u64).min(s.to_send);
                    }
                    if (w as u64) < n {
                        return;
                    }
                }
                Err(e) => {
                    self.record_call(p, "write", format!("{fd}, {n} bytes"), Err(e));
                    if let Some(s) = self.procs[p.0].socks.get_mut(&fd) {
                        s.to_send = 0;
                        s.error = Some(e);
                    }
                    return;
                }
            }
        }
    }
}
