//! The parser never panics, whatever the input.

use proptest::prelude::*;

/// Fragments of real syntax, so random sequences reach deep into the grammar.
const PIECES: &[&str] = &[
    "0",
    "+",
    "+.1",
    "*",
    "~",
    "...",
    " ",
    "\n",
    "<",
    ">",
    "S",
    ".",
    "-",
    "0:0(0)",
    "1:1001(1000)",
    "ack",
    "win",
    "urg",
    "1",
    "<...>",
    "<",
    "mss",
    "1460",
    ",",
    "nop",
    "sackOK",
    "sack",
    "1:2",
    "TS",
    "val",
    "ecr",
    "wscale",
    "eol",
    "FO",
    "md5",
    "socket(",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "=",
    "-1",
    "EPIPE",
    "|",
    "\"s\"",
    "`cmd`",
    "%{ x }%",
    "--mtu=1500",
    "--x",
    "udp",
    "icmp",
    "[ect0]",
    "(tos 0x10)",
    "0x2",
    "htons(",
    "//c\n",
    "/*c*/",
    "é",
    "\"",
    "`",
    "%{",
    "/*",
    "4294967296",
    "99999999999999999999",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(src in any::<String>()) {
        let _ = tcplab_drill::parse("p.pkt", &src);
    }

    #[test]
    fn arbitrary_token_soup_never_panics(
        idx in proptest::collection::vec(0..PIECES.len(), 0..60),
    ) {
        let src: String = idx.iter().map(|&i| PIECES[i]).collect();
        if let Err(e) = tcplab_drill::parse("p.pkt", &src) {
            // Errors always point inside the text (or just past its end).
            let lines = src.split('\n').count();
            prop_assert!(e.pos.line as usize <= lines, "{e}");
            prop_assert!(e.pos.col >= 1);
        }
    }
}
