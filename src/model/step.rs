//! A validated step: its options, shared by every kind, and its action.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::action::{Action, Kind};
use crate::language::yaml::Loc;

/// Default step timeout when neither the step nor `defaults` sets one.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub delay: Duration,
    pub backoff: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 1,
            delay: Duration::from_secs(1),
            backoff: false,
        }
    }
}

/// The options every step has, validated.
#[derive(Debug, Clone)]
pub struct StepOptions {
    /// Logical cluster names the step runs on (empty: a step that needs no cluster).
    pub clusters: Vec<String>,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub continue_on_error: bool,
    /// A minijinja expression; the step is skipped when it is false.
    pub when: Option<(String, Loc)>,
    pub tags: Vec<String>,
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
    pub options: StepOptions,
    /// The step kind (its registry entry: name, needs a cluster, ...).
    pub kind: &'static Kind,
    pub action: Arc<dyn Action>,
    /// Step-local template variables.
    pub vars: BTreeMap<String, serde_json::Value>,
    /// Captured values its templates cannot do without (no `default`, no
    /// `is defined` guard): a step selection must run a step that captures them.
    pub needs: std::collections::BTreeSet<String>,
}
