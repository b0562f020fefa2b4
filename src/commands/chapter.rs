//! `scenario docs`: a playbook rendered as a tutorial chapter (Markdown in the
//! mkdocs-material style of the seed page). The prose, the commands and the
//! expected output come from the playbook (and a run's JSON report), so they
//! cannot drift from what is tested.

use std::fmt::Write as _;

use super::markdown::{fence, indent, text, title_text};
use super::observed::Observed;
use crate::language::diag::Diagnostic;
use crate::language::shell::{show, var_name, word};
use crate::model::action::PlanCx;
use crate::model::observed::ReaderCx;
use crate::model::page_secrets::PageSecrets;
use crate::model::playbook::Playbook;
use crate::model::step::Step;
use crate::steps::kubectl::context_var;

/// The page's front matter, written by a YAML serializer: no character of
/// a title (a carriage return, U+0085, U+2028) can start another key.
#[derive(serde::Serialize)]
struct FrontMatter<'a> {
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    authors: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<&'a str>,
}

/// What a chapter page holds besides its steps when it is one page of a
/// tutorial's site (`commands/site.rs`).
#[derive(Debug, Default, Clone)]
pub struct InSite {
    /// What the page's templates see as captures: the chapter's own, and
    /// what earlier chapters export, each as the marker of the shell
    /// variable an earlier page sets (`None`: the chapter page's own).
    pub captures: Option<crate::language::scope::Captures>,
    /// The environment block's include (it replaces the block on the page).
    pub env_include: String,
    /// Markdown after the environment: what the page reads from earlier pages.
    pub before: String,
    /// Markdown after the main steps, before `finally` (where a run computes
    /// exports): the values later pages read.
    pub after_steps: String,
    /// Markdown closing the page: the previous and next chapters.
    pub footer: String,
    /// The command that checks the chapter when it cannot run alone (it
    /// reads values earlier chapters give): the tutorial's run.
    pub run: Option<String>,
}

/// Renders the chapter.
///
/// # Errors
/// A manifest that fails to render with the playbook's values.
pub fn render(pb: &Playbook, observed: Option<&Observed>) -> Result<String, Diagnostic> {
    render_page(pb, observed, None)
}

/// Renders the chapter as a page of a tutorial's site.
///
/// # Errors
/// As [`render`].
pub fn render_in_site(
    pb: &Playbook,
    observed: Option<&Observed>,
    site: &InSite,
) -> Result<String, Diagnostic> {
    render_page(pb, observed, Some(site))
}

