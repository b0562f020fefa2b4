//! `probe`: send N HTTP requests, extract values, assert on them, and check
//! that answers split as the weights say.

use std::collections::BTreeSet;
use std::time::Duration;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use super::defaults::{
    CONCURRENCY, MAX_ERROR_RATE, METHOD, METHODS, MIN_SPLIT_REQUESTS, REQUEST_TIMEOUT, REQUESTS,
    STATUS,
};
use crate::language::limits;
use crate::model::check::{Check, RawCheck};
use crate::model::validator::Validator;
use crate::language::yaml::Spanned;

pub use super::extract::{Extract, ExtractFrom, RawExtract, RawExtractSpec};

/// Send HTTP requests and assert on the answers.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", rename = "Probe")]
pub struct RawProbe {
    /// URL (a template), e.g. `http://{{ ingress }}/api`.
    pub url: Spanned<String>,
    /// HTTP method (default GET).
    pub method: Option<Spanned<String>>,
    /// Request headers (values are templates; secrets are redacted in output).
    #[serde(default)]
    pub headers: IndexMap<String, Spanned<String>>,
    /// Request body (a template).
    pub body: Option<Spanned<String>>,
    /// Number of requests (the maximum, when a sequential check can stop early), 1 to 1,000,000. Default 100.
    /// Or a template that renders the number, from vars, captures or exports (`"{{ calls }}"`).
    #[schemars(range(min = 1, max = 1_000_000))]
    pub requests: Option<Spanned<super::requests::RawRequests>>,
    /// Requests in flight at once, 1 to 256 (default 8).
    #[schemars(range(min = 1, max = 256))]
    pub concurrency: Option<Spanned<u32>>,
    /// At most this many requests (`200/s`, `600/m`, or a number per second), to be
    /// polite to a shared ingress or a rate limiter; default: `defaults.rate`,
    /// else as fast as `concurrency` allows.
    pub rate: Option<Spanned<crate::language::options::RateText>>,
    /// Timeout of each request (default 5s).
    pub request_timeout: Option<Spanned<crate::language::options::DurationText>>,
    /// TLS settings (verification is on by default).
    pub tls: Option<RawTls>,
    /// The longest answer body read (`512KiB`, `4MiB`, or bytes; default 1MiB,
    /// at most 64MiB). A longer body is an error for that answer.
    pub max_body: Option<Spanned<crate::language::size::ByteSize>>,
    /// Named values extracted from each answer: name -> a JSONPath on the JSON body
    /// (`$.color`), or `{jsonpath | header | status | body, regex}`.
    #[serde(default)]
    pub extract: IndexMap<String, Spanned<RawExtract>>,
    /// What the answers must satisfy.
    pub expect: Option<Spanned<RawExpect>>,
    /// Keep sampling until the expectations hold or the step times out,
    /// judging only the most recent answers.
    pub eventually: Option<Spanned<RawEventually>>,
}

/// TLS options.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", rename = "Tls")]
pub struct RawTls {
    /// PEM file with the CA to trust (relative to the playbook).
    pub ca: Option<Spanned<String>>,
    /// Skip certificate verification (explicit opt-in; never the default).
    #[serde(default)]
    pub insecure_skip_verify: bool,
}

/// Expectations on the answers.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", rename = "Expect")]
pub struct RawExpect {
    /// Accepted status codes (default [200]).
    pub status: Option<Vec<u16>>,
    /// Highest accepted fraction of failed requests (errors or unaccepted status), 0..1. Default 0.
    pub max_error_rate: Option<Spanned<f64>>,
    /// Latency percentiles that must not be exceeded, e.g. `{p50: 50ms, p99: 500ms}`.
    #[serde(default)]
    pub latency: IndexMap<String, Spanned<crate::language::options::DurationText>>,
    /// Checks every answer must pass.
    #[serde(default)]
    pub each: Vec<Spanned<RawCheck>>,
    /// Checks no answer may pass: the first answer that passes one fails the step at
    /// once (e.g. a canary answer while the canary should get no traffic).
    #[serde(default)]
    pub never: Vec<Spanned<RawCheck>>,
    /// A categorical value must follow these weights.
    #[serde(rename = "distribution")]
    pub split: Option<Spanned<super::split_spec::RawSplit>>,
}

