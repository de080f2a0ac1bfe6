//! Parses tokens into statements and expressions.

use super::*;
// ---------------------------------------------------------------------------------------------
// Syntax tree and parser

#[derive(Debug)]
pub(super) struct Expr {
    pub(super) kind: Kind,
    /// Where an error in this node is reported: its operator, name or literal.
    pub(super) pos: CodePos,
    pub(super) depth: u32,
}

#[derive(Debug)]
pub(super) enum Kind {
    Const(Value),
    Name(String),
    Unary(&'static str, Box<Expr>),
    Not(Box<Expr>),
    Bin(&'static str, Box<Expr>, Box<Expr>),
    /// `and` (true) or `or` (false) over two or more operands.
    BoolOp(bool, Vec<Expr>),
    Compare(Box<Expr>, Vec<(&'static str, CodePos, Expr)>),
    /// `body if cond else orelse`, in that order.
    IfElse(Box<Expr>, Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>),
    /// Evaluated only as the right operand of `%`.
    Tuple(Vec<Expr>),
}

impl Kind {
    /// The sub-expressions, in source order.
    pub(super) fn children(&self) -> Vec<&Expr> {
        match self {
            Kind::Const(_) | Kind::Name(_) => vec![],
            Kind::Unary(_, e) | Kind::Not(e) => vec![e],
            Kind::Bin(_, a, b) => vec![a, b],
            Kind::BoolOp(_, es) | Kind::Call(_, es) | Kind::Tuple(es) => es.iter().collect(),
            Kind::Compare(a, rest) => std::iter::once(&**a)
                .chain(rest.iter().map(|(_, _, e)| e))
                .collect(),
            Kind::IfElse(a, b, c) => vec![a, b, c],
        }
    }
}

/// The names in `e`, each once, in order of first appearance.
pub(super) fn names<'e>(e: &'e Expr, out: &mut Vec<&'e str>) {
    match &e.kind {
        Kind::Name(n) if !out.contains(&n.as_str()) => out.push(n),
        kind => kind.children().into_iter().for_each(|c| names(c, out)),
    }
}

#[derive(Debug)]
pub(super) enum Stmt {
    Assert {
        pos: CodePos,
        source: String,
        test: Box<Expr>,
        msg: Option<Box<Expr>>,
    },
    Print(Vec<Expr>),
    Assign(Vec<String>, Box<Expr>),
    Expr(Box<Expr>),
    Pass,
}

/// Binary operators from the loosest to the tightest binding: a level's index is its
/// precedence. `not`, a prefix operator, binds between `and` and the comparisons.
pub(super) const LEVELS: [&str; 11] = [
    "",
    "or",
    "and",
    "not",
    "== != < <= > >=",
    "|",
    "^",
    "&",
    "<< >>",
    "+ -",
    "* / // % @",
];
pub(super) const NOT: u8 = 3;
pub(super) const COMPARE: u8 = 4;

/// Keywords that cannot start an operand.
pub(super) const KEYWORDS: &str = "and as assert async break class continue def del elif else except \
                        finally for from global if import in is nonlocal not or pass raise \
                        return try while with";
/// Python constructs outside the subset, by the token that starts them.
pub(super) const CONSTRUCTS: &[(&str, &str)] = &[
    ("[", "list or subscript `[...]`"),
    ("{", "dict or set `{...}`"),
    (".", "attribute access `a.b`"),
    ("...", "Ellipsis"),
    ("*", "starred expression"),
    ("**", "`**` unpacking"),
    ("@", "`@` operator"),
    (":", "annotation or slice `:`"),
    ("->", "annotation `->`"),
    (":=", "assignment expression `:=`"),
    ("(", "calling the result of an expression"),
    (",", "tuple"),
    ("lambda", "lambda"),
    ("yield", "yield"),
    ("await", "await"),
    ("in", "`in` operator"),
    ("is", "`is` operator"),
    ("not", "`not in` operator"),
    ("for", "comprehension"),
];
/// Statements outside the subset, known by their first word.
pub(super) const STATEMENTS: &str = "import from def class for while if elif else try except finally \
                          with return yield global nonlocal del raise async await break \
                          continue exec";

pub(super) fn is_word(list: &str, w: &str) -> bool {
    list.split_whitespace().any(|k| k == w)
}

pub(super) type PResult<T> = Result<T, CodeError>;

/// A recursive-descent parser following Python's grammar for the subset.
pub(super) struct Parser<'s> {
    pub(super) chars: &'s [char],
    pub(super) toks: Vec<Token>,
    pub(super) i: usize,
    /// The end of the last token consumed (for an assert's source text).
    pub(super) last_end: usize,
    pub(super) depth: u32,
}

impl<'s> Parser<'s> {
    pub(super) fn new(chars: &'s [char]) -> Self {
        Parser {
            chars,
            toks: tokenize(chars),
            i: 0,
            last_end: 0,
            depth: 0,
        }
    }

    pub(super) fn tok(&self) -> &Token {
        self.toks.get(self.i).or(self.toks.last()).unwrap_or(&EOF)
    }

    pub(super) fn peek(&self) -> &Tok {
        &self.tok().tok
    }

    pub(super) fn pos(&self) -> CodePos {
        self.tok().pos
    }

    pub(super) fn bump(&mut self) {
        self.last_end = self.tok().span.1;
        self.i = (self.i + 1).min(self.toks.len().saturating_sub(1));
    }

    pub(super) fn is(&self, text: &str) -> bool {
        matches!(self.peek(), Tok::Op(o) if *o == text) || self.is_kw(text)
    }

    pub(super) fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Name(n) if n == kw)
    }

