//! `get`: read objects from a cluster, show them as a table (like
//! `kubectl get`) and capture values into variables for later steps.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::Deserialize;

use super::{RawResource, Resource};
use crate::load::Cx;
use crate::yaml::Spanned;

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

pub fn validate(cx: &mut Cx, raw: &Spanned<RawGet>, extra: &BTreeSet<String>) -> Option<Get> {
    let r = &raw.value;
    let before = cx.diags.len();
    if r.resources.is_empty() {
        cx.error(raw.loc, "`get` needs at least one entry in `resources`");
    }
    let resources: Vec<Resource> = r
        .resources
        .iter()
        .filter_map(|x| super::resource(cx, x, extra))
        .collect();
    if !r.capture.is_empty() && r.resources.len() > 1 {
        cx.error(raw.loc, "`capture` needs exactly one entry in `resources`")
            .expected("one `get` step per object you capture from");
    }
    let capture = super::captures(cx, &r.capture);
    (cx.diags.len() == before).then_some(Get {
        resources,
        show: r.show,
        capture,
    })
}

impl Get {
    #[must_use]
    pub fn plan(&self, pc: &super::PlanCx<'_>) -> Vec<String> {
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
