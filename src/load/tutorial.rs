//! Reading a tutorial file: its header, shared definitions (clusters, vars,
//! defaults, reusable steps), its chapters in order, and what each chapter
//! exports (read ahead of the chapters themselves, so that a chapter knows
//! what earlier ones give it and a cycle of exports is found).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use crate::language::diag::{Diagnostic, did_you_mean};
use crate::language::from_node::from_node;
use crate::language::raw_tutorial::RawTutorial;
use crate::language::source::{Source, display_path, read_text};
use crate::language::template;
use crate::language::yaml::{self, Loc, Node, Value};
use crate::model::chapter::{ChapterRef, ExportRef, Reusable, Shared};

/// Whether a parsed YAML document is a tutorial (it lists `chapters`).
#[must_use]
pub fn is_tutorial(root: &Node) -> bool {
    root.get("chapters").is_some()
}

/// Whether the file at `path` is a tutorial (an unreadable or invalid file
/// is not: loading it as a playbook says what is wrong).
#[must_use]
pub fn file_is_tutorial(path: &Path) -> bool {
    read_text(path)
        .ok()
        .and_then(|t| yaml::parse(&t).ok())
        .is_some_and(|root| is_tutorial(&root))
}

/// Reads a tutorial file: header, shared definitions, chapters and their exports.
///
/// # Errors
/// Every problem found (located in the tutorial or in a chapter's exports).
pub fn read_shared(path: &Path) -> Result<Shared, Vec<Diagnostic>> {
    let shown = display_path(path);
    let text = read_text(path).map_err(|msg| {
        vec![Diagnostic::file(
            &shown,
            format!("cannot load tutorial: {msg}"),
        )]
    })?;
    let src = Source::new(shown.clone(), text);
    let root = yaml::parse(&src.text).map_err(|e| vec![Diagnostic::from_yaml(&src, &e)])?;
    let raw: RawTutorial = from_node(&root).map_err(|e| vec![Diagnostic::from_yaml(&src, &e)])?;
    let dir = path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let mut diags = Vec::new();
    let steps = reusable_steps(&src, &raw.steps, &mut diags);
    let chapters = chapter_refs(&src, &dir, &raw.chapters, &mut diags);
    if diags.is_empty() {
        diags.extend(export_cycles(&chapters));
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    Ok(Shared {
        name: raw.name.value,
        title: raw.title,
        overview: raw.overview,
        file: shown,
        canonical: path.canonicalize().unwrap_or_else(|_| path.to_path_buf()),
        clusters: root.get("clusters").cloned(),
        vars: root.get("vars").cloned(),
        defaults: root.get("defaults").cloned(),
        steps,
        chapters,
        env_refs: crate::language::secrets::env_refs(&src.text),
    })
}

/// The reusable steps: `params` apart from the body; a body has no `name`.
fn reusable_steps(
    src: &Source,
    raw: &IndexMap<String, Node>,
    diags: &mut Vec<Diagnostic>,
) -> IndexMap<String, Reusable> {
    let mut out = IndexMap::new();
    for (name, node) in raw {
        let Value::Map(entries) = &node.value else {
            diags.push(
                Diagnostic::new(
                    src,
                    Some(node.loc),
                    format!(
                        "reusable step `{name}` must be a mapping, found {}",
                        node.value.kind()
                    ),
                )
                .with_expected(
                    "a step without `name` (one action and its options), and optional `params`",
                ),
            );
            continue;
        };
        let mut params = IndexMap::new();
        let mut body = Vec::new();
        for (k, v) in entries {
            match &k.value {
                Value::Str(s) if s == "params" => match &v.value {
                    Value::Map(ps) => {
                        for (pk, pv) in ps {
                            let Value::Str(p) = &pk.value else { continue };
                            let default = (pv.value != Value::Null).then(|| pv.to_json());
                            params.insert(p.clone(), default);
                        }
                    }
                    Value::Null => {}
                    other => diags.push(
                        Diagnostic::new(
                            src,
                            Some(v.loc),
                            format!("`params` must be a mapping, found {}", other.kind()),
                        )
                        .with_expected(
                            "parameter name -> default value (empty: the parameter is required)",
                        ),
                    ),
                },
                Value::Str(s) if s == "name" || s == "use" => diags.push(
                    Diagnostic::new(
                        src,
                        Some(k.loc),
                        format!("reusable step `{name}` cannot set `{s}`"),
                    )
                    .with_expected("the step's body; the chapter that uses it gives its `name`"),
                ),
                _ => body.push((k.clone(), v.clone())),
            }
        }
        out.insert(name.clone(), Reusable { params, body });
    }
    out
}

/// The chapters in order (paths relative to the tutorial), each read ahead
/// for its name and exports.
fn chapter_refs(
    src: &Source,
    dir: &Path,
    raw: &[Node],
    diags: &mut Vec<Diagnostic>,
) -> Vec<ChapterRef> {
    let mut listed: Vec<(String, Loc, Option<String>)> = Vec::new();
    for entry in raw {
        match &entry.value {
            Value::Str(p) => listed.push((p.clone(), entry.loc, None)),
            Value::Map(_) => {
                let group = match entry.get("group").map(|g| &g.value) {
                    Some(Value::Str(g)) => Some(g.clone()),
                    _ => None,
                };
                let items = match entry.get("chapters").map(|c| &c.value) {
                    Some(Value::Seq(items)) => items.as_slice(),
                    _ => &[],
                };
                let unknown = match &entry.value {
                    Value::Map(e) => e.iter().find(|(k, _)| !matches!(&k.value, Value::Str(s) if s == "group" || s == "chapters")),
                    _ => None,
                };
                if group.is_none() || items.is_empty() || unknown.is_some() {
                    let loc = unknown.map_or(entry.loc, |(k, _)| k.loc);
                    diags.push(
                        Diagnostic::new(src, Some(loc), "a group of chapters needs `group` (its title) and a list of `chapters`, and nothing else")
                            .with_expected("`{group: Deploy, chapters: [deploy.yaml, ...]}`"),
                    );
                    continue;
                }
                for i in items {
                    match &i.value {
                        Value::Str(p) => listed.push((p.clone(), i.loc, group.clone())),
                        other => diags.push(
                            Diagnostic::new(src, Some(i.loc), format!("a chapter is a path, found {}", other.kind()))
                                .with_expected("a playbook file relative to the tutorial, e.g. `traffic-management.yaml`"),
                        ),
                    }
                }
            }
            other => diags.push(
                Diagnostic::new(src, Some(entry.loc), format!("a chapter is a path or a group, found {}", other.kind()))
                    .with_expected("a playbook file relative to the tutorial, or `{group: TITLE, chapters: [...]}`"),
            ),
        }
    }
    if listed.is_empty() && diags.is_empty() {
        diags.push(
            Diagnostic::new(src, None, "the tutorial lists no chapter")
                .with_expected("at least one playbook under `chapters:`"),
        );
    }
    let mut out: Vec<ChapterRef> = Vec::new();
    for (p, loc, group) in listed {
        let path = dir.join(&p);
        if !path.is_file() {
            let mut d = Diagnostic::new(src, Some(loc), format!("chapter `{p}` does not exist"))
                .with_expected(format!(
                    "a playbook file, relative to the tutorial's directory `{}`",
                    display_path(dir)
                ));
            if let Some(h) = near_file(dir, &p) {
                d.help = Some(format!("did you mean `{h}`?"));
            }
            diags.push(d);
            continue;
        }
        let canonical = path.canonicalize().ok();
        if out.iter().any(|c| c.canonical == canonical) {
            diags.push(
                Diagnostic::new(src, Some(loc), format!("chapter `{p}` is listed twice"))
                    .with_expected("each chapter once, in reading order"),
            );
            continue;
        }
        let (name, exports) = read_ahead(&path);
        out.push(ChapterRef {
            path,
            canonical,
            name,
            group,
            exports,
        });
    }
    out
}

/// A file of `dir` whose name is close to `wanted` (a misspelt chapter).
fn near_file(dir: &Path, wanted: &str) -> Option<String> {
    let (sub, file) = match wanted.rsplit_once('/') {
        Some((s, f)) => (dir.join(s), f),
        None => (dir.to_path_buf(), wanted),
    };
    let names: Vec<String> = std::fs::read_dir(&sub)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    let near = did_you_mean(file, names.iter().map(String::as_str))?;
    Some(match wanted.rsplit_once('/') {
        Some((s, _)) => format!("{s}/{near}"),
        None => near.to_owned(),
    })
}

/// A chapter's name and exports, read without validating it (the chapter's
/// own load reports what is wrong with it).
fn read_ahead(path: &Path) -> (String, Vec<ExportRef>) {
    let fallback = path
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let Ok(text) = read_text(path) else {
        return (fallback, Vec::new());
    };
    let Ok(root) = yaml::parse(&text) else {
        return (fallback, Vec::new());
    };
    let name = match root.get("name").map(|n| &n.value) {
        Some(Value::Str(n)) => n.clone(),
        _ => fallback,
    };
    let shown = display_path(path);
    let env = template::environment();
    let mut exports = Vec::new();
    if let Some(Value::Map(entries)) = root.get("exports").map(|n| &n.value) {
        for (k, v) in entries {
            let Value::Str(export) = &k.value else {
                continue;
            };
            let uses = match &v.value {
                Value::Str(t) => template::variables(&env, t)
                    .map(|vars| vars.into_iter().collect())
                    .unwrap_or_default(),
                _ => BTreeSet::new(),
            };
            exports.push(ExportRef {
                name: export.clone(),
                uses,
                at: format!("{shown}:{}", v.loc),
                loc: v.loc,
            });
        }
    }
    (name, exports)
}

/// A cycle among the exports of different chapters (`a.x` is computed from
/// `b.y`, which is computed from `a.x`): located at the first export of it.
/// An export: its chapter's index and its own among the chapter's exports.
type Export = (usize, usize);

fn export_cycles(chapters: &[ChapterRef]) -> Option<Diagnostic> {
    // Which chapter exports each name (the last one listed wins, as a run would).
    let mut by_name: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (ci, c) in chapters.iter().enumerate() {
        for (ei, e) in c.exports.iter().enumerate() {
            by_name.insert(&e.name, (ci, ei));
        }
    }
    let edges = |(ci, ei): (usize, usize)| -> Vec<(usize, usize)> {
        chapters[ci].exports[ei]
            .uses
            .iter()
            .filter_map(|u| by_name.get(u.as_str()).copied())
            .filter(|(c, _)| *c != ci)
            .collect()
    };
    // Depth-first, each export once (white, on the current path, done): linear
    // in the exports and their uses, so a long chain of exports costs little.
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    let mut mark: BTreeMap<(usize, usize), Mark> = BTreeMap::new();
    for (ci, c) in chapters.iter().enumerate() {
        for ei in 0..c.exports.len() {
            if mark.get(&(ci, ei)).copied().unwrap_or(Mark::New) != Mark::New {
                continue;
            }
            let mut first = edges((ci, ei));
            first.reverse();
            let mut path: Vec<(Export, Vec<Export>)> = vec![((ci, ei), first)];
            mark.insert((ci, ei), Mark::OnPath);
            while let Some((at, next)) = path.last_mut() {
                let at = *at;
                let Some(n) = next.pop() else {
                    mark.insert(at, Mark::Done);
                    path.pop();
                    continue;
                };
                match mark.get(&n).copied().unwrap_or(Mark::New) {
                    Mark::OnPath => {
                        let from = path.iter().position(|(x, _)| *x == n).unwrap_or(0);
                        let cycle: Vec<(usize, usize)> =
                            path[from..].iter().map(|(x, _)| *x).collect();
                        return Some(cycle_error(chapters, &cycle));
                    }
                    Mark::New => {
                        mark.insert(n, Mark::OnPath);
                        let mut out = edges(n);
                        // Popped from the end: the first use is followed first.
                        out.reverse();
                        path.push((n, out));
                    }
                    Mark::Done => {}
                }
            }
        }
    }
    None
}

fn cycle_error(chapters: &[ChapterRef], path: &[(usize, usize)]) -> Diagnostic {
    let label =
        |(c, e): (usize, usize)| format!("`{}.{}`", chapters[c].name, chapters[c].exports[e].name);
    // A long cycle is named by its first steps and its length.
    const SHOWN: usize = 6;
    let mut names: Vec<String> = path.iter().take(SHOWN).map(|p| label(*p)).collect();
    if path.len() > SHOWN {
        names.push(format!("… ({} exports in the cycle)", path.len()));
    }
    names.push(label(path[0]));
    let (c, e) = path[0];
    let first = &chapters[c].exports[e];
    let src = Source::new(
        display_path(&chapters[c].path),
        read_text(&chapters[c].path).unwrap_or_default(),
    );
    Diagnostic::new(
        &src,
        Some(first.loc),
        format!("cycle of exports: {}", names.join(" is computed from ")),
    )
    .with_expected("exports computed from the chapter's own captures and vars, or from earlier chapters' exports")
}
