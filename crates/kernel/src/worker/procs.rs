//! The host thread's processes and sockets: the simulator's `apps.rs` and the socket
//! program's slots (`run/commands.rs`), with real system calls.

use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, OnceLock};

use rustix::event::PollFlags;
use tcplab_sim::scenario::{KillTarget, Shutdown, SockOpt, Span};
use tcplab_sim::{EventKind, RunWarning, pattern_byte};
use tcplab_stack::{Errno, Instant};

use super::net::Net;
use super::{OpKind, Output, RecView, Req, Target, pending};

mod slots;

const READ_CHUNK: usize = 65536;
const WRITE_CHUNK: u64 = 65536;

/// A socket of a process.
#[derive(Debug)]
struct Sock<S> {
    fd: S,
    rec: usize,
    listener: bool,
    accept_once: bool,
    connecting: bool,
    reading: bool,
    to_send: u64,
    sent: u64,
    received: u64,
    eof: bool,
    error: Option<Errno>,
    /// Hung up or failed: polled only while the program wants to read or write.
    quiet: bool,
}

impl<S> Sock<S> {
    fn new(fd: S, rec: usize) -> Sock<S> {
        Sock {
            fd,
            rec,
            listener: false,
            accept_once: false,
            connecting: false,
            reading: false,
            to_send: 0,
            sent: 0,
            received: 0,
            eof: false,
            error: None,
            quiet: false,
        }
    }
}

#[derive(Debug)]
struct Proc<S> {
    pid: u32,
    name: String,
    nc: bool,
    alive: bool,
    socks: BTreeMap<u32, Sock<S>>,
}

/// One descriptor, from the call that made it until after its close.
#[derive(Clone, Debug)]
struct Rec {
    pid: u32,
    open: bool,
    conn: bool,
    local: Option<SocketAddr>,
    peer: Option<SocketAddr>,
    last_err: Option<(Errno, Instant)>,
    /// Connections accepted on this listener that no `accept` line has taken yet.
    accepted: VecDeque<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Block {
    Connect,
    Accept,
    Write,
}

/// A named socket of the socket program.
#[derive(Debug, Default)]
pub(crate) struct Slot {
    rec: Option<usize>,
    queue: VecDeque<(Span, OpKind)>,
    blocked: Option<Block>,
}

/// Everything one host runs. See the module docs of `worker`.
#[derive(Debug)]
pub(crate) struct Host<N: Net> {
    name: String,
    /// The host's address is IPv6: `nc -l` and `listen PORT` bind `::`.
    v6: bool,
    /// Where the socket calls go.
    net: N,
    prog_name: String,
    t0: Arc<OnceLock<std::time::Instant>>,
    procs: Vec<Proc<N::Sock>>,
    prog: Option<usize>,
    jobs: BTreeMap<u32, usize>,
    next_pid: u32,
    recs: Vec<Rec>,
    slots: BTreeMap<String, Slot>,
    /// Per listener record: the slots whose `accept` waits for it, in order.
    waiters: BTreeMap<usize, VecDeque<String>>,
    out: Output,
    /// When the system call being made started: its event carries this time, so that
    /// what the kernel did during the call (a SYN sent by connect) comes after it.
    call_t: std::cell::Cell<Option<Instant>>,
}

/// The wildcard address of a family.
fn any_addr(v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    }
}

impl<N: Net> Host<N> {
    pub(crate) fn new(
        name: String,
        v6: bool,
        net: N,
        prog_name: String,
        t0: Arc<OnceLock<std::time::Instant>>,
    ) -> Host<N> {
        Host {
            name,
            v6,
            net,
            prog_name,
            t0,
            procs: Vec::new(),
            prog: None,
            jobs: BTreeMap::new(),
            next_pid: 1000,
            recs: Vec::new(),
            slots: BTreeMap::new(),
            waiters: BTreeMap::new(),
            out: Output::default(),
            call_t: std::cell::Cell::new(None),
        }
    }

