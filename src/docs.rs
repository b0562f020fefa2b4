//! `scenario docs`: a playbook rendered as a tutorial chapter (Markdown in the
//! mkdocs-material style of the seed page). The prose, the commands and the
//! expected output come from the playbook (and a run's JSON report), so they
//! cannot drift from what is tested.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::model::{Playbook, Step};
use crate::steps::{Action, NameMatch, PlanCx, Resource};

/// Outcome lines of a run, by step name (from a JSON report).
pub type Observed = HashMap<String, Vec<String>>;

/// Reads the outcome lines of each step from a JSON report.
///
/// # Errors
/// An unreadable or malformed report.
pub fn observed_from_report(text: &str, playbook: &str) -> Result<Observed, String> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not a JSON report: {e}"))?;
    let pb = v["playbooks"]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["name"] == playbook))
        .ok_or_else(|| format!("the report has no playbook `{playbook}`"))?;
    let mut out = Observed::new();
    for s in pb["steps"].as_array().into_iter().flatten() {
        if s["status"] == "skipped" {
            continue;
        }
        let mut lines = Vec::new();
        for o in s["outcomes"].as_array().into_iter().flatten() {
            let who = o["cluster"]
                .as_str()
                .map(|c| format!("{c}: "))
                .unwrap_or_default();
            lines.push(format!("{who}{}", o["message"].as_str().unwrap_or("")));
            for d in o["details"].as_array().into_iter().flatten() {
                for l in d.as_str().unwrap_or("").lines() {
                    if !l.starts_with("sample: ") {
                        lines.push(format!("  {l}"));
                    }
                }
            }
        }
        out.insert(s["name"].as_str().unwrap_or("").to_owned(), lines);
    }
    Ok(out)
}

fn var(cluster: &str) -> String {
    cluster.to_uppercase().replace('-', "_")
}

fn context_flag(cluster: &str) -> String {
    format!("--context=\"${{{}}}\"", var(cluster))
}

fn kind_ref(r: &Resource) -> String {
    let group = r.api_version.split_once('/').map(|(g, _)| g).unwrap_or("");
    let plural = format!("{}s", r.kind.to_lowercase());
    if group.is_empty() {
        plural
    } else {
        format!("{plural}.{group}")
    }
}

fn get_command(cluster: &str, r: &Resource) -> String {
    let ns = r
        .namespace
        .as_ref()
        .map_or_else(|| " -A".to_owned(), |n| format!(" -n {n}"));
    let name = match &r.name {
        NameMatch::Exact(n) => format!(" {n}"),
        _ => String::new(),
    };
    let labels = r
        .labels
        .as_ref()
        .map(|l| format!(" -l '{l}'"))
        .unwrap_or_default();
    format!(
        "kubectl {} get {}{name}{ns}{labels}",
        context_flag(cluster),
        kind_ref(r)
    )
}

/// `kubectl wait` where kubectl can express the condition, else `kubectl get`.
fn wait_command(cluster: &str, w: &crate::steps::wait::Wait, pc: &PlanCx<'_>) -> String {
    use crate::assert::{Predicate, Query};
    use crate::steps::wait::WaitFor;
    let r = pc.resource(&w.resource);
    let NameMatch::Exact(name) = &r.name else {
        return get_command(cluster, &r);
    };
    let target = format!("{}/{name}", kind_ref(&r));
    let ns = r
        .namespace
        .as_ref()
        .map(|n| format!(" -n {n}"))
        .unwrap_or_default();
    let base = format!("kubectl {} wait{ns} {target}", context_flag(cluster));
    if w.for_ == WaitFor::Deleted {
        return format!("{base} --for=delete");
    }
    if let Some((t, s, _)) = &w.condition {
        return format!("{base} --for=condition={t}={s}");
    }
    if let [c] = w.checks.as_slice()
        && let (Query::JsonPath(p), Predicate::Equals(v)) = (&c.query, &c.predicate)
    {
        let value = match pc.render_json(v) {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        };
        return format!(
            "{base} --for=jsonpath='{{{}}}'={value}",
            p.trim_start_matches('$')
        );
    }
    if w.checks.is_empty() && w.match_.is_none() {
        return format!("{base} --for=create");
    }
    get_command(cluster, &r)
}

