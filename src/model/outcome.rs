//! What one action did on one cluster (or without one): its verdict, what
//! happened, the checks that did not hold and its kind's typed data. The
//! result tree (`runner/result.rs`) holds outcomes; the JSON report writes
//! them and `docs --from-report` reads them back as this same type.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::check::CheckResult;
use super::step_data::StepData;
use crate::language::secrets::Secrets;
use crate::language::untrusted;

/// The verdict of a step, a cluster's part of it, or a run.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
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
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Outcome {
    pub cluster: Option<String>,
    pub status: Status,
    /// One line: what happened.
    pub message: String,
    /// The diagnosis or the output worth showing (tables, diffs, last state).
    pub details: Vec<String>,
    #[serde(serialize_with = "secs", deserialize_with = "from_secs")]
    #[schemars(with = "f64")]
    pub duration: Duration,
    /// Values captured for later steps.
    pub captures: Map<String, Value>,
    /// The step kind's data (e.g. a probe's observations).
    pub data: Option<StepData>,
    /// The checks that did not hold, each with its place in the playbook.
    pub checks: Vec<CheckResult>,
}

/// A duration as seconds (the reports' unit).
///
/// # Errors
/// The serializer's.
pub fn secs<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Seconds read back as a duration (a negative or non-finite number is 0).
///
/// # Errors
/// Not a number.
pub fn from_secs<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let s = Option::<f64>::deserialize(d)?.unwrap_or(0.0);
    Ok(Duration::try_from_secs_f64(s).unwrap_or(Duration::ZERO))
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

    /// The lines the terminal and JUnit show under the headline: the
    /// details, then for a failed probe a few answers as they came.
    #[must_use]
    pub fn shown_details(&self) -> Vec<String> {
        let mut lines = self.details.clone();
        if self.status == Status::Failed
            && let Some(p) = self.data.as_ref().and_then(StepData::probe)
        {
            for s in &p.samples {
                lines.push(format!(
                    "sample: {}",
                    serde_json::to_string(s).unwrap_or_default()
                ));
            }
        }
        lines
    }

    /// This outcome made safe for every output: secrets redacted, control
    /// characters escaped, long values cut (`language/untrusted.rs`).
    pub fn sanitize(&mut self, secrets: &Secrets) {
        use crate::language::limits::{MAX_LINE_CHARS, MAX_QUOTED_CHARS};
        let text = |s: &mut String| *s = untrusted::clean_text(&secrets.redact(s));
        text(&mut self.message);
        self.details.iter_mut().for_each(text);
        for v in self.captures.values_mut() {
            secrets.redact_value(v);
            untrusted::clean_value(v, MAX_LINE_CHARS);
        }
        if let Some(d) = &mut self.data {
            d.texts_mut(&mut |s, key| clean_string(s, key, secrets, MAX_LINE_CHARS));
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

/// A string of a step's data cleaned as a JSON string (or key) is: secrets
/// redacted, control characters escaped, cut at `max`.
fn clean_string(s: &mut String, key: bool, secrets: &Secrets, max: usize) {
    let taken = std::mem::take(s);
    let mut v = if key {
        Value::Object(Map::from_iter([(taken, Value::Null)]))
    } else {
        Value::String(taken)
    };
    secrets.redact_value(&mut v);
    untrusted::clean_value(&mut v, max);
    *s = match v {
        Value::String(t) => t,
        Value::Object(m) => m.into_iter().next().map(|(k, _)| k).unwrap_or_default(),
        _ => String::new(),
    };
}
