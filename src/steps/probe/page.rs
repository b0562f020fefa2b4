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
        let url = pc.render(&self.url);
        // With a run's report, the loop sends as many requests as the
        // answers the run judged (a decided split stops early; `eventually`
        // judges its last window), so that its tally is the one shown.
        let judged = pc
            .observed
            .and_then(|o| o.data.as_ref()?.probe())
            .and_then(judged_answers);
        // A computed count is what its template gives: a shell variable that
        // an earlier command or page sets.
        let mut unknown_count = None;
        let count = match (judged, &self.requests_computed) {
            (Some(n), _) => n.to_string(),
            (None, Some(c)) => {
                let text = self.requests_text(pc);
                if text.contains("{{") || text.contains("}}") || text.trim().is_empty() {
                    // A template the page cannot spell as a shell value: the
                    // reader's loop sends the default count and says so.
                    unknown_count = Some(c.template.clone());
                    super::defaults::REQUESTS.to_string()
                } else {
                    word(&text)
                }
            }
            (None, None) => self.requests.to_string(),
        };
        // A control character would end a line of curl's configuration (and
        // start an option of its own): such a URL goes on curl's command line.
        let line = if self.rate.is_none() && !url.chars().any(char::is_control) {
            one_curl(&curl, &url, field.as_deref(), &count)
        } else {
            curl_per_request(&curl, &word(&url), field.as_deref(), &count, self.rate)
        };
        let line = match judged {
            Some(n) if self.requests_computed.is_some() || n != u64::from(self.requests) => format!(
                "# the run judged {count} answers (the probe sends up to {}): this loop sends {count}\n{line}",
                self.requests_text(pc)
            ),
            _ => match unknown_count {
                Some(t) => format!(
                    "# scenario computes how many requests to send when it runs ({}): this loop sends {count}\n{line}",
                    crate::language::untrusted::clean_text(
                        crate::language::template::whole_expression(&t).unwrap_or(&t)
                    )
                ),
                None => line,
            },
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

/// The tally of the answers' `field` (a top-level JSON key) that `uniq -c` counts.
fn tally(field: &str) -> String {
    crate::language::shell::word(&format!(r#"s/.*"{field}": *"\{{0,1\}}\([^",}}]*\).*/\1/p"#))
}

/// Every request in one curl: the URL `count` times in the configuration curl
/// reads on its standard input (`-K -`; `output` sends each body of a status
/// tally to /dev/null), one line per answer. One process instead of one per
/// request: 2,000 requests take seconds, not a minute. A failed request still
/// shows (as `000`, or no value) and the last one failing does not end the
/// reader's script.
fn one_curl(curl: &str, url: &str, field: Option<&str>, count: &str) -> String {
    use crate::language::shell::word;
    // curl's configuration syntax: a quoted value escapes `\` and `"`.
    let quoted = url.replace('\\', r"\\").replace('"', r#"\""#);
    let line = format!("url = \"{quoted}\"");
    let config = crate::language::shell::double_quoted(&line).unwrap_or_else(|| word(&line));
    match field {
        Some(k) => format!(
            "for i in $(seq 1 {count}); do printf '%s\\n' {config}; done | {{ {curl} -w '\\n' -K - || true; }} | sed -n {} | sort | uniq -c",
            tally(k)
        ),
        None => format!(
            "for i in $(seq 1 {count}); do printf '%s\\n' {config} 'output = /dev/null'; done | {{ {curl} -w '%{{http_code}}\\n' -K - || true; }} | sort | uniq -c"
        ),
    }
}

/// One curl per request: for a paced probe, with a sleep between them (curl's
/// own `--rate` is missing from curl before 7.84, still common on readers'
/// machines), and for a URL that cannot go in curl's configuration.
fn curl_per_request(curl: &str, url: &str, field: Option<&str>, count: &str, rate: Option<f64>) -> String {
    let pace = rate
        .map(|r| format!(" sleep {:.3};", 1.0 / r))
        .unwrap_or_default();
    match field {
        Some(k) => format!(
            "for i in $(seq 1 {count}); do {curl} {url} || true; echo;{pace} done | sed -n {} | sort | uniq -c",
            tally(k)
        ),
        None => format!(
            "for i in $(seq 1 {count}); do {curl} -o /dev/null -w '%{{http_code}}\\n' {url} || true;{pace} done | sort | uniq -c"
        ),
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