    pub(super) fn eat(&mut self, text: &str) -> bool {
        let found = self.is(text);
        if found {
            self.bump();
        }
        found
    }

    pub(super) fn expect(&mut self, text: &str) -> PResult<()> {
        if self.eat(text) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    /// Whether the token after this one is the name or operator `text`.
    pub(super) fn next_is(&self, text: &str) -> bool {
        match self.toks.get(self.i + 1).map(|t| &t.tok) {
            Some(Tok::Name(n)) => n == text,
            Some(Tok::Op(op)) => *op == text,
            _ => false,
        }
    }

    pub(super) fn at_stmt_end(&self) -> bool {
        matches!(self.peek(), Tok::Newline | Tok::Eof | Tok::Op(";"))
    }

    /// The error for a token that cannot come here: a Python construct outside the subset,
    /// or a syntax error.
    pub(super) fn unexpected(&self) -> CodeError {
        let text = match self.peek() {
            Tok::Error(e) => return e.clone(),
            Tok::Unsupported(what) => return unsupported(self.pos(), *what),
            Tok::Op(op) if op.len() > 1 && op.ends_with('=') && !"== <= >= !=".contains(op) => {
                return unsupported(self.pos(), format!("augmented assignment `{op}`"));
            }
            Tok::Op(op) => op,
            // `not` here is Python's `not in`, or a syntax error.
            Tok::Name(n) if n == "not" && !self.next_is("in") => "",
            Tok::Name(n) => n.as_str(),
            _ => "",
        };
        match CONSTRUCTS.iter().find(|(t, _)| *t == text) {
            Some((_, what)) => unsupported(self.pos(), *what),
            None => error(self.pos(), "SyntaxError", "invalid syntax"),
        }
    }

    /// Builds a node, refusing trees deep enough to threaten the stack.
    pub(super) fn node(&self, kind: Kind, pos: CodePos) -> PResult<Box<Expr>> {
        let depth = 1 + kind.children().iter().map(|e| e.depth).max().unwrap_or(0);
        if depth > MAX_DEPTH {
            return Err(too_deep(pos));
        }
        Ok(Box::new(Expr { kind, pos, depth }))
    }

    /// Counts a level of recursion, refusing to go deeper than the stack allows.
    pub(super) fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(too_deep(self.pos()));
        }
        Ok(())
    }

    pub(super) fn block(&mut self) -> PResult<Vec<Stmt>> {
        let mut out = Vec::new();
        while !matches!(self.peek(), Tok::Eof) {
            out.push(self.simple()?);
            if self.eat(";") && !matches!(self.peek(), Tok::Newline | Tok::Eof) {
                continue;
            }
            match self.peek() {
                Tok::Newline => self.bump(),
                Tok::Eof => {}
                _ => return Err(self.unexpected()),
            }
        }
        Ok(out)
    }

    pub(super) fn simple(&mut self) -> PResult<Stmt> {
        let (pos, start) = (self.pos(), self.tok().span.0);
        match self.peek() {
            Tok::Name(w) if w == "pass" => {
                self.bump();
                return Ok(Stmt::Pass);
            }
            Tok::Name(w) if w == "print" => return self.print_stmt(),
            Tok::Name(w) if is_word(STATEMENTS, w) => {
                return Err(unsupported(pos, format!("`{w}` statement")));
            }
            Tok::Name(w) if w == "assert" => {
                self.bump();
                let test = self.expr()?;
                let msg = if self.eat(",") {
                    Some(self.expr()?)
                } else {
                    None
                };
                let text: String = self
                    .chars
                    .get(start..self.last_end)
                    .unwrap_or(&[])
                    .iter()
                    .collect();
                return Ok(Stmt::Assert {
                    pos,
                    source: text.trim().to_string(),
                    test,
                    msg,
                });
            }
            Tok::Op("@") => return Err(unsupported(pos, "decorator")),
            _ => {}
        }
        let mut value = self.expr()?;
        let mut targets = Vec::new();
        while self.eat("=") {
            targets.push(match value.kind {
                Kind::Name(n) => n,
                Kind::Const(_) => bail!(value.pos, SyntaxError: "cannot assign to literal"),
                _ => bail!(value.pos, SyntaxError: "cannot assign to expression"),
            });
            value = self.expr()?;
        }
        if targets.is_empty() {
            Ok(Stmt::Expr(value))
        } else {
            Ok(Stmt::Assign(targets, value))
        }
    }

    pub(super) fn print_stmt(&mut self) -> PResult<Stmt> {
        self.bump();
        if self.is("(") {
            // Python 3's print() unless more follows the `)`, as in `print (a) + b`.
            let (i, last_end) = (self.i, self.last_end);
            self.bump();
            let args = self.call_args()?;
            if self.at_stmt_end() {
                return Ok(Stmt::Print(args));
            }
            (self.i, self.last_end) = (i, last_end);
        } else if self.is(">>") {
            return Err(unsupported(self.pos(), "`print >>` redirection"));
        }
        let mut args = Vec::new();
        while !self.at_stmt_end() {
            args.push(*self.expr()?);
            if !self.eat(",") {
                break;
            }
        }
        Ok(Stmt::Print(args))
    }

    pub(super) fn expr(&mut self) -> PResult<Box<Expr>> {
        self.enter()?;
        let e = self.ternary();
        self.depth -= 1;
        e
    }

    pub(super) fn ternary(&mut self) -> PResult<Box<Expr>> {
        let body = self.climb(1)?;
        if !self.is_kw("if") {
            return Ok(body);
        }
        let pos = self.pos();
        self.bump();
        let cond = self.climb(1)?;
        if !self.eat("else") {
            bail!(self.pos(), SyntaxError: "expected 'else' after 'if' expression");
        }
        let orelse = self.expr()?;
        self.node(Kind::IfElse(body, cond, orelse), pos)
    }

    /// The binary operator here, with its precedence.
    pub(super) fn binop(&self) -> Option<(&'static str, u8)> {
        let text = match self.peek() {
            Tok::Op(op) => op,
            Tok::Name(n) if n == "and" || n == "or" => n.as_str(),
            _ => return None,
        };
        let mut ops = LEVELS
            .iter()
            .enumerate()
            .filter(|&(p, _)| p != usize::from(NOT));
        ops.find_map(|(p, level)| level.split(' ').find(|o| *o == text).map(|o| (o, p as u8)))
    }

    /// An expression of operators binding at least as tightly as `min`, by precedence
    /// climbing: one function for all levels keeps the stack small.
    pub(super) fn climb(&mut self, min: u8) -> PResult<Box<Expr>> {
        let mut nots = Vec::new();
        while min <= NOT && self.is_kw("not") {
            nots.push(self.pos());
            self.bump();
        }
        let mut lhs = if nots.is_empty() {
            self.unary()?
        } else {
            self.climb(COMPARE)?
        };
        for pos in nots.into_iter().rev() {
            lhs = self.node(Kind::Not(lhs), pos)?;
        }
        while let Some((op, prec)) = self.binop().filter(|&(_, p)| p >= min) {
            let pos = self.pos();
            if op == "@" {
                return Err(self.unexpected());
            }
            self.bump();
            let rhs = self.climb(prec + 1)?;
            lhs = if prec == COMPARE {
                // `a < b < c` is one node: Python chains comparisons.
                let mut rest = vec![(op, pos, *rhs)];
                while let Some((op, COMPARE)) = self.binop() {
                    let pos = self.pos();
                    self.bump();
                    rest.push((op, pos, *self.climb(COMPARE + 1)?));
                }
                self.node(Kind::Compare(lhs, rest), pos)?
            } else if prec < NOT {
                let mut items = vec![*lhs, *rhs];
                while self.binop() == Some((op, prec)) {
                    self.bump();
                    items.push(*self.climb(prec + 1)?);
                }
                self.node(Kind::BoolOp(op == "and", items), pos)?
            } else {
                self.node(Kind::Bin(op, lhs, rhs), pos)?
            };
        }
        Ok(lhs)
    }

    /// Prefix `- + ~`, and `**`, which binds tighter than they do on its left.
    pub(super) fn unary(&mut self) -> PResult<Box<Expr>> {
        let mut prefix = Vec::new();
        while let Tok::Op(op @ ("-" | "+" | "~")) = *self.peek() {
            prefix.push((op, self.pos()));
            self.bump();
        }
        let mut e = self.atom()?;
        if self.is("**") {
            let pos = self.pos();
            self.bump();
            self.enter()?;
            let exp = self.unary()?;
            self.depth -= 1;
            e = self.node(Kind::Bin("**", e, exp), pos)?;
        }
        for (op, pos) in prefix.into_iter().rev() {
            e = self.node(Kind::Unary(op, e), pos)?;
        }
        Ok(e)
    }

    /// A literal, a name, a call, or a parenthesized expression or tuple.
    pub(super) fn atom(&mut self) -> PResult<Box<Expr>> {
        let pos = self.pos();
        let literal = match self.peek() {
            Tok::Name(w) if w == "True" || w == "False" => Some(Value::Bool(w == "True")),
            Tok::Name(w) if w == "None" => Some(Value::None),
            Tok::Int(i) => Some(Value::Int(*i)),
            Tok::Float(x) => Some(Value::Float(*x)),
            _ => None,
        };
        if let Some(v) = literal {
            self.bump();
            self.no_trailer()?;
            return self.node(Kind::Const(v), pos);
        }
        let kind = match self.peek().clone() {
            Tok::Name(w) if !is_word(KEYWORDS, &w) && CONSTRUCTS.iter().all(|c| c.0 != w) => {
                self.bump();
                if self.eat("(") {
                    Kind::Call(w, self.call_args()?)
                } else {
                    Kind::Name(w)
                }
            }
            Tok::Str(mut s) => {
                self.bump();
                while let Tok::Str(more) = self.peek() {
                    s.push_str(more);
                    self.bump();
                }
                Kind::Const(Value::Str(s))
            }
            Tok::Op("(") => {
                self.bump();
                let mut items = Vec::new();
                while !self.eat(")") {
                    let e = self.expr()?;
                    if items.is_empty() && self.eat(")") {
                        return self.no_trailer().map(|()| e); // a parenthesized expression
                    }
                    items.push(*e);
                    if !self.is(")") {
                        self.expect(",")?;
                    }
                }
                Kind::Tuple(items)
            }
            _ => return Err(self.unexpected()),
        };
        self.no_trailer()?;
        self.node(kind, pos)
    }

    /// Refuses what could follow an atom but is outside the subset: a call of its value, an
    /// attribute, a subscript.
    pub(super) fn no_trailer(&self) -> PResult<()> {
        if self.is("(") || self.is(".") || self.is("[") {
            Err(self.unexpected())
        } else {
            Ok(())
        }
    }

    /// Call arguments after the `(`, up to and including the `)`.
    pub(super) fn call_args(&mut self) -> PResult<Vec<Expr>> {
        let mut args = Vec::new();
        while !self.eat(")") {
            if let (Tok::Name(n), true) = (self.peek(), self.next_is("=")) {
                return Err(unsupported(self.pos(), format!("keyword argument `{n}=`")));
            }
            args.push(*self.expr()?);
            if !self.is(")") {
                self.expect(",")?;
            }
        }
        Ok(args)
    }
}
