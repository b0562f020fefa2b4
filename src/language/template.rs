//! Templating: every manifest and every templated playbook string is a
//! minijinja template rendered with strict undefined (an unknown variable is
//! an error, never an empty string).

use std::collections::BTreeSet;

use minijinja::{Environment, UndefinedBehavior};

use super::limits;
use super::template_budget;
use super::template_rewrite::{self, PREFIX, Prepared};
use crate::language::yaml::Loc;

/// Names that are always present in a template context.
pub const BUILTINS: &[&str] = &["env", "clusters", "cluster", "playbook", "captures", "step"];

/// The template environment shared by validation and execution.
#[must_use]
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    // Bounded work: a template that loops for ever runs out of fuel.
    env.set_fuel(Some(limits::TEMPLATE_FUEL));
    // Bounded size: what a template builds is checked before it is built.
    template_budget::install(&mut env);
    env
}

/// A function minijinja provides to every template (`range`, `dict`, ...),
/// called as one in `text`. (`{{ namespace }}` alone is still an unknown
/// variable: a playbook var of that name is what the author meant.)
fn is_builtin_call(env: &Environment<'_>, name: &str, text: &str) -> bool {
    env.globals().any(|(n, _)| n == name)
        && text.match_indices(name).any(|(at, _)| {
            let before_ok = at == 0 || !is_ident(text.as_bytes()[at - 1]);
            before_ok && text[at + name.len()..].trim_start().starts_with('(')
        })
}

