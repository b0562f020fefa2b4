//! The split check as written (`expect.distribution` in the YAML; the code
//! calls it the split): which values make an answer's category, the
//! weights, the tolerance and the error rates, checked.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use super::defaults::{
    FALSE_FAIL, FALSE_PASS, MAX_ERROR_PROBABILITY, MAX_TOLERANCE, MIN_ERROR_PROBABILITY,
    MAX_CATEGORIES, MIN_TOLERANCE, TOLERANCE,
};
use crate::language::yaml::{Loc, Spanned};
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

/// The weights as written: a mapping, or a template computing one.
#[derive(Debug, Clone, JsonSchema)]
#[serde(untagged, rename = "Weights")]
pub enum RawWeights {
    /// Category -> weight in percent.
    Fixed(IndexMap<String, f64>),
    /// A template that renders such a mapping (`"{{ weights }}"`).
    Computed(String),
}

impl<'de> Deserialize<'de> for RawWeights {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawWeights;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(
                    "a mapping of category -> weight (e.g. `{blue: 40, green: 60}`), or a template that renders one (`\"{{ weights }}\"`)",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(RawWeights::Computed(v.to_owned()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut w = IndexMap::new();
                while let Some((k, v)) = map.next_entry::<String, f64>()? {
                    w.insert(k, v);
                }
                Ok(RawWeights::Fixed(w))
            }
        }
        d.deserialize_any(V)
    }
}

/// Weights computed at run time: the template and where it is written.
#[derive(Debug, Clone)]
pub struct ComputedWeights {
    pub template: String,
    pub loc: Loc,
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
    /// Expected weights per category; they must sum to 100. Or a template
    /// that renders such a mapping at run time (from a capture or an export,
    /// e.g. `"{{ weights }}"`), checked when it is rendered.
    pub weights: Spanned<RawWeights>,
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
    /// The weights (empty while `computed` is not rendered yet).
    pub weights: Vec<(String, f64)>,
    /// Weights that a template computes at run time.
    pub computed: Option<ComputedWeights>,
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
    let (weights, computed) = weights(cx, &v.weights);
    for problem in weights.as_deref().map(weight_problems).unwrap_or_default() {
        cx.error(v.weights.loc, problem.message).expected(problem.expected);
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
        weights: weights.unwrap_or_default(),
        computed,
        tolerance,
        false_fail,
        false_pass,
    })
}


/// The weights known before the run (a mapping, or a template that reads no
/// capture or export), else the template to render at run time (`None`
/// for both: an error was recorded).
fn weights(
    cx: &mut Validator,
    w: &Spanned<RawWeights>,
) -> (Option<Vec<(String, f64)>>, Option<ComputedWeights>) {
    let template = match &w.value {
        RawWeights::Fixed(m) => {
            return (Some(m.iter().map(|(k, x)| (k.clone(), *x)).collect()), None);
        }
        RawWeights::Computed(t) => Spanned {
            value: t.clone(),
            loc: w.loc,
        },
    };
    let Some(expr) = crate::language::template::whole_expression(&template.value) else {
        cx.error(w.loc, format!("`weights` is the text `{}`", crate::language::limits::excerpt(&template.value)))
            .expected("a mapping of category -> weight, or one template `{{ ... }}` that renders one");
        return (None, None);
    };
    if !cx.template(&template, &std::collections::BTreeSet::new()) {
        return (None, None);
    }
    let computed = ComputedWeights {
        template: template.value.clone(),
        loc: w.loc,
    };
    if cx.uses_captures(&template.value) {
        return (None, Some(computed));
    }
    // Known now: checked as if written out.
    let ctx = cx.preview_value();
    match crate::language::template::eval_value(&cx.env, expr, &ctx) {
        Ok(value) => match weights_of(&value) {
            Ok(weights) => (Some(weights), None),
            Err(p) => {
                cx.error(w.loc, format!("`weights` {}", p.message)).expected(p.expected);
                (None, None)
            }
        },
        Err(e) => {
            cx.error(w.loc, format!("`weights` does not render: {}", e.message))
                .expected("a template that renders a mapping of category -> weight");
            (None, None)
        }
    }
}

/// One thing wrong with weights: what was found, what was expected.
pub struct WeightProblem {
    pub message: String,
    pub expected: String,
}

fn problem(message: String, expected: &str) -> WeightProblem {
    WeightProblem {
        message,
        expected: expected.to_owned(),
    }
}

