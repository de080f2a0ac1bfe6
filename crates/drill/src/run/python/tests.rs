//! Unit tests of the `%{ }%` evaluator.

use super::*;

/// Runs `code` with a few tcp_info names bound, as a runner would.
fn run(code: &str) -> Result<Vec<String>, CodeError> {
    exec(code, &|name| match name {
        "tcpi_snd_cwnd" => Lookup::Value(Value::Int(20)),
        "tcpi_rto" => Lookup::Value(Value::Int(1000)),
        "tcpi_ca_state" | "TCP_CA_Loss" => Lookup::Value(Value::Int(4)),
        "tcpi_delivery_rate" => Lookup::Unsupported("tcpi_delivery_rate is not modelled".into()),
        _ => Lookup::Unknown,
    })
}

/// What running `code` gives, as text: the printed lines joined by `|`, or the error.
fn outcome(code: &str) -> String {
    match run(code) {
        Ok(lines) => lines.join("|"),
        Err(e) => e.to_string(),
    }
}

/// Checks a table of `code => outcome` lines, where `\n` in the code is a newline.
fn check(table: &str) {
    for case in table.lines().map(str::trim_start).filter(|l| !l.is_empty()) {
        let split = case.strip_suffix(" =>").map(|code| (code, ""));
        let (code, want) = split.or(case.split_once(" => ")).unwrap_or((case, ""));
        assert_eq!(outcome(&code.replace("\\n", "\n")), want, "{code}");
    }
}