/// Keep probing until the expectations hold.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", rename = "Eventually")]
pub struct RawEventually {
    /// Number of most recent answers judged (default: `requests`).
    pub window: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct Probe {
    pub url: String,
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    pub requests: u32,
    /// `requests` a template computes when the step runs (then `requests`
    /// above is only the upper bound the validation used).
    pub requests_computed: Option<super::requests::ComputedRequests>,
    pub concurrency: u32,
    /// Requests per second at most.
    pub rate: Option<f64>,
    pub request_timeout: Duration,
    /// The longest body read; where it is set (`None`: the default).
    pub max_body: u64,
    pub max_body_loc: Option<crate::language::yaml::Loc>,
    pub ca: Option<std::path::PathBuf>,
    pub insecure_skip_verify: bool,
    pub extract: Vec<(String, Extract)>,
    pub status: Vec<u16>,
    pub max_error_rate: f64,
    pub latency: Vec<(f64, Duration)>,
    pub each: Vec<Check>,
    pub never: Vec<Check>,
    /// The split check (`expect.distribution`).
    pub split: Option<super::split_spec::SplitSpec>,
    pub eventually_window: Option<u32>,
}

/// Why a rendered URL can never be requested, if it cannot.
pub(super) fn url_problem(url: &str) -> Option<String> {
    // `http:///api` parses as host `api`: an empty authority is no host.
    let rest = url.trim_start().split_once("://").map(|(_, r)| r);
    if rest.is_some_and(|r| r.is_empty() || r.starts_with(['/', '?', '#'])) {
        return Some("no host".to_owned());
    }
    match reqwest::Url::parse(url) {
        Err(e) => Some(e.to_string()),
        Ok(u) if !matches!(u.scheme(), "http" | "https") => {
            Some(format!("the scheme is `{}`", u.scheme()))
        }
        Ok(u) if u.host_str().is_none_or(str::is_empty) => Some("no host".to_owned()),
        Ok(_) if url.chars().any(char::is_whitespace) => Some("it contains white space".to_owned()),
        Ok(_) => None,
    }
}

/// Reads and checks a probe in phases, in the order of its YAML: what is
/// sent, how many and how fast, the body cap and TLS, what is extracted,
/// what is expected, then `eventually`.
pub(super) fn validate(cx: &mut Validator, raw: &Spanned<RawProbe>, extra: &BTreeSet<String>) -> Option<Probe> {
    let r = &raw.value;
    let before = cx.diags.len();
    let method = check_request(cx, r, extra);
    let pace = pace(cx, r);
    let max_body = max_body(cx, r);
    let (ca, insecure) = tls(cx, r);
    let (extract, names, typed) = super::extract::extractions(cx, &r.extract);
    let x = r
        .expect
        .as_ref()
        .map(|e| validate_expect(cx, e, r, &typed, &names, pace.requests))
        .unwrap_or_default();
    let eventually_window = r.eventually.as_ref().map(|ev| {
        let w = ev.value.window.unwrap_or(pace.requests);
        if w == 0 || (w > pace.requests && pace.requests_computed.is_none()) {
            cx.error(
                ev.loc,
                format!(
                    "`eventually.window` must be between 1 and `requests` ({}), found {w}",
                    pace.requests
                ),
            );
        }
        w
    });
    (cx.diags.len() == before).then(|| Probe {
        url: r.url.value.clone(),
        method,
        headers: r
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect(),
        body: r.body.as_ref().map(|b| b.value.clone()),
        requests: pace.requests,
        requests_computed: pace.requests_computed,
        concurrency: pace.concurrency,
        rate: pace.rate,
        request_timeout: pace.request_timeout,
        max_body,
        max_body_loc: r.max_body.as_ref().map(|m| m.loc),
        ca,
        insecure_skip_verify: insecure,
        extract,
        status: x.status.unwrap_or_else(|| STATUS.to_vec()),
        max_error_rate: x.max_error_rate,
        latency: x.latency,
        each: x.each,
        never: x.never,
        split: x.split,
        eventually_window,
    })
}

/// What is sent: the URL, the method (returned, upper case), the headers
/// (secret ones remembered for redaction; a value is never quoted) and the
/// body's template.
fn check_request(cx: &mut Validator, r: &RawProbe, extra: &BTreeSet<String>) -> String {
    if let Some(url) = cx.known_value(&r.url, extra) {
        if let Some(problem) = url_problem(&url) {
            cx.error(r.url.loc, format!("invalid URL `{}`: {problem}", limits::excerpt(&url)))
                .expected("an http:// or https:// URL with a host, e.g. `http://{{ ingress }}/api`");
        }
    } else if !r.url.value.trim_start().starts_with("http://")
        && !r.url.value.trim_start().starts_with("https://")
        && !r.url.value.trim_start().starts_with("{{")
    {
        cx.error(r.url.loc, format!("invalid URL `{}`", limits::excerpt(&r.url.value)))
            .expected("an http:// or https:// URL");
    }
    let method = r
        .method
        .as_ref()
        .map_or_else(|| METHOD.to_owned(), |m| m.value.to_uppercase());
    if let Some(m) = &r.method
        && !METHODS.contains(&method.as_str())
    {
        cx.error(m.loc, format!("unknown HTTP method `{}`", m.value))
            .expected(format!("one of {}", METHODS.join(", ")));
    }
    for (name, v) in &r.headers {
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            cx.error(v.loc, format!("invalid header name `{}`", limits::excerpt(name)))
                .expected("a token such as `Authorization` or `X-Request-Id` (no spaces or `:`)");
        }
        let value = cx.known_value(v, extra);
        if let Some(text) = &value
            && crate::language::secrets::is_secret_header(name)
        {
            cx.secrets.add(text);
        }
        if let Some(text) = value
            && http::HeaderValue::from_str(&text).is_err()
        {
            // The value is never quoted: a header may carry a token.
            cx.error(v.loc, format!("header `{name}` has an invalid value: {}", bad_char(&text)))
                .expected("visible text without newlines or control characters");
        }
    }
    if let Some(b) = &r.body {
        cx.known_value(b, extra);
    }
    method
}

