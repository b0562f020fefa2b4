//! Executing a validated playbook: steps in order, fan-out per cluster,
//! retries, `when`, `finally`, captures. Builds the result tree; the
//! outputs and reports are formatters of it.

use std::time::Duration;

use serde_json::Map;
use tokio::time::Instant;

use super::interrupt::Interrupt;
use super::observer::Observer;
use super::result::{Outcome, PlaybookResult, Status, StepResult};
use super::selection::RunOptions;
use crate::cluster::Clusters;
use crate::language::scope::Captures;
use crate::language::template;
use crate::model::action::{Progress, StepCx, StepError};
use crate::model::playbook::Playbook;
use crate::model::step::Step;

/// Runs a validated playbook to the end (`finally` always runs).
pub async fn run_playbook(
    pb: &Playbook,
    opts: &RunOptions,
    observer: &dyn Observer,
) -> PlaybookResult {
    run_playbook_until(pb, opts, observer, &Interrupt::never()).await
}

/// [`run_playbook`], stopped early by `interrupt`.
pub async fn run_playbook_until(
    pb: &Playbook,
    opts: &RunOptions,
    observer: &dyn Observer,
    interrupt: &Interrupt,
) -> PlaybookResult {
    run_chapter(pb, opts, observer, interrupt, &Map::new())
        .await
        .0
}

/// [`run_playbook_until`] for a chapter of a tutorial: `imports` are the
/// values earlier chapters exported (read as captures); also returns what
/// this chapter exports (computed after its steps, before `finally`).
pub async fn run_chapter(
    pb: &Playbook,
    opts: &RunOptions,
    observer: &dyn Observer,
    interrupt: &Interrupt,
    imports: &Map<String, serde_json::Value>,
) -> (PlaybookResult, Map<String, serde_json::Value>) {
    let started = Instant::now();
    let env = template::environment();
    let clusters = super::preflight::clusters_of(pb, opts);
    let run = Run {
        pb,
        env: &env,
        clusters: &clusters,
        opts,
        progress: observer.progress(),
    };
    let mut state = Captures::default();
    state.global.clone_from(imports);
    let total = pb.steps.len() + pb.finally.len();
    let mut results = Vec::new();
    let mut stop = false;
    // Steps the selection left out: their captures are missing for later steps.
    let mut unselected: Vec<&Step> = Vec::new();
    for (i, step) in pb.steps.iter().enumerate() {
        if interrupt.count() > 0 {
            results.push(skipped(step, "interrupted", false));
            continue;
        }
        if stop {
            results.push(skipped(step, "an earlier step failed", false));
            continue;
        }
        if let Some(why) = opts.selection.excluded(&pb.steps, i) {
            results.push(skipped(step, &why, false));
            unselected.push(step);
            continue;
        }
        observer.step_started(&pb.name, i + 1, total, step);
        let mut r = tokio::select! {
            r = run_step(&run, step, &mut state, false) => r,
            () = interrupt.reached(1) => interrupted(step, false),
        };
        explain_missing_captures(&mut r, &unselected, &state);
        explain_missing_imports(&mut r, pb, &state);
        r.sanitize(&pb.secrets);
        observer.step_finished(&pb.name, &r);
        if r.status.is_failure() && !step.options.continue_on_error {
            stop = true;
        }
        results.push(r);
    }
    let exports = exports(pb, &env, &state);
    for (i, step) in pb.finally.iter().enumerate() {
        if interrupt.count() > 1 {
            results.push(skipped(step, "interrupted twice: finally skipped", true));
            continue;
        }
        observer.step_started(&pb.name, pb.steps.len() + i + 1, total, step);
        let mut r = tokio::select! {
            r = run_step(&run, step, &mut state, true) => r,
            () = interrupt.reached(2) => interrupted(step, true),
        };
        r.sanitize(&pb.secrets);
        observer.step_finished(&pb.name, &r);
        results.push(r);
    }
    // Steps marked continueOnError are reported but do not decide the verdict.
    let tolerated = |name: &str| {
        pb.steps
            .iter()
            .chain(&pb.finally)
            .any(|s| s.name == name && s.options.continue_on_error)
    };
    let status = results
        .iter()
        .filter(|r| r.status != Status::Skipped && !tolerated(&r.name))
        .map(|r| r.status)
        .max()
        .unwrap_or(Status::Passed);
    let result = PlaybookResult {
        name: pb.name.clone(),
        path: pb.source.name.clone(),
        status,
        interrupted: interrupt.count() > 0,
        duration: started.elapsed(),
        steps: results,
        chapter: pb.chapter.clone(),
    };
    (result, exports)
}

