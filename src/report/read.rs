//! Reading JSON reports back (`report merge`, `report history`): the result
//! tree as written, typed, with the version, the shard and the digests. A
//! report that cannot be read says why in one line naming its file.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::json::{FileEntry, MergeInfo, SCHEMA_VERSION, Shard};
use crate::language::limits::{MAX_MERGED_BYTES, MAX_MERGED_REPORTS, MAX_REPORT_BYTES};
use crate::language::untrusted::clean_line;
use crate::model::outcome::{Outcome, Status, from_secs};
use crate::runner::result::{PlaybookResult, StepResult};

/// A JSON report as read.
#[derive(Debug)]
pub struct StoredReport {
    pub file: PathBuf,
    pub tool: String,
    pub exit_code: i32,
    pub started_at: Option<f64>,
    pub shard: Option<Shard>,
    pub merged: Option<MergeInfo>,
    pub playbooks: Vec<StoredPlaybook>,
}

/// A playbook's result as read, with the digests of what it read.
#[derive(Debug)]
pub struct StoredPlaybook {
    pub result: PlaybookResult,
    pub digest: Option<String>,
    pub files: Vec<FileEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReportIn {
    schema_version: u32,
    tool: String,
    exit_code: i32,
    started_at: Option<f64>,
    shard: Option<Shard>,
    merged: Option<MergeInfo>,
    playbooks: Vec<PlaybookIn>,
}

#[derive(Deserialize)]
struct PlaybookIn {
    name: String,
    path: String,
    status: Status,
    interrupted: bool,
    #[serde(deserialize_with = "from_secs")]
    duration: std::time::Duration,
    steps: Vec<StepIn>,
    digest: Option<String>,
    files: Vec<FileEntry>,
    /// The chapter of a tutorial run (left out for a playbook alone).
    #[serde(default)]
    chapter: Option<crate::model::playbook::ChapterOf>,
}

#[derive(Deserialize)]
struct StepIn {
    name: String,
    kind: String,
    status: Status,
    #[serde(deserialize_with = "from_secs")]
    duration: std::time::Duration,
    attempts: u32,
    outcomes: Vec<Outcome>,
    finally: bool,
}

/// Only the version, to say why a report of another version does not read.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VersionOnly {
    schema_version: Option<u32>,
}

/// A step kind's name as the result tree holds it (a name this scenario
/// knows, or the pre-flight's).
fn kind_name(kind: &str) -> Option<&'static str> {
    if kind == "preflight" {
        return Some("preflight");
    }
    crate::steps::find(kind).map(|k| k.name)
}

/// `path` as shown in messages, control characters escaped.
#[must_use]
pub fn shown(path: &Path) -> String {
    clean_line(&path.display().to_string())
}

/// Reads and checks the JSON report at `path`.
///
/// # Errors
/// One line naming the file: unreadable, over [`MAX_REPORT_BYTES`], not
/// JSON (with line and column), not a scenario report, another schema
/// version, a step kind this scenario does not know, a shard out of range.
pub fn read(path: &Path) -> Result<StoredReport, String> {
    use std::io::Read as _;
    let at = shown(path);
    let file = std::fs::File::open(path).map_err(|e| format!("{at}: cannot read: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_REPORT_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{at}: cannot read: {e}"))?;
    if bytes.len() > MAX_REPORT_BYTES {
        return Err(format!(
            "{at}: the report is larger than the limit of {MAX_REPORT_BYTES} bytes (docs/limits.md)"
        ));
    }
    parse(&at, &bytes, path)
}

