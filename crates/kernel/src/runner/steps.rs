//! The steps in real time: host commands (real tools in the host's namespace, socket calls
//! on the host's thread) and the assertions checked at their time.

use std::net::SocketAddr;
use std::time::Duration;

use tcplab_sim::run::{
    command_line, errno_expected, errno_verdict, grep_all, output_expected, output_verdict,
    state_expected, state_verdict,
};
use tcplab_sim::scenario::{HostCommand, NcMode, Snapshot, SnapshotTool, SockRef, Sysctl};
use tcplab_stack::TcpState;

use super::*;
use crate::lab::in_ns;
use crate::worker::{OpKind, Req, Target};

/// Sleep slices, so that ctrl-c is seen promptly.
const SLICE: Duration = Duration::from_millis(20);
/// How long before a step's time the runner stops sleeping and spins.
const SPIN: Duration = Duration::from_millis(2);

fn tool_name(t: SnapshotTool) -> tcplab_sim::Tool {
    match t {
        SnapshotTool::Ss => tcplab_sim::Tool::Ss,
        SnapshotTool::Netstat => tcplab_sim::Tool::Netstat,
    }
}

/// A row of `ss -tan`: state, local, peer (`None` for `*`).
pub(crate) fn ss_rows(text: &str) -> Vec<(TcpState, String, String)> {
    let states = [
        TcpState::Established,
        TcpState::SynSent,
        TcpState::SynRecv,
        TcpState::FinWait1,
        TcpState::FinWait2,
        TcpState::TimeWait,
        TcpState::Close,
        TcpState::CloseWait,
        TcpState::LastAck,
        TcpState::Listen,
        TcpState::Closing,
    ];
    text.lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let st = match *w.first()? {
                "UNCONN" => TcpState::Close,
                name => *states.iter().find(|s| s.ss_name() == name)?,
            };
            Some((st, (*w.get(3)?).to_string(), (*w.get(4)?).to_string()))
        })
        .collect()
}

fn same_addr(text: &str, a: SocketAddr) -> bool {
    text.parse::<SocketAddr>().is_ok_and(|t| t == a)
        || text == format!("{}:{}", a.ip(), a.port())
        || text
            .strip_prefix("[::ffff:")
            .is_some_and(|r| r == format!("{}]:{}", a.ip(), a.port()))
}

impl<'a> Run<'a> {
    pub(crate) fn now(&self) -> Instant {
        to_instant(self.t0.elapsed())
    }

    fn push(&mut self, kind: EventKind) {
        let t = self.now();
        self.events.push((t, kind));
    }

    fn ns(&self, host: usize) -> String {
        self.lab.hosts[host].ns.clone()
    }

    fn worker(&mut self, host: usize, req: Req) -> Result<(), RunError> {
        let name = self.sc.hosts[host].name.clone();
        self.workers[host]
            .request(req)
            .map_err(|e| self.error(None, format!("host {name}: {e}")))
    }

    /// Sleeps until scenario time `t`; an error if ctrl-c came.
    fn sleep_until(&self, t: Duration) -> Result<(), RunError> {
        loop {
            if self.interrupted.load(Ordering::SeqCst) {
                return Err(self.error(None, "interrupted".into()));
            }
            let now = self.t0.elapsed();
            if now >= t {
                return Ok(());
            }
            let left = t - now;
            if left > SPIN {
                std::thread::sleep((left - SPIN).min(SLICE));
            } else {
                // The last stretch spins: a sleeping thread can wake a few ms late.
                std::thread::yield_now();
            }
        }
    }