/// How many requests, how many at once, how fast, and how long each may take.
struct Pace {
    requests: u32,
    requests_computed: Option<super::requests::ComputedRequests>,
    concurrency: u32,
    rate: Option<f64>,
    request_timeout: Duration,
}

/// `requests`, `rate` (else `defaults.rate`), `concurrency`, `requestTimeout`.
fn pace(cx: &mut Validator, r: &RawProbe) -> Pace {
    let bounded = |cx: &mut Validator,
                   v: &Option<Spanned<u32>>,
                   what: &str,
                   default: u32,
                   max: u32| match v {
        Some(n) if n.value == 0 || n.value > max => {
            cx.error(n.loc, format!("`{what}` is {}, out of range", n.value))
                .expected(format!("1 to {max} (the limit is in docs/limits.md)"));
            default
        }
        Some(n) => n.value,
        None => default,
    };
    let window = r.eventually.as_ref().map(|e| e.value.window);
    let (requests, requests_computed) = match super::requests::validate(cx, r.requests.as_ref(), window) {
        Some(super::requests::Requests::Known(n)) => {
            (bounded(cx, &n, "requests", REQUESTS, limits::MAX_REQUESTS), None)
        }
        // Checks before the run take the most a template may render.
        Some(super::requests::Requests::Computed(c)) => (limits::MAX_REQUESTS, Some(c)),
        None => (REQUESTS, None),
    };
    let rate = match &r.rate {
        Some(x) => cx.rate(x),
        None => cx.default_rate,
    };
    let concurrency = bounded(cx, &r.concurrency, "concurrency", CONCURRENCY, limits::MAX_CONCURRENCY);
    let request_timeout = match r.request_timeout.as_ref().map(|t| (t, cx.duration(t))) {
        Some((t, Some(d))) if d.is_zero() => {
            cx.error(t.loc, "`requestTimeout` is 0: every request would time out")
                .expected("a duration of more than 0, e.g. `5s`");
            d
        }
        Some((_, d)) => d.unwrap_or(REQUEST_TIMEOUT),
        None => REQUEST_TIMEOUT,
    };
    Pace {
        requests,
        requests_computed,
        concurrency,
        rate,
        request_timeout,
    }
}

/// `maxBody` in bytes (the default when absent or wrong; wrong is an error).
fn max_body(cx: &mut Validator, r: &RawProbe) -> u64 {
    match &r.max_body {
        None => limits::DEFAULT_MAX_BODY,
        Some(m) => match crate::language::size::parse_size(&m.value) {
            Ok(n) if (1..=limits::MAX_BODY).contains(&n) => n,
            Ok(n) => {
                cx.error(m.loc, format!("`maxBody` is {n} bytes, out of range"))
                    .expected("1 byte to 64MiB (the limit is in docs/limits.md)");
                limits::DEFAULT_MAX_BODY
            }
            Err(why) => {
                cx.error(m.loc, format!("invalid `maxBody`: {why}"))
                    .expected("a size such as `512KiB`, `4MiB` or a number of bytes");
                limits::DEFAULT_MAX_BODY
            }
        },
    }
}

/// The validated `expect` of a probe.
struct Expectations {
    status: Option<Vec<u16>>,
    max_error_rate: f64,
    latency: Vec<(f64, Duration)>,
    each: Vec<Check>,
    never: Vec<Check>,
    split: Option<super::split_spec::SplitSpec>,
}

