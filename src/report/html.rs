//! The HTML report: one self-contained page (inline CSS, no script, no
//! external asset) that a person opens after a run. It shows each playbook's
//! steps with per-cluster results and timings, every failure with what was
//! expected, what was found and where the check is written, and the probes'
//! split tables as bars.

use super::markup::escape_markup as esc;

use crate::model::check::CheckResult;
use crate::model::step_data::{SplitReport, StepData};
use crate::runner::result::{Outcome, PlaybookResult, Status, StepResult};

const STYLE: &str = "
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; color: #1b1f24; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #d0d7de; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.passed { color: #1a7f37; } .failed { color: #cf222e; font-weight: 600; }
.errored { color: #8250df; font-weight: 600; } .skipped { color: #9a6700; }
.step { border: 1px solid #d0d7de; border-radius: 6px; padding: .6rem 1rem; margin: .8rem 0; }
.step-failed, .step-errored { border-color: #cf222e; }
pre { background: #f6f8fa; padding: .6rem; overflow-x: auto; font-size: 13px; }
code { font-size: 13px; }
.check { background: #fff1f0; border-left: 4px solid #cf222e; padding: .4rem .8rem; margin: .4rem 0; }
.bar { background: #0969da; height: .8rem; display: inline-block; vertical-align: middle; }
.bar.expected { background: #8c959f; height: .35rem; }
";

fn class(s: Status) -> &'static str {
    match s {
        Status::Passed => "passed",
        Status::Skipped => "skipped",
        Status::Failed => "failed",
        Status::Errored => "errored",
    }
}

fn check_html(out: &mut dyn std::fmt::Write, c: &CheckResult) {
    let found = c.found_text();
    let _ = writeln!(
        out,
        "<div class=\"check\"><code>{}</code> — <code>{}</code><br>expected <code>{}</code>, found <code>{}</code></div>",
        esc(&c.location.to_string()),
        esc(&c.check),
        esc(&c.expected),
        esc(&found)
    );
}

/// The split table of a probe outcome, as bars: expected and observed share.
fn split_html(out: &mut dyn std::fmt::Write, d: &SplitReport) {
    let n: u64 = d.counts.iter().sum();
    let _ = writeln!(
        out,
        "<table class=\"split\"><tr><th>category</th><th class=\"num\">expected</th><th class=\"num\">observed</th><th class=\"num\">answers</th><th>share</th></tr>"
    );
    for (i, cat) in d.categories.iter().enumerate() {
        let expected = d.expected.get(i).copied().unwrap_or(0.0) * 100.0;
        let count = d.counts.get(i).copied().unwrap_or(0);
        if count == 0 && expected == 0.0 {
            continue;
        }
        let observed = if n == 0 {
            0.0
        } else {
            count as f64 * 100.0 / n as f64
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"num\">{expected:.0}%</td><td class=\"num\">{observed:.1}%</td><td class=\"num\">{count}</td><td><span class=\"bar\" style=\"width:{:.1}%\"></span><br><span class=\"bar expected\" style=\"width:{:.1}%\"></span></td></tr>",
            esc(cat),
            observed.min(100.0) * 0.9,
            expected.min(100.0) * 0.9,
        );
    }
    let _ = writeln!(out, "</table>");
}

fn outcome_html(out: &mut dyn std::fmt::Write, o: &Outcome) {
    let who = o.cluster.as_deref().unwrap_or("local");
    let _ = writeln!(
        out,
        "<p><strong>{}</strong>: <span class=\"{}\">{}</span> — {} <small>({:.2} s)</small></p>",
        esc(who),
        class(o.status),
        o.status.word(),
        esc(&o.message),
        o.duration.as_secs_f64()
    );
    for c in &o.checks {
        check_html(out, c);
    }
    if let Some(d) = o
        .data
        .as_ref()
        .and_then(StepData::probe)
        .and_then(|p| p.distribution.as_ref())
    {
        split_html(out, d);
    }
    if !o.details.is_empty() {
        let _ = writeln!(out, "<pre>{}</pre>", esc(&o.details.join("\n")));
    }
}

fn step_html(out: &mut dyn std::fmt::Write, s: &StepResult) {
    let _ = writeln!(
        out,
        "<div class=\"step step-{}\" id=\"step-{}\"><h3>{} <small>({}{})</small> — <span class=\"{}\">{}</span></h3>",
        class(s.status),
        esc(&s.name),
        esc(&s.name),
        esc(s.kind),
        if s.finally { ", finally" } else { "" },
        class(s.status),
        s.status.word()
    );
    for o in &s.outcomes {
        outcome_html(out, o);
    }
    let _ = writeln!(out, "</div>");
}

/// The HTML report of a run.
#[must_use]
pub fn html(results: &[PlaybookResult], exit_code: i32) -> String {
    html_with(results, exit_code, &[])
}

/// The HTML report, with what makes a merge incomplete first.
#[must_use]
pub fn html_with(results: &[PlaybookResult], exit_code: i32, problems: &[String]) -> String {
    let mut out = String::new();
    write_html(&mut out, results, exit_code, problems);
    out
}

/// Writes the HTML report to `out` piece by piece (a merged report of many
/// shards is never held whole in memory).
pub fn write_html(
    out: &mut dyn std::fmt::Write,
    results: &[PlaybookResult],
    exit_code: i32,
    problems: &[String],
) {
    let _ = out.write_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    let _ = write!(
        out,
        "<title>scenario report</title><style>{STYLE}</style></head><body>\n<h1>scenario report</h1>\n<p>{} playbook{}, exit code {exit_code}</p>\n",
        results.len(),
        if results.len() == 1 { "" } else { "s" }
    );
    if !problems.is_empty() {
        let _ = out.write_str(
            "<h2 class=\"errored\">The merge is incomplete</h2>\n<ul class=\"problems\">\n",
        );
        for p in problems {
            let _ = writeln!(out, "<li class=\"errored\">{}</li>", esc(p));
        }
        let _ = out.write_str("</ul>\n");
    }
    for pb in results {
        let _ = writeln!(
            out,
            "<h2>{} <small>({})</small> — <span class=\"{}\">{}</span> in {:.2} s</h2>",
            esc(&pb.name),
            esc(&pb.path),
            class(pb.status),
            pb.status.word(),
            pb.duration.as_secs_f64()
        );
        let _ = writeln!(
            out,
            "<table><tr><th>step</th><th>kind</th><th>result</th><th class=\"num\">time</th><th>clusters</th></tr>"
        );
        for s in &pb.steps {
            let clusters = s.clusters();
            let _ = writeln!(
                out,
                "<tr><td><a href=\"#step-{}\">{}</a></td><td>{}</td><td class=\"{}\">{}</td><td class=\"num\">{:.2} s</td><td>{}</td></tr>",
                esc(&s.name),
                esc(&s.name),
                esc(s.kind),
                class(s.status),
                s.status.word(),
                s.duration.as_secs_f64(),
                esc(&clusters.join(", "))
            );
        }
        let _ = writeln!(out, "</table>");
        for s in &pb.steps {
            step_html(out, s);
        }
    }
    let _ = out.write_str("</body></html>\n");
}
