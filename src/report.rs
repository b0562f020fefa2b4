//! Reports are formatters of the result tree: JUnit XML (playbook = testsuite,
//! step = testcase; assertion failed = <failure>, step errored = <error>) and a
//! versioned JSON document (schemas/report.schema.json).

use std::fmt::Write as _;

use schemars::JsonSchema;
use serde::Serialize;

use crate::run::{PlaybookResult, Status};

/// Version of the JSON report's shape; bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

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

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' && c != '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Builds the JUnit XML report.
#[must_use]
pub fn junit(results: &[PlaybookResult]) -> String {
    let count = |st: Status| {
        results
            .iter()
            .flat_map(|r| &r.steps)
            .filter(|s| s.status == st)
            .count()
    };
    let tests: usize = results.iter().map(|r| r.steps.len()).sum();
    let time: f64 = results.iter().map(|r| r.duration.as_secs_f64()).sum();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"scenario\" tests=\"{tests}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{time:.3}\">",
        count(Status::Failed),
        count(Status::Errored),
        count(Status::Skipped)
    );
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
            let lines: Vec<String> = s
                .outcomes
                .iter()
                .flat_map(|o| {
                    std::iter::once(o.headline()).chain(o.details.iter().map(|d| format!("  {d}")))
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
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}

/// `I/N` shards: playbook k (in the given order) belongs to shard (k mod N) + 1.
#[must_use]
pub fn shard<T>(items: Vec<T>, index: usize, total: usize) -> Vec<T> {
    items
        .into_iter()
        .enumerate()
        .filter(|(k, _)| total > 0 && k % total + 1 == index)
        .map(|(_, t)| t)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_complete_disjoint_and_stable() {
        let items: Vec<usize> = (0..23).collect();
        for n in 1..6 {
            let mut seen: Vec<usize> = Vec::new();
            for i in 1..=n {
                let s = shard(items.clone(), i, n);
                assert_eq!(s, shard(items.clone(), i, n), "stable");
                seen.extend(s);
            }
            seen.sort_unstable();
            assert_eq!(seen, items, "every item in exactly one of {n} shards");
        }
    }

    #[test]
    fn xml_is_escaped() {
        assert_eq!(esc("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;");
    }
}
