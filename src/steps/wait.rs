//! `wait`: wait (by watch) until objects satisfy a condition.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{RawResource, Resource};
use crate::assert::{Check, Predicate, RawCheck};
use crate::load::Cx;
use crate::yaml::Spanned;

/// Wait until the selected objects satisfy every given condition.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", rename = "Wait")]
pub struct RawWait {
    /// The objects to watch.
    pub resource: Spanned<RawResource>,
    /// `exists` (default) or `deleted`.
    #[serde(rename = "for")]
    pub for_: Option<WaitFor>,
    /// A status condition, e.g. `{type: Established, status: "True"}`.
    pub condition: Option<Spanned<RawCondition>>,
    /// JSONPath checks on the object.
    #[serde(default)]
    pub jsonpath: Vec<Spanned<RawCheck>>,
    /// Partial object: the object must contain this subtree (lists match element-wise).
    #[serde(rename = "match")]
    pub match_: Option<serde_json::Value>,
    /// How many matching objects must satisfy the conditions (default 1).
    pub count: Option<u32>,
    /// Capture values from the matching object: variable name -> JSONPath.
    #[serde(default)]
    pub capture: BTreeMap<String, Spanned<String>>,
}

/// What to wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum WaitFor {
    Exists,
    Deleted,
}

/// A status condition.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", rename = "Condition")]
pub struct RawCondition {
    /// Condition type, e.g. `Ready`, `Established`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Expected status (default `"True"`).
    pub status: Option<String>,
    /// Expected reason, when given.
    pub reason: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Wait {
    pub resource: Resource,
    pub for_: WaitFor,
    pub condition: Option<(String, String, Option<String>)>,
    pub checks: Vec<Check>,
    pub match_: Option<serde_json::Value>,
    pub count: u32,
    pub capture: Vec<(String, String)>,
}

pub fn validate(cx: &mut Cx, raw: &Spanned<RawWait>, extra: &BTreeSet<String>) -> Option<Wait> {
    let r = &raw.value;
    let before = cx.diags.len();
    let resource = super::resource(cx, &r.resource, extra);
    let for_ = r.for_.unwrap_or(WaitFor::Exists);
    let checks: Vec<Check> = r
        .jsonpath
        .iter()
        .filter_map(|c| crate::assert::validate(cx, c, None))
        .collect();
    if for_ == WaitFor::Deleted
        && (r.condition.is_some()
            || !r.jsonpath.is_empty()
            || r.match_.is_some()
            || !r.capture.is_empty())
    {
        cx.error(
            raw.loc,
            "`for: deleted` cannot be combined with conditions, checks, `match` or `capture`",
        )
        .expected("either `for: deleted` alone, or conditions on existing objects");
    }
    if r.count == Some(0) {
        cx.error(raw.loc, "`count` must be at least 1");
    }
    let capture = super::captures(cx, &r.capture);
    if cx.diags.len() > before {
        return None;
    }
    Some(Wait {
        resource: resource?,
        for_,
        condition: r.condition.as_ref().map(|c| {
            (
                c.value.type_.clone(),
                c.value.status.clone().unwrap_or_else(|| "True".into()),
                c.value.reason.clone(),
            )
        }),
        checks,
        match_: r.match_.clone(),
        count: r.count.unwrap_or(1),
        capture,
    })
}

impl Wait {
    #[must_use]
    pub fn plan(&self, pc: &super::PlanCx<'_>) -> Vec<String> {
        let mut lines = vec![format!(
            "wait until {} {}",
            pc.resource(&self.resource),
            match self.for_ {
                WaitFor::Exists if self.count > 1 => format!("exist ({} objects)", self.count),
                WaitFor::Exists => "exists".to_owned(),
                WaitFor::Deleted => "is deleted".to_owned(),
            }
        )];
        if let Some((t, s, reason)) = &self.condition {
            lines.push(format!(
                "  condition {t}={s}{}",
                reason
                    .as_ref()
                    .map(|r| format!(" reason={r}"))
                    .unwrap_or_default()
            ));
        }
        for c in &self.checks {
            let mut c = c.clone();
            c.predicate = match c.predicate {
                Predicate::Equals(v) => Predicate::Equals(pc.render_json(&v)),
                Predicate::OneOf(vs) => {
                    Predicate::OneOf(vs.iter().map(|v| pc.render_json(v)).collect())
                }
                other => other,
            };
            lines.push(format!("  check {c}"));
        }
        if let Some(m) = &self.match_ {
            lines.push(format!("  match {}", pc.render_json(m)));
        }
        for (v, p) in &self.capture {
            lines.push(format!("  capture {v} = {p}"));
        }
        lines
    }
}
