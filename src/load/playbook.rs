//! Loading and validation: parse -> validate (every node keeps its location).
//! Nothing runs until the whole playbook is valid; all problems found are
//! reported together.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use super::flow;
use super::inputs::{LoadOptions, apply_overrides};
use super::step::{Defaults, read_options, retry_policy, validate as validate_step};
use crate::language::diag::{Diagnostic, did_you_mean};
use crate::language::digest::FileDigest;
use crate::language::from_node::from_node;
use crate::language::raw::RawPlaybook;
use crate::language::scope::Scope;
use crate::language::source::{Source, display_path, read_text};
use crate::language::template;
use crate::language::yaml::{self, Loc, Node, Spanned, Value};
use crate::model::chapter::ChapterCx;
use crate::model::playbook::{Cluster, Import, Playbook};
use crate::model::step::{DEFAULT_TIMEOUT, RetryPolicy, Step};
use crate::model::validator::Validator;

/// Loads and validates a playbook. Returns every problem found.
///
/// # Errors
/// The diagnostics, when the playbook is not valid.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Playbook, Vec<Diagnostic>> {
    let shown = display_path(path);
    let text = read_text(path).map_err(|msg| {
        vec![Diagnostic::file(
            &shown,
            format!("cannot load playbook: {msg}"),
        )]
    })?;
    load_text(path, text, opts)
}

/// Loads and validates a playbook whose text is already read (`path` gives
/// its name in messages and the directory its files are relative to).
///
/// # Errors
/// The diagnostics, when the playbook is not valid.
pub fn load_text(
    path: &Path,
    text: String,
    opts: &LoadOptions,
) -> Result<Playbook, Vec<Diagnostic>> {
    let src = Source::new(display_path(path), text);
    let dir = path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    let root = yaml::parse(&src.text).map_err(|e| vec![Diagnostic::from_yaml(&src, &e)])?;
    if !matches!(root.value, Value::Map(_)) {
        let d = Diagnostic::new(
            &src,
            Some(root.loc),
            format!(
                "expected a playbook mapping at the top level, found {}",
                root.value.kind()
            ),
        )
        .with_expected("`name:`, `clusters:`, `vars:` and `steps:` keys");
        return Err(vec![d]);
    }
    let mut found = Vec::new();
    let chapter = super::shared::chapter_cx(&root, &src, &dir, path, opts, &mut found);
    let root = match &chapter {
        Some(c) => super::shared::merge(&root, c, root.get("tutorial").map_or(root.loc, |n| n.loc)),
        None => root,
    };
    validate(&root, src, dir, path, opts, chapter, found)
}

/// Validates the playbook in phases, each reporting into the validator:
/// header, vars, clusters and their contexts, the scope, the root, the
/// step defaults, the steps, then the result (or every problem found).
fn validate(
    root: &Node,
    src: Source,
    dir: PathBuf,
    path: &Path,
    opts: &LoadOptions,
    chapter: Option<ChapterCx>,
    found: Vec<Diagnostic>,
) -> Result<Playbook, Vec<Diagnostic>> {
    let mut cx = validator(&src, &dir, path);
    cx.diags = found;
    if let Some(c) = &chapter {
        cx.env_refs.extend(c.shared.env_refs.iter().cloned());
    }
    let header: Option<RawPlaybook> = match from_node::<RawPlaybook>(root) {
        Ok(h) => Some(h),
        Err(e) => {
            cx.diags.push(Diagnostic::from_yaml(&src, &e));
            None
        }
    };
    let imports = chapter
        .as_ref()
        .map(flow::chapter_imports)
        .unwrap_or_default();
    let vars = read_vars(
        &mut cx,
        root,
        header.as_ref(),
        opts,
        chapter.as_ref(),
        &imports,
    );
    let mut clusters = read_clusters(&mut cx, root, header.as_ref());
    override_contexts(&mut cx, &mut clusters, opts, header.is_some());
    build_scope(&mut cx, &clusters, &vars, opts, path);
    let computed = flow::computed_vars(&mut cx, root, header.as_ref(), &vars);
    set_root(&mut cx, header.as_ref().and_then(|h| h.root.as_ref()), opts);
    let defaults = read_defaults(&mut cx, header.as_ref());
    for i in &imports {
        cx.add_captured(&i.name);
    }
    let reusable = chapter.as_ref().map(|c| &c.shared.steps);
    let [steps, finally] = read_steps(&mut cx, root, &defaults, header.is_some(), reusable);
    flow::check_computed(&mut cx, &computed);
    let exports = header
        .as_ref()
        .map(|h| flow::read_exports(&mut cx, &h.exports, &vars))
        .unwrap_or_default();
    if let Some(c) = &chapter {
        flow::explain_unknown(&mut cx.diags, c);
    }
    if let Some(d) = header.as_ref().and_then(|h| h.date.as_ref())
        && !is_date(&d.value)
    {
        cx.error(d.loc, format!("invalid date `{}`", d.value))
            .expected("a date as YYYY-MM-DD");
    }
    let (secrets, secret_env) = playbook_secrets(&cx, &opts.env);
    let Some(h) = header.filter(|_| cx.diags.is_empty()) else {
        // An error message never quotes a secret (a rendered line, a value).
        for d in &mut cx.diags {
            d.redact(&secrets);
        }
        return Err(cx.diags);
    };
    for d in &mut cx.warnings {
        d.redact(&secrets);
    }
    let files = files_read(&src, std::mem::take(&mut cx.files_read));
    Ok(Playbook {
        name: h.name.value,
        title: h.title,
        summary: h.summary,
        authors: h.authors,
        date: h.date.map(|d| d.value),
        outcomes: h.outcomes,
        next: h.next,
        root: cx.root.clone(),
        source: src,
        path: path.to_path_buf(),
        dir,
        scope: cx.scope,
        warnings: cx.warnings,
        clusters,
        vars,
        steps,
        finally,
        secrets,
        secret_env,
        contexts: crate::model::playbook::ContextCache::default(),
        files,
        chapter: chapter.as_ref().map(ChapterCx::chapter_of),
        imports,
        exports,
    })
}

