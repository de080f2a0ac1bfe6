//! Tokens of a packetdrill script.
//!
//! The lexer follows packetdrill's flex rules closely enough that every script it accepts is
//! split the same way: `0...0.200` is an integer, an ellipsis and a float; `S.` is a word and a
//! dot; `--name=value` is one option token whose value runs to the next blank. Comments
//! (`// ...` and `/* ... */`) and white space vanish. It never panics: any input gives tokens
//! or a [`ParseError`] with the position of the offending character.

use crate::ParseError;
use crate::ast::{OptionValue, Pos};

/// What a token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokKind {
    /// Decimal integer.
    Int(u64),
    /// `0x` hexadecimal integer.
    Hex(u64),
    /// `1.5`, `.5`: kept as text so times convert exactly.
    Float(String),
    /// Dotted-quad address.
    Ipv4(String),
    /// Identifier or keyword.
    Word(String),
    /// Double-quoted string, escapes undone.
    Str(String),
    /// Back-quoted shell command, verbatim.
    BackQuoted(String),
    /// `%{ ... }%` block, verbatim.
    Code(String),
    /// `--name[=value]`.
    Option(String, Option<OptionValue>),
    /// `...`.
    Ellipsis,
    /// One punctuation character.
    Punct(char),
    /// End of input.
    Eof,
    /// Text that is no token; always the last token.
    Error(Box<ParseError>),
}

/// A token with where it starts and ends (character offsets into the source).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokKind,
    pub pos: Pos,
    pub start: usize,
    pub end: usize,
    /// Line of the token's last character (back-quoted commands may span lines).
    pub end_line: u32,
}

impl Token {
    /// Whether this is the final token (end of input or a lexer error); the parser never
    /// moves past it.
    pub(crate) fn is_last(&self) -> bool {
        matches!(self.kind, TokKind::Eof | TokKind::Error(_))
    }
}

impl TokKind {
    /// How an error message names this token.
    pub(crate) fn describe(&self) -> String {
        match self {
            TokKind::Int(n) => format!("integer `{n}`"),
            TokKind::Hex(n) => format!("integer `{n:#x}`"),
            TokKind::Float(s) => format!("number `{s}`"),
            TokKind::Ipv4(s) => format!("address `{s}`"),
            TokKind::Word(w) => format!("`{w}`"),
            TokKind::Str(_) => "a string".to_string(),
            TokKind::BackQuoted(_) => "a shell command".to_string(),
            TokKind::Code(_) => "a `%{ }%` block".to_string(),
            TokKind::Option(n, _) => format!("option `--{n}`"),
            TokKind::Ellipsis => "`...`".to_string(),
            TokKind::Punct(c) => format!("`{c}`"),
            TokKind::Eof => "end of input".to_string(),
            TokKind::Error(e) => e.found.clone(),
        }
    }
}

const PUNCT: &str = "+*~<>.-:()[]{},=|";

struct Lexer<'a> {
    file: &'a str,
    chars: Vec<char>,
    i: usize,
    line: u32,
    col: u32,
}

/// Splits `src` into tokens, ending with one [`TokKind::Eof`], or with one
/// [`TokKind::Error`] at the first text that is no token. The error travels as a token so the
/// parser reports whichever problem comes first in the file.
pub(crate) fn tokenize(file: &str, src: &str) -> (Vec<Token>, Vec<char>) {
    let mut lx = Lexer {
        file,
        chars: src.chars().collect(),
        i: 0,
        line: 1,
        col: 1,
    };
    let mut toks = Vec::new();
    loop {
        let skipped = lx.skip_blank();
        let (pos, start) = (lx.pos(), lx.i);
        let kind = match skipped.and_then(|()| lx.token()) {
            Ok(kind) => kind,
            Err(e) => TokKind::Error(Box::new(e)),
        };
        let last = matches!(kind, TokKind::Eof | TokKind::Error(_));
        let pos = match &kind {
            TokKind::Error(e) => e.pos,
            _ => pos,
        };
        toks.push(Token {
            kind,
            pos,
            start,
            end: lx.i,
            end_line: lx.line_of_last_char(start),
        });
        if last {
            return (toks, lx.chars);
        }
    }
}

