//! The kubectl commands a reader would type to do what a step does (for the
//! chapter page). Clusters are addressed through exported context variables;
//! every value is a shell word (see `language::shell`), so that the commands
//! run as printed, in order, in a fresh shell.

use crate::language::diag::Diagnostic;
use crate::language::shell::{heredoc, word};
use crate::model::action::{DocsCommand, PlanCx};
use crate::model::manifest::Manifests;
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

/// The resource type as kubectl names it: the singular (the kind in lower
/// case, which the API server reports for every resource and kubectl's
/// RESTMapper matches) with its group, `virtualmesh.networking.mesh.gloo.solo.io`.
/// A made-up plural (`virtualmeshs`) is what kubectl would reject.
#[must_use]
pub fn kind_ref(r: &Resource) -> String {
    // A name kubectl takes as it is (`gw`, `gateways.networking.istio.io`).
    if r.api_version.is_empty() {
        return r.kind.clone();
    }
    let group = r.api_version.split_once('/').map(|(g, _)| g).unwrap_or("");
    let singular = r.kind.to_lowercase();
    if group.is_empty() {
        singular
    } else {
        format!("{singular}.{group}")
    }
}

/// ` -n NS`, or nothing.
#[must_use]
pub fn ns_flag(ns: Option<&str>) -> String {
    ns.map(|n| format!(" -n {}", word(n))).unwrap_or_default()
}

/// `kubectl --context=... VERB KIND` with the namespace (all of them for a
/// list without one) and labels of a rendered selector; the name when it is exact.
fn base(verb: &str, cluster: &str, r: &Resource) -> String {
    let name = match &r.name {
        NameMatch::Exact(n) => format!(" {}", word(n)),
        _ => String::new(),
    };
    let ns = match (&r.namespace, &r.name) {
        (Some(n), _) => ns_flag(Some(n)),
        (None, NameMatch::Exact(_)) => String::new(),
        (None, _) => " -A".to_owned(),
    };
    let labels = r
        .labels
        .as_ref()
        .map(|l| format!(" -l {}", word(l)))
        .unwrap_or_default();
    format!(
        "kubectl {} {verb} {}{name}{ns}{labels}",
        context_flag(cluster),
        kind_ref(r)
    )
}

/// `kubectl get` for a rendered selector.
#[must_use]
pub fn get_command(cluster: &str, r: &Resource) -> String {
    base("get", cluster, r)
}

/// A shell filter (after `|`) that keeps the names (one per line) a selector
/// matches and succeeds only if there is one.
fn name_filter(m: &NameMatch) -> String {
    match m {
        NameMatch::Exact(n) => format!("grep -qxF -- {}", word(n)),
        NameMatch::Prefix(p) => format!(
            "awk -v p={} 'index($0, p) == 1 {{ found = 1 }} END {{ exit !found }}'",
            word(p)
        ),
        NameMatch::Regex(re) => format!("grep -qE -- {}", word(re)),
        NameMatch::Any => "grep -q .".to_owned(),
    }
}

/// `kubectl get ... -o jsonpath=...` printing each selected object's name.
fn names(cluster: &str, r: &Resource) -> String {
    let list = Resource {
        name: NameMatch::Any,
        ..r.clone()
    };
    format!(
        "{} -o jsonpath={}",
        base("get", cluster, &list),
        word("{range .items[*]}{.metadata.name}{\"\\n\"}{end}")
    )
}

/// A loop that waits until the selector matches an object.
#[must_use]
pub fn until_exists(cluster: &str, r: &Resource) -> String {
    match &r.name {
        NameMatch::Exact(_) => format!(
            "until {} >/dev/null 2>&1; do sleep 1; done",
            base("get", cluster, r)
        ),
        m => format!(
            "until {} | {}; do sleep 1; done",
            names(cluster, r),
            name_filter(m)
        ),
    }
}

/// Deleting what a selector picks; gone already is fine, as for the step.
#[must_use]
pub fn delete_command(cluster: &str, r: &Resource) -> String {
    match &r.name {
        NameMatch::Exact(_) => format!("{} --ignore-not-found", base("delete", cluster, r)),
        NameMatch::Any if r.labels.is_some() => {
            format!("{} --ignore-not-found", base("delete", cluster, r))
        }
        NameMatch::Any => format!("{} --all --ignore-not-found", base("delete", cluster, r)),
        m => {
            let keep = match m {
                NameMatch::Prefix(p) => format!("awk -v p={} 'index($0, p) == 1'", word(p)),
                NameMatch::Regex(re) => format!("grep -E -- {} || true", word(re)),
                _ => "cat".to_owned(),
            };
            let ns = ns_flag(r.namespace.as_deref());
            format!(
                "{} | {{ {keep}; }} | xargs -r kubectl {}{ns} delete {} --ignore-not-found",
                names(cluster, r),
                context_flag(cluster),
                kind_ref(r)
            )
        }
    }
}

