//! The probe's sampler: the requests rendered and prepared once, sent with
//! bounded concurrency and pacing, and each answer observed as it comes,
//! which decides what happens next (more, enough, or a forbidden answer).

use std::collections::VecDeque;

use futures::StreamExt as _;
use futures::stream::FuturesUnordered;
use tokio::time::Instant;

use super::http::{Extractor, Prepared, Record, Request, SAMPLES, Sample, client, human_bytes};
use super::expectations::problems;
use super::spec::Probe;
use super::split::Split;
use super::stats::Verdict;
use super::tally::{Tally, summarize, value_key};
use crate::model::action::{Counter, Meter, StepCx, StepError};
use crate::model::check::{Check, Query};

/// What the step renders before the first request: a value that depends on
/// a capture is checked here, and nothing is sent if it is wrong.
pub(super) struct Rendered {
    pub(super) url: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
    pub(super) each: Vec<Check>,
    pub(super) never: Vec<Check>,
}

impl Rendered {
    pub(super) fn new(p: &Probe, cx: &StepCx<'_>) -> Result<Self, StepError> {
        let url = cx.render(&p.url)?;
        let headers: Vec<(String, String)> = p
            .headers
            .iter()
            .map(|(k, v)| Ok((k.clone(), cx.render(v)?)))
            .collect::<Result<_, StepError>>()?;
        let body = p.body.as_deref().map(|b| cx.render(b)).transpose()?;
        if let Some(problem) = super::spec::url_problem(&url) {
            return Err(StepError::Errored(format!(
                "the rendered URL `{}` is invalid: {problem}; no request was sent",
                crate::language::limits::excerpt(&url)
            )));
        }
        // The header is named, never its value: it may hold a token.
        if let Some((name, value)) = headers
            .iter()
            .find(|(_, v)| http::HeaderValue::from_str(v).is_err())
        {
            return Err(StepError::Errored(format!(
                "the rendered header `{name}` has an invalid value: {}; no request was sent",
                super::spec::bad_char(value)
            )));
        }
        let render = |checks: &[Check]| {
            checks
                .iter()
                .map(|c| cx.render_check(c))
                .collect::<Result<Vec<_>, StepError>>()
        };
        Ok(Rendered {
            url,
            headers,
            body,
            each: render(&p.each)?,
            never: render(&p.never)?,
        })
    }

    pub(super) fn request<'a>(&'a self, p: &'a Probe, file: &str) -> Result<Request<'a>, StepError> {
        let names: Vec<String> = p.extract.iter().map(|(n, _)| n.clone()).collect();
        let prepare = |checks: &'a [Check]| {
            checks
                .iter()
                .map(|c| Prepared::new(c, &names))
                .collect::<Result<Vec<_>, String>>()
                .map_err(StepError::Errored)
        };
        Ok(Request {
            client: client(p)?,
            method: reqwest::Method::from_bytes(p.method.as_bytes())
                .map_err(|e| StepError::Errored(e.to_string()))?,
            url: self.url.clone(),
            headers: self.headers.clone(),
            body: self.body.clone(),
            extract: p
                .extract
                .iter()
                .map(|(_, e)| Extractor::new(e))
                .collect::<Result<_, _>>()
                .map_err(StepError::Errored)?,
            each: prepare(&self.each)?,
            never: prepare(&self.never)?,
            accepted: &p.status,
            max_body: p.max_body,
            max_body_origin: match p.max_body_loc {
                Some(l) => format!("`maxBody` at {file}:{}:{}", l.line, l.col),
                None => format!(
                    "the default `maxBody`; set `maxBody` on the probe to read up to {}",
                    human_bytes(crate::language::limits::MAX_BODY)
                ),
            },
        })
    }
}

/// What an observed answer means for the sampling.
enum Next {
    /// Keep sampling.
    More,
    /// Every expectation is decided: stop.
    Enough,
    /// The answer is one a `never` check forbids: the step fails at once.
    Forbidden(usize, Option<String>),
}

