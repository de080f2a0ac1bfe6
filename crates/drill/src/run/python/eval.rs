//! Runs parsed statements.

use super::*;
// ---------------------------------------------------------------------------------------------
// Evaluation

/// A number: a bool has become an int.
#[derive(Clone, Copy, Debug)]
pub(super) enum Num {
    I(i128),
    F(f64),
}

impl Num {
    pub(super) fn float(self) -> f64 {
        match self {
            Num::I(i) => i as f64,
            Num::F(x) => x,
        }
    }
}

/// An operation's failure, before it is given a position.
#[derive(Debug)]
pub(super) enum Fail {
    /// A Python exception: its kind and message.
    Raise(&'static str, String),
    Unsupported(String),
}

impl Fail {
    pub(super) fn at(self, pos: CodePos) -> CodeError {
        match self {
            Fail::Raise(kind, message) => error(pos, kind, message),
            Fail::Unsupported(what) => unsupported(pos, what),
        }
    }
}

/// `raise!(TypeError: "format", args...)` returns that Python exception as a [`Fail`].
macro_rules! raise {
    ($kind:ident: $($arg:tt)+) => {
        return Err(Fail::Raise(stringify!($kind), format!($($arg)+)))
    };
}

pub(super) fn too_big() -> Fail {
    Fail::Unsupported("integer arithmetic beyond 128 bits".into())
}

pub(super) fn too_long() -> Fail {
    Fail::Unsupported(format!("a string longer than {MAX_STR} bytes"))
}

/// The state of a running block.
pub(super) struct Machine<'a> {
    pub(super) locals: BTreeMap<String, Value>,
    pub(super) lookup: &'a dyn Fn(&str) -> Lookup,
    pub(super) printed: Vec<String>,
}

pub(super) const BUILTINS: &str = "abs min max int float str bool len round";
/// Python builtins outside the subset: calling one is `Unsupported`, not a NameError.
pub(super) const OTHER_BUILTINS: &str = "all any ascii bin bytes callable chr dict dir divmod enumerate \
                              eval exec exit filter format getattr globals hasattr hash hex id \
                              input isinstance iter list locals map next oct open ord pow print \
                              quit range repr reversed set setattr sorted sum tuple type vars zip";

