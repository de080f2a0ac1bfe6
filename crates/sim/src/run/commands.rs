//! Host commands: the tools (`sysctl`, `nc`, `kill`, `iptables`, `ss`, `netstat`,
//! `tcpdump`) and the socket program's calls, which wait their turn on their socket.

use super::*;

impl<'a> Interp<'a> {
    pub(super) fn program(&mut self, host: usize) -> Result<ProcId, SimError> {
        if let Some(p) = self.progs[host] {
            return Ok(p);
        }
        let p = self.sim.spawn(self.host_name(host), &self.prog_name)?;
        self.progs[host] = Some(p);
        Ok(p)
    }

    pub(super) fn record_call(
        &mut self,
        host: usize,
        p: ProcId,
        call: &'static str,
        args: String,
        res: Result<i64, Errno>,
    ) {
        let pid = self.sim.processes()[p.0].pid;
        let kind = EventKind::Call {
            host: self.host_name(host).to_string(),
            pid,
            process: self.prog_name.clone(),
            call,
            args,
            ret: res.ok(),
            errno: res.err(),
        };
        let now = self.sim.now();
        self.sim.timeline_mut().push(now, kind);
    }

    /// `socket()` for the socket program; returns the new descriptor's record.
    pub(super) fn new_socket(&mut self, host: usize, p: ProcId, v6: bool) -> Option<usize> {
        let domain = if v6 { Domain::Inet6 } else { Domain::Inet };
        let res = self.sim.hosts[host].stack.socket(domain);
        let family = if v6 { "AF_INET6" } else { "AF_INET" };
        self.record_call(
            host,
            p,
            "socket",
            format!("{family}, SOCK_STREAM, IPPROTO_TCP"),
            res.map(|fd| i64::from(fd.0)),
        );
        let fd = res.ok()?;
        self.sim.hosts[host].owners.insert(fd, p);
        self.sim.procs[p.0].socks.insert(fd, SockState::default());
        self.tracker.sync(&self.sim);
        let pid = self.sim.procs[p.0].pid;
        self.tracker
            .live
            .get(&(self.host_name(host).to_string(), pid, fd.0))
            .copied()
    }

    /// The open descriptor behind a slot, for commands other than connect/listen/accept.
    pub(super) fn open_fd(&mut self, key: &(usize, String), op: &Op) -> Option<(ProcId, Fd)> {
        let rec = self.slots.get(key).and_then(|s| s.rec);
        let Some(r) = rec.and_then(|r| self.tracker.recs.get(r)).cloned() else {
            self.warn(
                op.span,
                format!(
                    "{} {}: the socket does not exist (an earlier call on it failed)",
                    op.kind.name(),
                    key.1
                ),
            );
            return None;
        };
        if !r.open {
            self.warn(
                op.span,
                format!(
                    "{} {}: the socket is closed; expected a command before `close {}`",
                    op.kind.name(),
                    key.1,
                    key.1
                ),
            );
            return None;
        }
        let p = self.progs[key.0]?;
        Some((p, Fd(r.fd)))
    }

