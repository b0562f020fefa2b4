//! The probe engine: N HTTP requests with bounded concurrency over a
//! keep-alive pool, values extracted (JSONPath, header, status, body, regex), checks on every answer,
//! error rate, latency percentiles, and the sequential split check
//! ([`crate::stats`]).
//!
//! "Eventually" mode keeps sampling until the expectations hold or the step
//! times out. Status, error rate, latency and `each` checks are judged on the
//! last `window` answers only. The split check restarts whenever it decides
//! "off" (the mesh may still be converging), judging only the answers since
//! its last restart; attempt k may pass with probability at most
//! falsePass * 6 / (pi^2 k^2), so the chance of ever passing a wrong split
//! stays below falsePass however many attempts the timeout allows (the sum
//! over k is falsePass). The budget shrinks slowly, so a restart storm while
//! the mesh converges only makes later attempts a little longer.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::time::Duration;

use futures::StreamExt as _;
use futures::stream::FuturesUnordered;
use serde::Serialize;
use serde_json::Value;
use tokio::time::Instant;

use crate::assert::{Compiled, Query, expected_text, holds};
use crate::run::{Done, StepCx, StepError};
use crate::stats::{SplitTest, Verdict};
use crate::steps::probe::Probe;

/// Answers kept as samples for reports.
const SAMPLES: usize = 3;

/// One answer (or failure to get one).
#[derive(Debug, Clone)]
struct Record {
    status: Option<u16>,
    error: Option<String>,
    latency: Duration,
    /// Extracted values, in `extract` order.
    values: Vec<Option<Value>>,
    /// Results of the `each` checks, in order (`None`: not evaluated: not an accepted answer).
    checks: Vec<bool>,
    ok: bool,
}

/// A sample answer for the report (secrets redacted).
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    pub status: Option<u16>,
    pub error: Option<String>,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

/// Header names whose values never appear in output.
#[must_use]
pub fn is_secret_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie" | "x-api-key"
    ) || n.contains("token")
        || n.contains("secret")
        || n.contains("password")
        || n.contains("api-key")
}

/// A compiled extraction.
struct Extractor {
    from: From,
    regex: Option<regex::Regex>,
}

enum From {
    JsonPath(Compiled),
    Header(String),
    Status,
    Body,
}

impl Extractor {
    fn new(e: &crate::steps::probe::Extract) -> Result<Self, String> {
        use crate::steps::probe::ExtractFrom;
        Ok(Extractor {
            from: match &e.from {
                ExtractFrom::JsonPath(p) => From::JsonPath(Compiled::new(p)?),
                ExtractFrom::Header(h) => From::Header(h.clone()),
                ExtractFrom::Status => From::Status,
                ExtractFrom::Body => From::Body,
            },
            regex: e
                .regex
                .as_deref()
                .map(regex::Regex::new)
                .transpose()
                .map_err(|e| e.to_string())?,
        })
    }

    fn value(
        &self,
        status: u16,
        header: Option<&String>,
        json: Option<&Value>,
        body: &[u8],
    ) -> Option<Value> {
        let v = match &self.from {
            From::JsonPath(q) => json.and_then(|j| q.select(j)),
            From::Header(_) => header.map(|h| Value::String(h.clone())),
            From::Status => Some(Value::from(status)),
            From::Body => Some(Value::String(String::from_utf8_lossy(body).into_owned())),
        }?;
        let Some(re) = &self.regex else {
            return Some(v);
        };
        let text = match &v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let caps = re.captures(&text)?;
        caps.get(1)
            .or_else(|| caps.get(0))
            .map(|m| Value::String(m.as_str().to_owned()))
    }
}

struct Request<'a> {
    client: reqwest::Client,
    method: reqwest::Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
    extract: Vec<Extractor>,
    checks: Vec<(Option<Compiled>, Option<usize>, &'a crate::assert::Check)>,
    accepted: &'a [u16],
}