impl Machine<'_> {
    pub(super) fn run(&mut self, stmt: &Stmt) -> Result<(), CodeError> {
        match stmt {
            Stmt::Assert {
                pos,
                source,
                test,
                msg,
            } => {
                if self.eval(test)?.truthy() {
                    return Ok(());
                }
                let message = msg.as_ref().map(|m| self.eval(m)).transpose()?;
                let mut used = Vec::new();
                names(test, &mut used);
                let value = |n: &&str| Some(format!("{n} = {}", self.value_of(n)?.repr()));
                let detail = used.iter().filter_map(value).collect::<Vec<_>>().join(", ");
                let (pos, source, message) = (*pos, source.clone(), message.map(|m| m.to_string()));
                Err(CodeError::AssertFailed {
                    pos,
                    source,
                    message,
                    detail,
                })
            }
            Stmt::Print(args) => {
                let words = args.iter().map(|a| Ok(self.eval(a)?.to_string()));
                let line = words.collect::<Result<Vec<_>, CodeError>>()?.join(" ");
                self.printed.extend(line.split('\n').map(String::from));
                Ok(())
            }
            Stmt::Assign(targets, value) => {
                let v = self.eval(value)?;
                for t in targets {
                    self.locals.insert(t.clone(), v.clone());
                }
                Ok(())
            }
            Stmt::Expr(e) => self.eval(e).map(drop),
            Stmt::Pass => Ok(()),
        }
    }

    /// A name's value if it has one, for an assert's detail.
    pub(super) fn value_of(&self, name: &str) -> Option<Value> {
        match (self.locals.get(name), (self.lookup)(name)) {
            (Some(v), _) => Some(v.clone()),
            (None, Lookup::Value(v)) => Some(v),
            _ => None,
        }
    }

    pub(super) fn name(&self, name: &str, pos: CodePos) -> Result<Value, CodeError> {
        if let Some(v) = self.locals.get(name) {
            return Ok(v.clone());
        }
        match (self.lookup)(name) {
            Lookup::Value(v) => Ok(v),
            Lookup::Unsupported(reason) => Err(unsupported(pos, reason)),
            Lookup::Unknown if is_word(BUILTINS, name) || is_word(OTHER_BUILTINS, name) => Err(
                unsupported(pos, format!("builtin `{name}` used as a value")),
            ),
            Lookup::Unknown => bail!(pos, NameError: "name '{name}' is not defined"),
        }
    }

    /// Evaluates `e`. Big arms call out, to keep this recursive function's frame small.
    pub(super) fn eval(&mut self, e: &Expr) -> Result<Value, CodeError> {
        let at = |f: Fail| f.at(e.pos);
        match &e.kind {
            Kind::Const(v) => Ok(v.clone()),
            Kind::Name(n) => self.name(n, e.pos),
            Kind::Unary(op, x) => unary(op, &self.eval(x)?).map_err(at),
            Kind::Not(x) => Ok(Value::Bool(!self.eval(x)?.truthy())),
            Kind::Bin("%", l, r) if matches!(r.kind, Kind::Tuple(_)) => {
                let f = self.eval(l)?;
                let args = r.kind.children().into_iter().map(|a| self.eval(a));
                let args = args.collect::<Result<Vec<_>, _>>()?;
                match f {
                    Value::Str(f) => percent_format(&f, &args).map_err(at),
                    _ => {
                        bail!(e.pos, TypeError:
                            "unsupported operand type(s) for %: '{}' and 'tuple'", f.type_name())
                    }
                }
            }
            Kind::Bin(op, l, r) => {
                let a = self.eval(l)?;
                binary(op, &a, &self.eval(r)?).map_err(at)
            }
            Kind::BoolOp(and_, items) => {
                let mut last = Value::None;
                for item in items {
                    last = self.eval(item)?;
                    if last.truthy() != *and_ {
                        break;
                    }
                }
                Ok(last)
            }
            Kind::Compare(first, rest) => self.compare(first, rest),
            Kind::IfElse(body, cond, orelse) => {
                let branch = if self.eval(cond)?.truthy() {
                    body
                } else {
                    orelse
                };
                self.eval(branch)
            }
            Kind::Call(name, args) => self.call(name, args, e.pos),
            Kind::Tuple(_) => Err(unsupported(e.pos, "a tuple value (only `str % (a, b)`)")),
        }
    }

    /// A chained comparison: `a < b < c` is `a < b and b < c`, `b` evaluated once.
    pub(super) fn compare(
        &mut self,
        first: &Expr,
        rest: &[(&str, CodePos, Expr)],
    ) -> Result<Value, CodeError> {
        let mut a = self.eval(first)?;
        for (op, pos, rhs) in rest {
            let b = self.eval(rhs)?;
            if !compare(op, &a, &b).map_err(|f| f.at(*pos))? {
                return Ok(Value::Bool(false));
            }
            a = b;
        }
        Ok(Value::Bool(true))
    }

    pub(super) fn call(
        &mut self,
        name: &str,
        args: &[Expr],
        pos: CodePos,
    ) -> Result<Value, CodeError> {
        let local = self.locals.contains_key(name);
        if is_word(OTHER_BUILTINS, name) && !local {
            return Err(unsupported(pos, format!("builtin `{name}()`")));
        } else if !is_word(BUILTINS, name) || local {
            let t = self.name(name, pos)?.type_name();
            bail!(pos, TypeError: "'{t}' object is not callable");
        }
        let args = args
            .iter()
            .map(|a| self.eval(a))
            .collect::<Result<Vec<_>, _>>()?;
        builtin(name, &args).map_err(|f| f.at(pos))
    }
}