/// The playbook's file and the manifest files it read, each once, with
/// their digests: the playbook first, the others sorted.
fn files_read(src: &Source, mut manifests: Vec<FileDigest>) -> Vec<FileDigest> {
    manifests.sort();
    manifests.dedup();
    let mut files = vec![FileDigest {
        path: src.name.clone(),
        sha256: crate::language::digest::sha256_hex(src.text.as_bytes()),
    }];
    files.extend(manifests);
    files
}

/// A validator for the playbook `src` in `dir`, before anything is read.
fn validator(src: &Source, dir: &Path, path: &Path) -> Validator {
    Validator {
        src: src.clone(),
        dir: dir.to_path_buf(),
        root: dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf()),
        diags: Vec::new(),
        warnings: Vec::new(),
        env: template::environment(),
        known: template::BUILTINS.iter().map(|s| (*s).to_owned()).collect(),
        captured: BTreeSet::new(),
        cluster_names: Vec::new(),
        scope: Scope::new(&IndexMap::new(), &[], &BTreeMap::new(), path).0,
        step_clusters: Vec::new(),
        step_timeout: DEFAULT_TIMEOUT,
        default_rate: None,
        step_vars: BTreeMap::new(),
        needed: std::cell::RefCell::default(),
        secrets: crate::language::secrets::Secrets::default(),
        env_refs: crate::language::secrets::env_refs(&src.text),
        preview: std::cell::RefCell::default(),
        names_cache: std::cell::RefCell::default(),
        files_read: Vec::new(),
        computed: BTreeMap::new(),
    }
}

/// The variables: defaults (from the header, or read from the YAML when the
/// header is invalid), no builtin name, then `--vars-file` and `--var`.
fn read_vars(
    cx: &mut Validator,
    root: &Node,
    header: Option<&RawPlaybook>,
    opts: &LoadOptions,
    chapter: Option<&ChapterCx>,
    imports: &[Import],
) -> IndexMap<String, serde_json::Value> {
    let mut vars: IndexMap<String, serde_json::Value> = IndexMap::new();
    if let Some(h) = header {
        vars.clone_from(&h.vars);
    } else if let Some(Value::Map(entries)) = root.get("vars").map(|n| &n.value) {
        for (k, v) in entries {
            if let Value::Str(k) = &k.value {
                vars.insert(k.clone(), v.to_json());
            }
        }
    }
    for name in vars.keys() {
        if template::BUILTINS.contains(&name.as_str()) {
            let loc = root
                .get("vars")
                .and_then(|v| match &v.value {
                    Value::Map(e) => e
                        .iter()
                        .find(|(k, _)| k.value == Value::Str(name.clone()))
                        .map(|(k, _)| k.loc),
                    _ => None,
                })
                .unwrap_or(root.loc);
            cx.error(loc, format!("`{name}` is a reserved variable name"))
                .expected(format!(
                    "a name other than {}",
                    template::BUILTINS.join(", ")
                ));
        }
    }
    let imported: BTreeSet<String> = imports.iter().map(|i| i.name.clone()).collect();
    let elsewhere: BTreeSet<String> = chapter
        .map(|c| {
            c.shared
                .chapters
                .iter()
                .flat_map(|ch| ch.exports.iter().map(|e| e.name.clone()))
                .collect()
        })
        .unwrap_or_default();
    apply_overrides(cx, &mut vars, opts, &imported, &elsewhere);
    cx.known.extend(vars.keys().cloned());
    vars
}

