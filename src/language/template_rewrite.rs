//! The text the template engine compiles: the author's template with calls
//! inserted around the places where a template can build a large value, so
//! that `template_budget` sees each of them before the engine allocates it.
//!
//! The engine (minijinja) bounds its work by fuel but not the size of what it
//! builds: `"x" * 99999999` is 100 MB in one step, `s ~ s ~ s` three times
//! that, and it folds such constant expressions while compiling. It offers no
//! hook on its operators, so the text is rewritten before any compile:
//! - each `~`, `+` and `*` gets its operands wrapped,
//!   `__scenario_l(a) ~ __scenario_r("~", b)`: the right call sees both
//!   operands and refuses a result over the limit; the engine's own operator
//!   then computes the value exactly as before;
//! - inside a block whose output becomes a value (`set` and `filter` blocks,
//!   macros, `call` blocks), each `{{ }}` is counted
//!   (`__scenario_emit(...)`) and each loop pays for the raw text its body
//!   writes per item (`__scenario_loop(items, bytes)`); output outside such
//!   blocks goes to the bounded writer of `template::render`.
//!
//! Only insertions are made, so offsets map back to the author's text.
//! A text the engine cannot parse is left as it is: compiling it fails with
//! the engine's own message, before any value is built.

use std::borrow::Cow;

use minijinja::machinery::{Span, Token, WhitespaceConfig, ast, tokenize};

/// The prefix of every name the rewrite inserts.
pub const PREFIX: &str = "__scenario_";

/// A template or expression as the engine compiles it.
#[derive(Debug)]
pub struct Prepared<'a> {
    pub text: Cow<'a, str>,
    /// `(offset in text, offset in the original)` at the start of each
    /// original run of text that follows an insertion.
    runs: Vec<(usize, usize)>,
}

impl Prepared<'_> {
    /// The offset in the author's text of an offset in the compiled text.
    #[must_use]
    pub fn original_offset(&self, offset: usize) -> usize {
        let i = self.runs.partition_point(|&(new, _)| new <= offset);
        let at = match i.checked_sub(1).and_then(|i| self.runs.get(i)) {
            Some(&(new, orig)) => orig + (offset - new),
            None => offset,
        };
        // Inside an inserted text: the place it was inserted at.
        self.runs.get(i).map_or(at, |&(_, next)| at.min(next))
    }
}

/// The template text with its guards inserted.
#[must_use]
pub fn template(text: &str) -> Prepared<'_> {
    if !might_grow(text, true) {
        return unchanged(text);
    }
    let Ok(tree) =
        minijinja::machinery::parse(text, "<template>", Default::default(), whitespace())
    else {
        return unchanged(text);
    };
    let Some(mut r) = Tokens::read(text, false).map(Rewrite::new) else {
        return unchanged(text);
    };
    macro_names(std::slice::from_ref(&tree), &mut r.macros);
    r.stmt(&tree, 0, false);
    r.apply(text)
}

/// The `when:`-style expression with its guards inserted.
#[must_use]
pub fn expression(text: &str) -> Prepared<'_> {
    if !might_grow(text, false) {
        return unchanged(text);
    }
    let Ok(tree) = minijinja::machinery::parse_expr(text) else {
        return unchanged(text);
    };
    let Some(mut r) = Tokens::read(text, true).map(Rewrite::new) else {
        return unchanged(text);
    };
    r.expr(&tree, 0);
    r.apply(text)
}

/// The whitespace rules of `template::environment` (they decide where raw
/// text ends, so the tokens' offsets match the engine's).
fn whitespace() -> WhitespaceConfig {
    WhitespaceConfig {
        keep_trailing_newline: true,
        ..WhitespaceConfig::default()
    }
}

fn unchanged(text: &str) -> Prepared<'_> {
    Prepared {
        text: Cow::Borrowed(text),
        runs: Vec::new(),
    }
}

