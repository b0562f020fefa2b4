//! The probe engine: N HTTP requests with bounded concurrency over a
//! keep-alive pool, values extracted (JSONPath, header, status, body, regex), checks on every answer,
//! error rate, latency percentiles, and the sequential split check
//! (`stats`). This file sends the requests and reads the answers; `judge`
//! decides.
//!
//! Bodies are read as they stream and refused past `maxBody`; values kept
//! after judging are cut, so memory does not follow what a server sends.
//! (How the split check converges under `eventually` is told in `converge`.)

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use crate::model::check::{Compiled, Query, evaluate};
use crate::model::action::StepError;
use super::spec::Probe;

/// Answers kept as samples for reports.
pub(super) const SAMPLES: usize = 3;

/// One answer (or failure to get one).
#[derive(Debug, Clone)]
pub(super) struct Record {
    pub(super) status: Option<u16>,
    pub(super) error: Option<String>,
    pub(super) latency: Duration,
    /// Extracted values, in `extract` order, cut to a bounded size (the checks
    /// have judged the whole values already).
    pub(super) values: Vec<Option<Value>>,
    /// Per `each` check: it passed (false for an answer with an unaccepted status).
    pub(super) each: Vec<bool>,
    /// Per `never` check: the answer is one it forbids.
    pub(super) never: Vec<bool>,
    /// The first `each` check whose values could not be compared, and why.
    pub(super) mismatch: Option<(usize, String)>,
    /// Why a `never` check could not tell (the check is taken as violated).
    pub(super) never_mismatch: Option<(usize, String)>,
    pub(super) ok: bool,
}

impl Record {
    fn failed(status: Option<u16>, error: String, latency: Duration, req: &Request<'_>) -> Self {
        Record {
            status,
            error: Some(error),
            latency,
            values: vec![None; req.extract.len()],
            each: vec![false; req.each.len()],
            never: vec![false; req.never.len()],
            mismatch: None,
            never_mismatch: None,
            ok: false,
        }
    }
}

/// A check prepared once per step: its JSONPath compiled, its value and its
/// `when` value found by index.
pub(super) struct Prepared<'a> {
    pub(super) check: &'a crate::model::check::Check,
    path: Option<Compiled>,
    value: Option<usize>,
    when_value: Option<usize>,
}

impl<'a> Prepared<'a> {
    pub(super) fn new(check: &'a crate::model::check::Check, names: &[String]) -> Result<Self, String> {
        let index = |n: &str| names.iter().position(|x| x == n);
        Ok(Prepared {
            check,
            path: match &check.query {
                Query::JsonPath(p) => Some(Compiled::new(p)?),
                Query::Value(_) => None,
            },
            value: match &check.query {
                Query::Value(n) => index(n),
                Query::JsonPath(_) => None,
            },
            when_value: check.when.as_ref().and_then(|w| match &w.query {
                Query::Value(n) => index(n),
                Query::JsonPath(_) => None,
            }),
        })
    }

    /// Judges one answer: `None` when a `when` makes the check not apply.
    fn judge(&self, json: Option<&Value>, values: &[Option<Value>]) -> Option<Result<bool, String>> {
        if let Some(w) = &self.check.when {
            let v = self.when_value.and_then(|i| values[i].as_ref());
            match evaluate(w, v) {
                Ok(true) => {}
                Ok(false) => return None,
                Err(why) => return Some(Err(format!("its condition `{w}` cannot be judged: {why}"))),
            }
        }
        let actual = match (&self.path, self.value) {
            (Some(q), _) => json.and_then(|j| q.select(j)),
            (None, Some(i)) => values[i].clone(),
            (None, None) => None,
        };
        Some(evaluate(self.check, actual.as_ref()))
    }
}

/// A value as kept after judging: long text and large structures are cut
/// (a value that long never equals a category of the weights).
fn kept(v: Value) -> Value {
    let limit = crate::language::limits::MAX_QUOTED_CHARS;
    match v {
        Value::String(s) if s.len() > limit => Value::String(crate::language::limits::excerpt(&s)),
        Value::Array(_) | Value::Object(_) => {
            let text = v.to_string();
            if text.len() > limit {
                Value::String(crate::language::limits::excerpt(&text))
            } else {
                v
            }
        }
        other => other,
    }
}

/// A sample answer for the report (secrets redacted).
pub use crate::model::step_data::Sample;

pub use crate::language::secrets::is_secret_header;

/// A compiled extraction.
pub(super) struct Extractor {
    from: Source,
    regex: Option<regex::Regex>,
}

pub(super) enum Source {
    JsonPath(Compiled),
    Header(String),
    Status,
    Body,
}