/// kubectl's JSONPath for a capture path written either way (`$.a.b` or `{.a.b}`).
#[must_use]
pub fn kubectl_jsonpath(path: &str) -> String {
    let p = path.trim();
    if p.starts_with('{') {
        p.to_owned()
    } else {
        format!("{{{}}}", p.trim_start_matches('$'))
    }
}

/// `VAR=$(kubectl get ... -o jsonpath=...)`: a captured value as a shell
/// variable, from the object the selector picks (the first, as the step).
#[must_use]
pub fn capture_command(cluster: &str, r: &Resource, var: &str, path: &str) -> String {
    let jp = kubectl_jsonpath(path);
    if let NameMatch::Exact(_) = r.name {
        return format!(
            "{var}=$({} -o jsonpath={})",
            base("get", cluster, r),
            word(&jp)
        );
    }
    // One line per object: its name, a tab, the value; the first whose name matches.
    let inner = jp.trim_start_matches('{').trim_end_matches('}');
    let list = Resource {
        name: NameMatch::Any,
        ..r.clone()
    };
    let pick = match &r.name {
        NameMatch::Prefix(p) => format!("index($1, {}) == 1", awk_string(p)),
        NameMatch::Regex(re) => format!("$1 ~ {}", awk_string(re)),
        _ => "1".to_owned(),
    };
    format!(
        "{var}=$({} -o jsonpath={} | awk -F '\\t' {})",
        base("get", cluster, &list),
        word(&format!(
            "{{range .items[*]}}{{.metadata.name}}{{\"\\t\"}}{{{inner}}}{{\"\\n\"}}{{end}}"
        )),
        word(&format!("{pick} {{ print $2; exit }}"))
    )
}

/// A string literal for awk.
fn awk_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The commands that apply (`verb` = `apply --server-side`) or delete
/// (`delete --ignore-not-found`) a step's manifests on `cluster`: each file
/// rendered inline (a heredoc), kustomize as kubectl does it.
///
/// # Errors
/// A manifest that does not render.
pub fn manifest_commands(
    m: &Manifests,
    pc: &PlanCx<'_>,
    cluster: &str,
    verb: &str,
) -> Result<Vec<DocsCommand>, Diagnostic> {
    let ns = ns_flag(m.namespace.as_deref().map(|n| pc.render(n)).as_deref());
    let cmd = format!("kubectl {} {verb}{ns}", context_flag(cluster));
    let mut out = Vec::new();
    for f in m.files.iter().chain(m.inline.iter()) {
        let mut text = crate::language::template::render(pc.env, &f.source.text, &pc.ctx)
            .map_err(|e| Diagnostic::new(&f.source, e.loc, e.message))?;
        if f.substitute {
            text = substitute(&text, pc);
        }
        out.push(DocsCommand::on(
            cluster,
            heredoc(&format!("{cmd} -f -"), &text),
        ));
    }
    if let Some(k) = &m.kustomize {
        let dir = pc.page_path(k);
        let built = m
            .kustomize_dir
            .as_deref()
            .filter(|_| m.substitute)
            .and_then(|d| crate::model::manifest::kustomize_build(d).ok().flatten());
        out.push(DocsCommand::on(
            cluster,
            match built {
                // Substituted output: what the step sends, inline.
                Some(text) => heredoc(&format!("{cmd} -f -"), &substitute(&text, pc)),
                None if m.substitute => {
                    format!("kubectl kustomize {} | envsubst | {cmd} -f -", word(&dir))
                }
                None => format!("{cmd} -k {}", word(&dir)),
            },
        ));
    }
    Ok(out)
}

/// `${NAME}` placeholders filled from the step's scope (captures stay markers).
fn substitute(text: &str, pc: &PlanCx<'_>) -> String {
    crate::language::substitute::substitute(text, |n| {
        crate::language::substitute::lookup(&pc.ctx, n)
    })
    .unwrap_or_else(|_| text.to_owned())
}
