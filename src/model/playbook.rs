//! The validated playbook: everything checked, nothing run.

use std::path::PathBuf;

use indexmap::IndexMap;

use super::step::Step;
use crate::language::scope::{Captures, Scope};
use crate::language::source::Source;
use crate::language::yaml::Loc;

/// A validated playbook: everything checked, nothing run.
#[derive(Debug, Clone)]
pub struct Playbook {
    pub name: String,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub authors: Vec<String>,
    pub date: Option<String>,
    pub outcomes: Vec<String>,
    /// Markdown closing the rendered chapter.
    pub next: Option<String>,
    /// Where the reader runs the chapter's commands from (canonical): the
    /// playbook's directory unless `root:` or `--root` say otherwise.
    pub root: PathBuf,
    pub source: Source,
    /// The playbook file as given (`{{ playbook.path }}`).
    pub path: PathBuf,
    /// Directory holding the playbook; manifest paths are relative to it.
    pub dir: PathBuf,
    pub clusters: IndexMap<String, Cluster>,
    /// Variables after defaults, `--vars-file` and `--var` were merged.
    pub vars: IndexMap<String, serde_json::Value>,
    /// What templates see (variables, env, clusters, the playbook's path).
    pub scope: Scope,
    /// What validation found worth saying that does not stop the run.
    pub warnings: Vec<crate::language::diag::Diagnostic>,
    pub steps: Vec<Step>,
    pub finally: Vec<Step>,
    /// What no output may show (`language/secrets.rs`).
    pub secrets: crate::language::secrets::Secrets,
    /// The environment variables whose values are secrets: the chapter page
    /// refers to them as shell variables the reader exports.
    pub secret_env: std::collections::BTreeSet<String>,
    /// The preview contexts of `plan` and `docs`, built once each.
    pub contexts: ContextCache,
    /// The files the playbook reads (itself first, then its manifest files)
    /// with their digests, for the JSON report (`language/digest.rs`).
    pub files: Vec<crate::language::digest::FileDigest>,
    /// The tutorial this playbook is a chapter of (`None`: it stands alone).
    pub chapter: Option<ChapterOf>,
    /// Values earlier chapters of the tutorial export, which this one may read.
    pub imports: Vec<Import>,
    /// What this chapter gives later chapters: name -> template, in order.
    pub exports: Vec<(String, serde_json::Value)>,
}

/// Where a chapter stands in its tutorial.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct ChapterOf {
    /// The tutorial's name.
    pub tutorial: String,
    /// 1-based position of the chapter in the tutorial.
    pub number: usize,
    /// The navigation group holding the chapter, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

/// A value an earlier chapter exports: its name, that chapter, and where
/// the export is written (`file:line:col`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub name: String,
    pub chapter: String,
    pub at: String,
}

/// A tutorial: its chapters, each a validated playbook (shared definitions
/// merged in), in order.
#[derive(Debug, Clone)]
pub struct Tutorial {
    pub name: String,
    pub title: Option<String>,
    pub overview: Option<String>,
    /// The tutorial file as shown in messages.
    pub file: String,
    pub chapters: Vec<Playbook>,
}

/// A preview context and the same as the template engine's value.
pub type SharedContext = (std::sync::Arc<serde_json::Value>, minijinja::Value);

/// Preview contexts by what they depend on (which preview, the cluster and
/// the step's vars): most steps share one, and building one is linear in the
/// playbook's captures, so building one per step made `plan` and `docs`
/// quadratic in the steps. A copy of the playbook starts with an empty cache.
#[derive(Debug, Default)]
pub struct ContextCache {
    names: std::sync::OnceLock<Vec<String>>,
    built: std::sync::Mutex<std::collections::HashMap<String, SharedContext>>,
}

impl Clone for ContextCache {
    fn clone(&self) -> Self {
        Self::default()
    }
}

#[derive(Debug, Clone)]
pub struct Cluster {
    pub name: String,
    /// The context template as written (rendered at run time).
    pub context: String,
    pub context_loc: Loc,
    /// `--context NAME=CTX` given on the command line (wins over the template).
    pub context_override: Option<String>,
    pub description: Option<String>,
}

impl Playbook {
    /// Names of every variable some step captures, and of the values
    /// earlier chapters export that no var stands in for (before a run,
    /// both are placeholders).
    #[must_use]
    pub fn captured_names(&self) -> Vec<String> {
        self.steps
            .iter()
            .chain(&self.finally)
            .flat_map(|s| s.action.captures())
            .chain(self.imported_names())
            .collect()
    }

