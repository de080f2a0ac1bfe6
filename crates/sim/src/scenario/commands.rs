//! The commands after `HOST:`: the real tools' syntax, and the socket program.

use std::net::IpAddr;

use super::ast::*;
use super::lexer::{Tok, Token};
use super::parser::{Cur, Job, PResult, Parser, SockInfo, SockKind};
use super::units::{self, UnitError};

/// Every command a host line can start with, for "unknown command" messages.
pub(crate) const HOST_COMMANDS: &[&str] = &[
    "sysctl",
    "nc",
    "kill",
    "iptables",
    "ss",
    "netstat",
    "tcpdump",
    "socket",
    "connect",
    "listen",
    "accept",
    "write",
    "read",
    "noread",
    "shutdown",
    "close",
    "setsockopt",
    "hz",
];

/// The socket options `setsockopt` knows.
pub(crate) const SOCKOPTS: &[&str] = &[
    "SO_KEEPALIVE",
    "SO_LINGER",
    "SO_RCVBUF",
    "SO_SNDBUF",
    "SO_REUSEADDR",
    "TCP_NODELAY",
    "TCP_QUICKACK",
    "TCP_KEEPIDLE",
    "TCP_KEEPINTVL",
    "TCP_KEEPCNT",
    "TCP_USER_TIMEOUT",
    "TCP_LINGER2",
    "TCP_SYNCNT",
    "TCP_MAXSEG",
];

impl Parser {
    pub(crate) fn host_command(
        &mut self,
        cur: &mut Cur<'_>,
        host: &HostRef,
    ) -> PResult<HostCommand> {
        let (mut c, amp) = cur.take_trailing_amp();
        let cur = &mut c;
        let prefix = format!("{}:", host.name);
        let Some((cmd, span)) = cur.word() else {
            return Err(self.err(
                cur.here(),
                format!(
                    "expected a command after `{prefix}` ({}), found {}",
                    HOST_COMMANDS.join(", "),
                    cur.found()
                ),
            ));
        };
        if let Some(amp) = amp
            && cmd != "nc"
            && cmd != "tcpdump"
        {
            return Err(self.err(
                amp,
                format!(
                    "expected the end of the line after `{cmd} …`, found `&`: only `nc` and \
                     `tcpdump` run as background jobs"
                ),
            ));
        }
        match cmd {
            "sysctl" => self.sysctl(cur, span).map(HostCommand::Sysctl),
            "nc" => self.nc(cur, host, span, amp.is_some()).map(HostCommand::Nc),
            "kill" => self.kill(cur, host, span).map(HostCommand::Kill),
            "iptables" => {
                let args = cur.words();
                if args.is_empty() {
                    return Err(self.expected(cur, "iptables arguments", "iptables"));
                }
                self.end(cur, "iptables …")?;
                Ok(HostCommand::Iptables(Iptables { args, span }))
            }
            "ss" | "netstat" => {
                let s = self.snapshot(cur, cmd, span)?;
                Ok(HostCommand::Snapshot(s))
            }
            "tcpdump" => self
                .tcpdump(cur, host, span, amp.is_some())
                .map(HostCommand::Tcpdump),
            "socket" => {
                let sock = self.sock_name(cur, "socket")?;
                self.end(cur, &format!("socket {}", sock.name))?;
                self.new_sock(host, &sock, SockKind::Fresh)?;
                Ok(HostCommand::Socket { sock, span })
            }
            "connect" => {
                let to = self.endpoint(cur, "connect")?;
                let sock = self.as_name(cur, &format!("connect {}", show_endpoint(&to)))?;
                self.end(cur, &format!("as {}", sock.name))?;
                self.new_sock(host, &sock, SockKind::Connected)?;
                Ok(HostCommand::Connect { sock, to, span })
            }
            "listen" => self.listen(cur, host, span),
            "accept" => {
                let listener = self.sock_name(cur, "accept")?;
                self.use_sock(host, &listener)?;
                let kind = self.sock_kind(host, &listener);
                if kind != Some(SockKind::Listener) {
                    return Err(self.err(
                        listener.span,
                        format!(
                            "expected a listening socket after `accept`, but `{}` was not \
                             created by `listen … as {}`",
                            listener.name, listener.name
                        ),
                    ));
                }
                let sock = self.as_name(cur, &format!("accept {}", listener.name))?;
                self.end(cur, &format!("as {}", sock.name))?;
                self.new_sock(host, &sock, SockKind::Accepted)?;
                Ok(HostCommand::Accept {
                    listener,
                    sock,
                    span,
                })
            }
            "write" => self.write(cur, host, span),
            "read" | "noread" | "close" => {
                let sock = self.sock_name(cur, cmd)?;
                self.use_sock(host, &sock)?;
                self.end(cur, &format!("{cmd} {}", sock.name))?;
                Ok(match cmd {
                    "read" => HostCommand::Read { sock, span },
                    "noread" => HostCommand::NoRead { sock, span },
                    _ => HostCommand::Close { sock, span },
                })
            }
            "shutdown" => {
                let sock = self.sock_name(cur, "shutdown")?;
                self.use_sock(host, &sock)?;
                let after = format!("shutdown {}", sock.name);
                let how = match cur.peek_word() {
                    Some("rd") => Shutdown::Read,
                    Some("wr") => Shutdown::Write,
                    Some("rdwr") => Shutdown::Both,
                    _ => return Err(self.expected(cur, "`rd`, `wr` or `rdwr`", &after)),
                };
                cur.next();
                self.end(cur, &after)?;
                Ok(HostCommand::Shutdown { sock, how, span })
            }
            "setsockopt" => self.setsockopt(cur, host, span),
            "hz" => Err(self.err(
                span,
                "`hz` is a declaration for the whole run and takes no `at` time",
            )),
            _ => Err(self.err(
                span,
                format!(
                    "unknown command {cmd:?} after `{prefix}`; expected one of {}",
                    HOST_COMMANDS.join(", ")
                ),
            )),
        }
    }