pub(super) fn unary(op: &str, v: &Value) -> Result<Value, Fail> {
    Ok(match (op, v.num()) {
        ("-", Some(Num::I(i))) => Value::Int(i.checked_neg().ok_or_else(too_big)?),
        ("-", Some(Num::F(x))) => Value::Float(-x),
        ("+", Some(Num::I(i))) => Value::Int(i),
        ("+", Some(Num::F(x))) => Value::Float(x),
        ("~", Some(Num::I(i))) => Value::Int(!i),
        _ => raise!(TypeError: "bad operand type for unary {op}: '{}'", v.type_name()),
    })
}

pub(super) fn binary(op: &str, a: &Value, b: &Value) -> Result<Value, Fail> {
    let (ta, tb) = (a.type_name(), b.type_name());
    match (op, a, b) {
        ("+", Value::Str(x), Value::Str(y)) if x.len() + y.len() > MAX_STR => Err(too_long()),
        ("+", Value::Str(x), Value::Str(y)) => Ok(Value::Str(format!("{x}{y}"))),
        ("+", Value::Str(_), _) => {
            raise!(TypeError: "can only concatenate str (not \"{tb}\") to str")
        }
        ("%", Value::Str(f), v) => percent_format(f, std::slice::from_ref(v)),
        ("*", Value::Str(s), Value::Int(_) | Value::Bool(_))
        | ("*", Value::Int(_) | Value::Bool(_), Value::Str(s)) => {
            let n = match (a.num(), b.num()) {
                (Some(Num::I(n)), _) | (_, Some(Num::I(n))) => n,
                _ => 0,
            };
            if i64::try_from(n).is_err() {
                raise!(OverflowError: "cannot fit 'int' into an index-sized integer");
            }
            let n = usize::try_from(n).unwrap_or(0); // a negative count repeats nothing
            match s.len().checked_mul(n) {
                Some(len) if len <= MAX_STR => Ok(Value::Str(s.repeat(n))),
                _ => Err(too_long()),
            }
        }
        ("&", Value::Bool(x), Value::Bool(y)) => Ok(Value::Bool(x & y)),
        ("|", Value::Bool(x), Value::Bool(y)) => Ok(Value::Bool(x | y)),
        ("^", Value::Bool(x), Value::Bool(y)) => Ok(Value::Bool(x ^ y)),
        _ => match (a.num(), b.num()) {
            (Some(Num::I(x)), Some(Num::I(y))) => int_op(op, x, y),
            (Some(x), Some(y)) if !"<< >> & | ^".contains(op) => float_op(op, x.float(), y.float()),
            _ if op == "*" && (ta == "str" || tb == "str") => {
                let t = if ta == "str" { tb } else { ta };
                raise!(TypeError: "can't multiply sequence by non-int of type '{t}'")
            }
            _ => {
                let op = if op == "**" { "** or pow()" } else { op };
                raise!(TypeError: "unsupported operand type(s) for {op}: '{ta}' and '{tb}'")
            }
        },
    }
}

/// Python's `divmod` of ints: the quotient rounds toward minus infinity.
pub(super) fn int_divmod(x: i128, y: i128) -> Option<(i128, i128)> {
    if y == -1 {
        return Some((x.checked_neg()?, 0)); // i128::MIN % -1 overflows in Rust
    }
    let (q, r) = (x.checked_div(y)?, x.checked_rem(y)?);
    Some(if r != 0 && (r < 0) != (y < 0) {
        (q - 1, r + y)
    } else {
        (q, r)
    })
}

