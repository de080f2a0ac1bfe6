//! Splits a script into logical lines of shell-like words.
//!
//! The rules are the shell's, cut down: words are separated by blanks; `#` at the start of a
//! word begins a comment; `'…'` quotes literally and `"…"` allows `\"` and `\\`; a backslash
//! quotes the next character, and a backslash at the end of a line joins the next line.
//! `|` and `&` are tokens of their own even without blanks around them. Nothing here can
//! panic: every index is checked.

use super::ast::Span;

/// One token of a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    /// A word with its quotes removed.
    Word(String),
    /// `|`.
    Pipe,
    /// `&`.
    Amp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    pub tok: Tok,
    /// Where the token starts.
    pub span: Span,
    /// The position just after it, for "found the end of the line" errors.
    pub end: Span,
}

/// The tokens of one logical line (never empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Line {
    pub tokens: Vec<Token>,
    /// The statement as written, from its first token to its last (comments left out, a
    /// continued line joined with a blank).
    pub text: String,
}

/// The source text between two character indices, a continued line joined to the next
/// with one blank.
fn line_text(chars: &[char], from: usize, to: usize) -> String {
    let raw = chars.get(from..to).unwrap_or_default();
    let mut out = String::new();
    let mut i = 0;
    while let Some(&c) = raw.get(i) {
        i += 1;
        let continued = c == '\\'
            && match raw.get(i) {
                Some('\n') => {
                    i += 1;
                    true
                }
                Some('\r') if raw.get(i + 1) == Some(&'\n') => {
                    i += 2;
                    true
                }
                _ => false,
            };
        if continued {
            out.truncate(out.trim_end().len());
            out.push(' ');
            while raw.get(i).is_some_and(|c| is_blank(*c)) {
                i += 1;
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A lexical error: where, and the message.
pub(crate) type LexError = (Span, String);

struct Chars {
    chars: Vec<char>,
    i: usize,
    line: u32,
    col: u32,
}

impl Chars {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }
    fn peek2(&self) -> Option<char> {
        self.chars.get(self.i + 1).copied()
    }
    fn span(&self) -> Span {
        Span::new(self.line, self.col)
    }
    /// Advances over one character, keeping line and column.
    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += 1;
        if c == '\n' {
            self.line = self.line.saturating_add(1);
            self.col = 1;
        } else {
            self.col = self.col.saturating_add(1);
        }
        Some(c)
    }
    /// At a backslash that ends the line (`\` then `\n` or `\r\n`): consumes it and returns
    /// true.
    fn line_continuation(&mut self) -> bool {
        if self.peek() != Some('\\') {
            return false;
        }
        match (self.peek2(), self.chars.get(self.i + 2).copied()) {
            (Some('\n'), _) => {
                self.bump();
                self.bump();
                true
            }
            (Some('\r'), Some('\n')) => {
                self.bump();
                self.bump();
                self.bump();
                true
            }
            _ => false,
        }
    }
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t' || c == '\r' || (c.is_whitespace() && c != '\n')
}

/// Splits `src` into logical lines; blank and comment-only lines are left out.
pub(crate) fn lex(src: &str) -> Result<Vec<Line>, LexError> {
    let mut cs = Chars {
        chars: src.chars().collect(),
        i: 0,
        line: 1,
        col: 1,
    };
    let mut lines = Vec::new();
    let mut tokens: Vec<Token> = Vec::new();
    // Character indices of the current statement's first token and of the end of its last.
    let (mut first_i, mut last_i) = (0, 0);
    while let Some(c) = cs.peek() {
        if c == '\n' {
            cs.bump();
            if !tokens.is_empty() {
                lines.push(Line {
                    tokens: std::mem::take(&mut tokens),
                    text: line_text(&cs.chars, first_i, last_i),
                });
            }
            continue;
        }
        if cs.line_continuation() {
            continue;
        }
        if is_blank(c) {
            cs.bump();
            continue;
        }
        let start = cs.span();
        if tokens.is_empty() {
            first_i = cs.i;
        }
        match c {
            '#' => {
                while cs.peek().is_some_and(|c| c != '\n') {
                    cs.bump();
                }
            }
            '|' => {
                cs.bump();
                if cs.peek() == Some('|') {
                    return Err((
                        start,
                        "`||` is not supported: write one command per line".into(),
                    ));
                }
                tokens.push(Token {
                    tok: Tok::Pipe,
                    span: start,
                    end: cs.span(),
                });
                last_i = cs.i;
            }
            '&' => {
                cs.bump();
                if cs.peek() == Some('&') {
                    return Err((
                        start,
                        "`&&` is not supported: write one command per line".into(),
                    ));
                }
                tokens.push(Token {
                    tok: Tok::Amp,
                    span: start,
                    end: cs.span(),
                });
                last_i = cs.i;
            }
            ';' => {
                return Err((
                    start,
                    "`;` is not supported: write one command per line".into(),
                ));
            }
            _ => {
                let word = lex_word(&mut cs)?;
                tokens.push(Token {
                    tok: Tok::Word(word),
                    span: start,
                    end: cs.span(),
                });
                last_i = cs.i;
            }
        }
    }
    if !tokens.is_empty() {
        let text = line_text(&cs.chars, first_i, last_i);
        lines.push(Line { tokens, text });
    }
    Ok(lines)
}

fn lex_word(cs: &mut Chars) -> Result<String, LexError> {
    let mut word = String::new();
    while let Some(c) = cs.peek() {
        if c == '\n' || is_blank(c) || c == '|' || c == '&' || c == ';' {
            break;
        }
        if cs.line_continuation() {
            continue;
        }
        let at = cs.span();
        cs.bump();
        match c {
            '\'' => loop {
                match cs.bump() {
                    Some('\'') => break,
                    Some('\n') | None => {
                        return Err((
                            at,
                            "expected a closing `'` before the end of the line".into(),
                        ));
                    }
                    Some(c) => word.push(c),
                }
            },
            '"' => loop {
                match cs.bump() {
                    Some('"') => break,
                    Some('\\') if matches!(cs.peek(), Some('"' | '\\')) => {
                        if let Some(c) = cs.bump() {
                            word.push(c);
                        }
                    }
                    Some('\n') | None => {
                        return Err((
                            at,
                            "expected a closing `\"` before the end of the line".into(),
                        ));
                    }
                    Some(c) => word.push(c),
                }
            },
            '\\' => match cs.peek() {
                Some('\n') | None => word.push('\\'),
                Some(_) => {
                    if let Some(c) = cs.bump() {
                        word.push(c);
                    }
                }
            },
            c => word.push(c),
        }
    }
    Ok(word)
}
