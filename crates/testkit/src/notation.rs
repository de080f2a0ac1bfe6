//! packetdrill's one-line notation for the TCP part of a segment, parsed into a pattern and
//! printed back.
//!
//! ```text
//! S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>
//! S. 0:0(0) ack 1 <...>
//! P. 1:101(100) ack 1 win 502 <nop,nop,TS val * ecr 100>
//! ```
//!
//! Grammar: flags (packetdrill's letters `F S R P . U E W A`, `.` being ACK and `A` being AE,
//! which tcpdump's `e` also names; `-` for none), then `seq:end(len)`,
//! then optional `ack N` and `win N` in either order, then an optional option list in angle
//! brackets. In the list, `...` alone means "any options" and `*` stands for any TSval or TSecr;
//! both are only meaningful in expectations.
//!
//! Guarantees: `parse(spec.to_string()) == spec` for every pattern this module parses; a bad
//! line is an [`Error`] naming the column and what was expected there, never a panic. Numbers
//! are the relative ones of packetdrill; mapping them to wire values is the harness's job.

use std::fmt;
use std::str::FromStr;

use tcplab_wire::tcp::{SackBlock, TcpFlags, TcpOption};

/// A segment as a test writes it: exact values where given, wildcards elsewhere.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentSpec {
    pub flags: TcpFlags,
    pub seq: u32,
    /// Payload bytes; `end` is `seq + len`, as packetdrill writes it (SYN and FIN not counted).
    pub len: u32,
    /// `None` when the line has no `ack` clause: not checked in an expectation, zero when sent.
    pub ack: Option<u32>,
    /// `None` when the line has no `win` clause: not checked in an expectation, and a default
    /// when sent.
    pub win: Option<u16>,
    pub options: OptionsSpec,
}

/// The option part of a [`SegmentSpec`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptionsSpec {
    /// `<...>`: anything, including none.
    Any,
    /// Exactly these options in this order; empty when the line has no option list.
    Exact(Vec<OptionSpec>),
}

/// One option in a pattern. Like [`TcpOption`], with wildcards for the timestamp values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptionSpec {
    Eol,
    Nop,
    Mss(u16),
    WindowScale(u8),
    SackPermitted,
    /// Relative sequence numbers, like the segment's own.
    Sack(Vec<SackBlock>),
    /// `None` is `*`.
    Timestamps {
        tsval: Option<u32>,
        tsecr: Option<u32>,
    },
}

/// A concrete segment in relative numbers, as the harness shows what the stack sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelSegment {
    pub flags: TcpFlags,
    pub seq: u32,
    pub len: u32,
    pub ack: u32,
    pub win: u16,
    /// Options with SACK blocks already made relative.
    pub options: Vec<TcpOption>,
}

/// Why a line is not a segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub line: String,
    /// Zero-based character offset where the problem starts.
    pub column: usize,
    pub kind: ErrorKind,
}

/// What was wrong at [`Error::column`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The line ended before the `seq:end(len)` part.
    Truncated,
    /// A flags word held something other than `F S R P . U E W e`.
    BadFlag(char),
    /// Not of the form `seq:end(len)`.
    BadRange(String),
    /// `end - seq` is not `len`.
    LengthMismatch { seq: u32, end: u32, len: u32 },
    /// A number did not fit its field.
    BadNumber(String),
    /// A word that is not `ack`, `win` or an option list.
    UnexpectedWord(String),
    /// A clause given twice.
    Duplicate(&'static str),
    /// An option list without its closing `>`.
    UnclosedOptions,
    /// Text in an option list that is no known option.
    BadOption(String),
    /// Something after the option list.
    TrailingText(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {} of `{}`: ", self.column + 1, self.line)?;
        match &self.kind {
            ErrorKind::Truncated => {
                f.write_str("expected flags and `seq:end(len)`, e.g. `S. 0:0(0)`")
            }
            ErrorKind::BadFlag(c) => {
                write!(
                    f,
                    "`{c}` is not a flag; use packetdrill's letters F S R P . U E W A, or - for none"
                )
            }
            ErrorKind::BadRange(w) => write!(f, "`{w}` is not `seq:end(len)`, e.g. `1:101(100)`"),
            ErrorKind::LengthMismatch { seq, end, len } => {
                write!(
                    f,
                    "{seq}:{end} spans {} bytes but the length says {len}",
                    end.wrapping_sub(*seq)
                )
            }
            ErrorKind::BadNumber(w) => write!(f, "`{w}` is not a number that fits this field"),
            ErrorKind::UnexpectedWord(w) => {
                write!(
                    f,
                    "unexpected `{w}`; after the range come `ack N`, `win N` and `<options>`"
                )
            }
            ErrorKind::Duplicate(what) => write!(f, "`{what}` given twice"),
            ErrorKind::UnclosedOptions => f.write_str("the option list has no closing `>`"),
            ErrorKind::BadOption(w) => write!(
                f,
                "`{w}` is not an option; known: nop, eol, mss N, wscale N, sackOK, \
                 sack L:R ..., TS val N ecr N (N may be *), or `...` alone"
            ),
            ErrorKind::TrailingText(w) => write!(f, "`{w}` after the option list"),
        }
    }
}

