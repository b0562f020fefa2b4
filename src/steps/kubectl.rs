//! The kubectl commands a reader would type to do what a step does (for the
//! chapter page). Clusters are addressed through exported context variables.

use crate::model::resource::{NameMatch, Resource};

/// The shell variable holding a cluster's kube context (`cluster1` -> `CLUSTER1`).
#[must_use]
pub fn context_var(cluster: &str) -> String {
    cluster.to_uppercase().replace('-', "_")
}

/// `--context="${CLUSTER1}"`.
#[must_use]
pub fn context_flag(cluster: &str) -> String {
    format!("--context=\"${{{}}}\"", context_var(cluster))
}

/// The resource type as kubectl names it (`virtualservices.networking.istio.io`).
#[must_use]
pub fn kind_ref(r: &Resource) -> String {
    // A name kubectl takes as it is (`gw`, `gateways.networking.istio.io`).
    if r.api_version.is_empty() {
        return r.kind.clone();
    }
    let group = r.api_version.split_once('/').map(|(g, _)| g).unwrap_or("");
    let plural = format!("{}s", r.kind.to_lowercase());
    if group.is_empty() {
        plural
    } else {
        format!("{plural}.{group}")
    }
}

/// `kubectl get` (or, with `verb`, another verb) for a rendered selector.
#[must_use]
pub fn select_command(verb: &str, cluster: &str, r: &Resource) -> String {
    let ns = r
        .namespace
        .as_ref()
        .map_or_else(|| " -A".to_owned(), |n| format!(" -n {n}"));
    let name = match &r.name {
        NameMatch::Exact(n) => format!(" {n}"),
        _ => String::new(),
    };
    let labels = r
        .labels
        .as_ref()
        .map(|l| format!(" -l '{l}'"))
        .unwrap_or_default();
    format!(
        "kubectl {} {verb} {}{name}{ns}{labels}",
        context_flag(cluster),
        kind_ref(r)
    )
}
