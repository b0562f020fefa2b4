//! `scenario import mkdocs.yml -o tutorial.yaml`: an mkdocs site becomes a
//! tutorial. The site's `nav` (or, without one, the Markdown files of
//! `docs_dir` in name order, `index.md` first) gives the pages in order; each
//! page with a shell block is imported into a chapter playbook next to the
//! tutorial file, named after its path (`traffic/canary.md` ->
//! `traffic-canary.yaml`); a nav group becomes a group of chapters (nested
//! groups are flattened into the top one). The first page with nothing to
//! import (the usual `index.md`) becomes the tutorial's `overview`; other
//! such pages, links and pages listed twice are left out, each with a note.
//! The pages are read in one shell: the variables a page sets to a value are
//! known to the pages after it (captures are not: each chapter runs alone).
//! mkdocs.yml is read as data: its tags (`!!python/name:...`, `!ENV`) are
//! ignored, nothing is run. Errors are located in mkdocs.yml: a nav entry
//! outside `docs_dir`, a page that does not exist, more than
//! [`MAX_PAGES`] pages, groups nested deeper than [`MAX_DEPTH`].

use std::path::{Path, PathBuf};

use super::cx::{ImportError, Limits, slug};
use super::report::Report;
use super::yaml_out::{Y, block};
use super::{Carried, Request, import_after};
use crate::language::yaml::{Node, Value, parse};

/// Most pages a site may list.
pub const MAX_PAGES: usize = 500;
/// Deepest nesting of nav groups.
pub const MAX_DEPTH: usize = 8;

/// The imported site: the tutorial's text, each chapter's file and text, the report.
pub struct Site {
    pub tutorial: String,
    pub chapters: Vec<(PathBuf, String)>,
    pub report: Report,
}

/// One page of the nav.
struct Page {
    path: String,
    at: String,
    /// The top-level nav group it is in.
    group: Option<String>,
}

/// Whether `path` names an mkdocs configuration rather than a page.
#[must_use]
pub fn is_site(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "yml" || e == "yaml")
}

/// Imports every page of the site `req.page` (its mkdocs.yml) into chapters
/// next to `req.out` (the tutorial file), which must be given.
pub fn import_site(req: &Request<'_>, limits: &Limits) -> Result<Site, ImportError> {
    let shown = req.page.display().to_string();
    let Some(out) = req.out else {
        return Err(ImportError::new(
            shown,
            "a site imports into one playbook per page and a tutorial: give the tutorial file with -o (e.g. -o tutorial.yaml)",
        ));
    };
    let text = super::page::read_text(req.page, &shown, limits.page_bytes)?;
    let root = parse(&text).map_err(|e| {
        let at = e.loc.map_or_else(
            || shown.clone(),
            |l| format!("{shown}:{}:{}", l.line, l.col),
        );
        ImportError::new(at, format!("not an mkdocs configuration: {}", e.message))
    })?;
    let Value::Map(top) = &root.value else {
        return Err(ImportError::new(
            format!("{shown}:{}:{}", root.loc.line, root.loc.col),
            "an mkdocs configuration is a mapping (site_name, docs_dir, nav)",
        ));
    };
    let get = |k: &str| {
        top.iter()
            .find(|(n, _)| n.value == Value::Str(k.to_owned()))
            .map(|(_, v)| v)
    };
    let site_dir = req
        .page
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let (docs_name, docs) = docs_dir(get("docs_dir"), site_dir, &shown)?;
    let mut report = Report::default();
    let mut pages = Vec::new();
    match get("nav") {
        Some(nav) => walk(&shown, nav, None, 0, &mut pages, &mut report)?,
        None => unlisted(&docs, &shown, &mut pages),
    }
    let out_dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let root_dir = req.root.unwrap_or(site_dir);
    let mut seen: Vec<PathBuf> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut chapters: Vec<(PathBuf, String)> = Vec::new();
    let mut listed: Vec<(Option<String>, String)> = Vec::new();
    let mut overview: Option<String> = None;
    let mut steps = 0usize;
    let mut carried: Carried = Vec::new();
    for p in &pages {
        let real = located(p, &docs, &docs_name)?;
        if seen.contains(&real) {
            report.note(
                &p.at,
                &p.path,
                "the page is listed twice: imported once, where it is first listed",
            );
            continue;
        }
        seen.push(real.clone());
        let shown_page = if site_dir == Path::new(".") {
            Path::new(&docs_name).join(&p.path)
        } else {
            site_dir.join(&docs_name).join(&p.path)
        };
        let name = chapter_name(&p.path, &names);
        let chapter = out_dir.join(format!("{name}.yaml"));
        let page_req = Request {
            page: &shown_page,
            root: Some(root_dir),
            env: req.env,
            env_files: req.env_files,
            out: Some(&chapter),
        };
        match import_after(&page_req, limits, &carried) {
            Ok((imported, env)) => {
                carried = env;
                names.push(name.clone());
                steps += imported.report.summary.steps;
                report.entries.extend(imported.report.entries);
                chapters.push((chapter, imported.playbook));
                listed.push((p.group.clone(), format!("{name}.yaml")));
            }
            Err(e) if e.message.starts_with("nothing to import") => {
                if overview.is_none() && chapters.is_empty() {
                    let text = super::page::read_text(&real, &p.path, limits.page_bytes)?;
                    overview = Some(without_front_matter(&text));
                    report.note(
                        &p.at,
                        &p.path,
                        "no shell block: the page is the tutorial's overview",
                    );
                } else {
                    report.note(&p.at, &p.path, &format!("left out: {}", e.message));
                }
            }
            Err(e) => return Err(e),
        }
    }
    if chapters.is_empty() {
        return Err(ImportError::new(
            shown,
            "nothing to import: no page of the site has a shell block",
        ));
    }
    report.finish(steps);
    let title = match get("site_name").map(|n| &n.value) {
        Some(Value::Str(s)) if !clean(s).is_empty() => clean(s),
        _ => "Tutorial".to_owned(),
    };
    let tutorial = tutorial_text(&shown, &title, overview.as_deref(), &listed);
    Ok(Site {
        tutorial,
        chapters,
        report,
    })
}