impl std::error::Error for Error {}

/// Flag letters in packetdrill's (and tcpdump's) printing order.
const LETTERS: [(TcpFlags, char); 10] = [
    (TcpFlags::FIN, 'F'),
    (TcpFlags::SYN, 'S'),
    (TcpFlags::RST, 'R'),
    (TcpFlags::PSH, 'P'),
    (TcpFlags::ACK, '.'),
    (TcpFlags::URG, 'U'),
    (TcpFlags::ECE, 'E'),
    (TcpFlags::CWR, 'W'),
    (TcpFlags::AE, 'A'),
    // tcpdump's name for AE, accepted when parsing; never printed since 'A' comes first.
    (TcpFlags::AE, 'e'),
];

/// Prints flags as packetdrill and tcpdump do (`S.`, `FP.`); reserved bits are not shown.
pub fn flags_str(flags: TcpFlags) -> String {
    LETTERS[..9]
        .iter()
        .filter(|(f, _)| flags.0 & f.0 != 0)
        .map(|&(_, c)| c)
        .collect()
}

/// The flag bits the notation can express; the rest are ignored when matching.
const NOTATION_FLAGS: u16 = 0x1ff;

/// A cursor over one line that remembers columns for errors.
struct Cursor<'a> {
    line: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn skip_ws(&mut self) {
        let rest = &self.line[self.at..];
        self.at += rest.len() - rest.trim_start().len();
    }

    fn done(&mut self) -> bool {
        self.skip_ws();
        self.at >= self.line.len()
    }

    /// The next whitespace-delimited word and its column.
    fn word(&mut self) -> Option<(&'a str, usize)> {
        self.skip_ws();
        let rest = &self.line[self.at..];
        if rest.is_empty() {
            return None;
        }
        let n = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let start = self.at;
        self.at += n;
        Some((&rest[..n], start))
    }

    fn err(&self, column: usize, kind: ErrorKind) -> Error {
        Error {
            line: self.line.to_string(),
            column,
            kind,
        }
    }
}

fn number<T: FromStr>(cur: &Cursor<'_>, word: &str, column: usize) -> Result<T, Error> {
    word.parse()
        .map_err(|_| cur.err(column, ErrorKind::BadNumber(word.to_string())))
}

impl FromStr for SegmentSpec {
    type Err = Error;

    fn from_str(line: &str) -> Result<SegmentSpec, Error> {
        let mut cur = Cursor { line, at: 0 };
        let (flag_word, col) = cur.word().ok_or_else(|| cur.err(0, ErrorKind::Truncated))?;
        let flags = parse_flags(&cur, flag_word, col)?;
        let (range, col) = cur
            .word()
            .ok_or_else(|| cur.err(line.len(), ErrorKind::Truncated))?;
        let (seq, len) = parse_range(&cur, range, col)?;
        let mut spec = SegmentSpec {
            flags,
            seq,
            len,
            ack: None,
            win: None,
            options: OptionsSpec::Exact(vec![]),
        };
        while !cur.done() {
            if cur.line[cur.at..].starts_with('<') {
                spec.options = parse_options(&mut cur)?;
                if let Some((w, col)) = cur.word() {
                    return Err(cur.err(col, ErrorKind::TrailingText(w.to_string())));
                }
                break;
            }
            let (w, col) = cur
                .word()
                .ok_or_else(|| cur.err(line.len(), ErrorKind::Truncated))?;
            let (slot_name, is_ack) = match w {
                "ack" => ("ack", true),
                "win" => ("win", false),
                _ => return Err(cur.err(col, ErrorKind::UnexpectedWord(w.to_string()))),
            };
            let (n, ncol) = cur
                .word()
                .ok_or_else(|| cur.err(line.len(), ErrorKind::BadNumber(String::new())))?;
            if is_ack {
                if spec.ack.is_some() {
                    return Err(cur.err(col, ErrorKind::Duplicate(slot_name)));
                }
                spec.ack = Some(number(&cur, n, ncol)?);
            } else {
                if spec.win.is_some() {
                    return Err(cur.err(col, ErrorKind::Duplicate(slot_name)));
                }
                spec.win = Some(number(&cur, n, ncol)?);
            }
        }
        Ok(spec)
    }
}

