//! The history of many nights (`scenario report history`): per playbook and
//! step, the status, duration, playbook digest and split answers of each
//! night, and the flaky steps: a step that both passed and did not pass
//! (failed or errored) on the same playbook digest. A step that fails only
//! after the playbook changed is not flaky: the change is the cause to look at.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::Serialize;

use super::read::{StoredReport, read, shown};
use crate::model::outcome::Status;
use crate::model::step_data::StepData;

/// The version of `--format json`'s shape.
pub const HISTORY_VERSION: u32 = 1;

/// Every night read, the playbooks over them, the flaky steps.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct History {
    pub history_version: u32,
    /// The reports read, oldest first (by their start time, then file name).
    pub nights: Vec<Night>,
    pub playbooks: Vec<PlaybookHistory>,
    /// Every flaky step, by playbook path and step name.
    pub flaky: Vec<Flaky>,
    /// Reports that could not be read (each names its file).
    pub problems: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Night {
    pub file: String,
    pub started_at: Option<f64>,
    pub tool: String,
}

#[derive(Debug, Serialize)]
pub struct PlaybookHistory {
    pub name: String,
    pub path: String,
    pub runs: Vec<Run>,
    pub steps: Vec<StepHistory>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepHistory {
    pub name: String,
    pub kind: String,
    pub runs: Vec<Run>,
    /// The playbook digests on which this step both passed and did not.
    pub flaky_on: Vec<String>,
}

/// One night of a playbook or step.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    /// Index into `nights`.
    pub night: usize,
    pub status: Status,
    pub duration_seconds: f64,
    pub digest: Option<String>,
    /// The answers the step's split checks needed (summed over its clusters).
    pub answers: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct Flaky {
    pub playbook: String,
    pub step: String,
    pub digests: Vec<String>,
}

/// A playbook of one night, without its outcomes (a history keeps only
/// what it draws, so that its memory does not grow with the reports' size).
struct Slim {
    name: String,
    path: String,
    run: Run,
    steps: Vec<(String, &'static str, Run)>,
}

fn slim(r: StoredReport) -> (Night, Vec<Slim>) {
    let night = Night {
        file: shown(&r.file),
        started_at: r.started_at,
        tool: r.tool,
    };
    let books = r
        .playbooks
        .into_iter()
        .map(|p| {
            let pr = p.result;
            let at = |status, duration: std::time::Duration, answers| Run {
                night: 0,
                status,
                duration_seconds: duration.as_secs_f64(),
                digest: p.digest.clone(),
                answers,
            };
            Slim {
                run: at(pr.status, pr.duration, None),
                steps: pr
                    .steps
                    .iter()
                    .map(|s| (s.name.clone(), s.kind, at(s.status, s.duration, answers(s))))
                    .collect(),
                name: pr.name,
                path: pr.path,
            }
        })
        .collect();
    (night, books)
}

/// Reads the reports at `files` into a history.
#[must_use]
pub fn history(files: &[PathBuf]) -> History {
    let mut problems = Vec::new();
    let mut read_ok: Vec<(Night, Vec<Slim>)> = Vec::new();
    for f in files {
        match read(f) {
            Ok(r) => read_ok.push(slim(r)),
            Err(e) => problems.push(e),
        }
    }
    read_ok.sort_by(|(a, _), (b, _)| {
        let t = |n: &Night| n.started_at.unwrap_or(f64::INFINITY);
        t(a).total_cmp(&t(b)).then_with(|| a.file.cmp(&b.file))
    });
    let mut nights = Vec::with_capacity(read_ok.len());
    let mut books: BTreeMap<String, PlaybookHistory> = BTreeMap::new();
    for (night, (n, slims)) in read_ok.into_iter().enumerate() {
        nights.push(n);
        for p in slims {
            let h = books
                .entry(p.path.clone())
                .or_insert_with(|| PlaybookHistory {
                    name: p.name,
                    path: p.path,
                    runs: Vec::new(),
                    steps: Vec::new(),
                });
            h.runs.push(Run { night, ..p.run });
            for (name, kind, run) in p.steps {
                let run = Run { night, ..run };
                match h.steps.iter_mut().find(|x| x.name == name) {
                    Some(x) => x.runs.push(run),
                    None => h.steps.push(StepHistory {
                        name,
                        kind: kind.to_owned(),
                        runs: vec![run],
                        flaky_on: Vec::new(),
                    }),
                }
            }
        }
    }
    let mut flaky = Vec::new();
    for h in books.values_mut() {
        for s in &mut h.steps {
            s.flaky_on = flaky_on(&s.runs);
            if !s.flaky_on.is_empty() {
                flaky.push(Flaky {
                    playbook: h.path.clone(),
                    step: s.name.clone(),
                    digests: s.flaky_on.clone(),
                });
            }
        }
    }
    History {
        history_version: HISTORY_VERSION,
        nights,
        playbooks: books.into_values().collect(),
        flaky,
        problems,
    }
}

/// The answers the step's split checks needed, summed over its outcomes.
fn answers(s: &crate::runner::result::StepResult) -> Option<u64> {
    let ns: Vec<u64> = s
        .outcomes
        .iter()
        .filter_map(|o| o.data.as_ref().and_then(StepData::probe))
        .filter_map(|p| p.distribution.as_ref().map(|d| d.n))
        .collect();
    (!ns.is_empty()).then(|| ns.iter().fold(0u64, |a, n| a.saturating_add(*n)))
}

/// The digests on which the runs both passed and failed or errored (runs
/// without a digest are not compared: nothing says they are the same playbook).
fn flaky_on(runs: &[Run]) -> Vec<String> {
    let mut passed = BTreeSet::new();
    let mut failed = BTreeSet::new();
    for r in runs {
        let Some(d) = &r.digest else { continue };
        match r.status {
            Status::Passed => {
                passed.insert(d.as_str());
            }
            Status::Failed | Status::Errored => {
                failed.insert(d.as_str());
            }
            Status::Skipped => {}
        }
    }
    passed
        .intersection(&failed)
        .map(|d| (*d).to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{Run, flaky_on};
    use crate::model::outcome::Status;

    fn run(status: Status, digest: Option<&str>) -> Run {
        Run {
            night: 0,
            status,
            duration_seconds: 1.0,
            digest: digest.map(str::to_owned),
            answers: None,
        }
    }

    #[test]
    fn flaky_means_passed_and_failed_on_one_digest() {
        use Status::{Errored, Failed, Passed, Skipped};
        assert_eq!(
            flaky_on(&[run(Passed, Some("a")), run(Failed, Some("a"))]),
            ["a"]
        );
        assert_eq!(
            flaky_on(&[run(Errored, Some("a")), run(Passed, Some("a"))]),
            ["a"]
        );
        // Failing only after the playbook changed, skipped, or no digest: not flaky.
        for runs in [
            vec![run(Passed, Some("a")), run(Failed, Some("b"))],
            vec![run(Passed, Some("a")), run(Skipped, Some("a"))],
            vec![run(Passed, None), run(Failed, None)],
            vec![],
        ] {
            assert!(flaky_on(&runs).is_empty());
        }
    }
}
