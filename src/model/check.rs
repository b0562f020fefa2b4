//! Assertions as data: a query (JSONPath or a named value) plus a predicate.
//! Each evaluation keeps the actual value, the expectation and the location.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use super::check_result::{CheckResult, Location};
pub use super::json::{Compiled, json_eq, subset_mismatches};
use crate::language::yaml::{Loc, Spanned};
use crate::model::validator::Validator;

/// The smallest `fraction` of a probe check: one answer of the most requests
/// a probe may make.
pub const MIN_FRACTION: f64 = 1e-6;

/// One check: where to look, and what must hold there.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", rename = "Check")]
pub struct RawCheck {
    /// RFC 9535 JSONPath into the object or response body, e.g. `$.spec.hosts`.
    pub path: Option<Spanned<String>>,
    /// Name of a value extracted by the probe's `extract` (probe checks only).
    pub value: Option<Spanned<String>>,
    /// The value equals this (templates allowed in strings).
    pub equals: Option<serde_json::Value>,
    /// The value is a string matching this regular expression.
    pub matches: Option<Spanned<String>>,
    /// The value is one of these.
    pub one_of: Option<Vec<serde_json::Value>>,
    /// The path exists (true) or does not (false).
    pub exists: Option<bool>,
    /// The value is a list with an element that contains this: a partial
    /// mapping (as `match`), or a value the element equals. A path that
    /// selects several values looks through all of them (a selected list
    /// gives its elements): `$.status.parents[*].conditions` with
    /// `contains: {type: Accepted, status: "True"}`.
    pub contains: Option<serde_json::Value>,
    /// `wait` checks: the value equals the value at this other JSONPath of
    /// the same object (`path: $.status.observedGeneration`,
    /// `equalsPath: $.metadata.generation`).
    pub equals_path: Option<Spanned<String>>,
    /// Probe checks: the share of answers that must pass (0..1, default 1: every answer).
    pub fraction: Option<Spanned<f64>>,
    /// Probe checks: apply this check only to answers where another extracted value
    /// holds a condition (e.g. `when: { value: status, equals: 403 }`).
    pub when: Option<Box<Spanned<RawCheck>>>,
}

/// What must hold.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Predicate {
    Equals(serde_json::Value),
    Matches(Pattern),
    OneOf(Vec<serde_json::Value>),
    Exists(bool),
    /// Some element of the list contains this (a partial mapping) or equals it.
    Contains(serde_json::Value),
    /// Equals the value at this other JSONPath of the same object.
    EqualsPath(String),
}

/// A regular expression of a check, compiled once (on first use) and shared
/// by every copy of the check: a probe judges thousands of answers with it.
#[derive(Debug, Clone)]
pub struct Pattern {
    text: String,
    compiled: std::sync::Arc<std::sync::OnceLock<Option<regex::Regex>>>,
}

impl Pattern {
    #[must_use]
    pub fn new(text: &str) -> Self {
        Pattern {
            text: text.to_owned(),
            compiled: std::sync::Arc::default(),
        }
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The compiled expression (`None`: it does not compile; validation refuses those).
    #[must_use]
    pub fn regex(&self) -> Option<&regex::Regex> {
        self.compiled
            .get_or_init(|| crate::language::options::compile_regex(&self.text).ok())
            .as_ref()
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Serialize for Pattern {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl std::fmt::Display for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// The type of a probe's extracted value, where the extraction fixes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// The status code.
    Number,
    /// A header, the body, or anything through a regex.
    Text,
    /// A JSONPath: known only when an answer comes.
    Unknown,
}

/// Where the checked value comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Query {
    JsonPath(String),
    Value(String),
}

/// A validated check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub query: Query,
    pub predicate: Predicate,
    /// Share of answers that must pass (probe checks; 1 elsewhere).
    pub fraction: f64,
    /// The condition on another extracted value that makes the check apply.
    pub when: Option<Box<Check>>,
    /// An expected value is a template: its rendered text compares as the
    /// type of the value found (`"{{ generation }}"` equals the number 2).
    #[serde(skip)]
    pub templated: bool,
    #[serde(skip)]
    pub loc: Loc,
}

impl Check {
    /// The same check with `f` applied to its expected values (to render templates).
    ///
    /// # Errors
    /// The first error `f` returns.
    pub fn map_expected<E>(
        &self,
        f: impl Fn(&serde_json::Value) -> Result<serde_json::Value, E>,
    ) -> Result<Check, E> {
        self.map_expected_with(&f)
    }

