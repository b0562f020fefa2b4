//! Judging a probe's answers: summaries over a window, expectations, and the
//! sequential split test with its restarts (see `http` for the module's story).

use std::collections::VecDeque;
use std::fmt::Write as _;

use futures::StreamExt as _;
use futures::stream::FuturesUnordered;
use serde::Serialize;
use tokio::time::Instant;

use super::http::{Extractor, Record, Request, SAMPLES, Sample, client};
use super::tally::{Summary, Tally, summarize, value_key};
use super::spec::Probe;
use super::split::Split;
use super::stats::{SplitTest, Verdict};
use crate::model::action::{Done, StepCx, StepError};
use crate::model::check::{CheckResult, Compiled, Query, expected_text};

/// Problems with a summary (empty: all expectations hold), except the split.
fn problems(p: &Probe, s: &Summary) -> Vec<String> {
    let mut out = Vec::new();
    if s.answers == 0 {
        out.push("no answer at all".to_owned());
        return out;
    }
    if s.error_rate > p.max_error_rate {
        out.push(format!(
            "error rate {:.1}% ({} of {}) exceeds {:.1}% (accepted status: {:?})",
            s.error_rate * 100.0,
            s.errors,
            s.answers,
            p.max_error_rate * 100.0,
            p.status
        ));
    }
    for (q, limit) in &p.latency {
        let got = s.latency_ms.get(&format!("p{q}")).copied().unwrap_or(0.0);
        if got > limit.as_secs_f64() * 1000.0 {
            out.push(format!(
                "latency p{q} is {got:.1} ms, expected at most {}",
                humantime::format_duration(*limit)
            ));
        }
    }
    let ok_answers = s.answers - s.errors;
    for (i, c) in p.each.iter().enumerate() {
        let passed = s.checks_passed[i];
        let need = (c.fraction * ok_answers as f64).ceil() as usize;
        if ok_answers == 0 || passed < need.max(1) {
            let what = match &c.query {
                Query::JsonPath(x) | Query::Value(x) => x.clone(),
            };
            let seen = s
                .values
                .get(&what)
                .map(|m| {
                    format!(
                        "; observed {}",
                        m.iter()
                            .map(|(k, v)| format!("{k} ×{v}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
                .unwrap_or_default();
            out.push(format!(
                "check {what} {}: {passed} of {ok_answers} answers passed, {} needed{seen}",
                expected_text(&c.predicate),
                need.max(1)
            ));
        }
    }
    out
}

/// The `each` checks that did not hold often enough, located in the playbook;
/// `actual` tells how many answers passed and what was observed.
fn failed_checks(p: &Probe, s: &Summary, file: &str) -> Vec<CheckResult> {
    let ok_answers = s.answers - s.errors;
    p.each
        .iter()
        .enumerate()
        .filter(|(i, c)| {
            let need = (c.fraction * ok_answers as f64).ceil() as usize;
            ok_answers == 0 || s.checks_passed[*i] < need.max(1)
        })
        .map(|(i, c)| {
            let what = match &c.query {
                Query::JsonPath(x) | Query::Value(x) => x.clone(),
            };
            let actual = serde_json::json!({
                "passed": s.checks_passed[i],
                "answers": ok_answers,
                "observed": s.values.get(&what),
            });
            c.result(file, false, Some(actual))
        })
        .collect()
}

/// Report data for JSON reports.
#[derive(Debug, Serialize)]
struct Observations<'a> {
    url: &'a str,
    sent: u64,
    summary: &'a Summary,
    judged_on: &'a str,
    distribution: Option<&'a SplitTest>,
    samples: &'a [Sample],
}

/// Runs a probe.
///
/// # Errors
/// Failed when an expectation does not hold; Errored when no answer could be had.
#[allow(clippy::too_many_lines)]
pub async fn run(p: &Probe, cx: &StepCx<'_>) -> Result<Done, StepError> {
    let url = cx.render(&p.url)?;
    let headers: Vec<(String, String)> = p
        .headers
        .iter()
        .map(|(k, v)| Ok((k.clone(), cx.render(v)?)))
        .collect::<Result<_, StepError>>()?;
    let body = p.body.as_deref().map(|b| cx.render(b)).transpose()?;
    // Values that depend on captures are checked once rendered, before any request.
    if let Some(problem) = super::spec::url_problem(&url) {
        return Err(StepError::Errored(format!(
            "the rendered URL `{}` is invalid: {problem}; no request was sent",
            crate::language::limits::excerpt(&url)
        )));
    }
    if let Some((name, value)) = headers
        .iter()
        .find(|(_, v)| http::HeaderValue::from_str(v).is_err())
    {
        return Err(StepError::Errored(format!(
            "the rendered header `{name}` has an invalid value {:?}; no request was sent",
            crate::language::limits::excerpt(value)
        )));
    }
    let method = reqwest::Method::from_bytes(p.method.as_bytes())
        .map_err(|e| StepError::Errored(e.to_string()))?;
    let extract: Vec<Extractor> = p
        .extract
        .iter()
        .map(|(_, e)| Extractor::new(e))
        .collect::<Result<_, _>>()
        .map_err(StepError::Errored)?;
    // `each` checks, then `never` checks: a record's results are in this order.
    let rendered_checks: Vec<crate::model::check::Check> = p
        .each
        .iter()
        .chain(&p.never)
        .map(|c| cx.render_check(c))
        .collect::<Result<_, StepError>>()?;
    let checks = rendered_checks
        .iter()
        .map(|c| match &c.query {
            Query::JsonPath(path) => Ok((
                Some(Compiled::new(path).map_err(StepError::Errored)?),
                None,
                c,
            )),
            Query::Value(name) => Ok((None, p.extract.iter().position(|(n, _)| n == name), c)),
        })
        .collect::<Result<Vec<_>, StepError>>()?;
    let req = Request {
        value_names: p.extract.iter().map(|(n, _)| n.clone()).collect(),
        client: client(p)?,
        method,
        url: url.clone(),
        headers,
        body,
        extract,
        checks,
        accepted: &p.status,
    };
    let window = p.eventually_window.map(|w| w as usize);
    let mut split = Split::new(p);
    let mut recent: VecDeque<Record> = VecDeque::new();
    let mut all = Tally::new(p);
    let mut samples: Vec<Sample> = Vec::new();
    let mut sent: u64 = 0;
    let mut received: u64 = 0;
    let mut inflight = FuturesUnordered::new();
    let mut satisfied = false;
    let started = Instant::now();
    // A progress bar on terminals (a no-op span elsewhere).
    let bar = tracing::info_span!(target: crate::model::action::PROGRESS_TARGET, "probe");
    {
        use tracing_indicatif::span_ext::IndicatifSpanExt as _;
        // `{{rate}}` is the measured rate; a paced probe also shows its pace.
        let pace = p.rate.map(|r| format!(" (paced at {r}/s)")).unwrap_or_default();
        let template = if window.is_some() {
            format!("  {{spinner}} probe: {{pos}} answers, {{rate}}{pace} {{elapsed}}")
        } else {
            format!("  {{bar:30}} probe: {{pos}}/{{len}} answers, {{rate}}{pace} {{elapsed}}")
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(&template) {
            // Whole requests per second: "10747/s", not "10,747.1727/s".
            let style = style.with_key(
                "rate",
                |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.0}/s", state.per_sec());
                },
            );
            bar.pb_set_style(&style);
        }
        if window.is_none() {
            bar.pb_set_length(u64::from(p.requests));
        }
        bar.pb_start();
    }
    // `rate`: request k is not sent before started + k / rate.
    let due = |k: u64| {
        p.rate
            .map(|r| started + std::time::Duration::from_secs_f64(k as f64 / r))
    };
    loop {
        let more = |sent: u64, satisfied: bool| {
            (window.is_some() || sent < u64::from(p.requests)) && !satisfied && !cx.left().is_zero()
        };
        while inflight.len() < p.concurrency as usize && more(sent, satisfied) {
            if due(sent).is_some_and(|d| Instant::now() < d) {
                break;
            }
            // Samples: the first answers, then one in a hundred (the last ones are kept).
            let want_sample = sent < SAMPLES as u64 || sent.is_multiple_of(100);
            inflight.push(req.send(want_sample));
            sent += 1;
        }
        // Paced and room for another request: wake when it is due, or on an answer.
        let wake = due(sent).filter(|_| {
            more(sent, satisfied) && inflight.len() < p.concurrency as usize
        });
        if inflight.is_empty() {
            match wake {
                Some(d) => {
                    tokio::time::sleep_until(d.min(cx.deadline)).await;
                    continue;
                }
                None => break,
            }
        }
        let next = match wake {
            Some(d) => tokio::select! {
                r = tokio::time::timeout(cx.left(), inflight.next()) => r,
                () = tokio::time::sleep_until(d) => continue,
            },
            None => tokio::time::timeout(cx.left(), inflight.next()).await,
        };
        let Ok(Some((rec, sample))) = next else { break };
        received += 1;
        if let Some(k) = (0..p.never.len()).find(|k| rec.ok && rec.checks[p.each.len() + k]) {
            // One answer proves a `never` check wrong: no need to wait for the timeout.
            let c = &rendered_checks[p.each.len() + k];
            let answer: Vec<String> = p
                .extract
                .iter()
                .zip(&rec.values)
                .map(|((name, _), v)| format!("{name}={}", value_key(v.as_ref())))
                .collect();
            let shown = format!(
                "status {}, {}",
                rec.status.map_or_else(|| "none".to_owned(), |s| s.to_string()),
                answer.join(", ")
            );
            let actual = match &c.query {
                Query::Value(name) => p
                    .extract
                    .iter()
                    .position(|(n, _)| n == name)
                    .and_then(|i| rec.values[i].clone()),
                Query::JsonPath(_) => None,
            };
            return Err(StepError::failed(
                format!("answer {received} passed a `never` check: {c}"),
                vec![format!("answer: {shown}")],
            )
            .with_checks(vec![c.result(cx.file, false, actual)]));
        }
        tracing_indicatif::span_ext::IndicatifSpanExt::pb_inc(&bar, 1);
        if let Some(s) = sample {
            samples.push(s);
            if samples.len() > SAMPLES {
                samples.remove(0);
            }
        }
        if let Some(sp) = split.as_mut() {
            sp.observe(&rec, started.elapsed());
        }
        match window {
            Some(w) => {
                recent.push_back(rec);
                if recent.len() > w {
                    recent.pop_front();
                }
                let split_ok = split
                    .as_ref()
                    .is_none_or(|s| s.run.verdict() == Verdict::Within);
                // Enough answers: a full window, or (with a split check) every
                // answer since the split test that just passed began.
                let enough = recent.len() >= w
                    || split
                        .as_ref()
                        .and_then(|s| s.run.test.as_ref())
                        .is_some_and(|t| recent.len() as u64 >= t.n);
                if enough && split_ok && problems(p, &summarize(p, recent.iter())).is_empty() {
                    satisfied = true;
                }
                // A split that passed longer ago than the window while other
                // checks kept failing is no longer about the judged answers:
                // test it again (a new attempt, with its own budget).
                if !satisfied
                    && let Some(sp) = split.as_mut()
                    && sp.run.verdict() == Verdict::Within
                    && sp.run.answers - sp.run.began_after > w as u64
                {
                    sp.run.reopen();
                }
            }
            None => {
                all.add(p, &rec);
                // A decided split ends the sampling early.
                if split
                    .as_ref()
                    .is_some_and(|s| s.run.verdict() != Verdict::Undecided)
                {
                    satisfied = true;
                }
            }
        }
        if satisfied {
            break;
        }
    }
    drop(inflight);
    let (summary, first_error, judged_on) = match window {
        Some(w) => (
            summarize(p, recent.iter()),
            recent.iter().find_map(|r| r.error.clone()),
            format!("the last {} answers (eventually, window {w})", recent.len()),
        ),
        None => {
            let s = all.summary(p);
            let n = s.answers;
            (s, all.first_error.clone(), format!("all {n} answers"))
        }
    };
    let mut issues = problems(p, &summary);
    if let Some(problem) = split.as_ref().and_then(Split::problem) {
        issues.push(problem);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut details = vec![format!(
        "{sent} requests in {elapsed:.2}s ({:.0}/s{}); judged on {judged_on}; status {}; latency p50 {:.1} ms, p99 {:.1} ms",
        sent as f64 / elapsed.max(1e-9),
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
    // `each` checks with their counts; a `never` check got here unmatched.
    for (i, c) in rendered_checks.iter().enumerate() {
        details.push(match summary.checks_passed.get(i) {
            Some(passed) => format!(
                "check {c}: {passed} of {} answers",
                summary.answers - summary.errors
            ),
            None => format!("never {c}: no answer matched"),
        });
    }
    if let Some(sp) = &split {
        details.extend(sp.report(window.is_some()));
    } else {
        for (name, counts) in &summary.values {
            let total: usize = counts.values().sum();
            let mut line = format!("{name}:");
            for (k, v) in counts {
                let _ = write!(
                    line,
                    " {k} ×{v} ({:.0}%)",
                    100.0 * *v as f64 / total.max(1) as f64
                );
            }
            details.push(line);
        }
    }
    let data = serde_json::to_value(Observations {
        url: &url,
        sent,
        summary: &summary,
        judged_on: &judged_on,
        distribution: split.as_ref().map(Split::shown),
        samples: &samples,
    })
    .ok();
    // No answer at all, only transport errors: the check could not be made.
    if summary.answers > 0 && summary.statuses.len() == 1 && summary.statuses.contains_key("error")
    {
        let first = first_error.unwrap_or_default();
        return Err(StepError::Errored(format!(
            "no answer from {url} ({} attempts): {first}",
            summary.answers
        )));
    }
    if summary.answers == 0 {
        return Err(StepError::Errored(format!(
            "no answer from {url} before the step timed out"
        )));
    }
    if !issues.is_empty() || (window.is_some() && !satisfied) {
        let mut msg = if window.is_some() && !satisfied {
            format!(
                "expectations did not hold before the step timed out ({})",
                issues.join("; ")
            )
        } else {
            issues.join("; ")
        };
        if msg.is_empty() {
            msg = "expectations did not hold".to_owned();
        }
        let mut d = details;
        for s in samples.iter().take(SAMPLES) {
            d.push(format!(
                "sample: {}",
                serde_json::to_string(s).unwrap_or_default()
            ));
        }
        return Err(StepError::Failed {
            message: msg,
            details: d,
            data,
            checks: failed_checks(p, &summary, cx.file),
        });
    }
    let message = match &split {
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