/// Collects rendered output and fails once it passes the size limit, so that
/// a template cannot build an unbounded document.
struct Bounded(Vec<u8>);

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > limits::MAX_RENDERED_BYTES {
            return Err(std::io::Error::other(format!(
                "the rendered text exceeds the limit of {} MiB",
                limits::MAX_RENDERED_BYTES / (1024 * 1024)
            )));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

thread_local! {
    /// Set while a guarded call runs: its panic is an error, not a crash report.
    static GUARDED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs a call into the template engine so that a panic inside it (a bug of
/// the engine on some input, found by fuzzing: `worc }}}` as an expression)
/// becomes an error instead of a crash.
///
/// # Errors
/// `f`'s errors, or the engine's panic as an error.
pub fn guarded<T>(f: impl FnOnce() -> Result<T, TemplateError>) -> Result<T, TemplateError> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !GUARDED.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    GUARDED.with(|g| g.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(false));
    result.unwrap_or_else(|_| {
        Err(TemplateError {
            message: "the template engine cannot read this text (unbalanced `{{`/`}}`, `{%`/`%}`?)"
                .to_owned(),
            loc: None,
            over_limit: false,
        })
    })
}

/// The bounded pre-pass of a template (see `expr_bound`), as a located error.
fn bounded_template(text: &str) -> Result<(), TemplateError> {
    super::expr_bound::check_template(text).map_err(|e| TemplateError {
        message: e.message(),
        loc: Some(loc_of_offset(text, e.offset)),
        over_limit: true,
    })
}

/// The bounded pre-pass of a `when:` expression: its length, then its operators.
fn bounded_expression(expr: &str) -> Result<(), TemplateError> {
    if expr.len() > limits::MAX_CONDITION_BYTES {
        return Err(TemplateError {
            message: format!(
                "this expression is {} bytes long, over the limit of {} (see docs/limits.md)",
                expr.len(),
                limits::MAX_CONDITION_BYTES
            ),
            loc: None,
            over_limit: true,
        });
    }
    super::expr_bound::check_expression(expr).map_err(|e| TemplateError {
        message: e.message(),
        loc: None,
        over_limit: true,
    })
}

/// The top-level variables a template uses (`None`: it does not compile).
#[must_use]
pub fn variables(env: &Environment<'_>, text: &str) -> Option<std::collections::HashSet<String>> {
    bounded_template(text).ok()?;
    reserved(text).ok()?;
    let prepared = template_rewrite::template(text);
    guarded(|| {
        env.template_from_str(&prepared.text)
            .map(|t| without_inserted(t.undeclared_variables(false)))
            .map_err(|e| convert_error_in(&prepared, text, &e))
    })
    .ok()
}

/// A template problem, located inside the template text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub message: String,
    /// Position inside the template text (1-based), when known.
    pub loc: Option<Loc>,
    /// Stopped by a limit of docs/limits.md (size, work), not by a mistake.
    pub over_limit: bool,
}

fn loc_of_offset(text: &str, offset: usize) -> Loc {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Loc {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        col: u32::try_from(col).unwrap_or(u32::MAX),
    }
}

/// Refuses a text that names what the rewrite inserts (`__scenario_...`):
/// the author cannot call the checks, or tell them apart from their own.
fn reserved(text: &str) -> Result<(), TemplateError> {
    match text.find(PREFIX) {
        None => Ok(()),
        Some(at) => Err(TemplateError {
            message: format!(
                "names that start with `{PREFIX}` are reserved for scenario's own template checks"
            ),
            loc: Some(loc_of_offset(text, at)),
            over_limit: false,
        }),
    }
}

/// The names a template uses, without those the rewrite inserted.
fn without_inserted(names: std::collections::HashSet<String>) -> std::collections::HashSet<String> {
    names
        .into_iter()
        .filter(|n| !n.starts_with(PREFIX))
        .collect()
}

/// Converts an error of the engine on the compiled text of `text` to an
/// error located in `text`.
fn convert_error_in(prepared: &Prepared<'_>, text: &str, e: &minijinja::Error) -> TemplateError {
    let mut t = convert_error(&prepared.text, e);
    if template_budget::refused() {
        // Our own limit: its message says it all, without the engine's kind.
        t.message = e.detail().unwrap_or_default().to_owned();
        t.over_limit = true;
    }
    if let Some(r) = e.range() {
        t.loc = Some(loc_of_offset(text, prepared.original_offset(r.start)));
    }
    t
}

/// Converts a minijinja error to a located template error.
#[must_use]
pub fn convert_error(text: &str, e: &minijinja::Error) -> TemplateError {
    let loc = e.range().map(|r| loc_of_offset(text, r.start)).or_else(|| {
        e.line().map(|l| Loc {
            line: u32::try_from(l).unwrap_or(u32::MAX),
            col: 1,
        })
    });
    let mut message = e.kind().to_string();
    if let Some(detail) = e.detail() {
        message = format!("{message}: {detail}");
    }
    TemplateError {
        message,
        loc,
        over_limit: false,
    }
}

/// Compiles a template and checks that every top-level variable it uses is
/// known. Returns the first problem.
///
/// # Errors
/// Syntax errors and unknown variables.
pub fn check(
    env: &Environment<'_>,
    text: &str,
    known: &BTreeSet<String>,
) -> Result<(), TemplateError> {
    guarded(|| check_unguarded(env, text, known))
}

fn check_unguarded(
    env: &Environment<'_>,
    text: &str,
    known: &BTreeSet<String>,
) -> Result<(), TemplateError> {
    if !text.contains("{{") && !text.contains("{%") && !text.contains("{#") {
        return Ok(());
    }
    bounded_template(text)?;
    reserved(text)?;
    let prepared = template_rewrite::template(text);
    let tmpl = env
        .template_from_str(&prepared.text)
        .map_err(|e| convert_error_in(&prepared, text, &e))?;
    unknown_variable(
        env,
        without_inserted(tmpl.undeclared_variables(false)),
        known,
        text,
        "template",
    )
}

/// The first (alphabetically) variable a template or expression uses that is
/// not known, as an error located at its first use, with a suggestion.
fn unknown_variable(
    env: &Environment<'_>,
    used: std::collections::HashSet<String>,
    known: &BTreeSet<String>,
    text: &str,
    what: &str,
) -> Result<(), TemplateError> {
    let Some(name) = used
        .into_iter()
        .filter(|v| !known.contains(v) && !is_builtin_call(env, v, text))
        .min()
    else {
        return Ok(());
    };
    let mut message = format!("unknown variable `{name}` in {what}");
    if let Some(s) = crate::language::diag::did_you_mean(&name, known.iter().map(String::as_str)) {
        message = format!("{message}; did you mean `{s}`?");
    }
    Err(TemplateError {
        message,
        loc: find_var(text, &name).map(|o| loc_of_offset(text, o)),
        over_limit: false,
    })
}

/// Byte offset of the first use of `name` as a whole word inside a
/// `{{ }}` or `{% %}` block.
fn find_var(text: &str, name: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut pos = 0;
    while let Some(open) = text[pos..].find(['{']).map(|i| pos + i) {
        let kind = bytes.get(open + 1).copied();
        let close = match kind {
            Some(b'{') => "}}",
            Some(b'%') => "%}",
            _ => {
                pos = open + 1;
                continue;
            }
        };
        let body_start = open + 2;
        let body_end = text[body_start..]
            .find(close)
            .map_or(text.len(), |i| body_start + i);
        let mut start = body_start;
        while let Some(i) = text[start..body_end].find(name) {
            let at = start + i;
            let before_ok = !is_ident(bytes[at - 1]);
            let end = at + name.len();
            let after_ok = end >= bytes.len() || !is_ident(bytes[end]);
            if before_ok && after_ok {
                return Some(at);
            }
            start = end;
        }
        pos = body_end;
    }
    None
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'.'
}

/// Renders a template string with a context.
///
/// # Errors
/// Undefined variables and runtime errors, located in the template text.
pub fn render(
    env: &Environment<'_>,
    text: &str,
    ctx: &(impl serde::Serialize + Sync + ?Sized),
) -> Result<String, TemplateError> {
    // A loop can nest a value in itself once per item (`{% set ns.a = [ns.a] %}`),
    // and printing or dropping it recurses once per level: a template that can
    // loop renders on a stack deep enough for the deepest value its fuel allows.
    let render_here = || guarded(|| render_unguarded(env, text, ctx));
    if !text.contains("for") {
        return render_here();
    }
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .name("template".to_owned())
            .stack_size(limits::TEMPLATE_STACK_BYTES)
            .spawn_scoped(scope, render_here);
        match spawned {
            Ok(handle) => handle.join().unwrap_or_else(|_| {
                Err(TemplateError {
                    message: "the template engine stopped on this template".to_owned(),
                    loc: None,
                    over_limit: false,
                })
            }),
            Err(_) => render_here(),
        }
    })
}

