//! Evaluates the Python in packetdrill's `%{ ... }%` blocks.
//!
//! packetdrill runs each block in a Python interpreter, with the socket's `tcp_info` fields
//! (`tcpi_snd_cwnd`, `tcpi_rto`, ...) and constants (`TCP_CA_Loss`, ...) bound as globals.
//! Scripts use the blocks to assert on and print those numbers, so [`exec`] implements that
//! subset of Python 3 and reports anything outside it as [`CodeError::Unsupported`]: a runner
//! then skips the script instead of guessing what Python would have done.
//!
//! Guarantees:
//! - [`exec`] never panics, whatever the text, and its stack use is bounded: expressions
//!   nested more than 50 deep (brackets, calls, `**`, `if else`) or syntax trees more than 100
//!   deep are a `RecursionError` (CPython allows 200 brackets).
//! - It is deterministic: the result depends only on the text and on `lookup`'s answers.
//! - The whole block is parsed before a statement runs, as Python compiles a module first.
//! - A value it computes is the value Python 3 computes. What it cannot compute exactly is
//!   `Unsupported`: integers beyond 128 bits, complex numbers, strings over 2**20 bytes. (One
//!   approximation: `int / int` beyond 2**53 may differ from Python in the last bit.)
//!
//! The subset:
//! - statements, one per logical line or separated by `;`: `assert c` and `assert c, msg`;
//!   `print(a, b)` (Python 3) and `print a, b` (Python 2, which old scripts use; `print(a, b)`
//!   counts as Python 3); `name = e` and `a = b = e`; `pass`; an expression;
//! - literals: integers (`0x`, `0o`, `0b`, `_`), floats, strings (`'` or `"`, `r` and `u`
//!   prefixes, escapes `\n \t \r \a \b \f \v \xhh \\ \' \"`, adjacent literals joined),
//!   `True False None`;
//! - `**`, unary `- + ~`, `* / // % + - << >> & ^ |`, comparisons `== != < <= > >=`
//!   (chained), `not and or` (returning an operand), `x if c else y`, and `str % value` or
//!   `str % (a, b)` with `%d %i %u %x %X %o %f %F %s %r %%`, flags `-+ #0`, width, precision;
//! - calls of the builtins `abs min max int float str bool len round`.
//!
//! Layout: if the first statement starts on the line of `%{`, the other lines must start in
//! column 1 (packetdrill strips only the blanks after `%{`); otherwise the lines are dedented
//! like `textwrap.dedent`. A logical line indented more than the others is an
//! `IndentationError`, as in Python.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

/// How deep the parser may recurse (brackets, calls, `**`, conditional expressions). It bounds
/// the stack: about 15 KiB a level in an unoptimized build.
const MAX_NESTING: u32 = 50;
/// How deep a syntax tree may be (`1+1+...+1` is as deep as it is long); it bounds the stack
/// used to evaluate and drop the tree.
const MAX_DEPTH: u32 = 100;
/// The longest string a block may build, in UTF-8 bytes (Python has no such limit).
const MAX_STR: usize = 1 << 20;

/// A Python value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(i128),
    Float(f64),
    Bool(bool),
    Str(String),
    None,
}

/// What a name means to the caller.
#[derive(Clone, Debug, PartialEq)]
pub enum Lookup {
    /// The name is bound to this value.
    Value(Value),
    /// The name is real (e.g. a tcp_info field Linux has) but the caller does not provide it;
    /// the block cannot be evaluated faithfully. The string is the reason, e.g.
    /// "tcpi_delivery_rate is not modelled".
    Unsupported(String),
    /// No such name (Python NameError).
    Unknown,
}

/// Where in the block text: 1-based line and column (characters) relative to the start of the
/// text given to [`exec`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodePos {
    pub line: u32,
    pub col: u32,
}

/// Why a block stopped.
#[derive(Clone, Debug, PartialEq)]
pub enum CodeError {
    /// An `assert` was false. `source` is the statement's text as written (trimmed),
    /// `message` the str() of the message expression if given, `detail` the values of the
    /// names in the condition, e.g. "tcpi_snd_cwnd = 20, tcpi_rto = 1000".
    AssertFailed {
        pos: CodePos,
        source: String,
        message: Option<String>,
        detail: String,
    },
    /// A Python construct outside the subset, or a name `lookup` calls
    /// [`Lookup::Unsupported`]: the caller skips the script citing this.
    Unsupported { pos: CodePos, what: String },
    /// Python would raise: `kind` is the exception's name (`NameError`, `TypeError`,
    /// `ZeroDivisionError`, `SyntaxError`...), `message` its text.
    Error {
        pos: CodePos,
        kind: String,
        message: String,
    },
}

/// Runs the block `code`, resolving the names it does not assign with `lookup`; returns the
/// lines `print` wrote, in order.
pub fn exec(code: &str, lookup: &dyn Fn(&str) -> Lookup) -> Result<Vec<String>, CodeError> {
    // Dropping the `\r` of `\r\n` moves no character to another line or column.
    let chars: Vec<char> = code.replace("\r\n", "\n").chars().collect();
    let stmts = Parser::new(&chars).block()?;
    let mut machine = Machine {
        locals: BTreeMap::new(),
        lookup,
        printed: Vec::new(),
    };
    stmts.iter().try_for_each(|s| machine.run(s))?;
    Ok(machine.printed)
}

