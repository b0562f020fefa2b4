//! The values that flow between the pages of a tutorial's site: a chapter's
//! exports become shell variables its page sets (after its main steps, where
//! a run computes them), and later pages read them as `${NAME}`.
//!
//! A value is carried when its export renders, on the page, to text made of
//! shell variables and literal text: the page renders it twice, with the
//! variables' names spelt two ways, and the two must agree once the
//! spelling is undone. A filter, an index or an attribute that changes the
//! value (`| int`, `[0]`, `.weight`, `| upper`) makes them differ, and such an
//! export is not carried: its page says so, and a later page that uses it is
//! an error (never a command that silently reads an unset variable).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::language::diag::Diagnostic;
use crate::language::scope::Captures;
use crate::language::shell::{var_marker, var_name, word};
use crate::language::template;
use crate::model::playbook::Playbook;

/// Spells a variable's name the second way (inside its marker): private-use
/// characters around letters of both cases, so that a filter that changes
/// case or length changes it.
pub const SALT: &str = "\u{E002}qQ\u{E002}";

/// Marks a value no page can set: its name on a page means that page uses it.
pub const POISON: char = '\u{E003}';

/// One export of a chapter, as the site carries it (or not).
#[derive(Debug, Clone)]
pub struct Export {
    pub name: String,
    /// The shell variable later pages read.
    pub var: String,
    /// The 0-based chapter that exports it.
    pub chapter: usize,
    /// `VAR=...` on the producing page (`None`: the page sets `VAR` itself,
    /// or the value is not carried).
    pub line: Option<String>,
    /// Why the value is not carried (`None`: it is).
    pub not_carried: Option<String>,
}

/// The marker of a variable, spelt the first or the second way.
fn marker(var: &str, salted: bool) -> String {
    if salted {
        var_marker(&format!("{var}{SALT}"))
    } else {
        var_marker(var)
    }
}

/// What earlier chapters give a page: name -> marker (the last exporter of
/// a name wins, as in a run). A value not carried is a poison marker.
#[must_use]
pub fn imports(exports: &[Export], before: usize, salted: bool) -> Map<String, Value> {
    let mut out = Map::new();
    for e in exports.iter().filter(|e| e.chapter < before) {
        let v = if e.not_carried.is_some() {
            var_marker(&format!("{POISON}{}", e.name))
        } else {
            marker(&e.var, salted)
        };
        out.insert(e.name.clone(), Value::String(v));
    }
    out
}

/// The chapter's captures as markers, spelt the second way when `salted`,
/// and what earlier chapters give it (`imports`), under its own captures
/// (which win, as in a run).
#[must_use]
pub fn captures(pb: &Playbook, salted: bool, imports: &Map<String, Value>) -> Captures {
    let mut c = pb.docs_captures();
    if salted {
        let salt = |m: &mut Map<String, Value>| {
            for v in m.values_mut() {
                if let Value::String(s) = v {
                    *s = s.replace('\u{E001}', &format!("{SALT}\u{E001}"));
                }
            }
        };
        salt(&mut c.global);
        for m in c.per_cluster.values_mut() {
            salt(m);
        }
    }
    // An import the chapter does not capture itself is the marker given here
    // (whatever the chapter page alone makes of it).
    let own: Vec<String> = pb
        .steps
        .iter()
        .chain(&pb.finally)
        .flat_map(|s| s.action.captures())
        .collect();
    for (k, v) in imports {
        if !own.contains(k) {
            c.global.insert(k.clone(), v.clone());
        }
    }
    c
}

/// The exports of chapter `index` as its page carries them. `earlier` are
/// the exports of the chapters before it. `taken` are shell variables the
/// site uses for something else (contexts, environment secrets).
///
/// # Errors
/// An export whose shell variable is taken (located at the export).
pub fn chapter_exports(
    pb: &Playbook,
    index: usize,
    earlier: &[Export],
    taken: &BTreeMap<String, String>,
) -> Result<Vec<Export>, Diagnostic> {
    let env = template::environment();
    let render = |t: &Value, salted: bool| -> Result<String, String> {
        let ctx = pb.scope.masked_env(&pb.secret_env).step(
            &BTreeMap::new(),
            None,
            &captures(pb, salted, &imports(earlier, index, salted)),
        );
        let t = t.as_str().unwrap_or_default();
        template::render(&env, t, &ctx).map_err(|e| e.message)
    };
    let mut out = Vec::new();
    for (name, t) in &pb.exports {
        let var = var_name(name, None);
        if let Some(what) = taken.get(&var) {
            return Err(Diagnostic::new(
                &pb.source,
                export_loc(pb, name),
                format!("export `{name}` would be the shell variable `{var}` on the site, which already holds {what}"),
            )
            .with_expected("an export whose upper-case name is not a cluster's context variable or an environment secret"));
        }
        let (line, not_carried) = match (render(t, false), render(t, true)) {
            (Ok(a), Ok(b))
                if a == b.replace(SALT, "")
                    && !a.contains(POISON)
                    && !word(&a).contains(['\u{E000}', '\u{E001}']) =>
            {
                let set = word(&a);
                if set == format!("\"${{{var}}}\"") {
                    (None, None)
                } else {
                    (Some(format!("{var}={set}")), None)
                }
            }
            (Err(e), _) | (_, Err(e)) => (
                None,
                Some(format!(
                    "it is computed from a captured value, which a page holds only as the text of a shell variable ({e})"
                )),
            ),
            _ => (
                None,
                Some(
                    "it is computed from a value (a filter, an index or an attribute of a captured value), not a copy of it"
                        .to_owned(),
                ),
            ),
        };
        out.push(Export {
            name: name.clone(),
            var,
            chapter: index,
            line,
            not_carried,
        });
    }
    Ok(out)
}

