//! Recursive-descent parser for packetdrill's grammar (`parser.y` in google/packetdrill).
//!
//! One method per grammar rule, named after it. Nesting of `[..]`, `{..}` and `(..)`, and the
//! length of `a | b | ...` chains, are capped at [`MAX_DEPTH`] so hostile input can exhaust
//! neither the stack of the parser nor that of the tree's recursive `Drop`.

use crate::ParseError;
use crate::ast::*;
use crate::lexer::{TokKind, Token};

/// Deepest nesting of brackets accepted in an expression.
const MAX_DEPTH: usize = 64;

/// Packet lines whose first word after the direction (and IP info) makes them non-TCP.
const UNSUPPORTED_PACKETS: [&str; 6] = ["udp", "icmp", "ipv4", "ipv6", "gre", "mpls"];

pub(crate) struct Parser<'a> {
    file: &'a str,
    toks: Vec<Token>,
    chars: Vec<char>,
    i: usize,
    depth: usize,
}

type PResult<T> = Result<T, ParseError>;

impl<'a> Parser<'a> {
    pub(crate) fn new(file: &'a str, toks: Vec<Token>, chars: Vec<char>) -> Self {
        Parser {
            file,
            toks,
            chars,
            i: 0,
            depth: 0,
        }
    }

    // ----- token helpers -----

    fn tok(&self) -> &Token {
        self.nth(0)
    }

    fn nth(&self, ahead: usize) -> &Token {
        // The token list always ends with Eof, so clamping keeps every look-ahead valid.
        let last = self.toks.len().saturating_sub(1);
        &self.toks[(self.i + ahead).min(last)]
    }

    fn kind(&self) -> &TokKind {
        &self.tok().kind
    }

    fn pos(&self) -> Pos {
        self.tok().pos
    }

    fn bump(&mut self) -> Token {
        let t = self.tok().clone();
        if !t.is_last() {
            self.i += 1;
        }
        t
    }

    fn error<T>(&self, expected: &str) -> PResult<T> {
        Err(self.error_at(self.tok(), expected))
    }

    fn error_at(&self, tok: &Token, expected: &str) -> ParseError {
        match &tok.kind {
            // A lexer error explains itself better than any parser expectation.
            TokKind::Error(e) => (**e).clone(),
            kind => ParseError::new(self.file, tok.pos, expected, kind.describe()),
        }
    }

    fn is_punct(&self, c: char) -> bool {
        *self.kind() == TokKind::Punct(c)
    }

    fn eat_punct(&mut self, c: char) -> bool {
        if self.is_punct(c) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn expect_punct(&mut self, c: char) -> PResult<Pos> {
        let pos = self.pos();
        if self.eat_punct(c) {
            Ok(pos)
        } else {
            self.error(&format!("`{c}`"))
        }
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.kind(), TokKind::Word(x) if x == w)
    }

    fn expect_word(&mut self, w: &str) -> PResult<()> {
        if self.is_word(w) {
            self.bump();
            Ok(())
        } else {
            self.error(&format!("`{w}`"))
        }
    }

    fn any_int(&mut self, what: &str) -> PResult<u64> {
        match *self.kind() {
            TokKind::Int(n) | TokKind::Hex(n) => {
                self.bump();
                Ok(n)
            }
            _ => self.error(what),
        }
    }

    fn u32_int(&mut self, what: &str) -> PResult<u32> {
        let tok = self.tok().clone();
        let n = self.any_int(what)?;
        u32::try_from(n).map_err(|_| {
            ParseError::new(
                self.file,
                tok.pos,
                &format!("{what} below 2^32"),
                tok.kind.describe(),
            )
        })
    }

    /// Source text from the start of token `from` to the end of token `to` (inclusive).
    fn text(&self, from: &Token, to: &Token) -> String {
        let end = to.end.min(self.chars.len());
        let start = from.start.min(end);
        self.chars[start..end].iter().collect()
    }

    // ----- script structure -----

    pub(crate) fn script(mut self) -> PResult<Script> {
        let mut options = Vec::new();
        while let TokKind::Option(name, value) = self.kind().clone() {
            let pos = self.bump().pos;
            options.push(CmdOption { pos, name, value });
        }
        let mut init_command = None;
        if let TokKind::BackQuoted(text) = self.kind().clone() {
            let pos = self.bump().pos;
            init_command = Some(Command { pos, text });
        }
        let mut events = Vec::new();
        let mut cleanup_command = None;
        loop {
            match self.kind().clone() {
                TokKind::Eof => break,
                TokKind::Error(e) => return Err(*e),
                TokKind::BackQuoted(text) if self.nth(1).kind == TokKind::Eof => {
                    let pos = self.bump().pos;
                    cleanup_command = Some(Command { pos, text });
                }
                _ => events.push(self.event()?),
            }
        }
        Ok(Script {
            options,
            init_command,
            events,
            cleanup_command,
        })
    }