    fn map_expected_with<E>(
        &self,
        f: &dyn Fn(&serde_json::Value) -> Result<serde_json::Value, E>,
    ) -> Result<Check, E> {
        let mut c = self.clone();
        c.predicate = match &self.predicate {
            Predicate::Equals(v) => Predicate::Equals(f(v)?),
            Predicate::OneOf(vs) => Predicate::OneOf(vs.iter().map(f).collect::<Result<_, _>>()?),
            Predicate::Contains(v) => Predicate::Contains(f(v)?),
            other => other.clone(),
        };
        if let Some(w) = &self.when {
            c.when = Some(Box::new(w.map_expected_with(f)?));
        }
        Ok(c)
    }
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.query {
            Query::JsonPath(p) => write!(f, "{p}")?,
            Query::Value(v) => write!(f, "{v}")?,
        }
        match &self.predicate {
            Predicate::Equals(v) => write!(f, " == {v}")?,
            Predicate::Matches(r) => write!(f, " =~ /{r}/")?,
            Predicate::OneOf(vs) => write!(
                f,
                " in [{}]",
                vs.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )?,
            Predicate::Exists(true) => write!(f, " exists")?,
            Predicate::Exists(false) => write!(f, " does not exist")?,
            Predicate::Contains(v) => write!(f, " contains {v}")?,
            Predicate::EqualsPath(p) => write!(f, " == {p}")?,
        }
        if let Some(w) = &self.when {
            write!(f, " when {w}")?;
        }
        Ok(())
    }
}

/// Validates a raw check. `values` is the list of named values a probe
/// extracts, with their types (`None` where named values make no sense).
#[allow(clippy::too_many_lines)]
pub fn validate(
    cx: &mut Validator,
    raw: &Spanned<RawCheck>,
    values: Option<&[(String, ValueType)]>,
) -> Option<Check> {
    let loc = raw.loc;
    let names: Option<Vec<String>> = values.map(|v| v.iter().map(|(n, _)| n.clone()).collect());
    let names = names.as_deref();
    let query = validate_query(cx, raw, names)?;
    let mut preds = Vec::new();
    // Expected values are templates: checked (and rendered when their inputs are known) now.
    let vars: std::collections::BTreeSet<String> = cx.step_vars.keys().cloned().collect();
    for expected in raw
        .value
        .equals
        .iter()
        .chain(raw.value.one_of.iter().flatten())
        .chain(raw.value.contains.iter())
    {
        cx.template_json(expected, loc, &vars);
    }
    if let Some(e) = &raw.value.equals {
        preds.push(Predicate::Equals(e.clone()));
    }
    if let Some(m) = &raw.value.matches {
        if !cx.regex(&m.value, m.loc) {
            return None;
        }
        preds.push(Predicate::Matches(Pattern::new(&m.value)));
    }
    if let Some(o) = &raw.value.one_of {
        preds.push(Predicate::OneOf(o.clone()));
    }
    if let Some(x) = raw.value.exists {
        preds.push(Predicate::Exists(x));
    }
    if let Some(c) = &raw.value.contains {
        preds.push(Predicate::Contains(c.clone()));
    }
    if let Some(p) = &raw.value.equals_path {
        if values.is_some() || raw.value.path.is_none() {
            cx.error(p.loc, "`equalsPath` compares two fields of one object")
                .expected("a `wait` check with `path: <JSONPath>` and `equalsPath: <another JSONPath>` of the same object");
            return None;
        }
        cx.jsonpath(p)?;
        preds.push(Predicate::EqualsPath(p.value.clone()));
    }
    let fraction = match (&raw.value.fraction, values) {
        (Some(f), None) => {
            cx.error(f.loc, "`fraction` is only available in probe checks");
            return None;
        }
        (Some(f), Some(_)) if !(f.value >= MIN_FRACTION && f.value <= 1.0) => {
            cx.error(
                f.loc,
                format!(
                    "`fraction` must be from {MIN_FRACTION:e} to 1, found {:e}",
                    f.value
                ),
            )
            .expected("a share of answers, e.g. 0.95 (one answer in a million is the smallest)");
            return None;
        }
        (Some(f), Some(_)) => f.value,
        (None, _) => 1.0,
    };
    if preds.len() != 1 {
        cx.error(
            loc,
            if preds.is_empty() {
                "a check needs a predicate"
            } else {
                "a check takes exactly one predicate"
            },
        )
        .expected("one of `equals`, `matches`, `oneOf`, `exists`, `contains`, `equalsPath`");
        return None;
    }
    let when = match (&raw.value.when, values) {
        (None, _) => None,
        (Some(w), None) => {
            cx.error(w.loc, "`when` is only available in probe checks");
            return None;
        }
        (Some(w), Some(_)) if w.value.value.is_none() || w.value.when.is_some() => {
            cx.error(w.loc, "a check's `when` tests one extracted value")
                .expected("`when: { value: <extracted name>, equals: ... }` (no `path`, no nested `when`)");
            return None;
        }
        (Some(w), Some(_)) => Some(Box::new(validate(cx, w, values)?)),
    };
    let templated = raw
        .value
        .equals
        .iter()
        .chain(raw.value.one_of.iter().flatten())
        .chain(raw.value.contains.iter())
        .any(has_template);
    let check = Check {
        query,
        predicate: preds.remove(0),
        fraction,
        when,
        templated,
        loc,
    };
    if let (Query::Value(name), Some(values)) = (&check.query, values)
        && let Some((_, ty)) = values.iter().find(|(n, _)| n == name)
        && let Some(problem) = type_problem(&check, name, *ty)
    {
        cx.error(loc, problem.0).expected(problem.1);
        return None;
    }
    Some(check)
}