/// Where an export is written in its chapter (for messages).
fn export_loc(pb: &Playbook, name: &str) -> Option<crate::language::yaml::Loc> {
    let root = crate::language::yaml::parse(&pb.source.text).ok()?;
    let exports = root.get("exports")?;
    let crate::language::yaml::Value::Map(entries) = &exports.value else {
        return None;
    };
    entries
        .iter()
        .find(|(k, _)| matches!(&k.value, crate::language::yaml::Value::Str(s) if s == name))
        .map(|(k, _)| k.loc)
}

/// The Markdown the producing page shows after its main steps: the lines
/// that set what later pages read, and what it cannot carry.
#[must_use]
pub fn after_steps(mine: &[Export], has_later: bool) -> String {
    if !has_later || mine.is_empty() {
        return String::new();
    }
    let mut md = String::new();
    let lines: Vec<&str> = mine.iter().filter_map(|e| e.line.as_deref()).collect();
    if !lines.is_empty() {
        let _ = writeln!(
            md,
            "The next chapters read values this one found; set them in your shell, as `scenario run` passes them on:\n\n```bash\n{}\n```\n",
            lines.join("\n")
        );
    }
    for e in mine {
        if let Some(why) = &e.not_carried {
            let _ = writeln!(
                md,
                "!!! note \"`{}` is not a shell variable\"\n\n    `scenario run` passes `{}` on to the next chapters; this page cannot set it in your shell: {}.\n",
                e.name,
                e.name,
                super::markdown::text(why)
            );
        }
    }
    md
}

/// Where a page stands among the site's pages (for links and messages).
#[derive(Debug, Clone)]
pub struct PageRef {
    pub file: String,
    pub title: String,
}

/// The Markdown after "Ensure Environment" of a page that reads values
/// earlier pages set: which page sets each, and a guard that stops a reader
/// who starts here before setting them.
#[must_use]
pub fn before(used: &[&Export], pages: &[PageRef]) -> String {
    if used.is_empty() {
        return String::new();
    }
    let mut md = String::from(
        "This chapter reads values that earlier chapters set in your shell. Run it in the shell where you ran them; if you start here, set each one first:\n\n",
    );
    let mut guard = String::new();
    for e in used {
        let p = &pages[e.chapter];
        let _ = writeln!(
            md,
            "- `{}` is set by [{}]({}) (its `{}`); by hand: `export {}=VALUE`, the value that chapter finds",
            e.var,
            super::markdown::text(&p.title),
            p.file,
            e.name,
            e.var
        );
        let _ = writeln!(
            guard,
            ": \"${{{}:?set by chapter {} ({}): run its commands first, or export {}}}\"",
            e.var,
            e.chapter + 1,
            p.file,
            e.var
        );
    }
    let _ = write!(md, "\n```bash\n{guard}```\n");
    md
}

