//! Judging a probe: `run` renders the requests, lets the sampler send them,
//! and judges what was asked against what was answered (summaries over a
//! window, expectations, the split, requests left unanswered).

use std::fmt::Write as _;

use super::sampler::{Rendered, Sampler};
use super::expectations::{failed_checks, problems};
use super::spec::Probe;
use super::split::Split;
use super::stats::Verdict;
use super::tally::{Summary, summarize};
use crate::model::action::{Done, StepCx, StepError};
use crate::model::step_data::{ProbeReport, StepData};


/// Runs a probe.
///
/// # Errors
/// Failed when an expectation does not hold (or requests went unanswered);
/// Errored when no answer could be had.
pub async fn run(p: &Probe, cx: &StepCx<'_>) -> Result<Done, StepError> {
    // `requests` and weights a template computes are rendered and checked
    // before the first request.
    let counted;
    let p = match &p.requests_computed {
        Some(c) => {
            let (requests, eventually_window) = c.render(p.eventually_window, cx)?;
            counted = Probe {
                requests,
                requests_computed: None,
                eventually_window,
                ..p.clone()
            };
            &counted
        }
        None => p,
    };
    let computed;
    let p = match p.split.as_ref().filter(|s| s.computed.is_some()) {
        Some(split) => {
            computed = Probe {
                split: Some(split.rendered(cx)?),
                ..p.clone()
            };
            &computed
        }
        None => p,
    };
    let rendered = Rendered::new(p, cx)?;
    let req = rendered.request(p, cx.file)?;
    let mut sampler = Sampler::new(p);
    if let Some((k, why)) = sampler.drive(cx, &req).await {
        return Err(sampler.forbidden_error(k, why, &rendered.never, cx.file));
    }
    drop(req);
    sampler.verdict(cx, &rendered)
}

impl Sampler<'_> {
    /// Requests asked for that got no answer: the step timed out first.
    fn unanswered(&self) -> u64 {
        if self.window.is_some() || self.satisfied {
            0
        } else {
            u64::from(self.p.requests).saturating_sub(self.received)
        }
    }

    fn details(&self, summary: &Summary, judged_on: &str, rendered: &Rendered) -> Vec<String> {
        let p = self.p;
        let elapsed = self.started.elapsed().as_secs_f64();
        let mut details = vec![format!(
            "{} requests in {elapsed:.2}s ({:.0}/s{}); judged on {judged_on}; status {}; latency p50 {:.1} ms, p99 {:.1} ms",
            self.sent,
            self.sent as f64 / elapsed.max(1e-9),
            p.rate.map(|r| format!(", paced at {r}/s")).unwrap_or_default(),
            summary
                .statuses
                .iter()
                .map(|(k, v)| format!("{k} ×{v}"))
                .collect::<Vec<_>>()
                .join(", "),
            summary.latency_ms.get("p50").copied().unwrap_or(0.0),
            summary.latency_ms.get("p99").copied().unwrap_or(0.0),
        )];
        let checked = summary.answers - summary.errors;
        for (c, passed) in rendered.each.iter().zip(&summary.checks_passed) {
            details.push(if checked == 0 {
                format!("check {c}: no answer to check it on")
            } else {
                format!("check {c}: {passed} of {checked} answers passed")
            });
        }
        for c in &rendered.never {
            details.push(format!("never {c}: no answer matched"));
        }
        if let Some(sp) = &self.split {
            details.extend(sp.report(self.window.is_some()));
        } else {
            for (name, counts) in &summary.values {
                let total: usize = counts.values().sum();
                let mut line = format!("{name}:");
                for (k, v) in counts {
                    let _ = write!(
                        line,
                        " {} ×{v} ({:.0}%)",
                        super::tally::shown(k),
                        100.0 * *v as f64 / total.max(1) as f64
                    );
                }
                details.push(line);
            }
        }
        details
    }

    /// Judges what was asked against what was answered.
    fn verdict(&self, cx: &StepCx<'_>, rendered: &Rendered) -> Result<Done, StepError> {
        let p = self.p;
        let (summary, judged_on) = match self.window {
            Some(w) => (
                summarize(p, self.recent.iter()),
                format!("the last {} answers (eventually, window {w})", self.recent.len()),
            ),
            None => {
                let s = self.all.summary(p);
                let n = s.answers;
                (s, format!("all {n} answers"))
            }
        };
        let unanswered = self.unanswered();
        let mut issues = Vec::new();
        if unanswered > 0 && summary.answers > 0 {
            issues.push(format!(
                "the step timed out with {unanswered} of {} requests unanswered ({} answers): every expectation is judged on the requests asked for",
                p.requests, summary.answers
            ));
        }
        issues.extend(problems(p, &summary));
        if let Some(problem) = self.split.as_ref().and_then(Split::problem) {
            issues.push(problem);
        }
        let details = self.details(&summary, &judged_on, rendered);
        let data = Some(StepData::Probe(Box::new(ProbeReport {
            url: rendered.url.clone(),
            sent: self.sent,
            unanswered,
            summary: summary.report(),
            judged_on: judged_on.clone(),
            distribution: self.split.as_ref().map(|s| s.shown().report()),
            samples: self.samples.clone(),
        })));
        // No answer at all, only transport errors: the check could not be made.
        if summary.answers > 0 && summary.statuses.len() == 1 && summary.statuses.contains_key("error") {
            return Err(StepError::Errored(format!(
                "no answer from {} ({} attempts): {}",
                rendered.url,
                summary.answers,
                summary.first_error.clone().unwrap_or_default()
            )));
        }
        if summary.answers == 0 {
            return Err(StepError::Errored(format!(
                "no answer from {} before the step timed out",
                rendered.url
            )));
        }
        let timed_out = self.window.is_some() && !self.satisfied;
        if !issues.is_empty() || timed_out {
            let mut message = if timed_out {
                format!(
                    "expectations did not hold before the step timed out ({})",
                    issues.join("; ")
                )
            } else {
                issues.join("; ")
            };
            if message.is_empty() {
                message = "expectations did not hold".to_owned();
            }
            // The samples are in `data`: the terminal shows them under a
            // failed probe (`Outcome::shown_details`).
            return Err(StepError::Failed {
                message,
                details,
                data,
                checks: failed_checks(p, &summary, cx.file),
            });
        }
        let message = match &self.split {
            // Out of requests before a decision: say so; the lean has no error rates.
            Some(sp) if sp.shown().verdict == Verdict::Undecided => format!(
                "{} answers; {} split not decided, leaning within ±{} points of the weights (no stated error rates: give the probe more requests)",
                summary.answers,
                sp.spec.values.join("/"),
                sp.spec.tolerance
            ),
            Some(sp) => format!(
                "{} answers; {} split within ±{} points of the weights",
                summary.answers,
                sp.spec.values.join("/"),
                sp.spec.tolerance
            ),
            None => format!("{} answers, all expectations hold", summary.answers),
        };
        Ok(Done {
            message,
            details,
            captures: serde_json::Map::new(),
            data,
        })
    }
}