    /// Runs one socket command; returns what the socket now waits for.
    pub(super) fn exec(&mut self, key: &(usize, String), op: Op) -> Option<Block> {
        let host = key.0;
        let p = match self.program(host) {
            Ok(p) => p,
            Err(e) => {
                self.warn(op.span, e.to_string());
                return None;
            }
        };
        let v6 = self.sc.hosts[host].addr.is_ipv6();
        let existing = self
            .slots
            .get(key)
            .and_then(|s| s.rec)
            .filter(|&r| self.tracker.recs.get(r).is_some_and(|r| r.open));
        let result: Result<Option<Block>, SimError> = match op.kind.clone() {
            OpKind::Socket => {
                let rec = self.new_socket(host, p, v6);
                if let Some(s) = self.slots.get_mut(key) {
                    s.rec = rec;
                }
                Ok(None)
            }
            OpKind::Connect(dst) => {
                let rec = match existing {
                    Some(r) => Some(r),
                    None => self.new_socket(host, p, dst.is_ipv6()),
                };
                if let Some(s) = self.slots.get_mut(key) {
                    s.rec = rec;
                }
                match rec {
                    Some(r) => Ok(self.connect(host, p, r, dst)),
                    None => Ok(None),
                }
            }
            OpKind::Listen {
                addr,
                port,
                backlog,
            } => {
                let rec = match existing {
                    Some(r) => Some(r),
                    None => self.new_socket(host, p, addr.map_or(v6, |a| a.is_ipv6())),
                };
                if let Some(s) = self.slots.get_mut(key) {
                    s.rec = rec;
                }
                if let Some(r) = rec {
                    self.listen(host, p, r, addr, port, backlog);
                }
                Ok(None)
            }
            OpKind::Accept { listener } => {
                let lrec = self
                    .slots
                    .get(&(host, listener.clone()))
                    .and_then(|s| s.rec)
                    .filter(|&r| self.tracker.recs.get(r).is_some_and(|r| r.open));
                match lrec {
                    Some(l) => {
                        self.waiters.entry(l).or_default().push_back(key.clone());
                        Ok(Some(Block::Accept { listener: l }))
                    }
                    None => {
                        self.warn(
                            op.span,
                            format!(
                                "accept {listener}: `{listener}` is not a listening socket (its listen failed or it was closed)"
                            ),
                        );
                        Ok(None)
                    }
                }
            }
            OpKind::Write(bytes) => match self.open_fd(key, &op) {
                Some((p, fd)) => self
                    .sim
                    .send(p, Some(fd), bytes)
                    .map(|()| Some(Block::Write)),
                None => Ok(None),
            },
            OpKind::Read(on) => match self.open_fd(key, &op) {
                Some((p, fd)) => self.sim.set_read(p, Some(fd), on).map(|()| None),
                None => Ok(None),
            },
            OpKind::Shutdown(how) => match self.open_fd(key, &op) {
                Some((p, fd)) => self.sim.shutdown(p, Some(fd), how).map(|()| None),
                None => Ok(None),
            },
            OpKind::Close => match self.open_fd(key, &op) {
                Some((p, fd)) => self
                    .sim
                    .close_waiting(p, Some(fd))
                    .map(|returned| (!returned).then_some(Block::Close { proc: p, fd })),
                None => Ok(None),
            },
            OpKind::SetOpt(opt) => match self.open_fd(key, &op) {
                Some((p, fd)) => self.sim.setsockopt(p, Some(fd), opt).map(|()| None),
                None => Ok(None),
            },
        };
        match result {
            Ok(b) => b,
            // A failed system call is on the timeline with its errno already.
            Err(SimError::Syscall { .. }) => None,
            Err(e) => {
                self.warn(op.span, format!("{} {}: {e}", op.kind.name(), key.1));
                None
            }
        }
    }

    pub(super) fn connect(
        &mut self,
        host: usize,
        p: ProcId,
        rec: usize,
        dst: SocketAddr,
    ) -> Option<Block> {
        let fd = Fd(self.tracker.recs[rec].fd);
        let now = self.sim.now();
        let res = self.sim.hosts[host].stack.connect(now, fd, dst);
        self.record_call(host, p, "connect", format!("{fd}, {dst}"), res.map(|()| 0));
        let ok = matches!(res, Ok(()) | Err(Errno::EINPROGRESS));
        if let Some(s) = self.sim.procs[p.0].socks.get_mut(&fd) {
            if ok {
                s.peer = Some(dst);
                s.connected = res.is_ok();
                s.connecting = res.is_err();
            } else {
                s.error = res.err();
            }
        }
        if ok {
            self.sim.procs[p.0].current = Some(fd);
        }
        self.sim.drain(HostId(host));
        (res == Err(Errno::EINPROGRESS)).then_some(Block::Connect)
    }