/// Whether the text can hold an operator that builds (`~ + *`) or a block
/// that captures output (each needs an `end...` tag); if not, nothing to do.
fn might_grow(text: &str, template: bool) -> bool {
    text.contains(['~', '+', '*']) || (template && text.contains("end"))
}

/// The tokens of the text, by offset, enough to find operators and the
/// parentheses around an operand.
struct Tokens {
    /// `(start, end, what)` in text order.
    list: Vec<(usize, usize, Tok)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    CloseParen,
    Op,
    In,
    ExprStart,
    ExprEnd,
    Other,
}

impl Tokens {
    fn read(text: &str, in_expr: bool) -> Option<Self> {
        let mut list = Vec::new();
        for t in tokenize(text, in_expr, Default::default(), whitespace()) {
            let (tok, span) = t.ok()?;
            let what = match tok {
                Token::ParenClose => Tok::CloseParen,
                Token::Tilde | Token::Plus | Token::Mul => Tok::Op,
                Token::Ident("in") => Tok::In,
                Token::VariableStart => Tok::ExprStart,
                Token::VariableEnd => Tok::ExprEnd,
                _ => Tok::Other,
            };
            list.push((off(span.start_offset), off(span.end_offset), what));
        }
        Some(Tokens { list })
    }

    /// The index of the first token starting at or after `offset`.
    fn at_or_after(&self, offset: usize) -> usize {
        self.list.partition_point(|t| t.0 < offset)
    }

    /// Where an operand that ends (as the engine saw it) at `end` really
    /// ends: after the `)` that close its own parentheses.
    fn end_with_parens(&self, end: usize) -> usize {
        let mut i = self.at_or_after(end);
        let mut real = end;
        while let Some(&(_, e, Tok::CloseParen)) = self.list.get(i) {
            real = e;
            i += 1;
        }
        real
    }

    /// The first token at or after `offset` that is `what`.
    fn find(&self, offset: usize, what: Tok) -> Option<(usize, usize)> {
        self.list[self.at_or_after(offset)..]
            .iter()
            .find(|t| t.2 == what)
            .map(|t| (t.0, t.1))
    }

    /// The last token before `offset` that is `what`.
    fn find_before(&self, offset: usize, what: Tok) -> Option<(usize, usize)> {
        self.list[..self.at_or_after(offset)]
            .iter()
            .rev()
            .find(|t| t.2 == what)
            .map(|t| (t.0, t.1))
    }
}

fn off(o: u32) -> usize {
    usize::try_from(o).unwrap_or(usize::MAX)
}

/// One inserted text.
struct Insert {
    at: usize,
    /// At one offset, closing texts go before opening ones; among openings
    /// the outer node's first, among closings the inner node's first.
    order: (u8, i64),
    text: String,
}

struct Rewrite {
    tokens: Tokens,
    inserts: Vec<Insert>,
    /// The template's macros (and `caller`): a call to one builds its output
    /// as a value, which is counted when it returns.
    macros: std::collections::BTreeSet<String>,
}

impl Rewrite {
    fn new(tokens: Tokens) -> Self {
        Rewrite {
            tokens,
            inserts: Vec::new(),
            macros: ["caller".to_owned()].into_iter().collect(),
        }
    }

    fn wrap(&mut self, start: usize, end: usize, depth: i64, open: String, close: &str) {
        self.inserts.push(Insert {
            at: start,
            order: (1, depth),
            text: open,
        });
        self.inserts.push(Insert {
            at: end,
            order: (0, -depth),
            text: close.to_owned(),
        });
    }

