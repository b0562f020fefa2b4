//! What flows through a chapter: vars computed from captures, the values
//! earlier chapters export (imports), and what the chapter exports.

use std::collections::BTreeSet;

use indexmap::IndexMap;

use crate::language::diag::Diagnostic;
use crate::language::raw::RawPlaybook;
use crate::language::template;
use crate::language::yaml::{Loc, Node, Spanned, Value};
use crate::model::chapter::ChapterCx;
use crate::model::playbook::Import;
use crate::model::validator::Validator;

/// The values earlier chapters of the tutorial export: the chapter may read
/// them as it reads its own captures.
pub fn chapter_imports(c: &ChapterCx) -> Vec<Import> {
    let mut out: Vec<Import> = Vec::new();
    for chapter in &c.shared.chapters[..c.index] {
        for e in &chapter.exports {
            out.retain(|i| i.name != e.name);
            out.push(Import {
                name: e.name.clone(),
                chapter: chapter.name.clone(),
                at: e.at.clone(),
            });
        }
    }
    out
}

/// `exports:`: each a new name, its template over what the chapter knows
/// (vars, its captures, earlier chapters' exports).
pub fn read_exports(
    cx: &mut Validator,
    raw: &IndexMap<String, Spanned<String>>,
    vars: &IndexMap<String, serde_json::Value>,
) -> Vec<(String, serde_json::Value)> {
    let mut out = Vec::new();
    cx.step_vars.clear();
    cx.step_clusters.clear();
    for (name, t) in raw {
        if !crate::model::validator::is_identifier(name)
            || template::BUILTINS.contains(&name.as_str())
            || vars.contains_key(name)
        {
            cx.error(
                t.loc,
                format!(
                    "`{}` cannot be exported",
                    crate::language::limits::excerpt(name)
                ),
            )
            .expected("a new identifier (letters, digits, `_`), not a var or a built-in name");
            continue;
        }
        if cx.template(t, &BTreeSet::new()) {
            out.push((name.clone(), serde_json::Value::String(t.value.clone())));
        }
    }
    out
}

/// An unknown name in a chapter: say when a later chapter exports it (a
/// chapter reads only what earlier ones give it).
pub fn explain_unknown(diags: &mut [Diagnostic], c: &ChapterCx) {
    for d in diags.iter_mut().filter(|d| d.help.is_none()) {
        let Some(name) = d
            .message
            .strip_prefix("unknown variable `")
            .and_then(|r| r.split('`').next())
        else {
            continue;
        };
        let later = c.shared.chapters[c.index + 1..]
            .iter()
            .find(|ch| ch.exports.iter().any(|e| e.name == name));
        d.help = Some(match later {
            Some(ch) => format!(
                "`{name}` is exported by chapter `{}`, which comes after this one in the tutorial: a chapter reads only what earlier chapters export",
                ch.name
            ),
            None => format!(
                "no var, no capture of an earlier step and no export of an earlier chapter of `{}` is named `{name}`",
                c.shared.file
            ),
        });
    }
}

/// Vars written as templates (and not set by `--var` or `--vars-file`):
/// computed at each step from what is known then, captures included. The
/// scope and the validator learn them (with the captures each reads);
/// returns them with their locations and every name each reads.
pub fn computed_vars(
    cx: &mut Validator,
    root: &Node,
    header: Option<&RawPlaybook>,
    vars: &IndexMap<String, serde_json::Value>,
) -> Vec<Computed> {
    fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
            serde_json::Value::Object(o) => o.values().for_each(|x| strings(x, out)),
            _ => {}
        }
    }
    let Some(h) = header else {
        return Vec::new();
    };
    let loc_of = |name: &str| match root.get("vars").map(|v| &v.value) {
        Some(Value::Map(e)) => e
            .iter()
            .find(|(k, _)| k.value == Value::Str(name.to_owned()))
            .map_or(root.loc, |(_, v)| v.loc),
        _ => root.loc,
    };
    let mut computed = Vec::new();
    for (name, value) in &h.vars {
        let mut texts = Vec::new();
        strings(value, &mut texts);
        let templated = texts.iter().any(|t| t.contains("{{") || t.contains("{%"));
        if !templated || vars.get(name) != Some(value) {
            continue;
        }
        let reads: BTreeSet<String> = texts
            .iter()
            .filter_map(|t| template::variables(&cx.env, t))
            .flatten()
            .collect();
        let inputs = reads
            .iter()
            .filter(|n| {
                *n == "captures"
                    || !(cx.known.contains(*n) || template::BUILTINS.contains(&n.as_str()))
            })
            .cloned()
            .collect();
        cx.computed.insert(name.clone(), inputs);
        computed.push(Computed {
            name: name.clone(),
            value: value.clone(),
            loc: loc_of(name),
            reads,
        });
    }
    cx.scope.set_computed(
        computed
            .iter()
            .map(|c| (c.name.clone(), c.value.clone()))
            .collect(),
    );
    cx.preview.take();
    computed
}

/// A var written as a template.
pub struct Computed {
    name: String,
    value: serde_json::Value,
    loc: Loc,
    /// Every name its templates read.
    reads: BTreeSet<String>,
}

/// A computed var's templates, once every step is read (so that every
/// capture is known): no unknown name, and no other computed var (they see
/// the vars as written, not each other's values).
pub fn check_computed(cx: &mut Validator, computed: &[Computed]) {
    cx.step_vars.clear();
    cx.step_clusters.clear();
    let own = std::mem::take(&mut cx.computed);
    for c in computed {
        if let Some(other) = computed
            .iter()
            .find(|o| o.name != c.name && c.reads.contains(&o.name))
        {
            cx.error(
                c.loc,
                format!("var `{}` reads `{}`, another var that is a template", c.name, other.name),
            )
            .expected("a var computed from plain vars, env and captures (vars do not see each other's computed values)");
            continue;
        }
        cx.template_json(&c.value, c.loc, &BTreeSet::new());
    }
    cx.computed = own;
}
