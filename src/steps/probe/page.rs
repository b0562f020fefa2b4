//! The probe on the chapter page: the reader's curl loop, and what it shows
//! for a real run.

use super::http;
use super::spec::{self, Probe};
use crate::model::action::PlanCx;
use crate::model::step_data::ProbeReport;

impl Probe {
    /// The value the reader's loop tallies: the split's first value, else
    /// the first extracted one, when it is a top-level JSON field (its
    /// extract name and its JSON key); else the loop tallies statuses.
    fn tallied(&self) -> Option<(String, String)> {
        use spec::ExtractFrom;
        let judged = self
            .split
            .as_ref()
            .and_then(|d| d.values.first())
            .or_else(|| self.extract.first().map(|(n, _)| n))?;
        let (name, e) = self.extract.iter().find(|(x, _)| x == judged)?;
        match (&e.from, &e.regex) {
            (ExtractFrom::JsonPath(p), None) => p
                .strip_prefix("$.")
                .filter(|k| k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                .map(|k| (name.clone(), k.to_owned())),
            _ => None,
        }
    }

    /// The reader's probe: a curl loop with the probe's count, and a tally of
    /// the value the probe judges (a top-level JSON field), else of the statuses.
    pub(super) fn curl_loop(&self, pc: &PlanCx<'_>) -> String {
        use crate::language::shell::word;
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
        let field = self.tallied().map(|(_, key)| key);
        let url = word(&pc.render(&self.url));
        let pace = self
            .rate
            .map(|r| format!(" sleep {:.3};", 1.0 / r))
            .unwrap_or_default();
        // With a run's report, the loop sends as many requests as the
        // answers the run judged (a decided split stops early; `eventually`
        // judges its last window), so that its tally is the one shown.
        let count = pc
            .observed
            .and_then(|o| o.data.as_ref()?.probe())
            .and_then(judged_answers)
            .unwrap_or(u64::from(self.requests));
        let line = match field {
            Some(k) => format!(
                "for i in $(seq 1 {count}); do {curl} {url} || true; echo;{pace} done | sed -n {} | sort | uniq -c",
                word(&format!(r#"s/.*"{k}": *"\{{0,1\}}\([^",}}]*\).*/\1/p"#))
            ),
            None => format!(
                "for i in $(seq 1 {count}); do {curl} -o /dev/null -w '%{{http_code}}\\n' {url} || true;{pace} done | sort | uniq -c"
            ),
        };
        let line = if count == u64::from(self.requests) {
            line
        } else {
            format!(
                "# the run judged {count} answers (the probe sends up to {}): this loop sends {count}\n{line}",
                self.requests
            )
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

/// The answers a run judged: what its tally covers (every answer has a
/// status, `error` for a failed request).
fn judged_answers(data: &ProbeReport) -> Option<u64> {
    let n: usize = data.summary.statuses.values().sum();
    (n > 0).then_some(n as u64)
}

/// One answer as curl prints it, then what the reader's loop prints
/// (`uniq -c`) for the answers the run got: the tallied field's values
/// (answers without it print nothing), else the statuses (`000` for a
/// failed request).
pub(super) fn reader_view(probe: &Probe, data: &ProbeReport) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(s) = data.samples.first() {
        lines.push(s.body.clone());
        lines.push(String::new());
    }
    let summary = &data.summary;
    let mut counts: Vec<(String, usize)> = match probe.tallied() {
        Some((name, _)) => summary
            .values
            .get(&name)
            .into_iter()
            .flatten()
            .filter(|(k, _)| *k != "(missing)")
            .map(|(k, n)| (k.clone(), *n))
            .collect(),
        None => summary
            .statuses
            .iter()
            .map(|(k, n)| (if k == "error" { "000".to_owned() } else { k.clone() }, *n))
            .collect(),
    };
    counts.sort();
    for (k, n) in counts {
        lines.push(format!("{n:>7} {k}"));
    }
    lines
}
