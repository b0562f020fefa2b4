//! Small option structs shared by every step: target clusters, timeout, retry,
//! continue-on-error, a condition to skip, tags.

use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::yaml::{Loc, Spanned};

/// Default step timeout when neither the step nor `defaults` sets one.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// One name or a list of names (`clusters: cluster1` or `clusters: [cluster1, cluster2]`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    #[must_use]
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// Retry policy: a failed or errored step is run again.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", rename = "Retry")]
pub struct RawRetry {
    /// Total number of attempts (1 = no retry).
    pub attempts: u32,
    /// Delay between attempts (e.g. `2s`); doubles each attempt when `backoff` is true.
    pub delay: Option<Spanned<String>>,
    /// Exponential backoff (default false).
    #[serde(default)]
    pub backoff: bool,
}

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

/// Parses a duration like `500ms`, `30s`, `2m`, `1h30m`.
///
/// # Errors
/// A readable message when the text is not a duration.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if t.chars().all(|c| c.is_ascii_digit()) && !t.is_empty() {
        return Err(format!(
            "`{t}` has no unit: write `{t}s` for seconds or `{t}ms` for milliseconds"
        ));
    }
    humantime::parse_duration(t).map_err(|e| format!("invalid duration `{t}`: {e}"))
}
