//! The validator's checks of one written value: durations and timeouts,
//! rates, regular expressions and JSONPath queries, each a located error
//! when it does not parse.

use std::time::Duration;

use crate::language::limits;
use crate::language::options;
use crate::language::yaml::{Loc, Spanned};
use crate::model::validator::Validator;

impl Validator {
    /// Parses a duration field.
    pub fn duration(&mut self, s: &Spanned<options::DurationText>) -> Option<Duration> {
        match options::parse_duration(&s.value.0) {
            Ok(d) => Some(d),
            Err(msg) => {
                let expected = if msg.contains("longer than the limit") {
                    "a duration of at most 24h (see docs/limits.md)"
                } else {
                    "a duration such as `500ms`, `30s`, `2m` or `1h30m`"
                };
                self.error(s.loc, msg).expected(expected);
                None
            }
        }
    }

    /// Requests per second of a rate (`200/s`, `600/m`, or a number).
    pub fn rate(&mut self, s: &Spanned<options::RateText>) -> Option<f64> {
        match options::parse_rate(&s.value) {
            Ok(r) => Some(r),
            Err(msg) => {
                self.error(s.loc, msg).expected(format!(
                    "a rate from one request a day (`1/d`) to {}/s, e.g. `200/s` or `600/m` (docs/limits.md)",
                    limits::MAX_RATE
                ));
                None
            }
        }
    }

    /// Checks that a regular expression compiles within the size limit;
    /// records a located error if not.
    pub fn regex(&mut self, pattern: &str, loc: Loc) -> bool {
        match options::compile_regex(pattern) {
            Ok(_) => true,
            Err(e) => {
                self.error(
                    loc,
                    format!(
                        "invalid regular expression `{}`: {}",
                        limits::excerpt(pattern),
                        options::regex_error(&e)
                    ),
                );
                false
            }
        }
    }

    /// Parses a timeout: a duration of more than zero.
    pub fn timeout(&mut self, s: &Spanned<options::DurationText>) -> Option<Duration> {
        let d = self.duration(s)?;
        if d.is_zero() {
            self.error(s.loc, "a timeout of 0 would fail every step at once")
                .expected("a duration of more than zero, such as `30s`");
            return None;
        }
        Some(d)
    }

    /// Checks that a JSONPath parses: RFC 9535, or kubectl's `{.a.b}` form.
    pub fn jsonpath(&mut self, s: &Spanned<String>) -> Option<()> {
        let query = match crate::language::jsonpath::to_rfc9535(&s.value) {
            Ok(q) => q.into_owned(),
            Err(why) => {
                self.error(
                    s.loc,
                    format!("kubectl JSONPath `{}`: {why}", limits::excerpt(&s.value)),
                )
                .expected("one query: `{.status.loadBalancer.ingress[0].ip}` or `$.status.loadBalancer.ingress[0].ip`");
                return None;
            }
        };
        let Err(e) = jsonpath_rust::parser::parse_json_path(&query) else {
            return Some(());
        };
        let text = e.to_string();
        // pest reports ` --> 1:COL`: point at that character of the query (when
        // the query is the one written, not a converted kubectl one).
        let col = text
            .split("--> 1:")
            .nth(1)
            .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|_| query == s.value);
        let shown = limits::excerpt(&s.value);
        let (loc, msg) = match col {
            Some(c) => (
                self.loc_in(s, c.saturating_sub(1)),
                format!("invalid JSONPath `{shown}`: syntax error at character {c}"),
            ),
            None => (
                s.loc,
                format!(
                    "invalid JSONPath `{shown}`: {}",
                    text.lines().next().unwrap_or("syntax error")
                ),
            ),
        };
        // A hint only when it is itself a valid query.
        let hint = (!s.value.starts_with('$') && !s.value.starts_with('{'))
            .then(|| {
                if s.value.starts_with('.') || s.value.starts_with('[') {
                    format!("${}", s.value)
                } else {
                    format!("$.{}", s.value)
                }
            })
            .filter(|h| jsonpath_rust::parser::parse_json_path(h).is_ok())
            .map(|h| {
                format!("JSONPath queries start with `$` (or are kubectl's `{{...}}`): `{h}`")
            });
        let d = self
            .error(loc, msg)
            .expected("an RFC 9535 JSONPath such as `$.status.loadBalancer.ingress[0].ip`, or kubectl's `{.status.loadBalancer.ingress[0].ip}`");
        d.help = hint;
        None
    }
}
