//! A chapter and its tutorial: which tutorial it belongs to, the shared
//! `clusters`, `vars` and `defaults` merged under its own, and reusable
//! steps (`use: NAME` with `with:` parameters) expanded in place.
//!
//! What comes from the tutorial file is located, in the chapter's messages,
//! at the chapter's `tutorial:` key (or its `use:`): one file per message.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use indexmap::IndexMap;

use super::inputs::LoadOptions;
use super::tutorial::read_shared;
use crate::language::diag::{Diagnostic, did_you_mean};
use crate::language::source::Source;
use crate::language::yaml::{Loc, Node, Value};
use crate::model::chapter::{ChapterCx, Reusable};
use crate::model::validator::Validator;

/// The tutorial a chapter belongs to: the one it is loaded for, or the one
/// its `tutorial:` key names (which must list it).
pub fn chapter_cx(
    root: &Node,
    src: &Source,
    dir: &Path,
    path: &Path,
    opts: &LoadOptions,
    diags: &mut Vec<Diagnostic>,
) -> Option<ChapterCx> {
    let named = root.get("tutorial").and_then(|n| match &n.value {
        Value::Str(s) => Some((s.clone(), n.loc)),
        _ => None,
    });
    if let Some(cx) = &opts.chapter {
        if let Some((file, loc)) = &named
            && !cx.shared.is_file(&dir.join(file))
        {
            diags.push(
                Diagnostic::new(
                    src,
                    Some(*loc),
                    format!(
                        "this chapter names the tutorial `{file}`, but `{}` lists it",
                        cx.shared.file
                    ),
                )
                .with_expected("the path of the tutorial that lists the chapter"),
            );
        }
        return Some(cx.clone());
    }
    let (file, loc) = named?;
    let shared = match read_shared(&dir.join(&file)) {
        Ok(s) => Arc::new(s),
        Err(d) => {
            diags.extend(d);
            return None;
        }
    };
    let Some(index) = shared.position(path) else {
        diags.push(
            Diagnostic::new(
                src,
                Some(loc),
                format!("the tutorial `{file}` does not list this chapter"),
            )
            .with_expected("a tutorial whose `chapters:` lists this file"),
        );
        return None;
    };
    Some(ChapterCx { shared, index })
}

/// The chapter's root with the tutorial's `clusters`, `vars` and `defaults`
/// under its own (the chapter's win, entry by entry), located at `at`.
#[must_use]
pub fn merge(root: &Node, cx: &ChapterCx, at: Loc) -> Node {
    let shared = &cx.shared;
    let mut entries = match &root.value {
        Value::Map(e) => e.clone(),
        _ => return root.clone(),
    };
    for (key, theirs) in [
        ("clusters", &shared.clusters),
        ("vars", &shared.vars),
        ("defaults", &shared.defaults),
    ] {
        let Some(Node {
            value: Value::Map(theirs),
            ..
        }) = theirs
        else {
            continue;
        };
        let pos = entries
            .iter()
            .position(|(k, _)| matches!(&k.value, Value::Str(s) if s == key));
        let ours: Vec<(Node, Node)> = match pos.map(|p| &entries[p].1.value) {
            Some(Value::Map(o)) => o.clone(),
            // The chapter's own value is not a mapping: its load says so.
            Some(Value::Null) | None => Vec::new(),
            Some(_) => continue,
        };
        let mut merged: Vec<(Node, Node)> = theirs
            .iter()
            .filter(|(k, _)| !ours.iter().any(|(o, _)| o.value == k.value))
            .map(|(k, v)| (relocate(k, at), relocate(v, at)))
            .collect();
        merged.extend(ours);
        let value = Node {
            value: Value::Map(merged),
            loc: at,
        };
        match pos {
            Some(p) => entries[p].1 = value,
            None => entries.push((
                Node {
                    value: Value::Str(key.to_owned()),
                    loc: at,
                },
                value,
            )),
        }
    }
    Node {
        value: Value::Map(entries),
        loc: root.loc,
    }
}

/// A node and everything in it located at `at`.
fn relocate(node: &Node, at: Loc) -> Node {
    let value = match &node.value {
        Value::Seq(items) => Value::Seq(items.iter().map(|i| relocate(i, at)).collect()),
        Value::Map(e) => Value::Map(
            e.iter()
                .map(|(k, v)| (relocate(k, at), relocate(v, at)))
                .collect(),
        ),
        other => other.clone(),
    };
    Node { value, loc: at }
}