    /// Walks the steps and repeats up to the end.
    pub(crate) fn run_steps(&mut self) -> Result<(), RunError> {
        let steps = &self.sc.steps;
        let mut next = 0;
        loop {
            let step_t = steps.get(next).map(|s| s.time);
            let rep_t = self.repeats.keys().next().map(|k| k.0);
            let target = match (step_t, rep_t) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => match a.or(b) {
                    Some(t) => t,
                    None => break,
                },
            };
            if target > self.end {
                break;
            }
            self.sleep_until(target)?;
            while let Some((&key, _)) = self.repeats.iter().next() {
                if key.0 > target {
                    break;
                }
                if let Some(r) = self.repeats.remove(&key) {
                    self.repeat_write(r, key.0)?;
                }
            }
            while let Some(step) = steps.get(next) {
                if step.time > target {
                    break;
                }
                next += 1;
                if self.opts.verbose {
                    eprintln!("[{}] {}", self.now(), step.text);
                }
                self.step(step)?;
            }
        }
        self.sleep_until(self.end)
    }

    fn repeat_write(&mut self, r: Repeat, at: Duration) -> Result<(), RunError> {
        self.worker(
            r.host,
            Req::Op {
                sock: r.sock.clone(),
                span: r.span,
                kind: OpKind::Write(r.bytes),
            },
        )?;
        if r.left > 0 && !r.every.is_zero() {
            let next = at + r.every;
            self.repeat_seq += 1;
            self.repeats.insert(
                (next, self.repeat_seq),
                Repeat {
                    left: r.left - 1,
                    ..r
                },
            );
        }
        Ok(())
    }

    fn step(&mut self, step: &'a Step) -> Result<(), RunError> {
        match &step.command {
            Command::Link(l) => self.apply_link(l).map_err(|e| self.error(Some(l.span), e)),
            Command::Expect(e) => {
                match e {
                    Expect::Packet { .. } | Expect::NoPacket { .. } => self.deferred.push(step),
                    _ => self.check_now(e)?,
                }
                Ok(())
            }
            Command::Host(h, cmd) => {
                self.host_command(h.index, step.time, cmd)?;
                let done = self.t0.elapsed();
                let last = self.acted.entry(step.time).or_insert(done);
                *last = (*last).max(done);
                Ok(())
            }
        }
    }

    /// Runs a tool on a host: on its thread where the thread takes it (a tcplab host's
    /// tools; a kernel host's `sysctl` reads and writes, straight through `/proc/sys`), else
    /// the real one in the host's namespace. (succeeded, stdout, stderr).
    fn tool(&mut self, host: usize, program: &str, args: &[&str]) -> (bool, String, String) {
        let argv = std::iter::once(program)
            .chain(args.iter().copied())
            .map(str::to_string)
            .collect();
        match self.workers[host].tool(argv) {
            Ok(Some(res)) => return res,
            Ok(None) => {}
            Err(e) => return (false, String::new(), e),
        }
        match in_ns(&self.ns(host), program, args).output() {
            Ok(o) => (
                o.status.success(),
                String::from_utf8_lossy(&o.stdout).into_owned(),
                String::from_utf8_lossy(&o.stderr).trim_end().to_string(),
            ),
            Err(e) => (false, String::new(), format!("cannot run {program}: {e}")),
        }
    }

    fn command(&mut self, host: usize, span: Span, line: String, program: &str, args: &[&str]) {
        let (ok, _, err) = self.tool(host, program, args);
        let error = (!ok).then(|| {
            if err.is_empty() {
                format!("{program} failed")
            } else {
                err
            }
        });
        self.push(EventKind::Command {
            host: self.sc.hosts[host].name.clone(),
            command: line,
            error: error.clone(),
        });
        if let Some(message) = error {
            self.warnings.push(RunWarning { span, message });
        }
    }

    fn host_command(
        &mut self,
        host: usize,
        at: Duration,
        cmd: &HostCommand,
    ) -> Result<(), RunError> {
        let name = self.sc.hosts[host].name.clone();
        let op = |sock: &str, span: Span, kind: OpKind| Req::Op {
            sock: sock.to_string(),
            span,
            kind,
        };
        match cmd {
            HostCommand::Sysctl(Sysctl::Write { assignments, .. }) => {
                for a in assignments {
                    let kv = format!("{}={}", a.key, a.value);
                    self.command(
                        host,
                        a.span,
                        format!("sysctl -w {kv}"),
                        "sysctl",
                        &["-w", &kv],
                    );
                }
            }
            HostCommand::Sysctl(Sysctl::Load { file, span }) => {
                let path = self.opts.base_dir.join(&file.text);
                if let Err(e) = std::fs::metadata(&path) {
                    return Err(self.error(
                        Some(file.span),
                        format!(
                            "sysctl -p: cannot read {}: {e}; expected a sysctl.conf file relative to the script's directory",
                            path.display()
                        ),
                    ));
                }
                let p = path.to_string_lossy().into_owned();
                self.command(
                    host,
                    *span,
                    format!("sysctl -p {}", file.text),
                    "sysctl",
                    &["-p", &p],
                );
            }
            HostCommand::Sysctl(Sysctl::Show { keys, .. }) => {
                let words: Vec<&str> = keys.iter().map(|k| k.text.as_str()).collect();
                let (_, out, err) = self.tool(host, "sysctl", &words);
                let mut output = out;
                if !err.is_empty() {
                    output.push_str(&err);
                    output.push('\n');
                }
                self.push(EventKind::Snapshot {
                    host: name,
                    command: format!("sysctl {}", words.join(" ")),
                    output,
                });
            }
            HostCommand::Nc(nc) => {
                let req = match &nc.mode {
                    NcMode::Listen { port, .. } => Req::NcListen {
                        port: *port,
                        job: nc.job,
                    },
                    NcMode::Connect { to } => Req::NcConnect {
                        to: SocketAddr::new(to.addr, to.port),
                        job: nc.job,
                    },
                };
                self.worker(host, req)?;
            }
            HostCommand::Kill(k) => {
                if let tcplab_sim::scenario::KillTarget::Job(n) = k.target
                    && let Some(&i) = self.dump_jobs.get(&(host, n))
                {
                    if let Some(c) = self.script_dumps.get_mut(i) {
                        c.dump.stop();
                        c.stopped = true;
                    }
                    self.push(EventKind::Command {
                        host: name,
                        command: format!("kill %{n}"),
                        error: None,
                    });
                    return Ok(());
                }
                self.worker(
                    host,
                    Req::Kill {
                        target: k.target,
                        span: k.span,
                    },
                )?;
            }
            HostCommand::Iptables(ipt) => {
                let args: Vec<&str> = ipt.args.iter().map(|w| w.text.as_str()).collect();
                let line = format!("iptables {}", args.join(" "));
                self.command(host, ipt.span, line, "iptables", &args);
            }
            HostCommand::Snapshot(snap) => {
                let (line, res) = self.snapshot(host, snap);
                match res {
                    Ok(output) => self.push(EventKind::Snapshot {
                        host: name,
                        command: line,
                        output,
                    }),
                    Err(e) => {
                        self.push(EventKind::Command {
                            host: name,
                            command: line,
                            error: Some(e.clone()),
                        });
                        self.warnings.push(RunWarning {
                            span: snap.span,
                            message: e,
                        });
                    }
                }
            }
            HostCommand::Tcpdump(td) => {
                let mut error = None;
                if let Some(f) = &td.file {
                    // A tcplab host has one interface, its TAP port, whatever `-i` names.
                    let iface = match &self.lab.hosts[host].tap {
                        Some(tap) => tap.as_str(),
                        None => td.interface.as_ref().map_or(IFACE, |i| i.text.as_str()),
                    };
                    let filter: Vec<String> = td.filter.iter().map(|w| w.text.clone()).collect();
                    let ns = self.ns(host);
                    match Tcpdump::start(&ns, iface, std::path::Path::new(&f.text), &filter) {
                        Ok(dump) => {
                            self.script_dumps.push(ScriptCapture {
                                dump,
                                stopped: false,
                            });
                            if let Some(job) = td.job {
                                self.dump_jobs
                                    .insert((host, job), self.script_dumps.len() - 1);
                            }
                        }
                        Err(e) => error = Some(e),
                    }
                }
                if let Some(e) = &error {
                    self.warnings.push(RunWarning {
                        span: td.span,
                        message: e.clone(),
                    });
                }
                self.push(EventKind::Command {
                    host: name,
                    command: td.command_line(),
                    error,
                });
            }
            HostCommand::Socket { sock, span } => {
                self.worker(host, op(&sock.name, *span, OpKind::Socket))?;
            }
            HostCommand::Connect { sock, to, span } => {
                let kind = OpKind::Connect(SocketAddr::new(to.addr, to.port));
                self.worker(host, op(&sock.name, *span, kind))?;
            }
            HostCommand::Listen {
                sock,
                addr,
                port,
                backlog,
                span,
            } => {
                let kind = OpKind::Listen {
                    addr: *addr,
                    port: *port,
                    backlog: *backlog,
                };
                self.worker(host, op(&sock.name, *span, kind))?;
            }
            HostCommand::Accept {
                listener,
                sock,
                span,
            } => {
                let kind = OpKind::Accept {
                    listener: listener.name.clone(),
                };
                self.worker(host, op(&sock.name, *span, kind))?;
            }
            HostCommand::Write {
                sock,
                bytes,
                repeat,
                span,
            } => {
                let (left, every) = tcplab_sim::scenario::Repeat::later(repeat.as_ref());
                self.repeat_write(
                    Repeat {
                        host,
                        sock: sock.name.clone(),
                        span: *span,
                        bytes: *bytes,
                        left,
                        every,
                    },
                    at,
                )?;
            }
            HostCommand::Read { sock, span } => {
                self.worker(host, op(&sock.name, *span, OpKind::Read(true)))?;
            }
            HostCommand::NoRead { sock, span } => {
                self.worker(host, op(&sock.name, *span, OpKind::Read(false)))?;
            }
            HostCommand::Shutdown { sock, how, span } => {
                self.worker(host, op(&sock.name, *span, OpKind::Shutdown(*how)))?;
            }
            HostCommand::Close { sock, span } => {
                self.worker(host, op(&sock.name, *span, OpKind::Close))?;
            }
            HostCommand::Setsockopt { sock, opt, span } => {
                self.worker(host, op(&sock.name, *span, OpKind::SetOpt(*opt)))?;
            }
        }
        Ok(())
    }

    /// The real tool's output after the script's greps, or why it failed.
    fn snapshot(&mut self, host: usize, snap: &Snapshot) -> (String, Result<String, String>) {
        let args: Vec<&str> = snap.args.iter().map(|w| w.text.as_str()).collect();
        let tool = tool_name(snap.tool);
        let line = command_line(tool, &args, &snap.greps);
        let (ok, out, err) = self.tool(host, tool.name(), &args);
        if !ok {
            let e = if err.is_empty() {
                format!("{} failed", tool.name())
            } else {
                err
            };
            return (line, Err(e));
        }
        (line, Ok(grep_all(&out, &snap.greps)))
    }

    fn check_now(&mut self, e: &Expect) -> Result<(), RunError> {
        let now = self.now();
        let result = match e {
            Expect::State {
                host,
                sock,
                state,
                span,
            } => {
                let expected = state_expected(sock, &host.name, state, now);
                let (passed, seen) = match self.lookup(host.index, sock)? {
                    Err(why) => (false, why),
                    Ok(view) => {
                        let (_, table, _) = self.tool(host.index, "ss", &["-tan"]);
                        let row = ss_rows(&table).into_iter().find(|(_, l, p)| {
                            view.local.is_some_and(|a| same_addr(l, a))
                                && match view.peer {
                                    Some(peer) => same_addr(p, peer),
                                    None => p.ends_with(":*"),
                                }
                        });
                        let row = row.map(|(st, l, p)| {
                            let where_ = if p.ends_with(":*") {
                                l
                            } else {
                                format!("{l} > {p}")
                            };
                            (st, where_)
                        });
                        let tuple = match (view.local, view.peer) {
                            (Some(l), Some(p)) => format!("{l} > {p}"),
                            (Some(l), None) => l.to_string(),
                            _ => "no address".into(),
                        };
                        state_verdict(row, state, &tuple)
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
                let (passed, seen) = match self.lookup(host.index, sock)? {
                    Err(why) => (false, why),
                    Ok(view) => errno_verdict(view.last_err, *errno, at.as_ref()),
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
                let (line, res) = self.snapshot(host.index, snapshot);
                let expected = output_expected(&line, &host.name, *negate, now);
                let (passed, seen) = output_verdict(res, *negate);
                AssertionResult {
                    span: *span,
                    passed,
                    expected,
                    seen,
                }
            }
            Expect::Packet { .. } | Expect::NoPacket { .. } => return Ok(()),
        };
        self.results.push(result);
        Ok(())
    }

    fn lookup(
        &mut self,
        host: usize,
        sock: &SockRef,
    ) -> Result<Result<crate::worker::RecView, String>, RunError> {
        let t = match sock {
            SockRef::Named(n) => Target::Named(n.name.clone()),
            SockRef::Job { job, .. } => Target::Job(*job),
        };
        let name = self.sc.hosts[host].name.clone();
        self.workers[host]
            .lookup(t)
            .map_err(|e| self.error(None, format!("host {name}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ss_rows_parse() {
        let t = "State     Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n\
                 LISTEN    0      1            0.0.0.0:1234      0.0.0.0:*\n\
                 FIN-WAIT-1 0     1          10.77.0.1:5000    10.77.0.2:1234\n\
                 ESTAB     0      0     [fd00::1]:80   [fd00::2]:4000\n";
        let rows = ss_rows(t);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].0, TcpState::Listen);
        assert_eq!(rows[1].0, TcpState::FinWait1);
        assert!(same_addr(&rows[1].1, "10.77.0.1:5000".parse().unwrap()));
        assert!(same_addr(&rows[2].2, "[fd00::2]:4000".parse().unwrap()));
    }
}