pub(super) fn int_op(op: &str, x: i128, y: i128) -> Result<Value, Fail> {
    let r = match op {
        "+" => x.checked_add(y),
        "-" => x.checked_sub(y),
        "*" => x.checked_mul(y),
        "/" if y == 0 => raise!(ZeroDivisionError: "division by zero"),
        "//" if y == 0 => raise!(ZeroDivisionError: "integer division or modulo by zero"),
        "%" if y == 0 => raise!(ZeroDivisionError: "integer modulo by zero"),
        // Exact when both are below 2**53, like Python's correctly rounded division.
        "/" => return Ok(Value::Float(x as f64 / y as f64)),
        "//" => int_divmod(x, y).map(|d| d.0),
        "%" => int_divmod(x, y).map(|d| d.1),
        "**" if y < 0 => return float_op(op, x as f64, y as f64),
        "**" if x == 0 || x == 1 => Some(if y == 0 { 1 } else { x }),
        "**" if x == -1 => Some(if y % 2 == 0 { 1 } else { -1 }),
        "**" => u32::try_from(y).ok().and_then(|e| x.checked_pow(e)),
        "<<" | ">>" if y < 0 => raise!(ValueError: "negative shift count"),
        "<<" if x == 0 => Some(0),
        "<<" => Some(x << y.min(127)).filter(|r| y < 127 && r >> y == x),
        ">>" => Some(x >> y.min(127)),
        "&" => Some(x & y),
        "|" => Some(x | y),
        _ => Some(x ^ y),
    };
    r.map(Value::Int).ok_or_else(too_big)
}

pub(super) fn float_op(op: &str, x: f64, y: f64) -> Result<Value, Fail> {
    Ok(Value::Float(match op {
        "+" => x + y,
        "-" => x - y,
        "*" => x * y,
        "/" if y == 0.0 => raise!(ZeroDivisionError: "float division by zero"),
        "//" if y == 0.0 => raise!(ZeroDivisionError: "float floor division by zero"),
        "%" if y == 0.0 => raise!(ZeroDivisionError: "float modulo"),
        "/" => x / y,
        "//" => float_divmod(x, y).0,
        "%" => float_divmod(x, y).1,
        _ if x == 0.0 && y < 0.0 => {
            raise!(ZeroDivisionError: "0.0 cannot be raised to a negative power")
        }
        _ if x < 0.0 && y.is_finite() && y.fract() != 0.0 => {
            return Err(Fail::Unsupported("complex numbers".into()));
        }
        _ if x.is_finite() && y.is_finite() && x.powf(y).is_infinite() => {
            raise!(OverflowError: "(34, 'Numerical result out of range')")
        }
        _ => x.powf(y),
    }))
}

/// CPython's float_divmod(): the floor of the quotient, and a remainder with the sign of `y`.
pub(super) fn float_divmod(x: f64, y: f64) -> (f64, f64) {
    let mut m = x % y;
    let mut div = (x - m) / y;
    if m == 0.0 {
        m = 0.0f64.copysign(y);
    } else if (y < 0.0) != (m < 0.0) {
        m += y;
        div -= 1.0;
    }
    let q = match div.floor() {
        _ if div == 0.0 => 0.0f64.copysign(x / y),
        f if div - f > 0.5 => f + 1.0,
        f => f,
    };
    (q, m)
}

/// Compares an int with a float exactly, as Python does (the int is not rounded).
pub(super) fn int_float_cmp(i: i128, x: f64) -> Option<Ordering> {
    const TWO_127: f64 = 170141183460469231731687303715884105728.0;
    match x {
        _ if x.is_nan() => None,
        _ if x >= TWO_127 => Some(Ordering::Less),
        _ if x < -TWO_127 => Some(Ordering::Greater),
        // |floor| <= 2**127 converts exactly.
        _ => match i.cmp(&(x.floor() as i128)) {
            Ordering::Equal if x > x.floor() => Some(Ordering::Less),
            o => Some(o),
        },
    }
}

