//! Loading and validation: parse -> validate (every node keeps its location).
//! Nothing runs until the whole playbook is valid; all problems found are
//! reported together.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use indexmap::IndexMap;
use minijinja::Environment;

use crate::diag::{Diagnostic, Source};
use crate::model::{Cluster, Playbook, RawPlaybook};
use crate::options::{self, RetryPolicy};
use crate::steps::{self, RawStep};
use crate::template;
use crate::yaml::{self, Loc, Node, Spanned, Value};

/// What the command line adds to a playbook.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `--var k=v`, in order.
    pub vars: Vec<(String, String)>,
    /// `--vars-file f.yaml`, in order.
    pub vars_files: Vec<PathBuf>,
    /// `--context cluster=ctx`.
    pub contexts: Vec<(String, String)>,
    /// The process environment (a copy, so tests can pass their own).
    pub env: BTreeMap<String, String>,
}

/// A manifest file referenced by a step: a template next to the playbook.
#[derive(Debug, Clone)]
pub struct ManifestFile {
    /// Path relative to the playbook directory, as displayed.
    pub rel: String,
    pub path: PathBuf,
    pub source: Source,
    /// True when the template uses values only known at run time (captures).
    pub uses_captures: bool,
}

/// Validation context: the source, the diagnostics found so far, the names a
/// template may use.
pub struct Cx {
    pub src: Source,
    pub dir: PathBuf,
    pub diags: Vec<Diagnostic>,
    pub env: Environment<'static>,
    /// Variables every template may use: vars, builtins.
    pub known: BTreeSet<String>,
    /// Variables captured by steps validated so far.
    pub captured: BTreeSet<String>,
    pub cluster_names: Vec<String>,
    /// Template context used to pre-render manifests at validation time.
    pub static_ctx: serde_json::Value,
    /// Target clusters of the step being validated (manifests are pre-rendered for each).
    pub step_clusters: Vec<String>,
}

impl Cx {
    /// Records an error located in the playbook.
    pub fn error(&mut self, loc: Loc, message: impl Into<String>) -> &mut Diagnostic {
        let d = Diagnostic::new(&self.src, Some(loc), message);
        self.diags.push(d);
        let last = self.diags.len() - 1;
        &mut self.diags[last]
    }

    /// The location of character `offset` (0-based) inside a one-line scalar;
    /// the scalar's own location when it spans lines.
    #[must_use]
    pub fn loc_in(&self, s: &Spanned<String>, offset: usize) -> Loc {
        let Some(line) = self.src.line(s.loc.line) else {
            return s.loc;
        };
        let start = usize::try_from(s.loc.col).unwrap_or(1).saturating_sub(1);
        let rest: String = line.chars().skip(start).collect();
        let quoted = rest.starts_with('"') || rest.starts_with('\'');
        let body: String = rest.chars().skip(usize::from(quoted)).collect();
        if s.value.contains('\n') || !body.starts_with(s.value.as_str()) {
            return s.loc;
        }
        let col = start + usize::from(quoted) + offset + 1;
        Loc {
            line: s.loc.line,
            col: u32::try_from(col).unwrap_or(s.loc.col),
        }
    }

    /// All names a template in the current step may use.
    #[must_use]
    pub fn names(&self, extra: &BTreeSet<String>) -> BTreeSet<String> {
        let mut n = self.known.clone();
        n.extend(self.captured.iter().cloned());
        n.extend(extra.iter().cloned());
        n
    }

    /// Checks a templated string from the playbook.
    pub fn template(&mut self, s: &Spanned<String>, extra: &BTreeSet<String>) -> bool {
        let names = self.names(extra);
        match template::check(&self.env, &s.value, &names) {
            Ok(()) => true,
            Err(e) => {
                let loc = match e.loc {
                    Some(l) if l.line == 1 => {
                        self.loc_in(s, usize::try_from(l.col).unwrap_or(1).saturating_sub(1))
                    }
                    _ => s.loc,
                };
                self.error(loc, e.message)
                    .expected("a minijinja template using known variables");
                false
            }
        }
    }