impl fmt::Display for Value {
    /// Python's `str()`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => f.write_str(&float_repr(*x)),
            Value::Bool(b) => f.write_str(if *b { "True" } else { "False" }),
            Value::Str(s) => f.write_str(s),
            Value::None => f.write_str("None"),
        }
    }
}

impl fmt::Display for CodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let CodePos { line, col } = self.pos();
        match self {
            CodeError::AssertFailed {
                source,
                message,
                detail,
                ..
            } => {
                write!(f, "{line}:{col}: `{source}` failed")?;
                if let Some(m) = message {
                    write!(f, ": {m}")?;
                }
                if !detail.is_empty() {
                    write!(f, " ({detail})")?;
                }
                Ok(())
            }
            CodeError::Unsupported { what, .. } => write!(f, "{line}:{col}: not supported: {what}"),
            CodeError::Error { kind, message, .. } => write!(f, "{line}:{col}: {kind}: {message}"),
        }
    }
}

impl std::error::Error for CodeError {}

impl CodeError {
    fn pos(&self) -> CodePos {
        match self {
            CodeError::AssertFailed { pos, .. }
            | CodeError::Unsupported { pos, .. }
            | CodeError::Error { pos, .. } => *pos,
        }
    }
}

impl Value {
    /// Python's `repr()`.
    fn repr(&self) -> String {
        let Value::Str(s) = self else {
            return self.to_string();
        };
        let q = if s.contains('\'') && !s.contains('"') {
            '"'
        } else {
            '\''
        };
        let mut out = String::from(q);
        for c in s.chars() {
            match c {
                '\\' | '\n' | '\r' | '\t' => out.push_str(&c.escape_default().to_string()),
                c if c == q => out.extend(['\\', c]),
                c if c < ' ' || c == '\x7f' => out.push_str(&format!("\\x{:02x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push(q);
        out
    }

    fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Bool(_) => "bool",
            Value::Str(_) => "str",
            Value::None => "NoneType",
        }
    }

    fn truthy(&self) -> bool {
        match self {
            Value::Int(i) => *i != 0,
            Value::Float(x) => *x != 0.0,
            Value::Bool(b) => *b,
            Value::Str(s) => !s.is_empty(),
            Value::None => false,
        }
    }

    /// The value as a number; in arithmetic a bool is an int.
    fn num(&self) -> Option<Num> {
        match self {
            Value::Int(i) => Some(Num::I(*i)),
            Value::Bool(b) => Some(Num::I(i128::from(*b))),
            Value::Float(x) => Some(Num::F(*x)),
            _ => None,
        }
    }
}

/// Python's `repr()` of a float: the shortest digits that read back the same, in exponent
/// form below 1e-4 and from 1e16 on.
fn float_repr(x: f64) -> String {
    if !x.is_finite() {
        return if x.is_nan() {
            "nan"
        } else if x > 0.0 {
            "inf"
        } else {
            "-inf"
        }
        .into();
    }
    let sci = format!("{:e}", x.abs()); // shortest round-trip digits, e.g. "1.5e16"
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let sign = if x.is_sign_negative() { "-" } else { "" };
    let zeros = |n: i32| "0".repeat(usize::try_from(n).unwrap_or(0));
    let n = digits.len() as i32;
    match exp {
        -4..=-1 => format!("{sign}0.{}{digits}", zeros(-exp - 1)),
        0..=15 if exp + 1 >= n => format!("{sign}{digits}{}.0", zeros(exp + 1 - n)),
        0..=15 => {
            let (int, frac) = digits.split_at(exp as usize + 1);
            format!("{sign}{int}.{frac}")
        }
        _ if exp < 0 => format!("{sign}{mant}e-{:02}", -exp),
        _ => format!("{sign}{mant}e+{exp:02}"),
    }
}

fn error(pos: CodePos, kind: &str, message: impl Into<String>) -> CodeError {
    CodeError::Error {
        pos,
        kind: kind.into(),
        message: message.into(),
    }
}

fn unsupported(pos: CodePos, what: impl Into<String>) -> CodeError {
    CodeError::Unsupported {
        pos,
        what: what.into(),
    }
}

fn too_deep(pos: CodePos) -> CodeError {
    error(
        pos,
        "RecursionError",
        "maximum recursion depth exceeded during compilation",
    )
}

/// `bail!(pos, SyntaxError: "format", args...)` returns that Python exception at `pos`.
macro_rules! bail {
    ($pos:expr, $kind:ident: $($arg:tt)+) => {
        return Err(error($pos, stringify!($kind), format!($($arg)+)))
    };
}

// The parts, declared after `bail!` so that they can use it.
mod eval;
mod lex;
mod parse;

use eval::*;
use lex::*;
use parse::*;

#[cfg(test)]
mod tests;
