//! `wait`: wait (by watch) until objects satisfy a condition. This file reads
//! and plans the step; `watch` runs it.

mod watch;

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use futures::future::BoxFuture;

use crate::model::access::{Access, verbs};
use crate::language::diag::Diagnostic;
use crate::language::yaml::Spanned;
use crate::model::action::{
    Action, Docs, DocsCommand, Done, KindRef, Outcome, PlanCx, ReaderCx, StepCx, StepError,
    StepKind,
};
use crate::model::check::{Check, RawCheck};
use crate::model::resource::{RawResource, Resource};
use crate::model::validator::Validator;

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
    pub match_: Option<Spanned<serde_json::Value>>,
    /// How many matching objects must satisfy the conditions (default 1).
    pub count: Option<u32>,
    /// Capture values from the matching object: variable name -> JSONPath.
    #[serde(default)]
    pub capture: BTreeMap<String, Spanned<String>>,
    /// Check the current state once instead of waiting: the step fails at
    /// once, with what was found, when the condition does not hold (a
    /// precondition). Default `false`.
    #[serde(default)]
    pub now: bool,
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
    /// Check once, now (`now: true`), instead of waiting.
    pub now: bool,
}

fn validate(cx: &mut Validator, raw: &Spanned<RawWait>, extra: &BTreeSet<String>) -> Option<Wait> {
    let r = &raw.value;
    let before = cx.diags.len();
    let resource = crate::model::resource::resource(cx, &r.resource, extra);
    let for_ = r.for_.unwrap_or(WaitFor::Exists);
    let checks: Vec<Check> = r
        .jsonpath
        .iter()
        .filter_map(|c| crate::model::check::validate(cx, c, None))
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
    if let Some(m) = &r.match_ {
        cx.template_json(&m.value, m.loc, extra);
    }
    if r.count == Some(0) {
        cx.error(raw.loc, "`count` must be at least 1");
    }
    let capture = cx.captures(&r.capture);
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
        match_: r.match_.as_ref().map(|m| m.value.clone()),
        count: r.count.unwrap_or(1),
        capture,
        now: r.now,
    })
}

impl Wait {
    #[must_use]
    fn plan_lines(&self, pc: &PlanCx<'_>) -> Vec<String> {
        let mut lines = vec![format!(
            "{} {} {}",
            if self.now { "check now that" } else { "wait until" },
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
            let c = c
                .map_expected(|v| Ok::<_, std::convert::Infallible>(pc.render_json(v)))
                .unwrap_or_else(|e| match e {});
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

impl StepKind for Wait {
    const NAME: &'static str = "wait";
    const SUMMARY: &'static str = "Wait for a condition on cluster state (by watch).";
    const NEEDS_CLUSTER: bool = true;
    const DRY_RUN: crate::model::action::DryRun = crate::model::action::DryRun::ServerSide;
    type Raw = RawWait;

    fn validate(
        v: &mut Validator,
        raw: &Spanned<RawWait>,
        vars: &BTreeSet<String>,
    ) -> Option<Self> {
        validate(v, raw, vars)
    }
}

impl Action for Wait {
    fn captures(&self) -> Vec<String> {
        self.capture.iter().map(|(v, _)| v.clone()).collect()
    }

    fn plan(&self, pc: &PlanCx<'_>) -> Result<Vec<String>, Diagnostic> {
        Ok(self.plan_lines(pc))
    }

    fn docs(&self, pc: &PlanCx<'_>, clusters: &[String]) -> Result<Docs, Diagnostic> {
        let commands = clusters
            .iter()
            .flat_map(|c| {
                self.kubectl_wait(c, pc)
                    .into_iter()
                    .map(move |l| DocsCommand::on(c, l))
            })
            .collect();
        Ok(Docs {
            commands,
            ..Docs::default()
        })
    }

    fn reader_view(&self, o: &Outcome, cx: &mut ReaderCx) -> Vec<String> {
        // The object it waited for, as `kubectl get -o name` prints it (the
        // outcome's message starts with the apiVersion and kind).
        let kind = o.message.split_whitespace().nth(1).unwrap_or("");
        o.details
            .iter()
            .filter_map(|d| d.strip_prefix("matched "))
            .map(|name| {
                cx.made.insert(name.to_owned());
                format!("{{=={}/{name}==}}", cx.type_name(kind))
            })
            .collect()
    }

    fn kinds(&self, pc: &PlanCx<'_>) -> Vec<KindRef> {
        KindRef::of(&pc.resource(&self.resource))
    }

    fn access(&self, pc: &PlanCx<'_>) -> Vec<Access> {
        vec![Access::of(&pc.resource(&self.resource), verbs::WATCH)]
    }

    fn run<'a>(&'a self, cx: &'a StepCx<'a>) -> BoxFuture<'a, Result<Done, StepError>> {
        Box::pin(self.execute(cx))
    }
}

impl Wait {
    /// The reader's wait: until the object exists (kubectl wait fails at once
    /// on a missing one), then `kubectl wait` where kubectl can express the
    /// condition; then the captures, as shell variables.
    fn kubectl_wait(&self, cluster: &str, pc: &PlanCx<'_>) -> Vec<String> {
        use crate::language::shell::word;
        use crate::model::check::{Predicate, Query};
        // What `kubectl wait --for=` can say of this step, if anything.
        let for_arg = if let Some((t, s, _)) = &self.condition {
            Some(format!("condition={}", word(&format!("{t}={s}"))))
        } else if let [c] = self.checks.as_slice()
            && let (Query::JsonPath(p), Predicate::Equals(v)) = (&c.query, &c.predicate)
        {
            let value = match pc.render_json(v) {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            let jp = super::kubectl::kubectl_jsonpath(p);
            Some(format!("jsonpath={}={}", word(&jp), word(&value)))
        } else {
            None
        };
        super::kubectl::wait_commands(
            cluster,
            &pc.resource(&self.resource),
            self.for_ == WaitFor::Deleted,
            for_arg.as_deref(),
            pc.timeout,
            &self.capture,
        )
    }
}