/// Where a check looks: a JSONPath, or a value the probe extracts (by name).
fn validate_query(
    cx: &mut Validator,
    raw: &Spanned<RawCheck>,
    names: Option<&[String]>,
) -> Option<Query> {
    let loc = raw.loc;
    let query = match (&raw.value.path, &raw.value.value) {
        (Some(p), None) => {
            cx.jsonpath(p)?;
            Query::JsonPath(p.value.clone())
        }
        (None, Some(v)) => match names {
            None => {
                cx.error(v.loc, "`value` is only available in probe checks")
                    .expected("`path: <JSONPath>`");
                return None;
            }
            Some(names) if !names.contains(&v.value) => {
                let help =
                    crate::language::diag::did_you_mean(&v.value, names.iter().map(String::as_str));
                let d = cx
                    .error(v.loc, format!("unknown value `{}`", v.value))
                    .expected(format!("a name from `extract`: {}", names.join(", ")));
                if let Some(h) = help {
                    d.help = Some(format!("did you mean `{h}`?"));
                }
                return None;
            }
            Some(_) => Query::Value(v.value.clone()),
        },
        (None, None) => {
            cx.error(loc, "a check needs `path` or `value`")
                .expected("`path: <JSONPath>` or `value: <extracted name>`");
            return None;
        }
        (Some(_), Some(v)) => {
            cx.error(v.loc, "a check takes `path` or `value`, not both");
            return None;
        }
    };
    Some(query)
}

fn has_template(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::String(s) => s.contains("{{") || s.contains("{%"),
        serde_json::Value::Array(a) => a.iter().any(has_template),
        serde_json::Value::Object(o) => o.values().any(has_template),
        _ => false,
    }
}

/// The JSON type of a value, in words.
pub(crate) fn type_name(v: &serde_json::Value) -> &'static str {
    use serde_json::Value as V;
    match v {
        V::Null => "null",
        V::Bool(_) => "a boolean",
        V::Number(_) => "a number",
        V::String(_) => "a string",
        V::Array(_) => "a list",
        V::Object(_) => "a mapping",
    }
}

/// A literal that can never equal a value of type `ty` (the message and what
/// was expected), so that the check would silently never hold (or, in a
/// `when`, never apply).
fn type_problem(c: &Check, name: &str, ty: ValueType) -> Option<(String, String)> {
    let (want, is_ok): (&str, fn(&serde_json::Value) -> bool) = match ty {
        ValueType::Unknown => return None,
        ValueType::Number => ("a number", |v| v.is_number()),
        ValueType::Text => ("text", |v| v.is_string()),
    };
    if c.templated {
        return None;
    }
    let literals: Vec<&serde_json::Value> = match &c.predicate {
        Predicate::Equals(v) => vec![v],
        Predicate::OneOf(vs) => vs.iter().collect(),
        Predicate::Matches(_) if ty == ValueType::Number => {
            return Some((
                format!("`{name}` is a number: `matches` compares text and never holds"),
                format!("`equals: 200` or `oneOf: [200, 201]` for `{name}`"),
            ));
        }
        Predicate::Contains(_) => {
            return Some((
                format!(
                    "`{name}` is {want}: `contains` looks for an element of a list and never holds"
                ),
                format!(
                    "`equals` or `oneOf` for `{name}`, or `contains` on a value extracted with a JSONPath"
                ),
            ));
        }
        Predicate::Matches(_) | Predicate::Exists(_) | Predicate::EqualsPath(_) => return None,
    };
    let bad = literals.into_iter().find(|v| !v.is_null() && !is_ok(v))?;
    let fix = match (ty, bad) {
        (ValueType::Number, serde_json::Value::String(s)) if s.trim().parse::<f64>().is_ok() => {
            format!("{} (without quotes)", s.trim())
        }
        (ValueType::Number, _) => "a number, e.g. 200".to_owned(),
        (_, serde_json::Value::Number(_) | serde_json::Value::Bool(_)) => {
            format!("\"{bad}\" (quoted)")
        }
        (_, _) => "a quoted string, e.g. \"v2\"".to_owned(),
    };
    Some((
        format!(
            "`{name}` is {want}, but {bad} is {} and can never equal it",
            type_name(bad)
        ),
        fix,
    ))
}