fn render_unguarded(
    env: &Environment<'_>,
    text: &str,
    ctx: &(impl serde::Serialize + ?Sized),
) -> Result<String, TemplateError> {
    if !text.contains("{{") && !text.contains("{%") && !text.contains("{#") {
        return Ok(text.to_owned());
    }
    bounded_template(text)?;
    reserved(text)?;
    let prepared = template_rewrite::template(text);
    let tmpl = env
        .template_from_str(&prepared.text)
        .map_err(|e| convert_error_in(&prepared, text, &e))?;
    let mut out = Bounded(Vec::new());
    template_budget::begin();
    tmpl.render_captured_to(ctx, &mut out).map_err(|e| {
        let mut t = convert_error_in(&prepared, text, &e);
        match e.kind() {
            minijinja::ErrorKind::WriteFailure => {
                t.over_limit = true;
                t.message = format!(
                    "the rendered text exceeds the limit of {} MiB (see docs/limits.md)",
                    limits::MAX_RENDERED_BYTES / (1024 * 1024)
                );
            }
            minijinja::ErrorKind::OutOfFuel => {
                t.over_limit = true;
                t.message = format!(
                    "the template does more than {} steps of work (see docs/limits.md)",
                    limits::TEMPLATE_FUEL
                );
            }
            _ => {}
        }
        t
    })?;
    String::from_utf8(out.0).map_err(|e| TemplateError {
        message: format!("the rendered text is not UTF-8: {e}"),
        loc: None,
        over_limit: false,
    })
}

/// Evaluates a `when:` expression to a boolean.
///
/// # Errors
/// Syntax errors and undefined variables.
pub fn eval_condition(
    env: &Environment<'_>,
    expr: &str,
    ctx: &(impl serde::Serialize + ?Sized),
) -> Result<bool, TemplateError> {
    guarded(|| eval_condition_unguarded(env, expr, ctx))
}

fn eval_condition_unguarded(
    env: &Environment<'_>,
    expr: &str,
    ctx: &(impl serde::Serialize + ?Sized),
) -> Result<bool, TemplateError> {
    bounded_expression(expr)?;
    reserved(expr)?;
    let prepared = template_rewrite::expression(expr);
    let compiled = env
        .compile_expression(&prepared.text)
        .map_err(|e| convert_error_in(&prepared, expr, &e))?;
    template_budget::begin();
    compiled
        .eval(ctx)
        .map(|v| v.is_true())
        .map_err(|e| convert_error_in(&prepared, expr, &e))
}

/// Checks a `when:` expression: syntax and known variables.
///
/// # Errors
/// As [`check`].
pub fn check_condition(
    env: &Environment<'_>,
    expr: &str,
    known: &BTreeSet<String>,
) -> Result<(), TemplateError> {
    guarded(|| check_condition_unguarded(env, expr, known))
}

fn check_condition_unguarded(
    env: &Environment<'_>,
    expr: &str,
    known: &BTreeSet<String>,
) -> Result<(), TemplateError> {
    bounded_expression(expr)?;
    reserved(expr)?;
    let prepared = template_rewrite::expression(expr);
    let compiled = env
        .compile_expression(&prepared.text)
        .map_err(|e| convert_error_in(&prepared, expr, &e))?;
    unknown_variable(
        env,
        without_inserted(compiled.undeclared_variables(false)),
        known,
        expr,
        "condition",
    )
}

