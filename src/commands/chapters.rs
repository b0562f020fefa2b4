//! `scenario run` of a tutorial: which chapters run (`--chapter`,
//! `--from-chapter`), and that every value a chapter reads from an earlier
//! chapter is produced by a chapter of this run (or given with `--var`).

use super::args::RunControl;
use super::common::Loaded;
use crate::language::diag::{Diagnostic, did_you_mean};
use crate::model::playbook::Playbook;

/// The tutorial of a run: its name and file, for the chapter table.
#[derive(Debug, Clone)]
pub struct Head {
    pub name: String,
    pub file: String,
}

fn cli(message: impl Into<String>) -> Diagnostic {
    Diagnostic::file("<command line>", message)
}

/// The playbooks to run from what was loaded: every playbook, or the
/// selected chapters of the one tutorial.
///
/// # Errors
/// A tutorial among other files, a chapter option without a tutorial, an
/// unknown chapter.
pub fn select(
    loaded: Vec<Loaded>,
    control: &RunControl,
) -> Result<(Vec<Playbook>, Option<Head>), Vec<Diagnostic>> {
    let tutorials = loaded
        .iter()
        .filter(|l| matches!(l, Loaded::Tutorial(_)))
        .count();
    let wanted = control.chapter.as_ref().or(control.from_chapter.as_ref());
    if tutorials == 0 {
        if let Some(w) = wanted {
            let opt = if control.chapter.is_some() {
                "--chapter"
            } else {
                "--from-chapter"
            };
            return Err(vec![
                cli(format!("{opt} {w}: no tutorial was given"))
                    .with_expected("a tutorial file (one that lists `chapters:`) as the only path"),
            ]);
        }
        let books = loaded
            .into_iter()
            .flat_map(|l| match l {
                Loaded::Playbook(pb) => vec![*pb],
                Loaded::Tutorial(t) => t.chapters,
            })
            .collect();
        return Ok((books, None));
    }
    let mut loaded = loaded;
    let (Some(Loaded::Tutorial(t)), true) = (loaded.pop(), loaded.is_empty()) else {
        return Err(vec![cli("a tutorial runs on its own").with_expected(
            "one tutorial file, or playbook files and directories without a tutorial",
        )]);
    };
    let head = Head {
        name: t.name.clone(),
        file: t.file.clone(),
    };
    let mut chapters = t.chapters;
    if let Some(w) = wanted {
        let Some(i) = chapters.iter().position(|c| &c.name == w) else {
            let names: Vec<&str> = chapters.iter().map(|c| c.name.as_str()).collect();
            let mut d = cli(format!("the tutorial `{}` has no chapter `{w}`", head.name))
                .with_expected(format!("one of: {}", names.join(", ")));
            d.help = did_you_mean(w, names.iter().copied()).map(|h| format!("did you mean `{h}`?"));
            return Err(vec![d]);
        };
        chapters.drain(..i);
        if control.chapter.is_some() {
            chapters.truncate(1);
        }
    }
    Ok((chapters, Some(head)))
}

/// Every step that reads a value an earlier chapter exports when no
/// chapter of this run before it produces it and no `--var` gives it: the
/// run would fail there, so it does not start.
#[must_use]
pub fn missing_imports(books: &[Playbook]) -> Vec<Diagnostic> {
    let mut produced: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    let mut diags = Vec::new();
    for pb in books {
        for i in &pb.imports {
            if produced.contains(i.name.as_str()) || pb.vars.contains_key(&i.name) {
                continue;
            }
            let Some(step) = pb
                .steps
                .iter()
                .chain(&pb.finally)
                .find(|s| s.needs.contains(&i.name))
            else {
                continue;
            };
            diags.push(
                Diagnostic::new(
                    &pb.source,
                    Some(step.loc),
                    format!(
                        "step `{}` reads `{}`, which chapter `{}` exports ({}), and that chapter does not run before this one",
                        step.name, i.name, i.chapter, i.at
                    ),
                )
                .with_expected(format!(
                    "the tutorial run from chapter `{}` on (--from-chapter {}), or the value given with --var {}=VALUE (a list or a mapping in a --vars-file)",
                    i.chapter, i.chapter, i.name
                )),
            );
        }
        produced.extend(pb.exports.iter().map(|(n, _)| n.as_str()));
    }
    diags
}
