//! The one interface every step kind implements: how it is read and checked
//! ([`StepKind`]), and what it does once valid ([`Action`]: plan lines, the
//! equivalent commands for the chapter page, the values it captures, its run).
//! The step registry (`steps`) lists the kinds; everything else is derived.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio::time::Instant;

pub use super::access::Access;
use super::check::{Check, CheckResult};
use super::manifest::ManifestFile;
pub use super::observed::ReaderCx;
pub use super::outcome::Outcome;
pub use super::preview::PlanCx;
use super::preview::map_strings;
pub use super::resource::KindRef;
use super::resource::Resource;
pub use super::step_data::StepData;
use super::validator::Validator;
use crate::cluster::{ClusterError, Conn};
use crate::language::diag::Diagnostic;
use crate::language::from_node::from_node;
use crate::language::template;
use crate::language::yaml::{Node, Spanned};

/// How a running step shows that it is working: a spinner or a bar on a
/// terminal, nothing elsewhere. The output layer decides how it looks
/// (`output::progress`); steps and the runner only say what to show.
pub trait Progress: Send + Sync {
    /// A spinner with a message, shown while the returned meter lives.
    fn spinner(&self, message: &str) -> Box<dyn Meter>;
    /// A count of things done, shown while the returned meter lives.
    fn counter(&self, counter: &Counter<'_>) -> Box<dyn Meter>;
}

/// What a progress counter shows: `LABEL: N/TOTAL UNIT, RATE/sNOTE`.
#[derive(Debug, Clone, Copy)]
pub struct Counter<'a> {
    /// What is counting (`probe`).
    pub label: &'a str,
    /// What is counted (`answers`).
    pub unit: &'a str,
    /// How many are expected; `None`: open-ended (a spinner and the count).
    pub total: Option<u64>,
    /// Shown after the rate (` (paced at 5/s)`), or empty.
    pub note: &'a str,
}

/// A progress shown while it lives.
pub trait Meter: Send + Sync {
    /// `n` more things done.
    fn inc(&self, n: u64);
}

impl Meter for () {
    fn inc(&self, _: u64) {}
}

/// No progress shown: pipes, CI logs, JSON Lines, tests.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn spinner(&self, _: &str) -> Box<dyn Meter> {
        Box::new(())
    }

    fn counter(&self, _: &Counter<'_>) -> Box<dyn Meter> {
        Box::new(())
    }
}

/// A step kind as written: its key, its raw form and its validation.
pub trait StepKind: Action + Sized + 'static {
    /// The action key (`apply`, `patch`, ...).
    const NAME: &'static str;
    /// One line for the schema and `--help`-like listings.
    const SUMMARY: &'static str;
    /// Whether it talks to clusters (and so needs target clusters).
    const NEEDS_CLUSTER: bool;
    /// Whether it runs local commands (allowed only with `--allow-exec`).
    const NEEDS_ALLOW_EXEC: bool = false;
    /// What `--dry-run` does with it (docs/playbook.md#dry-run lists every kind).
    const DRY_RUN: DryRun;
    /// What the YAML holds under the key.
    type Raw: DeserializeOwned + JsonSchema;

    /// Checks the raw form; records problems on `v` and returns `None` if any.
    /// `vars` are the step-local variable names.
    fn validate(
        v: &mut Validator,
        raw: &Spanned<Self::Raw>,
        vars: &BTreeSet<String>,
    ) -> Option<Self>;
}

/// A validated action: what it plans, documents, captures and does.
pub trait Action: std::fmt::Debug + Send + Sync {
    /// Names of the variables it captures for later steps.
    fn captures(&self) -> Vec<String>;