    pub(super) fn listen(
        &mut self,
        host: usize,
        p: ProcId,
        rec: usize,
        addr: Option<IpAddr>,
        port: u16,
        backlog: Option<u32>,
    ) {
        let fd = Fd(self.tracker.recs[rec].fd);
        let any = if self.sc.hosts[host].addr.is_ipv6() {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        };
        let local = SocketAddr::new(addr.unwrap_or(any), port);
        let res = self.sim.hosts[host].stack.bind(fd, local);
        self.record_call(host, p, "bind", format!("{fd}, {local}"), res.map(|()| 0));
        if res.is_err() {
            self.sim.drain(HostId(host));
            return;
        }
        let backlog = backlog.map_or(128, |b| i32::try_from(b).unwrap_or(i32::MAX));
        let res = self.sim.hosts[host].stack.listen(fd, backlog);
        self.record_call(
            host,
            p,
            "listen",
            format!("{fd}, {backlog}"),
            res.map(|()| 0),
        );
        if res.is_ok()
            && let Some(s) = self.sim.procs[p.0].socks.get_mut(&fd)
        {
            s.listener = true;
        }
        self.sim.drain(HostId(host));
    }

    pub(super) fn enqueue(&mut self, host: usize, sock: &str, op: Op) {
        self.slots
            .entry((host, sock.to_string()))
            .or_default()
            .queue
            .push_back(op);
    }

    pub(super) fn repeat_write(&mut self, r: Repeat) {
        self.enqueue(
            r.host,
            &r.sock,
            Op {
                span: r.span,
                kind: OpKind::Write(r.bytes),
            },
        );
        if r.left > 0 {
            let at = self.sim.now() + r.every;
            if at <= self.end && !r.every.is_zero() {
                self.repeat_seq += 1;
                self.repeats.insert(
                    (at, self.repeat_seq),
                    Repeat {
                        left: r.left - 1,
                        ..r
                    },
                );
            }
        }
        self.settle();
    }

