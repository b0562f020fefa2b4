//! What `run` checks on the command line before anything runs: report
//! formats, step names, a selection that runs something, `--allow-exec`.
//! Every problem is reported at once (exit 2).

use super::args::RunControl;
use crate::language::diag::{Diagnostic, did_you_mean};
use crate::model::playbook::Playbook;
use crate::runner::Selection;

/// The step selection the command line asks for.
#[must_use]
pub fn selection(control: &RunControl) -> Selection {
    Selection {
        from: control.from.clone(),
        until: control.until.clone(),
        only: control.only.clone(),
        tags: control.tags.clone(),
        skip_tags: control.skip_tags.clone(),
    }
}

fn cli(message: impl Into<String>) -> Diagnostic {
    Diagnostic::file("<command line>", message)
}

/// Every problem of the command line against these playbooks.
#[must_use]
pub fn check(books: &[Playbook], control: &RunControl, allow_exec: bool) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for (format, _) in &control.reports {
        if !["junit", "json", "html"].contains(&format.as_str()) {
            diags.push(
                cli(format!("--report {format}=...: unknown report format"))
                    .with_expected("junit=PATH, json=PATH or html=PATH"),
            );
        }
    }
    let all: Vec<&str> = books
        .iter()
        .flat_map(|pb| pb.steps.iter().map(|s| s.name.as_str()))
        .collect();
    let named: Vec<&String> = control
        .from
        .iter()
        .chain(&control.until)
        .chain(&control.only)
        .collect();
    let mut unknown = false;
    for n in named {
        if !all.contains(&n.as_str()) {
            let mut d = cli(format!("no step named `{n}`"));
            d.help = did_you_mean(n, all.iter().copied()).map(|h| format!("did you mean `{h}`?"));
            diags.push(d);
            unknown = true;
        }
    }
    if unknown {
        return diags;
    }
    let sel = selection(control);
    let mut selected_any = false;
    for pb in books {
        let pos = |n: &str| pb.steps.iter().position(|s| s.name == n);
        if let (Some(f), Some(u)) = (
            control.from.as_deref().and_then(pos),
            control.until.as_deref().and_then(pos),
        ) && u < f
        {
            diags.push(
                cli(format!(
                    "--until {} comes before --from {} in {}: nothing would run",
                    pb.steps[u].name, pb.steps[f].name, pb.source.name
                ))
                .with_expected("--from a step at or before --until"),
            );
        }
        let selected: Vec<usize> = (0..pb.steps.len())
            .filter(|&i| sel.excluded(&pb.steps, i).is_none())
            .collect();
        selected_any |= !selected.is_empty();
        diags.extend(missing_captures(pb, &selected));
        if !allow_exec
            && let Some(s) = selected
                .iter()
                .map(|&i| &pb.steps[i])
                .chain(&pb.finally)
                .find(|s| s.kind.needs_allow_exec)
        {
            diags.push(
                Diagnostic::new(
                    &pb.source,
                    Some(s.loc),
                    format!("step `{}` runs a local command", s.name),
                )
                .with_expected(format!(
                    "--allow-exec on the command line to allow `{}` steps",
                    s.kind.name
                )),
            );
        }
    }
    if !books.is_empty() && !selected_any && diags.is_empty() {
        diags.push(
            cli("the step selection (--from/--until/--only/--tags/--skip-tags) runs no step")
                .with_expected("options that select at least one step"),
        );
    }
    diags
}

/// A step the selection runs (or a `finally` step: they always run) that
/// needs a capture which only left-out steps make: refused before the
/// pre-flight, so that nothing is applied before the run would fail on it.
fn missing_captures(pb: &Playbook, selected: &[usize]) -> Vec<Diagnostic> {
    let all: Vec<(&crate::model::step::Step, bool)> = pb
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s, selected.contains(&i)))
        .chain(pb.finally.iter().map(|s| (s, true)))
        .collect();
    let mut diags = Vec::new();
    for (at, (step, runs)) in all.iter().enumerate() {
        if !runs {
            continue;
        }
        for name in &step.needs {
            let producers: Vec<&(&crate::model::step::Step, bool)> = all[..at]
                .iter()
                .filter(|(s, _)| s.action.captures().contains(name))
                .collect();
            if producers.is_empty() || producers.iter().any(|(_, runs)| *runs) {
                continue;
            }
            let names: Vec<String> = producers
                .iter()
                .map(|(s, _)| format!("`{}`", s.name))
                .collect();
            let first = &producers[0].0.name;
            diags.push(
                Diagnostic::new(
                    &pb.source,
                    Some(step.loc),
                    format!(
                        "step `{}` uses `{name}`, which only step {} captures, and the step selection leaves {} out",
                        step.name,
                        names.join(" or "),
                        if names.len() == 1 { "it" } else { "them" },
                    ),
                )
                .with_expected(format!(
                    "a selection that runs `{first}` before `{}` (e.g. --from {first}), or a fallback in the template (`{name} | default(...)`, or `when: {name} is defined` on the step)",
                    step.name
                )),
            );
        }
    }
    diags
}
