//! `delete`: delete objects (from manifests or by selector) and wait until
//! they are gone.

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Manifests, PlanCx, RawResource, Resource};
use crate::load::Cx;
use crate::yaml::Spanned;

/// Delete objects and wait until they are gone.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", rename = "Delete")]
pub struct RawDelete {
    /// Manifest files or globs whose objects are deleted.
    #[serde(default)]
    pub manifests: Vec<Spanned<String>>,
    /// Inline YAML manifest(s) (a template).
    pub inline: Option<Spanned<String>>,
    /// A kustomize directory whose objects are deleted.
    pub kustomize: Option<Spanned<String>>,
    /// Objects selected by kind and name, prefix, regex or labels.
    #[serde(default)]
    pub resources: Vec<Spanned<RawResource>>,
    /// Namespace for objects that do not set one.
    pub namespace: Option<Spanned<String>>,
    /// Wait until the objects are gone (default true).
    #[serde(default = "yes")]
    pub wait: bool,
    /// Objects that are already absent are fine (default true).
    #[serde(default = "yes")]
    pub missing_ok: bool,
    /// Propagation policy for dependents.
    pub propagation: Option<Propagation>,
}

fn yes() -> bool {
    true
}

/// Kubernetes deletion propagation policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum Propagation {
    Background,
    Foreground,
    Orphan,
}

#[derive(Debug, Clone)]
pub struct Delete {
    pub manifests: Manifests,
    pub resources: Vec<Resource>,
    pub wait: bool,
    pub missing_ok: bool,
    pub propagation: Propagation,
}

pub fn validate(cx: &mut Cx, raw: &Spanned<RawDelete>, extra: &BTreeSet<String>) -> Option<Delete> {
    let r = &raw.value;
    let before = cx.diags.len();
    let manifests = super::manifests(
        cx,
        &r.manifests,
        r.inline.as_ref(),
        r.kustomize.as_ref(),
        r.namespace.as_ref(),
        extra,
    );
    let resources: Vec<Resource> = r
        .resources
        .iter()
        .filter_map(|res| super::resource(cx, res, extra))
        .collect();
    if manifests.is_empty() && r.resources.is_empty() && cx.diags.len() == before {
        cx.error(raw.loc, "`delete` has nothing to delete")
            .expected("`manifests:`, `inline:`, `kustomize:` or `resources:`");
    }
    (cx.diags.len() == before).then(|| Delete {
        manifests,
        resources,
        wait: r.wait,
        missing_ok: r.missing_ok,
        propagation: r.propagation.unwrap_or(Propagation::Background),
    })
}

impl Delete {
    /// # Errors
    /// A manifest that fails to render.
    pub fn plan(&self, pc: &PlanCx<'_>) -> Result<Vec<String>, crate::diag::Diagnostic> {
        let mut lines = vec![format!(
            "delete ({:?} propagation{}{})",
            self.propagation,
            if self.wait { ", wait until gone" } else { "" },
            if self.missing_ok {
                ", absent is fine"
            } else {
                ", must exist"
            }
        )];
        lines.extend(self.manifests.plan(pc)?);
        for r in &self.resources {
            let ns = r
                .namespace
                .clone()
                .or_else(|| self.manifests.namespace.clone());
            let r = pc.resource(&Resource {
                namespace: ns,
                ..r.clone()
            });
            lines.push(format!("  {r}"));
        }
        Ok(lines)
    }
}
