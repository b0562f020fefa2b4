//! What a real run observed, for the chapter page (`scenario docs
//! --from-report`): each step's outcomes read from a JSON report. Each step
//! kind shows them as a reader who typed the page's commands would see them
//! (`Action::reader_view`); scenario's own lines are kept for a folded box.

use std::collections::HashMap;

use serde::Deserialize;

use crate::model::outcome::{Outcome, Status};

/// What a step did in the run.
#[derive(Debug, Clone)]
pub struct ObservedStep {
    pub outcomes: Vec<Outcome>,
}

/// Steps that ran, by name (skipped ones are left out).
pub type Observed = HashMap<String, ObservedStep>;

/// What `--from-report` reads of a JSON report (`report/json.rs` writes
/// it): each playbook's steps with their outcomes, typed.
#[derive(Deserialize)]
struct ReportIn {
    playbooks: Vec<PlaybookIn>,
}

#[derive(Deserialize)]
struct PlaybookIn {
    name: String,
    steps: Vec<StepIn>,
}

#[derive(Deserialize)]
struct StepIn {
    name: String,
    status: Status,
    outcomes: Vec<Outcome>,
}

/// Reads the steps of `playbook` from a JSON report.
///
/// # Errors
/// An unreadable or malformed report.
pub fn from_report(text: &str, playbook: &str) -> Result<Observed, String> {
    let report: ReportIn =
        serde_json::from_str(text).map_err(|e| format!("not a JSON report of scenario: {e}"))?;
    let pb = report
        .playbooks
        .into_iter()
        .find(|p| p.name == playbook)
        .ok_or_else(|| format!("the report has no playbook `{playbook}`"))?;
    Ok(pb
        .steps
        .into_iter()
        .filter(|s| s.status != Status::Skipped)
        .map(|s| {
            (
                s.name,
                ObservedStep {
                    outcomes: s.outcomes,
                },
            )
        })
        .collect())
}

impl ObservedStep {
    /// The outcomes on `cluster` (all when `None`).
    pub fn on<'a>(&'a self, cluster: Option<&'a str>) -> impl Iterator<Item = &'a Outcome> + 'a {
        self.outcomes
            .iter()
            .filter(move |o| cluster.is_none() || o.cluster.as_deref() == cluster)
    }

    /// scenario's own lines for the outcomes on `cluster` (all when `None`).
    #[must_use]
    pub fn log(&self, cluster: Option<&str>) -> Vec<String> {
        let mut lines = Vec::new();
        for o in self.on(cluster) {
            let who = o
                .cluster
                .as_deref()
                .map(|c| format!("{c}: "))
                .unwrap_or_default();
            lines.push(format!("{who}{}", o.message));
            for d in &o.details {
                lines.extend(d.lines().map(|l| format!("  {l}")));
            }
        }
        lines
    }
}

