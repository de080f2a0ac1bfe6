//! `expect` lines: assertions about sockets, errors, tool output and packets.

use std::time::Duration;

use super::ast::*;
use super::parser::{Cur, PResult, Parser};

/// Words that end the `A > B` part of a packet filter.
const FILTER_WORDS: &[&str] = &["flags", "seq", "ack", "len", "win", "at", "from", "until"];

impl Parser {
    /// After `expect`.
    pub(crate) fn expect(&mut self, cur: &mut Cur<'_>, span: Span) -> PResult<Expect> {
        let what = "`HOST:`, `packet`, `rst` or `no`";
        let Some((w, wspan)) = cur.word() else {
            return Err(self.expected(cur, what, "expect"));
        };
        match w {
            "packet" | "rst" => self.expect_packet(cur, w, wspan, span),
            "no" => {
                let kind = match cur.peek_word() {
                    Some(k @ ("packet" | "rst")) => k,
                    _ => return Err(self.expected(cur, "`packet` or `rst`", "expect no")),
                };
                let kspan = cur.here();
                cur.next();
                let filter = self.filter(cur, kind, kspan, &format!("expect no {kind}"))?;
                let from = self.window_end(cur, "from")?;
                let until = self.window_end(cur, "until")?;
                if let (Some(f), Some(u)) = (from, until)
                    && u.time < f.time
                {
                    return Err(self.err(
                        u.span,
                        format!(
                            "expected an `until` time at or after the `from` time {}",
                            format_duration(f.time)
                        ),
                    ));
                }
                self.end(cur, "expect no …")?;
                Ok(Expect::NoPacket {
                    filter,
                    from,
                    until,
                    span,
                })
            }
            _ => {
                let Some(name) = w.strip_suffix(':') else {
                    return Err(self.err(
                        wspan,
                        format!("expected {what} after `expect`, found {w:?}"),
                    ));
                };
                let host = self.host_ref(name, wspan)?;
                self.expect_host(cur, host, span)
            }
        }
    }

    fn expect_host(&mut self, cur: &mut Cur<'_>, host: HostRef, span: Span) -> PResult<Expect> {
        let prefix = format!("expect {}:", host.name);
        let what = "`state`, `errno`, `ss`, `netstat` or `!`";
        let Some((w, wspan)) = cur.word() else {
            return Err(self.expected(cur, what, &prefix));
        };
        match w {
            "state" => {
                let sock = self.sock_ref(cur, &host, "state")?;
                let after = format!("state {}", show_sock(&sock));
                let Some((s, sspan)) = cur.word() else {
                    return Err(self.expected(cur, "a TCP state such as FIN_WAIT1", &after));
                };
                let state = parse_state(s).ok_or_else(|| {
                    self.err(
                        sspan,
                        format!(
                            "unknown TCP state {s:?}; expected one of LISTEN, SYN_SENT, \
                             SYN_RECV, ESTABLISHED, FIN_WAIT1, FIN_WAIT2, CLOSE_WAIT, CLOSING, \
                             LAST_ACK, TIME_WAIT, CLOSE or gone (ss spellings such as \
                             FIN-WAIT-1 work too)"
                        ),
                    )
                })?;
                self.end(cur, &format!("{after} {s}"))?;
                Ok(Expect::State {
                    host,
                    sock,
                    state,
                    span,
                })
            }
            "errno" => {
                let sock = self.sock_ref(cur, &host, "errno")?;
                let after = format!("errno {}", show_sock(&sock));
                let Some((e, espan)) = cur.word() else {
                    return Err(self.expected(cur, "an errno name such as ETIMEDOUT", &after));
                };
                let errno = if e == "none" {
                    None
                } else {
                    let name = if e == "EWOULDBLOCK" { "EAGAIN" } else { e };
                    Some(Errno::from_name(name).ok_or_else(|| {
                        self.err(
                            espan,
                            format!(
                                "unknown errno {e:?}; expected a name such as ETIMEDOUT, \
                                 ECONNRESET, ECONNREFUSED or EPIPE, or `none`"
                            ),
                        )
                    })?)
                };
                let mut at = None;
                if let Some(aspan) = cur.eat("at") {
                    let points = self.time_points(cur, "at")?;
                    if points.len() != 1 {
                        return Err(self.err(aspan, "expected exactly one time after `at`"));
                    }
                    at = points.first().copied();
                }
                self.end(cur, &format!("{after} {e}"))?;
                Ok(Expect::Errno {
                    host,
                    sock,
                    errno,
                    at,
                    span,
                })
            }
            "!" | "ss" | "netstat" => {
                let negate = w == "!";
                let (tool, tspan) = if negate {
                    match cur.peek_word() {
                        Some(t @ ("ss" | "netstat")) => {
                            let s = cur.here();
                            cur.next();
                            (t, s)
                        }
                        _ => {
                            return Err(self.expected(
                                cur,
                                "`ss` or `netstat`",
                                &format!("{prefix} !"),
                            ));
                        }
                    }
                } else {
                    (w, wspan)
                };
                let snapshot = self.snapshot(cur, tool, tspan)?;
                Ok(Expect::Output {
                    host,
                    negate,
                    snapshot,
                    span,
                })
            }
            _ => Err(self.err(
                wspan,
                format!("expected {what} after `{prefix}`, found {w:?}"),
            )),
        }
    }