    fn event(&mut self) -> PResult<Event> {
        let pos = self.pos();
        let time = self.event_time()?;
        let action = self.action()?;
        // One event per line: catches a stray word where packetdrill would report the next
        // line instead.
        let last_line = self
            .i
            .checked_sub(1)
            .and_then(|k| self.toks.get(k))
            .map_or(0, |t| t.end_line);
        if !self.tok().is_last() && self.pos().line == last_line {
            return self.error("end of line");
        }
        Ok(Event { pos, time, action })
    }

    fn event_time(&mut self) -> PResult<EventTime> {
        if self.eat_punct('*') {
            return Ok(EventTime::Any);
        }
        if self.eat_punct('+') {
            let lo = self.time()?;
            if self.eat_punct('~') {
                self.expect_punct('+')?;
                let hi = self.time()?;
                return Ok(EventTime::RelativeRange(lo, hi));
            }
            return Ok(EventTime::Relative(lo));
        }
        if !matches!(self.kind(), TokKind::Int(_) | TokKind::Float(_)) {
            return self.error("an event time (`0.1`, `+0.1`, `*` or `0.1~0.2`)");
        }
        let lo = self.time()?;
        if self.eat_punct('~') {
            let hi = self.time()?;
            return Ok(EventTime::AbsoluteRange(lo, hi));
        }
        Ok(EventTime::Absolute(lo))
    }

    fn time(&mut self) -> PResult<Time> {
        let tok = self.tok().clone();
        let usecs = match &tok.kind {
            TokKind::Int(n) => n.checked_mul(1_000_000),
            TokKind::Float(s) => float_usecs(s),
            _ => return self.error("a time in seconds"),
        };
        let Some(usecs) = usecs else {
            return Err(self.error_at(&tok, "a time below 2^64 microseconds"));
        };
        self.bump();
        Ok(Time {
            pos: tok.pos,
            usecs,
        })
    }

    fn action(&mut self) -> PResult<Action> {
        let tok = self.tok().clone();
        match tok.kind {
            TokKind::Punct('<' | '>') => self.packet(),
            TokKind::BackQuoted(text) => {
                self.bump();
                Ok(Action::Command(Command { pos: tok.pos, text }))
            }
            TokKind::Code(text) => {
                self.bump();
                Ok(Action::Code(Code { pos: tok.pos, text }))
            }
            TokKind::Ellipsis | TokKind::Word(_) => self.syscall().map(Action::Syscall),
            _ => self.error("a packet, a system call, a shell command or a `%{ }%` block"),
        }
    }

    // ----- packets -----

    fn packet(&mut self) -> PResult<Action> {
        let dir_tok = self.bump();
        let direction = if dir_tok.kind == TokKind::Punct('<') {
            Direction::Inbound
        } else {
            Direction::Outbound
        };
        if let Some(kind) = self.unsupported_kind(&dir_tok) {
            let mut last = dir_tok.clone();
            while !self.tok().is_last() && self.pos().line == dir_tok.pos.line {
                last = self.bump();
            }
            return Ok(Action::Unsupported(Unsupported {
                pos: dir_tok.pos,
                kind,
                text: self.text(&dir_tok, &last),
            }));
        }
        let ip_info = self.opt_ip_info()?;
        let mut ports = None;
        if matches!(self.kind(), TokKind::Int(_)) && self.nth(1).kind == TokKind::Punct('>') {
            let src = self.port()?;
            self.bump();
            let dst = self.port()?;
            ports = Some((src, dst));
        }
        let flags = self.flags()?;
        let seq = self.seq()?;
        let ack = if self.is_word("ack") {
            self.bump();
            Some(self.u32_int("an acknowledgment number")?)
        } else {
            None
        };
        let win = if self.is_word("win") {
            self.bump();
            Some(self.u32_int("a window")?)
        } else {
            None
        };
        let urg = if self.is_word("urg") {
            self.bump();
            Some(self.u32_int("an urgent pointer")?)
        } else {
            None
        };
        let options = if self.is_punct('<') {
            Some(self.tcp_options()?)
        } else {
            None
        };
        Ok(Action::Packet(TcpPacket {
            pos: dir_tok.pos,
            direction,
            ip_info,
            ports,
            flags,
            seq,
            ack,
            win,
            urg,
            options,
        }))
    }