/// What a chapter exports, from its captures and vars after its steps; a
/// value that does not render (its capture is missing) is not exported.
fn exports(
    pb: &Playbook,
    env: &minijinja::Environment<'static>,
    state: &Captures,
) -> Map<String, serde_json::Value> {
    if pb.exports.is_empty() {
        return Map::new();
    }
    let ctx = pb
        .scope
        .step(&std::collections::BTreeMap::new(), None, state);
    pb.exports
        .iter()
        .filter_map(|(name, t)| {
            template::render_value(env, t, &ctx)
                .ok()
                .map(|v| (name.clone(), v))
        })
        .collect()
}

/// A step that failed on an undefined value an earlier chapter exports,
/// when that value is missing (the chapter runs alone, or that chapter did
/// not run first): say which chapter gives it.
fn explain_missing_imports(r: &mut StepResult, pb: &Playbook, state: &Captures) {
    for o in r.outcomes.iter_mut().filter(|o| o.status.is_failure()) {
        if !o.message.contains("undefined") {
            continue;
        }
        for i in pb
            .imports
            .iter()
            .filter(|i| !state.global.contains_key(&i.name) && !pb.vars.contains_key(&i.name))
        {
            o.details.push(format!(
                "`{}` is exported by chapter `{}` ({}), which did not give it in this run (it did not run first, or its value did not render): run the tutorial, or give it with --var {}=VALUE",
                i.name, i.chapter, i.at, i.name
            ));
        }
    }
}

/// A step that failed on an undefined value that a step the selection left
/// out would have captured: say which step, and how to include it.
fn explain_missing_captures(r: &mut StepResult, unselected: &[&Step], state: &Captures) {
    for o in r.outcomes.iter_mut().filter(|o| o.status.is_failure()) {
        if !o.message.contains("undefined") {
            continue;
        }
        for s in unselected {
            for name in s.action.captures() {
                if !state.global.contains_key(&name) {
                    o.details.push(format!(
                        "`{name}` is captured by step `{}`, which the step selection left out: start at it (--from {}) or select it (--only {})",
                        s.name, s.name, s.name
                    ));
                }
            }
        }
    }
}

fn skipped(step: &Step, why: &str, finally: bool) -> StepResult {
    StepResult::skipped(step, why, finally)
}

fn interrupted(step: &Step, finally: bool) -> StepResult {
    let mut r = skipped(step, "", finally);
    r.status = Status::Errored;
    r.outcomes[0].status = Status::Errored;
    r.outcomes[0].message = "interrupted (SIGINT/SIGTERM); in-flight requests abandoned".to_owned();
    r
}

/// What every step of one playbook's run shares.
struct Run<'a> {
    pb: &'a Playbook,
    env: &'a minijinja::Environment<'static>,
    clusters: &'a Clusters,
    opts: &'a RunOptions,
    /// Where steps show their progress (the observer's).
    progress: &'a dyn Progress,
}

async fn run_step(run: &Run<'_>, step: &Step, state: &mut Captures, finally: bool) -> StepResult {
    let Run { pb, env, .. } = *run;
    let started = Instant::now();
    if let Some((expr, _)) = &step.options.when {
        let ctx = pb.scope.step(&step.vars, None, state);
        match template::eval_condition(env, expr, &ctx) {
            Ok(true) => {}
            Ok(false) => return skipped(step, &format!("`when: {expr}` is false"), finally),
            Err(e) => {
                let mut r = skipped(step, "", finally);
                r.status = Status::Errored;
                r.outcomes[0].status = Status::Errored;
                r.outcomes[0].message = format!("cannot evaluate `when: {expr}`: {}", e.message);
                return r;
            }
        }
    }
    // The timeout bounds the whole step: every attempt and every delay.
    let deadline = started + step.options.timeout;
    let policy = &step.options.retry;
    let mut attempt = 0;
    let mut delay = policy.delay;
    let outcomes = loop {
        attempt += 1;
        let outcomes = attempt_step(run, step, state, deadline).await;
        let ok = outcomes.iter().all(|o| o.status == Status::Passed);
        let left = deadline.saturating_duration_since(Instant::now());
        if ok || attempt >= policy.attempts || left <= delay {
            break outcomes;
        }
        tokio::time::sleep(delay).await;
        if policy.backoff {
            delay = delay.saturating_mul(2);
        }
    };
    // Captures: per cluster, and globally (one cluster's value; the first target's when several).
    let mut first = true;
    for o in &outcomes {
        if o.status != Status::Passed {
            continue;
        }
        if let Some(c) = &o.cluster {
            let m = state.per_cluster.entry(c.clone()).or_default();
            for (k, v) in &o.captures {
                m.insert(k.clone(), v.clone());
            }
        }
        if first {
            for (k, v) in &o.captures {
                state.global.insert(k.clone(), v.clone());
            }
            first = false;
        }
    }
    let status = outcomes
        .iter()
        .map(|o| o.status)
        .max()
        .unwrap_or(Status::Passed);
    StepResult {
        name: step.name.clone(),
        kind: step.kind.name,
        status,
        duration: started.elapsed(),
        attempts: attempt,
        outcomes,
        finally,
    }
}