/// docs_dir as written and as a real path under the site's directory.
fn docs_dir(
    node: Option<&Node>,
    site_dir: &Path,
    shown: &str,
) -> Result<(String, PathBuf), ImportError> {
    let name = match node.map(|n| &n.value) {
        Some(Value::Str(s)) => s.clone(),
        _ => "docs".to_owned(),
    };
    let at = node.map_or_else(
        || shown.to_owned(),
        |n| format!("{shown}:{}:{}", n.loc.line, n.loc.col),
    );
    let docs = std::fs::canonicalize(site_dir.join(&name)).map_err(|e| {
        ImportError::new(at.clone(), format!("docs_dir `{name}` cannot be read: {e}"))
    })?;
    let site = std::fs::canonicalize(site_dir)
        .map_err(|e| ImportError::new(shown, format!("cannot read its directory: {e}")))?;
    if !docs.starts_with(&site) {
        return Err(ImportError::new(
            at,
            format!("docs_dir `{name}` is outside the site's directory"),
        ));
    }
    Ok((name, docs))
}

/// The real path of a nav page: a file under docs_dir.
fn located(p: &Page, docs: &Path, docs_name: &str) -> Result<PathBuf, ImportError> {
    let real = std::fs::canonicalize(docs.join(&p.path))
        .ok()
        .filter(|r| r.is_file() || !r.starts_with(docs))
        .ok_or_else(|| {
            ImportError::new(
                p.at.clone(),
                format!(
                    "the nav lists `{}`, which is not a file in docs_dir `{docs_name}`",
                    p.path
                ),
            )
        })?;
    if !real.starts_with(docs) {
        return Err(ImportError::new(
            p.at.clone(),
            format!("the nav's `{}` is outside docs_dir `{docs_name}`", p.path),
        ));
    }
    Ok(real)
}

/// The chapter's file name (without `.yaml`) from the page's path, unique.
fn chapter_name(path: &str, names: &[String]) -> String {
    let mut base = slug(&path.trim_end_matches(".md").replace('/', "-"));
    if base.is_empty() {
        base = "chapter".to_owned();
    }
    let mut name = base.clone();
    let mut n = 2;
    while names.contains(&name) {
        name = format!("{base}-{n}");
        n += 1;
    }
    name
}

/// The nav's pages in order, with their top-level group.
fn walk(
    shown: &str,
    node: &Node,
    group: Option<&str>,
    depth: usize,
    out: &mut Vec<Page>,
    report: &mut Report,
) -> Result<(), ImportError> {
    let at = format!("{shown}:{}:{}", node.loc.line, node.loc.col);
    if depth > MAX_DEPTH {
        return Err(ImportError::new(
            at,
            format!("nav groups nest deeper than {MAX_DEPTH} levels"),
        ));
    }
    match &node.value {
        Value::Seq(items) => {
            for item in items {
                walk(shown, item, group, depth + 1, out, report)?;
            }
        }
        Value::Str(path) => page(path, at, group, out, report)?,
        Value::Map(pairs) => {
            for (k, v) in pairs {
                let title = match &k.value {
                    Value::Str(s) => s.clone(),
                    _ => String::new(),
                };
                match &v.value {
                    Value::Str(path) => {
                        let at = format!("{shown}:{}:{}", v.loc.line, v.loc.col);
                        page(path, at, group, out, report)?;
                    }
                    Value::Seq(_) => {
                        let g = group.map_or_else(|| clean(&title), str::to_owned);
                        walk(shown, v, Some(&g), depth + 1, out, report)?;
                    }
                    _ => report.note(
                        &at,
                        &title,
                        "a nav entry that is neither a page nor a group: left out",
                    ),
                }
            }
        }
        _ => report.note(
            &at,
            "",
            "a nav entry that is neither a page nor a group: left out",
        ),
    }
    Ok(())
}