/// The sampling state of a running probe.
pub(super) struct Sampler<'p> {
    pub(super) p: &'p Probe,
    pub(super) window: Option<usize>,
    pub(super) split: Option<Split>,
    /// Under `eventually`: the last `window` answers.
    pub(super) recent: VecDeque<Record>,
    /// Without `eventually`: counts over every answer.
    pub(super) all: Tally,
    pub(super) samples: Vec<Sample>,
    pub(super) sent: u64,
    pub(super) received: u64,
    pub(super) satisfied: bool,
    pub(super) started: Instant,
    /// The answer a `never` check forbids, once one came.
    forbidden: Option<Record>,
}

impl<'p> Sampler<'p> {
    pub(super) fn new(p: &'p Probe) -> Self {
        Sampler {
            p,
            window: p.eventually_window.map(|w| w as usize),
            split: Split::new(p),
            recent: VecDeque::new(),
            all: Tally::new(p),
            samples: Vec::new(),
            sent: 0,
            received: 0,
            satisfied: false,
            started: Instant::now(),
            forbidden: None,
        }
    }

    /// Another request may be sent (the count, the decision and the deadline allow it).
    fn more(&self, cx: &StepCx<'_>) -> bool {
        (self.window.is_some() || self.sent < u64::from(self.p.requests))
            && !self.satisfied
            && !cx.left().is_zero()
    }

    /// `rate`: request k is not sent before started + k / rate.
    fn due(&self, k: u64) -> Option<Instant> {
        let r = self.p.rate?;
        // A time past any step's timeout stands for one the clock cannot hold.
        let far = std::time::Duration::from_secs(2 * 24 * 3600);
        let offset = std::time::Duration::try_from_secs_f64(k as f64 / r).unwrap_or(far);
        Some(self.started.checked_add(offset.min(far)).unwrap_or(self.started))
    }

    /// Takes one answer into account and says what happens next.
    fn observe(&mut self, rec: Record, sample: Option<Sample>) -> Next {
        self.received += 1;
        if rec.ok
            && let Some(k) = rec.never.iter().position(|forbidden| *forbidden)
        {
            let why = rec
                .never_mismatch
                .as_ref()
                .filter(|(i, _)| *i == k)
                .map(|(_, w)| w.clone());
            self.forbidden = Some(rec);
            return Next::Forbidden(k, why);
        }
        if let Some(s) = sample {
            self.samples.push(s);
            if self.samples.len() > SAMPLES {
                self.samples.remove(0);
            }
        }
        if let Some(sp) = self.split.as_mut() {
            sp.observe(&rec, self.started.elapsed());
        }
        let Some(w) = self.window else {
            self.all.add(self.p, &rec);
            // A decided split ends the sampling early.
            let decided = self
                .split
                .as_ref()
                .is_some_and(|s| s.run.verdict() != Verdict::Undecided);
            return if decided { Next::Enough } else { Next::More };
        };
        self.recent.push_back(rec);
        if self.recent.len() > w {
            self.recent.pop_front();
        }
        let split_ok = self
            .split
            .as_ref()
            .is_none_or(|s| s.run.verdict() == Verdict::Within);
        // Enough answers: a full window, or (with a split check) every
        // answer since the split test that just passed began.
        let enough = self.recent.len() >= w
            || self
                .split
                .as_ref()
                .and_then(|s| s.run.running())
                .is_some_and(|t| self.recent.len() as u64 >= t.n);
        if enough && split_ok && problems(self.p, &summarize(self.p, self.recent.iter())).is_empty() {
            return Next::Enough;
        }
        // A split that passed longer ago than the window while other checks
        // kept failing is no longer about the judged answers: test it again
        // (a new attempt, with its own budget).
        if let Some(sp) = self.split.as_mut()
            && sp.run.verdict() == Verdict::Within
            && sp.run.answers_in_attempt() > w as u64
        {
            sp.run.reopen();
        }
        Next::More
    }
}

