//! `wait`: wait (by watch) until objects satisfy a condition.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use futures::future::BoxFuture;

use crate::language::diag::Diagnostic;
use crate::model::action::{Action, Docs, KindRef, DocsCommand, PlanCx, StepKind, Outcome, ReaderCx};
use crate::model::resource::{NameMatch, RawResource, Resource};
use crate::model::check::{Check, RawCheck};
use crate::model::validator::Validator;
use crate::language::yaml::Spanned;

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
        cx.template_json(m, raw.loc, extra);
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
        match_: r.match_.clone(),
        count: r.count.unwrap_or(1),
        capture,
    })
}

impl Wait {
    #[must_use]
    fn plan_lines(&self, pc: &PlanCx<'_>) -> Vec<String> {
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

// ---------------------------------------------------------------------------
// Run
// ---------------------------------------------------------------------------

use std::collections::BTreeMap as Store;

use futures::StreamExt as _;
use kube::api::DynamicObject;
use kube::runtime::{WatchStreamExt as _, watcher};

use crate::model::check::{CheckResult, Compiled, expected_text, holds, subset_mismatches};
use crate::model::action::{Done, StepCx, StepError};

/// Checks prepared for one run: templates rendered, paths compiled.
struct Prepared {
    checks: Vec<(Compiled, Check)>,
    match_: Option<serde_json::Value>,
}

impl Wait {
    /// Watches the selected objects until the condition holds or the step
    /// times out; on timeout, reports the last observed state and what differed.
    ///
    /// # Errors
    /// Failed: the condition did not hold in time. Errored: cluster errors.
    async fn execute(&self, cx: &StepCx<'_>) -> Result<Done, StepError> {
        let conn = cx.conn()?.clone();
        let r = cx.resource(&self.resource)?;
        let prepared = Prepared {
            checks: self
                .checks
                .iter()
                .map(|c| {
                    let q = match &c.query {
                        crate::model::check::Query::JsonPath(p) | crate::model::check::Query::Value(p) => {
                            Compiled::new(p).map_err(StepError::Errored)?
                        }
                    };
                    Ok((q, cx.render_check(c)?))
                })
                .collect::<Result<_, StepError>>()?,
            match_: self
                .match_
                .as_ref()
                .map(|m| cx.render_json(m))
                .transpose()?,
        };
        let kind = conn.kind(&r.api_version, &r.kind, cx.deadline).await?;
        let api = conn.api(&kind, r.namespace.as_deref());
        let mut cfg = watcher::Config::default();
        if let Some(l) = &r.labels {
            cfg = cfg.labels(l);
        }
        if let NameMatch::Exact(n) = &r.name {
            cfg = cfg.fields(&format!("metadata.name={n}"));
        }
        let goal = format!(
            "{r} {}",
            if self.for_ == WaitFor::Deleted {
                "is deleted"
            } else {
                "exists"
            }
        );
        if cx.dry_run {
            // A dry run changed nothing, so waiting for its effects would only time out.
            let mut details = vec![format!("would wait until {goal}")];
            details.extend(self.plan_lines(&PlanCx::new(cx.env, cx.ctx.clone())).into_iter().skip(1));
            return Ok(Done {
                message: format!("dry run: not waiting until {goal}"),
                details,
                ..Done::default()
            });
        }
        let stream = watcher(api, cfg).default_backoff();
        futures::pin_mut!(stream);
        let mut store: Store<(String, String), DynamicObject> = Store::new();
        let mut init: Store<(String, String), DynamicObject> = Store::new();
        let mut synced = false;
        let mut last = String::from("no answer from the API server yet");
        let mut last_details: Vec<String> = Vec::new();
        let mut last_checks: Vec<CheckResult> = Vec::new();
        let mut last_error: Option<String> = None;
        loop {
            let next = match tokio::time::timeout(cx.left(), stream.next()).await {
                Ok(Some(ev)) => ev,
                Ok(None) => {
                    return Err(StepError::Errored(format!(
                        "{}: the watch ended unexpectedly",
                        conn.name
                    )));
                }
                Err(_) => {
                    let mut details = vec![format!("last observed: {last}")];
                    details.extend(last_details);
                    if let Some(e) = last_error {
                        return Err(StepError::Errored(format!(
                            "timed out waiting until {goal}; last error: {e}"
                        )));
                    }
                    // Say which part did not hold: the object is there, a condition is not.
                    let why = details
                        .iter()
                        .skip(1)
                        .find(|d| d.starts_with("  ") && !d.trim_start().starts_with("state:"))
                        .map(|d| format!(": it exists, but {}", d.trim()))
                        .unwrap_or_default();
                    return Err(StepError::failed(
                        format!("timed out waiting until {goal}{why}"),
                        details,
                    )
                    .with_checks(last_checks));
                }
            };
            let key = |o: &DynamicObject| {
                (
                    o.metadata.namespace.clone().unwrap_or_default(),
                    o.metadata.name.clone().unwrap_or_default(),
                )
            };
            match next {
                Ok(watcher::Event::Init) => init.clear(),
                Ok(watcher::Event::InitApply(o)) => {
                    init.insert(key(&o), o);
                }
                Ok(watcher::Event::InitDone) => {
                    store = std::mem::take(&mut init);
                    synced = true;
                    last_error = None;
                }
                Ok(watcher::Event::Apply(o)) => {
                    store.insert(key(&o), o);
                }
                Ok(watcher::Event::Delete(o)) => {
                    store.remove(&key(&o));
                }
                Err(e) => {
                    let msg = e.to_string();
                    if msg.contains("403") || msg.to_lowercase().contains("forbidden") {
                        return Err(StepError::Errored(format!(
                            "{}: forbidden by RBAC while watching {r}: {msg}",
                            conn.name
                        )));
                    }
                    tracing::debug!(cluster = %conn.name, error = %msg, "watch error; the watcher retries");
                    last_error = Some(format!("{}: {msg}", conn.name));
                    continue;
                }
            }
            if !synced {
                continue;
            }
            last_checks = self.failed_checks(&r, &store, &prepared, cx.file);
            match self.evaluate(&r, &store, &prepared) {
                Ok(obj) => {
                    let captures = match obj {
                        Some(o) => {
                            let v = serde_json::to_value(o).unwrap_or_default();
                            let label = super::common::describe(
                                &r.kind,
                                o.metadata.namespace.as_deref(),
                                o.metadata.name.as_deref().unwrap_or(""),
                            );
                            super::common::capture(&v, &self.capture, &label)?
                        }
                        None => serde_json::Map::new(),
                    };
                    let mut details: Vec<String> = captures
                        .iter()
                        .map(|(k, v)| format!("captured {k} = {v}"))
                        .collect();
                    if let Some(o) = obj {
                        details.insert(
                            0,
                            format!("matched {}", o.metadata.name.as_deref().unwrap_or("")),
                        );
                    }
                    return Ok(Done {
                        message: format!("{goal}: yes"),
                        details,
                        captures,
                        data: None,
                    });
                }
                Err((summary, details)) => {
                    last = summary;
                    last_details = details;
                }
            }
        }
    }

    /// `Ok(Some(obj))`: satisfied (the first matching object); `Ok(None)`:
    /// satisfied by absence; `Err`: what is observed and what differs.
    fn evaluate<'s>(
        &self,
        r: &Resource,
        store: &'s Store<(String, String), DynamicObject>,
        p: &Prepared,
    ) -> Result<Option<&'s DynamicObject>, (String, Vec<String>)> {
        let matching: Vec<&DynamicObject> = store
            .values()
            .filter(|o| {
                r.name
                    .matches(o.metadata.name.as_deref().unwrap_or_default())
            })
            .collect();
        let names = |v: &[&DynamicObject]| {
            v.iter()
                .map(|o| o.metadata.name.clone().unwrap_or_default())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if self.for_ == WaitFor::Deleted {
            if matching.is_empty() {
                return Ok(None);
            }
            return Err((format!("still present: {}", names(&matching)), Vec::new()));
        }
        if matching.is_empty() {
            let others: Vec<&DynamicObject> = store.values().collect();
            let seen = if others.is_empty() {
                String::new()
            } else {
                format!(" (present: {})", names(&others))
            };
            return Err((format!("no matching {}{seen}", r.kind), Vec::new()));
        }
        let mut satisfied = Vec::new();
        let mut details = Vec::new();
        for o in &matching {
            let problems = self.problems(o, p);
            if problems.is_empty() {
                satisfied.push(*o);
            } else {
                let v = serde_json::to_value(o).unwrap_or_default();
                details.push(format!("{}:", o.metadata.name.as_deref().unwrap_or("")));
                details.extend(problems.iter().map(|x| format!("  {x}")));
                let mut shown = serde_json::Map::new();
                for k in ["spec", "status", "data"] {
                    if let Some(x) = v.get(k) {
                        shown.insert(k.into(), x.clone());
                    }
                }
                details.push(format!(
                    "  state: {}",
                    super::common::truncate_json(&serde_json::Value::Object(shown), 800)
                ));
            }
        }
        if satisfied.len() >= self.count as usize {
            return Ok(satisfied.first().copied());
        }
        let summary = if matching.len() == 1 {
            "the matching object does not satisfy the conditions".to_owned()
        } else {
            format!(
                "{} of {} matching objects satisfy the conditions ({} needed)",
                satisfied.len(),
                matching.len(),
                self.count
            )
        };
        Err((summary, details))
    }

    /// The JSONPath checks that do not hold on the matching objects, located
    /// in the playbook, with the value found.
    fn failed_checks(
        &self,
        r: &Resource,
        store: &Store<(String, String), DynamicObject>,
        p: &Prepared,
        file: &str,
    ) -> Vec<CheckResult> {
        let mut out = Vec::new();
        for o in store
            .values()
            .filter(|o| r.name.matches(o.metadata.name.as_deref().unwrap_or_default()))
        {
            let v = serde_json::to_value(o).unwrap_or_default();
            for (q, c) in &p.checks {
                let actual = q.select(&v);
                if !holds(c, actual.as_ref()) {
                    out.push(c.result(file, false, actual));
                }
            }
        }
        out
    }

    fn problems(&self, o: &DynamicObject, p: &Prepared) -> Vec<String> {
        let v = serde_json::to_value(o).unwrap_or_default();
        let mut out = Vec::new();
        if let Some((t, s, reason)) = &self.condition {
            let conds = v["status"]["conditions"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let found = conds.iter().find(|c| c["type"] == t.as_str());
            let ok = found.is_some_and(|c| {
                c["status"] == s.as_str()
                    && reason.as_ref().is_none_or(|r| c["reason"] == r.as_str())
            });
            if !ok {
                let observed: Vec<String> = conds
                    .iter()
                    .map(|c| {
                        format!(
                            "{}={}",
                            c["type"].as_str().unwrap_or("?"),
                            c["status"].as_str().unwrap_or("?")
                        )
                    })
                    .collect();
                out.push(format!(
                    "condition {t}={s}{}: observed {}",
                    reason
                        .as_ref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default(),
                    if observed.is_empty() {
                        "no conditions".to_owned()
                    } else {
                        observed.join(", ")
                    }
                ));
            }
        }
        for (q, c) in &p.checks {
            let actual = q.select(&v);
            let verdict = crate::model::check::evaluate(c, actual.as_ref());
            if verdict != Ok(true) {
                let why = verdict.err().map(|e| format!(" ({e})")).unwrap_or_default();
                out.push(format!(
                    "{}: expected {}, found {}{why}",
                    match &c.query {
                        crate::model::check::Query::JsonPath(x) | crate::model::check::Query::Value(x) => x,
                    },
                    expected_text(&c.predicate),
                    actual.map_or_else(|| "nothing".to_owned(), |a| crate::language::limits::excerpt(&a.to_string()))
                ));
            }
        }
        if let Some(m) = &p.match_ {
            out.extend(subset_mismatches(m, &v));
        }
        out
    }
}

impl StepKind for Wait {
    const NAME: &'static str = "wait";
    const SUMMARY: &'static str = "Wait for a condition on cluster state (by watch).";
    const NEEDS_CLUSTER: bool = true;
    const DRY_RUN: crate::model::action::DryRun = crate::model::action::DryRun::ServerSide;
    type Raw = RawWait;

    fn validate(v: &mut Validator, raw: &Spanned<RawWait>, vars: &BTreeSet<String>) -> Option<Self> {
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
