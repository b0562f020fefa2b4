//! What a real run observed, for the chapter page (`scenario docs
//! --from-report`): read from a JSON report, and shown as a reader who typed
//! the page's commands would see it (kubectl's lines and tables, one JSON
//! answer and the tally of a curl loop), with the objects the chapter made
//! marked `{== ==}`. scenario's own lines are kept for a folded box.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

/// One outcome of a step (one cluster, or none).
#[derive(Debug, Clone)]
pub struct Outcome {
    pub cluster: Option<String>,
    pub message: String,
    pub details: Vec<String>,
    pub data: Value,
}

/// What a step did in the run.
#[derive(Debug, Clone)]
pub struct ObservedStep {
    pub kind: String,
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
            ObservedStep {
                kind: s["kind"].as_str().unwrap_or("").to_owned(),
                outcomes,
            },
        );
    }
    Ok(out)
}

impl ObservedStep {
    fn on<'a>(&'a self, cluster: Option<&'a str>) -> impl Iterator<Item = &'a Outcome> + 'a {
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

    /// What the reader's commands print, with the objects the chapter made so
    /// far (`made`, which this step adds to) between `{==` and `==}`.
    /// `groups` gives each kind's API group (kubectl names types with it).
    #[must_use]
    pub fn reader_view(
        &self,
        cluster: Option<&str>,
        made: &mut BTreeSet<String>,
        groups: &HashMap<String, String>,
    ) -> Vec<String> {
        let mut lines = Vec::new();
        let ty = |kind: &str| match groups.get(kind).filter(|g| !g.is_empty()) {
            Some(g) => format!("{}.{g}", kind.to_lowercase()),
            None => kind.to_lowercase(),
        };
        for o in self.on(cluster) {
            match self.kind.as_str() {
                "apply" | "delete" => {
                    for d in &o.details {
                        // "Kind ns/name" or "Kind name" (and " (absent)" for deletes).
                        let (d, absent) = match d.strip_suffix(" (absent)") {
                            Some(x) => (x, true),
                            None => (d.as_str(), false),
                        };
                        let Some((kind, rest)) = d.split_once(' ') else {
                            continue;
                        };
                        let name = rest.rsplit('/').next().unwrap_or(rest);
                        if self.kind == "apply" {
                            made.insert(name.to_owned());
                            lines.push(format!("{{=={}/{name} serverside-applied==}}", ty(kind)));
                        } else if !absent {
                            made.remove(name);
                            lines.push(format!("{} \"{name}\" deleted", ty(kind)));
                        }
                    }
                }
                "get" => {
                    for d in &o.details {
                        // "<type> in <ns>:" then kubectl's table; "captured x = y" lines are ours.
                        let mut table = d.lines();
                        if d.starts_with("captured ") || table.next().is_none() {
                            continue;
                        }
                        for row in table {
                            lines.push(mark(row, made));
                        }
                        lines.push(String::new());
                    }
                }
                "wait" => {
                    // As `kubectl get -o name` prints it; the message starts
                    // with the apiVersion and kind.
                    let kind = o.message.split_whitespace().nth(1).unwrap_or("");
                    for d in &o.details {
                        if let Some(name) = d.strip_prefix("matched ") {
                            made.insert(name.to_owned());
                            lines.push(format!("{{=={}/{name}==}}", ty(kind)));
                        }
                    }
                }
                "probe" => lines.extend(probe_view(&o.data)),
                _ => lines.extend(o.details.iter().flat_map(|d| d.lines().map(str::to_owned))),
            }
        }
        while lines.last().is_some_and(String::is_empty) {
            lines.pop();
        }
        lines
    }
}

/// A table row with a name the chapter made marked.
fn mark(row: &str, made: &BTreeSet<String>) -> String {
    let hit = row
        .split_whitespace()
        .take(2)
        .any(|w| made.contains(w.rsplit('/').next().unwrap_or(w)));
    if hit {
        format!("{{=={}==}}", row.trim_end())
    } else {
        row.to_owned()
    }
}

/// One answer as curl prints it, then the loop's tally (`uniq -c`) of the
/// judged value: the split's counts, else the first extracted value's.
fn probe_view(data: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(body) = data["samples"]
        .as_array()
        .and_then(|s| s.iter().find_map(|x| x["body"].as_str()))
    {
        lines.push(body.to_owned());
        lines.push(String::new());
    }
    let d = &data["distribution"];
    let mut counts: Vec<(String, u64)> = match (d["categories"].as_array(), d["counts"].as_array())
    {
        (Some(c), Some(n)) => c
            .iter()
            .zip(n)
            .filter_map(|(c, n)| Some((c.as_str()?.to_owned(), n.as_u64()?)))
            .filter(|(_, n)| *n > 0)
            .collect(),
        _ => data["summary"]["values"]
            .as_object()
            .and_then(|m| m.values().next())
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, n)| Some((k.clone(), n.as_u64()?)))
                    .collect()
            })
            .unwrap_or_default(),
    };
    counts.sort();
    for (k, n) in counts {
        lines.push(format!("{n:>7} {k}"));
    }
    lines
}