pub(super) fn compare(op: &str, a: &Value, b: &Value) -> Result<bool, Fail> {
    let ord = match (a.num(), b.num(), a, b) {
        (Some(Num::I(x)), Some(Num::I(y)), ..) => Some(x.cmp(&y)),
        (Some(Num::F(x)), Some(Num::F(y)), ..) => x.partial_cmp(&y),
        (Some(Num::I(i)), Some(Num::F(x)), ..) => int_float_cmp(i, x),
        (Some(Num::F(x)), Some(Num::I(i)), ..) => int_float_cmp(i, x).map(Ordering::reverse),
        (_, _, Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        // Values of different types are never equal; None equals only None.
        _ if op == "==" || op == "!=" => return Ok((a == b) == (op == "==")),
        _ => {
            let (ta, tb) = (a.type_name(), b.type_name());
            raise!(TypeError: "'{op}' not supported between instances of '{ta}' and '{tb}'")
        }
    };
    Ok(match op {
        "==" => ord == Some(Ordering::Equal),
        "!=" => ord != Some(Ordering::Equal),
        "<" => ord == Some(Ordering::Less),
        "<=" => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
        ">" => ord == Some(Ordering::Greater),
        _ => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
    })
}

/// `int(x)` of a float: truncation toward zero.
pub(super) fn float_to_int(x: f64) -> Result<i128, Fail> {
    if x.is_nan() {
        raise!(ValueError: "cannot convert float NaN to integer");
    } else if x.is_infinite() {
        raise!(OverflowError: "cannot convert float infinity to integer");
    } else if x.trunc().abs() >= 170141183460469231731687303715884105728.0 {
        return Err(too_big());
    }
    Ok(x.trunc() as i128)
}

pub(super) fn to_int(v: &Value) -> Result<i128, Fail> {
    let Value::Str(s) = v else {
        return match v.num() {
            Some(Num::I(i)) => Ok(i),
            Some(Num::F(x)) => float_to_int(x),
            None => {
                raise!(TypeError: "int() argument must be a string, a bytes-like object or a real \
                                   number, not 'NoneType'")
            }
        };
    };
    // Blanks, a sign, and decimal digits with `_` between them.
    let t = s.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.is_ascii() || !underscores_ok(digits, 10) {
        raise!(ValueError: "invalid literal for int() with base 10: {}", v.repr());
    }
    let n: i128 = digits.replace('_', "").parse().map_err(|_| too_big())?;
    if t.starts_with('-') {
        n.checked_neg().ok_or_else(too_big)
    } else {
        Ok(n)
    }
}

pub(super) fn to_float(v: &Value) -> Result<f64, Fail> {
    let Value::Str(s) = v else {
        return match v.num() {
            Some(n) => Ok(n.float()),
            None => {
                raise!(TypeError:
                    "float() argument must be a string or a real number, not 'NoneType'")
            }
        };
    };
    // Rust reads what Python reads, but for `_` between digits.
    let t = s.trim();
    let word = t.trim_start_matches(['+', '-']).to_ascii_lowercase();
    let parts_ok = t
        .split(['.', 'e', 'E', '+', '-'])
        .all(|part| underscores_ok(part, 10));
    match t.replace('_', "").parse() {
        Ok(x) if parts_ok || ["inf", "infinity", "nan"].contains(&word.as_str()) => Ok(x),
        _ => raise!(ValueError: "could not convert string to float: {}", v.repr()),
    }
}

/// Python's `round()`: ties go to the even neighbour.
pub(super) fn round(x: &Value, ndigits: Option<&Value>) -> Result<Value, Fail> {
    let n = match ndigits.map(|n| (n, n.num())) {
        _ if x.num().is_none() => {
            raise!(TypeError: "type {} doesn't define __round__ method", x.type_name())
        }
        None | Some((Value::None, _)) => None,
        Some((Value::Int(_) | Value::Bool(_), Some(Num::I(n)))) => Some(n),
        Some((v, _)) => {
            raise!(TypeError: "'{}' object cannot be interpreted as an integer", v.type_name())
        }
    };
    match (x.num(), n) {
        (Some(Num::I(i)), n) if n.is_none_or(|n| n >= 0) => Ok(Value::Int(i)),
        (Some(Num::F(f)), None) => float_to_int(f.round_ties_even()).map(Value::Int),
        (Some(Num::F(f)), Some(n)) if n > 330 || !f.is_finite() => Ok(Value::Float(f)),
        (Some(Num::F(f)), Some(n @ 0..)) => {
            // Formatting rounds the exact binary value correctly, as Python's round() does.
            let s = format!("{:.*}", usize::try_from(n).unwrap_or(0), f);
            Ok(Value::Float(s.parse().unwrap_or(f)))
        }
        _ => Err(Fail::Unsupported("round() to negative digits".into())),
    }
}

pub(super) fn builtin(name: &str, args: &[Value]) -> Result<Value, Fail> {
    let (t, n) = (args.first().map_or("", Value::type_name), args.len());
    Ok(match (name, args) {
        ("abs", [x]) => match x.num() {
            Some(Num::I(i)) => Value::Int(i.checked_abs().ok_or_else(too_big)?),
            Some(Num::F(f)) => Value::Float(f.abs()),
            None => raise!(TypeError: "bad operand type for abs(): '{t}'"),
        },
        ("int", []) => Value::Int(0),
        ("int", [x]) => Value::Int(to_int(x)?),
        ("int", [_, _]) => return Err(Fail::Unsupported("int() with a base".into())),
        ("float", []) => Value::Float(0.0),
        ("float", [x]) => Value::Float(to_float(x)?),
        ("str", []) => Value::Str(String::new()),
        ("str", [x]) => Value::Str(x.to_string()),
        ("bool", []) => Value::Bool(false),
        ("bool", [x]) => Value::Bool(x.truthy()),
        ("len", [Value::Str(s)]) => Value::Int(s.chars().count() as i128),
        ("len", [_]) => raise!(TypeError: "object of type '{t}' has no len()"),
        ("round", [x]) => round(x, None)?,
        ("round", [x, n]) => round(x, Some(n))?,
        ("min" | "max", []) => raise!(TypeError: "{name} expected at least 1 argument, got 0"),
        ("min" | "max", [Value::Str(_)]) => {
            return Err(Fail::Unsupported(format!("{name}() of a string")));
        }
        ("min" | "max", [_]) => raise!(TypeError: "'{t}' object is not iterable"),
        ("min" | "max", [first, rest @ ..]) => {
            let better = if name == "min" { "<" } else { ">" };
            let mut best = first;
            for v in rest {
                if compare(better, v, best)? {
                    best = v;
                }
            }
            best.clone()
        }
        ("abs" | "len", _) => raise!(TypeError: "{name}() takes exactly one argument ({n} given)"),
        ("bool" | "float", _) => raise!(TypeError: "{name} expected at most 1 argument, got {n}"),
        ("str", _) => return Err(Fail::Unsupported("str() with an encoding".into())),
        _ => raise!(TypeError: "{name}() takes at most 2 arguments ({n} given)"),
    })
}

/// Python's `str % args` (printf-style formatting).
pub(super) fn percent_format(fmt: &str, args: &[Value]) -> Result<Value, Fail> {
    let cs: Vec<char> = fmt.chars().collect();
    let (mut out, mut k, mut next) = (String::new(), 0, 0);
    // How many characters from `k` on are in `set`.
    let run = |k: usize, set: &str| {
        cs.get(k..)
            .unwrap_or(&[])
            .iter()
            .take_while(|c| set.contains(**c))
            .count()
    };
    // A width or precision.
    let number = |k: &mut usize| -> Result<usize, Fail> {
        let digits = cs
            .get(*k..)
            .unwrap_or(&[])
            .iter()
            .map_while(|c| c.to_digit(10));
        let n = digits.fold(0usize, |n, d| {
            n.saturating_mul(10).saturating_add(d as usize)
        });
        *k += run(*k, "0123456789");
        match cs.get(*k) {
            Some('*') => Err(Fail::Unsupported("`*` in a % format".into())),
            _ if n > MAX_STR => Err(too_long()),
            _ => Ok(n),
        }
    };
    while let Some(&c) = cs.get(k) {
        k += 1;
        if c != '%' {
            out.push(c);
            continue;
        } else if cs.get(k) == Some(&'(') {
            return Err(Fail::Unsupported("`%(name)` formatting".into()));
        }
        let flags_start = k;
        k += run(k, "-+ #0");
        let flags: String = cs.get(flags_start..k).unwrap_or(&[]).iter().collect();
        let width = number(&mut k)?;
        let precision = if cs.get(k) == Some(&'.') {
            k += 1;
            Some(number(&mut k)?)
        } else {
            None
        };
        k += run(k, "hlL");
        let Some(&conv) = cs.get(k) else {
            raise!(ValueError: "incomplete format")
        };
        k += 1;
        if conv == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(next) else {
            raise!(TypeError: "not enough arguments for format string")
        };
        next += 1;
        out.push_str(&format_one(conv, &flags, width, precision, arg, k - 1)?);
        if out.len() > MAX_STR {
            return Err(too_long());
        }
    }
    if next < args.len() {
        raise!(TypeError: "not all arguments converted during string formatting");
    }
    Ok(Value::Str(out))
}

/// One `%` conversion of `arg`; `index` is where `conv` is in the format, for errors.
pub(super) fn format_one(
    conv: char,
    flags: &str,
    width: usize,
    precision: Option<usize>,
    arg: &Value,
    index: usize,
) -> Result<String, Fail> {
    let (t, left) = (arg.type_name(), flags.contains('-'));
    let (negative, prefix, body) = match (conv, arg.num()) {
        ('s' | 'r', _) => {
            let s = if conv == 's' {
                arg.to_string()
            } else {
                arg.repr()
            };
            let s: String = s.chars().take(precision.unwrap_or(usize::MAX)).collect();
            return Ok(pad(&s, width, left, ' '));
        }
        ('d' | 'i' | 'u', Some(n)) => {
            let i = match n {
                Num::I(i) => i,
                Num::F(x) => float_to_int(x)?,
            };
            (
                i < 0,
                "",
                format!("{:0>1$}", i.unsigned_abs(), precision.unwrap_or(0)),
            )
        }
        ('x' | 'X' | 'o', Some(Num::I(i))) => {
            let u = i.unsigned_abs();
            let (digits, prefix) = match conv {
                'x' => (format!("{u:x}"), "0x"),
                'X' => (format!("{u:X}"), "0X"),
                _ => (format!("{u:o}"), "0o"),
            };
            let prefix = if flags.contains('#') { prefix } else { "" };
            (
                i < 0,
                prefix,
                format!("{digits:0>w$}", w = precision.unwrap_or(0)),
            )
        }
        ('f' | 'F', Some(n)) => {
            let x = n.float();
            let body = match x {
                _ if x.is_nan() => "nan".to_string(),
                _ if x.is_infinite() => "inf".to_string(),
                _ => format!("{:.*}", precision.unwrap_or(6), x.abs()),
            };
            let body = if conv == 'F' {
                body.to_uppercase()
            } else {
                body
            };
            (x.is_sign_negative() && !x.is_nan(), "", body)
        }
        ('d' | 'i' | 'u', _) => {
            raise!(TypeError: "%{conv} format: a real number is required, not {t}")
        }
        ('x' | 'X' | 'o', _) => {
            raise!(TypeError: "%{conv} format: an integer is required, not {t}")
        }
        ('f' | 'F', _) => raise!(TypeError: "must be real number, not {t}"),
        ('e' | 'E' | 'g' | 'G' | 'c' | 'a', _) => {
            return Err(Fail::Unsupported(format!("`%{conv}` formatting")));
        }
        (c, _) => {
            raise!(ValueError:
                "unsupported format character '{c}' (0x{:x}) at index {index}", c as u32)
        }
    };
    let sign = match (negative, flags.contains('+'), flags.contains(' ')) {
        (true, _, _) => "-",
        (false, true, _) => "+",
        (false, false, true) => " ",
        _ => "",
    };
    let lead = format!("{sign}{prefix}");
    if flags.contains('0') && !left {
        // Zeros go between the sign and prefix and the digits.
        return Ok(format!(
            "{lead}{}",
            pad(&body, width.saturating_sub(lead.len()), false, '0')
        ));
    }
    Ok(pad(&format!("{lead}{body}"), width, left, ' '))
}

/// Pads `s` with `fill` to `width` characters, on the right if `left` (left-justified).
pub(super) fn pad(s: &str, width: usize, left: bool, fill: char) -> String {
    let fill: String = std::iter::repeat_n(fill, width.saturating_sub(s.chars().count())).collect();
    if left {
        format!("{s}{fill}")
    } else {
        format!("{fill}{s}")
    }
}