/// Evaluates an expression to a JSON value (a capture keeps its type).
///
/// # Errors
/// Syntax errors, undefined values, values JSON cannot hold.
pub fn eval_value(
    env: &Environment<'_>,
    expr: &str,
    ctx: &(impl serde::Serialize + ?Sized),
) -> Result<serde_json::Value, TemplateError> {
    bounded_expression(expr)?;
    reserved(expr)?;
    let prepared = template_rewrite::expression(expr);
    guarded(|| {
        template_budget::begin();
        let value = env
            .compile_expression(&prepared.text)
            .and_then(|e| e.eval(ctx))
            .map_err(|e| convert_error_in(&prepared, expr, &e))?;
        if value.is_undefined() {
            return Err(TemplateError {
                message: "undefined value".to_owned(),
                loc: None,
                over_limit: false,
            });
        }
        serde_json::to_value(&value).map_err(|e| TemplateError {
            message: e.to_string(),
            loc: None,
            over_limit: false,
        })
    })
}

/// The expression of a string that is one `{{ ... }}` and nothing else
/// (`"{{ split }}"`): such a string takes the value's own type.
#[must_use]
pub fn whole_expression(s: &str) -> Option<&str> {
    let inner = s.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    (!inner.contains("{{") && !inner.contains("}}")).then_some(inner.trim())
}

/// Renders every string inside a JSON value; a string that is one
/// expression keeps the type of its value.
///
/// # Errors
/// The first template error.
pub fn render_value(
    env: &Environment<'_>,
    v: &serde_json::Value,
    ctx: &(impl serde::Serialize + ?Sized),
) -> Result<serde_json::Value, TemplateError> {
    // The context is converted once for every string of the value.
    render_value_in(env, v, &minijinja::Value::from_serialize(ctx))
}

fn render_value_in(
    env: &Environment<'_>,
    v: &serde_json::Value,
    ctx: &minijinja::Value,
) -> Result<serde_json::Value, TemplateError> {
    // The error names the string that failed: a value may hold many.
    let named = |s: &str, e: TemplateError| TemplateError {
        message: format!("template `{s}`: {}", e.message),
        loc: e.loc,
        over_limit: e.over_limit,
    };
    Ok(match v {
        serde_json::Value::String(s) => match whole_expression(s) {
            Some(expr) => eval_value(env, expr, ctx).map_err(|e| named(s, e))?,
            None => serde_json::Value::String(render(env, s, ctx).map_err(|e| named(s, e))?),
        },
        serde_json::Value::Array(a) => serde_json::Value::Array(
            a.iter()
                .map(|x| render_value_in(env, x, ctx))
                .collect::<Result<_, _>>()?,
        ),
        serde_json::Value::Object(o) => serde_json::Value::Object(
            o.iter()
                .map(|(k, x)| Ok((k.clone(), render_value_in(env, x, ctx)?)))
                .collect::<Result<_, TemplateError>>()?,
        ),
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use crate::language::expr_bound::check_expression;
    use crate::language::expr_bound::tests::chain;
    use crate::language::limits::MAX_EXPRESSION_OPERATORS;
    use crate::language::template::whole_expression;

    /// At the limit, the engine itself stays well within a small thread stack
    /// (tokio's worker threads have 2 MiB) in a debug build, for every way of
    /// nesting an expression.
    #[test]
    fn the_engine_survives_the_limit_on_a_small_stack() {
        let n = MAX_EXPRESSION_OPERATORS;
        let exprs: Vec<String> = vec![
            chain(" or ", n),
            chain("~", n),
            chain(".", n),
            chain("|a", n / 2),
            format!("a{}", "[0]".repeat(n)),
            format!("{}a", "not ".repeat(n)),
            format!("{}a", "-".repeat(n)),
            chain(" if a else ", n / 3),
        ];
        std::thread::Builder::new()
            .stack_size(1024 * 1024)
            .spawn(move || {
                let env = crate::language::template::environment();
                let known = ["a".to_owned()].into_iter().collect();
                for e in &exprs {
                    assert!(check_expression(e).is_ok(), "{e}");
                    let _ = crate::language::template::check_condition(&env, e, &known);
                    let _ = crate::language::template::eval_condition(
                        &env,
                        e,
                        &serde_json::json!({"a": [1]}),
                    );
                    let t = format!("{{{{ {e} }}}}");
                    let _ = crate::language::template::check(&env, &t, &known);
                    let _ =
                        crate::language::template::render(&env, &t, &serde_json::json!({"a": 1}));
                }
            })
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn whole_expressions() {
        assert_eq!(whole_expression("{{ old }}"), Some("old"));
        assert_eq!(whole_expression(" {{old.x}} "), Some("old.x"));
        assert_eq!(whole_expression("v{{ old }}"), None);
        assert_eq!(whole_expression("{{ a }}-{{ b }}"), None);
    }
}
