//! `scenario rbac PLAYBOOK|TUTORIAL|DIR...`: the least-privilege RBAC the
//! playbooks' (or a tutorial's chapters') steps need, per cluster, as Kubernetes objects (docs/kubernetes.md).
//! Derived from each step's `access` before anything runs: the verbs per kind
//! and namespace, the discovery every run does, and the CRD reads of the
//! pre-flight when the playbooks define CRDs.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::args::Inputs;
use super::common::{Loaded, emit, expand, load_any, load_options};
use crate::language::template;
use crate::language::untrusted::{clean_line, quoted};
use crate::model::access::{Access, RbacNames};
use crate::model::action::PlanCx;
use crate::model::exit;
use crate::model::playbook::Playbook;

/// The order RBAC verbs are printed in.
const VERB_ORDER: &[&str] = &[
    "get", "list", "watch", "create", "update", "patch", "delete",
];

/// What every run does before its first step: discovery of the API groups.
const DISCOVERY_URLS: &[&str] = &["/api", "/api/*", "/apis", "/apis/*", "/version"];

/// Who the objects are for, and what they are called.
pub struct Subject {
    pub namespace: String,
    pub service_account: String,
    /// Name of the (Cluster)Roles and their bindings.
    pub name: String,
}

impl Subject {
    /// `NAMESPACE/NAME` of a service account.
    ///
    /// # Errors
    /// Not two DNS-1123 names joined by `/`.
    pub fn parse(text: &str, name: &str) -> Result<Subject, String> {
        let ok = |s: &str| {
            !s.is_empty()
                && s.len() <= 63
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !s.starts_with('-')
                && !s.ends_with('-')
        };
        match text.split_once('/') {
            Some((ns, sa)) if ok(ns) && ok(sa) => {
                if !ok(name) {
                    return Err(format!(
                        "invalid --name `{}`: expected a DNS label (a-z, 0-9, `-`, at most 63)",
                        quoted(name)
                    ));
                }
                Ok(Subject {
                    namespace: ns.to_owned(),
                    service_account: sa.to_owned(),
                    name: name.to_owned(),
                })
            }
            _ => Err(format!(
                "invalid --service-account `{}`: expected NAMESPACE/NAME (DNS labels, e.g. scenario/scenario)",
                quoted(text)
            )),
        }
    }
}

/// `(group, resource)` -> verbs.
type Rules = BTreeMap<(String, String), BTreeSet<&'static str>>;

/// The needs of one logical cluster, gathered over every step that targets it.
#[derive(Default)]
struct ClusterNeeds {
    context: String,
    needs: Vec<Access>,
}

/// `scenario rbac`: exit 0 with the objects on stdout (or `-o`), 2 for an
/// invalid playbook, an unknown `--cluster` or a bad `--service-account` /
/// `--name` (`who`).
pub fn rbac(
    paths: &[PathBuf],
    cluster: Option<&str>,
    who: (&str, &str),
    output: Option<&Path>,
    inputs: &Inputs,
) -> i32 {
    let subject = match Subject::parse(who.0, who.1) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::INVALID;
        }
    };
    let subject = &subject;
    let opts = load_options(inputs);
    let (files, diags) = expand(paths);
    if !diags.is_empty() {
        crate::stdio::diagnostics(&diags);
        return exit::INVALID;
    }
    let mut clusters: BTreeMap<String, ClusterNeeds> = BTreeMap::new();
    let mut sources = Vec::new();
    for path in &files {
        // A tutorial: every chapter, with the tutorial's shared definitions.
        let loaded = match load_any(path, &opts) {
            Ok(l) => l,
            Err(diags) => {
                crate::stdio::diagnostics(&diags);
                return exit::INVALID;
            }
        };
        if let Loaded::Tutorial(t) = &loaded {
            sources.push(clean_line(&t.file));
        }
        for pb in loaded.books() {
            crate::stdio::warnings(&pb.warnings);
            gather(pb, &mut clusters);
            if matches!(loaded, Loaded::Playbook(_)) {
                sources.push(clean_line(&pb.source.name));
            }
        }
    }
    if let Some(c) = cluster {
        if !clusters.contains_key(c) {
            let known: Vec<&str> = clusters.keys().map(String::as_str).collect();
            eprintln!(
                "error: --cluster `{}` is not a cluster of {} (clusters: {})",
                quoted(c),
                sources.join(", "),
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            );
            return exit::INVALID;
        }
        clusters.retain(|name, _| name == c);
    }
    let all: Vec<Access> = clusters.values().flat_map(|c| c.needs.clone()).collect();
    let names = RbacNames::new(&all);
    let mut text = format!(
        "# RBAC for {}: what the steps need of each cluster's API, derived by `scenario rbac`\n\
         # (docs/kubernetes.md). Apply each cluster's part on that cluster.\n",
        sources.join(", ")
    );
    if clusters.is_empty() {
        text.push_str("# No step uses a cluster: nothing to grant.\n");
    }
    for (name, c) in &clusters {
        for line in warnings(c) {
            eprintln!("warning: cluster `{name}`: {}", clean_line(&line));
        }
        text.push_str(&cluster_objects(name, c, &names, subject));
    }
    emit(output, &text)
}