/// The clusters and their context templates. With an invalid header, only
/// their names (so that steps can still be checked).
fn read_clusters(
    cx: &mut Validator,
    root: &Node,
    header: Option<&RawPlaybook>,
) -> IndexMap<String, Cluster> {
    let mut clusters: IndexMap<String, Cluster> = IndexMap::new();
    let Some(h) = header else {
        if let Some(Value::Map(entries)) = root.get("clusters").map(|n| &n.value) {
            cx.cluster_names = entries
                .iter()
                .filter_map(|(k, _)| match &k.value {
                    Value::Str(s) => Some(s.clone()),
                    _ => None,
                })
                .collect();
        }
        return clusters;
    };
    for (name, c) in &h.clusters {
        let ctx = c.value.context.clone().unwrap_or(Spanned {
            value: name.clone(),
            loc: c.loc,
        });
        cx.template(&ctx, &BTreeSet::new());
        clusters.insert(
            name.clone(),
            Cluster {
                name: name.clone(),
                context: ctx.value.clone(),
                context_loc: ctx.loc,
                context_override: None,
                description: c.value.description.clone(),
            },
        );
    }
    cx.cluster_names = clusters.keys().cloned().collect();
    clusters
}

/// `--context CLUSTER=CTX` (or `--context CTX` for a playbook's only
/// cluster). Unknown clusters are reported only when the header is valid.
fn override_contexts(
    cx: &mut Validator,
    clusters: &mut IndexMap<String, Cluster>,
    opts: &LoadOptions,
    valid_header: bool,
) {
    for (name, ctx) in &opts.contexts {
        if name.is_empty() {
            if clusters.len() == 1 {
                if let Some(c) = clusters.values_mut().next() {
                    c.context_override = Some(ctx.clone());
                }
            } else if valid_header {
                let known: Vec<String> = clusters.keys().cloned().collect();
                cx.diags.push(
                    Diagnostic::file(
                        "<command line>",
                        format!(
                            "--context {ctx}: the playbook has {} clusters, so say which one",
                            known.len()
                        ),
                    )
                    .with_expected(format!(
                        "--context CLUSTER={ctx}, with CLUSTER one of: {}",
                        known.join(", ")
                    )),
                );
            }
        } else if let Some(c) = clusters.get_mut(name) {
            c.context_override = Some(ctx.clone());
        } else if valid_header {
            let known: Vec<String> = clusters.keys().cloned().collect();
            let mut d = Diagnostic::file(
                "<command line>",
                format!("--context {name}={ctx}: the playbook has no cluster `{name}`"),
            )
            .with_expected(format!("one of: {}", known.join(", ")));
            if let Some(h) = did_you_mean(name, known.iter().map(String::as_str)) {
                d.help = Some(format!("did you mean `{h}`?"));
            }
            cx.diags.push(d);
        }
    }
}

/// The one scope templates see (vars, env, resolved contexts); a context
/// that does not render is reported at its cluster.
fn build_scope(
    cx: &mut Validator,
    clusters: &IndexMap<String, Cluster>,
    vars: &IndexMap<String, serde_json::Value>,
    opts: &LoadOptions,
    path: &Path,
) {
    let contexts: Vec<(String, String, bool)> = clusters
        .values()
        .map(|c| match &c.context_override {
            Some(o) => (c.name.clone(), o.clone(), true),
            None => (c.name.clone(), c.context.clone(), false),
        })
        .collect();
    let (scope, problems) = Scope::new(vars, &contexts, &opts.env, path);
    cx.scope = scope;
    // The preview context is built from the scope: the one built before is stale.
    cx.preview.take();
    for (name, e) in problems {
        if let Some(c) = clusters.get(&name) {
            let loc = c.context_loc;
            // Already reported as an unknown variable of the template.
            if cx
                .diags
                .iter()
                .any(|d| d.loc.is_some_and(|l| l.line == loc.line))
            {
                continue;
            }
            cx.error(loc, format!("the context of cluster `{name}` does not render: {}", e.message))
                .expected(format!(
                    "a template whose variables are defined (e.g. `{{{{ env.X | default('{name}') }}}}`), or --context {name}=CONTEXT"
                ));
        }
    }
}