/// Checks a rendered page against the same page rendered with the imports'
/// names spelt the second way: the values that flow are copied onto the
/// page, not changed, and none that cannot be carried is used.
///
/// # Errors
/// The first value the page uses that it cannot hold (located in the chapter).
pub fn check_page(
    pb: &Playbook,
    plain: &str,
    salted: &str,
    exports: &[Export],
    index: usize,
) -> Result<(), Diagnostic> {
    // The reader's commands; a check in words may show a value's template.
    let plain = &bash_lines(plain);
    let salted = &bash_lines(salted);
    let imported: Vec<&Export> = exports.iter().filter(|e| e.chapter < index).collect();
    let fail = |e: Option<&Export>, what: String| {
        let loc = e.and_then(|e| use_loc(pb, &e.name));
        Diagnostic::new(&pb.source, loc, what).with_expected(
            "templates that copy a value of an earlier chapter into a command (`{{ ingress_ip }}`, `http://{{ ingress_ip }}/api`); compute with it in the chapter that exports it",
        )
    };
    for e in &imported {
        let by = &e.chapter + 1;
        if let Some(why) = &e.not_carried
            && plain.contains(&format!("{POISON}{}", e.name))
        {
            return Err(fail(
                Some(e),
                format!(
                    "the site cannot write this chapter's page: it uses `{}`, which chapter {by} exports but its page cannot set as a shell variable ({why})",
                    e.name
                ),
            ));
        }
        let left = regex::Regex::new(&format!(r"\{{\{{[^}}]*\b{}\b", regex::escape(&e.name)))
            .ok()
            .and_then(|r| r.find(plain).map(|m| m.as_str().to_owned()));
        if let Some(t) = left {
            return Err(fail(
                Some(e),
                format!(
                    "the site cannot write this chapter's page: `{}…` reads `{}` (exported by chapter {by}) in a way a shell variable cannot stand for",
                    crate::language::limits::excerpt(&t),
                    e.name
                ),
            ));
        }
    }
    if let Some(line) = plain.lines().find(|l| l.contains(['\u{E000}', '\u{E001}'])) {
        let culprit = imported.first().copied();
        return Err(fail(
            culprit,
            format!(
                "the site cannot write this chapter's page: a template takes a part of a captured value or of a value of an earlier chapter (an index or a slice), which no shell variable holds: `{}`",
                crate::language::limits::excerpt(line.trim())
                    .replace(['\u{E000}', '\u{E001}'], "?")
            ),
        ));
    }
    let desalted = salted.replace(SALT, "");
    if desalted != *plain {
        let line = plain
            .lines()
            .zip(desalted.lines())
            .find(|(a, b)| a != b)
            .map_or_else(String::new, |(a, _)| a.to_owned());
        let culprit = imported
            .iter()
            .find(|e| line.contains(&e.var))
            .copied()
            .or_else(|| imported.first().copied());
        return Err(fail(
            culprit,
            format!(
                "the site cannot write this chapter's page: a template changes a value of an earlier chapter (a filter, an index or an attribute), so no shell variable holds what the run uses: `{}`",
                crate::language::limits::excerpt(crate::language::shell::show(&line).trim())
            ),
        ));
    }
    Ok(())
}

/// The lines of a page's bash blocks (top-level or indented), which the
/// reader runs.
#[must_use]
pub fn bash_lines(md: &str) -> String {
    let mut out = String::new();
    let mut fence: Option<String> = None;
    for line in md.lines() {
        let t = line.trim_start();
        match &fence {
            None => {
                let ticks: String = t.chars().take_while(|c| *c == '`').collect();
                if ticks.len() >= 3 && t[ticks.len()..].trim() == "bash" {
                    fence = Some(ticks);
                }
            }
            Some(f) if t.trim_end() == f => fence = None,
            Some(_) => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// A value no page can set, where the page shows it in words (a check):
/// its name, and that an earlier chapter gives it.
#[must_use]
pub fn readable(md: &str) -> String {
    let Ok(re) = regex::Regex::new(&format!(r"\$?{POISON}([A-Za-z0-9_\\]+)")) else {
        return md.to_owned();
    };
    re.replace_all(md, |c: &regex::Captures<'_>| {
        format!("`{}` (from an earlier chapter)", c[1].replace('\\', ""))
    })
    .into_owned()
}

/// The first template of the chapter that reads `name`.
fn use_loc(pb: &Playbook, name: &str) -> Option<crate::language::yaml::Loc> {
    let re = regex::Regex::new(&format!(r"\{{\{{[^}}]*\b{}\b", regex::escape(name))).ok()?;
    let at = re.find(&pb.source.text)?.start();
    let before = &pb.source.text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    Some(crate::language::yaml::Loc {
        line: u32::try_from(line).ok()?,
        col: u32::try_from(col).ok()?,
    })
}

/// The exports a page uses: their variables appear on it, and the chapter
/// does not capture them itself.
#[must_use]
pub fn used<'a>(pb: &Playbook, page: &str, exports: &'a [Export], index: usize) -> Vec<&'a Export> {
    let own: Vec<String> = pb
        .steps
        .iter()
        .chain(&pb.finally)
        .flat_map(|s| s.action.captures())
        .collect();
    let page = &bash_lines(page);
    // The last exporter of a name is the one the page reads.
    let mut by_name: BTreeMap<&str, &Export> = BTreeMap::new();
    for e in exports
        .iter()
        .filter(|e| e.chapter < index && e.not_carried.is_none())
    {
        by_name.insert(&e.name, e);
    }
    by_name
        .into_values()
        .filter(|e| {
            !own.contains(&e.name)
                && regex::Regex::new(&format!(r"\$\{{?{}\b", e.var)).is_ok_and(|r| r.is_match(page))
        })
        .collect()
}
