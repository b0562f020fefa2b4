//! `scenario docs TUTORIAL -o DIR`: a tutorial's whole site, for
//! mkdocs-material and Zensical (which read the same `mkdocs.yml`):
//!
//! - `mkdocs.yml`: the tutorial's title, the navigation (the overview, then
//!   the chapters in order, a group as a section), the theme and the Markdown
//!   extensions the pages use;
//! - `docs/index.md`: the overview and the list of chapters;
//! - `docs/includes/env.md`: the environment block, written once and pulled
//!   into every page (`--8<--`, pymdownx.snippets);
//! - `docs/<chapter>.md`: each chapter's page (`commands/chapter.rs`), with
//!   the values that flow between pages as shell variables
//!   (`commands/site_flow.rs`) and links to the previous and next pages.
//!
//! Everything is rendered and checked before the first file is written, and
//! nothing is written outside `DIR` or through a symbolic link in it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::args::Inputs;
use super::chapter::{self, InSite};
use super::common::load_options;
use super::markdown::text;
use super::site_flow::{self, Export, PageRef};
use crate::language::diag::Diagnostic;
use crate::language::secrets::Secrets;
use crate::model::exit;
use crate::model::playbook::{Playbook, Tutorial};

/// The include every page pulls in, relative to the site's directory (where
/// mkdocs and zensical run: pymdownx.snippets reads it from there).
pub const ENV_INCLUDE: &str = "docs/includes/env.md";

/// At most this many characters of a title in the navigation.
const MAX_TITLE: usize = 200;

/// `scenario docs TUTORIAL -o DIR [--from-report run.json]`.
pub fn site(
    path: &Path,
    output: Option<&Path>,
    from_report: Option<&Path>,
    inputs: &Inputs,
) -> i32 {
    let Some(dir) = output else {
        crate::errln!(
            "error: {} is a tutorial: its site is a directory of files; give it with `-o DIR`",
            path.display()
        );
        return exit::INVALID;
    };
    if let Ok(m) = std::fs::metadata(dir)
        && !m.is_dir()
    {
        crate::errln!(
            "error: -o {}: not a directory; a tutorial's site is a directory (mkdocs.yml, docs/)",
            dir.display()
        );
        return exit::INVALID;
    }
    let t = match crate::load::load_tutorial(path, &load_options(inputs)) {
        Ok(t) => t,
        Err(d) => {
            crate::stdio::diagnostics(&d);
            return exit::INVALID;
        }
    };
    let mut secrets = Secrets::default();
    for pb in &t.chapters {
        secrets.extend(&pb.secrets);
    }
    let report = match from_report.map(super::observed::read_report).transpose() {
        Ok(r) => r,
        Err(e) => {
            crate::errln!(
                "error: --from-report {}: {e}",
                from_report
                    .map(Path::display)
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            );
            return exit::INVALID;
        }
    };
    let files = match build(&t, report.as_deref()) {
        Ok(f) => f,
        Err(mut d) => {
            d.redact(&secrets);
            crate::stdio::diagnostics(&[d]);
            return exit::INVALID;
        }
    };
    // Every target checked before the first write: a refused path leaves no half site.
    for (rel, _) in &files {
        if let Err(e) = check_target(dir, rel) {
            crate::errln!("error: -o {}: {e}", dir.display());
            return exit::INVALID;
        }
    }
    for (rel, body) in &files {
        if let Err(e) = write_inside(dir, rel, &secrets.redact(body)) {
            crate::errln!("error: cannot write {}/{rel}: {e}", dir.display());
            return exit::STEP_ERROR;
        }
    }
    exit::OK
}

/// A title as one line of text: control characters (line breaks included)
/// become spaces, runs of spaces one, at most [`MAX_TITLE`] characters.
fn one_line(s: &str) -> String {
    let spaced: String = s
        .chars()
        .map(|c| {
            if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
                ' '
            } else {
                c
            }
        })
        .collect();
    let joined = spaced.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() > MAX_TITLE {
        let mut cut: String = joined.chars().take(MAX_TITLE).collect();
        cut.push('…');
        cut
    } else {
        joined
    }
}

