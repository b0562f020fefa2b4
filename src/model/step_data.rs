//! What a step kind's outcome carries besides its message and details: one
//! typed value per kind that has data. The JSON report writes it as the
//! outcome's `data` (each variant as its own object, no tag), and
//! `docs --from-report` reads it back by deserializing, so the HTML report
//! and the chapter page use fields, not keys and line prefixes.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

/// A step's data. Each variant has fields no other has, so reading a report
/// finds the variant without a tag (the report's shape stays as it was).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum StepData {
    /// A probe's observations.
    Probe(Box<ProbeReport>),
    /// An apply that stopped on an error, with what it applied before.
    ApplyStopped(ApplyStopped),
    /// What `kubectl patch` would print.
    Patched(Patched),
    /// What an `exec` command printed.
    Exec(ExecOutput),
    /// An apply that applied every object.
    Applied(Applied),
}

/// `apply`: the objects that were there before (not new on the page).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Applied {
    /// Object lines (`Kind ns/name`) of the objects that existed before the apply.
    pub existed: Vec<String>,
}

/// `apply` stopped by an error: what it did on this cluster before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplyStopped {
    /// The objects applied before the error.
    pub applied: Vec<String>,
    /// How many objects were not applied.
    pub not_applied: usize,
    pub dry_run: bool,
    /// The errors after the first one (at most a few).
    pub other_errors: Vec<String>,
    pub other_errors_not_shown: usize,
}

/// `patch`: the object patched and whether the patch changed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Patched {
    pub kind: String,
    pub name: String,
    pub changed: bool,
}

/// `exec`: what the command printed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ExecOutput {
    pub stdout: String,
    pub stderr: String,
}

/// A probe's observations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProbeReport {
    pub url: String,
    pub sent: u64,
    /// Requests asked for that got no answer before the step timed out.
    pub unanswered: u64,
    pub summary: ProbeSummary,
    /// Which answers the verdict is on (`all 400 answers`, the last window).
    pub judged_on: String,
    /// The split check, when the probe has one.
    pub distribution: Option<SplitReport>,
    /// A few answers as they came (secrets redacted).
    pub samples: Vec<Sample>,
}

/// Counts over the answers judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProbeSummary {
    pub answers: usize,
    pub errors: usize,
    #[serde(deserialize_with = "nullable")]
    #[schemars(with = "Option<f64>")]
    pub error_rate: f64,
    /// Answers per status (`error` for a failed request).
    pub statuses: BTreeMap<String, usize>,
    /// Latency percentiles (`p50`, `p90`, `p99`, `max`) in milliseconds.
    #[serde(deserialize_with = "nullable_map")]
    #[schemars(with = "BTreeMap<String, Option<f64>>")]
    pub latency_ms: BTreeMap<String, f64>,
    /// Per extracted value: value -> count.
    pub values: BTreeMap<String, BTreeMap<String, usize>>,
    /// Per `each` check: answers that passed.
    pub checks_passed: Vec<usize>,
}

/// The split test as it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SplitReport {
    pub categories: Vec<String>,
    /// Expected shares (0..1), one per category; the last is "(other)" at 0.
    #[serde(deserialize_with = "nullable_vec")]
    #[schemars(with = "Vec<Option<f64>>")]
    pub expected: Vec<f64>,
    pub counts: Vec<u64>,
    pub n: u64,
    #[serde(deserialize_with = "nullable")]
    #[schemars(with = "Option<f64>")]
    pub tolerance: f64,
    #[serde(deserialize_with = "nullable")]
    #[schemars(with = "Option<f64>")]
    pub false_fail: f64,
    #[serde(deserialize_with = "nullable")]
    #[schemars(with = "Option<f64>")]
    pub false_pass: f64,
    /// ln(J/falseFail): an open alternative at or above it fails the test.
    #[serde(deserialize_with = "nullable")]
    #[schemars(with = "Option<f64>")]
    pub fail_at: f64,
    /// ln(falsePass): an alternative is ruled out at or below it.
    #[serde(deserialize_with = "nullable")]
    #[schemars(with = "Option<f64>")]
    pub pass_at: f64,
    pub alternatives: Vec<AlternativeReport>,
    pub verdict: Verdict,
    /// Category (index) whose alternative failed the test.
    pub off_category: Option<usize>,
}