fn parse(at: &str, bytes: &[u8], path: &Path) -> Result<StoredReport, String> {
    let report: ReportIn = match serde_json::from_slice(bytes) {
        Ok(r) => r,
        Err(e) => {
            if let Ok(VersionOnly {
                schema_version: Some(v),
            }) = serde_json::from_slice(bytes)
                && v != SCHEMA_VERSION
            {
                return Err(version_error(at, v));
            }
            return Err(format!(
                "{at}:{}:{}: not a scenario JSON report (schema version {SCHEMA_VERSION}): {}",
                e.line(),
                e.column(),
                clean_line(&e.to_string())
            ));
        }
    };
    if report.schema_version != SCHEMA_VERSION {
        return Err(version_error(at, report.schema_version));
    }
    if !report.tool.starts_with("scenario ") {
        return Err(format!(
            "{at}: written by `{}`, not by scenario",
            clean_line(&crate::language::limits::excerpt(&report.tool))
        ));
    }
    if let Some(s) = report.shard
        && (s.index == 0 || s.index > s.count || s.count > crate::language::limits::MAX_SHARDS)
    {
        return Err(format!(
            "{at}: shard {}/{} is not a shard (1 <= index <= count <= {})",
            s.index,
            s.count,
            crate::language::limits::MAX_SHARDS
        ));
    }
    let mut playbooks = Vec::with_capacity(report.playbooks.len());
    for p in report.playbooks {
        playbooks.push(playbook(at, p)?);
    }
    Ok(StoredReport {
        file: path.to_path_buf(),
        tool: report.tool,
        exit_code: report.exit_code,
        started_at: report.started_at.filter(|t| t.is_finite()),
        shard: report.shard,
        merged: report.merged,
        playbooks,
    })
}

fn version_error(at: &str, v: u32) -> String {
    format!(
        "{at}: a report of schema version {v}; this scenario reads version {SCHEMA_VERSION} (merge reports written by the same release)"
    )
}

fn playbook(at: &str, p: PlaybookIn) -> Result<StoredPlaybook, String> {
    let mut steps = Vec::with_capacity(p.steps.len());
    for s in p.steps {
        let Some(kind) = kind_name(&s.kind) else {
            return Err(format!(
                "{at}: playbook {}: step {} has the kind `{}`, which this scenario does not know",
                clean_line(&p.path),
                clean_line(&s.name),
                clean_line(&crate::language::limits::excerpt(&s.kind))
            ));
        };
        // Vectors read from JSON keep room for 4 items at least: shrunk,
        // a merge of 1,000 shards holds a third of the memory.
        let mut outcomes = s.outcomes;
        for o in &mut outcomes {
            o.details.shrink_to_fit();
            o.checks.shrink_to_fit();
        }
        outcomes.shrink_to_fit();
        steps.push(StepResult {
            name: s.name,
            kind,
            status: s.status,
            duration: s.duration,
            attempts: s.attempts,
            outcomes,
            finally: s.finally,
        });
    }
    steps.shrink_to_fit();
    Ok(StoredPlaybook {
        result: PlaybookResult {
            name: p.name,
            path: p.path,
            status: p.status,
            interrupted: p.interrupted,
            duration: p.duration,
            steps,
            chapter: p.chapter,
        },
        digest: p.digest,
        files: p.files,
    })
}

/// The report files given: each file as is, each directory's `*.json`
/// files (not hidden, sorted, not recursive).
///
/// # Errors
/// A path that does not exist, a directory that cannot be listed, none
/// found, more than [`MAX_MERGED_REPORTS`] files or [`MAX_MERGED_BYTES`] in all.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| format!("{}: {e}", shown(p)))?;
        if meta.is_file() {
            files.push(p.clone());
            continue;
        }
        if !meta.is_dir() {
            return Err(format!("{}: not a file or a directory", shown(p)));
        }
        let entries = std::fs::read_dir(p).map_err(|e| format!("{}: {e}", shown(p)))?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|f| {
                let name = f.file_name().map(|n| n.to_string_lossy().into_owned());
                name.is_some_and(|n| n.ends_with(".json") && !n.starts_with('.')) && f.is_file()
            })
            .take(MAX_MERGED_REPORTS + 1)
            .collect();
        found.sort();
        files.extend(found);
        if files.len() > MAX_MERGED_REPORTS {
            break;
        }
    }
    if files.is_empty() {
        return Err(
            "no JSON report found (give report files or directories holding *.json reports)"
                .to_owned(),
        );
    }
    if files.len() > MAX_MERGED_REPORTS {
        return Err(format!(
            "more than {MAX_MERGED_REPORTS} reports: the limit of one merge"
        ));
    }
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    if total > MAX_MERGED_BYTES {
        return Err(format!(
            "the reports hold {total} bytes; one merge reads at most {MAX_MERGED_BYTES}"
        ));
    }
    Ok(files)
}