fn fence(lang: &str, body: &str) -> String {
    format!("```{lang}\n{}\n```\n", body.trim_end())
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("    {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Renders the chapter.
///
/// # Errors
/// A manifest that fails to render with the playbook's values.
pub fn render(
    pb: &Playbook,
    static_ctx: &serde_json::Value,
    observed: Option<&Observed>,
) -> Result<String, crate::diag::Diagnostic> {
    let env = crate::template::environment();
    let mut md = String::from("---\n");
    let _ = writeln!(md, "title: {}", pb.title.as_deref().unwrap_or(&pb.name));
    if let Some(s) = &pb.summary {
        let _ = writeln!(md, "summary: {s}");
    }
    if !pb.authors.is_empty() {
        md.push_str("authors:\n");
        for a in &pb.authors {
            let _ = writeln!(md, "  - {a}");
        }
    }
    if let Some(d) = &pb.date {
        let _ = writeln!(md, "date: {d}");
    }
    md.push_str("---\n\n");
    if !pb.outcomes.is_empty() {
        md.push_str("At the end of this chapter you will have:\n\n");
        for o in &pb.outcomes {
            let _ = writeln!(md, "- [x] {o}");
        }
        md.push('\n');
    }
    md.push_str(
        "## Ensure Environment\n\nSet the kube contexts of the clusters this chapter uses:\n\n",
    );
    let mut exports = String::new();
    for (name, _) in &pb.clusters {
        let c = static_ctx["clusters"][name]["context"]
            .as_str()
            .unwrap_or(name);
        let _ = writeln!(exports, "export {}={c}", var(name));
    }
    md.push_str(&fence("bash", &exports));
    md.push_str("\nThe whole chapter runs, and checks itself, with:\n\n");
    md.push_str(&fence("bash", &format!("scenario run {}", pb.source.name)));
    let mut heading = 2;
    let captured = crate::plan::captured_names(pb);
    for step in pb.steps.iter().chain(&pb.finally) {
        if step.options.when.is_some() {
            continue;
        }
        md.push('\n');
        step_md(
            &mut md,
            &mut heading,
            &captured,
            step,
            &env,
            static_ctx,
            observed,
        )?;
    }
    Ok(md)
}

fn step_md(
    md: &mut String,
    heading: &mut u8,
    captured: &[String],
    step: &Step,
    env: &minijinja::Environment<'static>,
    static_ctx: &serde_json::Value,
    observed: Option<&Observed>,
) -> Result<(), crate::diag::Diagnostic> {
    if let Some(s) = &step.section {
        let _ = writeln!(md, "## {s}\n");
        *heading = 2;
    }
    if let Some(t) = &step.title {
        let _ = writeln!(md, "{} {t}\n", "#".repeat(usize::from(step.level)));
        *heading = step.level;
    }
    if let Some(d) = &step.doc {
        let _ = writeln!(md, "{}\n", d.trim_end());
    }
    let ctx = crate::plan::step_context(static_ctx, captured, step);
    let pc = PlanCx { env, ctx };
    let clusters = &step.options.clusters;
    let mut cmds = Vec::new();
    match &step.action {
        Action::Apply(a) => {
            for c in clusters {
                for f in &a.manifests.files {
                    cmds.push(format!(
                        "kubectl {} apply --server-side -f {}",
                        context_flag(c),
                        f.rel
                    ));
                }
                if let Some(k) = &a.manifests.kustomize {
                    cmds.push(format!(
                        "kubectl {} apply --server-side -k {k}",
                        context_flag(c)
                    ));
                }
            }
        }
        Action::Delete(d) => {
            for c in clusters {
                for f in &d.manifests.files {
                    let ns = d
                        .manifests
                        .namespace
                        .as_deref()
                        .map(|n| format!(" -n {}", pc.render(n)))
                        .unwrap_or_default();
                    cmds.push(format!(
                        "kubectl {} delete{ns} -f {}",
                        context_flag(c),
                        f.rel
                    ));
                }
                for r in &d.resources {
                    cmds.push(get_command(c, &pc.resource(r)).replacen(" get ", " delete ", 1));
                }
            }
        }
        Action::Wait(w) => {
            for c in clusters {
                cmds.push(wait_command(c, w, &pc));
            }
        }
        Action::Get(g) => {
            for c in clusters {
                for r in &g.resources {
                    cmds.push(get_command(c, &pc.resource(r)));
                }
            }
        }
        Action::Probe(p) => {
            cmds.push(format!(
                "for i in $(seq 1 100); do curl -s {}; echo; done",
                pc.render(&p.url)
            ));
        }
        Action::Sleep(d) => cmds.push(format!("sleep {}", d.as_secs().max(1))),
        Action::Pause(p) => {
            let _ = writeln!(md, "!!! tip\n    {}\n", pc.render(&p.message));
        }
        Action::Exec(e) => cmds.push(e.command.join(" ")),
    }
    if step.per_cluster && clusters.len() > 1 {
        // One subsection per cluster, as tutorials show each cluster's state.
        let lines = observed.and_then(|o| o.get(&step.name));
        for c in clusters {
            let _ = writeln!(md, "{} {}\n", "#".repeat(usize::from(*heading) + 1), var(c));
            let mine: Vec<&String> = cmds
                .iter()
                .filter(|l| l.contains(&context_flag(c)))
                .collect();
            md.push_str(&fence(
                "bash",
                &mine
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
            ));
            md.push('\n');
            if let Some(lines) = lines {
                let prefix = format!("{c}: ");
                let own: Vec<&str> = lines
                    .iter()
                    .skip_while(|l| !l.starts_with(&prefix))
                    .enumerate()
                    .take_while(|(i, l)| *i == 0 || l.starts_with("  "))
                    .map(|(_, l)| l.as_str())
                    .collect();
                let _ = writeln!(md, "{}", fence("text", &own.join("\n")));
            }
        }
        cmds.clear();
    }
    if !cmds.is_empty() {
        md.push_str(&fence("bash", &cmds.join("\n")));
        md.push('\n');
    }
    // The manifests the step applies or deletes, folded.
    let manifests = match &step.action {
        Action::Apply(a) => Some(&a.manifests),
        Action::Delete(d) => Some(&d.manifests),
        _ => None,
    };
    for f in manifests
        .into_iter()
        .flat_map(|m| m.files.iter().chain(m.inline.iter()))
    {
        let text = crate::template::render(env, &f.source.text, &pc.ctx)
            .map_err(|e| crate::diag::Diagnostic::new(&f.source, e.loc, e.message))?;
        let _ = writeln!(
            md,
            "??? note \"{}\"\n\n{}\n",
            f.rel,
            indent(&fence("yaml", &text))
        );
    }
    // What scenario checks, in words.
    let plan = step.action.plan(&pc)?;
    let _ = writeln!(
        md,
        "!!! check \"What `scenario run` checks\"\n\n{}\n",
        indent(
            &plan
                .iter()
                .map(|l| format!("- {}", l.trim()))
                .collect::<Vec<_>>()
                .join("\n")
        )
    );
    if let Some(lines) = observed
        .and_then(|o| o.get(&step.name))
        .filter(|_| !(step.per_cluster && clusters.len() > 1))
    {
        let _ = writeln!(
            md,
            "Output of a real run:\n\n{}",
            fence("text", &lines.join("\n"))
        );
    }
    Ok(())
}