/// Reads a report file for `--from-report`, refusing one over
/// [`MAX_REPORT_BYTES`](crate::language::limits::MAX_REPORT_BYTES) before
/// reading it whole (a stream such as a pipe is read up to the limit).
///
/// # Errors
/// An unreadable file, a file over the limit, or text that is not UTF-8.
pub fn read_report(path: &std::path::Path) -> Result<String, String> {
    use std::io::Read;
    let max = crate::language::limits::MAX_REPORT_BYTES;
    let too_large = || {
        format!(
            "the report is larger than the limit of {} MiB (see docs/limits.md)",
            max / (1024 * 1024)
        )
    };
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    if file.metadata().is_ok_and(|m| m.len() > max as u64) {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() > max {
        return Err(too_large());
    }
    String::from_utf8(bytes).map_err(|_| "the report is not UTF-8 text".to_owned())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use serde_json::json;

    use super::from_report;
    use crate::model::check::{CheckResult, Location};
    use crate::model::outcome::{Outcome, Status};
    use crate::model::step_data::{
        AlternativeReport, ApplyStopped, ExecOutput, Patched, ProbeReport, ProbeSummary, Sample,
        SplitReport, StepData, Verdict,
    };
    use crate::runner::result::{PlaybookResult, StepResult};

    fn outcome(status: Status, data: Option<StepData>) -> Outcome {
        Outcome {
            cluster: Some("c1".into()),
            status,
            message: "what happened \u{2028} <b>".into(),
            details: vec!["line one".into(), "a line: sample: kept as written".into()],
            duration: Duration::from_millis(1234),
            captures: serde_json::Map::from_iter([("ip".into(), json!("10.0.0.1"))]),
            data,
            checks: vec![CheckResult {
                check: "$.status == 200".into(),
                passed: false,
                actual: Some(json!(503)),
                expected: "200".into(),
                location: Location {
                    file: "p.yaml".into(),
                    line: 7,
                    column: 9,
                },
            }],
        }
    }

    fn probe() -> StepData {
        StepData::Probe(Box::new(ProbeReport {
            url: "http://127.0.0.1:9/api".into(),
            sent: 412,
            unanswered: 0,
            summary: ProbeSummary {
                answers: 412,
                errors: 2,
                error_rate: 2.0 / 412.0,
                statuses: BTreeMap::from([("200".into(), 410), ("error".into(), 2)]),
                latency_ms: BTreeMap::from([("p50".into(), 1.5), ("p99".into(), f64::NAN)]),
                values: BTreeMap::from([(
                    "color".into(),
                    BTreeMap::from([("blue".into(), 210), ("\"green\n".into(), 200)]),
                )]),
                checks_passed: vec![410],
            },
            judged_on: "all 412 answers".into(),
            distribution: Some(SplitReport {
                categories: vec!["blue".into(), "green".into(), "(other)".into()],
                expected: vec![0.5, 0.5, 0.0],
                counts: vec![210, 200, 0],
                n: 410,
                tolerance: 10.0,
                false_fail: 0.001,
                false_pass: 0.01,
                fail_at: 8.5,
                pass_at: -4.6,
                alternatives: vec![AlternativeReport {
                    category: 2,
                    p0: 1e-6,
                    p1: 0.1,
                    hit: 11.5,
                    miss: -0.1,
                    llr: f64::NEG_INFINITY,
                    ruled_out: true,
                }],
                verdict: Verdict::Within,
                off_category: None,
            }),
            samples: vec![Sample {
                status: Some(200),
                error: None,
                headers: BTreeMap::from([("content-type".into(), "application/json".into())]),
                body: "{\"color\":\"blue\"}\n```\n<script>".into(),
            }],
        }))
    }

    /// Every kind's data, written by the JSON report and read back typed,
    /// is what was written (NaN and infinities are `null` both times).
    #[test]
    fn a_report_reads_back_as_it_was_written() {
        let datas = [
            Some(probe()),
            Some(StepData::ApplyStopped(ApplyStopped {
                applied: vec!["ConfigMap default/a".into()],
                not_applied: 3,
                dry_run: false,
                other_errors: vec!["conflict".into()],
                other_errors_not_shown: 0,
            })),
            Some(StepData::Patched(Patched {
                kind: "ConfigMap".into(),
                name: "settings".into(),
                changed: false,
            })),
            Some(StepData::Exec(ExecOutput {
                stdout: "wrote out.txt".into(),
                stderr: String::new(),
            })),
            Some(StepData::Applied(crate::model::step_data::Applied {
                existed: vec!["ConfigMap default/old".into()],
            })),
            None,
        ];
        let steps: Vec<StepResult> = datas
            .iter()
            .enumerate()
            .map(|(i, d)| StepResult {
                name: format!("step-{i}"),
                kind: "probe",
                status: Status::Failed,
                duration: Duration::from_secs(1),
                attempts: 1,
                outcomes: vec![outcome(Status::Failed, d.clone())],
                finally: false,
            })
            .collect();
        let written = crate::report::json::json(
            &[PlaybookResult {
                name: "pb".into(),
                path: "p.yaml".into(),
                status: Status::Failed,
                interrupted: false,
                duration: Duration::from_secs(6),
                steps: steps.clone(),
                chapter: None,
            }],
            1,
        );
        let read = from_report(&written, "pb").unwrap();
        let v: serde_json::Value = serde_json::from_str(&written).unwrap();
        for (i, s) in steps.iter().enumerate() {
            let back = &read[&s.name].outcomes;
            assert_eq!(back.len(), 1);
            assert_eq!(
                serde_json::to_value(&back[0]).unwrap(),
                v["playbooks"][0]["steps"][i]["outcomes"][0],
                "{}",
                s.name
            );
            // Typed: the same variant as written.
            assert_eq!(
                std::mem::discriminant(&back[0].data),
                std::mem::discriminant(&datas[i])
            );
        }
        let Some(StepData::Probe(p)) = &read["step-0"].outcomes[0].data else {
            panic!("a probe's data")
        };
        assert_eq!(p.summary.statuses["200"], 410);
        assert!(p.summary.latency_ms["p99"].is_nan());
        assert!(
            p.distribution.as_ref().unwrap().alternatives[0]
                .llr
                .is_nan()
        );
    }

    #[test]
    fn data_of_no_kind_is_refused_with_the_reason() {
        let report = json!({ "playbooks": [{ "name": "pb", "steps": [{ "name": "s", "status": "passed",
            "outcomes": [{ "cluster": null, "status": "passed", "message": "m", "details": [], "duration": 0.1,
              "captures": {}, "checks": [], "data": { "summary": "not a summary" } }] }] }] });
        let e = from_report(&report.to_string(), "pb").unwrap_err();
        assert!(e.starts_with("not a JSON report of scenario: "), "{e}");
        assert!(
            from_report("{\"playbooks\": []}", "pb")
                .unwrap_err()
                .contains("no playbook `pb`")
        );
    }
}
