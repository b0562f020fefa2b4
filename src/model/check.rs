//! Assertions as data: a query (JSONPath or a named value) plus a predicate.
//! Each evaluation keeps the actual value, the expectation and the location.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
    Matches(String),
    OneOf(Vec<serde_json::Value>),
    Exists(bool),
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
        }
        if let Some(w) = &self.when {
            write!(f, " when {w}")?;
        }
        Ok(())
    }
}

/// Validates a raw check. `values` is the list of named values a probe
/// extracts (`None` where named values make no sense).
pub fn validate(
    cx: &mut Validator,
    raw: &Spanned<RawCheck>,
    values: Option<&[String]>,
) -> Option<Check> {
    let loc = raw.loc;
    let query = match (&raw.value.path, &raw.value.value) {
        (Some(p), None) => {
            cx.jsonpath(p)?;
            Query::JsonPath(p.value.clone())
        }
        (None, Some(v)) => match values {
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
    let mut preds = Vec::new();
    // Expected values are templates: checked (and rendered when their inputs are known) now.
    let vars: std::collections::BTreeSet<String> = cx.step_vars.keys().cloned().collect();
    for expected in raw
        .value
        .equals
        .iter()
        .chain(raw.value.one_of.iter().flatten())
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
        preds.push(Predicate::Matches(m.value.clone()));
    }
    if let Some(o) = &raw.value.one_of {
        preds.push(Predicate::OneOf(o.clone()));
    }
    if let Some(x) = raw.value.exists {
        preds.push(Predicate::Exists(x));
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
        .expected("one of `equals`, `matches`, `oneOf`, `exists`");
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
    Some(Check {
        query,
        predicate: preds.remove(0),
        fraction,
        when,
        loc,
    })
}

// ---------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------

/// Where a check is written: file, line and column in the playbook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Location {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// The result of a check: what it asked, what was found, and where it is
/// written, so that a failure can point at its line like a compiler does.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct CheckResult {
    /// The check as written (`$.data.mode == "fast"`).
    pub check: String,
    pub passed: bool,
    /// What was found (`None`: nothing at the path), or a summary over answers.
    pub actual: Option<serde_json::Value>,
    pub expected: String,
    pub location: Location,
}

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

/// A compiled JSONPath query (parsed once, run many times).
#[derive(Debug, Clone)]
pub struct Compiled(jsonpath_rust::parser::model::JpQuery);

impl Compiled {
    /// # Errors
    /// The path does not parse (validation has already checked it).
    pub fn new(path: &str) -> Result<Self, String> {
        let path = crate::language::jsonpath::to_rfc9535(path)?;
        jsonpath_rust::parser::parse_json_path(&path)
            .map(Compiled)
            .map_err(|e| e.to_string())
    }

    /// Every value the query matches, in document order.
    fn all(&self, doc: &serde_json::Value) -> Vec<serde_json::Value> {
        jsonpath_rust::query::js_path_process(&self.0, doc)
            .map(|v| v.into_iter().map(|r| r.val().clone()).collect())
            .unwrap_or_default()
    }

    /// The value to capture: `None` when nothing matches, the value when one
    /// does, and, as kubectl prints them, the values separated by spaces when
    /// several do (`{.status.loadBalancer.ingress[0].*}` gives `10.0.0.1`).
    #[must_use]
    pub fn capture(&self, doc: &serde_json::Value) -> Option<serde_json::Value> {
        let found = self.all(doc);
        match found.len() {
            0 => None,
            1 => found.into_iter().next(),
            _ => Some(serde_json::Value::String(
                found
                    .iter()
                    .map(|v| match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
            )),
        }
    }

    /// The value at the path: `None` when nothing matches, the value when one
    /// does, an array when several do.
    #[must_use]
    pub fn select(&self, doc: &serde_json::Value) -> Option<serde_json::Value> {
        let found = self.all(doc);
        match found.len() {
            0 => None,
            1 => found.into_iter().next(),
            _ => Some(serde_json::Value::Array(found)),
        }
    }
}

/// Evaluates `predicate` on `actual`; `render` resolves templates in expected values.
#[must_use]
pub fn holds(predicate: &Predicate, actual: Option<&serde_json::Value>) -> bool {
    match (predicate, actual) {
        (Predicate::Exists(want), a) => a.is_some() == *want,
        (_, None) => false,
        (Predicate::Equals(e), Some(a)) => json_eq(e, a),
        (Predicate::Matches(re), Some(serde_json::Value::String(s))) => {
            crate::language::options::compile_regex(re).is_ok_and(|r| r.is_match(s))
        }
        (Predicate::Matches(_), Some(_)) => false,
        (Predicate::OneOf(vs), Some(a)) => vs.iter().any(|v| json_eq(v, a)),
    }
}

/// Equality where numbers compare by value (`1` == `1.0`).
#[must_use]
pub fn json_eq(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as V;
    match (a, b) {
        (V::Number(x), V::Number(y)) => x.as_f64() == y.as_f64(),
        (V::Array(x), V::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (V::Object(x), V::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
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
    }
}

/// Partial-object match: every key of `expected` must be in `actual` with a
/// matching value; lists match element by element and must have the same
/// length (as chainsaw's assertions do). Returns the mismatches, by path.
#[must_use]
pub fn subset_mismatches(expected: &serde_json::Value, actual: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    subset(expected, Some(actual), "", &mut out);
    out
}

fn subset(
    expected: &serde_json::Value,
    actual: Option<&serde_json::Value>,
    path: &str,
    out: &mut Vec<String>,
) {
    use serde_json::Value as V;
    let here = if path.is_empty() { "(root)" } else { path };
    match (expected, actual) {
        (_, None) => out.push(format!(
            "{here}: expected {}, but it is missing",
            short(expected)
        )),
        (V::Object(e), Some(V::Object(a))) => {
            for (k, ev) in e {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                subset(ev, a.get(k), &p, out);
            }
        }
        (V::Array(e), Some(V::Array(a))) => {
            if e.len() == a.len() {
                for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                    subset(ev, Some(av), &format!("{path}[{i}]"), out);
                }
            } else {
                out.push(format!(
                    "{here}: expected {} items {}, found {} items {}",
                    e.len(),
                    short(expected),
                    a.len(),
                    short(&V::Array(a.clone()))
                ));
            }
        }
        (e, Some(a)) => {
            if !json_eq(e, a) {
                out.push(format!("{here}: expected {}, found {}", short(e), short(a)));
            }
        }
    }
}

fn short(v: &serde_json::Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 120 {
        format!("{}…", s.chars().take(120).collect::<String>())
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subset_matches_nested_maps_and_lists() {
        let actual =
            json!({"spec": {"gateways": ["istio-system/bgc-1"], "hosts": ["*"], "extra": 1}});
        assert!(subset_mismatches(&json!({"spec": {"hosts": ["*"]}}), &actual).is_empty());
        assert_eq!(
            subset_mismatches(
                &json!({"spec": {"gateways": ["istio-system/bgc-2"]}}),
                &actual
            ),
            vec![
                "spec.gateways[0]: expected \"istio-system/bgc-2\", found \"istio-system/bgc-1\""
                    .to_owned()
            ]
        );
        assert_eq!(
            subset_mismatches(&json!({"spec": {"hosts": ["*", "a"]}}), &actual),
            vec!["spec.hosts: expected 2 items [\"*\",\"a\"], found 1 items [\"*\"]".to_owned()]
        );
        assert_eq!(
            subset_mismatches(&json!({"status": {"ready": true}}), &actual),
            vec!["status: expected {\"ready\":true}, but it is missing".to_owned()]
        );
    }

    #[test]
    fn predicates() {
        assert!(holds(&Predicate::Equals(json!(1)), Some(&json!(1.0))));
        assert!(!holds(&Predicate::Equals(json!("1")), Some(&json!(1))));
        assert!(holds(
            &Predicate::Matches("^vm-".into()),
            Some(&json!("vm-10.0.0.1"))
        ));
        assert!(!holds(&Predicate::Matches("^vm-".into()), Some(&json!(3))));
        assert!(holds(
            &Predicate::OneOf(vec![json!("a"), json!("b")]),
            Some(&json!("b"))
        ));
        assert!(holds(&Predicate::Exists(false), None));
        assert!(!holds(&Predicate::Equals(json!(null)), None));
    }

    #[test]
    fn compiled_paths_select_one_or_many() {
        let doc = json!({"status": {"loadBalancer": {"ingress": [{"ip": "127.0.0.9"}]}}, "items": [1, 2]});
        assert_eq!(
            Compiled::new("$.status.loadBalancer.ingress[0].ip")
                .unwrap()
                .select(&doc),
            Some(json!("127.0.0.9"))
        );
        assert_eq!(
            Compiled::new("$.items[*]").unwrap().select(&doc),
            Some(json!([1, 2]))
        );
        assert_eq!(Compiled::new("$.nope").unwrap().select(&doc), None);
    }
}