    fn expect_packet(
        &mut self,
        cur: &mut Cur<'_>,
        kind: &str,
        kspan: Span,
        span: Span,
    ) -> PResult<Expect> {
        let filter = self.filter(cur, kind, kspan, &format!("expect {kind}"))?;
        if cur.eat("at").is_none() {
            let what = if filter.flags.is_none() && kind == "packet" {
                "`A > B`, `flags`, `seq`, `ack`, `len`, `win` or `at TIME`"
            } else {
                "`at TIME`"
            };
            return Err(self.expected(cur, what, &format!("expect {kind} …")));
        }
        let times = self.time_points(cur, "at")?;
        Ok(Expect::Packet {
            filter,
            times,
            span,
        })
    }

    /// `[A > B] [flags F] [seq N] [ack N] [len N] [win N]`; `kind` is `packet` or `rst`.
    fn filter(
        &self,
        cur: &mut Cur<'_>,
        kind: &str,
        kspan: Span,
        after: &str,
    ) -> PResult<PacketFilter> {
        let mut filter = PacketFilter {
            from: None,
            to: None,
            flags: None,
            seq: None,
            ack: None,
            len: None,
            win: None,
            span: kspan,
        };
        if kind == "rst" {
            filter.flags = Some(FlagMatch {
                flags: TcpFlags(TcpFlags::RST),
                exact: false,
                span: kspan,
            });
        }
        if let Some(w) = cur.peek_word()
            && !FILTER_WORDS.contains(&w)
            && (w == "*" || cur.peek_word_ahead(1) == Some(">") || self.is_host(w))
        {
            let span = cur.here();
            cur.next();
            filter.from = self.filter_host(w, span)?;
            let a = format!("{after} {w}");
            if cur.eat(">").is_none() {
                return Err(self.expected(cur, "`>` (as in `client > server`)", &a));
            }
            let Some((b, bspan)) = cur.word() else {
                return Err(self.expected(cur, "a host name or `*`", &format!("{a} >")));
            };
            filter.to = self.filter_host(b, bspan)?;
        }
        while let Some(w) = cur.peek_word() {
            let wspan = cur.here();
            let max = u64::from(u32::MAX);
            let dup = || {
                self.err(
                    wspan,
                    format!("`{w}` is already given in this filter; expected it once"),
                )
            };
            match w {
                "flags" => {
                    cur.next();
                    if filter.flags.is_some() {
                        return Err(if kind == "rst" {
                            self.err(wspan, "`rst` already sets the flags; expected `expect packet … flags …` instead")
                        } else {
                            dup()
                        });
                    }
                    let Some((f, fspan)) = cur.word() else {
                        return Err(self.expected(
                            cur,
                            "tcpdump's flag letters such as `F.`",
                            "flags",
                        ));
                    };
                    let letters = f
                        .strip_prefix('[')
                        .and_then(|f| f.strip_suffix(']'))
                        .unwrap_or(f);
                    let flags = TcpFlags::from_letters(letters).ok_or_else(|| {
                        self.err(
                            fspan,
                            format!(
                                "expected tcpdump's flag letters (S F R P . U E W, each once, \
                                 or `none`) after `flags`, found {f:?}"
                            ),
                        )
                    })?;
                    filter.flags = Some(FlagMatch {
                        flags,
                        exact: true,
                        span: fspan,
                    });
                }
                "seq" | "ack" | "len" | "win" => {
                    cur.next();
                    let v = self.uint(cur, "a number", w, max)? as u32;
                    let slot = match w {
                        "seq" => &mut filter.seq,
                        "ack" => &mut filter.ack,
                        "len" => &mut filter.len,
                        _ => &mut filter.win,
                    };
                    if slot.is_some() {
                        return Err(dup());
                    }
                    *slot = Some(v);
                }
                "at" | "from" | "until" => break,
                _ => {
                    return Err(self.err(
                        wspan,
                        format!(
                            "expected `A > B`, `flags`, `seq`, `ack`, `len`, `win`, `at`, \
                             `from` or `until` in the packet filter, found {w:?}"
                        ),
                    ));
                }
            }
        }
        Ok(filter)
    }