impl Request<'_> {
    async fn send(&self, want_sample: bool) -> (Record, Option<Sample>) {
        let started = Instant::now();
        let mut rb = self.client.request(self.method.clone(), &self.url);
        for (k, v) in &self.headers {
            rb = rb.header(k, v);
        }
        if let Some(b) = &self.body {
            rb = rb.body(b.clone());
        }
        let resp = match rb.send().await {
            Ok(r) => r,
            Err(e) => {
                let err = transport_error(&e, &self.url);
                let rec = Record {
                    status: None,
                    error: Some(err.clone()),
                    latency: started.elapsed(),
                    values: vec![None; self.extract.len()],
                    checks: vec![false; self.checks.len()],
                    ok: false,
                };
                let sample = want_sample.then(|| Sample {
                    status: None,
                    error: Some(err),
                    headers: BTreeMap::new(),
                    body: String::new(),
                });
                return (rec, sample);
            }
        };
        let status = resp.status().as_u16();
        let wanted_headers: Vec<Option<String>> = self
            .extract
            .iter()
            .map(|e| match &e.from {
                From::Header(h) => resp
                    .headers()
                    .get(h.as_str())
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
                _ => None,
            })
            .collect();
        let headers: BTreeMap<String, String> = if want_sample {
            resp.headers()
                .iter()
                .map(|(k, v)| {
                    let value = if is_secret_header(k.as_str()) {
                        "<redacted>".to_owned()
                    } else {
                        v.to_str().unwrap_or("<binary>").to_owned()
                    };
                    (k.as_str().to_owned(), value)
                })
                .collect()
        } else {
            BTreeMap::new()
        };
        let body = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => {
                let err = transport_error(&e, &self.url);
                return (
                    Record {
                        status: Some(status),
                        error: Some(err),
                        latency: started.elapsed(),
                        values: vec![None; self.extract.len()],
                        checks: vec![false; self.checks.len()],
                        ok: false,
                    },
                    None,
                );
            }
        };
        let latency = started.elapsed();
        let needs_json = self
            .extract
            .iter()
            .any(|e| matches!(e.from, From::JsonPath(_)))
            || self.checks.iter().any(|(p, _, _)| p.is_some());
        let json: Option<Value> = if needs_json {
            serde_json::from_slice(&body).ok()
        } else {
            None
        };
        let values: Vec<Option<Value>> = self
            .extract
            .iter()
            .zip(&wanted_headers)
            .map(|(e, h)| e.value(status, h.as_ref(), json.as_ref(), &body))
            .collect();
        let ok = self.accepted.contains(&status);
        let checks = self
            .checks
            .iter()
            .map(|(path, value, c)| {
                let actual = match (path, value) {
                    (Some(q), _) => json.as_ref().and_then(|j| q.select(j)),
                    (None, Some(i)) => values[*i].clone(),
                    (None, None) => None,
                };
                ok && holds(&c.predicate, actual.as_ref())
            })
            .collect();
        let sample = want_sample.then(|| Sample {
            status: Some(status),
            error: None,
            headers,
            body: String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned(),
        });
        (
            Record {
                status: Some(status),
                error: None,
                latency,
                values,
                checks,
                ok,
            },
            sample,
        )
    }
}

fn transport_error(e: &reqwest::Error, url: &str) -> String {
    let chain = crate::diag::error_chain(e);
    let lower = chain.to_lowercase();
    if lower.contains("certificate")
        || lower.contains("unknownissuer")
        || lower.contains("invalid peer certificate")
    {
        format!(
            "TLS verification failed for {url}: {chain} (trust a private CA with `tls.ca`, or opt out with `tls.insecureSkipVerify: true`)"
        )
    } else if e.is_timeout() {
        format!("request timed out: {chain}")
    } else if e.is_connect() {
        format!("cannot connect to {url}: {chain}")
    } else {
        chain
    }
}

