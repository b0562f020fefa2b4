//! What a real run observed, for the chapter page (`scenario docs
//! --from-report`): each step's outcomes read from a JSON report. Each step
//! kind shows them as a reader who typed the page's commands would see them
//! (`Action::reader_view`); scenario's own lines are kept for a folded box.

use std::collections::HashMap;

use serde_json::Value;

use crate::model::observed::Outcome;

/// What a step did in the run.
#[derive(Debug, Clone)]
pub struct ObservedStep {
    pub outcomes: Vec<Outcome>,
}

/// Steps that ran, by name (skipped ones are left out).
pub type Observed = HashMap<String, ObservedStep>;

/// Reads the steps of `playbook` from a JSON report.
///
/// # Errors
/// An unreadable or malformed report.
pub fn from_report(text: &str, playbook: &str) -> Result<Observed, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not a JSON report: {e}"))?;
    let pb = v["playbooks"]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["name"] == playbook))
        .ok_or_else(|| format!("the report has no playbook `{playbook}`"))?;
    let mut out = Observed::new();
    for s in pb["steps"].as_array().into_iter().flatten() {
        if s["status"] == "skipped" {
            continue;
        }
        let outcomes = s["outcomes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|o| Outcome {
                cluster: o["cluster"].as_str().map(str::to_owned),
                message: o["message"].as_str().unwrap_or("").to_owned(),
                details: o["details"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                data: o["data"].clone(),
            })
            .collect();
        out.insert(
            s["name"].as_str().unwrap_or("").to_owned(),
            ObservedStep { outcomes },
        );
    }
    Ok(out)
}

impl ObservedStep {
    /// The outcomes on `cluster` (all when `None`).
    pub fn on<'a>(&'a self, cluster: Option<&'a str>) -> impl Iterator<Item = &'a Outcome> + 'a {
        self.outcomes
            .iter()
            .filter(move |o| cluster.is_none() || o.cluster.as_deref() == cluster)
    }

    /// scenario's own lines for the outcomes on `cluster` (all when `None`).
    #[must_use]
    pub fn log(&self, cluster: Option<&str>) -> Vec<String> {
        let mut lines = Vec::new();
        for o in self.on(cluster) {
            let who = o
                .cluster
                .as_deref()
                .map(|c| format!("{c}: "))
                .unwrap_or_default();
            lines.push(format!("{who}{}", o.message));
            for d in &o.details {
                for l in d.lines() {
                    if !l.starts_with("sample: ") {
                        lines.push(format!("  {l}"));
                    }
                }
            }
        }
        lines
    }
}

/// Reads a report file for `--from-report`, refusing one over
/// [`MAX_REPORT_BYTES`](crate::language::limits::MAX_REPORT_BYTES) before
/// reading it whole (a stream such as a pipe is read up to the limit).
///
/// # Errors
/// An unreadable file, a file over the limit, or text that is not UTF-8.
pub fn read_report(path: &std::path::Path) -> Result<String, String> {
    use std::io::Read;
    let max = crate::language::limits::MAX_REPORT_BYTES;
    let too_large = || {
        format!(
            "the report is larger than the limit of {} MiB (see docs/limits.md)",
            max / (1024 * 1024)
        )
    };
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    if file.metadata().is_ok_and(|m| m.len() > max as u64) {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() > max {
        return Err(too_large());
    }
    String::from_utf8(bytes).map_err(|_| "the report is not UTF-8 text".to_owned())
}
