//! `apply`: render templated manifests and server-side apply them.

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::Deserialize;

use super::{Manifests, PlanCx};
use crate::load::Cx;
use crate::yaml::Spanned;

/// Server-side apply of manifests (each file is a minijinja template).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", rename = "Apply")]
pub struct RawApply {
    /// Manifest files or globs, relative to the playbook.
    #[serde(default)]
    pub manifests: Vec<Spanned<String>>,
    /// Inline YAML manifest(s) (a template).
    pub inline: Option<Spanned<String>>,
    /// A kustomize directory (rendered with `kubectl kustomize`).
    pub kustomize: Option<Spanned<String>>,
    /// Namespace for objects that do not set one.
    pub namespace: Option<Spanned<String>>,
    /// Take ownership of fields managed by someone else (server-side apply `force`).
    #[serde(default)]
    pub force: bool,
}

#[derive(Debug, Clone)]
pub struct Apply {
    pub manifests: Manifests,
    pub force: bool,
}

pub fn validate(cx: &mut Cx, raw: &Spanned<RawApply>, extra: &BTreeSet<String>) -> Option<Apply> {
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
    if manifests.is_empty() && cx.diags.len() == before {
        cx.error(raw.loc, "`apply` has nothing to apply")
            .expected("`manifests: [files or globs]`, `inline: <yaml>` or `kustomize: <dir>`");
    }
    (cx.diags.len() == before).then_some(Apply {
        manifests,
        force: r.force,
    })
}

impl Apply {
    /// # Errors
    /// A manifest that fails to render.
    pub fn plan(&self, pc: &PlanCx<'_>) -> Result<Vec<String>, crate::diag::Diagnostic> {
        let mut lines = vec![format!(
            "server-side apply{}",
            if self.force { " (force)" } else { "" }
        )];
        lines.extend(self.manifests.plan(pc)?);
        Ok(lines)
    }
}
