//! Manifests: template files (or inline YAML, or a kustomize directory) that
//! render to Kubernetes objects; found and checked at validation time,
//! rendered again at plan and run time. The model spawns no process: the
//! kustomize build is `tools::kustomize`'s, and a step's sources as a whole
//! are validated by `steps::common::manifests`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use minijinja::Environment;

use super::preview::PlanCx;
use super::validator::Validator;
use crate::language::diag::Diagnostic;
use crate::language::scope::Captures;
use crate::language::source::{Source, display_path, read_text};
use crate::language::template;
use crate::language::yaml::{self, Node, Spanned, Value};

/// A manifest file referenced by a step: a template next to the playbook.
#[derive(Debug, Clone)]
pub struct ManifestFile {
    /// Path relative to the playbook directory, as displayed.
    pub rel: String,
    pub path: PathBuf,
    pub source: Source,
    /// True when the template uses values only known at run time (captures).
    pub uses_captures: bool,
    /// `${NAME}` placeholders are substituted after rendering (`substitute: true`).
    pub substitute: bool,
}

impl Validator {
    /// A path field rendered with what is known before the run (paths are
    /// needed at validation: they may not depend on captures).
    pub fn known_path(&mut self, s: &Spanned<String>, extra: &BTreeSet<String>) -> Option<String> {
        if self.uses_captures(&s.value) {
            self.error(s.loc, format!("path `{}` depends on a capture", s.value))
                .expected("a path from vars and env, known before the run");
            return None;
        }
        self.known_value(s, extra)
    }

    /// Whether a path (through any symlink) is under the root.
    #[must_use]
    pub fn under_root(&self, path: &Path) -> bool {
        path.canonicalize().is_ok_and(|c| c.starts_with(&self.root))
    }