fn gather(pb: &Playbook, clusters: &mut BTreeMap<String, ClusterNeeds>) {
    let env = template::environment();
    for step in pb.steps.iter().chain(pb.finally.iter()) {
        for cluster in &step.options.clusters {
            let pc = PlanCx::shared(&env, pb.cluster_preview(step, cluster));
            let entry = clusters.entry(cluster.clone()).or_default();
            entry.context = pb.scope.context_of(cluster).unwrap_or("?").to_owned();
            entry.needs.extend(step.action.access(&pc));
        }
    }
}

fn warnings(c: &ClusterNeeds) -> BTreeSet<String> {
    c.needs
        .iter()
        .filter_map(|a| match a {
            Access::Unknown(what) => Some(format!("not known before the run: {what}")),
            _ => None,
        })
        .collect()
}

/// The ClusterRole (discovery, cluster-scoped kinds, kinds whose namespace is
/// known only at run time), a Role per namespace, and their bindings.
fn cluster_objects(name: &str, c: &ClusterNeeds, names: &RbacNames, who: &Subject) -> String {
    let mut cluster_wide = Rules::new();
    let mut by_namespace: BTreeMap<String, Rules> = BTreeMap::new();
    let mut guessed = BTreeSet::new();
    for a in &c.needs {
        match a {
            Access::Objects {
                api_version,
                kind,
                namespace,
                verbs,
            } => {
                let n = names.name(api_version, kind);
                if n.guessed {
                    guessed.insert(format!("{} {kind} -> {}", api_version, n.resource));
                }
                let rules = match namespace {
                    Some(ns) if n.namespaced => by_namespace.entry(ns.clone()).or_default(),
                    _ => &mut cluster_wide,
                };
                rules
                    .entry((n.group, n.resource))
                    .or_default()
                    .extend(verbs.iter().copied());
            }
            Access::Defines { .. } => {
                // The pre-flight lists CRDs to wait until the one it needs is established.
                cluster_wide
                    .entry((
                        "apiextensions.k8s.io".to_owned(),
                        "customresourcedefinitions".to_owned(),
                    ))
                    .or_default()
                    .insert("list");
            }
            Access::Unknown(_) => {}
        }
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n# cluster `{name}` (context {})",
        clean_line(&c.context)
    );
    // Comments are one line each: text from the playbook cannot start a YAML line.
    for w in warnings(c) {
        let _ = writeln!(out, "# warning: {}", clean_line(&w));
    }
    for g in &guessed {
        let _ = writeln!(
            out,
            "# warning: resource guessed from the kind (check with `kubectl api-resources`): {}",
            clean_line(g)
        );
    }
    out.push_str(&role("ClusterRole", &who.name, None, &cluster_wide, true));
    out.push_str(&binding("ClusterRoleBinding", "ClusterRole", None, who));
    for (ns, rules) in &by_namespace {
        out.push_str(&role("Role", &who.name, Some(ns), rules, false));
        out.push_str(&binding("RoleBinding", "Role", Some(ns), who));
    }
    out
}

/// A JSON string is a YAML scalar: names from playbooks stay one value.
fn q(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

fn list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| q(s)).collect();
    format!("[{}]", quoted.join(", "))
}

fn metadata(name: &str, namespace: Option<&str>) -> String {
    let mut m = format!("metadata:\n  name: {}\n", q(name));
    if let Some(ns) = namespace {
        let _ = writeln!(m, "  namespace: {}", q(ns));
    }
    m.push_str("  labels:\n    app.kubernetes.io/managed-by: scenario\n");
    m
}

fn role(kind: &str, name: &str, namespace: Option<&str>, rules: &Rules, discovery: bool) -> String {
    let mut out = format!(
        "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\n{}rules:\n",
        metadata(name, namespace)
    );
    if discovery {
        let _ = writeln!(
            out,
            "  - nonResourceURLs: {}\n    verbs: [\"get\"]",
            list(DISCOVERY_URLS)
        );
    }
    if rules.is_empty() && !discovery {
        out.push_str("  []\n");
    }
    for ((group, resource), verbs) in rules {
        let ordered: Vec<&str> = VERB_ORDER
            .iter()
            .copied()
            .filter(|v| verbs.contains(v))
            .collect();
        let _ = writeln!(
            out,
            "  - apiGroups: [{}]\n    resources: [{}]\n    verbs: {}",
            q(group),
            q(resource),
            list(&ordered)
        );
    }
    out
}

fn binding(kind: &str, role_kind: &str, namespace: Option<&str>, who: &Subject) -> String {
    format!(
        "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\n{}roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: {role_kind}\n  name: {}\nsubjects:\n  - kind: ServiceAccount\n    name: {}\n    namespace: {}\n",
        metadata(&who.name, namespace),
        q(&who.name),
        q(&who.service_account),
        q(&who.namespace)
    )
}