    pub(super) fn host_command(&mut self, host: usize, cmd: &HostCommand) -> Result<(), RunError> {
        let name = self.host_name(host);
        match cmd {
            HostCommand::Sysctl(Sysctl::Write { assignments, .. }) => {
                for a in assignments {
                    if let Err(e) = self.sim.sysctl_w(name, &a.key, &a.value) {
                        self.warnings.push(RunWarning {
                            span: a.span,
                            message: e.to_string(),
                        });
                    }
                }
            }
            HostCommand::Sysctl(Sysctl::Load { file, span }) => {
                let path = self.opts.base_dir.join(&file.text);
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    self.error(
                        Some(file.span),
                        format!(
                            "sysctl -p: cannot read {}: {e}; expected a sysctl.conf file relative to the script's directory",
                            path.display()
                        ),
                    )
                })?;
                let res = match self.sim.stack_mut(name) {
                    Ok(stack) => stack
                        .sysctls_mut()
                        .apply_conf(&text, &file.text)
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                let now = self.sim.now();
                self.sim.timeline_mut().push(
                    now,
                    EventKind::Command {
                        host: name.to_string(),
                        command: format!("sysctl -p {}", file.text),
                        error: res.as_ref().err().cloned(),
                    },
                );
                if let Err(message) = res {
                    self.warnings.push(RunWarning {
                        span: *span,
                        message,
                    });
                }
            }
            HostCommand::Sysctl(Sysctl::Show { keys, .. }) => {
                let mut output = String::new();
                let stack = self.sim.stack(name).ok();
                for k in keys {
                    let key = k.text.replace('/', ".");
                    match stack.and_then(|s| s.sysctls().get(&key)) {
                        Some(v) => output.push_str(&format!("{key} = {v}\n")),
                        None => output.push_str(&format!(
                            "sysctl: cannot stat /proc/sys/{}: No such file or directory\n",
                            key.replace('.', "/")
                        )),
                    }
                }
                let words: Vec<&str> = keys.iter().map(|k| k.text.as_str()).collect();
                let now = self.sim.now();
                self.sim.timeline_mut().push(
                    now,
                    EventKind::Snapshot {
                        host: name.to_string(),
                        command: format!("sysctl {}", words.join(" ")),
                        output,
                    },
                );
            }
            HostCommand::Nc(nc) => {
                let before = self.sim.processes().len();
                let res = match &nc.mode {
                    NcMode::Listen { port, .. } => self.sim.nc_listen(name, *port).map(|_| ()),
                    NcMode::Connect { to } => self
                        .sim
                        .nc_connect(name, SocketAddr::new(to.addr, to.port))
                        .map(|_| ()),
                };
                if self.sim.processes().len() > before
                    && let Some(job) = nc.job
                {
                    self.jobs.insert((host, job), Job::Proc(ProcId(before)));
                }
                match res {
                    Ok(()) | Err(SimError::Syscall { .. }) => {}
                    Err(e) => self.warn(nc.span, format!("nc: {e}")),
                }
                self.tracker.sync(&self.sim);
            }
            HostCommand::Kill(k) => {
                let target = match k.target {
                    KillTarget::Job(n) => match self.jobs.get(&(host, n)) {
                        Some(Job::Proc(p)) => Some(*p),
                        Some(Job::Tcpdump(c)) => {
                            let now = self.sim.now();
                            if let Some(c) = self.captures.get_mut(*c) {
                                c.stop.get_or_insert(now);
                            }
                            self.sim.timeline_mut().push(
                                now,
                                EventKind::Command {
                                    host: name.to_string(),
                                    command: format!("kill %{n}"),
                                    error: None,
                                },
                            );
                            return Ok(());
                        }
                        None => {
                            self.warn(k.span, format!("kill: %{n}: no such job"));
                            return Ok(());
                        }
                    },
                    KillTarget::Pid(pid) => {
                        let h = HostId(host);
                        let found = self
                            .sim
                            .processes()
                            .iter()
                            .position(|p| p.host == h && p.pid == pid && p.alive);
                        match found {
                            Some(i) => Some(ProcId(i)),
                            None => {
                                self.warn(k.span, format!("kill: ({pid}) - No such process"));
                                return Ok(());
                            }
                        }
                    }
                };
                if let Some(p) = target
                    && let Err(e) = self.sim.kill(p)
                {
                    let message = match e {
                        SimError::Exited { .. } => match k.target {
                            KillTarget::Job(n) => format!("kill: %{n}: the job has finished"),
                            KillTarget::Pid(pid) => format!("kill: ({pid}) - No such process"),
                        },
                        e => format!("kill: {e}"),
                    };
                    self.warn(k.span, message);
                }
            }
            HostCommand::Iptables(ipt) => {
                let args: Vec<&str> = ipt.args.iter().map(|w| w.text.as_str()).collect();
                if let Err(e) = self.sim.iptables(name, &args) {
                    self.warnings.push(RunWarning {
                        span: ipt.span,
                        message: e.to_string(),
                    });
                }
            }
            HostCommand::Snapshot(snap) => {
                let args: Vec<&str> = snap.args.iter().map(|w| w.text.as_str()).collect();
                let tool = tool_of(snap.tool);
                let command = command_line(tool, &args, &snap.greps);
                let now = self.sim.now();
                match self.sim.tool_output(name, tool, &args) {
                    Ok(out) => {
                        let output = grep_all(&out, &snap.greps);
                        self.sim.timeline_mut().push(
                            now,
                            EventKind::Snapshot {
                                host: name.to_string(),
                                command,
                                output,
                            },
                        );
                    }
                    Err(e) => {
                        self.sim.timeline_mut().push(
                            now,
                            EventKind::Command {
                                host: name.to_string(),
                                command,
                                error: Some(e.to_string()),
                            },
                        );
                        self.warnings.push(RunWarning {
                            span: snap.span,
                            message: e.to_string(),
                        });
                    }
                }
            }
            HostCommand::Tcpdump(td) => {
                let now = self.sim.now();
                self.sim.timeline_mut().push(
                    now,
                    EventKind::Command {
                        host: name.to_string(),
                        command: td.command_line(),
                        error: None,
                    },
                );
                if !td.filter.is_empty() {
                    self.warnings.push(RunWarning {
                        span: td.span,
                        message: "tcpdump: filter expressions are not applied yet: every packet of the host is captured".into(),
                    });
                }
                if let Some(f) = &td.file {
                    let _ = self.sim.start_capture(name);
                    self.captures.push(Capture {
                        host,
                        path: PathBuf::from(&f.text),
                        start: now,
                        stop: None,
                        span: f.span,
                    });
                    if let Some(job) = td.job {
                        self.jobs
                            .insert((host, job), Job::Tcpdump(self.captures.len() - 1));
                    }
                }
            }
            HostCommand::Socket { sock, span } => {
                self.enqueue(
                    host,
                    &sock.name,
                    Op {
                        span: *span,
                        kind: OpKind::Socket,
                    },
                );
            }
            HostCommand::Connect { sock, to, span } => {
                self.enqueue(
                    host,
                    &sock.name,
                    Op {
                        span: *span,
                        kind: OpKind::Connect(SocketAddr::new(to.addr, to.port)),
                    },
                );
            }
            HostCommand::Listen {
                sock,
                addr,
                port,
                backlog,
                span,
            } => {
                self.enqueue(
                    host,
                    &sock.name,
                    Op {
                        span: *span,
                        kind: OpKind::Listen {
                            addr: *addr,
                            port: *port,
                            backlog: *backlog,
                        },
                    },
                );
            }
            HostCommand::Accept {
                listener,
                sock,
                span,
            } => {
                self.enqueue(
                    host,
                    &sock.name,
                    Op {
                        span: *span,
                        kind: OpKind::Accept {
                            listener: listener.name.clone(),
                        },
                    },
                );
            }
            HostCommand::Write {
                sock,
                bytes,
                repeat,
                span,
            } => {
                let (left, every) = crate::scenario::Repeat::later(repeat.as_ref());
                self.repeat_write(Repeat {
                    host,
                    sock: sock.name.clone(),
                    span: *span,
                    bytes: *bytes,
                    left,
                    every,
                });
            }
            HostCommand::Read { sock, span } => {
                self.enqueue(
                    host,
                    &sock.name,
                    Op {
                        span: *span,
                        kind: OpKind::Read(true),
                    },
                );
            }
            HostCommand::NoRead { sock, span } => {
                self.enqueue(
                    host,
                    &sock.name,
                    Op {
                        span: *span,
                        kind: OpKind::Read(false),
                    },
                );
            }
            HostCommand::Shutdown { sock, how, span } => {
                self.enqueue(
                    host,
                    &sock.name,
                    Op {
                        span: *span,
                        kind: OpKind::Shutdown(*how),
                    },
                );
            }
            HostCommand::Close { sock, span } => {
                self.enqueue(
                    host,
                    &sock.name,
                    Op {
                        span: *span,
                        kind: OpKind::Close,
                    },
                );
            }
            HostCommand::Setsockopt { sock, opt, span } => {
                self.enqueue(
                    host,
                    &sock.name,
                    Op {
                        span: *span,
                        kind: OpKind::SetOpt(*opt),
                    },
                );
            }
        }
        Ok(())
    }
}

