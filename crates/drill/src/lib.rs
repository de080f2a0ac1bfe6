//! packetdrill scripts for tcplab: lexer, parser and syntax tree.
//!
//! [`parse`] turns the text of a `.pkt` script into a [`Script`]: command-line options, the
//! init and cleanup shell commands, and timed events (TCP packets, system calls, shell
//! commands, Python blocks). UDP, ICMP and tunnelled packet lines parse into
//! [`ast::Unsupported`] so a runner can report them by position instead of failing to load the
//! script. The grammar is google/packetdrill's `parser.y`; where it is ambiguous without
//! keywords this parser relies on layout the way real scripts are written (see [`parse`]).
//!
//! Guarantees: parsing is deterministic, never panics on any input, and every error is a
//! [`ParseError`] naming the file, line and column of the first problem in the file.
//!
//! ```
//! use tcplab_drill::ast::{Action, EventTime};
//!
//! let src = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 > S 0:0(0) <mss 1460>\n";
//! let script = tcplab_drill::parse("demo.pkt", src)?;
//! assert!(matches!(script.events[1].time, EventTime::Relative(t) if t.usecs == 0));
//! assert!(matches!(script.events[1].action, Action::Packet(ref p) if p.flags.syn));
//!
//! let err = tcplab_drill::parse("demo.pkt", "0 close(3) = 0\n+0 > S 0:0 <mss 1460>\n");
//! assert_eq!(
//!     err.unwrap_err().to_string(),
//!     "demo.pkt:2:12: expected `(`, found `<`"
//! );
//! # Ok::<(), tcplab_drill::ParseError>(())
//! ```

pub mod ast;
mod lexer;
mod parser;
pub mod run;

use std::fmt;

use ast::Pos;
pub use ast::Script;

/// Parses the script `src`; `file` is only used in error messages.
///
/// Besides the grammar, three layout rules settle what packetdrill decides by keyword or
/// leaves loose: `name(` with no blank before `(` is a call-style expression (`htons(8080)`,
/// `inet_addr("1.2.3.4")`); a UDP, ICMP or tunnelled packet line ends at the end of its line;
/// and each event ends its line (a comment may follow), so a stray token is reported where
/// it is.
pub fn parse(file: &str, src: &str) -> Result<Script, ParseError> {
    let (tokens, chars) = lexer::tokenize(file, src);
    parser::Parser::new(file, tokens, chars).script()
}

/// A syntax error: where it is, what the parser wanted, and what it found instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The file name given to [`parse`].
    pub file: String,
    /// Where the unexpected text starts.
    pub pos: Pos,
    /// What would have been accepted there.
    pub expected: String,
    /// What is there instead.
    pub found: String,
}

impl ParseError {
    pub(crate) fn new(file: &str, pos: Pos, expected: &str, found: String) -> Self {
        ParseError {
            file: file.to_string(),
            pos,
            expected: expected.to_string(),
            found,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: expected {}, found {}",
            self.file, self.pos.line, self.pos.col, self.expected, self.found
        )
    }
}

impl std::error::Error for ParseError {}