    /// Plan lines (`scenario plan`, and "what scenario checks" in the chapter).
    ///
    /// # Errors
    /// A manifest that fails to render.
    fn plan(&self, pc: &PlanCx<'_>) -> Result<Vec<String>, Diagnostic>;

    /// What a reader would type to do the same by hand, per target cluster.
    ///
    /// # Errors
    /// A manifest that fails to render.
    fn docs(&self, pc: &PlanCx<'_>, clusters: &[String]) -> Result<Docs, Diagnostic>;

    /// What those commands print, for one outcome of a real run (the chapter
    /// page with `--from-report`); objects they make go into `cx.made`.
    fn reader_view(&self, o: &Outcome, cx: &mut ReaderCx) -> Vec<String>;

    /// The kinds it touches or defines (CRDs), as far as known before the run:
    /// the pre-flight resolves them by discovery before anything is written.
    fn kinds(&self, pc: &PlanCx<'_>) -> Vec<KindRef>;

    /// What it needs of a cluster's API (verbs per kind and namespace), as far
    /// as known before the run: `scenario rbac` derives RBAC from it.
    fn access(&self, pc: &PlanCx<'_>) -> Vec<Access>;

    /// Runs on one cluster (or without one), within `cx.deadline`.
    fn run<'a>(&'a self, cx: &'a StepCx<'a>) -> BoxFuture<'a, Result<Done, StepError>>;
}

/// What a step kind does under `--dry-run`: nothing it does may change a
/// cluster, a file or a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DryRun {
    /// It runs: its writes are server-side dry runs (nothing is persisted)
    /// and it says what would change; its reads are real.
    ServerSide,
    /// It runs as usual: it only reads.
    ReadOnly,
    /// It is not run (a local command, HTTP requests, a sleep or a prompt):
    /// the step passes with what it would do, and its captures are placeholders.
    NotRun,
}

/// Reads and checks the YAML under an action key (step-local var names given).
pub type ParseFn = fn(&mut Validator, &Node, &BTreeSet<String>) -> Option<Arc<dyn Action>>;

/// One entry of the registry: what the loader and the schema need of a kind.
#[derive(Debug)]
pub struct Kind {
    pub name: &'static str,
    pub summary: &'static str,
    pub needs_cluster: bool,
    /// Runs local commands: only with `--allow-exec`.
    pub needs_allow_exec: bool,
    /// What `--dry-run` does with it.
    pub dry_run: DryRun,
    /// Reads and checks the YAML under the action key.
    pub parse: ParseFn,
    /// The JSON Schema of the YAML under the action key.
    pub schema: fn(&mut schemars::SchemaGenerator) -> schemars::Schema,
}

/// The registry entry of a kind.
#[must_use]
pub const fn kind<K: StepKind>() -> Kind {
    Kind {
        name: K::NAME,
        summary: K::SUMMARY,
        needs_cluster: K::NEEDS_CLUSTER,
        needs_allow_exec: K::NEEDS_ALLOW_EXEC,
        dry_run: K::DRY_RUN,
        parse: parse::<K>,
        schema: schema::<K>,
    }
}

fn parse<K: StepKind>(
    v: &mut Validator,
    node: &Node,
    vars: &BTreeSet<String>,
) -> Option<Arc<dyn Action>> {
    match from_node::<Spanned<K::Raw>>(node) {
        Ok(raw) => K::validate(v, &raw, vars).map(|a| Arc::new(a) as Arc<dyn Action>),
        Err(e) => {
            let d = Diagnostic::from_yaml(&v.src, &e);
            v.diags.push(d);
            None
        }
    }
}

fn schema<K: StepKind>(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    generator.subschema_for::<K::Raw>()
}

/// The part of the chapter page a step contributes.
#[derive(Debug, Default)]
pub struct Docs {
    /// Shell commands, each with the cluster it targets.
    pub commands: Vec<DocsCommand>,
    /// A tip shown to the reader instead of a command (e.g. `pause`).
    pub tip: Option<String>,
    /// Manifests shown folded under the commands.
    pub manifests: Vec<ManifestFile>,
}

#[derive(Debug)]
pub struct DocsCommand {
    pub cluster: Option<String>,
    pub line: String,
}

impl DocsCommand {
    #[must_use]
    pub fn on(cluster: &str, line: String) -> Self {
        DocsCommand {
            cluster: Some(cluster.to_owned()),
            line,
        }
    }

    #[must_use]
    pub fn local(line: String) -> Self {
        DocsCommand {
            cluster: None,
            line,
        }
    }
}

/// Everything an action needs while it runs.
pub struct StepCx<'a> {
    pub conn: Option<Arc<Conn>>,
    pub ctx: Value,
    pub env: &'a minijinja::Environment<'static>,
    pub deadline: Instant,
    /// Server-side dry run for every change; show what would change.
    pub dry_run: bool,
    /// Stdin is a terminal (enables `pause`).
    pub interactive: bool,
    /// `--allow-exec` was given.
    pub allow_exec: bool,
    /// The playbook's directory (manifest and kustomize paths are relative to it).
    pub dir: &'a std::path::Path,
    /// The playbook file as shown in messages (check results point into it).
    pub file: &'a str,
    /// Where the step shows how far it has got.
    pub progress: &'a dyn Progress,
}

impl StepCx<'_> {
    /// Renders a templated string.
    ///
    /// # Errors
    /// An undefined variable or template error (a step error).
    pub fn render(&self, s: &str) -> Result<String, StepError> {
        template::render(self.env, s, &self.ctx)
            .map_err(|e| StepError::Errored(format!("template `{s}`: {}", e.message)))
    }

