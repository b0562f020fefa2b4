//! JUnit XML: playbook = testsuite, step = testcase; an assertion that failed
//! is a <failure>, a step that errored an <error>.

use super::markup::escape_markup as esc;

use crate::runner::result::{PlaybookResult, Status};

/// Builds the JUnit XML report.
#[must_use]
pub fn junit(results: &[PlaybookResult]) -> String {
    junit_with(results, &[])
}

/// Builds the JUnit XML report; each of `problems` (what makes a merge
/// incomplete) is an errored testcase of a suite of its own, so CI shows it.
#[must_use]
pub fn junit_with(results: &[PlaybookResult], problems: &[String]) -> String {
    let mut x = String::new();
    write_junit(&mut x, results, problems);
    x
}

/// Writes the JUnit XML report to `x` piece by piece (a merged report of
/// many shards is never held whole in memory).
pub fn write_junit(x: &mut dyn std::fmt::Write, results: &[PlaybookResult], problems: &[String]) {
    let count = |st: Status| {
        results
            .iter()
            .flat_map(|r| &r.steps)
            .filter(|s| s.status == st)
            .count()
    };
    let tests: usize = results.iter().map(|r| r.steps.len()).sum::<usize>() + problems.len();
    let time: f64 = results.iter().map(|r| r.duration.as_secs_f64()).sum();
    let _ = x.write_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"scenario\" tests=\"{tests}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{time:.3}\">",
        count(Status::Failed),
        count(Status::Errored) + problems.len(),
        count(Status::Skipped)
    );
    problems_suite(x, problems);
    for pb in results {
        let c = |st: Status| pb.steps.iter().filter(|s| s.status == st).count();
        let _ = writeln!(
            x,
            "  <testsuite name=\"{}\" file=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
            esc(&pb.name),
            esc(&pb.path),
            pb.steps.len(),
            c(Status::Failed),
            c(Status::Errored),
            c(Status::Skipped),
            pb.duration.as_secs_f64()
        );
        for s in &pb.steps {
            let _ = write!(
                x,
                "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\"",
                esc(&s.name),
                esc(&format!("{}.{}", pb.name, s.kind)),
                s.duration.as_secs_f64()
            );
            // Where the first check that did not hold is written (CI annotates it).
            if let Some(c) = s.outcomes.iter().flat_map(|o| &o.checks).next() {
                let _ = write!(
                    x,
                    " file=\"{}\" line=\"{}\"",
                    esc(&c.location.file),
                    c.location.line
                );
            }
            let lines: Vec<String> = s
                .outcomes
                .iter()
                .flat_map(|o| {
                    std::iter::once(o.headline())
                        .chain(o.shown_details().into_iter().map(|d| format!("  {d}")))
                        .chain(
                            o.checks
                                .iter()
                                .map(|c| format!("  --> {}: {}", c.location, c.check)),
                        )
                })
                .collect();
            let message = s
                .outcomes
                .iter()
                .find(|o| o.status == s.status)
                .map(|o| o.message.clone())
                .unwrap_or_default();
            let body = esc(&lines.join("\n"));
            match s.status {
                Status::Passed => {
                    let _ = writeln!(
                        x,
                        ">\n      <system-out>{body}</system-out>\n    </testcase>"
                    );
                }
                Status::Skipped => {
                    let _ = writeln!(
                        x,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        esc(&message)
                    );
                }
                Status::Failed => {
                    let _ = writeln!(
                        x,
                        ">\n      <failure message=\"{}\" type=\"AssertionFailed\">{body}</failure>\n    </testcase>",
                        esc(&message)
                    );
                }
                Status::Errored => {
                    let _ = writeln!(
                        x,
                        ">\n      <error message=\"{}\" type=\"StepError\">{body}</error>\n    </testcase>",
                        esc(&message)
                    );
                }
            }
        }
        let _ = x.write_str("  </testsuite>\n");
    }
    let _ = x.write_str("</testsuites>\n");
}

/// The merge's problems as a suite of errored testcases.
fn problems_suite(x: &mut dyn std::fmt::Write, problems: &[String]) {
    if problems.is_empty() {
        return;
    }
    let n = problems.len();
    let _ = writeln!(
        x,
        "  <testsuite name=\"scenario report merge\" tests=\"{n}\" failures=\"0\" errors=\"{n}\" skipped=\"0\" time=\"0.000\">"
    );
    for (i, p) in problems.iter().enumerate() {
        let _ = writeln!(
            x,
            "    <testcase name=\"merge problem {}\" classname=\"scenario.merge\" time=\"0.000\">\n      <error message=\"{}\" type=\"IncompleteMerge\">{}</error>\n    </testcase>",
            i + 1,
            esc(p),
            esc(p)
        );
    }
    let _ = x.write_str("  </testsuite>\n");
}
