//! The result tree: a run's playbooks, their steps, each step's outcome per
//! cluster, and the checks that did not hold. Terminal output, JSON Lines,
//! JUnit and JSON reports are all formatters of it.

use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::language::secrets::Secrets;
use crate::language::untrusted;
use crate::model::check::CheckResult;
use crate::model::exit;

/// The verdict of a step, a cluster's part of it, or a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Passed,
    Skipped,
    /// An assertion did not hold (the system under test is wrong).
    Failed,
    /// The step could not make its check (cluster, network, I/O).
    Errored,
}

impl Status {
    /// Failed or errored: the step did not pass.
    #[must_use]
    pub fn is_failure(self) -> bool {
        matches!(self, Status::Failed | Status::Errored)
    }

    #[must_use]
    pub fn word(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Skipped => "skipped",
            Status::Failed => "FAILED",
            Status::Errored => "ERROR",
        }
    }
}

/// What one action did on one cluster (or without a cluster).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Outcome {
    pub cluster: Option<String>,
    pub status: Status,
    /// One line: what happened.
    pub message: String,
    /// The diagnosis or the output worth showing (tables, diffs, last state).
    pub details: Vec<String>,
    #[serde(serialize_with = "secs")]
    #[schemars(with = "f64")]
    pub duration: Duration,
    /// Values captured for later steps.
    pub captures: Map<String, Value>,
    /// Step-specific data for reports (e.g. a probe's observations).
    pub data: Option<Value>,
    /// The checks that did not hold, each with its place in the playbook.
    pub checks: Vec<CheckResult>,
}

impl Outcome {
    /// The outcome's message, prefixed by its cluster (`cluster1: applied 2 objects`).
    #[must_use]
    pub fn headline(&self) -> String {
        match &self.cluster {
            Some(c) => format!("{c}: {}", self.message),
            None => self.message.clone(),
        }
    }
}

impl Outcome {
    /// This outcome made safe for every output: secrets redacted, control
    /// characters escaped, long values cut (`language/untrusted.rs`).
    pub fn sanitize(&mut self, secrets: &Secrets) {
        use crate::language::limits::{MAX_LINE_CHARS, MAX_QUOTED_CHARS};
        let text = |s: &mut String| *s = untrusted::clean_text(&secrets.redact(s));
        text(&mut self.message);
        self.details.iter_mut().for_each(text);
        for v in self.captures.values_mut().chain(self.data.as_mut()) {
            secrets.redact_value(v);
            untrusted::clean_value(v, MAX_LINE_CHARS);
        }
        for c in &mut self.checks {
            c.check = untrusted::clean_line(&secrets.redact(&c.check));
            c.expected = untrusted::clean_line(&secrets.redact(&c.expected));
            if let Some(v) = c.actual.as_mut() {
                secrets.redact_value(v);
                untrusted::clean_value(v, MAX_QUOTED_CHARS);
            }
        }
    }
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

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
