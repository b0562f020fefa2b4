//! The playbook language: raw serde structs (what the YAML says, with
//! locations) and the validated model that the engine executes.

use std::collections::BTreeMap;
use std::path::PathBuf;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::diag::Source;
use crate::steps::{Action, RawStep};
use crate::yaml::{Loc, Node, Spanned};

/// A scenario playbook: one tutorial chapter as an ordered list of steps run
/// against one or more Kubernetes clusters.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", rename = "Playbook")]
#[schemars(title = "scenario playbook")]
pub struct RawPlaybook {
    /// Short identifier of the playbook (used in reports), e.g. `traffic-management`.
    pub name: Spanned<String>,
    /// Chapter title (front matter of the rendered page).
    pub title: Option<String>,
    /// One-line summary (front matter).
    pub summary: Option<String>,
    /// Authors (front matter).
    #[serde(default)]
    pub authors: Vec<String>,
    /// Date of the chapter, `YYYY-MM-DD` (front matter).
    pub date: Option<Spanned<String>>,
    /// "At the end of this chapter you will have" items.
    #[serde(default)]
    pub outcomes: Vec<String>,
    /// Logical cluster names mapped to kubeconfig contexts.
    #[serde(default)]
    pub clusters: IndexMap<String, Spanned<RawCluster>>,
    /// Template variables with their defaults; override with `--var k=v` or `--vars-file`.
    #[serde(default)]
    pub vars: IndexMap<String, serde_json::Value>,
    /// Options applied to every step that does not set them itself.
    pub defaults: Option<Spanned<RawDefaults>>,
    /// The ordered steps.
    pub steps: Vec<StepSlot>,
    /// Steps that always run at the end, even after a failure (cleanup).
    #[serde(default)]
    pub finally: Vec<StepSlot>,
}

/// One cluster of the playbook.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", rename = "Cluster")]
pub struct RawCluster {
    /// kubeconfig context (a template: `{{ env.CLUSTER1 | default('cluster1') }}`).
    /// Defaults to the cluster's logical name.
    pub context: Option<Spanned<String>>,
    /// Free text shown in plans and rendered docs.
    pub description: Option<String>,
}

/// Step options applied to every step unless the step sets them.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", rename = "Defaults")]
pub struct RawDefaults {
    /// Default step timeout (e.g. `2m`).
    pub timeout: Option<Spanned<crate::options::DurationText>>,
    /// Default retry policy.
    pub retry: Option<Spanned<crate::options::RawRetry>>,
    /// Default target clusters.
    pub clusters: Option<Spanned<crate::options::OneOrMany>>,
}

/// A step, kept as its YAML node so that each step is checked on its own and
/// all steps' errors are reported together.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct StepSlot(pub Node);

impl JsonSchema for StepSlot {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        RawStep::schema_name()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        RawStep::json_schema(generator)
    }
    fn inline_schema() -> bool {
        false
    }
}

/// A validated playbook: everything checked, nothing run.
#[derive(Debug, Clone)]
pub struct Playbook {
    pub name: String,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub authors: Vec<String>,
    pub date: Option<String>,
    pub outcomes: Vec<String>,
    pub source: Source,
    /// Directory holding the playbook; manifest paths are relative to it.
    pub dir: PathBuf,
    pub clusters: IndexMap<String, Cluster>,
    /// Variables after defaults, `--vars-file` and `--var` were merged.
    pub vars: IndexMap<String, serde_json::Value>,
    pub steps: Vec<Step>,
    pub finally: Vec<Step>,
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

/// A validated step.
#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    pub loc: Loc,
    pub title: Option<String>,
    /// Heading level of `title` (2-4).
    pub level: u8,
    /// A level-2 heading before this step's section.
    pub section: Option<String>,
    /// Rendered chapter: commands and output under a heading per cluster.
    pub per_cluster: bool,
    pub doc: Option<String>,
    pub options: crate::options::StepOptions,
    pub action: Action,
    /// Step-local template variables.
    pub vars: BTreeMap<String, serde_json::Value>,
}

/// Exit codes, kept by every command.
pub mod exit {
    /// Everything passed.
    pub const OK: i32 = 0;
    /// An assertion failed (the system under test is wrong).
    pub const ASSERTION_FAILED: i32 = 1;
    /// Invalid input or usage: nothing was run.
    pub const INVALID: i32 = 2;
    /// A step errored (cluster, network, I/O): the check could not be made.
    pub const STEP_ERROR: i32 = 3;
    /// Interrupted by SIGINT/SIGTERM.
    pub const INTERRUPTED: i32 = 130;
}