fn parse_flags(cur: &Cursor<'_>, word: &str, column: usize) -> Result<TcpFlags, Error> {
    let mut flags = TcpFlags(0);
    if word == "-" {
        return Ok(flags);
    }
    for (i, c) in word.char_indices() {
        let (flag, _) = LETTERS
            .iter()
            .find(|&&(_, l)| l == c)
            .ok_or_else(|| cur.err(column + i, ErrorKind::BadFlag(c)))?;
        flags = TcpFlags(flags.0 | flag.0);
    }
    Ok(flags)
}

fn parse_range(cur: &Cursor<'_>, word: &str, column: usize) -> Result<(u32, u32), Error> {
    let bad = || cur.err(column, ErrorKind::BadRange(word.to_string()));
    let (seq, rest) = word.split_once(':').ok_or_else(bad)?;
    let (end, rest) = rest.split_once('(').ok_or_else(bad)?;
    let len = rest.strip_suffix(')').ok_or_else(bad)?;
    let seq: u32 = number(cur, seq, column)?;
    let end: u32 = number(cur, end, column)?;
    let len: u32 = number(cur, len, column)?;
    if end.wrapping_sub(seq) != len {
        return Err(cur.err(column, ErrorKind::LengthMismatch { seq, end, len }));
    }
    Ok((seq, len))
}

/// Parses `<...>` at the cursor, leaving the cursor after the `>`.
fn parse_options(cur: &mut Cursor<'_>) -> Result<OptionsSpec, Error> {
    let open = cur.at;
    let close = cur.line[open..]
        .find('>')
        .map(|i| open + i)
        .ok_or_else(|| cur.err(open, ErrorKind::UnclosedOptions))?;
    cur.at = close + 1;
    let body = &cur.line[open + 1..close];
    if body.trim() == "..." {
        return Ok(OptionsSpec::Any);
    }
    let mut options = Vec::new();
    if body.trim().is_empty() {
        return Ok(OptionsSpec::Exact(options));
    }
    let mut col = open + 1;
    for item in body.split(',') {
        let lead = item.len() - item.trim_start().len();
        options.push(parse_option(cur, item.trim(), col + lead)?);
        col += item.len() + 1;
    }
    Ok(OptionsSpec::Exact(options))
}

fn parse_option(cur: &Cursor<'_>, item: &str, column: usize) -> Result<OptionSpec, Error> {
    let bad = || cur.err(column, ErrorKind::BadOption(item.to_string()));
    let words: Vec<&str> = item.split_whitespace().collect();
    let num = |w: &str| -> Result<u32, Error> { number(cur, w, column) };
    let wild = |w: &str| -> Result<Option<u32>, Error> {
        if w == "*" { Ok(None) } else { num(w).map(Some) }
    };
    Ok(match words.as_slice() {
        ["nop"] => OptionSpec::Nop,
        ["eol"] => OptionSpec::Eol,
        ["sackOK"] => OptionSpec::SackPermitted,
        ["mss", n] => OptionSpec::Mss(number(cur, n, column)?),
        ["wscale", n] => OptionSpec::WindowScale(number(cur, n, column)?),
        ["TS", "val", v, "ecr", e] => OptionSpec::Timestamps {
            tsval: wild(v)?,
            tsecr: wild(e)?,
        },
        ["sack", blocks @ ..] if !blocks.is_empty() => {
            let mut out = Vec::new();
            for b in blocks {
                let (l, r) = b.split_once(':').ok_or_else(bad)?;
                out.push(SackBlock {
                    left: num(l)?,
                    right: num(r)?,
                });
            }
            OptionSpec::Sack(out)
        }
        _ => return Err(bad()),
    })
}