fn page(
    path: &str,
    at: String,
    group: Option<&str>,
    out: &mut Vec<Page>,
    report: &mut Report,
) -> Result<(), ImportError> {
    if path.contains("://") || path.starts_with("mailto:") {
        report.note(&at, path, "a link, not a page: left out");
        return Ok(());
    }
    if !path.ends_with(".md") {
        report.note(&at, path, "not a Markdown page: left out");
        return Ok(());
    }
    if out.len() >= MAX_PAGES {
        return Err(ImportError::new(
            at,
            format!("the nav lists more than {MAX_PAGES} pages"),
        ));
    }
    out.push(Page {
        path: path.to_owned(),
        at,
        group: group.map(str::to_owned),
    });
    Ok(())
}

/// Without a nav: the Markdown files of docs_dir, `index.md` first, then by path (bounded).
fn unlisted(docs: &Path, shown: &str, out: &mut Vec<Page>) {
    let mut files = Vec::new();
    collect(docs, Path::new(""), 0, &mut files);
    files.sort_by_key(|p| (p != Path::new("index.md"), p.clone()));
    for f in files.into_iter().take(MAX_PAGES) {
        out.push(Page {
            path: f.display().to_string(),
            at: shown.to_owned(),
            group: None,
        });
    }
}

/// Markdown files under `dir` (as paths under `rel`), no symlinks, bounded.
fn collect(dir: &Path, rel: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd
        .filter_map(Result::ok)
        .map(|e| e.path())
        .take(4 * MAX_PAGES)
        .collect();
    entries.sort();
    for p in entries {
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        let Some(name) = p.file_name() else { continue };
        let r = rel.join(name);
        if meta.is_dir() && depth < MAX_DEPTH {
            collect(&p, &r, depth + 1, out);
        } else if meta.is_file()
            && r.extension().is_some_and(|e| e == "md")
            && out.len() < MAX_PAGES
        {
            out.push(r);
        }
    }
}

/// A title as text: control characters and template markers out, one line, at most 200 characters.
fn clean(s: &str) -> String {
    let one: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .replace("{{", "{ {")
        .replace("{%", "{ %")
        .replace("{#", "{ #");
    one.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(200)
        .collect()
}

fn without_front_matter(text: &str) -> String {
    let body = text
        .strip_prefix("---\n")
        .and_then(|rest| rest.find("\n---\n").map(|i| &rest[i + 5..]))
        .unwrap_or(text);
    format!("{}\n", body.trim())
}

/// The tutorial file: header, overview, chapters in order, groups kept together.
fn tutorial_text(
    shown: &str,
    title: &str,
    overview: Option<&str>,
    listed: &[(Option<String>, String)],
) -> String {
    let mut chapters: Vec<Y> = Vec::new();
    let mut i = 0;
    while i < listed.len() {
        match &listed[i].0 {
            None => {
                chapters.push(Y::s(listed[i].1.clone()));
                i += 1;
            }
            Some(g) => {
                let mut items = Vec::new();
                while i < listed.len() && listed[i].0.as_ref() == Some(g) {
                    items.push(Y::s(listed[i].1.clone()));
                    i += 1;
                }
                chapters.push(Y::map(vec![
                    ("group", Y::s(g.clone())),
                    ("chapters", Y::List(items)),
                ]));
            }
        }
    }
    let mut top = vec![
        (
            "name",
            Y::s({
                let s = slug(title);
                if s.is_empty() {
                    "tutorial".to_owned()
                } else {
                    s
                }
            }),
        ),
        ("title", Y::s(title.to_owned())),
    ];
    if let Some(o) = overview.filter(|o| !o.trim().is_empty()) {
        top.push(("overview", Y::s(o.to_owned())));
    }
    top.push(("chapters", Y::List(chapters)));
    let mut out = format!(
        "# Imported by `scenario import` from {}: one chapter per page of its nav.\n# Review every chapter's exec steps and proposed checks.\n",
        shown.replace('\n', " ")
    );
    block(&mut out, &Y::map(top), 0);
    out
}
