//! Small option structs shared by every step: target clusters, timeout, retry,
//! continue-on-error, a condition to skip, tags.

use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;

use super::yaml::Spanned;

/// One name or a list of names (`clusters: cluster1` or `clusters: [cluster1, cluster2]`).
#[derive(Debug, Clone, JsonSchema)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (names, one) = one_or_many(d, "a cluster name or a list of cluster names")?;
        Ok(if one {
            OneOrMany::One(names.into_iter().next().unwrap_or_default())
        } else {
            OneOrMany::Many(names)
        })
    }
}

/// Reads one string or a list of strings (`true`: it was one string);
/// `what` is the expectation a wrong type reports.
///
/// # Errors
/// Neither a string nor a list of strings.
pub fn one_or_many<'de, D: serde::Deserializer<'de>>(
    d: D,
    what: &'static str,
) -> Result<(Vec<String>, bool), D::Error> {
    struct V(&'static str);
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = (Vec<String>, bool);
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok((vec![v.to_owned()], true))
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut v = Vec::new();
            while let Some(s) = seq.next_element::<String>()? {
                v.push(s);
            }
            Ok((v, false))
        }
    }
    d.deserialize_any(V(what))
}

/// A request rate as written: `200/s`, `600/m`, `2/h`, `1/d`, or a bare number of
/// requests per second.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum RateText {
    PerSecond(f64),
    Text(String),
}

impl<'de> Deserialize<'de> for RateText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = RateText;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a rate such as `200/s` or `600/m`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RateText, E> {
                Ok(RateText::Text(v.to_owned()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RateText, E> {
                Ok(RateText::PerSecond(v as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RateText, E> {
                Ok(RateText::PerSecond(v as f64))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<RateText, E> {
                Ok(RateText::PerSecond(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// Requests per second of a rate, or why it is not one.
///
/// # Errors
/// Not a number, an unknown unit, or out of range.
pub fn parse_rate(r: &RateText) -> Result<f64, String> {
    let per_second = match r {
        RateText::PerSecond(x) => *x,
        RateText::Text(t) => {
            let (n, unit) = t.trim().split_once('/').unwrap_or((t.trim(), "s"));
            let n: f64 = n
                .trim()
                .parse()
                .map_err(|_| format!("`{}` is not a rate", super::limits::excerpt(t)))?;
            match unit.trim() {
                "s" | "sec" | "second" => n,
                "m" | "min" | "minute" => n / 60.0,
                "h" | "hour" => n / 3600.0,
                "d" | "day" => n / 86_400.0,
                other => {
                    return Err(format!(
                        "unknown unit `{}` in rate `{}`",
                        super::limits::excerpt(other),
                        super::limits::excerpt(t)
                    ));
                }
            }
        }
    };
    if (super::limits::MIN_RATE..=super::limits::MAX_RATE).contains(&per_second) {
        Ok(per_second)
    } else {
        let shown = match r {
            RateText::PerSecond(x) => format!("{x:e}/s"),
            RateText::Text(t) => super::limits::excerpt(t.trim()),
        };
        Err(format!("rate `{shown}` is out of range"))
    }
}

/// A duration as written: a string like `30s`; a bare number is read too, so
/// that its error can say which unit is missing.
#[derive(Debug, Clone, PartialEq, Eq, JsonSchema)]
#[schemars(transparent)]
pub struct DurationText(pub String);

impl<'de> Deserialize<'de> for DurationText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = DurationText;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a duration such as `30s`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DurationText, E> {
                Ok(DurationText(v.to_owned()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<DurationText, E> {
                Ok(DurationText(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<DurationText, E> {
                Ok(DurationText(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<DurationText, E> {
                Ok(DurationText(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// The useful line of a regex error (the last one: "unclosed group", ...).
#[must_use]
pub fn regex_error(e: &regex::Error) -> String {
    e.to_string()
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim().trim_start_matches("error: ").to_owned())
        .unwrap_or_default()
}

impl OneOrMany {
    #[must_use]
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// Retry policy: a failed or errored step is run again.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", rename = "Retry")]
pub struct RawRetry {
    /// Total number of attempts (1 = no retry; at most 100).
    #[schemars(range(min = 1, max = 100))]
    pub attempts: u32,
    /// Delay between attempts (e.g. `2s`); doubles each attempt when `backoff` is true.
    pub delay: Option<Spanned<DurationText>>,
    /// Exponential backoff (default false).
    #[serde(default)]
    pub backoff: bool,
}

/// Parses a duration like `500ms`, `30s`, `2m`, `1h30m`.
///
/// # Errors
/// A readable message when the text is not a duration.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if t.chars().all(|c| c.is_ascii_digit()) && !t.is_empty() {
        let t = super::limits::excerpt(t);
        return Err(format!(
            "`{t}` has no unit: write `{t}s` for seconds or `{t}ms` for milliseconds"
        ));
    }
    let shown = super::limits::excerpt(t);
    let d = humantime::parse_duration(t).map_err(|e| format!("invalid duration `{shown}`: {e}"))?;
    if d > super::limits::MAX_DURATION {
        return Err(format!(
            "duration `{shown}` is longer than the limit of {}h",
            super::limits::MAX_DURATION.as_secs() / 3600
        ));
    }
    Ok(d)
}

/// Compiles a regular expression within the size limit (a huge pattern is
/// refused instead of compiled).
///
/// # Errors
/// Syntax errors, or a pattern whose compiled form exceeds the limit.
pub fn compile_regex(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(pattern)
        .size_limit(super::limits::MAX_REGEX_BYTES)
        .build()
}
