//! The kubectl commands a reader would type to do what a step does (for the
//! chapter page). Clusters are addressed through exported context variables;
//! every value is a shell word (see `language::shell`), so that the commands
//! run as printed, in order, in a fresh shell.

use crate::language::diag::Diagnostic;
use crate::language::shell::{heredoc, word};
use crate::model::action::{DocsCommand, PlanCx};
use crate::model::manifest::Manifests;
use crate::model::resource::{NameMatch, Resource, type_name};

/// The shell variable holding a cluster's kube context (`cluster1` -> `CLUSTER1`,
/// `east.1` -> `EAST_1`): a valid shell name whatever the cluster is called.
#[must_use]
pub fn context_var(cluster: &str) -> String {
    crate::language::shell::var_name(cluster, None)
}

/// Kinds that have no namespace (kubectl needs none for them).
#[must_use]
pub fn cluster_scoped(kind: &str) -> bool {
    matches!(
        kind,
        "Namespace"
            | "Node"
            | "PersistentVolume"
            | "StorageClass"
            | "ClusterRole"
            | "ClusterRoleBinding"
            | "CustomResourceDefinition"
            | "APIService"
            | "MutatingWebhookConfiguration"
            | "ValidatingWebhookConfiguration"
            | "PriorityClass"
            | "IngressClass"
            | "CSIDriver"
            | "RuntimeClass"
    )
}

/// An exact name that kubectl cannot take as a plain argument: with labels
/// (kubectl refuses both), or without a namespace for a namespaced kind (the
/// step looks in every namespace, a plain name only in the current one).
fn name_by_selector(r: &Resource) -> Option<&str> {
    match &r.name {
        NameMatch::Exact(n)
            if r.labels.is_some() || (r.namespace.is_none() && !cluster_scoped(&r.kind)) =>
        {
            Some(n)
        }
        _ => None,
    }
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
    type_name(&r.api_version, &r.kind)
}

/// ` -n NS`, or nothing.
#[must_use]
pub fn ns_flag(ns: Option<&str>) -> String {
    ns.map(|n| format!(" -n {}", word(n))).unwrap_or_default()
}

/// `kubectl --context=... VERB KIND` with the namespace (all of them for a
/// list without one) and labels of a rendered selector; the name when it is exact.
fn base(verb: &str, cluster: &str, r: &Resource) -> String {
    let by_selector = name_by_selector(r);
    let name = match (&r.name, by_selector) {
        (_, Some(n)) => format!(" --field-selector {}", word(&format!("metadata.name={n}"))),
        (NameMatch::Exact(n), None) => format!(" {}", word(n)),
        _ => String::new(),
    };
    let ns = match (&r.namespace, &r.name) {
        (Some(n), _) => ns_flag(Some(n)),
        (None, _) if cluster_scoped(&r.kind) => String::new(),
        (None, NameMatch::Exact(_)) if by_selector.is_none() => String::new(),
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
        // The step matches the whole name (`^(?:re)$`): so does `grep -x`.
        NameMatch::Regex(re) => format!("grep -qxE -- {}", word(re)),
        NameMatch::Any => "grep -q .".to_owned(),
    }
}

/// `kubectl get` of every object of the selector's kind, namespace and labels:
/// its name (a prefix or pattern) is matched in the shell afterwards.
fn get_all(cluster: &str, r: &Resource) -> String {
    let list = Resource {
        name: NameMatch::Any,
        ..r.clone()
    };
    base("get", cluster, &list)
}

/// `kubectl get ... -o jsonpath=...` printing each selected object's name.
fn names(cluster: &str, r: &Resource) -> String {
    format!(
        "{} -o jsonpath={}",
        get_all(cluster, r),
        word("{range .items[*]}{.metadata.name}{\"\\n\"}{end}")
    )
}

/// A command that succeeds when the selector matches an object.
fn exists_test(cluster: &str, r: &Resource) -> String {
    match &r.name {
        // A field selector that matches nothing still succeeds: look at the output.
        NameMatch::Exact(_) if name_by_selector(r).is_some() => {
            format!("{} -o name | grep -q .", base("get", cluster, r))
        }
        NameMatch::Exact(_) => format!("{} >/dev/null 2>&1", base("get", cluster, r)),
        m => format!("{} | {}", names(cluster, r), name_filter(m)),
    }
}