// ---------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------

impl Check {
    /// This check's result, located in `file`.
    #[must_use]
    pub fn result(
        &self,
        file: &str,
        passed: bool,
        actual: Option<serde_json::Value>,
    ) -> CheckResult {
        CheckResult {
            check: self.to_string(),
            passed,
            actual,
            expected: expected_text(&self.predicate),
            location: Location {
                file: file.to_owned(),
                line: self.loc.line,
                column: self.loc.col,
            },
        }
    }
}

/// Evaluates a check's predicate on `actual`.
#[must_use]
pub fn holds(c: &Check, actual: Option<&serde_json::Value>) -> bool {
    evaluate(c, actual) == Ok(true)
}

/// Evaluates a check's predicate on `actual`: whether it holds, or why the
/// two cannot be compared (a string against a number: a check that could
/// never hold, which a `when` must not take as "does not apply").
///
/// # Errors
/// The expected and the found value have types that never compare equal.
pub fn evaluate(c: &Check, actual: Option<&serde_json::Value>) -> Result<bool, String> {
    use serde_json::Value as V;
    let Some(a) = actual else {
        return Ok(matches!(c.predicate, Predicate::Exists(false)));
    };
    let eq = |e: &V| {
        if c.templated
            && let V::String(text) = e
            && matches!(a, V::Number(_) | V::Bool(_) | V::Null)
        {
            // A rendered template is text; it means the value it spells.
            return serde_json::from_str::<V>(text.trim()).is_ok_and(|typed| json_eq(&typed, a));
        }
        json_eq(e, a)
    };
    let comparable = |e: &V| {
        c.templated
            || e.is_null()
            || a.is_null()
            || std::mem::discriminant(e) == std::mem::discriminant(a)
    };
    match &c.predicate {
        Predicate::Exists(want) => Ok(*want),
        Predicate::Equals(e) if !comparable(e) => Err(format!(
            "{} is {}, {} is {}: they never compare equal",
            crate::language::limits::excerpt(&a.to_string()),
            type_name(a),
            crate::language::limits::excerpt(&e.to_string()),
            type_name(e)
        )),
        Predicate::Equals(e) => Ok(eq(e)),
        Predicate::OneOf(vs) if !vs.iter().any(comparable) => Err(format!(
            "{} is {}, unlike every value of the list",
            crate::language::limits::excerpt(&a.to_string()),
            type_name(a)
        )),
        Predicate::OneOf(vs) => Ok(vs.iter().any(eq)),
        Predicate::Contains(e) => match a {
            V::Array(items) => Ok(items.iter().any(|x| subset_mismatches(e, x).is_empty())),
            other => Err(format!(
                "{} is {}: `contains` looks for an element of a list",
                crate::language::limits::excerpt(&other.to_string()),
                type_name(other)
            )),
        },
        // Resolved against the object before (`object_check`).
        Predicate::EqualsPath(p) => Err(format!(
            "`equalsPath: {p}` compares two fields of one object"
        )),
        Predicate::Matches(p) => match a {
            V::String(s) => Ok(p.regex().is_some_and(|r| r.is_match(s))),
            other => Err(format!(
                "{} is {}: `matches` compares text",
                crate::language::limits::excerpt(&other.to_string()),
                type_name(other)
            )),
        },
    }
}

/// Describes what a predicate expects.
#[must_use]
pub fn expected_text(p: &Predicate) -> String {
    match p {
        Predicate::Equals(v) => format!("== {v}"),
        Predicate::Matches(r) => format!("matches /{r}/"),
        Predicate::OneOf(vs) => format!("one of {}", serde_json::Value::Array(vs.clone())),
        Predicate::Exists(true) => "exists".to_owned(),
        Predicate::Exists(false) => "does not exist".to_owned(),
        Predicate::Contains(v) => format!("a list with an element that contains {v}"),
        Predicate::EqualsPath(p) => format!("the value at {p}"),
    }
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;