    /// Resolves manifest globs relative to the playbook directory, checks that
    /// they exist, stay inside the directory, and compile as templates.
    pub fn manifests(
        &mut self,
        patterns: &[Spanned<String>],
        extra: &BTreeSet<String>,
        substitute: bool,
    ) -> Vec<ManifestFile> {
        let mut out: Vec<ManifestFile> = Vec::new();
        for pat in patterns {
            // Paths may be templates of vars and env (`{{ env.TUTORIAL_HOME }}/mesh-files/*.yaml`).
            let Some(rendered) = self.known_path(pat, extra) else {
                continue;
            };
            let full = self.dir.join(&rendered);
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
                let before = self.diags.len();
                if let Some(m) = self.manifest_file(pat, &path, extra, substitute) {
                    out.push(m);
                } else if self.diags.len() > before
                    && self.diags[before].message.contains("is outside the root")
                {
                    break; // one such error per pattern is enough
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
        substitute: bool,
    ) -> Option<ManifestFile> {
        // The file (through any symlink) must be under the root.
        if !self.under_root(path) {
            let root = display_path(&self.root);
            self.error(
                pat.loc,
                format!("manifest `{}` is outside the root {root}", path.display()),
            )
            .expected(
                "a path under the root; widen it with `root:` in the playbook or `--root DIR`",
            );
            return None;
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
        self.files_read.push(crate::language::digest::FileDigest {
            path: display.clone(),
            sha256: crate::language::digest::sha256_hex(text.as_bytes()),
        });
        let source = Source::new(display, text);
        let names = self.names(extra);
        if let Err(e) = template::check(&self.env, &source.text, &names) {
            let mut d = Diagnostic::new(&source, e.loc, e.message);
            d.expected = Some("a minijinja template using known variables".to_owned());
            self.diags.push(d);
            return None;
        }
        let uses_captures = self.uses_captures(&source.text);
        let m = ManifestFile {
            rel,
            path: path.to_path_buf(),
            source,
            uses_captures,
            substitute: false,
        };
        let mut m = m;
        if check_placeholders(self, &mut m, substitute, extra) && !m.uses_captures {
            self.prerender(&m);
        }
        Some(m)
    }

    /// Renders a manifest with the values known now and checks the result is
    /// YAML made of Kubernetes objects.
    pub fn prerender(&mut self, m: &ManifestFile) {
        let none = Captures::default();
        let mut contexts: Vec<serde_json::Value> = self
            .step_clusters
            .iter()
            .map(|c| self.scope.step(&self.step_vars, Some(c), &none))
            .collect();
        if contexts.is_empty() {
            contexts.push(self.scope.base());
        }
        self.env_refs
            .extend(crate::language::secrets::env_refs(&m.source.text));
        if m.substitute {
            // A `${NAME}` that no var gives comes from the environment.
            for p in crate::language::substitute::placeholders(&m.source.text) {
                if !contexts.iter().any(|c| c.get(&p.name).is_some()) {
                    self.env_refs.insert(p.name);
                }
            }
        }
        for ctx in &contexts {
            match render_manifest(&self.env, m, ctx) {
                Ok(objects) => {
                    for o in &objects {
                        self.secrets.add_object(&o.object);
                    }
                }
                Err(d) => {
                    self.diags.push(d);
                    return;
                }
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
    render_manifest_in(env, m, ctx, &minijinja::Value::from_serialize(ctx))
}

/// [`render_manifest`] with the context also given as the template engine's
/// value (converted once by the caller, e.g. for every step of a plan).
///
/// # Errors
/// As [`render_manifest`].
pub fn render_manifest_in(
    env: &Environment<'_>,
    m: &ManifestFile,
    ctx: &serde_json::Value,
    value: &minijinja::Value,
) -> Result<Vec<ManifestObject>, Diagnostic> {
    let rendered = template::render(env, &m.source.text, value).map_err(|e| {
        let expected = if e.over_limit {
            "a template within the limits of docs/limits.md"
        } else {
            "a template whose variables are all defined"
        };
        Diagnostic::new(&m.source, e.loc, e.message).with_expected(expected)
    })?;
    let rendered = if m.substitute {
        let rendered_src = Source::new(format!("{} (rendered)", m.source.name), rendered.as_str());
        crate::language::substitute::substitute(&rendered, |n| {
            crate::language::substitute::lookup(ctx, n)
        })
        .map_err(|e| {
            let d = Diagnostic::new(&rendered_src, Some(offset_loc(&rendered, e.offset())), e.message());
            match e {
                crate::language::substitute::SubstError::Missing(_) => d.with_expected("a var, a step var, a capture or an environment variable of that name, or a default: `${NAME:=value}`"),
                crate::language::substitute::SubstError::TooLarge { .. } => d.with_expected("values that keep the substituted manifest under the limit"),
            }
        })?
    } else {
        rendered
    };
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

/// The line and column of a byte offset.
fn offset_loc(text: &str, offset: usize) -> yaml::Loc {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    yaml::Loc {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        col: u32::try_from(col).unwrap_or(u32::MAX),
    }
}

/// `${NAME}` placeholders of the step's manifests: with `substitute: true`
/// each needs a value (or a default); without it, they would reach the
/// cluster as text, which is worth a warning. True when the manifest can be
/// pre-rendered now (substituted as the run will): no placeholder is missing
/// and none waits for a capture.
pub fn check_placeholders(
    cx: &mut Validator,
    m: &mut ManifestFile,
    substitute: bool,
    extra: &BTreeSet<String>,
) -> bool {
    let found = crate::language::substitute::placeholders(&m.source.text);
    if found.is_empty() {
        return true;
    }
    m.substitute = substitute;
    if !substitute {
        let p = &found[0];
        let mut d = Diagnostic::new(
            &m.source,
            Some(offset_loc(&m.source.text, p.offset)),
            format!(
                "`${{{}}}` will be applied as written: this step does not substitute placeholders",
                p.name
            ),
        )
        .with_help("add `substitute: true` to the step to replace `${NAME}` as envsubst does");
        d.warning = true;
        cx.warnings.push(d);
        return true;
    }
    let names = cx.names(extra);
    let env = cx.scope.base();
    let before = cx.diags.len();
    for p in found.iter().filter(|p| p.default.is_none()) {
        let known = names.contains(&p.name) || env["env"].get(&p.name).is_some();
        if !known {
            let d = Diagnostic::new(
                &m.source,
                Some(offset_loc(&m.source.text, p.offset)),
                format!("`${{{}}}` has no value", p.name),
            )
            .with_expected("a var, a step var, a capture or an environment variable of that name, or a default: `${NAME:=value}`");
            cx.diags.push(d);
        }
    }
    cx.diags.len() == before
        && !found.iter().any(|p| {
            p.default.is_none() && (cx.captured.contains(&p.name) || extra.contains(&p.name))
        })
}

/// Where manifests come from (shared by apply and delete).
#[derive(Debug, Clone)]
pub struct Manifests {
    pub files: Vec<ManifestFile>,
    /// Inline YAML (a template).
    pub inline: Option<crate::model::manifest::ManifestFile>,
    /// A kustomize directory, relative to the playbook.
    pub kustomize: Option<String>,
    /// The same directory as a path (the chapter page builds it to show its output).
    pub kustomize_dir: Option<std::path::PathBuf>,
    /// Namespace given to objects that have none.
    pub namespace: Option<String>,
    /// `${NAME}` placeholders are substituted (envsubst) in files, inline and kustomize output.
    pub substitute: bool,
}

impl Manifests {
    /// The kinds of the objects these manifests hold (those that render
    /// before the run), and the kinds their CRDs define.
    #[must_use]
    pub fn kinds(&self, pc: &PlanCx<'_>) -> Vec<super::resource::KindRef> {
        use super::resource::KindRef;
        let mut out = Vec::new();
        for m in self.files.iter().chain(self.inline.iter()) {
            let Ok(objs) = render_manifest_in(pc.env, m, &pc.ctx, &pc.value) else {
                continue;
            };
            for o in objs {
                if o.kind == "CustomResourceDefinition"
                    && let (Some(group), Some(kind)) = (
                        o.object["spec"]["group"].as_str(),
                        o.object["spec"]["names"]["kind"].as_str(),
                    )
                {
                    out.push(KindRef::Defines {
                        group: group.to_owned(),
                        kind: kind.to_owned(),
                    });
                }
                out.push(KindRef::Uses {
                    api_version: o.api_version,
                    kind: o.kind,
                });
            }
        }
        out
    }

    /// The verbs a step needs on the objects these manifests hold (those that
    /// render before the run), and the CRDs they define. A kustomize
    /// directory is built only at run time: its objects are not known here.
    #[must_use]
    pub fn access(
        &self,
        pc: &PlanCx<'_>,
        verbs: &'static [&'static str],
    ) -> Vec<super::access::Access> {
        use super::access::Access;
        let mut out = Vec::new();
        if let Some(k) = &self.kustomize {
            out.push(Access::Unknown(format!(
                "{} of the objects kustomize builds from `{k}` (run `kubectl kustomize {k}` and add them)",
                verbs.join(", ")
            )));
        }
        for m in self.files.iter().chain(self.inline.iter()) {
            let Ok(objs) = render_manifest_in(pc.env, m, &pc.ctx, &pc.value) else {
                continue;
            };
            for o in objs {
                if o.kind == "CustomResourceDefinition"
                    && let (Some(group), Some(kind), Some(plural)) = (
                        o.object["spec"]["group"].as_str(),
                        o.object["spec"]["names"]["kind"].as_str(),
                        o.object["spec"]["names"]["plural"].as_str(),
                    )
                {
                    out.push(Access::Defines {
                        group: group.to_owned(),
                        kind: kind.to_owned(),
                        plural: plural.to_owned(),
                        namespaced: o.object["spec"]["scope"].as_str() != Some("Cluster"),
                    });
                }
                let ns = o.namespace.as_deref().or(self.namespace.as_deref());
                out.push(Access::objects(&o.api_version, &o.kind, ns, verbs));
            }
        }
        out
    }

    /// The files and inline manifests, as the chapter page shows them.
    #[must_use]
    pub fn shown(&self) -> Vec<ManifestFile> {
        self.files
            .iter()
            .chain(self.inline.iter())
            .cloned()
            .collect()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.inline.is_none() && self.kustomize.is_none()
    }

    /// Plan lines: one per rendered object.
    ///
    /// # Errors
    /// A manifest that fails to render.
    pub fn plan(&self, pc: &PlanCx<'_>) -> Result<Vec<String>, crate::language::diag::Diagnostic> {
        let mut lines = Vec::new();
        for m in self.files.iter().chain(self.inline.iter()) {
            let objs = render_manifest_in(pc.env, m, &pc.ctx, &pc.value)?;
            lines.push(format!(
                "{} ({} object{})",
                pc.page_path(&m.rel),
                objs.len(),
                if objs.len() == 1 { "" } else { "s" }
            ));
            for o in objs {
                let ns = o
                    .namespace
                    .or_else(|| self.namespace.as_deref().map(|n| pc.render(n)));
                let ns = ns.map(|n| format!("{n}/")).unwrap_or_default();
                lines.push(format!("  {} {} {ns}{}", o.api_version, o.kind, o.name));
            }
        }
        if let Some(k) = &self.kustomize {
            let k = pc.page_path(k);
            lines.push(format!(
                "kustomize {k} (built by `kubectl kustomize` at validation when kubectl is on PATH, and again at run time)"
            ));
        }
        Ok(lines)
    }
}