/// A loop that waits until the selector matches an object.
#[must_use]
pub fn until_exists(cluster: &str, r: &Resource) -> String {
    format!("until {}; do sleep 1; done", exists_test(cluster, r))
}

/// The reader's `wait`: until the object exists (kubectl wait fails at once
/// on a missing one), then `kubectl wait --for=FOR` (`for_arg`) with the
/// step's timeout, or until it is gone; then each capture as a shell variable.
#[must_use]
pub fn wait_commands(
    cluster: &str,
    r: &Resource,
    deleted: bool,
    for_arg: Option<&str>,
    timeout: std::time::Duration,
    captures: &[(String, String)],
) -> Vec<String> {
    let wait = |name: &str, what: &str| {
        format!(
            "kubectl {} wait{} {}/{} --for={what} --timeout={}s",
            context_flag(cluster),
            ns_flag(r.namespace.as_deref()),
            kind_ref(r),
            word(name),
            timeout.as_secs().max(1)
        )
    };
    let mut lines = Vec::new();
    match (&r.name, deleted) {
        (NameMatch::Exact(name), true) => lines.push(wait(name, "delete")),
        (_, true) => lines.push(format!(
            "while {}; do sleep 1; done",
            exists_test(cluster, r)
        )),
        (name, false) => {
            lines.push(until_exists(cluster, r));
            match (name, for_arg) {
                (NameMatch::Exact(n), Some(f)) if name_by_selector(r).is_none() => {
                    lines.push(wait(n, f));
                }
                // A name prefix or pattern: wait on each name that matches.
                (NameMatch::Prefix(_) | NameMatch::Regex(_), Some(f)) => {
                    let keep = match name {
                        NameMatch::Prefix(p) => format!("awk -v p={} 'index($0, p) == 1'", word(p)),
                        NameMatch::Regex(re) => format!("grep -xE -- {}", word(re)),
                        _ => "cat".to_owned(),
                    };
                    lines.push(format!(
                        "{} | {keep} | xargs -r -I{{}} kubectl {} wait{} {}/{{}} --for={f} --timeout={}s",
                        names(cluster, r),
                        context_flag(cluster),
                        ns_flag(r.namespace.as_deref()),
                        kind_ref(r),
                        timeout.as_secs().max(1)
                    ));
                }
                // Labels or a name by field selector: kubectl waits on what it selects.
                (_, Some(f)) => lines.push(format!(
                    "{} --for={f} --timeout={}s",
                    base("wait", cluster, r),
                    timeout.as_secs().max(1)
                )),
                (_, None) => {}
            }
        }
    }
    for (v, path) in captures {
        let var = crate::language::shell::var_name(v, Some(cluster));
        lines.push(capture_command(cluster, r, &var, path));
    }
    lines
}