    /// Parses a duration field.
    pub fn duration(&mut self, s: &Spanned<options::DurationText>) -> Option<Duration> {
        match options::parse_duration(&s.value.0) {
            Ok(d) => Some(d),
            Err(msg) => {
                self.error(s.loc, msg)
                    .expected("a duration such as `500ms`, `30s`, `2m` or `1h30m`");
                None
            }
        }
    }

    /// Checks that a JSONPath (RFC 9535) expression parses.
    pub fn jsonpath(&mut self, s: &Spanned<String>) -> Option<()> {
        let Err(e) = jsonpath_rust::parser::parse_json_path(&s.value) else {
            return Some(());
        };
        let text = e.to_string();
        // pest reports ` --> 1:COL`: point at that character of the query.
        let col = text
            .split("--> 1:")
            .nth(1)
            .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse::<usize>().ok());
        let (loc, msg) = match col {
            Some(c) => (
                self.loc_in(s, c - 1),
                format!(
                    "invalid JSONPath `{}`: syntax error at character {c}",
                    s.value
                ),
            ),
            None => (
                s.loc,
                format!(
                    "invalid JSONPath `{}`: {}",
                    s.value,
                    text.lines().next().unwrap_or("syntax error")
                ),
            ),
        };
        let hint = (!s.value.starts_with('$')).then(|| {
            format!(
                "JSONPath queries start with `$`: `$.{}`",
                s.value.trim_start_matches('.')
            )
        });
        let d = self
            .error(loc, msg)
            .expected("an RFC 9535 JSONPath such as `$.status.loadBalancer.ingress[0].ip`");
        d.help = hint;
        None
    }

    /// Checks that cluster names exist.
    pub fn cluster_refs(&mut self, names: &Spanned<crate::options::OneOrMany>) -> Vec<String> {
        let mut list = Vec::new();
        // Cluster names may come from variables (`clusters: "{{ ingress_cluster }}"`),
        // resolved here, before anything runs.
        for n in names.value.to_vec() {
            if !n.contains("{{") {
                list.push(n);
                continue;
            }
            let s = Spanned {
                value: n.clone(),
                loc: names.loc,
            };
            if !self.template(&s, &BTreeSet::new()) {
                continue;
            }
            match template::render(&self.env, &n, &self.static_ctx) {
                // A list variable (`"{{ workload_clusters }}"`) renders as a JSON list.
                Ok(r) if r.trim_start().starts_with('[') => {
                    match serde_json::from_str::<Vec<String>>(r.trim()) {
                        Ok(v) => list.extend(v),
                        Err(_) => {
                            self.error(
                                names.loc,
                                format!(
                                    "`{n}` renders to `{}`, not a list of cluster names",
                                    r.trim()
                                ),
                            );
                        }
                    }
                }
                Ok(r) => list.push(r.trim().to_owned()),
                Err(e) => {
                    self.error(
                        names.loc,
                        format!("cannot resolve cluster name `{n}`: {}", e.message),
                    )
                    .expected(
                        "a template using playbook variables or env (captures are not known yet)",
                    );
                }
            }
        }
        for n in &list {
            if !self.cluster_names.contains(n) {
                let known = self.cluster_names.clone();
                let help = crate::diag::did_you_mean(n, known.iter().map(String::as_str));
                let d = self
                    .error(names.loc, format!("unknown cluster `{n}`"))
                    .expected(if known.is_empty() {
                        "a cluster declared under `clusters:` (none is declared)".to_owned()
                    } else {
                        format!("a cluster declared under `clusters:`: {}", known.join(", "))
                    });
                if let Some(h) = help {
                    d.help = Some(format!("did you mean `{h}`?"));
                }
            }
        }
        list
    }

    /// Resolves manifest globs relative to the playbook directory, checks that
    /// they exist, stay inside the directory, and compile as templates.
    pub fn manifests(
        &mut self,
        patterns: &[Spanned<String>],
        extra: &BTreeSet<String>,
    ) -> Vec<ManifestFile> {
        let mut out: Vec<ManifestFile> = Vec::new();
        for pat in patterns {
            if Path::new(&pat.value).is_absolute()
                || pat.value.split(['/', '\\']).any(|c| c == "..")
            {
                self.error(
                    pat.loc,
                    format!(
                        "manifest path `{}` leaves the playbook's directory",
                        pat.value
                    ),
                )
                .expected("a path relative to the playbook's directory, without `..`");
                continue;
            }
            let full = self.dir.join(&pat.value);
            let Some(full_str) = full.to_str() else {
                self.error(pat.loc, "manifest path is not valid UTF-8");
                continue;
            };
            let matches: Vec<PathBuf> = match glob::glob(full_str) {
                Ok(paths) => {
                    let mut v: Vec<PathBuf> = paths
                        .filter_map(Result::ok)
                        .filter(|p| p.is_file())
                        .collect();
                    v.sort();
                    v
                }
                Err(e) => {
                    self.error(
                        pat.loc,
                        format!("invalid glob pattern `{}`: {}", pat.value, e.msg),
                    );
                    continue;
                }
            };
            if matches.is_empty() {
                let dir = self.dir.display().to_string();
                self.error(pat.loc, format!("no manifest file matches `{}`", pat.value))
                    .expected(format!("a file or glob relative to {dir}"));
                continue;
            }
            for path in matches {
                if out.iter().any(|m| m.path == path) {
                    continue;
                }
                if let Some(m) = self.manifest_file(pat, &path, extra) {
                    out.push(m);
                }
            }
        }
        out
    }

    fn manifest_file(
        &mut self,
        pat: &Spanned<String>,
        path: &Path,
        extra: &BTreeSet<String>,
    ) -> Option<ManifestFile> {
        // Symlinks must not lead outside the playbook's directory either.
        let canon_dir = self.dir.canonicalize().unwrap_or_else(|_| self.dir.clone());
        match path.canonicalize() {
            Ok(c) if c.starts_with(&canon_dir) => {}
            _ => {
                self.error(
                    pat.loc,
                    format!(
                        "manifest `{}` resolves outside the playbook's directory",
                        path.display()
                    ),
                );
                return None;
            }
        }
        let rel = path
            .strip_prefix(&self.dir)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned();
        let text = match read_text(path) {
            Ok(t) => t,
            Err(msg) => {
                self.error(pat.loc, format!("cannot read manifest `{rel}`: {msg}"));
                return None;
            }
        };
        let display = display_path(path);
        let source = Source::new(display, text);
        let names = self.names(extra);
        if let Err(e) = template::check(&self.env, &source.text, &names) {
            let mut d = Diagnostic::new(&source, e.loc, e.message);
            d.expected = Some("a minijinja template using known variables".to_owned());
            self.diags.push(d);
            return None;
        }
        let uses_captures = uses_any(&self.env, &source.text, &self.captured);
        let m = ManifestFile {
            rel,
            path: path.to_path_buf(),
            source,
            uses_captures,
        };
        if !m.uses_captures {
            self.prerender(&m, extra);
        }
        Some(m)
    }

    /// Renders a manifest with the values known now and checks the result is
    /// YAML made of Kubernetes objects.
    fn prerender(&mut self, m: &ManifestFile, extra: &BTreeSet<String>) {
        if !extra.is_empty() {
            // Step-local vars are merged at plan/run time; the plan checks those.
            return;
        }
        let mut contexts = Vec::new();
        for c in &self.step_clusters {
            let mut ctx = self.static_ctx.clone();
            if let (Some(obj), Some(cl)) = (
                ctx.as_object_mut(),
                self.static_ctx.get("clusters").and_then(|x| x.get(c)),
            ) {
                obj.insert("cluster".into(), cl.clone());
            }
            contexts.push(ctx);
        }
        if contexts.is_empty() {
            contexts.push(self.static_ctx.clone());
        }
        for ctx in &contexts {
            if let Err(d) = render_manifest(&self.env, m, ctx) {
                self.diags.push(d);
                return;
            }
        }
    }
}