fn render_page(
    pb: &Playbook,
    observed: Option<&Observed>,
    site: Option<&InSite>,
) -> Result<String, Diagnostic> {
    let env = crate::language::template::environment();
    let front = FrontMatter {
        title: pb.title.as_deref().unwrap_or(&pb.name),
        summary: pb.summary.as_deref(),
        authors: &pb.authors,
        date: pb.date.as_deref(),
    };
    let front = serde_saphyr::to_string(&front).map_err(|e| {
        Diagnostic::new(
            &pb.source,
            None,
            format!("cannot write the front matter: {e}"),
        )
    })?;
    let mut md = format!("---\n{}\n---\n\n", front.trim_end());
    if !pb.outcomes.is_empty() {
        md.push_str("At the end of this chapter you will have:\n\n");
        for o in &pb.outcomes {
            let _ = writeln!(md, "- [x] {o}");
        }
        md.push('\n');
    }
    md.push_str("## Ensure Environment\n\n");
    let root = pb
        .root
        .file_name()
        .map(|n| format!(" (`{}`)", n.to_string_lossy()))
        .unwrap_or_default();
    let _ = writeln!(
        md,
        "Run the commands of this chapter in order, from the tutorial's root directory{root}, in a shell where the kube contexts of its clusters are set:\n"
    );
    // The steps first: the Secret values their manifests write become
    // variables that "Ensure Environment" exports.
    let mut page = Page {
        heading: 2,
        reader: reader_cx(pb, &env, observed),
        root: pb.root.to_string_lossy().into_owned(),
        site,
        contexts: std::collections::HashMap::new(),
    };
    let secrets = std::sync::Mutex::new(PageSecrets::new(page_vars(pb)));
    let mut body = String::new();
    // A site's values for later pages: after the main steps, before `finally`.
    let after = site
        .map(|s| s.after_steps.as_str())
        .filter(|a| !a.is_empty());
    for (i, step) in pb.steps.iter().chain(&pb.finally).enumerate() {
        if i == pb.steps.len()
            && let Some(a) = after
        {
            body.push('\n');
            body.push_str(a);
        }
        let mut part = String::new();
        step_md(&mut part, &mut page, pb, step, (&env, &secrets), observed)?;
        body.push('\n');
        match &step.options.when {
            // Optional: folded, so that its commands are not on the main path.
            Some((cond, _)) => {
                let _ = writeln!(
                    body,
                    "??? example \"Optional: {}\"\n\n    `scenario run` does this only when `{}` holds.\n\n{}",
                    title_text(step.title.as_deref().unwrap_or(&step.name)),
                    cond.trim(),
                    indent(&part)
                );
            }
            None => body.push_str(&part),
        }
    }
    if let Some(a) = after.filter(|_| pb.finally.is_empty()) {
        body.push('\n');
        body.push_str(a);
    }
    let secrets = secrets.into_inner().unwrap_or_default();
    environment_md(&mut md, pb, &secrets, site);
    run_tip(&mut md, pb, site.and_then(|s| s.run.as_deref()));
    md.push_str(&body);
    if let Some(next) = &pb.next {
        let _ = writeln!(md, "\n{}", next.trim_end());
    }
    if let Some(s) = site
        && !s.footer.is_empty()
    {
        let _ = writeln!(md, "\n{}", s.footer.trim_end());
    }
    Ok(md)
}

/// The block of "Ensure Environment": the contexts and secrets, or on a
/// site, its include (a Secret's values in this chapter's manifests stay on
/// its page), then what the page reads from earlier pages.
fn environment_md(md: &mut String, pb: &Playbook, secrets: &PageSecrets, site: Option<&InSite>) {
    let Some(s) = site else {
        md.push_str(&fence("bash", &exports(pb, secrets)));
        return;
    };
    let _ = writeln!(md, "{}", s.env_include);
    if !secrets.is_empty() {
        let _ = writeln!(
            md,
            "\nThis chapter's manifests hold secret values: set each one in your shell first.\n"
        );
        md.push_str(&fence("bash", &secrets.exports()));
    }
    if !s.before.is_empty() {
        let _ = writeln!(md, "\n{}", s.before.trim_end());
    }
}

/// The whole chapter in one command, with the flags it needs; not a step of
/// the reader's path, so it sits in a tip.
fn run_tip(md: &mut String, pb: &Playbook, tutorial: Option<&str>) {
    if let Some(run) = tutorial {
        let _ = writeln!(
            md,
            "\n!!! tip \"The whole chapter, checked\"\n\n    This chapter reads values earlier chapters give, so `scenario` checks it in the tutorial's run, after them:\n\n{}",
            indent(&fence("bash", run))
        );
        return;
    }
    let mut run = format!("scenario run {}", word(&pb_page_path(pb)));
    if pb
        .steps
        .iter()
        .chain(&pb.finally)
        .any(|s| s.kind.needs_allow_exec)
    {
        run.push_str(" --allow-exec");
    }
    let _ = writeln!(
        md,
        "\n!!! tip \"The whole chapter, checked\"\n\n    `scenario` runs every step below and checks what this page says you will see:\n\n{}",
        indent(&fence("bash", &run))
    );
}