    /// The values earlier chapters export that this chapter reads as
    /// captures (no `--var` stands in for them).
    fn imported_names(&self) -> impl Iterator<Item = String> + '_ {
        self.imports
            .iter()
            .filter(|i| !self.vars.contains_key(&i.name))
            .map(|i| i.name.clone())
    }

    /// What a step's templates see on the chapter page, on `cluster`: each
    /// captured value is a marker for the shell variable an earlier command
    /// set (`INGRESS_IP_CLUSTER1`; the bare name is the first target's).
    #[must_use]
    pub fn docs_context(&self, step: &Step, cluster: Option<&str>) -> serde_json::Value {
        self.scope
            .masked_env(&self.secret_env)
            .step(&step.vars, cluster, &self.docs_captures())
    }

    /// The captures of [`Self::docs_context`]: each a marker for its shell variable.
    #[must_use]
    pub fn docs_captures(&self) -> Captures {
        use crate::language::shell::{var_marker, var_name};
        let mut captures = Captures::default();
        // An earlier chapter's export is the shell variable its page set
        // (`INGRESS_IP`).
        for name in self.imported_names() {
            let marker = serde_json::Value::String(var_marker(&var_name(&name, None)));
            captures.global.insert(name, marker);
        }
        for s in self.steps.iter().chain(&self.finally) {
            for name in s.action.captures() {
                captures.global.insert(
                    name.clone(),
                    serde_json::Value::String(var_marker(&var_name(&name, None))),
                );
                for c in &s.options.clusters {
                    captures.per_cluster.entry(c.clone()).or_default().insert(
                        name.clone(),
                        serde_json::Value::String(var_marker(&var_name(&name, Some(c)))),
                    );
                }
            }
        }
        captures
    }

    /// The playbook's directory as seen from the root, `""` or ending in `/`
    /// (paths on the chapter page start from the root).
    #[must_use]
    pub fn dir_from_root(&self) -> String {
        let dir = self.dir.canonicalize().unwrap_or_else(|_| self.dir.clone());
        match dir.strip_prefix(&self.root) {
            Ok(p) if p.as_os_str().is_empty() => String::new(),
            Ok(p) => format!("{}/", p.display()),
            // The root is inside the playbook's directory: `..` steps back up.
            Err(_) => self
                .root
                .strip_prefix(&dir)
                .map(|up| "../".repeat(up.components().count()))
                .unwrap_or_default(),
        }
    }

    /// [`Self::preview_context`], shared between the steps that see the same.
    #[must_use]
    pub fn preview(&self, step: &Step) -> SharedContext {
        let cluster = step.options.clusters.first().map(String::as_str);
        self.cached("preview", step, cluster, || {
            let names = self.contexts.names.get_or_init(|| self.captured_names());
            let captures = Captures::placeholders(names, self.clusters.keys());
            self.scope.step(&step.vars, cluster, &captures)
        })
    }

    /// [`Self::preview`] as seen on one of the step's clusters.
    #[must_use]
    pub fn cluster_preview(&self, step: &Step, cluster: &str) -> SharedContext {
        self.cached("preview", step, Some(cluster), || {
            let names = self.contexts.names.get_or_init(|| self.captured_names());
            let captures = Captures::placeholders(names, self.clusters.keys());
            self.scope.step(&step.vars, Some(cluster), &captures)
        })
    }

    /// [`Self::docs_context`], shared between the steps that see the same.
    #[must_use]
    pub fn docs_preview(&self, step: &Step, cluster: Option<&str>) -> SharedContext {
        self.cached("docs", step, cluster, || self.docs_context(step, cluster))
    }

    fn cached(
        &self,
        what: &str,
        step: &Step,
        cluster: Option<&str>,
        build: impl FnOnce() -> serde_json::Value,
    ) -> SharedContext {
        let key = format!(
            "{what}\n{}\n{}",
            cluster.unwrap_or(""),
            serde_json::to_string(&step.vars).unwrap_or_default()
        );
        let mut built = self
            .contexts
            .built
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        built
            .entry(key)
            .or_insert_with(|| {
                let json = build();
                let value = minijinja::Value::from_serialize(&json);
                (std::sync::Arc::new(json), value)
            })
            .clone()
    }

    /// What a step's templates see before the run (`plan`, `docs`): captured
    /// values are `<name>` placeholders and `cluster` is its first target.
    #[must_use]
    pub fn preview_context(&self, step: &Step) -> serde_json::Value {
        let names = self.captured_names();
        let captures = Captures::placeholders(&names, self.clusters.keys());
        self.scope.step(
            &step.vars,
            step.options.clusters.first().map(String::as_str),
            &captures,
        )
    }
}
