//! The JSON report: a versioned document (schemas/report.schema.json) holding
//! the whole result tree.

use schemars::JsonSchema;
use serde::Serialize;

use crate::runner::result::{PlaybookResult, Status};

/// Version of the JSON report's shape; bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 2;

/// Where the committed report schema lives.
pub const SCHEMA_PATH: &str = "schemas/report.schema.json";

/// The JSON report.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Report<'a> {
    pub schema_version: u32,
    pub tool: String,
    pub status: Status,
    pub exit_code: i32,
    pub duration_seconds: f64,
    pub playbooks: &'a [PlaybookResult],
}

/// Builds the JSON report.
#[must_use]
pub fn json(results: &[PlaybookResult], exit_code: i32) -> String {
    let status = results
        .iter()
        .map(|r| r.status)
        .max()
        .unwrap_or(Status::Passed);
    let r = Report {
        schema_version: SCHEMA_VERSION,
        tool: concat!("scenario ", env!("CARGO_PKG_VERSION")).to_owned(),
        status,
        exit_code,
        duration_seconds: results.iter().map(|r| r.duration.as_secs_f64()).sum(),
        playbooks: results,
    };
    let mut s = serde_json::to_string_pretty(&r).unwrap_or_default();
    s.push('\n');
    s
}

/// The JSON Schema of the report, pretty-printed.
#[must_use]
pub fn schema() -> String {
    let mut s =
        serde_json::to_string_pretty(&schemars::schema_for!(Report<'static>)).unwrap_or_default();
    s.push('\n');
    s
}
