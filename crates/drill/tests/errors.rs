//! Syntax errors name the file, line and column, what was expected and what was found.

use tcplab_drill::parse;

fn err(src: &str) -> String {
    match parse("x.pkt", src) {
        Ok(s) => panic!("parsed: {s:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn missing_event_time() {
    assert_eq!(
        err("0 `a`\nsocket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"),
        "x.pkt:2:1: expected an event time (`0.1`, `+0.1`, `*` or `0.1~0.2`), found `socket`"
    );
}

#[test]
fn bad_flags() {
    assert_eq!(
        err("0 `a`\n+0 < SX 0:0(0) win 1\n"),
        "x.pkt:2:6: expected TCP flags (letters of `FSRPUEWA`, `.` or `-`), found `SX`"
    );
}

#[test]
fn seq_without_length() {
    assert_eq!(
        err("+0 > S. 0:0 ack 1\n"),
        "x.pkt:1:13: expected `(`, found `ack`"
    );
}

#[test]
fn unknown_tcp_option() {
    assert_eq!(
        err("+0 > S. 0:0(0) ack 1 <mss 1460,bogus>\n"),
        "x.pkt:1:32: expected a TCP option (`nop`, `eol`, `mss`, `wscale`, `sackOK`, `sack`, \
         `TS`, `md5`, `FO`, `FOEXP`), found `bogus`"
    );
}

#[test]
fn unclosed_option_list() {
    assert_eq!(
        err("+0 > S. 0:0(0) ack 1 <mss 1460\n+0 `a`\n"),
        "x.pkt:2:1: expected `>`, found `+`"
    );
}

#[test]
fn timestamp_needs_ecr() {
    assert_eq!(
        err("0 < . 1:1(0) ack 1 <TS val 5>\n"),
        "x.pkt:1:29: expected `ecr`, found `>`"
    );
}

#[test]
fn seq_out_of_range() {
    assert_eq!(
        err("0 < . 4294967296:1(0) ack 1\n"),
        "x.pkt:1:7: expected a sequence number (`start:end(len)`) below 2^32, \
         found integer `4294967296`"
    );
}

#[test]
fn syscall_missing_result() {
    assert_eq!(
        err("0 close(3)\n+0 `a`\n"),
        "x.pkt:2:1: expected `=`, found `+`"
    );
    assert_eq!(
        err("0 close(3) ="),
        "x.pkt:1:13: expected an expression, found end of input"
    );
}

#[test]
fn syscall_bad_argument_list() {
    assert_eq!(
        err("0 setsockopt(3, SOL_SOCKET SO_REUSEADDR) = 0\n"),
        "x.pkt:1:28: expected `,` or `)`, found `SO_REUSEADDR`"
    );
    assert_eq!(
        err("0 write(3, [1, 2) = 0\n"),
        "x.pkt:1:17: expected `,` or `]`, found `)`"
    );
}

#[test]
fn relative_range_needs_plus_on_both_ends() {
    assert_eq!(
        err("+.3~.4 > F. 1:1(0) ack 1\n"),
        "x.pkt:1:5: expected `+`, found number `.4`"
    );
}

#[test]
fn lexer_errors() {
    assert_eq!(
        err("0 `never closed\n"),
        "x.pkt:1:3: expected a closing back quote for this command, found end of input"
    );
    assert_eq!(
        err("0 write(3, \"abc) = 3\n"),
        "x.pkt:1:12: expected a closing `\"` for this string, found end of input"
    );
    assert_eq!(
        err("0 %{ x = 1\n"),
        "x.pkt:1:3: expected `}%` closing this block, found end of input"
    );
    assert_eq!(
        err("/* open\n"),
        "x.pkt:1:1: expected `*/` closing this comment, found end of input"
    );
    assert_eq!(
        err("0 close(3) = 0 $\n"),
        "x.pkt:1:16: expected a token, found `$`"
    );
    assert_eq!(
        err("0 close(99999999999999999999) = 0\n"),
        "x.pkt:1:9: expected an integer below 2^64, found `99999999999999999999`"
    );
    assert_eq!(
        err("--=1\n"),
        "x.pkt:1:1: expected an option name after `--`, found `=`"
    );
}

#[test]
fn first_problem_in_the_file_wins() {
    assert_eq!(
        err("0 close(3) = 0 bogus bogus\n+0 write(3, \"unterminated\n"),
        "x.pkt:1:22: expected end of line, found `bogus`"
    );
    assert_eq!(
        err("0 close(3) = 0\n+0 < S 0:0(0) win 1 <mss 1460, $>\n+0 close(3 = 0\n"),
        "x.pkt:2:32: expected a token, found `$`"
    );
}

#[test]
fn columns_count_characters_not_bytes() {
    assert_eq!(
        err("// é\n0 < é\n"),
        "x.pkt:2:5: expected a token, found `é`"
    );
}

#[test]
fn nesting_is_bounded() {
    let deep = format!("0 f({}) = 0\n", "[".repeat(10_000));
    assert_eq!(
        err(&deep),
        "x.pkt:1:69: expected at most 64 levels of nesting, found `[`"
    );
}

#[test]
fn one_event_per_line() {
    assert_eq!(
        err("0 close(3) = 0 0\n"),
        "x.pkt:1:16: expected end of line, found integer `0`"
    );
    assert_eq!(
        err("0 < S 0:0(0) win 1 ack 2\n"),
        "x.pkt:1:20: expected end of line, found `ack`"
    );
    assert_eq!(
        err("0 `multi\nline` +0 `x`\n"),
        "x.pkt:2:7: expected end of line, found `+`"
    );
}

#[test]
fn bit_or_chains_are_bounded() {
    let long = format!("0 f(A{}) = 0\n", "|A".repeat(10_000));
    assert_eq!(
        err(&long),
        "x.pkt:1:133: expected at most 64 operands of `|`, found `A`"
    );
}

#[test]
fn error_fields_are_exposed() {
    let e = parse("dir/y.pkt", "0 < S 0:0(0) win 1 <mss>").unwrap_err();
    assert_eq!(e.file, "dir/y.pkt");
    assert_eq!((e.pos.line, e.pos.col), (1, 24));
    assert_eq!(e.expected, "an MSS");
    assert_eq!(e.found, "`>`");
}
