//! The result tree: a run's playbooks, their steps, each step's outcome per
//! cluster, and the checks that did not hold. Terminal output, JSON Lines,
//! JUnit and JSON reports are all formatters of it.

use std::time::Duration;

use serde::Serialize;
use serde_json::Map;

use crate::language::secrets::Secrets;
use crate::model::exit;

use crate::model::outcome::secs;
pub use crate::model::outcome::{Outcome, Status};

/// The result of one step.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct StepResult {
    pub name: String,
    pub kind: &'static str,
    pub status: Status,
    #[serde(serialize_with = "secs")]
    #[schemars(with = "f64")]
    pub duration: Duration,
    pub attempts: u32,
    pub outcomes: Vec<Outcome>,
    pub finally: bool,
}

impl StepResult {
    /// A step that did not run, and why (`skipped: <why>`).
    #[must_use]
    pub fn skipped(step: &crate::model::step::Step, why: &str, finally: bool) -> Self {
        StepResult {
            name: step.name.clone(),
            kind: step.kind.name,
            status: Status::Skipped,
            duration: Duration::ZERO,
            attempts: 0,
            outcomes: vec![Outcome {
                cluster: None,
                status: Status::Skipped,
                message: format!("skipped: {why}"),
                details: Vec::new(),
                duration: Duration::ZERO,
                captures: Map::new(),
                data: None,
                checks: Vec::new(),
            }],
            finally,
        }
    }

    /// Every outcome made safe for output ([`Outcome::sanitize`]); the
    /// executor calls it once, before any observer or report sees the step.
    pub fn sanitize(&mut self, secrets: &Secrets) {
        self.outcomes.iter_mut().for_each(|o| o.sanitize(secrets));
    }

    /// The clusters this step ran on, in the order it ran on them.
    #[must_use]
    pub fn clusters(&self) -> Vec<&str> {
        self.outcomes
            .iter()
            .filter_map(|o| o.cluster.as_deref())
            .collect()
    }
}

/// The result of one playbook.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PlaybookResult {
    pub name: String,
    pub path: String,
    pub status: Status,
    /// Stopped by SIGINT/SIGTERM.
    pub interrupted: bool,
    #[serde(serialize_with = "secs")]
    #[schemars(with = "f64")]
    pub duration: Duration,
    pub steps: Vec<StepResult>,
    /// The playbook is a chapter of a tutorial run: which, and where.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chapter: Option<crate::model::playbook::ChapterOf>,
}

impl PlaybookResult {
    /// The documented exit code for this result.
    #[must_use]
    pub fn exit_code(&self) -> i32 {
        if self.interrupted {
            return exit::INTERRUPTED;
        }
        match self.status {
            Status::Passed | Status::Skipped => exit::OK,
            Status::Failed => exit::ASSERTION_FAILED,
            Status::Errored => exit::STEP_ERROR,
        }
    }
}
