//! The probe engine: N HTTP requests with bounded concurrency over a
//! keep-alive pool, values extracted (JSONPath, header, status, body, regex), checks on every answer,
//! error rate, latency percentiles, and the sequential split check
//! (`stats`). This file sends the requests and reads the answers; `judge`
//! decides.
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

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use tokio::time::Instant;

use crate::model::check::{Compiled, Query, holds};
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
    /// Extracted values, in `extract` order.
    pub(super) values: Vec<Option<Value>>,
    /// Results of the `each` checks, in order (`None`: not evaluated: not an accepted answer).
    pub(super) checks: Vec<bool>,
    pub(super) ok: bool,
}

/// A sample answer for the report (secrets redacted).
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    pub status: Option<u16>,
    pub error: Option<String>,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

pub use crate::language::secrets::is_secret_header;

/// A compiled extraction.
pub(super) struct Extractor {
    from: From,
    regex: Option<regex::Regex>,
}

pub(super) enum From {
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
                ExtractFrom::JsonPath(p) => From::JsonPath(Compiled::new(p)?),
                ExtractFrom::Header(h) => From::Header(h.clone()),
                ExtractFrom::Status => From::Status,
                ExtractFrom::Body => From::Body,
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

pub(super) struct Request<'a> {
    pub(super) client: reqwest::Client,
    pub(super) method: reqwest::Method,
    pub(super) url: String,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Option<String>,
    pub(super) extract: Vec<Extractor>,
    pub(super) checks: Vec<(Option<Compiled>, Option<usize>, &'a crate::model::check::Check)>,
    /// The extracted values' names, in `extract` order (for `when` conditions).
    pub(super) value_names: Vec<String>,
    pub(super) accepted: &'a [u16],
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
                // A check with `when` applies only where its condition holds.
                let applies = c.when.as_ref().is_none_or(|w| match &w.query {
                    Query::Value(name) => self
                        .value_names
                        .iter()
                        .position(|n| n == name)
                        .is_some_and(|i| holds(&w.predicate, values[i].as_ref())),
                    Query::JsonPath(_) => true,
                });
                ok && (!applies || holds(&c.predicate, actual.as_ref()))
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