impl SegmentSpec {
    /// Parses a line, panicking with the parse error: for literal segments in tests.
    pub fn must(line: &str) -> SegmentSpec {
        line.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    /// The options to put on the wire, or `None` if the pattern has wildcards.
    pub fn concrete_options(&self) -> Option<Vec<TcpOption>> {
        let OptionsSpec::Exact(list) = &self.options else {
            return None;
        };
        list.iter()
            .map(|o| {
                Some(match o {
                    OptionSpec::Eol => TcpOption::Eol,
                    OptionSpec::Nop => TcpOption::Nop,
                    OptionSpec::Mss(m) => TcpOption::Mss(*m),
                    OptionSpec::WindowScale(w) => TcpOption::WindowScale(*w),
                    OptionSpec::SackPermitted => TcpOption::SackPermitted,
                    OptionSpec::Sack(b) => TcpOption::Sack(b.clone()),
                    OptionSpec::Timestamps { tsval, tsecr } => TcpOption::Timestamps {
                        tsval: (*tsval)?,
                        tsecr: (*tsecr)?,
                    },
                })
            })
            .collect()
    }

    /// Every way `actual` differs from this pattern, as short phrases; empty if it matches.
    pub fn mismatches(&self, actual: &RelSegment) -> Vec<String> {
        let mut out = Vec::new();
        let (want, got) = (
            self.flags.0 & NOTATION_FLAGS,
            actual.flags.0 & NOTATION_FLAGS,
        );
        if want != got {
            out.push(format!(
                "flags {} != {}",
                flags_str(actual.flags),
                flags_str(self.flags)
            ));
        }
        if self.seq != actual.seq {
            out.push(format!("seq {} != {}", actual.seq, self.seq));
        }
        if self.len != actual.len {
            out.push(format!("len {} != {}", actual.len, self.len));
        }
        if let Some(ack) = self.ack
            && ack != actual.ack
        {
            out.push(format!("ack {} != {ack}", actual.ack));
        }
        if let Some(win) = self.win
            && win != actual.win
        {
            out.push(format!("win {} != {win}", actual.win));
        }
        if let OptionsSpec::Exact(list) = &self.options
            && !options_match(list, &actual.options)
        {
            out.push("options differ".to_string());
        }
        out
    }
}

fn options_match(want: &[OptionSpec], got: &[TcpOption]) -> bool {
    want.len() == got.len()
        && want.iter().zip(got).all(|(w, g)| match (w, g) {
            (OptionSpec::Eol, TcpOption::Eol)
            | (OptionSpec::Nop, TcpOption::Nop)
            | (OptionSpec::SackPermitted, TcpOption::SackPermitted) => true,
            (OptionSpec::Mss(a), TcpOption::Mss(b)) => a == b,
            (OptionSpec::WindowScale(a), TcpOption::WindowScale(b)) => a == b,
            (OptionSpec::Sack(a), TcpOption::Sack(b)) => a == b,
            (
                OptionSpec::Timestamps { tsval, tsecr },
                TcpOption::Timestamps { tsval: v, tsecr: e },
            ) => tsval.is_none_or(|x| x == *v) && tsecr.is_none_or(|x| x == *e),
            _ => false,
        })
}

fn write_range(f: &mut fmt::Formatter<'_>, flags: TcpFlags, seq: u32, len: u32) -> fmt::Result {
    let letters = flags_str(flags);
    let letters = if letters.is_empty() {
        "-".to_string()
    } else {
        letters
    };
    write!(f, "{letters} {seq}:{}({len})", seq.wrapping_add(len))
}

fn write_sack(f: &mut fmt::Formatter<'_>, blocks: &[SackBlock]) -> fmt::Result {
    f.write_str("sack")?;
    for b in blocks {
        write!(f, " {}:{}", b.left, b.right)?;
    }
    Ok(())
}

impl fmt::Display for OptionSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let star = |v: &Option<u32>| v.map_or("*".to_string(), |v| v.to_string());
        match self {
            OptionSpec::Eol => f.write_str("eol"),
            OptionSpec::Nop => f.write_str("nop"),
            OptionSpec::Mss(m) => write!(f, "mss {m}"),
            OptionSpec::WindowScale(w) => write!(f, "wscale {w}"),
            OptionSpec::SackPermitted => f.write_str("sackOK"),
            OptionSpec::Sack(blocks) => write_sack(f, blocks),
            OptionSpec::Timestamps { tsval, tsecr } => {
                write!(f, "TS val {} ecr {}", star(tsval), star(tsecr))
            }
        }
    }
}

