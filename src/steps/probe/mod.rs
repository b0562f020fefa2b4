//! `probe`: send N HTTP requests, extract values, assert on each answer, and
//! check that answers split as the weights say. `spec` reads and checks the
//! step (`distribution` its split expectation), `http` sends the requests,
//! `judge` decides, `split` turns answers into categories, `stats` holds the
//! sequential split test and `converge` its attempts under `eventually`.

pub mod converge;
pub mod distribution;
pub mod http;
pub mod judge;
pub mod spec;
pub mod split;
pub mod stats;
pub mod tally;

use std::collections::BTreeSet;

use futures::future::BoxFuture;

pub use self::spec::Probe;
use self::spec::RawProbe;
use crate::language::diag::Diagnostic;
use crate::language::yaml::Spanned;
use crate::model::action::{Action, Docs, KindRef, DocsCommand, Done, PlanCx, StepCx, StepError, StepKind};
use crate::model::validator::Validator;

impl StepKind for Probe {
    const NAME: &'static str = "probe";
    const SUMMARY: &'static str = "Send HTTP requests and assert on the answers.";
    const NEEDS_CLUSTER: bool = false;
    type Raw = RawProbe;

    fn validate(v: &mut Validator, raw: &Spanned<RawProbe>, vars: &BTreeSet<String>) -> Option<Self> {
        spec::validate(v, raw, vars)
    }
}

impl Action for Probe {
    fn captures(&self) -> Vec<String> {
        Vec::new()
    }

    fn plan(&self, pc: &PlanCx<'_>) -> Result<Vec<String>, Diagnostic> {
        Ok(self.plan_lines(pc))
    }

    fn docs(&self, pc: &PlanCx<'_>, _clusters: &[String]) -> Result<Docs, Diagnostic> {
        Ok(Docs {
            commands: vec![DocsCommand::local(self.curl_loop(pc))],
            ..Docs::default()
        })
    }

    fn kinds(&self, _pc: &PlanCx<'_>) -> Vec<KindRef> {
        Vec::new()
    }

    fn run<'a>(&'a self, cx: &'a StepCx<'a>) -> BoxFuture<'a, Result<Done, StepError>> {
        Box::pin(judge::run(self, cx))
    }
}

impl Probe {
    /// The reader's probe: a curl loop with the probe's count, and a tally of
    /// the value the probe judges (a top-level JSON field), else of the statuses.
    fn curl_loop(&self, pc: &PlanCx<'_>) -> String {
        use crate::language::shell::word;
        use spec::ExtractFrom;
        // A failed request is part of what the probe judges: it shows in the
        // tally (or as `000`) instead of ending the reader's script.
        let mut curl = format!("curl -s --max-time {}", self.request_timeout.as_secs().max(1));
        if self.method != "GET" {
            curl.push_str(&format!(" -X {}", self.method));
        }
        for (k, v) in &self.headers {
            // A secret stays out of the page: the reader exports it.
            let value = if http::is_secret_header(k) {
                crate::language::shell::var_marker(&crate::language::shell::var_name(k, None))
            } else {
                pc.render(v)
            };
            curl.push_str(&format!(" -H {}", word(&format!("{k}: {value}"))));
        }
        if let Some(b) = &self.body {
            curl.push_str(&format!(" --data-binary {}", word(&pc.render(b))));
        }
        if self.insecure_skip_verify {
            curl.push_str(" -k");
        }
        // The value to tally: the split's first value, else the first extracted one.
        let judged = self
            .distribution
            .as_ref()
            .and_then(|d| d.values.first())
            .or_else(|| self.extract.first().map(|(n, _)| n));
        let field = judged
            .and_then(|n| self.extract.iter().find(|(x, _)| x == n))
            .and_then(|(_, e)| match (&e.from, &e.regex) {
                (ExtractFrom::JsonPath(p), None) => p
                    .strip_prefix("$.")
                    .filter(|k| k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                    .map(str::to_owned),
                _ => None,
            });
        let url = word(&pc.render(&self.url));
        let pace = self
            .rate
            .map(|r| format!(" sleep {:.3};", 1.0 / r))
            .unwrap_or_default();
        let line = match field {
            Some(k) => format!(
                "for i in $(seq 1 {}); do {curl} {url} || true; echo;{pace} done | sed -n {} | sort | uniq -c",
                self.requests,
                word(&format!(r#"s/.*"{k}": *"\{{0,1\}}\([^",}}]*\).*/\1/p"#))
            ),
            None => format!(
                "for i in $(seq 1 {}); do {curl} -o /dev/null -w '%{{http_code}}\\n' {url} || true;{pace} done | sort | uniq -c",
                self.requests
            ),
        };
        // Secrets are never on the page: the reader exports them first.
        let secrets: Vec<String> = self
            .headers
            .iter()
            .filter(|(k, _)| http::is_secret_header(k))
            .map(|(k, _)| crate::language::shell::var_name(k, None))
            .collect();
        if secrets.is_empty() {
            line
        } else {
            format!(
                "# export {} first (the page never shows secrets)\n{line}",
                secrets.join(", ")
            )
        }
    }
}