/// A progress bar on terminals (nothing elsewhere): answers out of the
/// requests, or a count under `eventually`.
fn progress_bar(p: &Probe, cx: &StepCx<'_>) -> Box<dyn Meter> {
    // A paced probe also shows its pace.
    let pace = p.rate.map(|r| format!(" (paced at {r}/s)")).unwrap_or_default();
    cx.progress.counter(&Counter {
        label: "probe",
        unit: "answers",
        total: p.eventually_window.is_none().then_some(u64::from(p.requests)),
        note: &pace,
    })
}

impl Sampler<'_> {
    /// Sends requests (bounded by `concurrency`, paced by `rate`) and observes
    /// the answers until every expectation is decided, the requests are all
    /// answered, or the step's deadline comes. A forbidden answer ends it at once.
    pub(super) async fn drive(&mut self, cx: &StepCx<'_>, req: &Request<'_>) -> Option<(usize, Option<String>)> {
        let bar = progress_bar(self.p, cx);
        let limit = self.p.concurrency as usize;
        let mut inflight = FuturesUnordered::new();
        loop {
            while inflight.len() < limit && self.more(cx) {
                if self.due(self.sent).is_some_and(|d| Instant::now() < d) {
                    break;
                }
                // Samples: the first answers, then one in a hundred (the last ones are kept).
                let want_sample = self.sent < SAMPLES as u64 || self.sent.is_multiple_of(100);
                inflight.push(req.send(want_sample));
                self.sent += 1;
            }
            // Paced and room for another request: wake when it is due, or on an answer.
            let wake = self
                .due(self.sent)
                .filter(|_| self.more(cx) && inflight.len() < limit);
            if inflight.is_empty() {
                match wake {
                    Some(d) => {
                        tokio::time::sleep_until(d.min(cx.deadline)).await;
                        continue;
                    }
                    None => return None,
                }
            }
            let next = match wake {
                Some(d) => tokio::select! {
                    r = tokio::time::timeout(cx.left(), inflight.next()) => r,
                    () = tokio::time::sleep_until(d) => continue,
                },
                None => tokio::time::timeout(cx.left(), inflight.next()).await,
            };
            let Ok(Some((rec, sample))) = next else {
                return None;
            };
            bar.inc(1);
            match self.observe(rec, sample) {
                Next::More => {}
                Next::Enough => {
                    self.satisfied = true;
                    return None;
                }
                Next::Forbidden(k, why) => return Some((k, why)),
            }
        }
    }

    /// The failure for an answer a `never` check forbids.
    pub(super) fn forbidden_error(&self, k: usize, why: Option<String>, checks: &[Check], file: &str) -> StepError {
        let c = &checks[k];
        let Some(rec) = &self.forbidden else {
            return StepError::Errored("internal: a forbidden answer was not kept".into());
        };
        let answer: Vec<String> = self
            .p
            .extract
            .iter()
            .zip(&rec.values)
            .map(|((name, _), v)| format!("{name}={}", super::tally::shown(&value_key(v.as_ref()))))
            .collect();
        let mut details = vec![format!(
            "answer: status {}, {}",
            rec.status.map_or_else(|| "none".to_owned(), |s| s.to_string()),
            answer.join(", ")
        )];
        if let Some(w) = &why {
            details.push(format!("the check cannot tell, so the answer counts as forbidden: {w}"));
        }
        let actual = match &c.query {
            Query::Value(name) => self
                .p
                .extract
                .iter()
                .position(|(n, _)| n == name)
                .and_then(|i| rec.values[i].clone()),
            Query::JsonPath(_) => None,
        };
        StepError::failed(
            format!("answer {} passed a `never` check: {c}", self.received),
            details,
        )
        .with_checks(vec![c.result(file, false, actual)])
    }
}