/// One wire option in the notation; options the notation has no word for print as
/// `unknown K:<hex>`, which the parser rejects on purpose.
pub fn option_str(option: &TcpOption) -> String {
    let spec = match option {
        TcpOption::Eol => OptionSpec::Eol,
        TcpOption::Nop => OptionSpec::Nop,
        TcpOption::Mss(m) => OptionSpec::Mss(*m),
        TcpOption::WindowScale(w) => OptionSpec::WindowScale(*w),
        TcpOption::SackPermitted => OptionSpec::SackPermitted,
        TcpOption::Sack(b) => OptionSpec::Sack(b.clone()),
        TcpOption::Timestamps { tsval, tsecr } => OptionSpec::Timestamps {
            tsval: Some(*tsval),
            tsecr: Some(*tsecr),
        },
        TcpOption::Unknown { kind, data } => {
            let hex: String = data.iter().map(|b| format!("{b:02x}")).collect();
            return format!("unknown {kind}:{hex}");
        }
    };
    spec.to_string()
}

impl fmt::Display for SegmentSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_range(f, self.flags, self.seq, self.len)?;
        if let Some(ack) = self.ack {
            write!(f, " ack {ack}")?;
        }
        if let Some(win) = self.win {
            write!(f, " win {win}")?;
        }
        match &self.options {
            OptionsSpec::Any => f.write_str(" <...>"),
            OptionsSpec::Exact(list) if list.is_empty() => Ok(()),
            OptionsSpec::Exact(list) => {
                let items: Vec<String> = list.iter().map(ToString::to_string).collect();
                write!(f, " <{}>", items.join(","))
            }
        }
    }
}

