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
    /// Names of every variable some step captures.
    #[must_use]
    pub fn captured_names(&self) -> Vec<String> {
        self.steps
            .iter()
            .chain(&self.finally)
            .flat_map(|s| s.action.captures())
            .collect()
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
