//! `scenario plan`: what a run would do, without contacting any cluster.

use std::fmt::Write as _;

use crate::diag::Diagnostic;
use crate::model::{Playbook, Step};
use crate::steps::PlanCx;
use crate::template;

/// Renders the plan of a validated playbook.
///
/// # Errors
/// A manifest that fails to render with the values known before the run.
pub fn render(pb: &Playbook, static_ctx: &serde_json::Value) -> Result<String, Diagnostic> {
    let env = template::environment();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "plan: {}{} ({})",
        pb.name,
        pb.title
            .as_ref()
            .map(|t| format!(" — {t}"))
            .unwrap_or_default(),
        pb.source.name
    );
    if !pb.clusters.is_empty() {
        let _ = writeln!(out, "clusters:");
        let width = pb.clusters.keys().map(String::len).max().unwrap_or(0);
        for (name, _) in &pb.clusters {
            let ctx = static_ctx
                .get("clusters")
                .and_then(|c| c.get(name))
                .and_then(|c| c.get("context"))
                .and_then(|c| c.as_str())
                .unwrap_or("?");
            let _ = writeln!(out, "  {name:<width$}  context {ctx}");
        }
    }
    let captured = captured_names(pb);
    for (label, steps, offset) in [
        ("steps", &pb.steps, 0),
        ("finally", &pb.finally, pb.steps.len()),
    ] {
        if steps.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{label}:");
        for (i, step) in steps.iter().enumerate() {
            step_plan(&mut out, &env, static_ctx, &captured, offset + i + 1, step)?;
        }
    }
    Ok(out)
}

fn step_plan(
    out: &mut String,
    env: &minijinja::Environment<'static>,
    static_ctx: &serde_json::Value,
    captured: &[String],
    n: usize,
    step: &Step,
) -> Result<(), Diagnostic> {
    let o = &step.options;
    let mut head = format!("{n:>3}. {} [{}]", step.name, step.action.kind());
    if !o.clusters.is_empty() {
        let _ = write!(head, " on {}", o.clusters.join(", "));
    }
    let _ = write!(head, " (timeout {}", humantime::format_duration(o.timeout));
    if o.retry.attempts > 1 {
        let _ = write!(head, ", {} attempts", o.retry.attempts);
    }
    if o.continue_on_error {
        head.push_str(", continue on error");
    }
    head.push(')');
    if let Some((w, _)) = &o.when {
        let _ = write!(head, " when {w}");
    }
    let _ = writeln!(out, "{head}");
    let ctx = step_context(static_ctx, captured, step);
    let pc = PlanCx { env, ctx };
    for line in step.action.plan(&pc)? {
        let _ = writeln!(out, "       {line}");
    }
    Ok(())
}

/// The template context of a step before anything ran: captured values are
/// `<name>` placeholders, the step's vars apply, `cluster` is its first target.
#[must_use]
pub fn step_context(
    static_ctx: &serde_json::Value,
    captured: &[String],
    step: &Step,
) -> serde_json::Value {
    let o = &step.options;
    let mut ctx = static_ctx.clone();
    if let Some(obj) = ctx.as_object_mut() {
        let mut per_cluster = serde_json::Map::new();
        for c in captured {
            obj.insert(c.clone(), serde_json::Value::String(format!("<{c}>")));
            per_cluster.insert(c.clone(), serde_json::Value::String(format!("<{c}>")));
        }
        // `captures.<cluster>.<name>`: the same placeholders on every cluster.
        if let Some(clusters) = static_ctx.get("clusters").and_then(|c| c.as_object()) {
            let caps: serde_json::Map<String, serde_json::Value> = clusters
                .keys()
                .map(|k| (k.clone(), serde_json::Value::Object(per_cluster.clone())))
                .collect();
            obj.insert("captures".into(), serde_json::Value::Object(caps));
        }
        for (k, v) in &step.vars {
            obj.insert(k.clone(), v.clone());
        }
        if let Some(first) = o.clusters.first()
            && let Some(c) = static_ctx.get("clusters").and_then(|c| c.get(first))
        {
            obj.insert("cluster".into(), c.clone());
        }
    }
    ctx
}

/// Names of every variable some step captures (shown as `<name>` in plans).
#[must_use]
pub fn captured_names(pb: &Playbook) -> Vec<String> {
    use crate::steps::Action;
    let mut names = Vec::new();
    for s in pb.steps.iter().chain(&pb.finally) {
        match &s.action {
            Action::Get(g) => names.extend(g.capture.iter().map(|(v, _)| v.clone())),
            Action::Wait(w) => names.extend(w.capture.iter().map(|(v, _)| v.clone())),
            Action::Exec(e) => names.extend(e.capture_stdout.clone()),
            _ => {}
        }
    }
    names
}