/// A page's file name from its chapter's file: lower-case ASCII letters,
/// digits and `-` (a URL that needs no escaping), unique, never `index`.
fn page_file(pb: &Playbook, number: usize, taken: &mut Vec<String>) -> String {
    let stem = pb
        .path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut slug = String::new();
    for c in stem.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let mut slug: String = slug.trim_matches('-').chars().take(60).collect();
    while slug.ends_with('-') {
        slug.pop();
    }
    if slug.is_empty() || slug == "index" || slug == "includes" {
        slug = format!("chapter-{number}");
    }
    let mut name = slug.clone();
    let mut k = 1;
    while taken.contains(&name) {
        k += 1;
        name = format!("{slug}-{k}");
    }
    taken.push(name.clone());
    format!("{name}.md")
}

fn chapter_title(pb: &Playbook) -> String {
    let t = one_line(pb.title.as_deref().unwrap_or(&pb.name));
    if t.is_empty() { one_line(&pb.name) } else { t }
}

/// Renders every file of the site: (path under the site's directory, text).
fn build(t: &Tutorial, report: Option<&str>) -> Result<Vec<(String, String)>, Diagnostic> {
    let title = {
        let t1 = one_line(t.title.as_deref().unwrap_or(&t.name));
        if t1.is_empty() { one_line(&t.name) } else { t1 }
    };
    let mut taken_files = Vec::new();
    let pages: Vec<PageRef> = t
        .chapters
        .iter()
        .enumerate()
        .map(|(i, pb)| PageRef {
            file: page_file(pb, i + 1, &mut taken_files),
            title: chapter_title(pb),
        })
        .collect();
    one_root(t)?;
    let (env, taken) = env_block(t)?;
    let mut exports: Vec<Export> = Vec::new();
    for (i, pb) in t.chapters.iter().enumerate() {
        let mine = site_flow::chapter_exports(pb, i, &exports, &taken)?;
        exports.extend(mine);
    }
    let mut files = vec![
        ("mkdocs.yml".to_owned(), mkdocs_yml(&title, t, &pages)?),
        ("docs/index.md".to_owned(), index_md(&title, t, &pages)?),
        (ENV_INCLUDE.to_owned(), super::markdown::fence("bash", &env)),
    ];
    for (i, pb) in t.chapters.iter().enumerate() {
        let observed = match report {
            Some(r) => Some(super::observed::from_report(r, &pb.name).map_err(|e| {
                Diagnostic::file(pb.source.name.clone(), format!("--from-report: {e}"))
            })?),
            None => None,
        };
        let mine: Vec<Export> = exports.iter().filter(|e| e.chapter == i).cloned().collect();
        let mut site = InSite {
            captures: Some(site_flow::captures(
                pb,
                false,
                &site_flow::imports(&exports, i, false),
            )),
            env_include: format!("--8<-- \"{ENV_INCLUDE}\""),
            before: String::new(),
            after_steps: site_flow::after_steps(&mine, i + 1 < t.chapters.len()),
            footer: footer(&pages, i),
            run: reads_earlier(pb).then(|| tutorial_run(t, pb)),
        };
        let plain = chapter::render_in_site(pb, observed.as_ref(), &site)?;
        let salted = {
            let mut s = site.clone();
            s.captures = Some(site_flow::captures(
                pb,
                false,
                &site_flow::imports(&exports, i, true),
            ));
            chapter::render_in_site(pb, observed.as_ref(), &s)?
        };
        site_flow::check_page(pb, &plain, &salted, &exports, i)?;
        let used = site_flow::used(pb, &plain, &exports, i);
        site.before = site_flow::before(&used, &pages);
        let md = if site.before.is_empty() {
            plain
        } else {
            chapter::render_in_site(pb, observed.as_ref(), &site)?
        };
        files.push((format!("docs/{}", pages[i].file), site_flow::readable(&md)));
    }
    Ok(files)
}

/// Whether a step of the chapter reads a value an earlier chapter exports
/// (run alone, it would not start).
fn reads_earlier(pb: &Playbook) -> bool {
    pb.imports.iter().any(|i| {
        !pb.vars.contains_key(&i.name)
            && pb
                .steps
                .iter()
                .chain(&pb.finally)
                .any(|s| s.needs.contains(&i.name))
    })
}

