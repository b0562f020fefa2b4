//! What a probe's expectations say about a summary of answers: the problems
//! (each one a sentence), and the `each` checks that failed, located. Used by
//! the sampler (is an `eventually` window satisfied?) and by the verdict.

use super::spec::Probe;
use super::tally::Summary;
use crate::model::check::{Check, CheckResult, Query, expected_text};

/// Answers an `each` check needs to pass (of the accepted ones).
fn needed(c: &Check, ok_answers: usize) -> usize {
    ((c.fraction * ok_answers as f64).ceil() as usize).max(1)
}

fn query_text(c: &Check) -> &str {
    match &c.query {
        Query::JsonPath(x) | Query::Value(x) => x,
    }
}

/// Problems with a summary (empty: all expectations hold), except the split.
pub(super) fn problems(p: &Probe, s: &Summary) -> Vec<String> {
    let mut out = Vec::new();
    if s.answers == 0 {
        out.push("no answer at all".to_owned());
        return out;
    }
    if s.error_rate > p.max_error_rate {
        let first = s
            .first_error
            .as_ref()
            .map(|e| format!("; first error: {}", crate::language::limits::excerpt(e)))
            .unwrap_or_default();
        out.push(format!(
            "error rate {:.1}% ({} of {}) exceeds {:.1}% (accepted status: {:?}){first}",
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
        if ok_answers > 0 && passed >= needed(c, ok_answers) {
            continue;
        }
        let what = query_text(c);
        if ok_answers == 0 {
            out.push(format!(
                "check {what} {}: no answer to check it on (all {} were errors)",
                expected_text(&c.predicate),
                s.answers
            ));
            continue;
        }
        let seen = s
            .values
            .get(what)
            .map(|m| {
                format!(
                    "; observed {}",
                    m.iter()
                        .map(|(k, v)| format!("{} ×{v}", super::tally::shown(k)))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
            .unwrap_or_default();
        let why = s.mismatches[i]
            .as_ref()
            .map(|w| format!(" ({w})"))
            .unwrap_or_default();
        out.push(format!(
            "check {what} {}: {passed} of {ok_answers} answers passed, {} needed{seen}{why}",
            expected_text(&c.predicate),
            needed(c, ok_answers)
        ));
    }
    out
}

/// The `each` checks that did not hold often enough, located in the playbook;
/// `actual` tells how many answers passed and what was observed.
pub(super) fn failed_checks(p: &Probe, s: &Summary, file: &str) -> Vec<CheckResult> {
    let ok_answers = s.answers - s.errors;
    p.each
        .iter()
        .enumerate()
        .filter(|(i, c)| ok_answers == 0 || s.checks_passed[*i] < needed(c, ok_answers))
        .map(|(i, c)| {
            let mut actual = serde_json::json!({
                "passed": s.checks_passed[i],
                "answers": ok_answers,
                "observed": s.values.get(query_text(c)),
            });
            if let Some(why) = &s.mismatches[i] {
                actual["cannotCompare"] = serde_json::Value::String(why.clone());
            }
            c.result(file, false, Some(actual))
        })
        .collect()
}