async fn attempt_step(
    run: &Run<'_>,
    step: &Step,
    state: &Captures,
    deadline: Instant,
) -> Vec<Outcome> {
    let Run {
        pb,
        env,
        clusters,
        opts,
        progress,
    } = *run;
    let context = |conn, cluster: Option<&str>| StepCx {
        conn,
        ctx: pb.scope.step(&step.vars, cluster, state),
        env,
        deadline,
        dry_run: opts.dry_run,
        interactive: opts.interactive,
        allow_exec: opts.allow_exec,
        dir: &pb.dir,
        file: &pb.source.name,
        progress,
    };
    if !step.kind.needs_cluster {
        return vec![timed(None, step, &context(None, None)).await];
    }
    let futs = step.options.clusters.iter().map(|c| {
        let context = &context;
        async move {
            let started = Instant::now();
            // One spinner per cluster of a fanned-out step, on terminals.
            let _spinner = (step.options.clusters.len() > 1)
                .then(|| progress.spinner(&format!("  {c}: {}", doing(step, env, state, pb, c))));
            let conn = match clusters.get(c).await {
                Ok(conn) => conn,
                Err(e) => return errored(Some(c.clone()), e.to_string(), started.elapsed()),
            };
            timed(Some(c.clone()), step, &context(Some(conn), Some(c))).await
        }
    });
    futures::future::join_all(futs).await
}

/// What a step is doing on a cluster, for its spinner: the first line of
/// its plan and the time it has ("wait until ... exists (timeout 2m)").
fn doing(
    step: &Step,
    env: &minijinja::Environment<'static>,
    state: &Captures,
    pb: &Playbook,
    cluster: &str,
) -> String {
    let pc =
        crate::model::action::PlanCx::new(env, pb.scope.step(&step.vars, Some(cluster), state));
    let what = step
        .action
        .plan(&pc)
        .ok()
        .and_then(|lines| lines.into_iter().next())
        .unwrap_or_else(|| step.kind.name.to_owned());
    format!(
        "{what} (timeout {})",
        humantime::format_duration(step.options.timeout)
    )
}

fn errored(cluster: Option<String>, message: String, duration: Duration) -> Outcome {
    Outcome {
        cluster,
        status: Status::Errored,
        message,
        details: Vec::new(),
        duration,
        captures: Map::new(),
        data: None,
        checks: Vec::new(),
    }
}

/// A step `--dry-run` does not run: what it would do, from its plan, and
/// placeholders for what it would capture (so later steps still render).
fn not_run(cluster: Option<String>, step: &Step, cx: &StepCx<'_>) -> Outcome {
    let pc = crate::model::action::PlanCx::new(cx.env, cx.ctx.clone());
    let details = match step.action.plan(&pc) {
        Ok(lines) => lines
            .into_iter()
            .map(|l| format!("would run: {l}"))
            .collect(),
        Err(d) => vec![format!(
            "would run (its plan does not render: {})",
            d.message
        )],
    };
    let captures = step
        .action
        .captures()
        .into_iter()
        .map(|name| {
            let value = serde_json::Value::String(format!("(dry run: {name} not captured)"));
            (name, value)
        })
        .collect();
    Outcome {
        cluster,
        status: Status::Passed,
        message: format!(
            "dry run: not run ({} steps do nothing under --dry-run)",
            step.kind.name
        ),
        details,
        duration: Duration::ZERO,
        captures,
        data: None,
        checks: Vec::new(),
    }
}

async fn timed(cluster: Option<String>, step: &Step, cx: &StepCx<'_>) -> Outcome {
    if cx.dry_run && step.kind.dry_run == crate::model::action::DryRun::NotRun {
        return not_run(cluster, step, cx);
    }
    let started = Instant::now();
    // The action bounds its own waits by the deadline; this guard makes sure
    // nothing runs past it.
    let guard = cx.left() + Duration::from_millis(500);
    let r = match tokio::time::timeout(guard, step.action.run(cx)).await {
        Ok(r) => r,
        Err(_) => Err(StepError::Errored(format!(
            "timed out after {}",
            humantime::format_duration(step.options.timeout)
        ))),
    };
    let duration = started.elapsed();
    match r {
        Ok(done) => Outcome {
            cluster,
            status: Status::Passed,
            message: done.message,
            details: done.details,
            duration,
            captures: done.captures,
            data: done.data,
            checks: Vec::new(),
        },
        Err(StepError::Failed {
            message,
            details,
            data,
            checks,
        }) => Outcome {
            cluster,
            status: Status::Failed,
            message,
            details,
            duration,
            captures: Map::new(),
            data,
            checks,
        },
        Err(StepError::Errored(message)) => errored(cluster, message, duration),
        Err(StepError::Incomplete {
            message,
            details,
            data,
        }) => Outcome {
            details,
            data,
            ..errored(cluster, message, duration)
        },
    }
}
