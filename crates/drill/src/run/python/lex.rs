//! Tokens of the `%{ }%` subset.

use super::*;
// ---------------------------------------------------------------------------------------------
// Tokens

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
    Name(String),
    Int(i128),
    Float(f64),
    Str(String),
    Op(&'static str),
    /// A literal outside the subset (bytes, f-string, complex, a huge integer), reported if
    /// the parser reaches it.
    Unsupported(&'static str),
    Newline,
    Eof,
    /// The text stops being Python here; always the last token.
    Error(CodeError),
}

#[derive(Clone, Debug)]
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) pos: CodePos,
    /// Character offsets of the token's text.
    pub(super) span: (usize, usize),
}

pub(super) static EOF: Token = Token {
    tok: Tok::Eof,
    pos: CodePos { line: 1, col: 1 },
    span: (0, 0),
};

/// Operators, longest first so that the first match is the longest.
pub(super) const OPS: &[&str] = &[
    "**=", "//=", ">>=", "<<=", "...", "**", "//", "<<", ">>", "<=", ">=", "==", "!=", "->", "+=",
    "-=", "*=", "/=", "%=", "&=", "|=", "^=", "@=", ":=", "+", "-", "*", "/", "%", "@", "&", "|",
    "^", "~", "<", ">", "(", ")", "[", "]", "{", "}", ",", ":", ".", ";", "=",
];

/// String escapes: the character after the backslash, then what it stands for.
pub(super) const ESCAPES: [&str; 10] = [
    "n\n", "t\t", "r\r", "a\x07", "b\x08", "f\x0c", "v\x0b", "\\\\", "''", "\"\"",
];

/// Python's tokenizer for the subset; it also checks brackets and indentation.
#[derive(Default)]
pub(super) struct Lexer<'s> {
    pub(super) chars: &'s [char],
    pub(super) i: usize,
    pub(super) line: u32,
    pub(super) line_start: usize,
    pub(super) toks: Vec<Token>,
    pub(super) brackets: Vec<(char, CodePos)>,
    /// The indentation of each logical line, and the index of its first token.
    pub(super) indents: Vec<(String, usize)>,
}

/// Tokenizes `chars`. The last token is `Eof`, or the `Error` where the text stops being
/// Python, which the parser reports if it gets that far (Python's tokenizer is lazy too).
pub(super) fn tokenize(chars: &[char]) -> Vec<Token> {
    let mut lx = Lexer {
        chars,
        line: 1,
        ..Lexer::default()
    };
    let (tok, pos) = match lx.scan() {
        Ok(()) => (Tok::Eof, lx.pos()),
        Err(e) => (Tok::Error(e.clone()), e.pos()),
    };
    lx.push(tok, pos, lx.i);
    // Dedent like textwrap.dedent: a line may only have the indentation all lines share.
    let common = lx.indents.iter().map(|(s, _)| s.as_str()).reduce(|a, b| {
        let n = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
        a.get(..a.char_indices().nth(n).map_or(a.len(), |(k, _)| k))
            .unwrap_or("")
    });
    let bad = lx.indents.iter().find(|(s, _)| Some(s.as_str()) != common);
    if let Some(mut t) = bad.and_then(|&(_, k)| lx.toks.get(k).cloned()) {
        lx.toks.retain(|u| u.span.0 < t.span.0);
        // CPython points at the last blank of the indentation.
        let pos = CodePos {
            col: t.pos.col.saturating_sub(1).max(1),
            ..t.pos
        };
        t.tok = Tok::Error(error(pos, "IndentationError", "unexpected indent"));
        lx.toks.push(t);
    }
    lx.toks
}

