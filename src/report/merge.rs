//! Joining the JSON reports of a run's shards into one (`scenario report
//! merge`): every playbook of every shard, and, as problems of the merge, a
//! shard with no report, shard counts that disagree, a report that cannot be
//! read, a playbook in two reports. Nothing is left out silently.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::json::{MergeInfo, MergedReport, RunInfo, Shard};
use super::read::{StoredReport, read, shown};
use crate::language::digest::FileDigest;
use crate::model::exit;
use crate::runner::result::PlaybookResult;

/// The merge: the playbooks, what the JSON report writes besides them, and
/// the exit code it stands for.
#[derive(Debug)]
pub struct Merged {
    pub results: Vec<PlaybookResult>,
    pub info: RunInfo,
    pub code: i32,
}

impl Merged {
    /// What makes the merge incomplete.
    #[must_use]
    pub fn problems(&self) -> &[String] {
        self.info.merged.as_ref().map_or(&[], |m| &m.problems)
    }
}

/// Merges the reports at `files` (read in this order). `expect`: the number
/// of shards there must be (`--expect-shards`).
#[must_use]
pub fn merge(files: &[PathBuf], expect: Option<usize>) -> Merged {
    let mut problems = Vec::new();
    let mut reports = Vec::new();
    for f in files {
        match read(f) {
            Ok(r) => reports.push(r),
            Err(e) => problems.push(e),
        }
    }
    let superseded = superseded(&reports);
    let shards = check_shards(&reports, &superseded, expect, &mut problems);
    let mut info = RunInfo::default();
    let mut listed = Vec::with_capacity(reports.len());
    let mut results: Vec<PlaybookResult> = Vec::new();
    let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
    for (k, r) in reports.into_iter().enumerate() {
        let dropped = superseded.contains(&k);
        listed.push(MergedReport {
            file: shown(&r.file),
            shard: r.shard,
            playbooks: r.playbooks.len(),
            superseded: dropped,
        });
        if dropped {
            continue;
        }
        info.started_at = match (info.started_at, r.started_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        for p in r.playbooks {
            if let Some(before) = seen.insert(p.result.path.clone(), r.file.clone()) {
                problems.push(format!(
                    "playbook {} is in two reports: {} and {}",
                    crate::language::untrusted::clean_line(&p.result.path),
                    shown(&before),
                    shown(&r.file)
                ));
            }
            if !p.files.is_empty() {
                let files = p
                    .files
                    .into_iter()
                    .map(|f| FileDigest {
                        path: f.path,
                        sha256: f.sha256,
                    })
                    .collect();
                info.files.insert(p.result.path.clone(), files);
            }
            results.push(p.result);
        }
    }
    // The same order whatever the order of the files.
    results.sort_by(|a, b| a.path.cmp(&b.path));
    let mut code = results
        .iter()
        .map(PlaybookResult::exit_code)
        .max()
        .unwrap_or(exit::OK);
    if !problems.is_empty() && code != exit::INTERRUPTED {
        code = code.max(exit::STEP_ERROR);
    }
    info.merged = Some(MergeInfo {
        shards,
        reports: listed,
        problems,
    });
    Merged {
        results,
        info,
        code,
    }
}

/// The reports another report of the same shard replaces: it started later
/// (or, started at the same time, comes later in the order given).
fn superseded(reports: &[StoredReport]) -> BTreeSet<usize> {
    let mut latest: BTreeMap<Shard, usize> = BTreeMap::new();
    let mut dropped = BTreeSet::new();
    for (k, r) in reports.iter().enumerate() {
        let Some(s) = r.shard else { continue };
        match latest.get(&s).copied() {
            Some(prev) if reports[prev].started_at > r.started_at => {
                dropped.insert(k);
            }
            Some(prev) => {
                dropped.insert(prev);
                latest.insert(s, k);
            }
            None => {
                latest.insert(s, k);
            }
        }
    }
    dropped
}

/// The shard count, and a problem for every shard without a report and for
/// counts that disagree.
fn check_shards(
    reports: &[StoredReport],
    superseded: &BTreeSet<usize>,
    expect: Option<usize>,
    problems: &mut Vec<String>,
) -> Option<usize> {
    let mut by_count: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut present = BTreeSet::new();
    for (k, r) in reports.iter().enumerate() {
        if let Some(s) = r.shard
            && !superseded.contains(&k)
        {
            by_count.entry(s.count).or_default().push(shown(&r.file));
            present.insert(s.index);
        }
    }
    if by_count.len() > 1 {
        let counts: Vec<String> = by_count
            .iter()
            .map(|(n, files)| format!("{n} ({})", some(files)))
            .collect();
        problems.push(format!(
            "the reports were written for different shard counts: {}",
            counts.join(", ")
        ));
    }
    let recorded = by_count.keys().next_back().copied();
    if let (Some(e), Some(r)) = (expect, recorded)
        && by_count.keys().any(|&n| n != e)
    {
        problems.push(format!(
            "--expect-shards {e}, but the reports were written for {r} shards"
        ));
    }
    let count = expect.or(recorded)?;
    let missing: Vec<String> = (1..=count)
        .filter(|i| !present.contains(i))
        .map(|i| i.to_string())
        .collect();
    if !missing.is_empty() {
        problems.push(format!(
            "no report of shard{} {} of {count}: its playbooks are not in the merge",
            if missing.len() == 1 { "" } else { "s" },
            some(&missing)
        ));
    }
    Some(count)
}

/// At most 20 items, then how many more.
fn some(items: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut s = items
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > SHOWN {
        s.push_str(&format!(" and {} more", items.len() - SHOWN));
    }
    s
}