fn client(p: &Probe) -> Result<reqwest::Client, StepError> {
    crate::install_crypto_provider();
    let mut b = reqwest::Client::builder()
        .timeout(p.request_timeout)
        .connect_timeout(p.request_timeout)
        .pool_max_idle_per_host(p.concurrency as usize)
        .tcp_nodelay(true)
        .user_agent(concat!("scenario/", env!("CARGO_PKG_VERSION")));
    if let Some(ca) = &p.ca {
        let pem = std::fs::read(ca).map_err(|e| {
            StepError::Errored(format!("cannot read CA file {}: {e}", ca.display()))
        })?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| StepError::Errored(format!("CA file {}: {e}", ca.display())))?;
        for c in certs {
            b = b.add_root_certificate(c);
        }
    }
    if p.insecure_skip_verify {
        b = b.danger_accept_invalid_certs(true);
    }
    b.build()
        .map_err(|e| StepError::Errored(format!("cannot build the HTTP client: {e}")))
}

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
}

fn value_key(v: Option<&Value>) -> String {
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

fn summarize<'r>(p: &Probe, recs: impl Iterator<Item = &'r Record>) -> Summary {
    let mut s = Summary {
        checks_passed: vec![0; p.each.len()],
        ..Summary::default()
    };
    let mut lat = Vec::new();
    for r in recs {
        s.answers += 1;
        if !r.ok {
            s.errors += 1;
        }
        let key = r
            .status
            .map_or_else(|| "error".to_owned(), |c| c.to_string());
        *s.statuses.entry(key).or_default() += 1;
        if r.status.is_some() {
            lat.push(r.latency.as_secs_f64() * 1000.0);
        }
        if r.ok {
            for (i, (name, _)) in p.extract.iter().enumerate() {
                *s.values
                    .entry(name.clone())
                    .or_default()
                    .entry(value_key(r.values[i].as_ref()))
                    .or_default() += 1;
            }
        }
        for (i, ok) in r.checks.iter().enumerate() {
            if *ok {
                s.checks_passed[i] += 1;
            }
        }
    }
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

/// Problems with a summary (empty: all expectations hold), except the split.
fn problems(p: &Probe, s: &Summary) -> Vec<String> {
    let mut out = Vec::new();
    if s.answers == 0 {
        out.push("no answer at all".to_owned());
        return out;
    }
    if s.error_rate > p.max_error_rate {
        out.push(format!(
            "error rate {:.1}% ({} of {}) exceeds {:.1}% (accepted status: {:?})",
            s.error_rate * 100.0,
            s.errors,
            s.answers,
            p.max_error_rate * 100.0,
            p.status
        ));
    }
    for (q, limit) in &p.latency {
        let got = s.latency_ms.get(&format!("p{q}")).copied().unwrap_or(0.0);
        if got > limit.as_secs_f64() * 1000.0 {
            out.push(format!(
                "latency p{q} is {got:.1} ms, expected at most {}",
                humantime::format_duration(*limit)
            ));
        }
    }
    let ok_answers = s.answers - s.errors;
    for (i, c) in p.each.iter().enumerate() {
        let passed = s.checks_passed[i];
        let need = (c.fraction * ok_answers as f64).ceil() as usize;
        if ok_answers == 0 || passed < need.max(1) {
            let what = match &c.query {
                Query::JsonPath(x) | Query::Value(x) => x.clone(),
            };
            let seen = s
                .values
                .get(&what)
                .map(|m| {
                    format!(
                        "; observed {}",
                        m.iter()
                            .map(|(k, v)| format!("{k} ×{v}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
                .unwrap_or_default();
            out.push(format!(
                "check {what} {}: {passed} of {ok_answers} answers passed, {} needed{seen}",
                expected_text(&c.predicate),
                need.max(1)
            ));
        }
    }
    out
}

/// The false-pass budget of attempt `k` (1-based): the terms sum to `total`.
fn spent(total: f64, k: u32) -> f64 {
    let k = f64::from(k);
    total * 6.0 / (std::f64::consts::PI * std::f64::consts::PI * k * k)
}

/// The split state: the running test and its restarts.
struct Split {
    value_index: usize,
    test: SplitTest,
    /// The last attempt that decided "off" (shown when the final one is undecided).
    last_off: Option<SplitTest>,
    attempt: u32,
    spec: crate::steps::probe::Distribution,
}

impl Split {
    fn new(p: &Probe) -> Option<Self> {
        let d = p.distribution.clone()?;
        let value_index = p.extract.iter().position(|(n, _)| *n == d.value)?;
        Some(Split {
            value_index,
            last_off: None,
            test: SplitTest::new(
                &d.weights,
                d.tolerance,
                d.false_fail,
                spent(d.false_pass, 1),
            ),
            attempt: 1,
            spec: d,
        })
    }

    fn restart(&mut self) {
        self.attempt += 1;
        self.last_off = Some(self.test.clone());
        let fp = spent(self.spec.false_pass, self.attempt);
        self.test = SplitTest::new(
            &self.spec.weights,
            self.spec.tolerance,
            self.spec.false_fail,
            fp,
        );
    }

    fn observe(&mut self, r: &Record) -> Verdict {
        if !r.ok {
            return self.test.verdict;
        }
        let key = value_key(r.values[self.value_index].as_ref());
        let i = self.test.index(&key);
        self.test.observe(i)
    }

    /// The attempt to show: the current one, or, when the timeout cut it
    /// short, the last one that decided.
    fn shown(&self) -> &SplitTest {
        match (&self.last_off, self.test.verdict) {
            (Some(off), Verdict::Undecided) => off,
            _ => &self.test,
        }
    }

    fn report(&self) -> Vec<String> {
        // An attempt cut short by the timeout says little: show the last decided one.
        let t = self.shown();
        let mut lines = vec![format!(
            "{} split over {} answers (expected → observed):",
            self.spec.value, t.n
        )];
        let width = t.categories.iter().map(String::len).max().unwrap_or(5);
        for (i, c) in t.categories.iter().enumerate() {
            if i + 1 == t.categories.len() && t.counts[i] == 0 {
                continue;
            }
            let obs = t.observed(i);
            let bar = bar(obs, 20);
            lines.push(format!(
                "  {c:<width$}  {:>5.1}%  {bar:<20}  {:>5}  {:>5.1}%",
                t.expected[i] * 100.0,
                t.counts[i],
                obs * 100.0
            ));
        }
        let decided = if t.verdict == Verdict::Undecided {
            format!("not decided after {} answers; leaning", t.n)
        } else {
            format!("decided after {} answers", t.n)
        };
        let verdict = match t.lean() {
            Verdict::Within => format!("within ±{} points of the weights", t.tolerance),
            _ => format!(
                "OFF: `{}` is {} points or more from its weight",
                t.leaning_category()
                    .map_or("?", |i| t.categories[i].as_str()),
                t.tolerance
            ),
        };
        lines.push(format!(
            "verdict: {verdict} (sequential test, {decided}; false fail ≤ {}%, false pass ≤ {}%{})",
            self.spec.false_fail * 100.0,
            self.spec.false_pass * 100.0,
            match (std::ptr::eq(t, &self.test), self.attempt) {
                (true, 1) => String::new(),
                (true, k) => format!("; attempt {k}"),
                (false, k) => format!(
                    "; attempt {} of {k}, the last one cut short by the timeout",
                    k - 1
                ),
            }
        ));
        lines
    }
}

fn bar(share: f64, width: usize) -> String {
    let eighths = (share.clamp(0.0, 1.0) * width as f64 * 8.0).round() as usize;
    let full = eighths / 8;
    let part = eighths % 8;
    let mut s = "█".repeat(full);
    if part > 0 {
        s.push(['▏', '▎', '▍', '▌', '▋', '▊', '▉'][part - 1]);
    }
    s
}

/// Report data for JSON reports.
#[derive(Debug, Serialize)]
struct Observations<'a> {
    url: &'a str,
    sent: u64,
    summary: &'a Summary,
    judged_on: &'a str,
    distribution: Option<&'a SplitTest>,
    samples: &'a [Sample],
}

/// Runs a probe.
///
/// # Errors
/// Failed when an expectation does not hold; Errored when no answer could be had.
#[allow(clippy::too_many_lines)]
pub async fn run(p: &Probe, cx: &StepCx<'_>) -> Result<Done, StepError> {
    let url = cx.render(&p.url)?;
    let headers: Vec<(String, String)> = p
        .headers
        .iter()
        .map(|(k, v)| Ok((k.clone(), cx.render(v)?)))
        .collect::<Result<_, StepError>>()?;
    let body = p.body.as_deref().map(|b| cx.render(b)).transpose()?;
    let method = reqwest::Method::from_bytes(p.method.as_bytes())
        .map_err(|e| StepError::Errored(e.to_string()))?;
    let extract: Vec<Extractor> = p
        .extract
        .iter()
        .map(|(_, e)| Extractor::new(e))
        .collect::<Result<_, _>>()
        .map_err(StepError::Errored)?;
    let rendered_checks: Vec<crate::assert::Check> = p
        .each
        .iter()
        .map(|c| cx.render_check(c))
        .collect::<Result<_, StepError>>()?;
    let checks = rendered_checks
        .iter()
        .map(|c| match &c.query {
            Query::JsonPath(path) => Ok((
                Some(Compiled::new(path).map_err(StepError::Errored)?),
                None,
                c,
            )),
            Query::Value(name) => Ok((None, p.extract.iter().position(|(n, _)| n == name), c)),
        })
        .collect::<Result<Vec<_>, StepError>>()?;
    let req = Request {
        client: client(p)?,
        method,
        url: url.clone(),
        headers,
        body,
        extract,
        checks,
        accepted: &p.status,
    };
    let window = p.eventually_window.map(|w| w as usize);
    let mut split = Split::new(p);
    let mut recent: VecDeque<Record> = VecDeque::new();
    let mut all: Vec<Record> = Vec::new();
    let mut samples: Vec<Sample> = Vec::new();
    let mut sent: u64 = 0;
    let mut inflight = FuturesUnordered::new();
    let mut satisfied = false;
    let started = Instant::now();
    // A progress bar on terminals (a no-op span elsewhere).
    let bar = tracing::info_span!(target: crate::run::PROGRESS_TARGET, "probe");
    {
        use tracing_indicatif::span_ext::IndicatifSpanExt as _;
        let template = if window.is_some() {
            "  {spinner} probe: {pos} answers, {per_sec} {elapsed}"
        } else {
            "  {bar:30} probe: {pos}/{len} answers, {per_sec} {elapsed}"
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
            bar.pb_set_style(&style);
        }
        if window.is_none() {
            bar.pb_set_length(u64::from(p.requests));
        }
        bar.pb_start();
    }
    loop {
        while inflight.len() < p.concurrency as usize
            && (window.is_some() || sent < u64::from(p.requests))
            && !satisfied
            && !cx.left().is_zero()
        {
            // Samples: the first answers, then one in a hundred (the last ones are kept).
            let want_sample = sent < SAMPLES as u64 || sent.is_multiple_of(100);
            inflight.push(req.send(want_sample));
            sent += 1;
        }
        if inflight.is_empty() {
            break;
        }
        let next = tokio::time::timeout(cx.left(), inflight.next()).await;
        let Ok(Some((rec, sample))) = next else { break };
        tracing_indicatif::span_ext::IndicatifSpanExt::pb_inc(&bar, 1);
        if let Some(s) = sample {
            samples.push(s);
            if samples.len() > SAMPLES {
                samples.remove(0);
            }
        }
        if let Some(sp) = split.as_mut()
            && sp.observe(&rec) == Verdict::Off
            && window.is_some()
        {
            sp.restart();
        }
        match window {
            Some(w) => {
                recent.push_back(rec);
                if recent.len() > w {
                    recent.pop_front();
                }
                let split_ok = split
                    .as_ref()
                    .is_none_or(|s| s.test.verdict == Verdict::Within);
                // Enough answers: a full window, or (with a split check) every
                // answer since the split test that just passed began.
                let enough = recent.len() >= w
                    || split
                        .as_ref()
                        .is_some_and(|s| recent.len() as u64 >= s.test.n);
                if enough && split_ok && problems(p, &summarize(p, recent.iter())).is_empty() {
                    satisfied = true;
                }
            }
            None => {
                all.push(rec);
                // A decided split ends the sampling early.
                if split
                    .as_ref()
                    .is_some_and(|s| s.test.verdict != Verdict::Undecided)
                {
                    satisfied = true;
                }
            }
        }
        if satisfied {
            break;
        }
    }
    drop(inflight);
    let (judged, judged_on) = match window {
        Some(w) => (
            recent.iter().collect::<Vec<_>>(),
            format!("the last {} answers (eventually, window {w})", recent.len()),
        ),
        None => (
            all.iter().collect::<Vec<_>>(),
            format!("all {} answers", all.len()),
        ),
    };
    let summary = summarize(p, judged.iter().copied());
    let mut issues = problems(p, &summary);
    if let Some(sp) = &split
        && sp.shown().lean() != Verdict::Within
    {
        let t = sp.shown();
        let detail = t
            .leaning_category()
            .map(|i| {
                format!(
                    ": {} {:.1}% observed, {}% expected",
                    t.categories[i],
                    t.observed(i) * 100.0,
                    t.expected[i] * 100.0
                )
            })
            .unwrap_or_default();
        issues.push(format!("the {} split is off{detail}", sp.spec.value));
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut details = vec![format!(
        "{sent} requests in {elapsed:.2}s ({:.0}/s); judged on {judged_on}; status {}; latency p50 {:.1} ms, p99 {:.1} ms",
        sent as f64 / elapsed.max(1e-9),
        summary
            .statuses
            .iter()
            .map(|(k, v)| format!("{k} ×{v}"))
            .collect::<Vec<_>>()
            .join(", "),
        summary.latency_ms.get("p50").copied().unwrap_or(0.0),
        summary.latency_ms.get("p99").copied().unwrap_or(0.0),
    )];
    for (i, c) in rendered_checks.iter().enumerate() {
        details.push(format!(
            "check {c}: {} of {} answers",
            summary.checks_passed[i],
            summary.answers - summary.errors
        ));
    }
    if let Some(sp) = &split {
        details.extend(sp.report());
    } else {
        for (name, counts) in &summary.values {
            let total: usize = counts.values().sum();
            let mut line = format!("{name}:");
            for (k, v) in counts {
                let _ = write!(
                    line,
                    " {k} ×{v} ({:.0}%)",
                    100.0 * *v as f64 / total.max(1) as f64
                );
            }
            details.push(line);
        }
    }
    let data = serde_json::to_value(Observations {
        url: &url,
        sent,
        summary: &summary,
        judged_on: &judged_on,
        distribution: split.as_ref().map(|s| &s.test),
        samples: &samples,
    })
    .ok();
    // No answer at all, only transport errors: the check could not be made.
    if summary.answers > 0 && summary.statuses.len() == 1 && summary.statuses.contains_key("error")
    {
        let first = judged
            .iter()
            .find_map(|r| r.error.clone())
            .unwrap_or_default();
        return Err(StepError::Errored(format!(
            "no answer from {url} ({} attempts): {first}",
            summary.answers
        )));
    }
    if summary.answers == 0 {
        return Err(StepError::Errored(format!(
            "no answer from {url} before the step timed out"
        )));
    }
    if !issues.is_empty() || (window.is_some() && !satisfied) {
        let mut msg = if window.is_some() && !satisfied {
            format!(
                "expectations did not hold before the step timed out ({})",
                issues.join("; ")
            )
        } else {
            issues.join("; ")
        };
        if msg.is_empty() {
            msg = "expectations did not hold".to_owned();
        }
        let mut d = details;
        for s in samples.iter().take(SAMPLES) {
            d.push(format!(
                "sample: {}",
                serde_json::to_string(s).unwrap_or_default()
            ));
        }
        return Err(StepError::Failed {
            message: msg,
            details: d,
            data,
        });
    }
    let message = match &split {
        Some(sp) => format!(
            "{} answers; {} split within ±{} points of the weights",
            summary.answers, sp.spec.value, sp.test.tolerance
        ),
        None => format!("{} answers, all expectations hold", summary.answers),
    };
    Ok(Done {
        message,
        details,
        captures: serde_json::Map::new(),
        data,
    })
}