    /// Looks past an optional `(..)`/`[..]` IP info for `udp`, `icmp` or a tunnel prefix.
    fn unsupported_kind(&self, dir_tok: &Token) -> Option<String> {
        let mut k = 0;
        if matches!(self.nth(0).kind, TokKind::Punct('(' | '[')) {
            while !matches!(self.nth(k).kind, TokKind::Punct(')' | ']'))
                && !self.nth(k).is_last()
                && self.nth(k).pos.line == dir_tok.pos.line
            {
                k += 1;
            }
            k += 1;
        }
        match &self.nth(k).kind {
            TokKind::Word(w) if UNSUPPORTED_PACKETS.contains(&w.as_str()) => Some(w.clone()),
            _ => None,
        }
    }

    fn port(&mut self) -> PResult<u16> {
        let tok = self.tok().clone();
        let n = self.any_int("a port")?;
        u16::try_from(n).map_err(|_| self.error_at(&tok, "a port below 65536"))
    }

    fn opt_ip_info(&mut self) -> PResult<Option<IpInfo>> {
        let close = match self.kind() {
            TokKind::Punct('(') => ')',
            TokKind::Punct('[') => ']',
            _ => return Ok(None),
        };
        let pos = self.bump().pos;
        let mut items = Vec::new();
        loop {
            let tok = self.tok().clone();
            let TokKind::Word(w) = &tok.kind else {
                return self
                    .error("`ect0`, `ect1`, `ect01`, `ce`, `no_ecn`, `tos`, `flowlabel` or `ttl`");
            };
            self.bump();
            let item = match w.as_str() {
                "no_ecn" | "ect0" | "ect1" | "ect01" | "ce" => IpInfoItem::Ecn(w.clone()),
                "tos" => IpInfoItem::Tos(self.any_int("a TOS value")?),
                "flowlabel" => IpInfoItem::FlowLabel(self.any_int("a flow label")?),
                "ttl" => IpInfoItem::Ttl(self.any_int("a TTL")?),
                _ => {
                    return Err(self.error_at(
                        &tok,
                        "`ect0`, `ect1`, `ect01`, `ce`, `no_ecn`, `tos`, `flowlabel` or `ttl`",
                    ));
                }
            };
            items.push(item);
            if self.eat_punct(close) {
                return Ok(Some(IpInfo { pos, items }));
            }
            self.expect_punct(',')?;
        }
    }

    fn flags(&mut self) -> PResult<TcpFlags> {
        let tok = self.tok().clone();
        let mut f = TcpFlags {
            pos: tok.pos,
            ..TcpFlags::default()
        };
        const EXPECTED: &str = "TCP flags (letters of `FSRPUEWA`, `.` or `-`)";
        match &tok.kind {
            TokKind::Punct('-') => {
                self.bump();
                return Ok(f);
            }
            TokKind::Punct('.') => {}
            TokKind::Word(w) => {
                for c in w.chars() {
                    let bit = match c {
                        'F' => &mut f.fin,
                        'S' => &mut f.syn,
                        'R' => &mut f.rst,
                        'P' => &mut f.psh,
                        'U' => &mut f.urg,
                        'E' => &mut f.ece,
                        'W' => &mut f.cwr,
                        'A' => &mut f.ae,
                        _ => return Err(self.error_at(&tok, EXPECTED)),
                    };
                    *bit = true;
                }
                self.bump();
            }
            _ => return self.error(EXPECTED),
        }
        if self.eat_punct('.') {
            f.ack = true;
        }
        Ok(f)
    }

    fn seq(&mut self) -> PResult<SeqRange> {
        let pos = self.pos();
        let start = self.u32_int("a sequence number (`start:end(len)`)")?;
        self.expect_punct(':')?;
        let end = self.u32_int("an end sequence number")?;
        self.expect_punct('(')?;
        let len = self.u32_int("a payload length")?;
        self.expect_punct(')')?;
        Ok(SeqRange {
            pos,
            start,
            end,
            len,
        })
    }

    fn tcp_options(&mut self) -> PResult<TcpOptions> {
        let open = self.expect_punct('<')?;
        if *self.kind() == TokKind::Ellipsis {
            self.bump();
            self.expect_punct('>')?;
            return Ok(TcpOptions::Any(open));
        }
        let mut list = vec![self.tcp_option()?];
        while self.eat_punct(',') {
            list.push(self.tcp_option()?);
        }
        self.expect_punct('>')?;
        Ok(TcpOptions::List(list))
    }