    fn apply(mut self, text: &str) -> Prepared<'_> {
        if self.inserts.is_empty() {
            return unchanged(text);
        }
        self.inserts.sort_by_key(|i| (i.at, i.order));
        let mut out = String::with_capacity(text.len() + self.inserts.len() * 16);
        let mut runs = Vec::new();
        let mut from = 0;
        for i in &self.inserts {
            let at = i.at.clamp(from, text.len());
            out.push_str(&text[from..at]);
            from = at;
            // `1 or-x`: an inserted name must not join the word before it.
            if i.text.starts_with(PREFIX)
                && out.ends_with(|c: char| c.is_alphanumeric() || c == '_')
            {
                out.push(' ');
            }
            out.push_str(&i.text);
            runs.push((out.len(), at));
        }
        out.push_str(&text[from..]);
        Prepared {
            text: Cow::Owned(out),
            runs,
        }
    }

    fn stmts(&mut self, body: &[ast::Stmt<'_>], depth: i64, captured: bool) {
        for s in body {
            self.stmt(s, depth, captured);
        }
    }

    fn stmt(&mut self, s: &ast::Stmt<'_>, depth: i64, captured: bool) {
        use ast::Stmt as S;
        let d = depth + 1;
        match s {
            S::Template(t) => self.stmts(&t.children, d, captured),
            S::EmitExpr(e) => {
                self.expr(&e.expr, d + 1);
                if captured {
                    self.wrap_emit(e.span(), &e.expr, d);
                }
            }
            S::ForLoop(f) => {
                self.expr(&f.iter, d + 1);
                if let Some(x) = &f.filter_expr {
                    self.expr(x, d);
                }
                if captured {
                    self.wrap_loop(f, d);
                }
                self.stmts(&f.body, d, captured);
                self.stmts(&f.else_body, d, captured);
            }
            S::IfCond(c) => {
                self.expr(&c.expr, d);
                self.stmts(&c.true_body, d, captured);
                self.stmts(&c.false_body, d, captured);
            }
            S::WithBlock(w) => {
                for (_, v) in &w.assignments {
                    self.expr(v, d);
                }
                self.stmts(&w.body, d, captured);
            }
            S::Set(x) => self.expr(&x.expr, d),
            S::SetBlock(x) => {
                if let Some(f) = &x.filter {
                    self.expr(f, d);
                }
                self.stmts(&x.body, d, true);
            }
            S::AutoEscape(a) => self.stmts(&a.body, d, captured),
            S::FilterBlock(x) => {
                self.expr(&x.filter, d);
                self.stmts(&x.body, d, true);
            }
            S::Macro(m) => self.macro_decl(m, d),
            S::CallBlock(c) => {
                self.call(&c.call, d);
                self.macro_decl(&c.macro_decl, d);
            }
            S::Do(c) => self.call(&c.call, d),
            S::Block(b) => self.stmts(&b.body, d, captured),
            S::Import(_) | S::FromImport(_) | S::Extends(_) | S::Include(_) | S::EmitRaw(_) => {}
        }
    }

    fn macro_decl(&mut self, m: &ast::Macro<'_>, depth: i64) {
        for x in &m.defaults {
            self.expr(x, depth);
        }
        self.stmts(&m.body, depth, true);
    }

    fn call(&mut self, c: &ast::Call<'_>, depth: i64) {
        self.expr(&c.expr, depth + 1);
        self.args(&c.args, depth + 1);
    }

    fn args(&mut self, args: &[ast::CallArg<'_>], depth: i64) {
        for a in args {
            match a {
                ast::CallArg::Pos(x)
                | ast::CallArg::Kwarg(_, x)
                | ast::CallArg::PosSplat(x)
                | ast::CallArg::KwargSplat(x) => self.expr(x, depth),
            }
        }
    }

    fn expr(&mut self, e: &ast::Expr<'_>, depth: i64) {
        self.expr_in(e, depth, false);
    }

    /// `left_of_growing`: `e` is the left operand of a wrapped operator, so
    /// a wrapped operator here hands its result's size on instead of being
    /// wrapped again (a chain `a ~ b ~ c` stays flat, as deep as written).
    fn expr_in(&mut self, e: &ast::Expr<'_>, depth: i64, left_of_growing: bool) {
        use ast::Expr as E;
        let d = depth + 1;
        match e {
            E::Var(_) | E::Const(_) => {}
            E::Slice(s) => {
                self.expr(&s.expr, d);
                for x in [&s.start, &s.stop, &s.step].into_iter().flatten() {
                    self.expr(x, d);
                }
            }
            E::UnaryOp(u) => self.expr(&u.expr, d),
            E::BinOp(b) => {
                let growing = growing_op(b.op).is_some();
                self.expr_in(&b.left, d, growing);
                self.expr(&b.right, d);
                self.wrap_binop(b, d, left_of_growing);
            }
            E::Compare(c) => {
                self.expr(&c.expr, d);
                for o in &c.ops {
                    self.expr(&o.expr, d);
                }
            }
            E::IfExpr(i) => {
                self.expr(&i.test_expr, d);
                self.expr(&i.true_expr, d);
                if let Some(x) = &i.false_expr {
                    self.expr(x, d);
                }
            }
            E::Filter(f) => {
                if let Some(x) = &f.expr {
                    self.expr(x, d);
                }
                self.args(&f.args, d);
            }
            E::Test(t) => {
                self.expr(&t.expr, d);
                self.args(&t.args, d);
            }
            E::GetAttr(g) => self.expr(&g.expr, d),
            E::GetItem(g) => {
                self.expr(&g.expr, d);
                self.expr(&g.subscript_expr, d);
            }
            E::Call(c) => {
                self.call(c, depth);
                self.wrap_macro_call(c, depth);
            }
            E::List(l) => l.items.iter().for_each(|x| self.expr(x, d)),
            E::Map(m) => {
                for x in m.keys.iter().chain(&m.values) {
                    self.expr(x, d);
                }
            }
        }
    }

    /// `a ~ b` -> `__scenario_l(a) ~ __scenario_r("~", b, 0)`. The left
    /// operand's text starts where the node does (its span starts at its
    /// first token, a `(` included) and ends before the operator token; a
    /// left operand that is itself a wrapped operator is not wrapped: its
    /// own right call (flag 1) hands on the size of its result.
    fn wrap_binop(&mut self, b: &ast::Spanned<ast::BinOp<'_>>, depth: i64, chained: bool) {
        let Some(op) = growing_op(b.op) else { return };
        let span = b.span();
        let left_end = off(b.left.span().end_offset);
        let Some((op_start, op_end)) = self.tokens.find(left_end, Tok::Op) else {
            return;
        };
        let left_is_wrapped = matches!(&b.left, ast::Expr::BinOp(l) if growing_op(l.op).is_some());
        if !left_is_wrapped {
            let left_text_end = self.tokens.end_with_parens(left_end).min(op_start);
            self.wrap(
                off(span.start_offset),
                left_text_end,
                depth,
                format!("{PREFIX}l("),
                ")",
            );
        }
        let right_start = self
            .tokens
            .list
            .get(self.tokens.at_or_after(op_end))
            .map_or(op_end, |t| t.0);
        self.wrap(
            right_start,
            off(span.end_offset),
            depth,
            format!("{PREFIX}r(\"{op}\", "),
            &format!(", {})", u8::from(chained)),
        );
    }

    /// `m(x)`, a macro of this template -> `__scenario_emit((m(x)))`: the text
    /// the call built (its raw text included) counts when it returns.
    fn wrap_macro_call(&mut self, c: &ast::Spanned<ast::Call<'_>>, depth: i64) {
        let ast::Expr::Var(v) = &c.expr else { return };
        if !self.macros.contains(v.id) {
            return;
        }
        let span = c.span();
        let start = off(span.start_offset);
        // The call's text starts with the macro's name, or it is left alone.
        let first = self.tokens.at_or_after(start);
        if self.tokens.list.get(first).map(|t| t.0) != Some(off(v.span().start_offset)) {
            return;
        }
        self.wrap(
            start,
            off(span.end_offset),
            depth,
            format!("{PREFIX}emit(("),
            "))",
        );
    }

    /// `{{ e }}` inside a capturing block -> `{{ __scenario_emit((e)) }}`.
    fn wrap_emit(&mut self, span: Span, e: &ast::Expr<'_>, depth: i64) {
        let expr_end = off(e.span().end_offset).max(off(span.start_offset));
        let Some((end_tag, _)) = self.tokens.find(expr_end, Tok::ExprEnd) else {
            return;
        };
        let Some((_, start)) = self.tokens.find_before(end_tag, Tok::ExprStart) else {
            return;
        };
        let first = self.tokens.at_or_after(start);
        let Some(&(s, _, _)) = self.tokens.list.get(first) else {
            return;
        };
        let Some(last) = self.tokens.at_or_after(end_tag).checked_sub(1) else {
            return;
        };
        let e_end = self.tokens.list[last].1;
        self.wrap(s, e_end, depth, format!("{PREFIX}emit(("), "))");
    }

    /// `{% for x in items %}` inside a capturing block ->
    /// `{% for x in __scenario_loop(items, N) %}`, N the raw bytes the body
    /// writes per item (nested loops pay for their own).
    fn wrap_loop(&mut self, f: &ast::Spanned<ast::ForLoop<'_>>, depth: i64) {
        let target_end = off(f.target.span().end_offset);
        let Some((_, in_end)) = self.tokens.find(target_end, Tok::In) else {
            return;
        };
        let Some(&(start, _, _)) = self.tokens.list.get(self.tokens.at_or_after(in_end)) else {
            return;
        };
        let end = self.tokens.end_with_parens(off(f.iter.span().end_offset));
        let per_item: usize = raw_bytes(&f.body);
        self.wrap(
            start,
            end,
            depth,
            format!("{PREFIX}loop("),
            &format!(", {per_item})"),
        );
    }
}

/// The names of the macros a template defines, in any block.
fn macro_names(body: &[ast::Stmt<'_>], names: &mut std::collections::BTreeSet<String>) {
    use ast::Stmt as S;
    for s in body {
        match s {
            S::Template(t) => macro_names(&t.children, names),
            S::Macro(m) => {
                names.insert(m.name.to_owned());
                macro_names(&m.body, names);
            }
            S::ForLoop(f) => {
                macro_names(&f.body, names);
                macro_names(&f.else_body, names);
            }
            S::IfCond(c) => {
                macro_names(&c.true_body, names);
                macro_names(&c.false_body, names);
            }
            S::WithBlock(w) => macro_names(&w.body, names),
            S::SetBlock(x) => macro_names(&x.body, names),
            S::AutoEscape(a) => macro_names(&a.body, names),
            S::FilterBlock(x) => macro_names(&x.body, names),
            S::Block(b) => macro_names(&b.body, names),
            S::CallBlock(c) => macro_names(&c.macro_decl.body, names),
            _ => {}
        }
    }
}

/// The operators that can build a value larger than their operands.
fn growing_op(op: ast::BinOpKind) -> Option<&'static str> {
    match op {
        ast::BinOpKind::Concat => Some("~"),
        ast::BinOpKind::Add => Some("+"),
        ast::BinOpKind::Mul => Some("*"),
        _ => None,
    }
}

/// The raw text a body writes once, leaving out nested loops.
fn raw_bytes(body: &[ast::Stmt<'_>]) -> usize {
    use ast::Stmt as S;
    body.iter()
        .map(|s| match s {
            S::EmitRaw(r) => r.raw.len(),
            S::IfCond(c) => raw_bytes(&c.true_body).max(raw_bytes(&c.false_body)),
            S::WithBlock(w) => raw_bytes(&w.body),
            S::SetBlock(x) => raw_bytes(&x.body),
            S::AutoEscape(a) => raw_bytes(&a.body),
            S::FilterBlock(x) => raw_bytes(&x.body),
            _ => 0,
        })
        .fold(0, usize::saturating_add)
}
