//! Assertions as data: a query (JSONPath or a named value) plus a predicate.
//! Each evaluation keeps the actual value, the expectation and the location.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::load::Cx;
use crate::yaml::{Loc, Spanned};

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
    #[serde(skip)]
    pub loc: Loc,
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.query {
            Query::JsonPath(p) => write!(f, "{p}")?,
            Query::Value(v) => write!(f, "{v}")?,
        }
        match &self.predicate {
            Predicate::Equals(v) => write!(f, " == {v}"),
            Predicate::Matches(r) => write!(f, " =~ /{r}/"),
            Predicate::OneOf(vs) => write!(
                f,
                " in [{}]",
                vs.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Predicate::Exists(true) => write!(f, " exists"),
            Predicate::Exists(false) => write!(f, " does not exist"),
        }
    }
}

/// Validates a raw check. `values` is the list of named values a probe
/// extracts (`None` where named values make no sense).
pub fn validate(cx: &mut Cx, raw: &Spanned<RawCheck>, values: Option<&[String]>) -> Option<Check> {
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
                let help = crate::diag::did_you_mean(&v.value, names.iter().map(String::as_str));
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
    if let Some(e) = &raw.value.equals {
        preds.push(Predicate::Equals(e.clone()));
    }
    if let Some(m) = &raw.value.matches {
        if let Err(e) = regex::Regex::new(&m.value) {
            cx.error(
                m.loc,
                format!(
                    "invalid regular expression `{}`: {}",
                    m.value,
                    crate::options::regex_error(&e)
                ),
            );
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
    Some(Check {
        query,
        predicate: preds.remove(0),
        loc,
    })
}