impl Lexer<'_> {
    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            col: self.col,
        }
    }

    /// Line of the character before the cursor, for a token that started at `start`.
    fn line_of_last_char(&self, start: usize) -> u32 {
        if self.i > start && self.chars.get(self.i - 1) == Some(&'\n') {
            self.line.saturating_sub(1)
        } else {
            self.line
        }
    }

    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.i + ahead).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek(0)?;
        self.i += 1;
        if c == '\n' {
            self.line = self.line.saturating_add(1);
            self.col = 1;
        } else {
            self.col = self.col.saturating_add(1);
        }
        Some(c)
    }

    fn err(&self, pos: Pos, expected: &str, found: String) -> ParseError {
        ParseError::new(self.file, pos, expected, found)
    }

    fn found_here(&self) -> String {
        match self.peek(0) {
            None => "end of input".to_string(),
            Some('\n') => "end of line".to_string(),
            Some(c) => format!("`{}`", c.escape_debug()),
        }
    }

    fn skip_blank(&mut self) -> Result<(), ParseError> {
        loop {
            match (self.peek(0), self.peek(1)) {
                (Some(c), _) if c.is_whitespace() => {
                    self.bump();
                }
                (Some('/'), Some('/')) => {
                    while self.peek(0).is_some_and(|c| c != '\n') {
                        self.bump();
                    }
                }
                (Some('/'), Some('*')) => {
                    let pos = self.pos();
                    self.bump();
                    self.bump();
                    loop {
                        match (self.peek(0), self.peek(1)) {
                            (Some('*'), Some('/')) => {
                                self.bump();
                                self.bump();
                                break;
                            }
                            (Some(_), _) => {
                                self.bump();
                            }
                            (None, _) => {
                                return Err(self.err(
                                    pos,
                                    "`*/` closing this comment",
                                    "end of input".to_string(),
                                ));
                            }
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn take_while(&mut self, f: impl Fn(char) -> bool) -> String {
        let mut s = String::new();
        while let Some(c) = self.peek(0).filter(|&c| f(c)) {
            s.push(c);
            self.bump();
        }
        s
    }

    fn token(&mut self) -> Result<TokKind, ParseError> {
        let pos = self.pos();
        let Some(c) = self.peek(0) else {
            return Ok(TokKind::Eof);
        };
        match c {
            '0'..='9' => self.number(),
            '.' if self.peek(1) == Some('.') && self.peek(2) == Some('.') => {
                self.bump();
                self.bump();
                self.bump();
                Ok(TokKind::Ellipsis)
            }
            '.' if self.peek(1).is_some_and(|c| c.is_ascii_digit()) => {
                self.bump();
                let frac = self.take_while(|c| c.is_ascii_digit());
                Ok(TokKind::Float(format!(".{frac}")))
            }
            '-' if self.peek(1) == Some('-') => self.option(),
            'a'..='z' | 'A'..='Z' | '_' => Ok(TokKind::Word(
                self.take_while(|c| c.is_ascii_alphanumeric() || c == '_'),
            )),
            '"' => self.string().map(TokKind::Str),
            '`' => {
                self.bump();
                let text = self.take_while(|c| c != '`');
                if self.bump().is_none() {
                    return Err(self.err(
                        pos,
                        "a closing back quote for this command",
                        "end of input".to_string(),
                    ));
                }
                Ok(TokKind::BackQuoted(text))
            }
            '%' if self.peek(1) == Some('{') => {
                self.bump();
                self.bump();
                let mut text = String::new();
                loop {
                    match (self.peek(0), self.peek(1)) {
                        (Some('}'), Some('%')) => {
                            self.bump();
                            self.bump();
                            return Ok(TokKind::Code(text));
                        }
                        (Some(c), _) => {
                            text.push(c);
                            self.bump();
                        }
                        (None, _) => {
                            return Err(self.err(
                                pos,
                                "`}%` closing this block",
                                "end of input".to_string(),
                            ));
                        }
                    }
                }
            }
            c if PUNCT.contains(c) => {
                self.bump();
                Ok(TokKind::Punct(c))
            }
            _ => Err(self.err(pos, "a token", self.found_here())),
        }
    }

    fn number(&mut self) -> Result<TokKind, ParseError> {
        let pos = self.pos();
        if self.peek(0) == Some('0')
            && matches!(self.peek(1), Some('x' | 'X'))
            && self.peek(2).is_some_and(|c| c.is_ascii_hexdigit())
        {
            self.bump();
            self.bump();
            let digits = self.take_while(|c| c.is_ascii_hexdigit());
            return u64::from_str_radix(&digits, 16)
                .map(TokKind::Hex)
                .map_err(|_| self.err(pos, "an integer below 2^64", format!("`0x{digits}`")));
        }
        let int = self.take_while(|c| c.is_ascii_digit());
        if self.peek(0) == Some('.') && self.peek(1).is_some_and(|c| c.is_ascii_digit()) {
            // A dotted quad looks like a float followed by more fractions; look ahead for it.
            let save = (self.i, self.line, self.col);
            let mut text = int.clone();
            let mut parts = 1;
            while parts < 4
                && self.peek(0) == Some('.')
                && self.peek(1).is_some_and(|c| c.is_ascii_digit())
            {
                self.bump();
                text.push('.');
                text.push_str(&self.take_while(|c| c.is_ascii_digit()));
                parts += 1;
            }
            if parts == 4 && text.parse::<std::net::Ipv4Addr>().is_ok() {
                return Ok(TokKind::Ipv4(text));
            }
            (self.i, self.line, self.col) = save;
            self.bump();
            let frac = self.take_while(|c| c.is_ascii_digit());
            return Ok(TokKind::Float(format!("{int}.{frac}")));
        }
        int.parse::<u64>()
            .map(TokKind::Int)
            .map_err(|_| self.err(pos, "an integer below 2^64", format!("`{int}`")))
    }

    fn string(&mut self) -> Result<String, ParseError> {
        let pos = self.pos();
        self.bump();
        let mut s = String::new();
        loop {
            match self.bump() {
                None => {
                    return Err(self.err(
                        pos,
                        "a closing `\"` for this string",
                        "end of input".to_string(),
                    ));
                }
                Some('"') => return Ok(s),
                Some('\\') => match self.bump() {
                    Some('n') => s.push('\n'),
                    Some('t') => s.push('\t'),
                    Some('r') => s.push('\r'),
                    Some('0') => s.push('\0'),
                    Some(c) => s.push(c),
                    None => {
                        return Err(self.err(
                            pos,
                            "a closing `\"` for this string",
                            "end of input".to_string(),
                        ));
                    }
                },
                Some(c) => s.push(c),
            }
        }
    }

    fn option(&mut self) -> Result<TokKind, ParseError> {
        let pos = self.pos();
        self.bump();
        self.bump();
        let name = self.take_while(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if name.is_empty() {
            return Err(self.err(pos, "an option name after `--`", self.found_here()));
        }
        if self.peek(0) != Some('=') {
            return Ok(TokKind::Option(name, None));
        }
        self.bump();
        let value = if self.peek(0) == Some('"') {
            OptionValue::Str(self.string()?)
        } else {
            let vpos = self.pos();
            let raw = self.take_while(|c| !c.is_whitespace());
            if raw.is_empty() {
                return Err(self.err(vpos, "a value after `=`", self.found_here()));
            }
            classify_option_value(raw)
        };
        Ok(TokKind::Option(name, Some(value)))
    }
}

fn classify_option_value(raw: String) -> OptionValue {
    let hex = raw.strip_prefix("0x").or_else(|| raw.strip_prefix("0X"));
    let int = match hex {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None if raw.chars().all(|c| c.is_ascii_digit()) => raw.parse().ok(),
        None => None,
    };
    if let Some(n) = int {
        return OptionValue::Integer(n);
    }
    if raw.parse::<std::net::Ipv4Addr>().is_ok() {
        return OptionValue::Ipv4(raw);
    }
    if raw.parse::<std::net::Ipv6Addr>().is_ok() {
        return OptionValue::Ipv6(raw);
    }
    OptionValue::Word(raw)
}