impl fmt::Display for RelSegment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_range(f, self.flags, self.seq, self.len)?;
        if self.flags.0 & TcpFlags::ACK.0 != 0 {
            write!(f, " ack {}", self.ack)?;
        }
        write!(f, " win {}", self.win)?;
        if !self.options.is_empty() {
            let items: Vec<String> = self.options.iter().map(option_str).collect();
            write!(f, " <{}>", items.join(","))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> SegmentSpec {
        line.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    fn err(line: &str) -> Error {
        line.parse::<SegmentSpec>().expect_err(line)
    }

    #[test]
    fn parses_a_linux_syn() {
        let s = p("S 0:0(0) win 64240 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>");
        assert_eq!(s.flags, TcpFlags::SYN);
        assert_eq!((s.seq, s.len, s.ack, s.win), (0, 0, None, Some(64240)));
        assert_eq!(
            s.options,
            OptionsSpec::Exact(vec![
                OptionSpec::Mss(1460),
                OptionSpec::SackPermitted,
                OptionSpec::Timestamps {
                    tsval: Some(100),
                    tsecr: Some(0)
                },
                OptionSpec::Nop,
                OptionSpec::WindowScale(7),
            ])
        );
    }

    #[test]
    fn parses_flags_ack_wildcards_and_sack() {
        let s = p("FP. 1:101(100) win 502 ack 7 <nop,nop,TS val * ecr 5,nop,nop,sack 1:2 5:9>");
        assert_eq!(
            s.flags.0,
            TcpFlags::FIN.0 | TcpFlags::PSH.0 | TcpFlags::ACK.0
        );
        assert_eq!((s.seq, s.len, s.ack, s.win), (1, 100, Some(7), Some(502)));
        let OptionsSpec::Exact(list) = &s.options else {
            panic!("exact options expected")
        };
        assert_eq!(
            list[2],
            OptionSpec::Timestamps {
                tsval: None,
                tsecr: Some(5)
            }
        );
        assert_eq!(
            list[5],
            OptionSpec::Sack(vec![
                SackBlock { left: 1, right: 2 },
                SackBlock { left: 5, right: 9 }
            ])
        );
        assert_eq!(p("S. 0:0(0) ack 1 <...>").options, OptionsSpec::Any);
        assert_eq!(p("R. 1:1(0) ack 1").options, OptionsSpec::Exact(vec![]));
    }

    #[test]
    fn round_trips() {
        for line in [
            "S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>",
            "S. 0:0(0) ack 1 <...>",
            ". 1:1(0) ack 1 win 502",
            "P. 1:101(100) ack 1",
            "F. 101:101(0) ack 1",
            "R. 1:1(0) ack 1",
            "R 5:5(0)",
            "- 9:9(0) win 0",
            "SA 0:0(0)",
            "SEW 0:0(0) win 1 <mss 536,eol>",
            ". 4294967295:99(100) ack 3 <nop,nop,TS val * ecr *,nop,nop,sack 1:2>",
        ] {
            let spec = p(line);
            assert_eq!(spec.to_string(), line);
            assert_eq!(p(&spec.to_string()), spec);
        }
    }

    #[test]
    fn errors_name_the_column() {
        let e = err("Q 0:0(0)");
        assert_eq!((e.column, &e.kind), (0, &ErrorKind::BadFlag('Q')));
        let e = err("S. 1:5(3)");
        assert_eq!(
            e.kind,
            ErrorKind::LengthMismatch {
                seq: 1,
                end: 5,
                len: 3
            }
        );
        assert_eq!(e.column, 3);
        assert_eq!(err("S.").kind, ErrorKind::Truncated);
        assert_eq!(err("").kind, ErrorKind::Truncated);
        assert_eq!(err(". 1-1(0)").kind, ErrorKind::BadRange("1-1(0)".into()));
        assert_eq!(err(". 1:1(0) ack x").kind, ErrorKind::BadNumber("x".into()));
        assert_eq!(
            err(". 1:1(0) win 70000").kind,
            ErrorKind::BadNumber("70000".into())
        );
        assert_eq!(
            err(". 1:1(0) ack 1 ack 2").kind,
            ErrorKind::Duplicate("ack")
        );
        assert_eq!(
            err(". 1:1(0) urg 1").kind,
            ErrorKind::UnexpectedWord("urg".into())
        );
        assert_eq!(err(". 1:1(0) <nop").kind, ErrorKind::UnclosedOptions);
        assert_eq!(
            err(". 1:1(0) <nop> x").kind,
            ErrorKind::TrailingText("x".into())
        );
        let e = err(". 1:1(0) <nop, md5>");
        assert_eq!(
            (e.column, &e.kind),
            (15, &ErrorKind::BadOption("md5".into()))
        );
        assert!(
            e.to_string()
                .starts_with("column 16 of `. 1:1(0) <nop, md5>`")
        );
    }

    #[test]
    fn matching_reports_each_difference() {
        let actual = RelSegment {
            flags: TcpFlags(TcpFlags::PSH.0 | TcpFlags::ACK.0),
            seq: 1,
            len: 100,
            ack: 1,
            win: 502,
            options: vec![
                TcpOption::Nop,
                TcpOption::Nop,
                TcpOption::Timestamps {
                    tsval: 777,
                    tsecr: 100,
                },
            ],
        };
        assert!(
            p("P. 1:101(100) ack 1 win 502 <nop,nop,TS val * ecr 100>")
                .mismatches(&actual)
                .is_empty()
        );
        assert!(p("P. 1:101(100) <...>").mismatches(&actual).is_empty());
        assert_eq!(
            p(". 1:101(100) ack 2 win 502 <nop,nop,TS val * ecr 99>").mismatches(&actual),
            vec!["flags P. != .", "ack 1 != 2", "options differ"]
        );
        assert_eq!(
            p("P. 1:101(100)").mismatches(&actual),
            vec!["options differ"]
        );
        assert_eq!(
            actual.to_string(),
            "P. 1:101(100) ack 1 win 502 <nop,nop,TS val 777 ecr 100>"
        );
    }

    #[test]
    fn concrete_options_refuse_wildcards() {
        assert_eq!(
            p("S 0:0(0) <mss 1460,TS val 1 ecr 0>").concrete_options(),
            Some(vec![
                TcpOption::Mss(1460),
                TcpOption::Timestamps { tsval: 1, tsecr: 0 }
            ])
        );
        assert_eq!(p(". 1:1(0) <TS val * ecr 0>").concrete_options(), None);
        assert_eq!(p(". 1:1(0) <...>").concrete_options(), None);
    }
}
