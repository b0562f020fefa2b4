//! The raw playbook: serde structs for what the YAML says, with locations.
//! Steps stay YAML nodes here; the loader reads each one on its own.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use super::options::{DurationText, OneOrMany, RawRetry};
use super::yaml::{Node, Spanned};

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
    /// Markdown that closes the rendered chapter (what the reader does next).
    pub next: Option<String>,
    /// Logical cluster names mapped to kubeconfig contexts.
    #[serde(default)]
    pub clusters: IndexMap<String, Spanned<RawCluster>>,
    /// The directory manifests and kustomize directories may come from (a template,
    /// relative to the playbook; default: the playbook's directory), e.g. `..` or
    /// `{{ env.TUTORIAL_HOME }}`. `--root DIR` overrides it.
    pub root: Option<Spanned<String>>,
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
    /// The tutorial this chapter belongs to (a path relative to the chapter, e.g.
    /// `../tutorial.yaml`): its clusters, vars, defaults and reusable steps apply here,
    /// and the values its earlier chapters export can be read.
    pub tutorial: Option<Spanned<String>>,
    /// Values this chapter gives the later chapters of its tutorial: name -> a
    /// template over its captures and vars (`"{{ ingress_ip }}"` keeps the value's type).
    #[serde(default)]
    pub exports: IndexMap<String, Spanned<String>>,
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
    pub timeout: Option<Spanned<super::options::DurationText>>,
    /// Default retry policy.
    pub retry: Option<Spanned<super::options::RawRetry>>,
    /// Default target clusters.
    pub clusters: Option<Spanned<super::options::OneOrMany>>,
    /// Default request rate of `probe` steps (`200/s`, `600/m`); a probe's own
    /// `rate` wins. Default: as fast as each probe's `concurrency` allows.
    pub rate: Option<Spanned<super::options::RateText>>,
}

/// A step, kept as its YAML node so that each step is checked on its own and
/// all steps' errors are reported together.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct StepSlot(pub Node);

// The schema of a step is the options below plus one property per step kind;
// the step registry completes it (`scenario schema`).
impl JsonSchema for StepSlot {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        RawStepOptions::schema_name()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        RawStepOptions::json_schema(generator)
    }
    fn inline_schema() -> bool {
        false
    }
}

/// One step: a name, optional prose, exactly one action and the options every
/// action shares. (This struct holds the options; the step registry adds one
/// key per step kind to the schema.)
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", rename = "Step")]
pub struct RawStepOptions {
    /// Unique step name (used by `--from`, `--only`, reports).
    pub name: Spanned<String>,
    /// Heading of the step's section when the playbook is rendered as a chapter.
    pub title: Option<String>,
    /// Heading level of `title` in the rendered chapter (2-4, default 2).
    #[schemars(range(min = 2, max = 4))]
    pub level: Option<Spanned<u8>>,
    /// A level-2 heading that opens a group of sections before this step.
    pub section: Option<String>,
    /// Rendered chapter: the step's commands and output under a heading per cluster.
    #[serde(default)]
    pub per_cluster: bool,
    /// Markdown prose shown before the step in the rendered chapter.
    pub doc: Option<String>,
    /// Target cluster(s): one logical name or a list; the step fans out to each.
    pub clusters: Option<Spanned<OneOrMany>>,
    /// Step timeout (e.g. `90s`); default from `defaults.timeout`, else 2m.
    pub timeout: Option<Spanned<DurationText>>,
    /// Retry policy for this step.
    pub retry: Option<Spanned<RawRetry>>,
    /// Keep going when this step fails (its failure is still reported).
    #[serde(default)]
    pub continue_on_error: bool,
    /// A minijinja expression; the step is skipped when it is false (e.g. `restore`).
    pub when: Option<Spanned<String>>,
    /// Tags for `--tags` / `--skip-tags`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Step-local template variables.
    #[serde(default)]
    pub vars: BTreeMap<String, serde_json::Value>,
}
