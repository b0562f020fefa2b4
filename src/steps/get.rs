//! `get`: read objects from a cluster, show them as a table (like
//! `kubectl get`) and capture values into variables for later steps.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::Deserialize;

use futures::future::BoxFuture;

use crate::model::access::{Access, verbs};
use crate::language::diag::Diagnostic;
use crate::model::action::{Action, Docs, KindRef, DocsCommand, PlanCx, StepKind, Outcome, ReaderCx};
use crate::model::resource::{RawResource, Resource};
use crate::model::validator::Validator;
use crate::language::yaml::Spanned;

/// Read objects; show them and/or capture values.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", rename = "Get")]
pub struct RawGet {
    /// The objects to read (one table per entry).
    pub resources: Vec<Spanned<RawResource>>,
    /// Print the objects as a table (default true).
    #[serde(default = "yes")]
    pub show: bool,
    /// Capture values: variable name -> JSONPath on the first matching object
    /// (needs exactly one entry in `resources`).
    #[serde(default)]
    pub capture: BTreeMap<String, Spanned<String>>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone)]
pub struct Get {
    pub resources: Vec<Resource>,
    pub show: bool,
    pub capture: Vec<(String, String)>,
}

fn validate(cx: &mut Validator, raw: &Spanned<RawGet>, extra: &BTreeSet<String>) -> Option<Get> {
    let r = &raw.value;
    let before = cx.diags.len();
    if r.resources.is_empty() {
        cx.error(raw.loc, "`get` needs at least one entry in `resources`");
    }
    let resources: Vec<Resource> = r
        .resources
        .iter()
        .filter_map(|x| crate::model::resource::resource(cx, x, extra))
        .collect();
    if !r.capture.is_empty() && r.resources.len() > 1 {
        cx.error(raw.loc, "`capture` needs exactly one entry in `resources`")
            .expected("one `get` step per object you capture from");
    }
    let capture = cx.captures(&r.capture);
    (cx.diags.len() == before).then_some(Get {
        resources,
        show: r.show,
        capture,
    })
}

impl Get {
    #[must_use]
    fn plan_lines(&self, pc: &PlanCx<'_>) -> Vec<String> {
        let mut lines: Vec<String> = self
            .resources
            .iter()
            .map(|r| {
                format!(
                    "{} {}",
                    if self.show { "show" } else { "read" },
                    pc.resource(r)
                )
            })
            .collect();
        for (v, p) in &self.capture {
            lines.push(format!("  capture {v} = {p}"));
        }
        lines
    }
}

// ---------------------------------------------------------------------------
// Run
// ---------------------------------------------------------------------------

use crate::cluster::{self, Conn};
use crate::model::action::{Done, StepCx, StepError};

impl Get {
    /// Reads the objects; prints tables like `kubectl get`; captures values.
    ///
    /// # Errors
    /// Cluster errors; a capture with nothing to read (a failure).
    async fn execute(&self, cx: &StepCx<'_>) -> Result<Done, StepError> {
        let conn = cx.conn()?.clone();
        let mut details = Vec::new();
        let mut captures = serde_json::Map::new();
        let mut total = 0;
        for (i, res) in self.resources.iter().enumerate() {
            let r = cx.resource(res)?;
            let (kind, items) = super::common::list_selected(cx, &conn, &r).await?;
            total += items.len();
            if self.show {
                details.push(table(cx, &conn, &kind, &r, &items).await?);
            }
            if i == 0 && !self.capture.is_empty() {
                let Some(first) = items.first() else {
                    return Err(StepError::failed(
                        format!("nothing to capture from: no {r}"),
                        Vec::new(),
                    ));
                };
                let v = serde_json::to_value(first).unwrap_or_default();
                let label = super::common::describe(
                    &r.kind,
                    first.metadata.namespace.as_deref(),
                    first.metadata.name.as_deref().unwrap_or(""),
                );
                captures = super::common::capture(&v, &self.capture, &label)?;
                details.extend(captures.iter().map(|(k, v)| format!("captured {k} = {v}")));
            }
        }
        Ok(Done {
            message: format!("read {total} object{}", if total == 1 { "" } else { "s" }),
            details,
            captures,
            data: None,
        })
    }
}