    fn tcp_option(&mut self) -> PResult<TcpOption> {
        const EXPECTED: &str = "a TCP option (`nop`, `eol`, `mss`, `wscale`, `sackOK`, `sack`, `TS`, `md5`, `FO`, `FOEXP`)";
        let tok = self.tok().clone();
        let TokKind::Word(w) = &tok.kind else {
            return self.error(EXPECTED);
        };
        let kind = match w.as_str() {
            "nop" => TcpOptionKind::Nop,
            "eol" => TcpOptionKind::Eol,
            "mss" => {
                self.bump();
                TcpOptionKind::Mss(self.u32_int("an MSS")?)
            }
            "wscale" => {
                self.bump();
                TcpOptionKind::WScale(self.u32_int("a window scale")?)
            }
            "sackOK" => TcpOptionKind::SackOk,
            "sack" => {
                self.bump();
                let mut blocks = Vec::new();
                loop {
                    let left = self.u32_int("a SACK block (`start:end`)")?;
                    self.expect_punct(':')?;
                    let right = self.u32_int("a SACK block end")?;
                    blocks.push((left, right));
                    if !matches!(self.kind(), TokKind::Int(_) | TokKind::Hex(_)) {
                        break;
                    }
                }
                TcpOptionKind::Sack(blocks)
            }
            "TS" => {
                self.bump();
                self.expect_word("val")?;
                let val = self.u32_int("a TSval")?;
                self.expect_word("ecr")?;
                let ecr = self.u32_int("a TSecr")?;
                TcpOptionKind::Timestamp { val, ecr }
            }
            "md5" => {
                self.bump();
                match self.hex_blob() {
                    Some(b) => TcpOptionKind::Md5(b),
                    None => return self.error("an MD5 digest"),
                }
            }
            "FO" => {
                self.bump();
                TcpOptionKind::FastOpen(self.hex_blob())
            }
            "FOEXP" => {
                self.bump();
                TcpOptionKind::FastOpenExp(self.hex_blob())
            }
            _ => return self.error(EXPECTED),
        };
        if matches!(
            kind,
            TcpOptionKind::Nop | TcpOptionKind::Eol | TcpOptionKind::SackOk
        ) {
            self.bump();
        }
        Ok(TcpOption { pos: tok.pos, kind })
    }

    /// A hex blob as written; `01ab` lexes as `01` `ab`, so touching tokens are joined.
    fn hex_blob(&mut self) -> Option<String> {
        let blob = |k: &TokKind| matches!(k, TokKind::Int(_) | TokKind::Hex(_) | TokKind::Word(_));
        if !blob(self.kind()) {
            return None;
        }
        let first = self.bump();
        let mut last = first.clone();
        while blob(self.kind()) && self.tok().start == last.end {
            last = self.bump();
        }
        Some(self.text(&first, &last))
    }

    // ----- system calls -----

    fn syscall(&mut self) -> PResult<Syscall> {
        let end_time = if *self.kind() == TokKind::Ellipsis {
            self.bump();
            Some(self.time()?)
        } else {
            None
        };
        let tok = self.tok().clone();
        let TokKind::Word(name) = tok.kind else {
            return self.error("a system call name");
        };
        self.bump();
        self.expect_punct('(')?;
        let args = self.expr_list(')')?;
        self.expect_punct('=')?;
        let result = self.expr()?;
        let errno = match self.kind().clone() {
            TokKind::Word(name) => Some(Ident {
                pos: self.bump().pos,
                name,
            }),
            _ => None,
        };
        let note = if self.is_punct('(') {
            Some(self.note()?)
        } else {
            None
        };
        Ok(Syscall {
            pos: tok.pos,
            end_time,
            name,
            args,
            result,
            errno,
            note,
        })
    }

    fn note(&mut self) -> PResult<Note> {
        let open = self.bump();
        let mut words: Vec<String> = Vec::new();
        let mut nest = 0usize;
        loop {
            let tok = self.tok().clone();
            match tok.kind {
                TokKind::Eof | TokKind::Error(_) => return self.error("`)` closing this note"),
                TokKind::Punct(')') if nest == 0 => {
                    self.bump();
                    break;
                }
                TokKind::Punct(')') => nest -= 1,
                TokKind::Punct('(') => nest += 1,
                _ => {}
            }
            self.bump();
            words.push(self.text(&tok, &tok));
        }
        Ok(Note {
            pos: open.pos,
            text: words.join(" "),
        })
    }