    fn sysctl(&mut self, cur: &mut Cur<'_>, span: Span) -> PResult<Sysctl> {
        if cur.eat("-w").is_some() {
            let mut assignments = Vec::new();
            while let Some((w, wspan)) = cur.word() {
                let Some((k, v)) = w.split_once('=') else {
                    return Err(self.err(
                        wspan,
                        format!("expected KEY=VALUE after `sysctl -w`, found {w:?}"),
                    ));
                };
                let key = self.sysctl_key(k, w, wspan, "sysctl -w")?;
                assignments.push(SysctlAssign {
                    key,
                    value: v.to_string(),
                    span: wspan,
                });
            }
            if assignments.is_empty() {
                return Err(self.expected(cur, "KEY=VALUE", "sysctl -w"));
            }
            self.end(cur, "sysctl -w …")?;
            return Ok(Sysctl::Write { assignments, span });
        }
        if cur.eat("-p").is_some() {
            let Some((f, fspan)) = cur.word() else {
                return Err(self.expected(cur, "a sysctl.conf file", "sysctl -p"));
            };
            self.end(cur, &format!("sysctl -p {f}"))?;
            return Ok(Sysctl::Load {
                file: Word {
                    text: f.to_string(),
                    span: fspan,
                },
                span,
            });
        }
        if let Some(w) = cur.peek_word()
            && w.starts_with('-')
        {
            return Err(self.err(
                cur.here(),
                format!("unknown sysctl option {w:?}; expected -w KEY=VALUE, -p FILE or KEY"),
            ));
        }
        let mut keys = Vec::new();
        while let Some((w, wspan)) = cur.word() {
            let text = self.sysctl_key(w, w, wspan, "sysctl")?;
            keys.push(Word { text, span: wspan });
        }
        if keys.is_empty() {
            return Err(self.expected(cur, "`-w KEY=VALUE`, `-p FILE` or KEY", "sysctl"));
        }
        self.end(cur, "sysctl …")?;
        Ok(Sysctl::Show { keys, span })
    }

