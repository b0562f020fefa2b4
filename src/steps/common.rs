//! Run-time helpers shared by the cluster steps: rendering manifests into
//! objects, listing selected objects, capturing values.

use crate::cluster::{self, Conn, Kind};
use crate::model::action::{StepCx, StepError};
use crate::model::manifest::{ManifestFile, ManifestObject, Manifests};
use crate::model::resource::{NameMatch, Resource};

/// Renders the manifests of a step into objects (kustomize through kubectl).
///
/// # Errors
/// Template errors (e.g. a capture that is missing), YAML errors, kubectl errors.
pub async fn render_objects(
    cx: &StepCx<'_>,
    m: &Manifests,
) -> Result<Vec<ManifestObject>, StepError> {
    let mut out = Vec::new();
    for f in m.files.iter().chain(m.inline.iter()) {
        let objs = crate::model::manifest::render_manifest(cx.env, f, &cx.ctx)
            .map_err(|d| StepError::Errored(d.render().trim_end().to_owned()))?;
        out.extend(objs);
    }
    if let Some(k) = &m.kustomize {
        let dir = cx.dir.join(k);
        let mut text = crate::tools::kustomize::build_for_run(&dir, k)
            .await
            .map_err(StepError::Errored)?;
        if m.substitute {
            // `kustomize build | envsubst`: the step's scope gives the values.
            text = crate::language::substitute::substitute(&text, |n| {
                crate::language::substitute::lookup(&cx.ctx, n)
            })
            .map_err(|e| {
                StepError::Errored(match e {
                    crate::language::substitute::SubstError::Missing(p) => format!(
                        "kubectl kustomize {k}: `${{{}}}` has no value (a var, step var, capture or environment variable, or a default `${{NAME:=value}}`)",
                        p.name
                    ),
                    e @ crate::language::substitute::SubstError::TooLarge { .. } => {
                        format!("kubectl kustomize {k}: {}", e.message())
                    }
                })
            })?;
        }
        let mf = ManifestFile {
            rel: format!("kustomize {k}"),
            path: dir.clone(),
            source: crate::language::source::Source::new(format!("kustomize {k}"), text),
            uses_captures: false,
            substitute: false,
        };
        // kustomize output is not a template: render with no context changes it not.
        let objs = crate::model::manifest::render_manifest(
            &crate::language::template::environment(),
            &mf,
            &serde_json::json!({}),
        )
        .map_err(|d| StepError::Errored(d.render().trim_end().to_owned()))?;
        out.extend(objs);
    }
    Ok(out)
}

/// The namespace given to namespaced objects that have none.
///
/// # Errors
/// Template errors.
pub fn default_namespace(cx: &StepCx<'_>, m: &Manifests, conn: &Conn) -> Result<String, StepError> {
    match &m.namespace {
        Some(ns) => cx.render(ns),
        None => Ok(conn.default_namespace.clone()),
    }
}

/// Lists the objects a (rendered) selector picks, sorted by namespace and name.
///
/// # Errors
/// Cluster errors.
pub async fn list_selected(
    cx: &StepCx<'_>,
    conn: &Conn,
    r: &Resource,
) -> Result<(Kind, Vec<kube::api::DynamicObject>), StepError> {
    let kind = conn.kind(&r.api_version, &r.kind, cx.deadline).await?;
    let api = conn.api(&kind, r.namespace.as_deref());
    let mut lp = kube::api::ListParams::default();
    if let Some(l) = &r.labels {
        lp = lp.labels(l);
    }
    if let NameMatch::Exact(n) = &r.name {
        lp = lp.fields(&format!("metadata.name={n}"));
    }
    let list = cluster::retry(cx.deadline, &conn.name, || api.list(&lp)).await?;
    let mut items: Vec<_> = list
        .items
        .into_iter()
        .filter(|o| {
            r.name
                .matches(o.metadata.name.as_deref().unwrap_or_default())
        })
        .collect();
    items.sort_by(|a, b| {
        (&a.metadata.namespace, &a.metadata.name).cmp(&(&b.metadata.namespace, &b.metadata.name))
    });
    Ok((kind, items))
}

/// `Kind ns/name` for messages.
#[must_use]
pub fn describe(kind: &str, ns: Option<&str>, name: &str) -> String {
    match ns {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    }
}

/// Captures values from an object: variable -> JSONPath.
///
/// # Errors
/// A path with no value (the object does not have it yet or at all).
pub fn capture(
    obj: &serde_json::Value,
    specs: &[(String, String)],
    what: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, StepError> {
    let mut out = serde_json::Map::new();
    for (var, path) in specs {
        let q = crate::model::check::Compiled::new(path).map_err(StepError::Errored)?;
        match q.capture(obj) {
            Some(v) => {
                out.insert(var.clone(), v);
            }
            None => {
                return Err(StepError::failed(
                    format!("capture `{var}`: nothing at {path} in {what}"),
                    vec![format!("object: {}", truncate_json(obj, 600))],
                ));
            }
        }
    }
    Ok(out)
}

/// A compact JSON rendering, cut at `max` characters.
#[must_use]
pub fn truncate_json(v: &serde_json::Value, max: usize) -> String {
    let s = v.to_string();
    if s.chars().count() > max {
        format!("{}…", s.chars().take(max).collect::<String>())
    } else {
        s
    }
}

/// Fields the server manages; left out of diffs.
pub fn normalize(v: &serde_json::Value) -> serde_json::Value {
    let mut v = v.clone();
    if let Some(m) = v.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        for k in [
            "managedFields",
            "resourceVersion",
            "uid",
            "creationTimestamp",
            "generation",
            "selfLink",
        ] {
            m.remove(k);
        }
    }
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
    }
    v
}

/// A unified diff of what a dry run would change (`live` -> `applied`).
pub fn diff(label: &str, before: Option<&serde_json::Value>, after: &serde_json::Value) -> String {
    let a = before
        .map(|b| serde_json::to_string_pretty(&normalize(b)).unwrap_or_default())
        .unwrap_or_default();
    let b = serde_json::to_string_pretty(&normalize(after)).unwrap_or_default();
    if before.is_none() {
        return format!("{label}: would be created");
    }
    if a == b {
        return format!("{label}: unchanged");
    }
    let d = similar::TextDiff::from_lines(&a, &b);
    let body = d
        .unified_diff()
        .context_radius(2)
        .header("live", "applied")
        .to_string();
    format!("{label}: would change\n{}", body.trim_end())
}