/// A number as a person reads it: `1e308`, not three hundred digits.
fn number(x: f64) -> String {
    if x.is_finite() && x != 0.0 && !(1e-6..1e9).contains(&x.abs()) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

/// A category as shown in a message: bounded, control characters escaped.
fn category(k: &str) -> String {
    crate::language::limits::excerpt(&k.escape_debug().to_string())
}

/// The weights a rendered value gives: a mapping of text to numbers (the
/// value's shape only; [`weight_problems`] checks the numbers).
///
/// # Errors
/// A value that is not such a mapping, or that has too many categories.
pub fn weights_of(value: &serde_json::Value) -> Result<Vec<(String, f64)>, WeightProblem> {
    const EXPECTED: &str = "a mapping of category -> weight in percent, e.g. {blue: 40, green: 60}";
    let serde_json::Value::Object(map) = value else {
        let kind = match value {
            serde_json::Value::Array(_) => "a list",
            serde_json::Value::String(_) => "text",
            serde_json::Value::Number(_) => "a number",
            serde_json::Value::Bool(_) => "a boolean",
            _ => "nothing (null)",
        };
        let shown = crate::language::limits::excerpt(&value.to_string());
        return Err(problem(format!("is {kind} (`{shown}`), not a mapping"), EXPECTED));
    };
    if map.len() > MAX_CATEGORIES {
        return Err(problem(
            format!("has {} categories, more than {MAX_CATEGORIES}", map.len()),
            &format!("at most {MAX_CATEGORIES} categories"),
        ));
    }
    map.iter()
        .map(|(k, x)| match x.as_f64() {
            Some(w) => Ok((k.clone(), w)),
            None => Err(problem(
                format!(
                    "gives `{}` the weight `{}`, which is not a number",
                    category(k),
                    crate::language::limits::excerpt(&x.to_string())
                ),
                "a number of percent for every category",
            )),
        })
        .collect()
}

/// What is wrong with a split's weights, one problem a line: none, too
/// many categories, a weight that is negative, not finite or over 100, or a
/// sum other than 100 (all zero included).
#[must_use]
pub fn weight_problems(weights: &[(String, f64)]) -> Vec<WeightProblem> {
    let mut found = Vec::new();
    if weights.is_empty() {
        found.push(problem("`weights` is empty".to_owned(), "at least one category with its weight"));
        return found;
    }
    if weights.len() > MAX_CATEGORIES {
        found.push(problem(
            format!("`weights` has {} categories, more than {MAX_CATEGORIES}", weights.len()),
            &format!("at most {MAX_CATEGORIES} categories"),
        ));
        return found;
    }
    let mut bad = false;
    for (k, w) in weights {
        let expected = if !w.is_finite() || *w < 0.0 {
            "a non-negative number"
        } else if *w > 100.0 {
            "a number of percent, at most 100"
        } else {
            continue;
        };
        bad = true;
        found.push(problem(format!("weight of `{}` is {}", category(k), number(*w)), expected));
    }
    let sum: f64 = weights.iter().map(|(_, w)| w).sum();
    if !bad && (sum - 100.0).abs() > 1e-9 {
        found.push(problem(
            format!("weights sum to {}, not 100", number(sum)),
            "percentages that add up to 100, e.g. {blue: 40, green: 40, yellow: 20}",
        ));
    }
    found
}

impl SplitSpec {
    /// The split with its computed weights rendered and checked.
    ///
    /// # Errors
    /// Errored (no request is sent) when the template does not render or
    /// renders weights that are not a mapping of 100 percent; the message
    /// names where the weights are written.
    pub fn rendered(&self, cx: &crate::model::action::StepCx<'_>) -> Result<SplitSpec, crate::model::action::StepError> {
        let Some(c) = &self.computed else {
            return Ok(self.clone());
        };
        let at = format!("the weights at {}:{}:{} (`{}`)", cx.file, c.loc.line, c.loc.col, crate::language::limits::excerpt(&c.template));
        let fail = |what: String| {
            crate::model::action::StepError::Errored(format!("{what}; no request was sent"))
        };
        let expr = crate::language::template::whole_expression(&c.template).unwrap_or(&c.template);
        let value = crate::language::template::eval_value(cx.env, expr, &cx.ctx)
            .map_err(|e| fail(format!("{at} do not render: {}", e.message)))?;
        let weights = weights_of(&value).map_err(|p| fail(format!("{at}: the value {}; expected {}", p.message, p.expected)))?;
        if let Some(p) = weight_problems(&weights).into_iter().next() {
            return Err(fail(format!("{at}: {}; expected {}", p.message, p.expected)));
        }
        Ok(SplitSpec {
            weights,
            computed: None,
            ..self.clone()
        })
    }
}