impl Extractor {
    pub(super) fn new(e: &super::spec::Extract) -> Result<Self, String> {
        use super::spec::ExtractFrom;
        Ok(Extractor {
            from: match &e.from {
                ExtractFrom::JsonPath(p) => Source::JsonPath(Compiled::new(p)?),
                ExtractFrom::Header(h) => Source::Header(h.clone()),
                ExtractFrom::Status => Source::Status,
                ExtractFrom::Body => Source::Body,
            },
            regex: e
                .regex
                .as_deref()
                .map(crate::language::options::compile_regex)
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
            Source::JsonPath(q) => json.and_then(|j| q.select(j)),
            Source::Header(_) => header.map(|h| Value::String(h.clone())),
            Source::Status => Some(Value::from(status)),
            Source::Body => Some(Value::String(String::from_utf8_lossy(body).into_owned())),
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

pub(super) struct Request<'a> {
    pub(super) client: reqwest::Client,
    pub(super) method: reqwest::Method,
    pub(super) url: String,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Option<String>,
    pub(super) extract: Vec<Extractor>,
    pub(super) each: Vec<Prepared<'a>>,
    pub(super) never: Vec<Prepared<'a>>,
    pub(super) accepted: &'a [u16],
    /// Answer bodies longer than this are an error for that answer.
    pub(super) max_body: u64,
    /// How to name the body limit in that error (`maxBody` and where it is set).
    pub(super) max_body_origin: String,
}

impl Request<'_> {
    pub(super) async fn send(&self, want_sample: bool) -> (Record, Option<Sample>) {
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
                let sample = want_sample.then(|| Sample {
                    status: None,
                    error: Some(err.clone()),
                    headers: BTreeMap::new(),
                    body: String::new(),
                });
                return (Record::failed(None, err, started.elapsed(), self), sample);
            }
        };
        let status = resp.status().as_u16();
        let wanted_headers: Vec<Option<String>> = self
            .extract
            .iter()
            .map(|e| match &e.from {
                Source::Header(h) => resp
                    .headers()
                    .get(h.as_str())
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
                _ => None,
            })
            .collect();
        let headers = if want_sample {
            sample_headers(resp.headers())
        } else {
            BTreeMap::new()
        };
        let body = match self.read_body(resp).await {
            Ok(b) => b,
            Err(err) => return (Record::failed(Some(status), err, started.elapsed(), self), None),
        };
        let latency = started.elapsed();
        let needs_json = self
            .extract
            .iter()
            .any(|e| matches!(e.from, Source::JsonPath(_)))
            || self.each.iter().chain(&self.never).any(|c| c.path.is_some());
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
        let mut mismatch = None;
        let each = self
            .each
            .iter()
            .enumerate()
            .map(|(i, c)| match c.judge(json.as_ref(), &values) {
                _ if !ok => false,
                None => true,
                Some(Ok(passed)) => passed,
                Some(Err(why)) => {
                    mismatch.get_or_insert((i, why));
                    false
                }
            })
            .collect();
        let mut never_mismatch = None;
        let never = self
            .never
            .iter()
            .enumerate()
            .map(|(i, c)| match c.judge(json.as_ref(), &values) {
                _ if !ok => false,
                None => false,
                Some(Ok(forbidden)) => forbidden,
                Some(Err(why)) => {
                    never_mismatch.get_or_insert((i, why));
                    true
                }
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
                values: values.into_iter().map(|v| v.map(kept)).collect(),
                each,
                never,
                mismatch,
                never_mismatch,
                ok,
            },
            sample,
        )
    }

    /// Reads an answer's body as it streams, refusing it once it passes
    /// `max_body`: memory stays bounded whatever the server sends.
    async fn read_body(&self, mut resp: reqwest::Response) -> Result<Vec<u8>, String> {
        let too_large = || {
            format!(
                "the answer's body is larger than {} ({})",
                human_bytes(self.max_body),
                self.max_body_origin
            )
        };
        if resp.content_length().is_some_and(|n| n > self.max_body) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if (body.len() + chunk.len()) as u64 > self.max_body {
                        return Err(too_large());
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => return Ok(body),
                Err(e) => return Err(transport_error(&e, &self.url)),
            }
        }
    }
}

/// An answer's headers for a sample, secret ones redacted.
fn sample_headers(h: &reqwest::header::HeaderMap) -> BTreeMap<String, String> {
    h.iter()
        .map(|(k, v)| {
            let value = if is_secret_header(k.as_str()) {
                "<redacted>".to_owned()
            } else {
                v.to_str().unwrap_or("<binary>").to_owned()
            };
            (k.as_str().to_owned(), value)
        })
        .collect()
}

/// A byte count as people write it (`1 MiB`, `512 KiB`, `300 B`).
#[must_use]
pub fn human_bytes(n: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else if n >= KIB && n.is_multiple_of(KIB) {
        format!("{} KiB", n / KIB)
    } else {
        format!("{n} B")
    }
}

pub(super) fn transport_error(e: &reqwest::Error, url: &str) -> String {
    let chain = crate::language::diag::error_chain(e);
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

pub(super) fn client(p: &Probe) -> Result<reqwest::Client, StepError> {
    crate::runtime::install_crypto_provider();
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