/// `defaults:`: what every step that does not say otherwise gets (and the
/// probes' default rate).
fn read_defaults(cx: &mut Validator, header: Option<&RawPlaybook>) -> Defaults {
    let mut defaults = Defaults {
        timeout: DEFAULT_TIMEOUT,
        retry: RetryPolicy::default(),
        clusters: Vec::new(),
    };
    if let Some(d) = header.and_then(|h| h.defaults.as_ref()) {
        if let Some(t) = &d.value.timeout
            && let Some(t) = cx.timeout(t)
        {
            defaults.timeout = t;
        }
        if let Some(r) = &d.value.retry
            && let Some(r) = retry_policy(cx, r)
        {
            defaults.retry = r;
        }
        if let Some(c) = &d.value.clusters {
            defaults.clusters = cx.cluster_refs(c);
        }
        if let Some(r) = &d.value.rate {
            cx.default_rate = cx.rate(r);
        }
    }
    defaults
}

/// `steps:` then `finally:`, each step checked on its own, names unique
/// across both; the playbook needs at least one step.
fn read_steps(
    cx: &mut Validator,
    root: &Node,
    defaults: &Defaults,
    valid_header: bool,
    reusable: Option<&IndexMap<String, crate::model::chapter::Reusable>>,
) -> [Vec<Step>; 2] {
    let mut names: BTreeMap<String, Loc> = BTreeMap::new();
    ["steps", "finally"].map(|key| {
        let mut out = Vec::new();
        match root.get(key).map(|n| (&n.value, n.loc)) {
            Some((Value::Seq(items), _)) => {
                for item in items {
                    let Some(item) = super::shared::expand_use(cx, item, reusable) else {
                        continue;
                    };
                    let Some((raw, actions)) = read_options(cx, &item) else {
                        continue;
                    };
                    if let Some(prev) = names.get(&raw.name.value) {
                        let prev = *prev;
                        cx.error(
                            raw.name.loc,
                            format!("duplicate step name `{}`", raw.name.value),
                        )
                        .help(format!(
                            "the first step with this name is at line {}",
                            prev.line
                        ));
                    } else {
                        names.insert(raw.name.value.clone(), raw.name.loc);
                    }
                    if let Some(step) = validate_step(cx, raw, &actions, defaults) {
                        out.push(step);
                    }
                }
                if key == "steps" && items.is_empty() {
                    cx.error(root.loc, "the playbook has no steps")
                        .expected("at least one step under `steps:`");
                }
            }
            Some((Value::Null, loc)) if key == "steps" => {
                cx.error(loc, "the playbook has no steps")
                    .expected("at least one step under `steps:`");
            }
            Some((Value::Null, _)) | None => {}
            Some((other, loc)) => {
                if valid_header {
                    cx.error(
                        loc,
                        format!("`{key}` must be a list of steps, found {}", other.kind()),
                    );
                }
            }
        }
        out
    })
}

/// The playbook's secrets: what validation found (secret headers, Secret
/// objects) and the values of the environment variables its templates and
/// substitutions refer to, except those that name a cluster's kube context
/// (a context is a name from the kubeconfig, and the page exports it).
/// Also returns the names of those environment variables.
fn playbook_secrets(
    cx: &Validator,
    env: &BTreeMap<String, String>,
) -> (crate::language::secrets::Secrets, BTreeSet<String>) {
    let mut secrets = cx.secrets.clone();
    let mut names = BTreeSet::new();
    let contexts: Vec<&str> = cx
        .cluster_names
        .iter()
        .filter_map(|c| cx.scope.context_of(c))
        .collect();
    for name in &cx.env_refs {
        if let Some(v) = env.get(name)
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && !contexts.contains(&v.as_str())
        {
            secrets.add(v);
            names.insert(name.clone());
        }
    }
    (secrets, names)
}

/// The root files may come from: `--root DIR` (relative to the working
/// directory), else the playbook's `root:` (a template, relative to the
/// playbook), else the playbook's directory.
fn set_root(cx: &mut Validator, declared: Option<&Spanned<String>>, opts: &LoadOptions) {
    let (wanted, loc) = match (&opts.root, declared) {
        (Some(r), _) => (r.clone(), None),
        (None, Some(r)) => match cx.known_value(r, &BTreeSet::new()) {
            Some(text) => (cx.dir.join(text), Some(r.loc)),
            None => return,
        },
        (None, None) => return,
    };
    match wanted.canonicalize() {
        Ok(c) if c.is_dir() => cx.root = c,
        _ => {
            let message = format!("root `{}` is not a directory", wanted.display());
            match loc {
                Some(l) => {
                    cx.error(l, message)
                        .expected("a directory holding the playbook's manifests, e.g. `..` or `{{ env.TUTORIAL_HOME }}`");
                }
                None => cx.diags.push(
                    Diagnostic::file("<command line>", message)
                        .with_expected("--root DIR: a directory holding the playbook's manifests"),
                ),
            }
        }
    }
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && (1..=12).contains(&s[5..7].parse::<u32>().unwrap_or(0))
        && (1..=31).contains(&s[8..10].parse::<u32>().unwrap_or(0))
}