    fn is_host(&self, w: &str) -> bool {
        self.hosts.iter().any(|h| h.name == w)
    }

    fn filter_host(&self, w: &str, span: Span) -> PResult<Option<HostRef>> {
        if w == "*" {
            Ok(None)
        } else {
            self.host_ref(w, span).map(Some)
        }
    }

    /// `from TIME` / `until TIME`, if present.
    fn window_end(&self, cur: &mut Cur<'_>, word: &str) -> PResult<Option<TimeSpec>> {
        if cur.eat(word).is_none() {
            return Ok(None);
        }
        let Some((w, span)) = cur.word() else {
            return Err(self.expected(cur, "a time such as `3.5s` or `+100ms`", word));
        };
        self.time_spec(w, span, word).map(Some)
    }

    /// A time inside an assertion: absolute, or `+…` after the step's time.
    fn time_spec(&self, w: &str, span: Span, after: &str) -> PResult<TimeSpec> {
        let (relative, value) = self.time_word(w, span, after)?;
        let time = if relative {
            self.now.checked_add(value)
        } else {
            Some(value)
        }
        .ok_or_else(|| self.err(span, "this time is too large"))?;
        Ok(TimeSpec {
            relative,
            value,
            time,
            span,
        })
    }

    /// `T1 [±TOL], T2 [±TOL] …` to the end of the line. A time without its own tolerance
    /// takes the next one written after it; with none after it, zero.
    fn time_points(&self, cur: &mut Cur<'_>, after: &str) -> PResult<Vec<TimePoint>> {
        let mut points: Vec<(TimeSpec, Option<Duration>)> = Vec::new();
        while let Some((raw, span)) = cur.word() {
            let w = raw.strip_suffix(',').unwrap_or(raw);
            if w.is_empty() {
                continue;
            }
            if let Some(tol) = w.strip_prefix('±').or_else(|| w.strip_prefix("+-")) {
                let sym = &w[..w.len() - tol.len()];
                let (tol, tspan) = if tol.is_empty() {
                    match cur.word() {
                        Some((t, s)) => (t.strip_suffix(',').unwrap_or(t), s),
                        None => {
                            return Err(self.expected(cur, "a tolerance such as `10ms`", sym));
                        }
                    }
                } else {
                    (tol, span)
                };
                let d = self.duration_text(tol, tol, tspan, "a tolerance such as `10ms`", sym)?;
                match points.last_mut() {
                    Some((_, t @ None)) => *t = Some(d),
                    _ => {
                        return Err(self.err(span, format!("expected a time before `{sym}{tol}`")));
                    }
                }
                continue;
            }
            let (time_text, tol_text) = match w.split_once('±') {
                Some((t, tol)) if !t.is_empty() => (t, Some(tol)),
                _ => (w, None),
            };
            let t = self.time_spec(time_text, span, after)?;
            let tol = match tol_text {
                Some(tol) => {
                    Some(self.duration_text(tol, tol, span, "a tolerance such as `10ms`", "±")?)
                }
                None => None,
            };
            points.push((t, tol));
        }
        if points.is_empty() {
            return Err(self.expected(cur, "a time such as `3.205s` or `+205ms`", after));
        }
        let mut carry = Duration::ZERO;
        let mut out: Vec<TimePoint> = points
            .into_iter()
            .rev()
            .map(|(time, tol)| {
                if let Some(t) = tol {
                    carry = t;
                }
                TimePoint {
                    time,
                    tolerance: carry,
                }
            })
            .collect();
        out.reverse();
        Ok(out)
    }
}

fn show_sock(s: &SockRef) -> String {
    match s {
        SockRef::Named(n) => n.name.clone(),
        SockRef::Job { job, .. } => format!("%{job}"),
    }
}

/// Linux's, netstat's and ss's spellings of the TCP states, and `gone`.
pub(crate) fn parse_state(s: &str) -> Option<ExpectedState> {
    if s == "gone" {
        return Some(ExpectedState::Gone);
    }
    let key: String = s
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let st = match key.as_str() {
        "ESTABLISHED" | "ESTAB" => TcpState::Established,
        "SYNSENT" => TcpState::SynSent,
        "SYNRECV" | "SYNRECEIVED" => TcpState::SynRecv,
        "FINWAIT1" => TcpState::FinWait1,
        "FINWAIT2" => TcpState::FinWait2,
        "TIMEWAIT" => TcpState::TimeWait,
        "CLOSE" | "CLOSED" | "UNCONN" => TcpState::Close,
        "CLOSEWAIT" => TcpState::CloseWait,
        "LASTACK" => TcpState::LastAck,
        "LISTEN" => TcpState::Listen,
        "CLOSING" => TcpState::Closing,
        _ => return None,
    };
    Some(ExpectedState::Is(st))
}