/// The server-side table (the columns `kubectl get` shows, CRD printer
/// columns included), restricted to the selected names.
async fn table(
    cx: &StepCx<'_>,
    conn: &Conn,
    kind: &cluster::Kind,
    r: &Resource,
    items: &[kube::api::DynamicObject],
) -> Result<String, StepError> {
    let api = conn.api(kind, r.namespace.as_deref());
    let mut url = api.resource_url().to_owned();
    if let Some(l) = &r.labels {
        url.push_str(&format!("?labelSelector={}", encode(l)));
    }
    let wanted: std::collections::BTreeSet<String> = items
        .iter()
        .filter_map(|o| o.metadata.name.clone())
        .collect();
    let fetch = || async {
        let req = http::Request::get(url.as_str())
            .header(
                "Accept",
                "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
            )
            .body(Vec::new())
            .map_err(kube::Error::HttpError)?;
        conn.client.request::<serde_json::Value>(req).await
    };
    let t = cluster::retry(cx.deadline, &conn.name, fetch).await?;
    let cols: Vec<(usize, String, String)> = t["columnDefinitions"]
        .as_array()
        .map(|c| {
            c.iter()
                .enumerate()
                .filter(|(_, d)| d["priority"].as_i64().unwrap_or(0) == 0)
                .map(|(i, d)| {
                    (
                        i,
                        d["name"].as_str().unwrap_or("").to_uppercase(),
                        d["format"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let mut rows: Vec<Vec<String>> = Vec::new();
    let namespaced_all = kind.namespaced && r.namespace.is_none();
    for row in t["rows"].as_array().cloned().unwrap_or_default() {
        let name = row["object"]["metadata"]["name"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        if !wanted.contains(&name) {
            continue;
        }
        let mut cells = Vec::new();
        if namespaced_all {
            cells.push(
                row["object"]["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
            );
        }
        for (i, col, format) in &cols {
            let cell = &row["cells"][*i];
            let text = match cell {
                serde_json::Value::String(s) if col == "AGE" || format == "date-time" => age(s),
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => "<none>".to_owned(),
                other => other.to_string(),
            };
            cells.push(text);
        }
        rows.push(cells);
    }
    let mut header: Vec<String> = Vec::new();
    if namespaced_all {
        header.push("NAMESPACE".into());
    }
    header.extend(cols.iter().map(|(_, c, _)| c.clone()));
    let title = format!(
        "{}{}{}",
        if r.api_version.is_empty() {
            String::new()
        } else {
            format!("{} ", r.api_version)
        },
        r.kind,
        r.namespace
            .as_ref()
            .map(|n| format!(" in {n}"))
            .unwrap_or_default()
    );
    if rows.is_empty() {
        return Ok(format!("{title}: none"));
    }
    Ok(format!("{title}:\n{}", format_table(&header, &rows)))
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `kubectl`-style age of an RFC 3339 timestamp.
fn age(ts: &str) -> String {
    let Ok(t) = humantime::parse_rfc3339_weak(ts.trim_end_matches('Z')) else {
        return ts.to_owned();
    };
    let secs = std::time::SystemTime::now()
        .duration_since(t)
        .map_or(0, |d| d.as_secs());
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 3600 * 2 => format!("{}m", s / 60),
        s if s < 86400 * 2 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

/// Columns separated by three spaces, as kubectl prints them.
#[must_use]
pub fn format_table(header: &[String], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
    }
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}   ", w = widths[i]));
            }
        }
        s.trim_end().to_owned()
    };
    let mut out = vec![line(header)];
    out.extend(rows.iter().map(|r| line(r)));
    out.join("\n")
}

impl StepKind for Get {
    const NAME: &'static str = "get";
    const SUMMARY: &'static str =
        "Read objects: show them as a table and/or capture values into variables.";
    const NEEDS_CLUSTER: bool = true;
    const DRY_RUN: crate::model::action::DryRun = crate::model::action::DryRun::ReadOnly;
    type Raw = RawGet;

    fn validate(v: &mut Validator, raw: &Spanned<RawGet>, vars: &BTreeSet<String>) -> Option<Self> {
        validate(v, raw, vars)
    }
}

impl Action for Get {
    fn captures(&self) -> Vec<String> {
        self.capture.iter().map(|(v, _)| v.clone()).collect()
    }

    fn plan(&self, pc: &PlanCx<'_>) -> Result<Vec<String>, Diagnostic> {
        Ok(self.plan_lines(pc))
    }

    fn docs(&self, pc: &PlanCx<'_>, clusters: &[String]) -> Result<Docs, Diagnostic> {
        use super::kubectl::{capture_command, get_command};
        use crate::language::shell::var_name;
        let mut docs = Docs::default();
        for c in clusters {
            for (i, r) in self.resources.iter().enumerate() {
                let r = pc.resource(r);
                if self.show || self.capture.is_empty() {
                    docs.commands.push(DocsCommand::on(c, get_command(c, &r)));
                }
                // Captures come from the first resource, as shell variables.
                if i == 0 {
                    for (v, path) in &self.capture {
                        docs.commands.push(DocsCommand::on(
                            c,
                            capture_command(c, &r, &var_name(v, Some(c)), path),
                        ));
                    }
                }
            }
        }
        Ok(docs)
    }

    fn reader_view(&self, o: &Outcome, cx: &mut ReaderCx) -> Vec<String> {
        // kubectl's tables (each detail: "<type> in <ns>:", then the table),
        // rows of objects the run made marked; captures print nothing.
        let mut lines = Vec::new();
        for d in o
            .details
            .iter()
            .filter(|d| !d.is_empty() && !d.starts_with("captured "))
        {
            lines.extend(d.lines().skip(1).map(|row| cx.mark(row)));
            lines.push(String::new());
        }
        lines
    }

    fn kinds(&self, pc: &PlanCx<'_>) -> Vec<KindRef> {
        self.resources
            .iter()
            .flat_map(|r| KindRef::of(&pc.resource(r)))
            .collect()
    }

    fn access(&self, pc: &PlanCx<'_>) -> Vec<Access> {
        self.resources
            .iter()
            .map(|r| Access::of(&pc.resource(r), verbs::LIST))
            .collect()
    }

    fn run<'a>(&'a self, cx: &'a StepCx<'a>) -> BoxFuture<'a, Result<Done, StepError>> {
        Box::pin(self.execute(cx))
    }
}