/// "Ensure Environment": the clusters' contexts, then the secrets the reader
/// sets (from the environment, and the values of Secrets in manifests).
fn exports(pb: &Playbook, secrets: &PageSecrets) -> String {
    let mut exports = String::new();
    for (name, _) in &pb.clusters {
        let _ = writeln!(exports, "{}", context_export(pb, name));
    }
    if !pb.secret_env.is_empty() || !secrets.is_empty() {
        let _ = writeln!(
            exports,
            "# Secrets: the page never shows them; set each one in your shell first."
        );
        for n in &pb.secret_env {
            let _ = writeln!(exports, "{}", secret_env_export(n));
        }
        exports.push_str(&secrets.exports());
    }
    exports
}

/// The line of "Ensure Environment" that sets a cluster's kube context.
#[must_use]
pub fn context_export(pb: &Playbook, cluster: &str) -> String {
    let c = pb.scope.context_of(cluster).unwrap_or(cluster);
    format!("export {}={}", context_var(cluster), word(c))
}

/// The line of "Ensure Environment" that makes the reader set a secret
/// from the environment (the page never holds its value).
#[must_use]
pub fn secret_env_export(name: &str) -> String {
    format!("export {name}=\"${{{name}:?set {name} first}}\"")
}

/// The shell variables the page sets besides Secret values: contexts,
/// environment secrets, captures.
fn page_vars(pb: &Playbook) -> Vec<String> {
    let mut names: Vec<String> = pb.clusters.iter().map(|(c, _)| context_var(c)).collect();
    names.extend(pb.secret_env.iter().cloned());
    for s in pb.steps.iter().chain(&pb.finally) {
        for c in s.action.captures() {
            names.push(var_name(&c, None));
            names.extend(s.options.clusters.iter().map(|k| var_name(&c, Some(k))));
        }
    }
    names
}

/// What a run's output needs of the playbook: each kind's apiVersion, for
/// kubectl's names of types.
fn reader_cx(
    pb: &Playbook,
    env: &minijinja::Environment<'static>,
    observed: Option<&Observed>,
) -> ReaderCx {
    let mut reader = ReaderCx::default();
    if observed.is_some() {
        for step in pb.steps.iter().chain(&pb.finally) {
            let pc = PlanCx::shared(env, pb.preview(step));
            for k in step.action.kinds(&pc) {
                if let crate::model::resource::KindRef::Uses { api_version, kind } = k {
                    reader.api_versions.insert(kind, api_version);
                }
            }
        }
    }
    reader
}

/// The playbook's path from the root, as the page shows it.
fn pb_page_path(pb: &Playbook) -> String {
    let file = pb
        .path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("{}{file}", pb.dir_from_root())
}

/// What the page carries from step to step.
struct Page<'a> {
    heading: u8,
    /// What a run's output needs: the objects made so far, the kinds' apiVersions.
    reader: ReaderCx,
    /// The tutorial root on the machine that renders the page: a run's output
    /// shows paths under it relative to it, as the reader's commands do.
    root: String,
    /// On a tutorial's site: what earlier pages give this one.
    site: Option<&'a InSite>,
    /// The site's contexts, by cluster and step vars (as `docs_preview` caches).
    contexts: std::collections::HashMap<String, crate::model::playbook::SharedContext>,
}

impl Page<'_> {
    /// What a step's templates see on the page: [`Playbook::docs_preview`],
    /// and on a site the values earlier chapters export, as the shell
    /// variables earlier pages set (before the chapter's own captures, which
    /// win as they do in a run).
    fn context(
        &mut self,
        pb: &Playbook,
        step: &Step,
        cluster: Option<&str>,
    ) -> crate::model::playbook::SharedContext {
        let Some(captures) = self.site.and_then(|s| s.captures.as_ref()) else {
            return pb.docs_preview(step, cluster);
        };
        let key = format!(
            "{}\n{}",
            cluster.unwrap_or(""),
            serde_json::to_string(&step.vars).unwrap_or_default()
        );
        self.contexts
            .entry(key)
            .or_insert_with(|| {
                let json = pb
                    .scope
                    .masked_env(&pb.secret_env)
                    .step(&step.vars, cluster, captures);
                let value = minijinja::Value::from_serialize(&json);
                (std::sync::Arc::new(json), value)
            })
            .clone()
    }

    /// A line of a run's output without the machine's path of the root.
    fn relative(&self, line: &str) -> String {
        if self.root.len() < 2 || !line.contains(&self.root) {
            return line.to_owned();
        }
        line.replace(&format!("{}/", self.root), "")
            .replace(&self.root, ".")
    }
}