/// A Kubernetes object parsed from a rendered manifest.
#[derive(Debug, Clone)]
pub struct ManifestObject {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub object: serde_json::Value,
    /// Where it came from: file and 1-based document index.
    pub file: String,
    pub doc_index: usize,
}

/// Renders a manifest template and splits it into objects.
///
/// # Errors
/// Template errors, YAML errors, documents that are not Kubernetes objects.
pub fn render_manifest(
    env: &Environment<'_>,
    m: &ManifestFile,
    ctx: &serde_json::Value,
) -> Result<Vec<ManifestObject>, Diagnostic> {
    let rendered = template::render(env, &m.source.text, ctx).map_err(|e| {
        Diagnostic::new(&m.source, e.loc, e.message)
            .with_expected("a template whose variables are all defined")
    })?;
    let rendered_src = Source::new(format!("{} (rendered)", m.source.name), rendered.as_str());
    let docs =
        yaml::parse_multi(&rendered).map_err(|e| Diagnostic::from_yaml(&rendered_src, &e))?;
    let mut out = Vec::new();
    for (i, doc) in docs.iter().enumerate() {
        // A `kind: List` holds its objects in `items`.
        let items: Vec<&Node> = if doc
            .get("kind")
            .is_some_and(|k| k.value == Value::Str("List".into()))
        {
            match doc.get("items").map(|n| &n.value) {
                Some(Value::Seq(items)) => items.iter().collect(),
                _ => Vec::new(),
            }
        } else {
            vec![doc]
        };
        for obj in items {
            out.push(object_of(&rendered_src, obj, &m.source.name, i + 1)?);
        }
    }
    Ok(out)
}