pub(super) fn tool_of(t: SnapshotTool) -> Tool {
    match t {
        SnapshotTool::Ss => Tool::Ss,
        SnapshotTool::Netstat => Tool::Netstat,
    }
}

/// Quotes a word as a shell would need it.
pub(super) fn shell_word(w: &str) -> String {
    if !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/%+=,@".contains(c))
    {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}

/// The shell line of a snapshot: `ss -tan | grep -v 'a b'`.
pub fn command_line(tool: Tool, args: &[&str], greps: &[Grep]) -> String {
    let mut s = tool.name().to_string();
    for a in args {
        s.push(' ');
        s.push_str(&shell_word(a));
    }
    for g in greps {
        s.push_str(" | grep");
        if g.invert {
            s.push_str(" -v");
        }
        if g.ignore_case {
            s.push_str(" -i");
        }
        s.push(' ');
        s.push_str(&shell_word(&g.pattern));
    }
    s
}

/// The lines of `text` that pass every grep, each ending in a newline.
pub fn grep_all(text: &str, greps: &[Grep]) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let keep = greps.iter().all(|g| {
            let hit = if g.ignore_case {
                line.to_lowercase().contains(&g.pattern.to_lowercase())
            } else {
                line.contains(&g.pattern)
            };
            hit != g.invert
        });
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}
