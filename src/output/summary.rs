//! The table and failures printed at the end of a run.

use super::terminal::check_line;
use crate::runner::result::{PlaybookResult, Status, StepResult};

/// One line per step and a total, for the end of a run.
#[must_use]
pub fn summary(r: &PlaybookResult) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let width = r
        .steps
        .iter()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let _ = writeln!(
        out,
        "\n{:<width$}  {:<8}  {:<7}  {:>8}  CLUSTERS",
        "STEP", "KIND", "RESULT", "TIME"
    );
    for s in &r.steps {
        let clusters = s.clusters();
        let _ = writeln!(
            out,
            "{:<width$}  {:<8}  {:<7}  {:>7.2}s  {}",
            s.name,
            s.kind,
            s.status.word(),
            s.duration.as_secs_f64(),
            if clusters.is_empty() {
                "-".to_owned()
            } else {
                clusters.join(",")
            }
        );
    }
    // The diagnosis of each failure, once more, where a reader looks first.
    let failed: Vec<&StepResult> = r.steps.iter().filter(|s| s.status.is_failure()).collect();
    if !failed.is_empty() {
        let _ = writeln!(out, "\nfailures:");
        for s in failed {
            for o in s.outcomes.iter().filter(|o| o.status.is_failure()) {
                let who = o
                    .cluster
                    .as_ref()
                    .map(|c| format!(" on {c}"))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  {} ({}{who}) {}: {}",
                    s.name,
                    s.kind,
                    o.status.word(),
                    o.message
                );
                for d in &o.shown_details() {
                    for line in d.lines().take(20) {
                        let _ = writeln!(out, "    {line}");
                    }
                }
                for c in &o.checks {
                    let _ = writeln!(out, "{}", check_line(c));
                }
            }
        }
    }
    let mut out = crate::language::untrusted::clean_text(&out);
    let count = |st: Status| r.steps.iter().filter(|s| s.status == st).count();
    let _ = writeln!(
        out,
        "\n{}: {} — {} passed, {} failed, {} errored, {} skipped in {:.2}s",
        r.name,
        r.status.word(),
        count(Status::Passed),
        count(Status::Failed),
        count(Status::Errored),
        count(Status::Skipped),
        r.duration.as_secs_f64()
    );
    out
}

/// The chapters of a tutorial run, one line each, for the end of the run.
#[must_use]
pub fn chapter_table(tutorial: &str, file: &str, results: &[PlaybookResult]) -> String {
    use std::fmt::Write as _;
    let width = results
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(7)
        .max(7);
    let mut out = format!("\ntutorial {tutorial} ({file})\n");
    let _ = writeln!(
        out,
        "  #  {:<width$}  {:<7}  {:>5}  {:>8}",
        "CHAPTER", "RESULT", "STEPS", "TIME"
    );
    for (i, r) in results.iter().enumerate() {
        let n = r.chapter.as_ref().map_or(i + 1, |c| c.number);
        let passed = r
            .steps
            .iter()
            .filter(|s| s.status == Status::Passed)
            .count();
        let _ = writeln!(
            out,
            "{n:>3}  {:<width$}  {:<7}  {:>5}  {:>7.2}s",
            r.name,
            r.status.word(),
            format!("{passed}/{}", r.steps.len()),
            r.duration.as_secs_f64()
        );
    }
    let worst = results
        .iter()
        .map(|r| r.status)
        .max()
        .unwrap_or(Status::Passed);
    let count = |st: Status| results.iter().filter(|r| r.status == st).count();
    let _ = writeln!(
        out,
        "\n{tutorial}: {} — {} of {} chapters passed, {} failed, {} errored, {} skipped",
        worst.word(),
        count(Status::Passed),
        results.len(),
        count(Status::Failed),
        count(Status::Errored),
        count(Status::Skipped)
    );
    crate::language::untrusted::clean_text(&out)
}