/// One alternative of the split test: category `category` at share `p1`
/// instead of `p0`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AlternativeReport {
    pub category: usize,
    #[serde(deserialize_with = "nullable")]
    #[schemars(with = "Option<f64>")]
    pub p0: f64,
    #[serde(deserialize_with = "nullable")]
    #[schemars(with = "Option<f64>")]
    pub p1: f64,
    #[serde(deserialize_with = "nullable")]
    #[schemars(with = "Option<f64>")]
    pub hit: f64,
    #[serde(deserialize_with = "nullable")]
    #[schemars(with = "Option<f64>")]
    pub miss: f64,
    /// ln LR_j.
    #[serde(deserialize_with = "nullable")]
    #[schemars(with = "Option<f64>")]
    pub llr: f64,
    pub ruled_out: bool,
}

/// The verdict of a split test so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Not decided yet.
    Undecided,
    /// Within the tolerance of the weights.
    Within,
    /// Off by at least the tolerance in some category.
    Off,
}

/// A sample answer for the report (secrets redacted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Sample {
    pub status: Option<u16>,
    pub error: Option<String>,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

/// A number JSON wrote as `null` (serde_json writes NaN and infinities so)
/// reads back as NaN.
fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

fn nullable_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    let v = Vec::<Option<f64>>::deserialize(d)?;
    Ok(v.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect())
}

fn nullable_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, f64>, D::Error> {
    let m = BTreeMap::<String, Option<f64>>::deserialize(d)?;
    Ok(m.into_iter()
        .map(|(k, x)| (k, x.unwrap_or(f64::NAN)))
        .collect())
}

impl StepData {
    /// Applies `f` to every text the data holds, and to the keys of maps of
    /// names (values, statuses, headers) with `true`: redaction and cleaning
    /// see all of it.
    pub fn texts_mut(&mut self, f: &mut dyn FnMut(&mut String, bool)) {
        match self {
            StepData::Probe(p) => p.texts_mut(f),
            StepData::ApplyStopped(a) => {
                for t in a.applied.iter_mut().chain(&mut a.other_errors) {
                    f(t, false);
                }
            }
            StepData::Patched(p) => {
                f(&mut p.kind, false);
                f(&mut p.name, false);
            }
            StepData::Exec(e) => {
                f(&mut e.stdout, false);
                f(&mut e.stderr, false);
            }
            StepData::Applied(a) => a.existed.iter_mut().for_each(|t| f(t, false)),
        }
    }

    /// The probe's report, when this is one.
    #[must_use]
    pub fn probe(&self) -> Option<&ProbeReport> {
        match self {
            StepData::Probe(p) => Some(p),
            _ => None,
        }
    }
}

/// The map with every key passed through `f` (two keys that become one
/// add up, as counts do).
fn keys_mut<V: std::ops::AddAssign + Default>(
    m: &mut BTreeMap<String, V>,
    f: &mut dyn FnMut(&mut String, bool),
) {
    for (mut k, v) in std::mem::take(m) {
        f(&mut k, true);
        *m.entry(k).or_default() += v;
    }
}

impl ProbeReport {
    fn texts_mut(&mut self, f: &mut dyn FnMut(&mut String, bool)) {
        f(&mut self.url, false);
        f(&mut self.judged_on, false);
        keys_mut(&mut self.summary.statuses, f);
        for (mut name, mut counts) in std::mem::take(&mut self.summary.values) {
            f(&mut name, true);
            keys_mut(&mut counts, f);
            let into = self.summary.values.entry(name).or_default();
            for (k, n) in counts {
                *into.entry(k).or_default() += n;
            }
        }
        if let Some(d) = &mut self.distribution {
            d.categories.iter_mut().for_each(|c| f(c, false));
        }
        for s in &mut self.samples {
            if let Some(e) = &mut s.error {
                f(e, false);
            }
            f(&mut s.body, false);
            for (mut k, mut v) in std::mem::take(&mut s.headers) {
                f(&mut k, true);
                f(&mut v, false);
                s.headers.insert(k, v);
            }
        }
    }
}