/// Deleting what a selector picks, with the step's flags (`--ignore-not-found`,
/// `--cascade`, `--wait`).
#[must_use]
pub fn delete_command(cluster: &str, r: &Resource, flags: &str) -> String {
    match &r.name {
        NameMatch::Exact(_) => format!("{}{flags}", base("delete", cluster, r)),
        NameMatch::Any if r.labels.is_some() => format!("{}{flags}", base("delete", cluster, r)),
        NameMatch::Any => format!("{} --all{flags}", base("delete", cluster, r)),
        m => {
            // Names (with their namespace when the selector has none) that
            // match, one object per line, to one `kubectl delete` each.
            let all_ns = r.namespace.is_none() && !cluster_scoped(&r.kind);
            let fields = if all_ns {
                "{range .items[*]}{.metadata.namespace}{\" \"}{.metadata.name}{\"\\n\"}{end}"
            } else {
                "{range .items[*]}{.metadata.name}{\"\\n\"}{end}"
            };
            let name = if all_ns { "$2" } else { "$1" };
            let pick = match m {
                NameMatch::Prefix(p) => format!("index({name}, {}) == 1", awk_string(p)),
                NameMatch::Regex(re) => format!("{name} ~ {}", awk_string(&format!("^({re})$"))),
                _ => "1".to_owned(),
            };
            let print = if all_ns {
                "{ print \"-n\", $1, $2 }"
            } else {
                "{ print $1 }"
            };
            format!(
                "{} -o jsonpath={} | awk {} | xargs -r -L1 kubectl {} delete {}{}{flags}",
                get_all(cluster, r),
                word(fields),
                word(&format!("{pick} {print}")),
                context_flag(cluster),
                kind_ref(r),
                ns_flag(r.namespace.as_deref())
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
    if let NameMatch::Exact(_) = r.name
        && name_by_selector(r).is_none()
    {
        return format!(
            "{var}=$({} -o jsonpath={})",
            base("get", cluster, r),
            word(&jp)
        );
    }
    // One line per object: its name, a tab, the value; the first whose name matches.
    let inner = jp.trim_start_matches('{').trim_end_matches('}');
    let pick = match &r.name {
        NameMatch::Exact(n) => format!("$1 == {}", awk_string(n)),
        NameMatch::Prefix(p) => format!("index($1, {}) == 1", awk_string(p)),
        NameMatch::Regex(re) => format!("$1 ~ {}", awk_string(&format!("^({re})$"))),
        _ => "1".to_owned(),
    };
    // The first match; awk reads on (no `exit`) so that kubectl never meets a closed pipe.
    format!(
        "{var}=$({} -o jsonpath={} | awk -F '\\t' {})",
        get_all(cluster, r),
        word(&format!(
            "{{range .items[*]}}{{.metadata.name}}{{\"\\t\"}}{{{inner}}}{{\"\\n\"}}{{end}}"
        )),
        word(&format!("!found && {pick} {{ print $2; found = 1 }}"))
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
        if verb.starts_with("delete") {
            // A delete needs only the objects' types and names.
            let objs = crate::model::manifest::render_manifest_in(pc.env, f, &pc.ctx, &pc.value)?;
            let mut by_ns: Vec<(Option<String>, Vec<String>)> = Vec::new();
            for o in objs {
                let what = word(&format!(
                    "{}/{}",
                    type_name(&o.api_version, &o.kind),
                    o.name
                ));
                match by_ns.iter_mut().find(|(n, _)| *n == o.namespace) {
                    Some((_, v)) => v.push(what),
                    None => by_ns.push((o.namespace, vec![what])),
                }
            }
            for (n, objs) in by_ns {
                let flag = match n {
                    Some(n) => ns_flag(Some(&n)),
                    None => ns.clone(),
                };
                out.push(DocsCommand::on(
                    cluster,
                    format!(
                        "kubectl {} {verb}{flag} {}",
                        context_flag(cluster),
                        objs.join(" ")
                    ),
                ));
            }
            continue;
        }
        let mut text = crate::language::template::render(pc.env, &f.source.text, &pc.value)
            .map_err(|e| Diagnostic::new(&f.source, e.loc, e.message))?;
        if f.substitute {
            text = substitute(&text, pc);
        }
        let text = pc.page_manifest(text);
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
            .and_then(|d| crate::tools::kustomize::build(d).ok().flatten());
        out.push(DocsCommand::on(
            cluster,
            match built {
                // Substituted output: what the step sends, inline.
                Some(text) => heredoc(
                    &format!("{cmd} -f -"),
                    &pc.page_manifest(substitute(&text, pc)),
                ),
                None if m.substitute => {
                    format!("kubectl kustomize {} | envsubst | {cmd} -f -", word(&dir))
                }
                None => format!("{cmd} -k {}", word(&dir)),
            },
        ));
    }
    Ok(out)
}

/// `${NAME}` placeholders filled from the step's vars and captures (captures
/// stay markers). A name only the environment gives stays `${NAME}` for the
/// reader's shell: the page never holds what the machine that rendered it had
/// in its environment (a token, a local path).
fn substitute(text: &str, pc: &PlanCx<'_>) -> String {
    crate::language::substitute::substitute(text, |n| match pc.ctx.get(n) {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
        None => Some(crate::language::shell::var_marker(n)),
    })
    .unwrap_or_else(|_| text.to_owned())
}
