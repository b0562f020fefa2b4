//! `requests`: a number, or a template computing one from what earlier steps
//! captured or earlier chapters exported. A template known before the run
//! (vars only) is checked like a number; one that reads a capture or an export
//! is rendered and checked when the step starts, before the first request.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::language::limits;
use crate::language::template::{eval_value, whole_expression};
use crate::language::yaml::{Loc, Spanned};
use crate::model::action::{StepCx, StepError};
use crate::model::validator::Validator;

/// The number of requests as written.
#[derive(Debug, Clone, JsonSchema)]
#[serde(untagged, rename = "Requests")]
pub enum RawRequests {
    /// How many requests.
    Count(u32),
    /// A template that renders a whole number (`"{{ expected_calls }}"`).
    Computed(String),
}

impl<'de> Deserialize<'de> for RawRequests {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = RawRequests;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("u32")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RawRequests, E> {
                u32::try_from(v)
                    .map(RawRequests::Count)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(v), &self))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RawRequests, E> {
                u32::try_from(v)
                    .map(RawRequests::Count)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(v), &self))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawRequests, E> {
                Ok(RawRequests::Computed(v.to_owned()))
            }
        }
        d.deserialize_any(V)
    }
}

/// `requests` computed when the step runs: the template and where it is.
#[derive(Debug, Clone)]
pub struct ComputedRequests {
    pub template: String,
    pub loc: Loc,
    /// `eventually` without a `window`: the window is the rendered number.
    pub window_from_requests: bool,
}

/// What the validation knows of `requests`: the number, or (`Computed`) the
/// template to render at run time.
pub enum Requests {
    Known(Option<Spanned<u32>>),
    Computed(ComputedRequests),
}

fn expected(max: u32) -> String {
    format!("a whole number of requests from 1 to {max}, or one template `{{{{ ... }}}}` that renders one")
}

/// Reads `requests`: a number as written, a template over vars rendered now,
/// else a template over captures or exports kept for the run. `None` when
/// an error was recorded.
pub fn validate(cx: &mut Validator, r: Option<&Spanned<RawRequests>>, eventually_window: Option<Option<u32>>) -> Option<Requests> {
    let Some(r) = r else {
        return Some(Requests::Known(None));
    };
    let t = match &r.value {
        RawRequests::Count(n) => return Some(Requests::Known(Some(Spanned { value: *n, loc: r.loc }))),
        RawRequests::Computed(t) => t,
    };
    let Some(expr) = whole_expression(t) else {
        cx.error(r.loc, format!("`requests` is the text `{}`", limits::excerpt(t)))
            .expected(expected(limits::MAX_REQUESTS));
        return None;
    };
    let template = Spanned { value: t.clone(), loc: r.loc };
    if !cx.template(&template, &std::collections::BTreeSet::new()) {
        return None;
    }
    if cx.uses_captures(t) {
        return Some(Requests::Computed(ComputedRequests {
            template: t.clone(),
            loc: r.loc,
            window_from_requests: matches!(eventually_window, Some(None)),
        }));
    }
    let value = match eval_value(&cx.env, expr, &cx.preview_value()) {
        Ok(v) => v,
        Err(e) => {
            cx.error(r.loc, format!("`requests` does not render: {}", e.message))
                .expected(expected(limits::MAX_REQUESTS));
            return None;
        }
    };
    match count_of(&value) {
        Ok(n) => Some(Requests::Known(Some(Spanned { value: n, loc: r.loc }))),
        Err(found) => {
            cx.error(r.loc, format!("`requests` renders {found}"))
                .expected(expected(limits::MAX_REQUESTS));
            None
        }
    }
}

/// A rendered value as a count of requests in range, else what it is.
fn count_of(v: &serde_json::Value) -> Result<u32, String> {
    use serde_json::Value;
    let shown = || limits::excerpt(&v.to_string());
    let n: i128 = match v {
        Value::Number(x) => match (x.as_i64(), x.as_u64(), x.as_f64()) {
            (Some(i), _, _) => i128::from(i),
            (_, Some(u), _) => i128::from(u),
            // A whole float (`300.0`) counts; 1e308 is out of range below.
            (_, _, Some(f)) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e30 => f as i128,
            _ => return Err(format!("{}, not a whole number", shown())),
        },
        Value::String(t) => t
            .trim()
            .parse::<i128>()
            .map_err(|_| format!("the text `{}`, not a whole number", limits::excerpt(t)))?,
        Value::Null => return Err("nothing (null), not a whole number".to_owned()),
        Value::Bool(_) => return Err(format!("{}, not a whole number", shown())),
        Value::Array(_) => return Err(format!("a list (`{}`), not a whole number", shown())),
        Value::Object(_) => return Err(format!("a mapping (`{}`), not a whole number", shown())),
    };
    u32::try_from(n)
        .ok()
        .filter(|n| (1..=limits::MAX_REQUESTS).contains(n))
        .ok_or_else(|| format!("{n}, out of range"))
}

impl ComputedRequests {
    /// The rendered count and the window that follows from it (`window`: the
    /// one written, if any).
    ///
    /// # Errors
    /// Errored (no request is sent) when the template does not render a
    /// whole number in range, or renders fewer requests than the window; the
    /// message names where `requests` is written.
    pub fn render(&self, window: Option<u32>, cx: &StepCx<'_>) -> Result<(u32, Option<u32>), StepError> {
        let at = format!(
            "`requests` at {}:{}:{} (`{}`)",
            cx.file,
            self.loc.line,
            self.loc.col,
            limits::excerpt(&self.template)
        );
        let fail = |what: String| StepError::Errored(format!("{what}; no request was sent"));
        let expr = whole_expression(&self.template).unwrap_or(&self.template);
        let value = eval_value(cx.env, expr, &cx.ctx)
            .map_err(|e| fail(format!("{at} does not render: {}", e.message)))?;
        let n = count_of(&value).map_err(|found| {
            fail(format!("{at} renders {found}; expected {}", expected(limits::MAX_REQUESTS)))
        })?;
        let window = if self.window_from_requests { Some(n) } else { window };
        if let Some(w) = window.filter(|w| *w > n) {
            return Err(fail(format!("{at} renders {n}, fewer than `eventually.window` ({w})")));
        }
        Ok((n, window))
    }
}