/// A run's output as the reader would see it, then scenario's own report of
/// it folded away.
fn observed_md(
    md: &mut String,
    page: &mut Page<'_>,
    action: &dyn crate::model::action::Action,
    step: &crate::commands::observed::ObservedStep,
    cluster: Option<&str>,
) {
    let mut view = Vec::new();
    for o in step.on(cluster) {
        view.extend(action.reader_view(o, &mut page.reader));
    }
    while view.last().is_some_and(String::is_empty) {
        view.pop();
    }
    let view: Vec<String> = view.iter().map(|l| page.relative(l)).collect();
    let log: Vec<String> = step.log(cluster).iter().map(|l| page.relative(l)).collect();
    if !view.is_empty() {
        let _ = writeln!(
            md,
            "Output of a real run:\n\n{}",
            fence("text", &view.join("\n"))
        );
    }
    let _ = writeln!(
        md,
        "??? info \"What `scenario run` reported\"\n\n{}\n",
        indent(&fence("text", &log.join("\n")))
    );
}

/// A step's section, title and prose.
fn heading_md(md: &mut String, page: &mut Page<'_>, step: &Step) {
    if let Some(s) = &step.section {
        let _ = writeln!(md, "## {s}\n");
        page.heading = 2;
    }
    if let Some(t) = &step.title {
        let _ = writeln!(md, "{} {t}\n", "#".repeat(usize::from(step.level)));
        page.heading = step.level;
    }
    if let Some(d) = &step.doc {
        let _ = writeln!(md, "{}\n", d.trim_end());
    }
}

/// A bare capture name means the first target's value: set after that
/// cluster's commands.
fn bare_captures(cmds: &mut Vec<(Option<String>, String)>, step: &Step) {
    let Some(first) = step.options.clusters.first() else {
        return;
    };
    let at = cmds
        .iter()
        .rposition(|(on, _)| on.as_deref() == Some(first.as_str()))
        .map_or(cmds.len(), |i| i + 1);
    for (k, name) in step.action.captures().iter().enumerate() {
        cmds.insert(
            at + k,
            (
                Some(first.clone()),
                format!(
                    "{}=\"${{{}}}\"",
                    var_name(name, None),
                    var_name(name, Some(first))
                ),
            ),
        );
    }
}

/// What scenario checks, in words (the step's plan lines).
fn checks_md(md: &mut String, plan: &[String]) {
    let _ = writeln!(
        md,
        "!!! success \"What `scenario run` checks\"\n\n{}\n",
        indent(
            &plan
                .iter()
                .map(|l| {
                    // Indented plan lines are details of the line above: a nested item.
                    let depth = (l.len() - l.trim_start().len()) / 2;
                    // A check's expected text is escaped as JSON escapes it: a
                    // captured value's marker there is `\u{e000}NAME\u{e001}`.
                    let l = l
                        .trim()
                        .replace("\\u{e000}", "\u{E000}")
                        .replace("\\u{e001}", "\u{E001}")
                        .replace("\\u{e002}", "\u{E002}")
                        .replace("\\u{e003}", "\u{E003}");
                    format!("{}- {}", "    ".repeat(depth), text(&show(&l)))
                })
                .collect::<Vec<_>>()
                .join("\n")
        )
    );
}

