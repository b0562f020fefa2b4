//! The JSON report: a versioned document (schemas/report.schema.json) holding
//! the whole result tree, the digests of the files each playbook read, the
//! shard the run took and, in a merged report, what was merged.

use std::collections::HashMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::language::digest::FileDigest;
use crate::runner::result::{PlaybookResult, Status};

/// Version of the JSON report's shape; bumped on incompatible changes.
/// 3: `startedAt`, `shard`, `merged`, and each playbook's `digest` and `files`.
pub const SCHEMA_VERSION: u32 = 3;

/// Where the committed report schema lives.
pub const SCHEMA_PATH: &str = "schemas/report.schema.json";

/// The shard a run took: `index` (1-based) of `count`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

/// A file a playbook read and its SHA-256 (hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FileEntry {
    pub path: String,
    pub sha256: String,
}

/// What a merged report says of its inputs (`scenario report merge`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct MergeInfo {
    /// The shard count expected (`--expect-shards`, else the one the reports record).
    pub shards: Option<usize>,
    /// Every report read, in the order read.
    pub reports: Vec<MergedReport>,
    /// What makes the merge incomplete: a missing shard, a report that
    /// could not be read. Empty when every shard is there.
    pub problems: Vec<String>,
}

/// One report given to the merge.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct MergedReport {
    pub file: String,
    pub shard: Option<Shard>,
    pub playbooks: usize,
    /// Another report of the same shard started later and was used instead
    /// (an Indexed Job retried the index).
    pub superseded: bool,
}

/// What a run knows besides its results.
#[derive(Debug, Clone, Default)]
pub struct RunInfo {
    /// When the run started, in seconds since the Unix epoch.
    pub started_at: Option<f64>,
    pub shard: Option<Shard>,
    /// The files each playbook read, by the playbook's path (as in its result).
    pub files: HashMap<String, Vec<FileDigest>>,
    pub merged: Option<MergeInfo>,
}

/// The JSON report.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Report<'a> {
    pub schema_version: u32,
    pub tool: String,
    pub status: Status,
    pub exit_code: i32,
    pub duration_seconds: f64,
    /// When the run started (seconds since the Unix epoch); in a merged
    /// report, the earliest start of the reports merged.
    pub started_at: Option<f64>,
    /// The shard this run took (`--shard`, an Indexed Job's index).
    pub shard: Option<Shard>,
    /// Only in a merged report.
    pub merged: Option<&'a MergeInfo>,
    pub playbooks: Vec<PlaybookEntry<'a>>,
}

/// A playbook's result with the digests of what it read.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PlaybookEntry<'a> {
    #[serde(flatten)]
    pub result: &'a PlaybookResult,
    /// SHA-256 over the files' lines (`language/digest.rs`): the same
    /// digest means the same playbook and manifests.
    pub digest: Option<String>,
    /// The playbook file first, then the manifest files it read.
    pub files: Vec<FileEntry>,
}

/// Builds the JSON report of a run that knows nothing more than its results.
#[must_use]
pub fn json(results: &[PlaybookResult], exit_code: i32) -> String {
    json_with(results, exit_code, &RunInfo::default())
}

/// The worst status of `results` (passed when there are none).
#[must_use]
pub fn worst(results: &[PlaybookResult]) -> Status {
    results
        .iter()
        .map(|r| r.status)
        .max()
        .unwrap_or(Status::Passed)
}

/// Builds the JSON report with what the run knows besides its results.
#[must_use]
pub fn json_with(results: &[PlaybookResult], exit_code: i32, info: &RunInfo) -> String {
    let mut out = Vec::new();
    // Writing into memory fails only where serializing does (never for these types).
    let _ = write_json(&mut out, results, exit_code, info);
    String::from_utf8(out).unwrap_or_default()
}

/// Writes the JSON report to `w` as it is serialized (a merged report of
/// many shards is never held whole in memory).
///
/// # Errors
/// The writer's.
pub fn write_json(
    w: &mut dyn std::io::Write,
    results: &[PlaybookResult],
    exit_code: i32,
    info: &RunInfo,
) -> std::io::Result<()> {
    let entries = results
        .iter()
        .map(|r| {
            let files = info.files.get(&r.path);
            PlaybookEntry {
                result: r,
                digest: files.map(|f| crate::language::digest::combined(f)),
                files: files
                    .into_iter()
                    .flatten()
                    .map(|f| FileEntry {
                        path: f.path.clone(),
                        sha256: f.sha256.clone(),
                    })
                    .collect(),
            }
        })
        .collect();
    let mut status = worst(results);
    if info.merged.as_ref().is_some_and(|m| !m.problems.is_empty()) {
        status = Status::Errored;
    }
    let r = Report {
        schema_version: SCHEMA_VERSION,
        tool: concat!("scenario ", env!("CARGO_PKG_VERSION")).to_owned(),
        status,
        exit_code,
        duration_seconds: results.iter().map(|r| r.duration.as_secs_f64()).sum(),
        started_at: info.started_at,
        shard: info.shard,
        merged: info.merged.as_ref(),
        playbooks: entries,
    };
    serde_json::to_writer_pretty(&mut *w, &r)?;
    w.write_all(b"\n")
}

/// The JSON Schema of the report, pretty-printed.
#[must_use]
pub fn schema() -> String {
    let mut s =
        serde_json::to_string_pretty(&schemars::schema_for!(Report<'static>)).unwrap_or_default();
    s.push('\n');
    s
}
