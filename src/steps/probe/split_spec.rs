//! The split check as written (`expect.distribution` in the YAML; the code
//! calls it the split): which values make an answer's category, the
//! weights, the tolerance and the error rates, checked.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use super::defaults::{
    FALSE_FAIL, FALSE_PASS, MAX_ERROR_PROBABILITY, MAX_TOLERANCE, MIN_ERROR_PROBABILITY,
    MIN_TOLERANCE, TOLERANCE,
};
use crate::language::yaml::Spanned;
use crate::model::validator::Validator;

/// The extracted values that make an answer's category: one name, or a list
/// whose values are joined with `/` (`[status, color]` gives `200/blue`).
#[derive(Debug, Clone, JsonSchema)]
#[serde(untagged)]
pub enum ValueNames {
    One(String),
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for ValueNames {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (names, one) = crate::language::options::one_or_many(
            d,
            "the name of an extracted value, or a list of names (e.g. `[status, color]`)",
        )?;
        Ok(if one {
            ValueNames::One(names.into_iter().next().unwrap_or_default())
        } else {
            ValueNames::Many(names)
        })
    }
}

impl ValueNames {
    fn names(&self) -> Vec<String> {
        match self {
            ValueNames::One(n) => vec![n.clone()],
            ValueNames::Many(v) => v.clone(),
        }
    }
}

/// Distribution check: e.g. `value: color`, `weights: {blue: 40, green: 40, yellow: 20}`.
// The schema keeps the YAML's name (`Distribution`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", rename = "Distribution")]
pub struct RawSplit {
    /// Name of an extracted value, or a list of names: an answer's category is
    /// their values joined with `/` (a value the answer lacks is left out), so
    /// `[status, color]` gives `200/blue` and, for a text answer, `403`.
    pub value: Spanned<ValueNames>,
    /// Expected weights per category; they must sum to 100.
    pub weights: Spanned<IndexMap<String, f64>>,
    /// Largest acceptable deviation of any category, in percentage points (default 10).
    pub tolerance: Option<Spanned<f64>>,
    /// Accepted probability of failing a correct split (default 0.00001, 1e-5:
    /// a nightly run of a hundred split checks goes red for nothing about once
    /// in a thousand nights).
    pub false_fail: Option<Spanned<f64>>,
    /// Accepted probability of passing a split off by more than the tolerance (default 0.01).
    pub false_pass: Option<Spanned<f64>>,
}

/// A validated split check.
#[derive(Debug, Clone)]
pub struct SplitSpec {
    /// The extracted values that make the category (joined with `/`).
    pub values: Vec<String>,
    pub weights: Vec<(String, f64)>,
    pub tolerance: f64,
    pub false_fail: f64,
    pub false_pass: f64,
}

pub(super) fn validate(
    cx: &mut Validator,
    d: &Spanned<RawSplit>,
    names: &[String],
) -> Option<SplitSpec> {
    let v = &d.value;
    let before = cx.diags.len();
    let values = v.value.value.names();
    if values.is_empty() {
        cx.error(v.value.loc, "`value` is an empty list")
            .expected("the name of an extracted value, or a list of names");
    }
    for name in &values {
        if names.contains(name) {
            continue;
        }
        let help = crate::language::diag::did_you_mean(name, names.iter().map(String::as_str));
        let diag = cx
            .error(v.value.loc, format!("unknown value `{name}`"))
            .expected(if names.is_empty() {
                "a name from the probe's `extract` (none is declared)".to_owned()
            } else {
                format!("a name from the probe's `extract`: {}", names.join(", "))
            });
        if let Some(h) = help {
            diag.help = Some(format!("did you mean `{h}`?"));
        }
    }
    let weights: Vec<(String, f64)> = v
        .weights
        .value
        .iter()
        .map(|(k, w)| (k.clone(), *w))
        .collect();
    if weights.is_empty() {
        cx.error(v.weights.loc, "`weights` is empty")
            .expected("at least one category with its weight");
    }
    for (k, w) in &weights {
        if !w.is_finite() || *w < 0.0 {
            cx.error(v.weights.loc, format!("weight of `{k}` is {w}"))
                .expected("a non-negative number");
        }
    }
    let sum: f64 = weights.iter().map(|(_, w)| w).sum();
    if !weights.is_empty() && (sum - 100.0).abs() > 1e-9 {
        cx.error(v.weights.loc, format!("weights sum to {sum}, not 100"))
            .expected("percentages that add up to 100, e.g. {blue: 40, green: 40, yellow: 20}");
    }
    let frac = |cx: &mut Validator, x: &Option<Spanned<f64>>, what: &str, default: f64| match x {
        Some(f) if !(f.value >= MIN_ERROR_PROBABILITY && f.value < MAX_ERROR_PROBABILITY) => {
            cx.error(
                f.loc,
                format!(
                    "`{what}` must be a probability from {MIN_ERROR_PROBABILITY:e} to {MAX_ERROR_PROBABILITY}, found {:e}",
                    f.value
                ),
            );
            default
        }
        Some(f) => f.value,
        None => default,
    };
    let tolerance = match &v.tolerance {
        Some(t) if !(t.value >= MIN_TOLERANCE && t.value < MAX_TOLERANCE) => {
            cx.error(
                t.loc,
                format!(
                    "`tolerance` must be from {MIN_TOLERANCE} to {MAX_TOLERANCE} percentage points, found {:e}",
                    t.value
                ),
            );
            TOLERANCE
        }
        Some(t) => t.value,
        None => TOLERANCE,
    };
    let false_fail = frac(cx, &v.false_fail, "falseFail", FALSE_FAIL);
    let false_pass = frac(cx, &v.false_pass, "falsePass", FALSE_PASS);
    (cx.diags.len() == before).then_some(SplitSpec {
        values,
        weights,
        tolerance,
        false_fail,
        false_pass,
    })
}