/// `scenario run` of the tutorial, with its path from the root and the
/// flags its chapters need.
fn tutorial_run(t: &Tutorial, pb: &Playbook) -> String {
    let file = Path::new(&t.file);
    let shown = file
        .canonicalize()
        .ok()
        .and_then(|c| c.strip_prefix(&pb.root).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| file.file_name().map(PathBuf::from).unwrap_or_default());
    let mut run = format!(
        "scenario run {}",
        crate::language::shell::word(&shown.to_string_lossy())
    );
    if t.chapters
        .iter()
        .flat_map(|c| c.steps.iter().chain(&c.finally))
        .any(|s| s.kind.needs_allow_exec)
    {
        run.push_str(" --allow-exec");
    }
    run
}

/// The site's commands run in one shell from one directory: every chapter
/// has the same root.
fn one_root(t: &Tutorial) -> Result<(), Diagnostic> {
    let Some(first) = t.chapters.first() else {
        return Ok(());
    };
    for pb in &t.chapters[1..] {
        if pb.root != first.root {
            return Err(Diagnostic::file(
                pb.source.name.clone(),
                format!(
                    "the site's commands run from one directory, but this chapter's root (`{}`) is not the first chapter's (`{}`, {})",
                    pb.root.file_name().map(|n| n.to_string_lossy()).unwrap_or_default(),
                    first.root.file_name().map(|n| n.to_string_lossy()).unwrap_or_default(),
                    first.source.name
                ),
            )
            .with_expected("`root:` in each chapter naming the same directory (the tutorial's root)"));
        }
    }
    Ok(())
}

/// The environment block of every page (each cluster's context, then the
/// secrets from the environment), and the shell variables it takes.
fn env_block(t: &Tutorial) -> Result<(String, BTreeMap<String, String>), Diagnostic> {
    let mut contexts: Vec<(String, String, &Playbook)> = Vec::new();
    let mut secret_env = std::collections::BTreeSet::new();
    for pb in &t.chapters {
        for (name, cluster) in &pb.clusters {
            let line = chapter::context_export(pb, name);
            let var = crate::steps::kubectl::context_var(name);
            match contexts.iter().find(|(v, _, _)| *v == var) {
                Some((_, l, other)) if *l != line => {
                    return Err(Diagnostic::new(
                        &pb.source,
                        Some(cluster.context_loc),
                        format!(
                            "cluster `{name}` has another context than in chapter {} (`{l}` there, `{line}` here): the site sets each context once",
                            other.source.name
                        ),
                    )
                    .with_expected("one context per cluster name across the tutorial (define the clusters in tutorial.yaml)"));
                }
                Some(_) => {}
                None => contexts.push((var, line, pb)),
            }
        }
        secret_env.extend(pb.secret_env.iter().cloned());
    }
    let mut taken = BTreeMap::new();
    let mut block = String::new();
    if contexts.is_empty() && secret_env.is_empty() {
        block.push_str("# This tutorial needs no kube context and no secret.\n");
    }
    for (var, line, pb) in &contexts {
        let _ = writeln!(block, "{line}");
        taken.insert(var.clone(), format!("a kube context ({})", pb.source.name));
    }
    if !secret_env.is_empty() {
        let _ = writeln!(
            block,
            "# Secrets: the pages never show them; set each one in your shell first."
        );
        for n in &secret_env {
            let _ = writeln!(block, "{}", chapter::secret_env_export(n));
            taken.insert(n.clone(), "an environment secret".to_owned());
        }
    }
    Ok((block, taken))
}

/// Links to the previous page (the overview before the first chapter) and
/// the next one.
fn footer(pages: &[PageRef], i: usize) -> String {
    let prev = if i == 0 {
        "Previous: [Overview](index.md)".to_owned()
    } else {
        format!(
            "Previous: [{}]({})",
            text(&pages[i - 1].title),
            pages[i - 1].file
        )
    };
    match pages.get(i + 1) {
        Some(n) => format!("{prev} · Next: [{}]({})\n", text(&n.title), n.file),
        None => format!("{prev}\n"),
    }
}

