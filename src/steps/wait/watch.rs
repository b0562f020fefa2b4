//! Running a `wait`: watch the selected objects, judge every change, and on
//! timeout report the last observed state and what differed.

use std::collections::BTreeMap as Store;

use futures::StreamExt as _;
use kube::api::DynamicObject;
use kube::runtime::{WatchStreamExt as _, watcher};

use super::{Wait, WaitFor};
use crate::model::action::{Done, PlanCx, StepCx, StepError};
use crate::model::check::{CheckResult, expected_text, subset_mismatches};
use crate::model::object_check::ObjectCheck;
use crate::model::resource::{NameMatch, Resource};

/// What was observed when the objects do not satisfy the wait (yet).
struct Observed {
    summary: String,
    details: Vec<String>,
    /// The first thing that did not hold on an object that exists.
    first_problem: Option<String>,
}

impl Observed {
    fn plain(summary: String) -> Self {
        Observed {
            summary,
            details: Vec::new(),
            first_problem: None,
        }
    }
}

/// Checks prepared for one run: templates rendered, paths compiled.
struct Prepared {
    checks: Vec<ObjectCheck>,
    match_: Option<serde_json::Value>,
}

impl Wait {
    /// Watches the selected objects until the condition holds or the step
    /// times out; on timeout, reports the last observed state and what differed.
    ///
    /// # Errors
    /// Failed: the condition did not hold in time. Errored: cluster errors.
    pub(super) async fn execute(&self, cx: &StepCx<'_>) -> Result<Done, StepError> {
        let conn = cx.conn()?.clone();
        let r = cx.resource(&self.resource)?;
        let prepared = self.prepare(cx)?;
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
        if cx.dry_run && !self.now {
            // A dry run changed nothing, so waiting for its effects would only time out
            // (a check of the state as it is now still reads it).
            let mut details = vec![format!("would wait until {goal}")];
            details.extend(
                self.plan_lines(&PlanCx::new(cx.env, cx.ctx.clone()))
                    .into_iter()
                    .skip(1),
            );
            return Ok(Done {
                message: format!("dry run: not waiting until {goal}"),
                details,
                ..Done::default()
            });
        }
        let stream = watcher(api, cfg).backoff(crate::cluster::RetryBackoff::default());
        futures::pin_mut!(stream);
        let mut store: Store<(String, String), DynamicObject> = Store::new();
        let mut init: Store<(String, String), DynamicObject> = Store::new();
        let mut synced = false;
        let mut last = Observed::plain("no answer from the API server yet".to_owned());
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
                Err(_) => return Err(timed_out(&goal, last, last_error, last_checks)),
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
                Ok(obj) => return self.satisfied(&r, obj, &goal),
                // `now: true`: the first full view of the objects decides.
                Err(observed) if self.now => return Err(not_now(&goal, observed, last_checks)),
                Err(observed) => last = observed,
            }
        }
    }

    /// The checks with their templates rendered and paths compiled.
    fn prepare(&self, cx: &StepCx<'_>) -> Result<Prepared, StepError> {
        Ok(Prepared {
            checks: self
                .checks
                .iter()
                .map(|c| ObjectCheck::new(cx.render_check(c)?).map_err(StepError::Errored))
                .collect::<Result<_, StepError>>()?,
            match_: self
                .match_
                .as_ref()
                .map(|m| cx.render_json(m))
                .transpose()?,
        })
    }

    /// The step passes: the matching object and what it captured.
    fn satisfied(
        &self,
        r: &Resource,
        obj: Option<&DynamicObject>,
        goal: &str,
    ) -> Result<Done, StepError> {
        let captures = match obj {
            Some(o) => {
                let v = serde_json::to_value(o).unwrap_or_default();
                let label = super::super::common::describe(
                    &r.kind,
                    o.metadata.namespace.as_deref(),
                    o.metadata.name.as_deref().unwrap_or(""),
                );
                super::super::common::capture(&v, &self.capture, &label)?
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
        Ok(Done {
            message: format!("{goal}: yes"),
            details,
            captures,
            data: None,
        })
    }

    /// `Ok(Some(obj))`: satisfied (the first matching object); `Ok(None)`:
    /// satisfied by absence; `Err`: what is observed and what differs.
    fn evaluate<'s>(
        &self,
        r: &Resource,
        store: &'s Store<(String, String), DynamicObject>,
        p: &Prepared,
    ) -> Result<Option<&'s DynamicObject>, Observed> {
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
            return Err(Observed::plain(format!(
                "still present: {}",
                names(&matching)
            )));
        }
        if matching.is_empty() {
            let others: Vec<&DynamicObject> = store.values().collect();
            let seen = if others.is_empty() {
                String::new()
            } else {
                format!(" (present: {})", names(&others))
            };
            return Err(Observed::plain(format!("no matching {}{seen}", r.kind)));
        }
        let mut satisfied = Vec::new();
        let mut details = Vec::new();
        let mut first_problem = None;
        for o in &matching {
            let problems = self.problems(o, p);
            if first_problem.is_none() {
                first_problem = problems.first().cloned();
            }
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
                    super::super::common::truncate_json(&serde_json::Value::Object(shown), 800)
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
        Err(Observed {
            summary,
            details,
            first_problem,
        })
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
        for o in store.values().filter(|o| {
            r.name
                .matches(o.metadata.name.as_deref().unwrap_or_default())
        }) {
            let v = serde_json::to_value(o).unwrap_or_default();
            for c in &p.checks {
                let (actual, verdict) = c.judge(&v);
                if verdict != Ok(true) {
                    out.push(c.check.result(file, false, actual));
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
        for oc in &p.checks {
            let c = &oc.check;
            let (actual, verdict) = oc.judge(&v);
            if verdict != Ok(true) {
                let why = verdict.err().map(|e| format!(" ({e})")).unwrap_or_default();
                out.push(format!(
                    "{}: expected {}, found {}{why}",
                    match &c.query {
                        crate::model::check::Query::JsonPath(x)
                        | crate::model::check::Query::Value(x) => x,
                    },
                    expected_text(&c.predicate),
                    actual.map_or_else(
                        || "nothing".to_owned(),
                        |a| crate::language::limits::excerpt(&a.to_string())
                    )
                ));
            }
        }
        if let Some(m) = &p.match_ {
            out.extend(subset_mismatches(m, &v));
        }
        out
    }
}

/// The step's failure when its time is up: what was observed last and the
/// first thing that did not hold (or the last error, when the watch failed).
/// `now: true` and the condition does not hold on the current state: what
/// was found, at once.
fn not_now(goal: &str, found: Observed, checks: Vec<CheckResult>) -> StepError {
    let why = match &found.first_problem {
        Some(p) => format!(": it exists, but {p}"),
        None => format!(": found {}", found.summary),
    };
    let mut details = vec![format!("found: {}", found.summary)];
    details.extend(found.details);
    StepError::failed(format!("checked now whether {goal}{why}"), details).with_checks(checks)
}

fn timed_out(
    goal: &str,
    last: Observed,
    last_error: Option<String>,
    checks: Vec<CheckResult>,
) -> StepError {
    if let Some(e) = last_error {
        return StepError::Errored(format!("timed out waiting until {goal}; last error: {e}"));
    }
    let mut details = vec![format!("last observed: {}", last.summary)];
    details.extend(last.details);
    // Say which part did not hold: the object is there, a condition is not.
    let why = last
        .first_problem
        .map(|p| format!(": it exists, but {p}"))
        .unwrap_or_default();
    StepError::failed(format!("timed out waiting until {goal}{why}"), details).with_checks(checks)
}
