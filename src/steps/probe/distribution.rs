//! The `distribution` expectation of a probe: which values make an answer's
//! category, the weights, the tolerance and the error rates, checked.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

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
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", rename = "Distribution")]
pub struct RawDistribution {
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

#[derive(Debug, Clone)]
pub struct Distribution {
    /// The extracted values that make the category (joined with `/`).
    pub values: Vec<String>,
    pub weights: Vec<(String, f64)>,
    pub tolerance: f64,
    pub false_fail: f64,
    pub false_pass: f64,
}

/// Default `falseFail`: 1e-5 per check (it costs a few answers, see `stats`).
pub const DEFAULT_FALSE_FAIL: f64 = 1e-5;
/// The smallest `falseFail`/`falsePass`: a smaller error probability is not
/// a number the test can keep (and far below any other risk of a run).
pub const MIN_ERROR_PROBABILITY: f64 = 1e-12;
/// The smallest `tolerance` (percentage points): a closer split needs more
/// answers than a probe may request.
pub const MIN_TOLERANCE: f64 = 0.1;

pub(super) fn validate(
    cx: &mut Validator,
    d: &Spanned<RawDistribution>,
    names: &[String],
) -> Option<Distribution> {
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
        Some(f) if !(f.value >= MIN_ERROR_PROBABILITY && f.value < 0.5) => {
            cx.error(
                f.loc,
                format!(
                    "`{what}` must be a probability from {MIN_ERROR_PROBABILITY:e} to 0.5, found {:e}",
                    f.value
                ),
            );
            default
        }
        Some(f) => f.value,
        None => default,
    };
    let tolerance = match &v.tolerance {
        Some(t) if !(t.value >= MIN_TOLERANCE && t.value < 50.0) => {
            cx.error(
                t.loc,
                format!(
                    "`tolerance` must be from {MIN_TOLERANCE} to 50 percentage points, found {:e}",
                    t.value
                ),
            );
            10.0
        }
        Some(t) => t.value,
        None => 10.0,
    };
    let false_fail = frac(cx, &v.false_fail, "falseFail", DEFAULT_FALSE_FAIL);
    let false_pass = frac(cx, &v.false_pass, "falsePass", 0.01);
    (cx.diags.len() == before).then_some(Distribution {
        values,
        weights,
        tolerance,
        false_fail,
        false_pass,
    })
}

