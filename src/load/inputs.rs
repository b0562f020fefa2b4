//! What the command line adds to a playbook: `--var`, `--vars-file`,
//! `--context`, and the process environment.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use indexmap::IndexMap;

use crate::language::diag::Diagnostic;
use crate::language::source::{Source, display_path, read_text};
use crate::language::yaml::{self, Node, Value};
use crate::model::validator::Validator;

/// What the command line adds to a playbook.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `--var k=v`, in order.
    pub vars: Vec<(String, String)>,
    /// `--vars-file f.yaml`, in order.
    pub vars_files: Vec<PathBuf>,
    /// `--context cluster=ctx`.
    pub contexts: Vec<(String, String)>,
    /// `--root DIR`: where manifests may come from (wins over the playbook's `root:`).
    pub root: Option<PathBuf>,
    /// The process environment (a copy, so tests can pass their own).
    pub env: BTreeMap<String, String>,
    /// Set when the playbook is loaded as a chapter of a tutorial.
    pub chapter: Option<crate::model::chapter::ChapterCx>,
}

/// `--vars-file` and `--var` over the playbook's vars. A chapter of a
/// tutorial also takes a `--var` or a `--vars-file` entry for a value an
/// earlier chapter exports
/// (`imports`: it stands in for that chapter), and ignores one that only
/// another chapter's export names (`elsewhere`).
pub fn apply_overrides(
    cx: &mut Validator,
    vars: &mut IndexMap<String, serde_json::Value>,
    opts: &LoadOptions,
    imports: &BTreeSet<String>,
    elsewhere: &BTreeSet<String>,
) {
    let declared: Vec<String> = vars.keys().cloned().collect();
    let unknown = |cx: &mut Validator, origin: &str, name: &str| {
        let mut d = Diagnostic::file(origin, format!("unknown variable `{name}`")).with_expected(
            if declared.is_empty() {
                "a variable declared under `vars:` (none is declared)".to_owned()
            } else {
                format!("a variable declared under `vars:`: {}", declared.join(", "))
            },
        );
        if let Some(h) =
            crate::language::diag::did_you_mean(name, declared.iter().map(String::as_str))
        {
            d.help = Some(format!("did you mean `{h}`?"));
        }
        cx.diags.push(d);
    };
    for file in &opts.vars_files {
        let shown = display_path(file);
        let text = match read_text(file) {
            Ok(t) => t,
            Err(msg) => {
                cx.diags.push(Diagnostic::file(
                    &shown,
                    format!("cannot read vars file: {msg}"),
                ));
                continue;
            }
        };
        let src = Source::new(shown.clone(), text);
        match yaml::parse(&src.text) {
            Ok(Node {
                value: Value::Map(entries),
                ..
            }) => {
                for (k, v) in entries {
                    let Value::Str(name) = &k.value else { continue };
                    if vars.contains_key(name) || imports.contains(name) {
                        // As `--var`: a value an earlier chapter exports
                        // (here a list or a mapping too) stands in for it.
                        vars.insert(name.clone(), v.to_json());
                    } else if elsewhere.contains(name) {
                        continue;
                    } else {
                        let mut d = Diagnostic::new(
                            &src,
                            Some(k.loc),
                            format!("unknown variable `{name}`"),
                        )
                        .with_expected(format!(
                            "a variable declared under `vars:`: {}",
                            declared.join(", ")
                        ));
                        if let Some(h) = crate::language::diag::did_you_mean(
                            name,
                            declared.iter().map(String::as_str),
                        ) {
                            d.help = Some(format!("did you mean `{h}`?"));
                        }
                        cx.diags.push(d);
                    }
                }
            }
            Ok(n) => cx.diags.push(
                Diagnostic::new(
                    &src,
                    Some(n.loc),
                    format!("expected a mapping of variables, found {}", n.value.kind()),
                )
                .with_expected("`name: value` pairs"),
            ),
            Err(e) => cx.diags.push(Diagnostic::from_yaml(&src, &e)),
        }
    }
    for (k, v) in &opts.vars {
        if vars.contains_key(k) || imports.contains(k) {
            vars.insert(k.clone(), scalar_value(v));
        } else if elsewhere.contains(k) {
            continue;
        } else {
            unknown(cx, "<command line>", k);
        }
    }
}

/// `--var k=v`: booleans and numbers keep their type, the rest is a string.
#[must_use]
pub fn scalar_value(v: &str) -> serde_json::Value {
    match v {
        "true" => serde_json::Value::Bool(true),
        "false" => serde_json::Value::Bool(false),
        _ => v
            .parse::<i64>()
            .map(serde_json::Value::from)
            .or_else(|_| v.parse::<f64>().map(serde_json::Value::from))
            .unwrap_or_else(|_| serde_json::Value::String(v.to_owned())),
    }
}