    /// Comma-separated expressions up to and including `close`.
    fn expr_list(&mut self, close: char) -> PResult<Vec<Expr>> {
        let mut list = Vec::new();
        if self.eat_punct(close) {
            return Ok(list);
        }
        loop {
            list.push(self.expr()?);
            if self.eat_punct(close) {
                return Ok(list);
            }
            if !self.eat_punct(',') {
                return self.error(&format!("`,` or `{close}`"));
            }
        }
    }

    fn expr(&mut self) -> PResult<Expr> {
        if self.depth >= MAX_DEPTH {
            return self.error(&format!("at most {MAX_DEPTH} levels of nesting"));
        }
        self.depth += 1;
        let r = self.bitor_expr();
        self.depth -= 1;
        r
    }

    fn bitor_expr(&mut self) -> PResult<Expr> {
        let mut lhs = self.primary()?;
        let mut operands = 1;
        while self.eat_punct('|') {
            // The chain nests to the left, so its length is bounded like bracket nesting.
            operands += 1;
            if operands > MAX_DEPTH {
                return self.error(&format!("at most {MAX_DEPTH} operands of `|`"));
            }
            let rhs = self.primary()?;
            lhs = Expr {
                pos: lhs.pos,
                kind: ExprKind::BitOr(Box::new(lhs), Box::new(rhs)),
            };
        }
        Ok(lhs)
    }

    fn primary(&mut self) -> PResult<Expr> {
        let tok = self.tok().clone();
        let pos = tok.pos;
        let kind = match tok.kind {
            TokKind::Ellipsis => {
                self.bump();
                ExprKind::Ellipsis
            }
            TokKind::Int(n) => {
                self.bump();
                match i64::try_from(n) {
                    Ok(v) => ExprKind::Int(v),
                    Err(_) => return Err(self.error_at(&tok, "an integer below 2^63")),
                }
            }
            TokKind::Hex(n) => {
                self.bump();
                ExprKind::Hex(n)
            }
            TokKind::Punct('-') => {
                self.bump();
                let itok = self.tok().clone();
                let TokKind::Int(n) = itok.kind else {
                    return self.error("an integer after `-`");
                };
                self.bump();
                match 0i64.checked_sub_unsigned(n) {
                    Some(v) => ExprKind::Int(v),
                    None => return Err(self.error_at(&itok, "an integer not below -2^63")),
                }
            }
            TokKind::Str(s) => {
                self.bump();
                if *self.kind() == TokKind::Ellipsis {
                    self.bump();
                    ExprKind::StrPrefix(s)
                } else {
                    ExprKind::Str(s)
                }
            }
            TokKind::Word(name) => {
                self.bump();
                let ident = Ident { pos, name };
                let next = self.tok();
                if next.kind == TokKind::Punct('(') && next.start == tok.end {
                    self.bump();
                    let args = self.expr_list(')')?;
                    if self.eat_punct('=') {
                        let value = self.expr()?;
                        ExprKind::CallField(ident, args, Box::new(value))
                    } else {
                        ExprKind::Call(ident, args)
                    }
                } else if self.eat_punct('=') {
                    ExprKind::Field(ident, Box::new(self.expr()?))
                } else {
                    ExprKind::Word(ident.name)
                }
            }
            TokKind::Punct('[') => {
                self.bump();
                ExprKind::Array(self.expr_list(']')?)
            }
            TokKind::Punct('{') => {
                self.bump();
                ExprKind::Struct(self.expr_list('}')?)
            }
            _ => return self.error("an expression"),
        };
        Ok(Expr { pos, kind })
    }
}

/// Converts decimal seconds (`1.25`, `.3`) to microseconds without floating point.
fn float_usecs(s: &str) -> Option<u64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let whole: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut micros = 0u64;
    let mut digits = frac.chars();
    for _ in 0..6 {
        let d = digits.next().and_then(|c| c.to_digit(10)).unwrap_or(0);
        micros = micros * 10 + u64::from(d);
    }
    whole.checked_mul(1_000_000)?.checked_add(micros)
}

#[cfg(test)]
mod tests {
    use super::float_usecs;

    #[test]
    fn float_seconds_convert_exactly() {
        assert_eq!(float_usecs("0.1"), Some(100_000));
        assert_eq!(float_usecs(".01"), Some(10_000));
        assert_eq!(float_usecs("1.2"), Some(1_200_000));
        assert_eq!(float_usecs("0.0000019"), Some(1));
        assert_eq!(float_usecs("18446744073709.6"), None);
    }
}
