//! The parser: logical lines to a [`Scenario`], with every check that needs no simulator.
//!
//! Top-level lines (`host`, `link`, `hz`, `seed`, `at`, `expect`, `run`) are handled here;
//! the commands after `HOST:` are in `commands.rs`, assertions in `expect.rs`. Parsing
//! stops at the first error.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use super::ast::*;
use super::error::ScenarioError;
use super::lexer::{self, Line, Tok, Token};
use super::units::{self, UnitError};

pub(crate) type PResult<T> = Result<T, ScenarioError>;

/// Words that cannot name a host: the line keywords, and the words of a packet filter (where
/// host names appear bare).
const RESERVED: &[&str] = &[
    "host", "link", "hz", "seed", "at", "expect", "run", "kernel", "flags", "seq", "ack", "len",
    "win", "from", "until",
];

/// Linux's CONFIG_HZ choices.
const HZ_VALUES: &[u32] = &[100, 250, 300, 1000];

/// Parses a script. `file` is only used in error messages and kept in the result.
pub fn parse(file: &str, src: &str) -> Result<Scenario, ScenarioError> {
    let lines = lexer::lex(src).map_err(|(span, message)| ScenarioError {
        file: file.to_string(),
        line: span.line,
        col: span.col,
        message,
    })?;
    let mut p = Parser::new(file);
    for line in &lines {
        p.line(line)?;
    }
    Ok(p.finish())
}

/// What the parser knows about a `&` job.
#[derive(Clone, Debug)]
pub(crate) struct Job {
    pub tool: &'static str,
    pub line: u32,
}

/// How a named socket came to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SockKind {
    /// `socket NAME`, not yet connected or listening.
    Fresh,
    Connected,
    Listener,
    Accepted,
}

#[derive(Clone, Debug)]
pub(crate) struct SockInfo {
    pub kind: SockKind,
    pub line: u32,
}

pub(crate) struct Parser {
    pub file: String,
    pub hosts: Vec<Host>,
    pub links: Vec<Link>,
    pub settings: Settings,
    pub steps: Vec<Step>,
    pub run: Option<Run>,
    /// The time of the latest `at` (0 before the first).
    pub now: Duration,
    /// The latest `at`: its time and line, for "time goes backwards" messages.
    pub last_at: Option<(Duration, u32)>,
    /// Per host (same index as `hosts`): jobs in the order `&` started them.
    pub jobs: Vec<Vec<Job>>,
    /// Per host: the named sockets.
    pub socks: Vec<BTreeMap<String, SockInfo>>,
    /// The text of the line being parsed.
    pub text: String,
}

/// A cursor over one line's tokens.
pub(crate) struct Cur<'a> {
    toks: &'a [Token],
    pos: usize,
}

impl<'a> Cur<'a> {
    pub fn new(toks: &'a [Token]) -> Cur<'a> {
        Cur { toks, pos: 0 }
    }
    pub fn peek(&self) -> Option<&'a Token> {
        self.toks.get(self.pos)
    }
    pub fn peek_word(&self) -> Option<&'a str> {
        match self.peek() {
            Some(Token {
                tok: Tok::Word(w), ..
            }) => Some(w),
            _ => None,
        }
    }
    /// The word `n` tokens ahead of the next one.
    pub fn peek_word_ahead(&self, n: usize) -> Option<&'a str> {
        match self.toks.get(self.pos + n) {
            Some(Token {
                tok: Tok::Word(w), ..
            }) => Some(w),
            _ => None,
        }
    }
    pub fn next(&mut self) -> Option<&'a Token> {
        let t = self.toks.get(self.pos);
        if t.is_some() {
            self.pos += 1;
        }
        t
    }
    pub fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }
    /// Where the next token is, or just after the last one.
    pub fn here(&self) -> Span {
        match self.toks.get(self.pos) {
            Some(t) => t.span,
            None => self.toks.last().map(|t| t.end).unwrap_or_default(),
        }
    }
    /// The next token as an error message names it.
    pub fn found(&self) -> String {
        describe(self.peek())
    }
    /// Takes the next word if there is one.
    pub fn word(&mut self) -> Option<(&'a str, Span)> {
        let w = self.peek_word()?;
        let span = self.here();
        self.pos += 1;
        Some((w, span))
    }
    /// Takes the next word if it is `w`.
    pub fn eat(&mut self, w: &str) -> Option<Span> {
        if self.peek_word() == Some(w) {
            let span = self.here();
            self.pos += 1;
            Some(span)
        } else {
            None
        }
    }
    /// A cursor at the same place over the line without its trailing `&`, and where the
    /// `&` was.
    pub fn take_trailing_amp(&self) -> (Cur<'a>, Option<Span>) {
        match self.toks.split_last() {
            Some((
                Token {
                    tok: Tok::Amp,
                    span,
                    ..
                },
                rest,
            )) => (
                Cur {
                    toks: rest,
                    pos: self.pos,
                },
                Some(*span),
            ),
            _ => (
                Cur {
                    toks: self.toks,
                    pos: self.pos,
                },
                None,
            ),
        }
    }
    /// The rest of the line as words, up to a `|` or `&`.
    pub fn words(&mut self) -> Vec<Word> {
        let mut out = Vec::new();
        while let Some((w, span)) = self.word() {
            out.push(Word {
                text: w.to_string(),
                span,
            });
        }
        out
    }
}

