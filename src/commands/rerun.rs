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
    /// Set when the playbook ran as a chapter of a tutorial.
    #[serde(default)]
    chapter: Option<serde_json::Value>,
}

/// What failed in an earlier report: playbooks run alone, and chapters of a
/// tutorial (a tutorial reruns from its first failed chapter).
#[derive(Debug, Default)]
pub struct Failed {
    pub playbooks: BTreeSet<PathBuf>,
    pub chapters: BTreeSet<PathBuf>,
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
pub fn failed(path: &Path) -> Result<Failed, String> {
    let text = super::observed::read_report(path)?;
    let report: Report = serde_json::from_str(&text)
        .map_err(|e| format!("not a scenario JSON report (`run --report json=FILE`): {e}"))?;
    let mut out = Failed::default();
    for p in report.playbooks.iter().filter(|p| p.status.is_failure()) {
        let k = key(Path::new(&p.path));
        if p.chapter.is_some() {
            out.chapters.insert(k);
        } else {
            out.playbooks.insert(k);
        }
    }
    Ok(out)
}

pub fn keep_failed(files: Vec<PathBuf>, failed: &Failed) -> Result<Vec<PathBuf>, String> {
    let given: BTreeSet<PathBuf> = files.iter().map(|f| key(f)).collect();
    // A tutorial given stays while one of its chapters failed: which ones are
    // its chapters is known once it is loaded (`from_first_failed`).
    let tutorials: Vec<&PathBuf> = files
        .iter()
        .filter(|f| crate::load::file_is_tutorial(f))
        .collect();
    if !failed.chapters.is_empty() && tutorials.is_empty() {
        return Err(
            "chapters of a tutorial failed in the report, and no tutorial is among the files given (give the tutorial file)"
                .to_owned(),
        );
    }
    if let Some(missing) = failed.playbooks.iter().find(|f| !given.contains(*f)) {
        return Err(format!(
            "the report's failed playbook {} is not among the playbooks given (give its path, or run from the directory the report was written in)",
            crate::language::untrusted::clean_line(&missing.display().to_string())
        ));
    }
    Ok(files
        .into_iter()
        .filter(|f| {
            failed.playbooks.contains(&key(f))
                || (!failed.chapters.is_empty() && crate::load::file_is_tutorial(f))
        })
        .collect())
}

/// A tutorial's chapters from its first one that failed (the chapters after
/// it build on it, so they run again too); none when none of them failed.
pub fn from_first_failed(chapters: &mut Vec<crate::model::playbook::Playbook>, failed: &Failed) {
    match chapters
        .iter()
        .position(|c| failed.chapters.contains(&key(Path::new(&c.source.name))))
    {
        Some(first) => {
            chapters.drain(..first);
        }
        None => chapters.clear(),
    }
}