impl Lexer<'_> {
    pub(super) fn at(&self, k: usize) -> Option<char> {
        self.chars.get(self.i + k).copied()
    }

    pub(super) fn pos(&self) -> CodePos {
        let col = u32::try_from(self.i - self.line_start + 1).unwrap_or(u32::MAX);
        CodePos {
            line: self.line,
            col,
        }
    }

    pub(super) fn new_line(&mut self) {
        self.line = self.line.saturating_add(1);
        self.line_start = self.i;
    }

    pub(super) fn push(&mut self, tok: Tok, pos: CodePos, start: usize) {
        let first = self.toks.last().is_none_or(|t| t.tok == Tok::Newline);
        if first && !matches!(tok, Tok::Newline | Tok::Eof | Tok::Error(_)) {
            // The blanks after `%{` are not indentation: packetdrill strips them.
            let from = if pos.line == 1 {
                start
            } else {
                (start + 1).saturating_sub(pos.col as usize)
            };
            let indent = self.chars.get(from..start).unwrap_or(&[]).iter().collect();
            self.indents.push((indent, self.toks.len()));
        }
        self.toks.push(Token {
            tok,
            pos,
            span: (start, self.i),
        });
    }

    pub(super) fn scan(&mut self) -> Result<(), CodeError> {
        while let Some(c) = self.at(0) {
            let (pos, start) = (self.pos(), self.i);
            let tok = match c {
                ' ' | '\t' | '\x0c' | '\r' => {
                    self.i += 1;
                    continue;
                }
                '#' => {
                    self.i += self.chars[start..]
                        .iter()
                        .take_while(|c| **c != '\n')
                        .count();
                    continue;
                }
                '\\' if self.at(1) != Some('\n') => {
                    let msg = "unexpected character after line continuation character";
                    bail!(pos, SyntaxError: "{msg}")
                }
                '\n' | '\\' => {
                    let open = self.toks.last().is_some_and(|t| t.tok != Tok::Newline);
                    self.i += if c == '\n' { 1 } else { 2 };
                    self.new_line();
                    if c == '\\' || !open || !self.brackets.is_empty() {
                        continue;
                    }
                    Tok::Newline
                }
                '0'..='9' => self.number(pos)?,
                '.' if self.at(1).is_some_and(|c| c.is_ascii_digit()) => self.number(pos)?,
                '"' | '\'' => self.string(pos, "")?,
                c if c == '_' || c.is_alphabetic() => self.word(pos)?,
                _ => self.op(c, pos)?,
            };
            self.push(tok, pos, start);
        }
        if let Some(&(c, pos)) = self.brackets.last() {
            bail!(pos, SyntaxError: "'{c}' was never closed");
        } else if self.toks.last().is_some_and(|t| t.tok != Tok::Newline) {
            self.push(Tok::Newline, self.pos(), self.i);
        }
        Ok(())
    }

    pub(super) fn op(&mut self, c: char, pos: CodePos) -> Result<Tok, CodeError> {
        let here = |op: &&&str| op.chars().enumerate().all(|(k, o)| self.at(k) == Some(o));
        let Some(&op) = OPS.iter().find(here) else {
            bail!(pos, SyntaxError: "invalid character '{c}' (U+{:04X})", c as u32)
        };
        if "([{".contains(op) {
            self.brackets.push((c, pos));
        } else if let Some(close) = ")]}".find(op) {
            match self.brackets.pop() {
                None => bail!(pos, SyntaxError: "unmatched '{c}'"),
                Some((open, _)) if "([{".find(open) != Some(close) => bail!(pos, SyntaxError:
                    "closing parenthesis '{c}' does not match opening parenthesis '{open}'"),
                Some(_) => {}
            }
        }
        self.i += op.len(); // operators are ASCII
        Ok(Tok::Op(op))
    }

    /// A name, or a string with a prefix such as `r"..."`.
    pub(super) fn word(&mut self, pos: CodePos) -> Result<Tok, CodeError> {
        let start = self.i;
        while self.at(0).is_some_and(|c| c == '_' || c.is_alphanumeric()) {
            self.i += 1;
        }
        let word: String = self.chars[start..self.i].iter().collect();
        let prefix = word.to_ascii_lowercase();
        let quote = matches!(self.at(0), Some('"' | '\''));
        if quote && "r u b br rb f fr rf".split(' ').any(|p| p == prefix) {
            return self.string(pos, &prefix);
        }
        Ok(Tok::Name(word))
    }

    /// A string literal from its opening quote; `prefix` is in lower case.
    pub(super) fn string(&mut self, pos: CodePos, prefix: &str) -> Result<Tok, CodeError> {
        let q = self.at(0).unwrap_or('"');
        if self.at(1) == Some(q) && self.at(2) == Some(q) {
            return Err(unsupported(pos, "triple-quoted string"));
        }
        self.i += 1;
        let mut s = String::new();
        loop {
            let epos = self.pos();
            let c = match self.at(0) {
                None | Some('\n') => {
                    let line = pos.line;
                    bail!(pos, SyntaxError: "unterminated string literal (detected at line {line})")
                }
                Some(c) => c,
            };
            self.i += 1;
            if c == q {
                break;
            } else if c != '\\' {
                s.push(c);
                continue;
            }
            let Some(e) = self.at(0) else { continue };
            self.i += 1;
            if e == '\n' {
                self.new_line();
            }
            let known = ESCAPES
                .iter()
                .find_map(|p| p.strip_prefix(e)?.chars().next());
            match e {
                _ if prefix.contains('r') => s.extend(['\\', e]),
                '\n' => {}
                'x' => {
                    let hex: String = (0..2).filter_map(|k| self.at(k)).collect();
                    let digits = hex.len() == 2 && hex.chars().all(|c| c.is_ascii_hexdigit());
                    let Some(b) = u8::from_str_radix(&hex, 16).ok().filter(|_| digits) else {
                        bail!(epos, SyntaxError: "(unicode error) truncated \\xXX escape")
                    };
                    s.push(char::from(b));
                    self.i += 2;
                }
                '0'..='7' | 'N' | 'u' | 'U' => {
                    return Err(unsupported(epos, format!("escape `\\{e}` in a string")));
                }
                _ => match known {
                    Some(k) => s.push(k),
                    None => s.extend(['\\', e]), // Python keeps an unknown escape as written
                },
            }
        }
        Ok(match prefix {
            p if p.contains('b') => Tok::Unsupported("bytes literal"),
            p if p.contains('f') => Tok::Unsupported("f-string"),
            _ => Tok::Str(s),
        })
    }

    pub(super) fn number(&mut self, pos: CodePos) -> Result<Tok, CodeError> {
        let start = self.i;
        let radix = self.at(0) == Some('0') && self.at(1).is_some_and(|c| "xXoObB".contains(c));
        // The literal runs over letters, digits, `_`, `.`, and a sign after an exponent's `e`.
        while let Some(c) = self.at(0) {
            let exp = !radix && self.i > start && "eE".contains(self.chars[self.i - 1]);
            if !(c.is_alphanumeric() || c == '_' || c == '.' || (exp && "+-".contains(c))) {
                break;
            }
            self.i += 1;
        }
        let text: String = self.chars[start..self.i].iter().collect();
        number_token(&text.to_ascii_lowercase()).map_err(|msg| error(pos, "SyntaxError", msg))
    }
}