pub(crate) fn describe(t: Option<&Token>) -> String {
    match t {
        None => "the end of the line".into(),
        Some(Token {
            tok: Tok::Word(w), ..
        }) => format!("{w:?}"),
        Some(Token { tok: Tok::Pipe, .. }) => "`|`".into(),
        Some(Token { tok: Tok::Amp, .. }) => "`&`".into(),
    }
}

impl Parser {
    fn new(file: &str) -> Parser {
        Parser {
            file: file.to_string(),
            hosts: Vec::new(),
            links: Vec::new(),
            settings: Settings::default(),
            steps: Vec::new(),
            run: None,
            now: Duration::ZERO,
            last_at: None,
            jobs: Vec::new(),
            socks: Vec::new(),
            text: String::new(),
        }
    }

    fn finish(self) -> Scenario {
        Scenario {
            file: self.file,
            hosts: self.hosts,
            links: self.links,
            settings: self.settings,
            steps: self.steps,
            run: self.run,
        }
    }

    pub fn err(&self, span: Span, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            file: self.file.clone(),
            line: span.line,
            col: span.col,
            message: message.into(),
        }
    }

    /// "expected WHAT after `AFTER`, found X", at the cursor.
    pub fn expected(&self, cur: &Cur<'_>, what: &str, after: &str) -> ScenarioError {
        self.err(
            cur.here(),
            format!("expected {what} after `{after}`, found {}", cur.found()),
        )
    }

    /// Requires the end of the line.
    pub fn end(&self, cur: &Cur<'_>, after: &str) -> PResult<()> {
        if cur.at_end() {
            Ok(())
        } else {
            Err(self.expected(cur, "the end of the line", after))
        }
    }

    fn line(&mut self, line: &Line) -> PResult<()> {
        let mut cur = Cur::new(&line.tokens);
        let start = cur.here();
        self.text.clone_from(&line.text);
        if let Some(run) = &self.run {
            return Err(self.err(
                start,
                format!(
                    "expected nothing after `run` (line {}): it ends the scenario",
                    run.span.line
                ),
            ));
        }
        let Some((first, span)) = cur.word() else {
            return Err(self.err(
                start,
                format!(
                    "expected `host`, `link`, `hz`, `seed`, `at`, `expect`, `run` or \
                     `HOST: command`, found {}",
                    cur.found()
                ),
            ));
        };
        match first {
            "host" => self.host_line(&mut cur, span),
            "link" => {
                let link = self.link_line(&mut cur, span)?;
                if self.last_at.is_none() {
                    self.links.push(link);
                } else {
                    self.push_step(None, Command::Link(link), span);
                }
                Ok(())
            }
            "hz" => {
                let hz = self.hz_value(&mut cur, "hz")?;
                self.set_hz(None, hz, span)
            }
            "seed" => self.seed_line(&mut cur, span),
            "run" => self.run_line(&mut cur, span),
            "at" => self.at_line(&mut cur, span),
            _ => self.step_body(&mut cur, None, span, first),
        }
    }

    /// The part of a line after an optional `at TIME`: `HOST: …`, `expect …` or `link …`.
    fn step_body(
        &mut self,
        cur: &mut Cur<'_>,
        at: Option<TimeSpec>,
        span: Span,
        first: &str,
    ) -> PResult<()> {
        let first_span = cur.here();
        let first_span = if at.is_none() { span } else { first_span };
        if at.is_some() {
            cur.next();
        }
        match first {
            "expect" => {
                let e = self.expect(cur, first_span)?;
                self.push_step(at, Command::Expect(e), span);
                Ok(())
            }
            "link" if at.is_some() => {
                let link = self.link_line(cur, first_span)?;
                self.push_step(at, Command::Link(link), span);
                Ok(())
            }
            "host" | "hz" | "seed" | "run" if at.is_some() => Err(self.err(
                first_span,
                format!("`{first}` is a declaration for the whole run and takes no `at` time"),
            )),
            _ => {
                let Some(name) = first.strip_suffix(':') else {
                    return Err(self.not_a_line(first, first_span, at.is_some()));
                };
                let host = self.host_ref(name, first_span)?;
                if cur.peek_word() == Some("hz") {
                    if at.is_some() {
                        return Err(self.err(
                            cur.here(),
                            "`hz` is a declaration for the whole run and takes no `at` time",
                        ));
                    }
                    cur.next();
                    let hz = self.hz_value(cur, &format!("{name}: hz"))?;
                    return self.set_hz(Some(host), hz, span);
                }
                let command = self.host_command(cur, &host)?;
                self.push_step(at, Command::Host(host, command), span);
                Ok(())
            }
        }
    }

    fn not_a_line(&self, first: &str, span: Span, after_at: bool) -> ScenarioError {
        if self.hosts.iter().any(|h| h.name == first) {
            return self.err(
                span,
                format!("expected `{first}:` (a host name followed by a colon), found {first:?}"),
            );
        }
        if let Some((name, _)) = first.split_once(':')
            && self.hosts.iter().any(|h| h.name == name)
        {
            return self.err(
                span,
                format!("expected a blank after `{name}:`, found {first:?}"),
            );
        }
        if after_at {
            self.err(
                span,
                format!(
                    "expected `HOST: command`, `expect` or `link` after the time, found {first:?}"
                ),
            )
        } else {
            self.err(
                span,
                format!(
                    "expected `host`, `link`, `hz`, `seed`, `at`, `expect`, `run` or \
                     `HOST: command`, found {first:?}"
                ),
            )
        }
    }

    fn push_step(&mut self, at: Option<TimeSpec>, command: Command, span: Span) {
        self.steps.push(Step {
            at,
            time: self.now,
            command,
            text: self.text.clone(),
            span,
        });
    }

    fn at_line(&mut self, cur: &mut Cur<'_>, span: Span) -> PResult<()> {
        let Some((w, tspan)) = cur.word() else {
            return Err(self.expected(cur, "a time such as `1s`, `3.5s` or `+100ms`", "at"));
        };
        let (relative, value) = self.time_word(w, tspan, "at")?;
        let time = if relative {
            self.now.checked_add(value)
        } else {
            Some(value)
        }
        .ok_or_else(|| self.err(tspan, "this time is too large"))?;
        if time < self.now {
            let line = self.last_at.map(|(_, l)| l).unwrap_or(0);
            return Err(self.err(
                tspan,
                format!(
                    "time goes backwards: {} is before the previous `at {}` (line {line}); \
                     expected {} or later",
                    format_duration(time),
                    format_duration(self.now),
                    format_duration(self.now),
                ),
            ));
        }
        self.now = time;
        self.last_at = Some((time, span.line));
        let at = TimeSpec {
            relative,
            value,
            time,
            span: tspan,
        };
        let Some(first) = cur.peek_word() else {
            let after = format!("at {w}");
            return Err(self.expected(cur, "`HOST: command`, `expect` or `link`", &after));
        };
        self.step_body(cur, Some(at), span, first)
    }

    /// A time word: `3.5s` or `+100ms`.
    pub fn time_word(&self, w: &str, span: Span, after: &str) -> PResult<(bool, Duration)> {
        let (relative, text) = match w.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, w),
        };
        let d = self.duration_text(
            text,
            w,
            span,
            "a time such as `1s`, `3.5s` or `+100ms`",
            after,
        )?;
        Ok((relative, d))
    }

    /// A duration (`text`, written as `whole`), with messages naming `after`.
    pub fn duration_text(
        &self,
        text: &str,
        whole: &str,
        span: Span,
        what: &str,
        after: &str,
    ) -> PResult<Duration> {
        units::duration(text).map_err(|e| match e {
            UnitError::NotANumber => self.err(
                span,
                format!("expected {what} after `{after}`, found {whole:?}"),
            ),
            UnitError::NoUnit(n) => self.err(
                span,
                format!("expected a unit (ns, us, ms, s, min) after {n:?}, as in `{n}s`"),
            ),
            UnitError::BadUnit(u) => self.err(
                span,
                format!("unknown time unit {u:?} in {whole:?}; expected ns, us, ms, s or min"),
            ),
            UnitError::TooPrecise => {
                self.err(span, format!("{whole:?} is finer than a nanosecond"))
            }
            UnitError::TooLarge => self.err(span, format!("{whole:?} is too large")),
        })
    }

    /// The next word as a duration.
    pub fn duration(&self, cur: &mut Cur<'_>, after: &str) -> PResult<Duration> {
        let what = "a duration such as `200ms` or `3.5s`";
        let Some((w, span)) = cur.word() else {
            return Err(self.expected(cur, what, after));
        };
        self.duration_text(w, w, span, what, after)
    }

    /// The next word as an unsigned integer no larger than `max`.
    pub fn uint(&self, cur: &mut Cur<'_>, what: &str, after: &str, max: u64) -> PResult<u64> {
        let here = cur.here();
        match cur.word() {
            Some((w, _)) => match units::integer(w) {
                Some(n) if n <= max => Ok(n),
                Some(_) => Err(self.err(
                    here,
                    format!("expected {what} after `{after}` (at most {max}), found {w:?}"),
                )),
                None => Err(self.err(
                    here,
                    format!("expected {what} after `{after}`, found {w:?}"),
                )),
            },
            None => Err(self.expected(cur, what, after)),
        }
    }

    fn host_line(&mut self, cur: &mut Cur<'_>, span: Span) -> PResult<()> {
        let Some((name, nspan)) = cur.word() else {
            return Err(self.expected(cur, "a host name", "host"));
        };
        let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return Err(self.err(
                nspan,
                format!(
                    "expected a host name (a letter, then letters, digits, `_` or `-`) after \
                     `host`, found {name:?}"
                ),
            ));
        }
        if RESERVED.contains(&name) {
            return Err(self.err(
                nspan,
                format!("`{name}` is a keyword and cannot name a host"),
            ));
        }
        if let Some(h) = self.hosts.iter().find(|h| h.name == name) {
            return Err(self.err(
                nspan,
                format!(
                    "host `{name}` is already declared (line {}); expected a new name",
                    h.span.line
                ),
            ));
        }
        let after = format!("host {name}");
        let Some((a, aspan)) = cur.word() else {
            return Err(self.expected(cur, "an IP address", &after));
        };
        let addr: IpAddr = a.parse().map_err(|_| {
            self.err(
                aspan,
                format!("expected an IP address after `{after}`, found {a:?}"),
            )
        })?;
        if let Some(h) = self.hosts.iter().find(|h| h.addr == addr) {
            return Err(self.err(
                aspan,
                format!(
                    "address {addr} is already host `{}`'s (line {}); expected a new address",
                    h.name, h.span.line
                ),
            ));
        }
        let kernel = cur.eat("kernel").is_some();
        self.end(cur, if kernel { "kernel" } else { a })?;
        self.hosts.push(Host {
            name: name.to_string(),
            addr,
            kernel,
            span,
        });
        self.jobs.push(Vec::new());
        self.socks.push(BTreeMap::new());
        Ok(())
    }

    /// A declared host by name.
    pub fn host_ref(&self, name: &str, span: Span) -> PResult<HostRef> {
        match self.hosts.iter().position(|h| h.name == name) {
            Some(index) => Ok(HostRef {
                name: name.to_string(),
                index,
                span,
            }),
            None => {
                let known: Vec<&str> = self.hosts.iter().map(|h| h.name.as_str()).collect();
                let hint = if known.is_empty() {
                    "no hosts are declared yet".to_string()
                } else {
                    format!("declared hosts: {}", known.join(", "))
                };
                Err(self.err(
                    span,
                    format!(
                        "undeclared host `{name}`; expected a `host {name} ADDR` line before \
                         this one ({hint})"
                    ),
                ))
            }
        }
    }

    fn link_line(&mut self, cur: &mut Cur<'_>, span: Span) -> PResult<Link> {
        let Some((a, aspan)) = cur.word() else {
            return Err(self.expected(cur, "a host name", "link"));
        };
        let from = self.host_ref(a, aspan)?;
        let both_ways = cur.eat("->").is_none();
        let after = if both_ways {
            format!("link {a}")
        } else {
            format!("link {a} ->")
        };
        let Some((b, bspan)) = cur.word() else {
            return Err(self.expected(cur, "a host name", &after));
        };
        let to = self.host_ref(b, bspan)?;
        if from.index == to.index {
            return Err(self.err(
                bspan,
                format!("expected a host other than `{a}`: a link joins two hosts"),
            ));
        }
        let mut props: Vec<LinkProp> = Vec::new();
        while !cur.at_end() {
            let Some((w, pspan)) = cur.word() else {
                return Err(self.err(
                    cur.here(),
                    format!("expected a link property, found {}", cur.found()),
                ));
            };
            let kind = match w {
                "delay" => LinkPropKind::Delay(self.duration(cur, "delay")?),
                "jitter" => LinkPropKind::Jitter(self.duration(cur, "jitter")?),
                "rate" => LinkPropKind::Rate(self.rate(cur)?),
                "queue" => LinkPropKind::Queue(self.uint(
                    cur,
                    "a packet count",
                    "queue",
                    u64::from(u32::MAX),
                )? as u32),
                "loss" => LinkPropKind::Loss(self.percent(cur, "loss")?),
                "dup" => LinkPropKind::Dup(self.percent(cur, "dup")?),
                "reorder" => {
                    let p = self.percent(cur, "reorder")?;
                    let d = self.duration(cur, &format!("reorder {}", format_ppm(p)))?;
                    LinkPropKind::Reorder(p, d)
                }
                "corrupt" => LinkPropKind::Corrupt(self.percent(cur, "corrupt")?),
                _ => {
                    return Err(self.err(
                        pspan,
                        format!(
                            "unknown link property {w:?}; expected delay, jitter, rate, queue, \
                             loss, dup, reorder or corrupt"
                        ),
                    ));
                }
            };
            if let Some(prev) = props
                .iter()
                .find(|p| std::mem::discriminant(&p.kind) == std::mem::discriminant(&kind))
            {
                return Err(self.err(
                    pspan,
                    format!(
                        "`{w}` is already given on this line (column {}); expected each \
                         property once",
                        prev.span.col
                    ),
                ));
            }
            props.push(LinkProp { kind, span: pspan });
        }
        Ok(Link {
            from,
            to,
            both_ways,
            props,
            span,
        })
    }

    fn rate(&self, cur: &mut Cur<'_>) -> PResult<u64> {
        let what = "a rate such as `10mbit`";
        let Some((w, span)) = cur.word() else {
            return Err(self.expected(cur, what, "rate"));
        };
        units::rate(w).map_err(|e| match e {
            UnitError::NoUnit(n) => self.err(
                span,
                format!("expected a unit (bit, kbit, mbit, gbit) after {n:?}, as in `{n}mbit`"),
            ),
            UnitError::BadUnit(u) => self.err(
                span,
                format!("unknown rate unit {u:?}; expected bit, kbit, mbit or gbit"),
            ),
            UnitError::TooPrecise => self.err(span, format!("{w:?} is finer than a bit/s")),
            UnitError::TooLarge => self.err(span, format!("{w:?} is too large")),
            UnitError::NotANumber => {
                self.err(span, format!("expected {what} after `rate`, found {w:?}"))
            }
        })
    }

    fn percent(&self, cur: &mut Cur<'_>, after: &str) -> PResult<Ppm> {
        let what = "a percentage such as `1%`";
        let Some((w, span)) = cur.word() else {
            return Err(self.expected(cur, what, after));
        };
        units::percent(w).map_err(|e| match e {
            UnitError::NoUnit(n) => {
                self.err(span, format!("expected `%` after {n:?}, as in `{n}%`"))
            }
            UnitError::TooLarge => self.err(
                span,
                format!("expected a percentage from 0% to 100%, found {w:?}"),
            ),
            UnitError::TooPrecise => self.err(
                span,
                format!("{w:?} is finer than one in a million (0.0001%)"),
            ),
            UnitError::NotANumber | UnitError::BadUnit(_) => self.err(
                span,
                format!("expected {what} after `{after}`, found {w:?}"),
            ),
        })
    }

    fn hz_value(&self, cur: &mut Cur<'_>, after: &str) -> PResult<u32> {
        let here = cur.here();
        let Some((w, _)) = cur.word() else {
            return Err(self.expected(cur, "100, 250, 300 or 1000", after));
        };
        let hz = units::integer(w)
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| HZ_VALUES.contains(n))
            .ok_or_else(|| {
                self.err(
                    here,
                    format!("expected 100, 250, 300 or 1000 (Linux's HZ choices) after `{after}`, found {w:?}"),
                )
            })?;
        self.end(cur, &format!("{after} {w}"))?;
        Ok(hz)
    }

    fn set_hz(&mut self, host: Option<HostRef>, hz: u32, span: Span) -> PResult<()> {
        let idx = host.as_ref().map(|h| h.index);
        if let Some(prev) = self
            .settings
            .hz
            .iter()
            .find(|s| s.host.as_ref().map(|h| h.index) == idx)
        {
            let scope = match &host {
                Some(h) => format!("for host `{}`", h.name),
                None => "for all hosts".to_string(),
            };
            return Err(self.err(
                span,
                format!(
                    "hz is already set {scope} (line {}); expected it once",
                    prev.span.line
                ),
            ));
        }
        self.settings.hz.push(HzSetting { host, hz, span });
        Ok(())
    }

    fn seed_line(&mut self, cur: &mut Cur<'_>, span: Span) -> PResult<()> {
        if let Some(prev) = &self.settings.seed {
            return Err(self.err(
                span,
                format!(
                    "the seed is already set (line {}); expected it once",
                    prev.span.line
                ),
            ));
        }
        let value = self.uint(cur, "a number", "seed", u64::MAX)?;
        self.end(cur, &format!("seed {value}"))?;
        self.settings.seed = Some(Seed { value, span });
        Ok(())
    }

    fn run_line(&mut self, cur: &mut Cur<'_>, span: Span) -> PResult<()> {
        let duration = self.duration(cur, "run")?;
        self.end(cur, &format!("run {}", format_duration(duration)))?;
        let end = format_duration(duration);
        for step in &self.steps {
            if step.time > duration {
                return Err(self.err(
                    span,
                    format!(
                        "the run ends at {end}, before the step at {} (line {}); expected \
                         `run {}` or longer",
                        format_duration(step.time),
                        step.span.line,
                        format_duration(step.time)
                    ),
                ));
            }
            for t in expect_times(step) {
                if t.time > duration {
                    return Err(self.err(
                        span,
                        format!(
                            "the run ends at {end}, before the expected time {} (line {}); \
                             expected `run {}` or longer",
                            format_duration(t.time),
                            t.span.line,
                            format_duration(t.time)
                        ),
                    ));
                }
            }
        }
        self.run = Some(Run { duration, span });
        Ok(())
    }
}

/// The times an assertion mentions.
fn expect_times(step: &Step) -> Vec<TimeSpec> {
    match &step.command {
        Command::Expect(Expect::Packet { times, .. }) => times.iter().map(|t| t.time).collect(),
        Command::Expect(Expect::Errno { at: Some(t), .. }) => vec![t.time],
        Command::Expect(Expect::NoPacket { from, until, .. }) => {
            from.iter().chain(until.iter()).copied().collect()
        }
        _ => Vec::new(),
    }
}

/// `1%`, `0.5%` as written back.
pub(crate) fn format_ppm(p: Ppm) -> String {
    let whole = p.0 / 10_000;
    let frac = p.0 % 10_000;
    if frac == 0 {
        format!("{whole}%")
    } else {
        let digits = format!("{frac:04}");
        format!("{whole}.{}%", digits.trim_end_matches('0'))
    }
}
