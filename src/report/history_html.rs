//! The history page (`scenario report history -o FILE`): one self-contained
//! HTML file (inline CSS and SVG, no script, nothing fetched) with, per
//! playbook and step, a strip of the nights' results, the duration trend,
//! the answers the split checks needed, and the flaky steps marked.

use std::fmt::Write as _;

use super::history::{History, Run};
use super::markup::escape_markup as esc;
use crate::model::outcome::Status;

const STYLE: &str = "
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 80rem; color: #1b1f24; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #d0d7de; vertical-align: middle; }
.flaky { background: #fff8c5; }
.badge { background: #9a6700; color: #fff; border-radius: 4px; padding: 0 .4rem; font-size: 12px; font-weight: 600; }
.problems li { color: #8250df; }
.legend span { display: inline-block; width: .8rem; height: .8rem; margin: 0 .2rem 0 .8rem; vertical-align: middle; }
small { color: #57606a; }
";

/// Pixels per night in the strips and trends.
const STEP_PX: usize = 9;

fn color(s: Status) -> &'static str {
    match s {
        Status::Passed => "#1a7f37",
        Status::Skipped => "#d4a72c",
        Status::Failed => "#cf222e",
        Status::Errored => "#8250df",
    }
}

fn short(digest: Option<&str>) -> &str {
    digest.map_or("none", |d| d.get(..12).unwrap_or(d))
}

/// A strip of squares, one per night (an empty outline where the step did
/// not run), a tick above the first night of each new digest.
fn strip(out: &mut String, runs: &[Run], nights: usize) {
    let w = nights.max(1) * STEP_PX;
    let _ = write!(
        out,
        "<svg class=\"strip\" width=\"{w}\" height=\"20\" viewBox=\"0 0 {w} 20\" role=\"img\"><rect x=\"0\" y=\"6\" width=\"{w}\" height=\"14\" fill=\"#f6f8fa\"/>"
    );
    let mut last: Option<&str> = None;
    for r in runs {
        let x = r.night * STEP_PX;
        if last.is_some() && last != r.digest.as_deref() {
            let _ = write!(
                out,
                "<rect class=\"digest-change\" x=\"{x}\" y=\"0\" width=\"2\" height=\"5\" fill=\"#0969da\"/>"
            );
        }
        last = r.digest.as_deref();
        let _ = write!(
            out,
            "<rect class=\"night {}\" x=\"{x}\" y=\"7\" width=\"{}\" height=\"12\" fill=\"{}\"><title>night {}: {} in {:.2} s, digest {}</title></rect>",
            r.status.word().to_lowercase(),
            STEP_PX - 2,
            color(r.status),
            r.night + 1,
            r.status.word(),
            r.duration_seconds,
            esc(short(r.digest.as_deref()))
        );
    }
    out.push_str("</svg>");
}

/// A trend line of `value` over the nights, scaled to its largest value.
fn trend(
    out: &mut String,
    runs: &[Run],
    nights: usize,
    value: impl Fn(&Run) -> Option<f64>,
    unit: &str,
) {
    let points: Vec<(usize, f64)> = runs
        .iter()
        .filter_map(|r| {
            value(r)
                .filter(|v| v.is_finite() && *v >= 0.0)
                .map(|v| (r.night, v))
        })
        .collect();
    if points.is_empty() {
        out.push_str("<small>—</small>");
        return;
    }
    let max = points.iter().map(|p| p.1).fold(0.0_f64, f64::max);
    let w = nights.max(1) * STEP_PX;
    let y = |v: f64| {
        if max > 0.0 {
            26.0 - v / max * 24.0
        } else {
            26.0
        }
    };
    let line: Vec<String> = points
        .iter()
        .map(|(n, v)| format!("{},{:.1}", n * STEP_PX + STEP_PX / 2, y(*v)))
        .collect();
    let _ = write!(
        out,
        "<svg class=\"trend\" width=\"{w}\" height=\"28\" viewBox=\"0 0 {w} 28\" role=\"img\"><title>largest {max:.2} {unit}</title><polyline fill=\"none\" stroke=\"#0969da\" stroke-width=\"1.5\" points=\"{}\"/></svg> <small>max {max:.2} {unit}</small>",
        line.join(" ")
    );
}

/// The history page.
#[must_use]
pub fn history_html(h: &History) -> String {
    let nights = h.nights.len();
    let mut out = String::from("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    let _ = write!(
        out,
        "<title>scenario history</title><style>{STYLE}</style></head><body>\n<h1>scenario history</h1>\n<p>{nights} night{}, {} playbook{}, <strong>{} flaky step{}</strong></p>\n",
        if nights == 1 { "" } else { "s" },
        h.playbooks.len(),
        if h.playbooks.len() == 1 { "" } else { "s" },
        h.flaky.len(),
        if h.flaky.len() == 1 { "" } else { "s" },
    );
    out.push_str("<p class=\"legend\"><span style=\"background:#1a7f37\"></span>passed<span style=\"background:#cf222e\"></span>failed<span style=\"background:#8250df\"></span>errored<span style=\"background:#d4a72c\"></span>skipped<span style=\"background:#0969da\"></span>the playbook changed (new digest)</p>\n");
    if !h.problems.is_empty() {
        out.push_str("<h2>Reports that could not be read</h2>\n<ul class=\"problems\">\n");
        for p in &h.problems {
            let _ = writeln!(out, "<li>{}</li>", esc(p));
        }
        out.push_str("</ul>\n");
    }
    if !h.flaky.is_empty() {
        out.push_str("<h2>Flaky steps</h2>\n<p>Each passed and failed (or errored) on the same playbook digest.</p>\n<ul class=\"flaky-list\">\n");
        for f in &h.flaky {
            let digests: Vec<&str> = f.digests.iter().map(|d| short(Some(d))).collect();
            let _ = writeln!(
                out,
                "<li><code>{}</code> step <strong>{}</strong> <small>(digest {})</small></li>",
                esc(&f.playbook),
                esc(&f.step),
                esc(&digests.join(", "))
            );
        }
        out.push_str("</ul>\n");
    }
    for p in &h.playbooks {
        let _ = writeln!(
            out,
            "<h2>{} <small>({})</small></h2>\n<table><tr><th>step</th><th>nights</th><th>duration</th><th>split answers</th></tr>",
            esc(&p.name),
            esc(&p.path)
        );
        let _ = write!(out, "<tr><td><em>whole playbook</em></td><td>");
        strip(&mut out, &p.runs, nights);
        out.push_str("</td><td>");
        trend(&mut out, &p.runs, nights, |r| Some(r.duration_seconds), "s");
        out.push_str("</td><td></td></tr>\n");
        for s in &p.steps {
            let flaky = !s.flaky_on.is_empty();
            let _ = write!(
                out,
                "<tr class=\"step{}\"><td>{} <small>({})</small>{}</td><td>",
                if flaky { " flaky" } else { "" },
                esc(&s.name),
                esc(&s.kind),
                if flaky {
                    " <span class=\"badge\">flaky</span>"
                } else {
                    ""
                }
            );
            strip(&mut out, &s.runs, nights);
            out.push_str("</td><td>");
            trend(&mut out, &s.runs, nights, |r| Some(r.duration_seconds), "s");
            out.push_str("</td><td>");
            #[allow(clippy::cast_precision_loss)]
            trend(
                &mut out,
                &s.runs,
                nights,
                |r| r.answers.map(|a| a as f64),
                "answers",
            );
            out.push_str("</td></tr>\n");
        }
        out.push_str("</table>\n");
    }
    out.push_str("</body></html>\n");
    out
}
