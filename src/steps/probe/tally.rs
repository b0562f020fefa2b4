//! Counting answers as they come: a summary over all of a probe's answers
//! keeps counts and latencies, not the answers themselves, so memory does
//! not grow with the answers' contents (about 4 bytes per answer).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::http::Record;
use super::spec::Probe;

/// Aggregates over a set of records.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub answers: usize,
    pub errors: usize,
    pub error_rate: f64,
    pub statuses: BTreeMap<String, usize>,
    pub latency_ms: BTreeMap<String, f64>,
    /// Per extracted value: value -> count.
    pub values: BTreeMap<String, BTreeMap<String, usize>>,
    /// Per `each` check: answers that passed.
    pub checks_passed: Vec<usize>,
    /// Per `each` check: why an answer's value could not be compared with the
    /// expected one (the first time), which fails the check.
    #[serde(skip)]
    pub mismatches: Vec<Option<String>>,
    /// The first answer's error (transport, or a body past `maxBody`).
    #[serde(skip)]
    pub first_error: Option<String>,
}

/// Distinct values counted by name per extracted value; the others are
/// counted together, so that answers that all differ keep memory flat.
pub(super) const MAX_DISTINCT: usize = 100;
/// The key under which values past [`MAX_DISTINCT`] are counted.
pub(super) const MORE_VALUES: &str = "(more distinct values)";

/// A value from an answer as shown in a line of output: cut, and with every
/// control character (newlines too) escaped, so that it cannot start a line.
pub(super) fn shown(key: &str) -> String {
    crate::language::untrusted::clean_line(&crate::language::limits::excerpt(key))
}

/// Counts `key` once more, by name while the map holds fewer than
/// [`MAX_DISTINCT`] names (or already has this one), else under [`MORE_VALUES`].
pub(super) fn count_bounded<N: std::ops::AddAssign + From<u8> + Default>(
    counts: &mut BTreeMap<String, N>,
    key: String,
) {
    let key = if counts.len() < MAX_DISTINCT || counts.contains_key(&key) {
        key
    } else {
        MORE_VALUES.to_owned()
    };
    *counts.entry(key).or_default() += N::from(1);
}

impl Summary {
    /// The counts as a report shows them.
    #[must_use]
    pub fn report(&self) -> crate::model::step_data::ProbeSummary {
        crate::model::step_data::ProbeSummary {
            answers: self.answers,
            errors: self.errors,
            error_rate: self.error_rate,
            statuses: self.statuses.clone(),
            latency_ms: self.latency_ms.clone(),
            values: self.values.clone(),
            checks_passed: self.checks_passed.clone(),
        }
    }
}

pub(super) fn value_key(v: Option<&Value>) -> String {
    match v {
        None => "(missing)".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub(super) fn summarize<'r>(p: &Probe, recs: impl Iterator<Item = &'r Record>) -> Summary {
    let mut t = Tally::new(p);
    for r in recs {
        t.add(p, r);
    }
    t.summary(p)
}

/// Counts over the answers seen so far.
pub(super) struct Tally {
    s: Summary,
    /// Latencies in ms (f32: enough for percentiles, half the memory).
    latencies: Vec<f32>,
}

impl Tally {
    pub(super) fn new(p: &Probe) -> Self {
        Tally {
            s: Summary {
                checks_passed: vec![0; p.each.len()],
                mismatches: vec![None; p.each.len()],
                ..Summary::default()
            },
            latencies: Vec::new(),
        }
    }

    pub(super) fn add(&mut self, p: &Probe, r: &Record) {
        let s = &mut self.s;
        s.answers += 1;
        if !r.ok {
            s.errors += 1;
        }
        let key = r
            .status
            .map_or_else(|| "error".to_owned(), |c| c.to_string());
        *s.statuses.entry(key).or_default() += 1;
        if r.status.is_some() {
            self.latencies.push((r.latency.as_secs_f64() * 1000.0) as f32);
        }
        if s.first_error.is_none() {
            s.first_error.clone_from(&r.error);
        }
        if r.ok {
            for (i, (name, _)) in p.extract.iter().enumerate() {
                count_bounded(
                    s.values.entry(name.clone()).or_default(),
                    value_key(r.values[i].as_ref()),
                );
            }
        }
        for (i, passed) in r.each.iter().enumerate() {
            if *passed {
                s.checks_passed[i] += 1;
            }
        }
        if let Some((i, why)) = &r.mismatch
            && let Some(slot) = s.mismatches.get_mut(*i)
            && slot.is_none()
        {
            *slot = Some(why.clone());
        }
    }

    /// The summary of the answers counted.
    pub(super) fn summary(&self, p: &Probe) -> Summary {
    let mut s = self.s.clone();
    let mut lat: Vec<f64> = self.latencies.iter().map(|x| f64::from(*x)).collect();
    s.error_rate = if s.answers == 0 {
        0.0
    } else {
        s.errors as f64 / s.answers as f64
    };
    lat.sort_by(f64::total_cmp);
    for q in [50.0, 90.0, 99.0] {
        s.latency_ms.insert(format!("p{q}"), percentile(&lat, q));
    }
    s.latency_ms
        .insert("max".into(), lat.last().copied().unwrap_or(0.0));
    for (q, _) in &p.latency {
        s.latency_ms.insert(format!("p{q}"), percentile(&lat, *q));
    }
    s
    }
}

