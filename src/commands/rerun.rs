//! `run --rerun-failed REPORT`: of the playbooks given, only those an earlier
//! run's JSON report says failed or errored.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::model::outcome::Status;

/// What a JSON report says of each playbook (the part a rerun needs).
#[derive(Deserialize)]
struct Report {
    playbooks: Vec<Played>,
}

#[derive(Deserialize)]
struct Played {
    path: String,
    status: Status,
}

/// A path as a rerun compares it: the file itself where it exists.
pub(super) fn key(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// The playbooks that failed or errored in the report at `path`.
///
/// # Errors
/// An unreadable report, one over the size limit, or one that is not a
/// scenario JSON report.
pub fn failed(path: &Path) -> Result<BTreeSet<PathBuf>, String> {
    let text = super::observed::read_report(path)?;
    let report: Report = serde_json::from_str(&text)
        .map_err(|e| format!("not a scenario JSON report (`run --report json=FILE`): {e}"))?;
    Ok(report
        .playbooks
        .iter()
        .filter(|p| p.status.is_failure())
        .map(|p| key(Path::new(&p.path)))
        .collect())
}

/// The files that are among the failed ones, in their order.
///
/// # Errors
/// A failed playbook of the report that is not among the files: rerunning
/// the others and passing would hide it (the message names it).
pub fn keep_failed(
    files: Vec<PathBuf>,
    failed: &BTreeSet<PathBuf>,
) -> Result<Vec<PathBuf>, String> {
    let given: BTreeSet<PathBuf> = files.iter().map(|f| key(f)).collect();
    if let Some(missing) = failed.iter().find(|f| !given.contains(*f)) {
        return Err(format!(
            "the report's failed playbook {} is not among the playbooks given (give its path, or run from the directory the report was written in)",
            crate::language::untrusted::clean_line(&missing.display().to_string())
        ));
    }
    Ok(files
        .into_iter()
        .filter(|f| failed.contains(&key(f)))
        .collect())
}
