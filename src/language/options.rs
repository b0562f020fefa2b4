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
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a cluster name or a list of cluster names")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(v.to_owned()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<OneOrMany, A::Error> {
                let mut v = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    v.push(s);
                }
                Ok(OneOrMany::Many(v))
            }
        }
        d.deserialize_any(V)
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