    /// A sysctl name, `net.ipv4.tcp_fin_timeout` or `net/ipv4/tcp_fin_timeout`, with dots.
    fn sysctl_key(&self, k: &str, whole: &str, span: Span, after: &str) -> PResult<String> {
        let ok = !k.is_empty()
            && k.split(['.', '/']).all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            });
        if !ok {
            return Err(self.err(
                span,
                format!(
                    "expected a sysctl name such as `net.ipv4.tcp_fin_timeout` after `{after}`, \
                     found {whole:?}"
                ),
            ));
        }
        Ok(k.replace('/', "."))
    }

    fn nc(&mut self, cur: &mut Cur<'_>, host: &HostRef, span: Span, bg: bool) -> PResult<Nc> {
        let mut listen = false;
        let mut port: Option<(u16, Span)> = None;
        let mut after = String::from("nc");
        while let Some(w) = cur.peek_word() {
            let Some(flags) = w.strip_prefix('-') else {
                break;
            };
            let wspan = cur.here();
            cur.next();
            if flags.is_empty() {
                return Err(self.err(wspan, "unknown nc option \"-\"; expected -l, -p, -n or -v"));
            }
            let mut chars = flags.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    'l' => listen = true,
                    'n' | 'v' => {}
                    'p' if chars.peek().is_none() => {
                        let a = format!("{after} {w}");
                        port = Some(self.port(cur, &a)?);
                    }
                    _ => {
                        return Err(self.err(
                            wspan,
                            format!("unknown nc option {w:?}; expected -l, -p PORT, -n or -v"),
                        ));
                    }
                }
            }
            after = format!("{after} {w}");
        }
        let mode = if listen {
            let (port, pspan) = match port {
                Some(p) => p,
                None => self.port(cur, &after)?,
            };
            NcMode::Listen { port, span: pspan }
        } else {
            if let Some((_, pspan)) = port {
                return Err(self.err(
                    pspan,
                    "`-p` sets the port to listen on; expected `nc -l -p PORT` or `nc ADDR PORT`",
                ));
            }
            let Some((a, aspan)) = cur.word() else {
                return Err(self.expected(cur, "an address or a host name", &after));
            };
            let (addr, host_ref) = self.address(a, aspan, &after)?;
            let (port, _) = self.port(cur, &format!("{after} {a}"))?;
            NcMode::Connect {
                to: Endpoint {
                    addr,
                    port,
                    host: host_ref,
                    span: aspan,
                },
            }
        };
        self.end(cur, "nc …")?;
        let job = bg.then(|| self.start_job(host, "nc", span));
        Ok(Nc { mode, job, span })
    }

    fn start_job(&mut self, host: &HostRef, tool: &'static str, span: Span) -> u32 {
        let jobs = &mut self.jobs[host.index];
        jobs.push(Job {
            tool,
            line: span.line,
        });
        u32::try_from(jobs.len()).unwrap_or(u32::MAX)
    }

    /// `%N` naming a job started earlier on `host`.
    pub(crate) fn job_ref(&self, w: &str, span: Span, host: &HostRef) -> PResult<(u32, &Job)> {
        let n = w
            .strip_prefix('%')
            .and_then(units::integer)
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n >= 1)
            .ok_or_else(|| self.err(span, format!("expected a job such as `%1`, found {w:?}")))?;
        let jobs = &self.jobs[host.index];
        match jobs.get(n as usize - 1) {
            Some(job) => Ok((n, job)),
            None => {
                let started = if jobs.is_empty() {
                    format!("no job has been started on `{}` with `&`", host.name)
                } else {
                    let list: Vec<String> = jobs
                        .iter()
                        .enumerate()
                        .map(|(i, j)| format!("%{} ({}, line {})", i + 1, j.tool, j.line))
                        .collect();
                    format!("jobs on `{}`: {}", host.name, list.join(", "))
                };
                Err(self.err(span, format!("no job %{n} on `{}`; {started}", host.name)))
            }
        }
    }

    fn kill(&mut self, cur: &mut Cur<'_>, host: &HostRef, span: Span) -> PResult<Kill> {
        let mut signal = Signal::Term;
        let mut after = "kill".to_string();
        if let Some(w) = cur.peek_word()
            && let Some(sig) = w.strip_prefix('-')
        {
            let sspan = cur.here();
            cur.next();
            let name = sig.strip_prefix("SIG").unwrap_or(sig);
            signal = match name {
                "HUP" | "1" => Signal::Hup,
                "INT" | "2" => Signal::Int,
                "KILL" | "9" => Signal::Kill,
                "TERM" | "15" => Signal::Term,
                _ => {
                    return Err(self.err(
                        sspan,
                        format!(
                            "unknown signal {w:?}; expected -INT, -TERM, -KILL, -HUP (or -2, \
                             -15, -9, -1)"
                        ),
                    ));
                }
            };
            after = format!("kill {w}");
        }
        let Some((t, tspan)) = cur.word() else {
            return Err(self.expected(cur, "a job such as `%1` or a process id", &after));
        };
        let target = if t.starts_with('%') {
            KillTarget::Job(self.job_ref(t, tspan, host)?.0)
        } else {
            match units::integer(t).and_then(|n| u32::try_from(n).ok()) {
                Some(pid) => KillTarget::Pid(pid),
                None => {
                    return Err(self.err(
                        tspan,
                        format!(
                            "expected a job such as `%1` or a process id after `{after}`, found {t:?}"
                        ),
                    ));
                }
            }
        };
        self.end(cur, &format!("{after} {t}"))?;
        Ok(Kill {
            signal,
            target,
            span,
        })
    }

    /// `ss …` / `netstat …` with its greps; `cur` is after the tool's name.
    pub(crate) fn snapshot(&self, cur: &mut Cur<'_>, tool: &str, span: Span) -> PResult<Snapshot> {
        let tool_kind = if tool == "ss" {
            SnapshotTool::Ss
        } else {
            SnapshotTool::Netstat
        };
        let args = cur.words();
        let mut greps = Vec::new();
        while let Some(Token { tok: Tok::Pipe, .. }) = cur.peek() {
            cur.next();
            let Some(gspan) = cur.eat("grep") else {
                return Err(self.expected(cur, "`grep`", "|"));
            };
            let (mut invert, mut ignore_case) = (false, false);
            let mut after = "grep".to_string();
            let pattern = loop {
                let Some((w, wspan)) = cur.word() else {
                    return Err(self.expected(cur, "a pattern", &after));
                };
                match w {
                    "-v" => invert = true,
                    "-i" => ignore_case = true,
                    "-F" => {}
                    "-vi" | "-iv" => (invert, ignore_case) = (true, true),
                    _ if w.starts_with('-') && w.len() > 1 => {
                        return Err(self.err(
                            wspan,
                            format!("unknown grep option {w:?}; expected -v, -i or -F"),
                        ));
                    }
                    _ => break w.to_string(),
                }
                after = format!("{after} {w}");
            };
            greps.push(Grep {
                invert,
                ignore_case,
                pattern,
                span: gspan,
            });
            if !cur.at_end() && !matches!(cur.peek(), Some(Token { tok: Tok::Pipe, .. })) {
                return Err(self.expected(cur, "`|` or the end of the line", "grep PATTERN"));
            }
        }
        self.end(cur, &format!("{tool} …"))?;
        Ok(Snapshot {
            tool: tool_kind,
            args,
            greps,
            span,
        })
    }

    fn tcpdump(
        &mut self,
        cur: &mut Cur<'_>,
        host: &HostRef,
        span: Span,
        bg: bool,
    ) -> PResult<Tcpdump> {
        let mut file = None;
        let mut interface = None;
        let mut numeric = false;
        while let Some(w) = cur.peek_word() {
            if !w.starts_with('-') {
                break;
            }
            let wspan = cur.here();
            cur.next();
            match w {
                "-w" | "-i" => {
                    let after = format!("tcpdump {w}");
                    let what = if w == "-w" {
                        "a file name"
                    } else {
                        "an interface"
                    };
                    let Some((v, vspan)) = cur.word() else {
                        return Err(self.expected(cur, what, &after));
                    };
                    let word = Some(Word {
                        text: v.to_string(),
                        span: vspan,
                    });
                    if w == "-w" {
                        file = word;
                    } else {
                        interface = word;
                    }
                }
                "-n" | "-nn" => numeric = true,
                _ => {
                    return Err(self.err(
                        wspan,
                        format!(
                            "unknown tcpdump option {w:?}; expected -w FILE, -i INTERFACE or -n"
                        ),
                    ));
                }
            }
        }
        let filter = cur.words();
        self.end(cur, "tcpdump …")?;
        let job = bg.then(|| self.start_job(host, "tcpdump", span));
        Ok(Tcpdump {
            file,
            interface,
            numeric,
            filter,
            job,
            span,
        })
    }

    fn listen(&mut self, cur: &mut Cur<'_>, host: &HostRef, span: Span) -> PResult<HostCommand> {
        let what = "a port or ADDR:PORT";
        let Some((w, wspan)) = cur.word() else {
            return Err(self.expected(cur, what, "listen"));
        };
        let (addr, port) = if let Some(port) = parse_port(w) {
            (None, port)
        } else if w.contains(':') {
            let ep = self.endpoint_text(w, wspan, "listen")?;
            (Some(ep.addr), ep.port)
        } else {
            return Err(self.err(
                wspan,
                format!("expected {what} (port 1-65535) after `listen`, found {w:?}"),
            ));
        };
        let sock = self.as_name(cur, &format!("listen {w}"))?;
        let mut backlog = None;
        if cur.eat("backlog").is_some() {
            backlog = Some(self.uint(cur, "a number", "backlog", u64::from(u32::MAX))? as u32);
        }
        self.end(cur, "listen …")?;
        self.new_sock(host, &sock, SockKind::Listener)?;
        Ok(HostCommand::Listen {
            sock,
            addr,
            port,
            backlog,
            span,
        })
    }

    fn write(&mut self, cur: &mut Cur<'_>, host: &HostRef, span: Span) -> PResult<HostCommand> {
        let sock = self.sock_name(cur, "write")?;
        self.use_sock(host, &sock)?;
        let after = format!("write {}", sock.name);
        let what = "a byte count such as `100` or `1MiB`";
        let Some((w, wspan)) = cur.word() else {
            return Err(self.expected(cur, what, &after));
        };
        let bytes = units::bytes(w).map_err(|e| match e {
            UnitError::BadUnit(u) => self.err(
                wspan,
                format!("unknown size unit {u:?}; expected B, kB, KiB, MB, MiB, GB or GiB"),
            ),
            UnitError::TooLarge => self.err(wspan, format!("{w:?} is too large")),
            UnitError::TooPrecise => {
                self.err(wspan, format!("{w:?} is not a whole number of bytes"))
            }
            UnitError::NotANumber | UnitError::NoUnit(_) => self.err(
                wspan,
                format!("expected {what} after `{after}`, found {w:?}"),
            ),
        })?;
        let mut repeat = None;
        if let Some(rspan) = cur.eat("repeat") {
            let count = self.uint(cur, "a count", "repeat", u64::from(u32::MAX))? as u32;
            if count == 0 {
                return Err(self.err(rspan, "expected a repeat count of at least 1"));
            }
            let a = format!("repeat {count}");
            if cur.eat("every").is_none() {
                return Err(self.expected(cur, "`every DURATION`", &a));
            }
            let every = self.duration(cur, "every")?;
            repeat = Some(Repeat {
                count,
                every,
                span: rspan,
            });
        }
        self.end(cur, "write …")?;
        Ok(HostCommand::Write {
            sock,
            bytes,
            repeat,
            span,
        })
    }

    fn setsockopt(
        &mut self,
        cur: &mut Cur<'_>,
        host: &HostRef,
        span: Span,
    ) -> PResult<HostCommand> {
        let sock = self.sock_name(cur, "setsockopt")?;
        self.use_sock(host, &sock)?;
        let after = format!("setsockopt {}", sock.name);
        let Some((name, nspan)) = cur.word() else {
            return Err(self.expected(cur, "a socket option such as TCP_KEEPIDLE", &after));
        };
        let upper = name.to_ascii_uppercase();
        let after = format!("{after} {name}");
        let max = u64::from(u32::MAX);
        let opt = match upper.as_str() {
            "SO_KEEPALIVE" => SockOpt::KeepAlive(self.boolean(cur, &after)?),
            "SO_REUSEADDR" => SockOpt::ReuseAddr(self.boolean(cur, &after)?),
            "TCP_NODELAY" => SockOpt::NoDelay(self.boolean(cur, &after)?),
            "TCP_QUICKACK" => SockOpt::QuickAck(u32::from(self.boolean(cur, &after)?)),
            "SO_RCVBUF" => SockOpt::RcvBuf(self.size(cur, &after)?),
            "SO_SNDBUF" => SockOpt::SndBuf(self.size(cur, &after)?),
            "TCP_KEEPIDLE" => SockOpt::KeepIdle(self.uint(cur, "seconds", &after, max)? as u32),
            "TCP_KEEPINTVL" => SockOpt::KeepIntvl(self.uint(cur, "seconds", &after, max)? as u32),
            "TCP_KEEPCNT" => SockOpt::KeepCnt(self.uint(cur, "a count", &after, max)? as u32),
            "TCP_USER_TIMEOUT" => {
                SockOpt::UserTimeout(self.uint(cur, "milliseconds", &after, max)? as u32)
            }
            "TCP_SYNCNT" => SockOpt::SynCnt(self.uint(cur, "a count", &after, max)? as u32),
            "TCP_MAXSEG" => SockOpt::MaxSeg(self.uint(cur, "a size in bytes", &after, max)? as u32),
            "TCP_LINGER2" => {
                let here = cur.here();
                let Some((w, _)) = cur.word() else {
                    return Err(self.expected(cur, "seconds", &after));
                };
                let v: i32 = w.parse().map_err(|_| {
                    self.err(here, format!("expected seconds (an integer, -1 for none) after `{after}`, found {w:?}"))
                })?;
                SockOpt::Linger2(v)
            }
            "SO_LINGER" => match cur.peek_word() {
                Some("off") => {
                    cur.next();
                    SockOpt::Linger(None)
                }
                Some("on") => {
                    cur.next();
                    let a = format!("{after} on");
                    let secs = self.uint(cur, "seconds", &a, u64::from(i32::MAX as u32))?;
                    SockOpt::Linger(Some(secs as u32))
                }
                _ => return Err(self.expected(cur, "`on SECONDS` or `off`", &after)),
            },
            _ => {
                return Err(self.err(
                    nspan,
                    format!(
                        "unknown socket option {name:?}; expected one of {}",
                        SOCKOPTS.join(", ")
                    ),
                ));
            }
        };
        self.end(cur, &format!("{after} …"))?;
        Ok(HostCommand::Setsockopt { sock, opt, span })
    }

    /// A buffer size: `4096`, `64KiB`, at most `u32::MAX`.
    fn size(&self, cur: &mut Cur<'_>, after: &str) -> PResult<u32> {
        let what = "a size in bytes such as `4096` or `64KiB`";
        let Some((w, span)) = cur.word() else {
            return Err(self.expected(cur, what, after));
        };
        units::bytes(w)
            .ok()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| {
                self.err(
                    span,
                    format!("expected {what} after `{after}`, found {w:?}"),
                )
            })
    }

    fn boolean(&self, cur: &mut Cur<'_>, after: &str) -> PResult<bool> {
        match cur.peek_word() {
            Some("0") => {
                cur.next();
                Ok(false)
            }
            Some("1") => {
                cur.next();
                Ok(true)
            }
            _ => Err(self.expected(cur, "0 or 1", after)),
        }
    }

    fn port(&self, cur: &mut Cur<'_>, after: &str) -> PResult<(u16, Span)> {
        let here = cur.here();
        match cur.word() {
            Some((w, _)) => match parse_port(w) {
                Some(p) => Ok((p, here)),
                None => Err(self.err(
                    here,
                    format!("expected a port number after `{after}`, found {w:?}"),
                )),
            },
            None => Err(self.expected(cur, "a port number", after)),
        }
    }

    /// An IP address or a host's name.
    fn address(&self, a: &str, span: Span, after: &str) -> PResult<(IpAddr, Option<HostRef>)> {
        if let Ok(ip) = a.parse::<IpAddr>() {
            return Ok((ip, None));
        }
        if let Some(i) = self.hosts.iter().position(|h| h.name == a) {
            let h = &self.hosts[i];
            return Ok((
                h.addr,
                Some(HostRef {
                    name: h.name.clone(),
                    index: i,
                    span,
                }),
            ));
        }
        Err(self.err(
            span,
            format!(
                "expected an IP address or a declared host's name after `{after}`, found {a:?}"
            ),
        ))
    }

    fn endpoint(&self, cur: &mut Cur<'_>, after: &str) -> PResult<Endpoint> {
        let Some((w, span)) = cur.word() else {
            return Err(self.expected(cur, "ADDR:PORT", after));
        };
        self.endpoint_text(w, span, after)
    }

    /// `10.0.0.2:1234`, `[::1]:1234` or `server:1234`.
    fn endpoint_text(&self, w: &str, span: Span, after: &str) -> PResult<Endpoint> {
        let bad = || {
            self.err(
                span,
                format!(
                    "expected ADDR:PORT (such as `10.0.0.2:1234`, `[::1]:1234` or \
                     `server:1234`) after `{after}`, found {w:?}"
                ),
            )
        };
        let (a, p) = if let Some(rest) = w.strip_prefix('[') {
            rest.split_once("]:").ok_or_else(bad)?
        } else {
            let (a, p) = w.rsplit_once(':').ok_or_else(bad)?;
            if a.contains(':') {
                return Err(self.err(
                    span,
                    format!(
                        "expected an IPv6 address in brackets, as in `[::1]:1234`, found {w:?}"
                    ),
                ));
            }
            (a, p)
        };
        let port = parse_port(p).ok_or_else(|| {
            self.err(
                span,
                format!(
                    "expected a port number (1-65535) after {:?}, found {p:?}",
                    format!("{a}:")
                ),
            )
        })?;
        let (addr, host) = self.address(a, span, after)?;
        Ok(Endpoint {
            addr,
            port,
            host,
            span,
        })
    }

    fn sock_name(&self, cur: &mut Cur<'_>, after: &str) -> PResult<SockName> {
        let Some((w, span)) = cur.word() else {
            return Err(self.expected(cur, "a socket name", after));
        };
        let valid = w
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(self.err(
                span,
                format!(
                    "expected a socket name (a letter, then letters, digits or `_`) after \
                     `{after}`, found {w:?}"
                ),
            ));
        }
        Ok(SockName {
            name: w.to_string(),
            span,
        })
    }

    fn as_name(&self, cur: &mut Cur<'_>, after: &str) -> PResult<SockName> {
        if cur.eat("as").is_none() {
            return Err(self.expected(cur, "`as NAME`", after));
        }
        self.sock_name(cur, "as")
    }

    fn sock_kind(&self, host: &HostRef, sock: &SockName) -> Option<SockKind> {
        self.socks[host.index].get(&sock.name).map(|s| s.kind)
    }

    /// Records a socket created by this line. A socket from `socket NAME` can still be
    /// connected or made a listener once.
    fn new_sock(&mut self, host: &HostRef, sock: &SockName, kind: SockKind) -> PResult<()> {
        let map = &self.socks[host.index];
        if let Some(prev) = map.get(&sock.name) {
            let reuse = prev.kind == SockKind::Fresh
                && matches!(kind, SockKind::Connected | SockKind::Listener);
            if !reuse {
                return Err(self.err(
                    sock.span,
                    format!(
                        "socket `{}` already exists on `{}` (line {}); expected a new name",
                        sock.name, host.name, prev.line
                    ),
                ));
            }
        }
        let line = map.get(&sock.name).map_or(sock.span.line, |p| p.line);
        self.socks[host.index].insert(sock.name.clone(), SockInfo { kind, line });
        Ok(())
    }

    /// Checks that `sock` names a socket created earlier on `host`.
    pub(crate) fn use_sock(&self, host: &HostRef, sock: &SockName) -> PResult<()> {
        if self.socks[host.index].contains_key(&sock.name) {
            return Ok(());
        }
        Err(self.err(
            sock.span,
            format!(
                "no socket `{}` on `{}`; expected one created earlier by `socket {}`, \
                 `connect ADDR:PORT as {}`, `listen PORT as {}` or `accept L as {}`",
                sock.name, host.name, sock.name, sock.name, sock.name, sock.name
            ),
        ))
    }

    /// A socket an assertion names: `%N` (an `nc` job) or a socket name.
    pub(crate) fn sock_ref(
        &self,
        cur: &mut Cur<'_>,
        host: &HostRef,
        after: &str,
    ) -> PResult<SockRef> {
        if let Some(w) = cur.peek_word()
            && w.starts_with('%')
        {
            let span = cur.here();
            cur.next();
            let (job, info) = self.job_ref(w, span, host)?;
            if info.tool != "nc" {
                return Err(self.err(
                    span,
                    format!(
                        "job %{job} on `{}` is {} (line {}), which has no socket; expected an \
                         `nc` job",
                        host.name, info.tool, info.line
                    ),
                ));
            }
            return Ok(SockRef::Job { job, span });
        }
        let sock = self.sock_name(cur, after)?;
        self.use_sock(host, &sock)?;
        Ok(SockRef::Named(sock))
    }
}

fn parse_port(w: &str) -> Option<u16> {
    units::integer(w)
        .and_then(|n| u16::try_from(n).ok())
        .filter(|p| *p != 0)
}

fn show_endpoint(e: &Endpoint) -> String {
    match (&e.host, e.addr) {
        (Some(h), _) => format!("{}:{}", h.name, e.port),
        (None, IpAddr::V4(a)) => format!("{a}:{}", e.port),
        (None, IpAddr::V6(a)) => format!("[{a}]:{}", e.port),
    }
}