fn object_of(
    src: &Source,
    obj: &Node,
    file: &str,
    doc_index: usize,
) -> Result<ManifestObject, Diagnostic> {
    let field = |k: &str| match obj.get(k).map(|n| &n.value) {
        Some(Value::Str(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    let missing = |what: &str| {
        Diagnostic::new(
            src,
            Some(obj.loc),
            format!("document {doc_index} is not a Kubernetes object: missing `{what}`"),
        )
        .with_expected("`apiVersion`, `kind` and `metadata.name`")
    };
    if !matches!(obj.value, Value::Map(_)) {
        return Err(Diagnostic::new(
            src,
            Some(obj.loc),
            format!("document {doc_index} is not a mapping"),
        )
        .with_expected("a Kubernetes object"));
    }
    let api_version = field("apiVersion").ok_or_else(|| missing("apiVersion"))?;
    let kind = field("kind").ok_or_else(|| missing("kind"))?;
    let meta = obj.get("metadata").ok_or_else(|| missing("metadata"))?;
    let name = match meta.get("name").map(|n| &n.value) {
        Some(Value::Str(s)) if !s.is_empty() => s.clone(),
        _ => return Err(missing("metadata.name")),
    };
    let namespace = match meta.get("namespace").map(|n| &n.value) {
        Some(Value::Str(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    Ok(ManifestObject {
        api_version,
        kind,
        name,
        namespace,
        object: obj.to_json(),
        file: file.to_owned(),
        doc_index,
    })
}

fn uses_any(env: &Environment<'_>, text: &str, names: &BTreeSet<String>) -> bool {
    if names.is_empty() {
        return false;
    }
    env.template_from_str(text)
        .map(|t| {
            t.undeclared_variables(false)
                .iter()
                .any(|v| names.contains(v))
        })
        .unwrap_or(false)
}

/// Path shown in messages: relative to the working directory when possible.
#[must_use]
pub fn display_path(path: &Path) -> String {
    if let Ok(cwd) = std::env::current_dir()
        && let Ok(rel) = path.strip_prefix(&cwd)
    {
        return rel.to_string_lossy().into_owned();
    }
    path.to_string_lossy().into_owned()
}

/// Reads a text file with a size limit; binary content is refused.
///
/// # Errors
/// I/O errors, files over the limit, invalid UTF-8 (with its position).
pub fn read_text(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| io_msg(&e))?;
    if meta.is_dir() {
        return Err("is a directory, not a file".to_owned());
    }
    if meta.len() > yaml::MAX_FILE_BYTES as u64 {
        return Err(format!(
            "file is too large ({} bytes; the limit is {} bytes)",
            meta.len(),
            yaml::MAX_FILE_BYTES
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| io_msg(&e))?;
    match String::from_utf8(bytes) {
        Ok(s) if s.contains('\0') => {
            Err("the file contains NUL bytes: it looks like binary data, not YAML".to_owned())
        }
        Ok(s) => Ok(s),
        Err(e) => {
            let pos = e.utf8_error().valid_up_to();
            let ok = &e.as_bytes()[..pos];
            let line = ok.iter().filter(|b| **b == b'\n').count() + 1;
            Err(format!(
                "the file is not UTF-8 text (invalid byte at line {line}): it looks like binary data, not YAML"
            ))
        }
    }
}

fn io_msg(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => e.to_string(),
    }
}

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
    let src = Source::new(shown, text);
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
    validate(&root, src, dir, path, opts)
}

#[allow(clippy::too_many_lines)]
fn validate(
    root: &Node,
    src: Source,
    dir: PathBuf,
    path: &Path,
    opts: &LoadOptions,
) -> Result<Playbook, Vec<Diagnostic>> {
    let mut cx = Cx {
        src: src.clone(),
        dir: dir.clone(),
        diags: Vec::new(),
        env: template::environment(),
        known: template::BUILTINS.iter().map(|s| (*s).to_owned()).collect(),
        captured: BTreeSet::new(),
        cluster_names: Vec::new(),
        static_ctx: serde_json::Value::Null,
        step_clusters: Vec::new(),
    };
    let header: Option<RawPlaybook> = match yaml::from_node::<RawPlaybook>(root) {
        Ok(h) => Some(h),
        Err(e) => {
            cx.diags.push(Diagnostic::from_yaml(&src, &e));
            None
        }
    };

    // Variables: defaults, then --vars-file, then --var.
    let mut vars: IndexMap<String, serde_json::Value> = IndexMap::new();
    if let Some(h) = &header {
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
    apply_overrides(&mut cx, &mut vars, opts);
    cx.known.extend(vars.keys().cloned());

    let mut clusters: IndexMap<String, Cluster> = IndexMap::new();
    if let Some(h) = &header {
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
    } else if let Some(Value::Map(entries)) = root.get("clusters").map(|n| &n.value) {
        // Keep the names so that steps can still be checked.
        cx.cluster_names = entries
            .iter()
            .filter_map(|(k, _)| match &k.value {
                Value::Str(s) => Some(s.clone()),
                _ => None,
            })
            .collect();
    }
    if header.is_some() {
        cx.cluster_names = clusters.keys().cloned().collect();
    }
    for (name, ctx) in &opts.contexts {
        if let Some(c) = clusters.get_mut(name) {
            c.context_override = Some(ctx.clone());
        } else if header.is_some() {
            let known: Vec<String> = clusters.keys().cloned().collect();
            let mut d = Diagnostic::file(
                "<command line>",
                format!("--context {name}={ctx}: the playbook has no cluster `{name}`"),
            )
            .with_expected(format!("one of: {}", known.join(", ")));
            if let Some(h) = crate::diag::did_you_mean(name, known.iter().map(String::as_str)) {
                d.help = Some(format!("did you mean `{h}`?"));
            }
            cx.diags.push(d);
        }
    }
    cx.static_ctx = static_context(&vars, &clusters, opts, path);

    // Defaults for every step.
    let mut defaults = steps::Defaults {
        timeout: options::DEFAULT_TIMEOUT,
        retry: RetryPolicy::default(),
        clusters: Vec::new(),
    };
    if let Some(d) = header.as_ref().and_then(|h| h.defaults.as_ref()) {
        if let Some(t) = &d.value.timeout
            && let Some(t) = cx.duration(t)
        {
            defaults.timeout = t;
        }
        if let Some(r) = &d.value.retry
            && let Some(r) = steps::retry_policy(&mut cx, r)
        {
            defaults.retry = r;
        }
        if let Some(c) = &d.value.clusters {
            defaults.clusters = cx.cluster_refs(c);
        }
    }

    let mut names: BTreeMap<String, Loc> = BTreeMap::new();
    let mut out_steps = Vec::new();
    let mut out_finally = Vec::new();
    for (key, out) in [("steps", &mut out_steps), ("finally", &mut out_finally)] {
        match root.get(key).map(|n| (&n.value, n.loc)) {
            Some((Value::Seq(items), _)) => {
                for item in items {
                    match yaml::from_node::<RawStep>(item) {
                        Ok(raw) => {
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
                            if let Some(step) = steps::validate(&mut cx, raw, item, &defaults) {
                                out.push(step);
                            }
                        }
                        Err(e) => cx.diags.push(Diagnostic::from_yaml(&src, &e)),
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
                if header.is_some() {
                    cx.error(
                        loc,
                        format!("`{key}` must be a list of steps, found {}", other.kind()),
                    );
                }
            }
        }
    }
    if let Some(d) = header.as_ref().and_then(|h| h.date.as_ref())
        && !is_date(&d.value)
    {
        cx.error(d.loc, format!("invalid date `{}`", d.value))
            .expected("a date as YYYY-MM-DD");
    }
    if !cx.diags.is_empty() {
        return Err(cx.diags);
    }
    let Some(h) = header else {
        return Err(cx.diags);
    };
    Ok(Playbook {
        name: h.name.value,
        title: h.title,
        summary: h.summary,
        authors: h.authors,
        date: h.date.map(|d| d.value),
        outcomes: h.outcomes,
        source: src,
        dir,
        clusters,
        vars,
        steps: out_steps,
        finally: out_finally,
    })
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

fn apply_overrides(
    cx: &mut Cx,
    vars: &mut IndexMap<String, serde_json::Value>,
    opts: &LoadOptions,
) {
    let declared: Vec<String> = vars.keys().cloned().collect();
    let unknown = |cx: &mut Cx, origin: &str, name: &str| {
        let mut d = Diagnostic::file(origin, format!("unknown variable `{name}`")).with_expected(
            if declared.is_empty() {
                "a variable declared under `vars:` (none is declared)".to_owned()
            } else {
                format!("a variable declared under `vars:`: {}", declared.join(", "))
            },
        );
        if let Some(h) = crate::diag::did_you_mean(name, declared.iter().map(String::as_str)) {
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
                    if vars.contains_key(name) {
                        vars.insert(name.clone(), v.to_json());
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
                        if let Some(h) =
                            crate::diag::did_you_mean(name, declared.iter().map(String::as_str))
                        {
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
        if vars.contains_key(k) {
            vars.insert(k.clone(), scalar_value(v));
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

/// The context every template sees before anything ran.
#[must_use]
pub fn static_context(
    vars: &IndexMap<String, serde_json::Value>,
    clusters: &IndexMap<String, Cluster>,
    opts: &LoadOptions,
    path: &Path,
) -> serde_json::Value {
    let mut ctx = serde_json::Map::new();
    for (k, v) in vars {
        ctx.insert(k.clone(), v.clone());
    }
    ctx.insert(
        "env".into(),
        serde_json::Value::Object(
            opts.env
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect(),
        ),
    );
    let env = template::environment();
    let mut cl = serde_json::Map::new();
    for (name, c) in clusters {
        let context = c.context_override.clone().unwrap_or_else(|| {
            template::render(&env, &c.context, &serde_json::Value::Object(ctx.clone()))
                .unwrap_or_else(|_| c.context.clone())
        });
        cl.insert(
            name.clone(),
            serde_json::json!({ "name": name, "context": context }),
        );
    }
    ctx.insert("clusters".into(), serde_json::Value::Object(cl));
    ctx.insert(
        "playbook".into(),
        serde_json::json!({ "path": path.to_string_lossy(), "dir": path.parent().map(|p| p.to_string_lossy().into_owned()) }),
    );
    ctx.insert("captures".into(), serde_json::json!({}));
    serde_json::Value::Object(ctx)
}