impl Default for Expectations {
    /// What a probe without `expect` (or a part of it) expects.
    fn default() -> Self {
        Expectations {
            status: None,
            max_error_rate: MAX_ERROR_RATE,
            latency: Vec::new(),
            each: Vec::new(),
            never: Vec::new(),
            split: None,
        }
    }
}

fn validate_expect(
    cx: &mut Validator,
    e: &Spanned<RawExpect>,
    r: &RawProbe,
    typed: &[(String, crate::model::check::ValueType)],
    names: &[String],
    requests: u32,
) -> Expectations {
    let mut x = Expectations::default();
    let e_loc = e.loc;
    let e = &e.value;
    if let Some(s) = &e.status {
        if let Some(bad) = s.iter().find(|c| !(100..=599).contains(*c)) {
            cx.error(e_loc, format!("status {bad} is not an HTTP status code"))
                .expected("codes from 100 to 599, e.g. `status: [200, 204]`");
        }
        x.status = Some(s.clone());
    }
    if let Some(m) = &e.max_error_rate {
        if !(0.0..=1.0).contains(&m.value) {
            cx.error(
                m.loc,
                format!("`maxErrorRate` must be between 0 and 1, found {}", m.value),
            )
            .expected("a fraction, e.g. 0.01 for 1%");
        }
        x.max_error_rate = m.value;
    }
    for (p, d) in &e.latency {
        let pct = p
            .strip_prefix('p')
            .and_then(|x| x.parse::<f64>().ok())
            .filter(|x| *x > 0.0 && *x <= 100.0);
        match pct {
            Some(pct) => {
                if let Some(d) = cx.duration(d) {
                    x.latency.push((pct, d));
                }
            }
            None => {
                cx.error(d.loc, format!("unknown percentile `{p}`"))
                    .expected("`p50`, `p90`, `p99`, `p99.9`, ...");
            }
        }
    }
    x.each = e
        .each
        .iter()
        .filter_map(|c| crate::model::check::validate(cx, c, Some(typed)))
        .collect();
    x.never = e
        .never
        .iter()
        .filter_map(|c| crate::model::check::validate(cx, c, Some(typed)))
        .collect();
    if let Some(d) = &e.split {
        x.split = super::split_spec::validate(cx, d, names);
        // Too few requests: the test often stops undecided, and a verdict it
        // leans to carries no stated error rate.
        if x.split.is_some() && requests < MIN_SPLIT_REQUESTS && r.eventually.is_none() {
            let loc = r.requests.as_ref().map_or(d.loc, |n| n.loc);
            cx.warn(
                loc,
                format!(
                    "a split check with {requests} requests will often stop before it decides (about 400 answers on average for three categories, 1000 for the slowest 1%)"
                ),
            )
            .expected(format!("`requests: {MIN_SPLIT_REQUESTS}` or more (a decided test stops early)"));
        }
    }
    x
}

/// The CA file (under the playbook's directory) and the opt-out of verification.
fn tls(cx: &mut Validator, r: &RawProbe) -> (Option<std::path::PathBuf>, bool) {
    let mut ca = None;
    let mut insecure = false;
    if let Some(tls) = &r.tls {
        insecure = tls.insecure_skip_verify;
        if let Some(c) = &tls.ca {
            let p = cx.dir.join(&c.value);
            if !p.is_file() {
                cx.error(
                    c.loc,
                    format!("CA file `{}` not found next to the playbook", limits::excerpt(&c.value)),
                );
            } else if !cx.under_root(&p) {
                // As manifests: a playbook reads no file outside its root.
                cx.error(
                    c.loc,
                    format!(
                        "CA file `{}` is outside the root {}",
                        limits::excerpt(&c.value),
                        crate::language::source::display_path(&cx.root)
                    ),
                )
                .expected("a path under the root; widen it with `root:` in the playbook or `--root DIR`");
            } else {
                ca = Some(p);
            }
        }
    }
    (ca, insecure)
}

/// Where a header value goes wrong, without quoting it: the first character
/// HTTP refuses and its position.
pub(super) fn bad_char(text: &str) -> String {
    text.chars()
        .enumerate()
        .find(|(_, c)| !(*c == '\t' || (' '..='~').contains(c)))
        .map_or_else(
            || "it is not visible ASCII text".to_owned(),
            |(i, c)| {
                let what = if c.is_control() { "a control character" } else { "not visible ASCII" };
                format!("character {} is {what} (U+{:04X})", i + 1, c as u32)
            },
        )
}