    fn now(&self) -> Instant {
        let ns = self.t0.get().map_or(0, |t0| t0.elapsed().as_nanos());
        Instant::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX))
    }

    fn push(&mut self, kind: EventKind) {
        let t = self.now();
        self.out.events.push((t, kind));
    }

    fn warn(&mut self, span: Span, message: String) {
        self.push(EventKind::Error {
            message: format!("line {}: {message}", span.line),
        });
        self.out.warnings.push(RunWarning { span, message });
    }

    /// The loop: requests and socket readiness until told to stop.
    pub(crate) fn serve(
        &mut self,
        rx: &Receiver<Req>,
        wake: &UnixStream,
        done: &Sender<()>,
        stop: &AtomicBool,
    ) {
        while !stop.load(Ordering::SeqCst) {
            let mut keys = Vec::new();
            let ready = {
                let mut fds = Vec::new();
                for (p, proc) in self.procs.iter().enumerate() {
                    if !proc.alive {
                        continue;
                    }
                    for (&vfd, s) in &proc.socks {
                        let mut want = PollFlags::empty();
                        if s.listener || (s.reading && !s.eof) {
                            want |= PollFlags::IN;
                        }
                        if s.connecting || s.to_send > 0 {
                            want |= PollFlags::OUT;
                        }
                        if want.is_empty() && s.quiet {
                            continue;
                        }
                        keys.push((p, vfd));
                        fds.push((&s.fd, want));
                    }
                }
                self.net.wait(&fds, wake)
            };
            let events = self.net.take_events();
            self.out.events.extend(events);
            for (i, revents) in ready {
                if i == 0 {
                    continue;
                }
                let (p, vfd) = keys[i - 1];
                self.on_ready(p, vfd, revents);
            }
            self.settle();
            for req in pending(rx) {
                self.handle(req);
                self.settle();
                let _ = done.send(());
            }
        }
    }

    /// Closes everything still open, as the process exits do at the end of a run.
    pub(crate) fn finish(mut self) -> Output {
        for p in &mut self.procs {
            for (_, s) in std::mem::take(&mut p.socks) {
                self.net.close(s.fd);
            }
        }
        let events = self.net.take_events();
        self.out.events.extend(events);
        self.out
    }

    fn handle(&mut self, req: Req) {
        match req {
            Req::NcListen { port, job } => {
                let p = self.spawn("nc", true);
                if let Some(j) = job {
                    self.jobs.insert(j, p);
                }
                self.listen_nc(p, port);
            }
            Req::NcConnect { to, job } => {
                let p = self.spawn("nc", true);
                if let Some(j) = job {
                    self.jobs.insert(j, p);
                }
                if let Some(vfd) = self.new_socket(p, to.is_ipv6()) {
                    self.connect(p, vfd, to);
                }
            }
            Req::Kill { target, span } => self.kill(target, span),
            Req::Op { sock, span, kind } => {
                self.slots
                    .entry(sock)
                    .or_default()
                    .queue
                    .push_back((span, kind));
            }
            Req::Lookup(t, reply) => {
                let _ = reply.send(self.lookup(&t));
            }
            Req::Tool(argv, reply) => {
                let owners: Vec<(&N::Sock, String)> = self
                    .procs
                    .iter()
                    .filter(|p| p.alive)
                    .flat_map(|p| {
                        p.socks
                            .values()
                            .map(move |s| (&s.fd, format!("{}/{}", p.pid, p.name)))
                    })
                    .collect();
                let _ = reply.send(self.net.tool(&argv, &owners));
            }
        }
    }

    fn spawn(&mut self, name: &str, nc: bool) -> usize {
        let pid = self.next_pid;
        self.next_pid += 1;
        self.procs.push(Proc {
            pid,
            name: name.to_string(),
            nc,
            alive: true,
            socks: BTreeMap::new(),
        });
        self.procs.len() - 1
    }

    fn program(&mut self) -> usize {
        if let Some(p) = self.prog {
            return p;
        }
        let name = self.prog_name.clone();
        let p = self.spawn(&name, false);
        self.prog = Some(p);
        p
    }

    /// Marks the start of a system call.
    fn begin(&self) {
        self.call_t.set(Some(self.now()));
    }

    fn record_call(&mut self, p: usize, call: &'static str, args: String, res: Result<i64, Errno>) {
        let (pid, process) = (self.procs[p].pid, self.procs[p].name.clone());
        let t = self.call_t.take().unwrap_or_else(|| self.now());
        if let Err(e) = res
            && !matches!(e, Errno::EINPROGRESS | Errno::EAGAIN)
            && let Some(fd) = args
                .split(',')
                .next()
                .and_then(|f| f.trim().parse::<u32>().ok())
            && let Some(r) = self.procs[p].socks.get(&fd).map(|s| s.rec)
        {
            let now = self.now();
            self.recs[r].last_err = Some((e, now));
        }
        self.out.events.push((
            t,
            EventKind::Call {
                host: self.name.clone(),
                pid,
                process,
                call,
                args,
                ret: res.ok(),
                errno: res.err(),
            },
        ));
    }

    fn record_app(
        &mut self,
        p: usize,
        fd: Option<u32>,
        what: &'static str,
        e: Option<Errno>,
        detail: &str,
    ) {
        if let (Some(fd), Some(e)) = (fd, e)
            && let Some(r) = self.procs[p].socks.get(&fd).map(|s| s.rec)
        {
            let now = self.now();
            self.recs[r].last_err = Some((e, now));
        }
        self.push(EventKind::App {
            host: self.name.clone(),
            pid: self.procs[p].pid,
            process: self.procs[p].name.clone(),
            fd,
            what,
            errno: e,
            detail: detail.to_string(),
        });
    }

    /// The lowest descriptor number free on the host, from 3, as the simulator's stack hands
    /// them out.
    fn lowest_free(&self) -> u32 {
        let used: std::collections::BTreeSet<u32> = self
            .procs
            .iter()
            .flat_map(|p| p.socks.keys().copied())
            .collect();
        (3..).find(|n| !used.contains(n)).unwrap_or(3)
    }

    fn add_sock(&mut self, p: usize, fd: N::Sock) -> u32 {
        let vfd = self.lowest_free();
        self.recs.push(Rec {
            pid: self.procs[p].pid,
            open: true,
            conn: false,
            local: None,
            peer: None,
            last_err: None,
            accepted: VecDeque::new(),
        });
        let rec = self.recs.len() - 1;
        self.procs[p].socks.insert(vfd, Sock::new(fd, rec));
        vfd
    }

    fn new_socket(&mut self, p: usize, v6: bool) -> Option<u32> {
        self.begin();
        let res = self.net.socket(v6);
        let name = if v6 { "AF_INET6" } else { "AF_INET" };
        match res {
            Ok(fd) => {
                let vfd = self.add_sock(p, fd);
                self.record_call(
                    p,
                    "socket",
                    format!("{name}, SOCK_STREAM, IPPROTO_TCP"),
                    Ok(i64::from(vfd)),
                );
                Some(vfd)
            }
            Err(e) => {
                self.record_call(
                    p,
                    "socket",
                    format!("{name}, SOCK_STREAM, IPPROTO_TCP"),
                    Err(e),
                );
                None
            }
        }
    }

    fn sock(&self, p: usize, vfd: u32) -> Option<&Sock<N::Sock>> {
        self.procs.get(p)?.socks.get(&vfd)
    }

    fn sock_mut(&mut self, p: usize, vfd: u32) -> Option<&mut Sock<N::Sock>> {
        self.procs.get_mut(p)?.socks.get_mut(&vfd)
    }

    fn learn_tuple(&mut self, p: usize, vfd: u32) {
        let Some(s) = self.procs.get(p).and_then(|pr| pr.socks.get(&vfd)) else {
            return;
        };
        let (local, peer) = self.net.addrs(&s.fd);
        let r = s.rec;
        if local.is_some() {
            self.recs[r].local = local;
        }
        if peer.is_some() {
            self.recs[r].peer = peer;
        }
    }

    fn connect(&mut self, p: usize, vfd: u32, dst: SocketAddr) -> Option<Block> {
        self.begin();
        let s = self.procs.get(p)?.socks.get(&vfd)?;
        let res = self.net.connect(&s.fd, dst);
        self.record_call(p, "connect", format!("{vfd}, {dst}"), res.map(|()| 0));
        let nc = self.procs[p].nc;
        let rec = self.sock(p, vfd).map(|s| s.rec)?;
        match res {
            Ok(()) | Err(Errno::EINPROGRESS) => {
                self.recs[rec].conn = true;
                self.recs[rec].peer = Some(dst);
                self.learn_tuple(p, vfd);
                let s = self.sock_mut(p, vfd)?;
                s.connecting = res.is_err();
                if nc {
                    s.reading = true;
                }
                (res.is_err()).then_some(Block::Connect)
            }
            Err(e) => {
                if let Some(s) = self.sock_mut(p, vfd) {
                    s.error = Some(e);
                }
                if nc {
                    self.exit(p, "connect failed");
                }
                None
            }
        }
    }

    fn bind_listen(&mut self, p: usize, vfd: u32, local: SocketAddr, backlog: i32) -> bool {
        let Some(s) = self.procs.get(p).and_then(|pr| pr.socks.get(&vfd)) else {
            return false;
        };
        self.call_t.set(Some(self.now()));
        let res = self.net.bind(&s.fd, local);
        self.record_call(p, "bind", format!("{vfd}, {local}"), res.map(|()| 0));
        if res.is_err() {
            return false;
        }
        if let Some(r) = self.sock(p, vfd).map(|s| s.rec) {
            self.recs[r].local = Some(local);
        }
        let Some(s) = self.procs.get(p).and_then(|pr| pr.socks.get(&vfd)) else {
            return false;
        };
        self.call_t.set(Some(self.now()));
        let res = self.net.listen(&s.fd, backlog);
        self.record_call(p, "listen", format!("{vfd}, {backlog}"), res.map(|()| 0));
        if res.is_ok()
            && let Some(s) = self.sock_mut(p, vfd)
        {
            s.listener = true;
        }
        res.is_ok()
    }

    /// `nc -l PORT`: SO_REUSEADDR, bind to the wildcard address, backlog 1, read mode.
    fn listen_nc(&mut self, p: usize, port: u16) {
        let v6 = self.host_v6();
        let Some(vfd) = self.new_socket(p, v6) else {
            return;
        };
        let res = self
            .procs
            .get(p)
            .and_then(|pr| pr.socks.get(&vfd))
            .map(|s| self.net.setsockopt(&s.fd, SockOpt::ReuseAddr(true)));
        if let Some(res) = res {
            self.record_call(
                p,
                "setsockopt",
                format!("{vfd}, SOL_SOCKET, SO_REUSEADDR, 1"),
                res.map(|()| 0),
            );
        }
        if self.bind_listen(p, vfd, SocketAddr::new(any_addr(v6), port), 1)
            && let Some(s) = self.sock_mut(p, vfd)
        {
            s.accept_once = true;
            s.reading = true;
        }
    }

    fn host_v6(&self) -> bool {
        self.v6
    }

    fn kill(&mut self, target: KillTarget, span: Span) {
        let p = match target {
            KillTarget::Job(n) => match self.jobs.get(&n) {
                Some(&p) => p,
                None => return self.warn(span, format!("kill: %{n}: no such job")),
            },
            KillTarget::Pid(pid) => match self.procs.iter().position(|p| p.pid == pid && p.alive) {
                Some(p) => p,
                None => return self.warn(span, format!("kill: ({pid}) - No such process")),
            },
        };
        if !self.procs[p].alive {
            let message = match target {
                KillTarget::Job(n) => format!("kill: %{n}: the job has finished"),
                KillTarget::Pid(pid) => format!("kill: ({pid}) - No such process"),
            };
            return self.warn(span, message);
        }
        self.exit(p, "killed");
    }

    /// Ends a process: closes its descriptors in ascending order.
    fn exit(&mut self, p: usize, why: &str) {
        if !self.procs[p].alive {
            return;
        }
        self.record_app(p, None, "exit", None, why);
        let fds: Vec<u32> = self.procs[p].socks.keys().copied().collect();
        for fd in fds {
            self.close_fd(p, fd);
        }
        self.procs[p].alive = false;
    }

    /// close(): the kernel's close cannot fail for a socket; it returns 0.
    fn close_fd(&mut self, p: usize, vfd: u32) {
        let Some(s) = self.procs[p].socks.remove(&vfd) else {
            return;
        };
        let rec = s.rec;
        // The call's time is when it was made: what the kernel does in it comes after.
        let t = self.now();
        self.net.close(s.fd);
        self.recs[rec].open = false;
        self.out.events.push((
            t,
            EventKind::Call {
                host: self.name.clone(),
                pid: self.procs[p].pid,
                process: self.procs[p].name.clone(),
                call: "close",
                args: vfd.to_string(),
                ret: Some(0),
                errno: None,
            },
        ));
    }

    fn on_ready(&mut self, p: usize, vfd: u32, ev: PollFlags) {
        let Some(s) = self.sock(p, vfd) else { return };
        if !self.procs[p].alive {
            return;
        }
        if s.listener {
            if ev.contains(PollFlags::IN) {
                self.accept_ready(p, vfd);
            }
            return;
        }
        if s.connecting {
            if ev.intersects(PollFlags::OUT | PollFlags::ERR | PollFlags::HUP) {
                self.connect_done(p, vfd);
            }
            return;
        }
        let (reading, eof) = (s.reading, s.eof);
        if ev.contains(PollFlags::ERR) {
            if reading && !eof && !self.procs[p].nc {
                self.pump_read(p, vfd);
            } else {
                let e = self
                    .procs
                    .get(p)
                    .and_then(|pr| pr.socks.get(&vfd))
                    .and_then(|s| self.net.take_error(&s.fd));
                if let Some(e) = e {
                    if let Some(s) = self.sock_mut(p, vfd) {
                        s.error = Some(e);
                        s.to_send = 0;
                    }
                    self.record_app(p, Some(vfd), "error", Some(e), "");
                    if self.procs[p].nc {
                        self.exit(p, "connection failed");
                        return;
                    }
                }
            }
        }
        if ev.contains(PollFlags::IN) && reading {
            self.pump_read(p, vfd);
        }
        if ev.contains(PollFlags::OUT) {
            self.pump_send(p, vfd);
        }
        if ev.intersects(PollFlags::HUP | PollFlags::ERR)
            && let Some(s) = self.sock_mut(p, vfd)
        {
            s.quiet = true;
        }
    }

    fn connect_done(&mut self, p: usize, vfd: u32) {
        let Some(s) = self.procs.get(p).and_then(|pr| pr.socks.get(&vfd)) else {
            return;
        };
        let err = self.net.take_error(&s.fd);
        if let Some(s) = self.sock_mut(p, vfd) {
            s.connecting = false;
            s.error = err;
        }
        match err {
            None => {
                self.learn_tuple(p, vfd);
                self.record_app(p, Some(vfd), "connected", None, "");
                self.pump_send(p, vfd);
                if self.sock(p, vfd).is_some_and(|s| s.reading) {
                    self.pump_read(p, vfd);
                }
            }
            Some(e) => {
                self.record_app(p, Some(vfd), "connect_failed", Some(e), "");
                if let Some(s) = self.sock_mut(p, vfd) {
                    s.quiet = true;
                }
                if self.procs[p].nc {
                    self.exit(p, "connection failed");
                }
            }
        }
    }

    fn accept_ready(&mut self, p: usize, lvfd: u32) {
        loop {
            let Some(l) = self.procs.get(p).and_then(|pr| pr.socks.get(&lvfd)) else {
                return;
            };
            let (reading, once, lrec) = (l.reading, l.accept_once, l.rec);
            self.call_t.set(Some(self.now()));
            let res = self.net.accept(&l.fd);
            let (fd, peer) = match res {
                Ok(v) => v,
                Err(Errno::EAGAIN) => return,
                Err(e) => {
                    self.record_call(p, "accept", lvfd.to_string(), Err(e));
                    return;
                }
            };
            let nvfd = self.add_sock(p, fd);
            let peer_s = peer.map_or_else(|| "?".to_string(), |a| a.to_string());
            self.record_call(
                p,
                "accept",
                format!("{lvfd}, {peer_s}"),
                Ok(i64::from(nvfd)),
            );
            let rec = self.sock(p, nvfd).map(|s| s.rec).unwrap_or(0);
            self.recs[rec].conn = true;
            self.recs[rec].peer = peer;
            self.learn_tuple(p, nvfd);
            self.recs[lrec].accepted.push_back(rec);
            if let Some(s) = self.sock_mut(p, nvfd) {
                s.reading = reading;
            }
            if reading {
                self.pump_read(p, nvfd);
            }
            if once {
                self.close_fd(p, lvfd);
                return;
            }
        }
    }

    fn pump_read(&mut self, p: usize, vfd: u32) {
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            let Some(s) = self.procs.get(p).and_then(|pr| pr.socks.get(&vfd)) else {
                return;
            };
            if s.eof || s.connecting || !self.procs[p].alive {
                return;
            }
            self.call_t.set(Some(self.now()));
            let res = self.net.recv(&s.fd, &mut buf[..]);
            let nc = self.procs[p].nc;
            match res {
                Err(Errno::EAGAIN) => return,
                Ok(0) => {
                    self.record_call(p, "read", format!("{vfd}, {READ_CHUNK}"), Ok(0));
                    if let Some(s) = self.sock_mut(p, vfd) {
                        s.eof = true;
                    }
                    self.record_app(p, Some(vfd), "eof", None, "read returned 0");
                    if nc {
                        self.exit(p, "end of stream");
                    }
                    return;
                }
                Ok(n) => {
                    self.record_call(p, "read", format!("{vfd}, {READ_CHUNK}"), Ok(n as i64));
                    if let Some(s) = self.sock_mut(p, vfd) {
                        s.received += n as u64;
                    }
                }
                Err(e) => {
                    // The simulator's stack reports the error before the read that sees it.
                    let first = self.sock(p, vfd).is_some_and(|s| s.error.is_none());
                    if first {
                        self.record_app(p, Some(vfd), "error", Some(e), "");
                    }
                    self.record_call(p, "read", format!("{vfd}, {READ_CHUNK}"), Err(e));
                    if let Some(s) = self.sock_mut(p, vfd) {
                        s.error = Some(e);
                        s.eof = true;
                        s.quiet = true;
                    }
                    if nc {
                        self.exit(p, "read failed");
                    }
                    return;
                }
            }
        }
    }

    fn pump_send(&mut self, p: usize, vfd: u32) {
        loop {
            let Some(s) = self.procs.get(p).and_then(|pr| pr.socks.get(&vfd)) else {
                return;
            };
            if s.connecting || s.to_send == 0 {
                return;
            }
            let n = s.to_send.min(WRITE_CHUNK);
            let chunk: Vec<u8> = (0..n).map(|i| pattern_byte(s.sent + i)).collect();
            self.call_t.set(Some(self.now()));
            let res = self.net.send(&s.fd, &chunk);
            match res {
                Err(Errno::EAGAIN) => return,
                Ok(w) => {
                    self.record_call(p, "write", format!("{vfd}, {n} bytes"), Ok(w as i64));
                    if let Some(s) = self.sock_mut(p, vfd) {
                        s.sent += w as u64;
                        s.to_send -= (w as u64).min(s.to_send);
                    }
                    if (w as u64) < n {
                        return;
                    }
                }
                Err(e) => {
                    self.record_call(p, "write", format!("{vfd}, {n} bytes"), Err(e));
                    if let Some(s) = self.sock_mut(p, vfd) {
                        s.to_send = 0;
                        s.error = Some(e);
                    }
                    return;
                }
            }
        }
    }

    fn lookup(&self, t: &Target) -> Result<RecView, String> {
        let view = |r: &Rec| RecView {
            local: r.local,
            peer: r.peer,
            last_err: r.last_err,
        };
        match t {
            Target::Named(n) => match self.slots.get(n) {
                Some(s) => match (s.rec, s.blocked) {
                    (Some(r), _) => Ok(view(&self.recs[r])),
                    (None, Some(Block::Accept)) => Err("its accept() had not returned yet".into()),
                    (None, _) if !s.queue.is_empty() => {
                        Err("its first call had not run yet".into())
                    }
                    (None, _) => Err("the call that should have made it failed".into()),
                },
                None => Err("no command had run on it yet".into()),
            },
            Target::Job(j) => {
                let Some(&p) = self.jobs.get(j) else {
                    return Err("the job never started".into());
                };
                let pid = self.procs[p].pid;
                let mine: Vec<&Rec> = self.recs.iter().filter(|r| r.pid == pid).collect();
                mine.iter()
                    .find(|r| r.conn)
                    .or(mine.first())
                    .map(|r| view(r))
                    .ok_or_else(|| "the job has no socket".to_string())
            }
        }
    }
}