/// The site's front page: the overview, then the chapters in order.
fn index_md(title: &str, t: &Tutorial, pages: &[PageRef]) -> Result<String, Diagnostic> {
    #[derive(serde::Serialize)]
    struct Front<'a> {
        title: &'a str,
    }
    let front = serde_saphyr::to_string(&Front { title }).map_err(|e| {
        Diagnostic::file(
            t.file.clone(),
            format!("cannot write the front matter: {e}"),
        )
    })?;
    let mut md = format!("---\n{}\n---\n\n", front.trim_end());
    if let Some(o) = &t.overview {
        // The author's Markdown, without control characters (a terminal's
        // escapes mean nothing in a page); line breaks and tabs stay.
        let o: String = o
            .chars()
            .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
            .collect();
        let _ = writeln!(md, "{}\n", o.trim_end());
    }
    md.push_str("## Chapters\n\n");
    for (i, (pb, p)) in t.chapters.iter().zip(pages).enumerate() {
        let _ = write!(md, "{}. [{}]({})", i + 1, text(&p.title), p.file);
        if let Some(g) = pb.chapter.as_ref().and_then(|c| c.group.as_deref()) {
            let _ = write!(md, " ({})", text(&one_line(g)));
        }
        if let Some(s) = &pb.summary {
            let _ = write!(md, ": {}", text(&one_line(s)));
        }
        md.push('\n');
    }
    let _ = writeln!(
        md,
        "\nRun the chapters in order, in one shell: each page's commands build on the earlier pages'. `scenario run {}` runs them all and checks every step.",
        t.file
            .rsplit('/')
            .next()
            .map(crate::language::shell::word)
            .unwrap_or_default()
    );
    Ok(md)
}

/// `mkdocs.yml`, written by a YAML serializer (no title can add a key).
fn mkdocs_yml(title: &str, t: &Tutorial, pages: &[PageRef]) -> Result<String, Diagnostic> {
    use serde_json::{Value, json};
    let mut nav: Vec<Value> = vec![json!({ "Overview": "index.md" })];
    let mut group: Option<(String, Vec<Value>)> = None;
    for (pb, p) in t.chapters.iter().zip(pages) {
        let entry = json!({ p.title.clone(): p.file.clone() });
        let g = pb
            .chapter
            .as_ref()
            .and_then(|c| c.group.as_deref())
            .map(one_line);
        match (&mut group, g) {
            (Some((open, items)), Some(g)) if *open == g => items.push(entry),
            (_, g) => {
                if let Some((name, items)) = group.take() {
                    nav.push(json!({ name: items }));
                }
                match g {
                    Some(g) => group = Some((g, vec![entry])),
                    None => nav.push(entry),
                }
            }
        }
    }
    if let Some((name, items)) = group {
        nav.push(json!({ name: items }));
    }
    let config = json!({
        "site_name": title,
        "docs_dir": "docs",
        "theme": { "name": "material", "font": false },
        "markdown_extensions": [
            "admonition",
            "attr_list",
            "pymdownx.details",
            "pymdownx.superfences",
            { "pymdownx.tasklist": { "custom_checkbox": true } },
            "pymdownx.critic",
            { "pymdownx.snippets": { "base_path": ["."], "check_paths": true } },
        ],
        "exclude_docs": "/includes/\n",
        "nav": nav,
    });
    let yaml = serde_saphyr::to_string(&config)
        .map_err(|e| Diagnostic::file(t.file.clone(), format!("cannot write mkdocs.yml: {e}")))?;
    Ok(format!(
        "# Written by `scenario docs {}`: build it from this directory\n# (`mkdocs build --strict` or `zensical build`), where the pages' include\n# {ENV_INCLUDE} is found.\n{yaml}",
        t.file.rsplit('/').next().map(one_line).unwrap_or_default()
    ))
}

/// Refuses a target that is a symbolic link, or under one, or a directory.
fn check_target(dir: &Path, rel: &str) -> Result<(), String> {
    let mut at = dir.to_path_buf();
    for part in rel.split('/') {
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(format!(
                    "{rel}: {} is a symbolic link; the site is written only inside the directory, through no link",
                    at.display()
                ));
            }
            Ok(m) if m.is_dir() && at.ends_with(rel) => {
                return Err(format!("{rel} is a directory"));
            }
            Ok(m) if !m.is_dir() && !at.ends_with(rel) => {
                return Err(format!("{} is not a directory", at.display()));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Writes one file of the site (atomically), making its directories.
fn write_inside(dir: &Path, rel: &str, body: &str) -> std::io::Result<()> {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    crate::report::file::write(&path, body)
}
