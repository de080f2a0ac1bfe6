//! `%{ ... }%` blocks through the public API, as a runner uses it; the evaluator's own unit
//! tests live in `src/run/python.rs`.

use proptest::prelude::*;
use tcplab_drill::run::python::{CodeError, CodePos, Lookup, Value, exec};

/// A runner's lookup: some tcp_info fields, a constant, and a field it does not model.
fn lookup(name: &str) -> Lookup {
    match name {
        "tcpi_snd_cwnd" => Lookup::Value(Value::Int(20)),
        "tcpi_rto" => Lookup::Value(Value::Int(1_000_000)),
        "tcpi_ca_state" | "TCP_CA_Loss" => Lookup::Value(Value::Int(4)),
        "tcpi_delivery_rate" => Lookup::Unsupported("tcpi_delivery_rate is not modelled".into()),
        _ => Lookup::Unknown,
    }
}

#[test]
fn a_block_runs_and_prints() {
    let block = "\nassert tcpi_ca_state == TCP_CA_Loss, tcpi_ca_state\n\
                 assert 1000000 <= tcpi_rto <= 1100000, tcpi_rto\n\
                 print(\"cwnd %d\" % tcpi_snd_cwnd)\nprint \"rto\", tcpi_rto / 1e6\n";
    assert_eq!(
        exec(block, &lookup),
        Ok(vec!["cwnd 20".to_string(), "rto 1.0".to_string()])
    );
}

#[test]
fn a_failed_assert_says_what_and_why() {
    let err = exec(" assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd ", &lookup).unwrap_err();
    let want = CodeError::AssertFailed {
        pos: CodePos { line: 1, col: 2 },
        source: "assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd".into(),
        message: Some("20".into()),
        detail: "tcpi_snd_cwnd = 20".into(),
    };
    assert_eq!(err, want);
}

#[test]
fn unsupported_and_errors_are_told_apart() {
    let skip = exec("assert tcpi_delivery_rate > 0", &lookup);
    assert!(
        matches!(skip, Err(CodeError::Unsupported { ref what, .. }) if what.contains("not modelled"))
    );
    let skip = exec("import os", &lookup);
    assert!(matches!(skip, Err(CodeError::Unsupported { .. })));
    let err = exec("assert tcpi_snd_cwnd // 0", &lookup).unwrap_err();
    assert_eq!(
        err.to_string(),
        "1:22: ZeroDivisionError: integer division or modulo by zero"
    );
    assert!(exec("print(-7 // 2)", &lookup) == Ok(vec!["-4".to_string()]));
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_text(code in "\\PC{0,80}") {
        let _ = exec(&code, &lookup);
    }

    #[test]
    fn never_panics_on_python_like_text(pieces in proptest::collection::vec(prop::sample::select(&[
        "assert ", "print", "(", ")", "1", "-", "**", "//", "%", "'%d'", "'%5.2f'", ",", " ",
        "\n", "\\\n", "==", "<", "and ", "not ", "if ", "else ", "tcpi_rto", "x", "=", ";",
        "abs(", "round(", "2.5", "0x", "1e309", "'", "\"", "#", "  ", "(1, 2)", "[", ".",
    ][..]), 0..40)) {
        let _ = exec(&pieces.concat(), &lookup);
    }
}
