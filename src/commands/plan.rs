//! `scenario plan`: what a run would do, without contacting any cluster.

use std::fmt::Write as _;

use std::path::{Path, PathBuf};

use super::args::Inputs;
use super::common::{Loaded, emit, expand, load_any, load_options};
use crate::language::diag::Diagnostic;
use crate::language::template;
use crate::model::action::PlanCx;
use crate::model::exit;
use crate::model::playbook::Playbook;
use crate::model::step::Step;

/// Renders the plan of a validated playbook.
///
/// # Errors
/// A manifest that fails to render with the values known before the run.
pub fn render(pb: &Playbook) -> Result<String, Diagnostic> {
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
            let ctx = pb.scope.context_of(name).unwrap_or("?");
            let _ = writeln!(out, "  {name:<width$}  context {ctx}");
        }
    }
    for (label, steps, offset) in [
        ("steps", &pb.steps, 0),
        ("finally", &pb.finally, pb.steps.len()),
    ] {
        if steps.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{label}:");
        for (i, step) in steps.iter().enumerate() {
            step_plan(&mut out, &env, pb, offset + i + 1, step)?;
        }
    }
    Ok(out)
}

fn step_plan(
    out: &mut String,
    env: &minijinja::Environment<'static>,
    pb: &Playbook,
    n: usize,
    step: &Step,
) -> Result<(), Diagnostic> {
    let o = &step.options;
    let mut head = format!("{n:>3}. {} [{}]", step.name, step.kind.name);
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
    let pc = PlanCx::shared(env, pb.preview(step));
    for line in step.action.plan(&pc)? {
        let _ = writeln!(out, "       {line}");
    }
    Ok(())
}

/// `scenario plan PLAYBOOK|DIR... [-o FILE]`: the plans, one after the other.
pub fn plan(paths: &[PathBuf], output: Option<&Path>, inputs: &Inputs) -> i32 {
    let opts = load_options(inputs);
    let (files, diags) = expand(paths);
    if !diags.is_empty() {
        crate::stdio::diagnostics(&diags);
        return exit::INVALID;
    }
    let mut text = String::new();
    for path in &files {
        let loaded = match load_any(path, &opts) {
            Ok(l) => l,
            Err(diags) => {
                crate::stdio::diagnostics(&diags);
                return exit::INVALID;
            }
        };
        if let Loaded::Tutorial(t) = &loaded {
            if !text.is_empty() {
                text.push('\n');
            }
            let _ = writeln!(
                text,
                "tutorial: {}{} ({}, {} chapter{})",
                t.name,
                t.title
                    .as_ref()
                    .map(|x| format!(" — {x}"))
                    .unwrap_or_default(),
                t.file,
                t.chapters.len(),
                if t.chapters.len() == 1 { "" } else { "s" }
            );
        }
        for pb in loaded.books() {
            if let Err(code) = plan_one(&mut text, pb) {
                return code;
            }
        }
    }
    emit(output, &text)
}

/// Appends the plan of one playbook (a chapter: what it reads from earlier
/// chapters and what it exports); the exit code of a plan that does not render.
fn plan_one(text: &mut String, pb: &Playbook) -> Result<(), i32> {
    crate::stdio::warnings(&pb.warnings);
    match render(pb) {
        Ok(t) => {
            if !text.is_empty() {
                text.push('\n');
            }
            // No secret in the plan (a rendered Secret, a header, a patch body).
            text.push_str(&pb.secrets.redact(&t));
            for i in &pb.imports {
                let _ = writeln!(
                    text,
                    "reads: {} (exported by chapter `{}`, {})",
                    i.name, i.chapter, i.at
                );
            }
            for (name, value) in &pb.exports {
                let shown = value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_owned);
                let _ = writeln!(text, "exports: {name} = {}", pb.secrets.redact(&shown));
            }
        }
        Err(mut d) => {
            d.redact(&pb.secrets);
            crate::stdio::diagnostics(&[d]);
            return Err(exit::INVALID);
        }
    }
    Ok(())
}