#[test]
fn values_are_pythons() {
    // What CPython 3.11 prints.
    check(
        r#"
        print(7 // 2, -7 // 2, 7 // -2, -7 % 3, 7 % -3, -7.5 // 2, -7.5 % 2, 7.5 % -2) => 3 -4 -4 2 -2 -4.0 0.5 -0.5
        print(1 / 4, 10 / 5, 2 ** 10, 2 ** -1, -2 ** 2, 2 ** 3 ** 2, 10 ** 30) => 0.25 2.0 1024 0.5 -4 512 1000000000000000000000000000000
        print(1 << 10, -1 >> 5, 6 & 3, 6 | 3, 6 ^ 3, ~5, -~5, 0x1f + 0o17 + 0b101 + 1_000) => 1024 -1 2 7 5 -6 6 1051
        print(True + True, True * 2.5, -True, ~False, True & False, True | 1) => 2 2.5 -1 -1 False 1
        print(0.1 + 0.2, 1e16, 1e15, 1.5e-5, 0.0001, -0.0, 1e300 * 1e10, 3., .5) => 0.30000000000000004 1e+16 1000000000000000.0 1.5e-05 0.0001 -0.0 inf 3.0 0.5
        print(2 ** 53 + 1 > 2.0 ** 53, 2 ** 53 + 1 == 2.0 ** 53, 1 == 1.0, True == 1, None == 0, 'a' == 1) => True False True True False False
        print(1 < 2 < 3, 1 < 3 < 2, 3 > 2 != 5 >= 5, 1 == 1 == 1.0) => True False True True
        print(0 or '' or None, 1 and 2 and 3, 0 and 1, 'x' or 1, not 0, not 'a') => None 3 0 x True False
        print(1 if 0 else 2 if 0 else 3, 'yes' if tcpi_snd_cwnd > 10 else 'no') => 3 yes
        print('a' 'b' + "c" * 2, 'ab' * 0, 3 * 'x', '1\t2', r'raw\t', 'q\'s', '\x41') => abcc  xxx 1	2 raw\t q's A
        print('cwnd %d' % tcpi_snd_cwnd, '%s-%s' % ('a', 1), '%x %X %o' % (255, 255, 8), '%5.2f|' % 3.14159) => cwnd 20 a-1 ff FF 10  3.14|
        print('%-5d|%05d|%+d|% d|%.3d|%#x' % (42, -42, 5, 5, 7, 255), '%d%%' % 99.9, '%r %s' % ('a', None)) => 42   |-0042|+5| 5|007|0xff 99% 'a' None
        print(abs(-3), abs(-2.5), min(3, 1, 2), max(3, 1.5), int(-3.9), int(' 42 '), float('1.5'), str(2.0)) => 3 2.5 1 3 -3 42 1.5 2.0
        print(bool(0.0), bool('x'), len('h\xe9llo'), round(2.5), round(3.5), round(-2.5), round(2.675, 2), round(7, 1)) => False True 5 2 4 -2 2.67 7
        print(int(True), float(' -inf '), float('1e3'), int('1_000'), max(True, 1), min(1, True)) => 1 -inf 1000.0 1000 True 1
        "#,
    );
}

#[test]
fn statements() {
    check(
        r#"
        print('cwnd %d' % tcpi_snd_cwnd)\nprint(1, 'a', None)\nprint('a\x0ab') => cwnd 20|1 a None|a|b
        print 1, 2.5\nprint 'x %s' % True,\nprint\nprint (1) + 1 => 1 2.5|x True||2
        a = b = tcpi_snd_cwnd // 3; pass\nc = a * b; a = 1\n(c)\nprint(a, b, c) => 1 6 36
        tcpi_rto = 5\nprint(tcpi_rto) => 5
        print(False and nowhere, True or nowhere, 1 if True else nowhere, 2 < 1 < nowhere) => False True 1 False
        print(0 < 1 < nowhere) => 1:15: NameError: name 'nowhere' is not defined
        assert tcpi_snd_cwnd == 20, tcpi_snd_cwnd\nassert 1000 <= tcpi_rto <= 1100\nassert tcpi_ca_state == TCP_CA_Loss =>
        assert True, nowhere =>
        "#,
    );
}

#[test]
fn failed_asserts_give_source_message_and_detail() {
    let code =
        "x = 3\n\nassert  tcpi_rto + x < x * tcpi_rto - 2 * tcpi_rto ,  'rto %d' % tcpi_rto  # ";
    let want = CodeError::AssertFailed {
        pos: CodePos { line: 3, col: 1 },
        source: "assert  tcpi_rto + x < x * tcpi_rto - 2 * tcpi_rto ,  'rto %d' % tcpi_rto".into(),
        message: Some("rto 1000".into()),
        detail: "tcpi_rto = 1000, x = 3".into(),
    };
    assert_eq!(run(code), Err(want));
    // Strings show as repr(); names not needed to decide are left out.
    check(
        r#"
        assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd => 1:1: `assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd` failed: 20 (tcpi_snd_cwnd = 20)
        assert 'a' == tcpi_snd_cwnd => 1:1: `assert 'a' == tcpi_snd_cwnd` failed (tcpi_snd_cwnd = 20)
        s = 'q'\nassert s == 'p' and nowhere, s => 2:1: `assert s == 'p' and nowhere, s` failed: q (s = 'q')
        assert False => 1:1: `assert False` failed
        "#,
    );
}

#[test]
fn layout_follows_packetdrill_and_python() {
    check(
        r#"
         x = 1\n  print(x) => 2:2: IndentationError: unexpected indent
        \nx = 1\n  print(x) => 3:2: IndentationError: unexpected indent
        \n  x = 1\n    print(x) => 3:4: IndentationError: unexpected indent
        "#,
    );
    let block =
        "\n    x = 1  # set\n\n    # note\n    assert x + \\\n 1 == 2\n    print(x,\n  2)\n";
    assert_eq!(run(block), Ok(vec!["1 2".into()]));
    assert_eq!(
        run(" print(1)\r\nprint(2)\r\n"),
        Ok(vec!["1".into(), "2".into()])
    );
}

#[test]
fn constructs_outside_the_subset_are_unsupported() {
    check(
        r#"
        import os => 1:1: not supported: `import` statement
        def f(): pass => 1:1: not supported: `def` statement
        if x: pass => 1:1: not supported: `if` statement
        x = os.path => 1:7: not supported: attribute access `a.b`
        x = y[0] => 1:6: not supported: list or subscript `[...]`
        x = {} => 1:5: not supported: dict or set `{...}`
        f = lambda: 1 => 1:5: not supported: lambda
        x += 1 => 1:3: not supported: augmented assignment `+=`
        a, b = 1, 2 => 1:2: not supported: tuple
        assert 1 in x => 1:10: not supported: `in` operator
        assert x is None => 1:10: not supported: `is` operator
        assert x not in y => 1:10: not supported: `not in` operator
        print(1, end='') => 1:10: not supported: keyword argument `end=`
        print(f'{x}') => 1:7: not supported: f-string
        print('''x''') => 1:7: not supported: triple-quoted string
        print(1j) => 1:7: not supported: a complex literal
        print(2 ** 200) => 1:9: not supported: integer arithmetic beyond 128 bits
        print('%e' % 1.5) => 1:12: not supported: `%e` formatting
        print(hex(1)) => 1:7: not supported: builtin `hex()`
        print((-8) ** 0.5) => 1:12: not supported: complex numbers
        assert tcpi_delivery_rate > 0 => 1:8: not supported: tcpi_delivery_rate is not modelled
        "#,
    );
}

#[test]
fn python_exceptions_have_kind_message_and_position() {
    check(
        r#"
        foo() => 1:1: NameError: name 'foo' is not defined
        x = 1\nprint(x + nowhere) => 2:11: NameError: name 'nowhere' is not defined
        print(1 / 0) => 1:9: ZeroDivisionError: division by zero
        print(1 % 0) => 1:9: ZeroDivisionError: integer modulo by zero
        print(-1.5 // 0) => 1:12: ZeroDivisionError: float floor division by zero
        print('a' + 1) => 1:11: TypeError: can only concatenate str (not "int") to str
        print('a' < 1) => 1:11: TypeError: '<' not supported between instances of 'str' and 'int'
        print('%d' % 'a') => 1:12: TypeError: %d format: a real number is required, not str
        print('%d %d' % (1,)) => 1:15: TypeError: not enough arguments for format string
        x = 3\nx() => 2:1: TypeError: 'int' object is not callable
        print(int('x')) => 1:7: ValueError: invalid literal for int() with base 10: 'x'
        print(1 << -1) => 1:9: ValueError: negative shift count
        print(10.0 ** 400) => 1:12: OverflowError: (34, 'Numerical result out of range')
        "#,
    );
}

#[test]
fn syntax_errors_point_where_cpython_does() {
    check(
        r#"
        print(1 +) => 1:10: SyntaxError: invalid syntax
        x = (1,\n 2 => 1:5: SyntaxError: '(' was never closed
        print(1)) => 1:9: SyntaxError: unmatched ')'
        print(1] => 1:8: SyntaxError: closing parenthesis ']' does not match opening parenthesis '('
        x = 1\nprint('abc) => 2:7: SyntaxError: unterminated string literal (detected at line 2)
        x = 012 => 1:5: SyntaxError: leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers
        x = 0x => 1:5: SyntaxError: invalid hexadecimal literal
        x = 1__0 => 1:5: SyntaxError: invalid decimal literal
        x = $ => 1:5: SyntaxError: invalid character '$' (U+0024)
        1 = x => 1:1: SyntaxError: cannot assign to literal
        x = 1 \ 2 => 1:7: SyntaxError: unexpected character after line continuation character
        print(1);; => 1:10: SyntaxError: invalid syntax
        print(1)\nprint(2 +) => 2:10: SyntaxError: invalid syntax
        "#,
    );
}

#[test]
fn deep_nesting_is_refused_without_exhausting_the_stack() {
    let n = 10_000;
    for code in [
        format!("x = {}1{}", "(".repeat(n), ")".repeat(n)),
        format!("x = {}1", "-".repeat(n)),
        format!("x = {}1", "not ".repeat(n)),
        format!("x = {}1", "2 ** ".repeat(n)),
        format!("x = {}1", "1 + ".repeat(n)),
        format!("x = {}1", "1 if 1 else ".repeat(n)),
        format!("x = {}1{}", "abs(".repeat(n), ")".repeat(n)),
    ] {
        assert!(outcome(&code).contains("RecursionError"), "{}", &code[..20]);
    }
    // Nesting within the limits works.
    check(&format!(
        "print({}1{}) => 1",
        "(".repeat(40),
        ")".repeat(40)
    ));
    check(&format!("print({}1) => 91", "1 + ".repeat(90)));
}

#[test]
fn random_text_never_panics() {
    // A deterministic xorshift generator over pieces of the grammar and odd characters.
    const PIECES: &str = "assert |print|(|)|1|0x|2.5e|'|\"|\\|\n| |%|%d|%5.1f|%(|,|==|<|**|\
                          //|-|~|not |and |or |if |else |x|tcpi_rto|=|;|#|True|None|abs(|\
                          min(|round(|int(|1e308|170141183460469231731687303715884105727|\t|\
                          é|\0|[|{|.|_|r'|\\x|<<|999|*|'%s'|\r";
    let pieces: Vec<&str> = PIECES.split('|').collect();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..20_000 {
        let code: String = (0..next() % 24)
            .map(|_| match next() % 8 {
                0 => char::from_u32((next() % 0x3000) as u32)
                    .unwrap_or('?')
                    .to_string(),
                _ => pieces[(next() % pieces.len() as u64) as usize].to_string(),
            })
            .collect();
        let _ = run(&code);
    }
}

#[test]
fn display_is_pythons_str() {
    let values = [
        Value::Int(-3),
        Value::Float(1.5),
        Value::Float(1e22),
        Value::Bool(true),
    ];
    let shown: Vec<String> = values.iter().map(Value::to_string).collect();
    assert_eq!(shown, ["-3", "1.5", "1e+22", "True"]);
    assert_eq!(
        Value::None.to_string() + &Value::Str("s".into()).to_string(),
        "Nones"
    );
}