    /// Renders every string in a JSON value.
    ///
    /// # Errors
    /// As [`StepCx::render`].
    pub fn render_json(&self, v: &Value) -> Result<Value, StepError> {
        map_strings(v, &mut |s| self.render(s))
    }

    /// A check with the templates in its expected values rendered.
    ///
    /// # Errors
    /// As [`StepCx::render`].
    pub fn render_check(&self, c: &Check) -> Result<Check, StepError> {
        c.map_expected(|v| self.render_json(v))
    }

    /// A selector with its templates rendered for this step.
    ///
    /// # Errors
    /// As [`StepCx::render`].
    pub fn resource(&self, r: &Resource) -> Result<Resource, StepError> {
        r.map_templates(&mut |s| self.render(s))
    }

    /// The cluster connection (cluster steps always have one).
    ///
    /// # Errors
    /// Never for cluster steps.
    pub fn conn(&self) -> Result<&Arc<Conn>, StepError> {
        self.conn
            .as_ref()
            .ok_or_else(|| StepError::Errored("this step needs a cluster".into()))
    }

    /// Time left before the step's deadline.
    #[must_use]
    pub fn left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
}

/// What an action returns when it passed.
#[derive(Debug, Clone, Default)]
pub struct Done {
    pub message: String,
    pub details: Vec<String>,
    pub captures: Map<String, Value>,
    pub data: Option<StepData>,
}

impl Done {
    #[must_use]
    pub fn msg(message: impl Into<String>) -> Self {
        Done {
            message: message.into(),
            ..Done::default()
        }
    }
}

/// Why an action did not pass.
#[derive(Debug, Clone)]
pub enum StepError {
    /// An expectation did not hold; with the diagnosis and the checks that failed.
    Failed {
        message: String,
        details: Vec<String>,
        data: Option<StepData>,
        checks: Vec<CheckResult>,
    },
    /// The check could not be made.
    Errored(String),
    /// The step errored after doing part of its work: what it did is in
    /// `details` and `data` (e.g. the objects an apply applied before the
    /// API server went away).
    Incomplete {
        message: String,
        details: Vec<String>,
        data: Option<StepData>,
    },
}

impl StepError {
    #[must_use]
    pub fn failed(message: impl Into<String>, details: Vec<String>) -> Self {
        StepError::Failed {
            message: message.into(),
            details,
            data: None,
            checks: Vec::new(),
        }
    }

    /// The same failure, with the checks that did not hold.
    #[must_use]
    pub fn with_checks(self, results: Vec<CheckResult>) -> Self {
        match self {
            StepError::Failed {
                message,
                details,
                data,
                mut checks,
            } => {
                checks.extend(results);
                StepError::Failed {
                    message,
                    details,
                    data,
                    checks,
                }
            }
            other => other,
        }
    }
}

impl From<ClusterError> for StepError {
    fn from(e: ClusterError) -> Self {
        StepError::Errored(e.to_string())
    }
}