/// A step as written, or the reusable step it uses (`use: NAME`, `with:`
/// its parameters) expanded: the body, then the step's own keys (which win),
/// the parameters as step vars. `None`: the use is wrong (recorded).
pub fn expand_use(
    cx: &mut Validator,
    item: &Node,
    reusable: Option<&IndexMap<String, Reusable>>,
) -> Option<Node> {
    let Some(used) = item.get("use") else {
        return Some(item.clone());
    };
    let Value::Str(name) = &used.value else {
        cx.error(
            used.loc,
            format!("`use` names a reusable step, found {}", used.value.kind()),
        )
        .expected("the name of a step under the tutorial's `steps:`");
        return None;
    };
    let Some(defs) = reusable else {
        cx.error(
            used.loc,
            format!("`use: {name}`: this playbook belongs to no tutorial"),
        )
        .expected("`tutorial: PATH` at the top level, naming the tutorial that defines the step");
        return None;
    };
    let Some(def) = defs.get(name) else {
        let known: Vec<&str> = defs.keys().map(String::as_str).collect();
        let help = did_you_mean(name, known.iter().copied());
        let d = cx
            .error(
                used.loc,
                format!("the tutorial defines no reusable step `{name}`"),
            )
            .expected(if known.is_empty() {
                "a step under the tutorial's `steps:` (it defines none)".to_owned()
            } else {
                format!("one of: {}", known.join(", "))
            });
        d.help = help.map(|h| format!("did you mean `{h}`?"));
        return None;
    };
    let params = parameters(cx, item, name, def, used.loc)?;
    let Value::Map(own) = &item.value else {
        return None;
    };
    let own_key = |k: &Node| -> Option<String> {
        match &k.value {
            Value::Str(s) => Some(s.clone()),
            _ => None,
        }
    };
    let own_keys: BTreeSet<String> = own.iter().filter_map(|(k, _)| own_key(k)).collect();
    let mut entries: Vec<(Node, Node)> = own
        .iter()
        .filter(|(k, _)| own_key(k).as_deref() == Some("name"))
        .cloned()
        .collect();
    let mut vars = serde_json::Map::new();
    for (k, v) in &def.body {
        match own_key(k).as_deref() {
            Some("vars") => {
                if let serde_json::Value::Object(m) = v.to_json() {
                    vars.extend(m);
                }
            }
            Some(key) if own_keys.contains(key) => {}
            _ => entries.push((relocate(k, used.loc), relocate(v, used.loc))),
        }
    }
    vars.extend(params);
    for (k, v) in own {
        match own_key(k).as_deref() {
            Some("name" | "use" | "with") => {}
            Some("vars") => {
                if let serde_json::Value::Object(m) = v.to_json() {
                    vars.extend(m);
                }
            }
            _ => entries.push((k.clone(), v.clone())),
        }
    }
    if !vars.is_empty() {
        let at = item.get("with").map_or(used.loc, |w| w.loc);
        entries.push((
            Node {
                value: Value::Str("vars".to_owned()),
                loc: at,
            },
            Node::from_json(&serde_json::Value::Object(vars), at),
        ));
    }
    Some(Node {
        value: Value::Map(entries),
        loc: item.loc,
    })
}

/// The parameters of a use: `with:` checked against the reusable step's
/// `params` (no unknown one, every required one given), defaults filled in.
fn parameters(
    cx: &mut Validator,
    item: &Node,
    name: &str,
    def: &Reusable,
    at: Loc,
) -> Option<serde_json::Map<String, serde_json::Value>> {
    let mut given = serde_json::Map::new();
    match item.get("with") {
        None => {}
        Some(Node {
            value: Value::Map(entries),
            ..
        }) => {
            for (k, v) in entries {
                let Value::Str(p) = &k.value else { continue };
                if def.params.contains_key(p) {
                    given.insert(p.clone(), v.to_json());
                    continue;
                }
                let known: Vec<&str> = def.params.keys().map(String::as_str).collect();
                let help = did_you_mean(p, known.iter().copied());
                let d = cx
                    .error(
                        k.loc,
                        format!("reusable step `{name}` has no parameter `{p}`"),
                    )
                    .expected(if known.is_empty() {
                        "no `with:` (the step takes no parameter)".to_owned()
                    } else {
                        format!("one of: {}", known.join(", "))
                    });
                d.help = help.map(|h| format!("did you mean `{h}`?"));
            }
        }
        Some(other) => {
            cx.error(
                other.loc,
                format!("`with` must be a mapping, found {}", other.value.kind()),
            )
            .expected("parameter name -> value");
            return None;
        }
    }
    let step_vars = item.get("vars");
    let mut missing = Vec::new();
    let mut out = serde_json::Map::new();
    for (p, default) in &def.params {
        match (given.remove(p), default) {
            (Some(v), _) => {
                out.insert(p.clone(), v);
            }
            (None, Some(d)) => {
                out.insert(p.clone(), d.clone());
            }
            (None, None) if step_vars.and_then(|v| v.get(p)).is_some() => {}
            (None, None) => missing.push(p.as_str()),
        }
    }
    if !missing.is_empty() {
        let list = missing
            .iter()
            .map(|m| format!("`{m}`"))
            .collect::<Vec<_>>()
            .join(", ");
        cx.error(
            at,
            format!(
                "reusable step `{name}` needs the parameter{} {list}",
                if missing.len() == 1 { "" } else { "s" }
            ),
        )
        .expected(format!(
            "`with: {{{}}}`",
            missing
                .iter()
                .map(|m| format!("{m}: VALUE"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        return None;
    }
    Some(out)
}