/// One step of the chapter: its prose, its commands, what scenario checks,
/// and (with a report) what a real run printed.
fn step_md(
    md: &mut String,
    page: &mut Page<'_>,
    pb: &Playbook,
    step: &Step,
    (env, secrets): (
        &minijinja::Environment<'static>,
        &std::sync::Mutex<PageSecrets>,
    ),
    observed: Option<&Observed>,
) -> Result<(), Diagnostic> {
    heading_md(md, page, step);
    let ran = observed.and_then(|o| o.get(&step.name));
    let mut ctx_of = std::collections::HashMap::new();
    if step.options.clusters.is_empty() {
        ctx_of.insert(None, page.context(pb, step, None));
    }
    for c in &step.options.clusters {
        ctx_of.insert(Some(c.as_str()), page.context(pb, step, Some(c)));
    }
    let pc_on = |cluster: Option<&str>| PlanCx {
        dir_prefix: pb.dir_from_root(),
        timeout: step.options.timeout,
        page_secrets: Some(secrets),
        observed: ran.and_then(|r| {
            r.outcomes
                .iter()
                .find(|o| cluster.is_none() || o.cluster.as_deref() == cluster)
        }),
        ..PlanCx::shared(
            env,
            ctx_of
                .get(&cluster)
                .cloned()
                .unwrap_or_else(|| pb.docs_preview(step, cluster)),
        )
    };
    let clusters = &step.options.clusters;
    // Each cluster's commands from its own scope (its own captures).
    let mut docs_list = Vec::new();
    if clusters.is_empty() {
        docs_list.push(step.action.docs(&pc_on(None), &[])?);
    } else {
        for c in clusters {
            docs_list.push(step.action.docs(&pc_on(Some(c)), std::slice::from_ref(c))?);
        }
    }
    let mut cmds: Vec<(Option<String>, String)> = Vec::new();
    let mut tip = None;
    let mut manifests = Vec::new();
    for d in docs_list {
        tip = tip.or(d.tip);
        manifests.extend(d.manifests);
        cmds.extend(d.commands.into_iter().map(|c| (c.cluster, c.line)));
    }
    bare_captures(&mut cmds, step);
    if let Some(tip) = &tip {
        let _ = writeln!(md, "!!! tip\n{}\n", indent(&text(&show(tip))));
    }
    if step.per_cluster && clusters.len() > 1 {
        // One subsection per cluster, as tutorials show each cluster's state.
        let lines = observed.and_then(|o| o.get(&step.name));
        for c in clusters {
            let _ = writeln!(
                md,
                "{} {}\n",
                "#".repeat(usize::from(page.heading) + 1),
                context_var(c)
            );
            let mine: Vec<&str> = cmds
                .iter()
                .filter(|(on, _)| on.as_deref() == Some(c.as_str()))
                .map(|(_, l)| l.as_str())
                .collect();
            md.push_str(&fence("bash", &mine.join("\n")));
            md.push('\n');
            if let Some(o) = lines {
                observed_md(md, page, step.action.as_ref(), o, Some(c));
            }
        }
        cmds.clear();
    }
    if !cmds.is_empty() {
        let lines: Vec<&str> = cmds.iter().map(|(_, l)| l.as_str()).collect();
        md.push_str(&fence("bash", &lines.join("\n")));
        md.push('\n');
    }
    let pc = pc_on(clusters.first().map(String::as_str));
    // Manifests a step kind shows folded (none of the built-in kinds since
    // apply and delete print them inline).
    for f in &manifests {
        let text = crate::language::template::render(env, &f.source.text, &pc.value)
            .map_err(|e| Diagnostic::new(&f.source, e.loc, e.message))?;
        let _ = writeln!(
            md,
            "??? note \"{}\"\n\n{}\n",
            pc.page_path(&f.rel),
            indent(&fence("yaml", &show(&text)))
        );
    }
    checks_md(md, &step.action.plan(&pc)?);
    if let Some(o) = observed
        .and_then(|o| o.get(&step.name))
        .filter(|_| !(step.per_cluster && clusters.len() > 1))
    {
        observed_md(md, page, step.action.as_ref(), o, None);
    }
    Ok(())
}