/// The token for a numeric literal's text (in lower case), or why it is not one.
pub(super) fn number_token(text: &str) -> Result<Tok, &'static str> {
    let big = Tok::Unsupported("an integer literal beyond 128 bits");
    let (radix, digits, what) = match text.get(..2) {
        Some("0x") => (16, &text[2..], "invalid hexadecimal literal"),
        Some("0o") => (8, &text[2..], "invalid octal literal"),
        Some("0b") => (2, &text[2..], "invalid binary literal"),
        _ => (10, text, "invalid decimal literal"),
    };
    let clean = digits.replace('_', "");
    if radix != 10 {
        // An `_` may follow the prefix, as in `0x_ff`.
        if digits.is_empty() || !underscores_ok(&format!("0{digits}"), radix) {
            return Err(what);
        }
        return Ok(i128::from_str_radix(&clean, radix).map_or(big, Tok::Int));
    } else if !text
        .split(['.', 'e', '+', '-', 'j'])
        .all(|part| underscores_ok(part, 10))
    {
        return Err(what);
    } else if clean.bytes().all(|b| b.is_ascii_digit()) {
        if clean.starts_with('0') && clean.bytes().any(|b| b != b'0') {
            return Err(
                "leading zeros in decimal integer literals are not permitted; \
                        use an 0o prefix for octal integers",
            );
        }
        return Ok(clean.parse().map_or(big, Tok::Int));
    }
    match clean.strip_suffix('j') {
        Some(f) if f.parse::<f64>().is_ok() => Ok(Tok::Unsupported("a complex literal")),
        _ => clean.parse().map(Tok::Float).map_err(|_| what),
    }
}

/// Whether `text` is digits of `radix` with each `_` between two of them.
pub(super) fn underscores_ok(text: &str, radix: u32) -> bool {
    let cs: Vec<char> = text.chars().collect();
    let digit = |k: usize| cs.get(k).is_some_and(|c| c.is_digit(radix));
    (0..cs.len()).all(|k| digit(k) || (cs[k] == '_' && k > 0 && digit(k - 1) && digit(k + 1)))
}
