//! Step kinds: one enum variant and one module per kind, one `match` that
//! dispatches. Each module owns its raw struct, its validation and its plan.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::load::{Cx, ManifestFile};
use crate::model::Step;
use crate::options::{OneOrMany, RawRetry, RetryPolicy, StepOptions};
use crate::yaml::{Loc, Spanned};

pub mod apply;
pub mod delete;
pub mod exec;
pub mod get;
pub mod pause;
pub mod probe;
pub mod sleep;
pub mod wait;

/// The action keys a step may have (exactly one per step).
pub const ACTIONS: &[&str] = &[
    "apply", "delete", "wait", "probe", "get", "sleep", "pause", "exec",
];

/// One step: a name, optional prose, exactly one action and the options every
/// action shares.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", rename = "Step")]
pub struct RawStep {
    /// Unique step name (used by `--from`, `--only`, reports).
    pub name: Spanned<String>,
    /// Heading of the step's section when the playbook is rendered as a chapter.
    pub title: Option<String>,
    /// Heading level of `title` in the rendered chapter (2-4, default 2).
    pub level: Option<Spanned<u8>>,
    /// A level-2 heading that opens a group of sections before this step.
    pub section: Option<String>,
    /// Rendered chapter: the step's commands and output under a heading per cluster.
    #[serde(default)]
    pub per_cluster: bool,
    /// Markdown prose shown before the step in the rendered chapter.
    pub doc: Option<String>,
    /// Target cluster(s): one logical name or a list; the step fans out to each.
    pub clusters: Option<Spanned<OneOrMany>>,
    /// Step timeout (e.g. `90s`); default from `defaults.timeout`, else 2m.
    pub timeout: Option<Spanned<crate::options::DurationText>>,
    /// Retry policy for this step.
    pub retry: Option<Spanned<RawRetry>>,
    /// Keep going when this step fails (its failure is still reported).
    #[serde(default)]
    pub continue_on_error: bool,
    /// A minijinja expression; the step is skipped when it is false (e.g. `restore`).
    pub when: Option<Spanned<String>>,
    /// Tags for `--tags` / `--skip-tags`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Step-local template variables.
    #[serde(default)]
    pub vars: BTreeMap<String, serde_json::Value>,
    /// Server-side apply of templated manifests.
    pub apply: Option<Spanned<apply::RawApply>>,
    /// Delete objects and wait until they are gone.
    pub delete: Option<Spanned<delete::RawDelete>>,
    /// Wait for a condition on cluster state (by watch).
    pub wait: Option<Spanned<wait::RawWait>>,
    /// Send HTTP requests and assert on the answers.
    pub probe: Option<Spanned<probe::RawProbe>>,
    /// Read objects: show them as a table and/or capture values into variables.
    pub get: Option<Spanned<get::RawGet>>,
    /// Wait a fixed time (e.g. `5s`); prefer `wait` on a condition.
    pub sleep: Option<Spanned<crate::options::DurationText>>,
    /// Stop for the reader (interactive runs only; skipped in CI).
    pub pause: Option<Spanned<pause::RawPause>>,
    /// Run a local command (needs `--allow-exec`).
    pub exec: Option<Spanned<exec::RawExec>>,
}

/// The validated action of a step.
#[derive(Debug, Clone)]
pub enum Action {
    Apply(apply::Apply),
    Delete(delete::Delete),
    Wait(wait::Wait),
    Probe(probe::Probe),
    Get(get::Get),
    Sleep(Duration),
    Pause(pause::Pause),
    Exec(exec::Exec),
}

impl Action {
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Apply(_) => "apply",
            Action::Delete(_) => "delete",
            Action::Wait(_) => "wait",
            Action::Probe(_) => "probe",
            Action::Get(_) => "get",
            Action::Sleep(_) => "sleep",
            Action::Pause(_) => "pause",
            Action::Exec(_) => "exec",
        }
    }

    /// Whether the action talks to clusters (and so needs targets).
    #[must_use]
    pub fn needs_cluster(&self) -> bool {
        matches!(
            self,
            Action::Apply(_) | Action::Delete(_) | Action::Wait(_) | Action::Get(_)
        )
    }

    /// Plan lines (indented by the caller).
    ///
    /// # Errors
    /// A manifest that fails to render.
    pub fn plan(&self, pc: &PlanCx<'_>) -> Result<Vec<String>, crate::diag::Diagnostic> {
        match self {
            Action::Apply(a) => a.plan(pc),
            Action::Delete(d) => d.plan(pc),
            Action::Wait(w) => Ok(w.plan(pc)),
            Action::Probe(p) => Ok(p.plan(pc)),
            Action::Get(g) => Ok(g.plan(pc)),
            Action::Sleep(d) => Ok(vec![format!("sleep {}", humantime::format_duration(*d))]),
            Action::Pause(p) => Ok(p.plan()),
            Action::Exec(e) => Ok(e.plan()),
        }
    }
}

/// What `plan` needs to render manifests.
pub struct PlanCx<'a> {
    pub env: &'a minijinja::Environment<'static>,
    pub ctx: serde_json::Value,
}

impl PlanCx<'_> {
    /// Renders a templated string for display; leaves it as written when it
    /// cannot be rendered yet.
    #[must_use]
    pub fn render(&self, s: &str) -> String {
        crate::template::render(self.env, s, &self.ctx).unwrap_or_else(|_| s.to_owned())
    }

    /// Renders every string inside a JSON value.
    #[must_use]
    pub fn render_json(&self, v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::String(s) => serde_json::Value::String(self.render(s)),
            serde_json::Value::Array(a) => {
                serde_json::Value::Array(a.iter().map(|x| self.render_json(x)).collect())
            }
            serde_json::Value::Object(o) => serde_json::Value::Object(
                o.iter()
                    .map(|(k, x)| (k.clone(), self.render_json(x)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// A resource selector with its templates rendered.
    #[must_use]
    pub fn resource(&self, r: &Resource) -> Resource {
        let name = match &r.name {
            NameMatch::Any => NameMatch::Any,
            NameMatch::Exact(n) => NameMatch::Exact(self.render(n)),
            NameMatch::Prefix(n) => NameMatch::Prefix(self.render(n)),
            NameMatch::Regex(n) => NameMatch::Regex(n.clone()),
        };
        Resource {
            api_version: r.api_version.clone(),
            kind: r.kind.clone(),
            namespace: r.namespace.as_deref().map(|n| self.render(n)),
            name,
            labels: r.labels.as_deref().map(|l| self.render(l)),
            loc: r.loc,
        }
    }
}

/// Defaults from the playbook's `defaults:`.
pub struct Defaults {
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub clusters: Vec<String>,
}

/// Validates a retry policy.
pub fn retry_policy(cx: &mut Cx, r: &Spanned<RawRetry>) -> Option<RetryPolicy> {
    if r.value.attempts == 0 {
        cx.error(r.loc, "`retry.attempts` must be at least 1")
            .expected("the total number of attempts (1 = no retry)");
        return None;
    }
    let delay = match &r.value.delay {
        Some(d) => cx.duration(d)?,
        None => Duration::from_secs(1),
    };
    Some(RetryPolicy {
        attempts: r.value.attempts,
        delay,
        backoff: r.value.backoff,
    })
}

/// Validates one step (options, then its action).
pub fn validate(
    cx: &mut Cx,
    raw: RawStep,
    node: &crate::yaml::Node,
    defaults: &Defaults,
) -> Option<Step> {
    let before = cx.diags.len();
    let name_ok = !raw.name.value.trim().is_empty()
        && raw
            .name
            .value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if !name_ok {
        cx.error(raw.name.loc, format!("invalid step name `{}`", raw.name.value))
            .expected("letters, digits, `-`, `_` or `.` (the name is used on the command line and in reports)");
    }
    let extra: BTreeSet<String> = raw.vars.keys().cloned().collect();
    let timeout = match &raw.timeout {
        Some(t) => cx.duration(t).unwrap_or(defaults.timeout),
        None => defaults.timeout,
    };
    let retry = match &raw.retry {
        Some(r) => retry_policy(cx, r).unwrap_or_default(),
        None => defaults.retry.clone(),
    };
    let clusters = match &raw.clusters {
        Some(c) => cx.cluster_refs(c),
        None => defaults.clusters.clone(),
    };
    cx.step_clusters.clone_from(&clusters);
    let when = raw.when.as_ref().and_then(|w| {
        let names = cx.names(&extra);
        match crate::template::check_condition(&cx.env, &w.value, &names) {
            Ok(()) => Some((w.value.clone(), w.loc)),
            Err(e) => {
                cx.error(w.loc, e.message)
                    .expected("a minijinja expression such as `restore` or `mode == 'full'`");
                None
            }
        }
    });

    // Where each action key is written (the key, not its value).
    let present: Vec<(&str, Loc)> = match &node.value {
        crate::yaml::Value::Map(entries) => entries
            .iter()
            .filter_map(|(k, _)| match &k.value {
                crate::yaml::Value::Str(s) => {
                    ACTIONS.iter().find(|a| **a == s).map(|a| (*a, k.loc))
                }
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    if present.is_empty() {
        cx.error(
            raw.name.loc,
            format!("step `{}` has no action", raw.name.value),
        )
        .expected(format!("exactly one of: {}", ACTIONS.join(", ")));
        return None;
    }
    if present.len() > 1 {
        let (second, loc) = present[1];
        cx.error(
            loc,
            format!(
                "step `{}` has more than one action (`{}` and `{second}`)",
                raw.name.value, present[0].0
            ),
        )
        .expected("exactly one action per step; split it into two steps");
        return None;
    }
    let action = if let Some(a) = &raw.apply {
        apply::validate(cx, a, &extra).map(Action::Apply)
    } else if let Some(d) = &raw.delete {
        delete::validate(cx, d, &extra).map(Action::Delete)
    } else if let Some(w) = &raw.wait {
        wait::validate(cx, w, &extra).map(Action::Wait)
    } else if let Some(p) = &raw.probe {
        probe::validate(cx, p, &extra).map(Action::Probe)
    } else if let Some(g) = &raw.get {
        get::validate(cx, g, &extra).map(Action::Get)
    } else if let Some(s) = &raw.sleep {
        sleep::validate(cx, s).map(Action::Sleep)
    } else if let Some(p) = &raw.pause {
        pause::validate(cx, p).map(Action::Pause)
    } else if let Some(e) = &raw.exec {
        exec::validate(cx, e, &extra).map(Action::Exec)
    } else {
        None
    }?;
    if action.needs_cluster() && clusters.is_empty() {
        cx.error(
            raw.name.loc,
            format!(
                "step `{}` ({}) has no target cluster",
                raw.name.value,
                action.kind()
            ),
        )
        .expected("`clusters: <name>` or `clusters: [a, b]` on the step, or `defaults.clusters`");
    }
    if cx.diags.len() > before {
        return None;
    }
    let level = match &raw.level {
        Some(l) if !(2..=4).contains(&l.value) => {
            cx.error(l.loc, format!("heading level {} is out of range", l.value))
                .expected("2, 3 or 4");
            return None;
        }
        Some(l) => l.value,
        None => 2,
    };
    Some(Step {
        name: raw.name.value,
        loc: raw.name.loc,
        level,
        section: raw.section,
        per_cluster: raw.per_cluster,
        title: raw.title,
        doc: raw.doc,
        options: StepOptions {
            clusters,
            timeout,
            retry,
            continue_on_error: raw.continue_on_error,
            when,
            tags: raw.tags,
        },
        action,
        vars: raw.vars,
    })
}

// ---------------------------------------------------------------------------
// Pieces shared by several step kinds
// ---------------------------------------------------------------------------

/// Selects Kubernetes objects of one kind. String fields are templates.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", rename = "Resource")]
pub struct RawResource {
    /// `group/version` or `v1`, e.g. `networking.istio.io/v1alpha3`.
    pub api_version: Spanned<String>,
    /// Kind, e.g. `Gateway`.
    pub kind: Spanned<String>,
    /// Namespace (omit for cluster-scoped kinds or all namespaces).
    pub namespace: Option<Spanned<String>>,
    /// Exact name.
    pub name: Option<Spanned<String>>,
    /// Name prefix (e.g. `bgc-virtualgateway-` for generated names).
    pub name_prefix: Option<Spanned<String>>,
    /// Regular expression the whole name must match.
    pub name_regex: Option<Spanned<String>>,
    /// Label selector, e.g. `istio=ingressgateway,app!=test`.
    pub labels: Option<Spanned<String>>,
}

/// How an object's name is matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameMatch {
    Any,
    Exact(String),
    Prefix(String),
    Regex(String),
}

/// A validated resource selector (strings may still hold templates).
#[derive(Debug, Clone)]
pub struct Resource {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: NameMatch,
    pub labels: Option<String>,
    pub loc: Loc,
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.api_version, self.kind)?;
        match &self.name {
            NameMatch::Any => {}
            NameMatch::Exact(n) => write!(f, " {n}")?,
            NameMatch::Prefix(p) => write!(f, " {p}*")?,
            NameMatch::Regex(r) => write!(f, " /{r}/")?,
        }
        if let Some(ns) = &self.namespace {
            write!(f, " in {ns}")?;
        }
        if let Some(l) = &self.labels {
            write!(f, " with labels {l}")?;
        }
        Ok(())
    }
}

/// Validates a resource selector.
pub fn resource(
    cx: &mut Cx,
    r: &Spanned<RawResource>,
    extra: &BTreeSet<String>,
) -> Option<Resource> {
    let before = cx.diags.len();
    let v = &r.value;
    if v.api_version.value.trim().is_empty() || v.api_version.value.matches('/').count() > 1 {
        cx.error(
            v.api_version.loc,
            format!("invalid apiVersion `{}`", v.api_version.value),
        )
        .expected("`group/version` (e.g. `networking.istio.io/v1alpha3`) or `v1`");
    }
    if v.kind.value.is_empty() || !v.kind.value.chars().next().is_some_and(char::is_uppercase) {
        cx.error(v.kind.loc, format!("invalid kind `{}`", v.kind.value))
            .expected("a Kubernetes kind in CamelCase, e.g. `Gateway`");
    }
    let names: Vec<&Spanned<String>> = [&v.name, &v.name_prefix, &v.name_regex]
        .into_iter()
        .flatten()
        .collect();
    if names.len() > 1 {
        cx.error(
            names[1].loc,
            "use only one of `name`, `namePrefix`, `nameRegex`",
        );
    }
    for s in [&v.namespace, &v.name, &v.name_prefix, &v.labels]
        .into_iter()
        .flatten()
    {
        cx.template(s, extra);
    }
    if let Some(re) = &v.name_regex
        && let Err(e) = regex::Regex::new(&re.value)
    {
        cx.error(
            re.loc,
            format!(
                "invalid regular expression `{}`: {}",
                re.value,
                crate::options::regex_error(&e)
            ),
        );
    }
    if cx.diags.len() > before {
        return None;
    }
    let name = if let Some(n) = &v.name {
        NameMatch::Exact(n.value.clone())
    } else if let Some(p) = &v.name_prefix {
        NameMatch::Prefix(p.value.clone())
    } else if let Some(re) = &v.name_regex {
        NameMatch::Regex(re.value.clone())
    } else {
        NameMatch::Any
    };
    Some(Resource {
        api_version: v.api_version.value.clone(),
        kind: v.kind.value.clone(),
        namespace: v.namespace.as_ref().map(|s| s.value.clone()),
        name,
        labels: v.labels.as_ref().map(|s| s.value.clone()),
        loc: r.loc,
    })
}

/// Where manifests come from (shared by apply and delete).
#[derive(Debug, Clone)]
pub struct Manifests {
    pub files: Vec<ManifestFile>,
    /// Inline YAML (a template).
    pub inline: Option<crate::load::ManifestFile>,
    /// A kustomize directory, relative to the playbook.
    pub kustomize: Option<String>,
    /// Namespace given to objects that have none.
    pub namespace: Option<String>,
}

impl Manifests {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.inline.is_none() && self.kustomize.is_none()
    }

    /// Plan lines: one per rendered object.
    ///
    /// # Errors
    /// A manifest that fails to render.
    pub fn plan(&self, pc: &PlanCx<'_>) -> Result<Vec<String>, crate::diag::Diagnostic> {
        let mut lines = Vec::new();
        for m in self.files.iter().chain(self.inline.iter()) {
            let objs = crate::load::render_manifest(pc.env, m, &pc.ctx)?;
            lines.push(format!(
                "{} ({} object{})",
                m.rel,
                objs.len(),
                if objs.len() == 1 { "" } else { "s" }
            ));
            for o in objs {
                let ns = o
                    .namespace
                    .or_else(|| self.namespace.as_deref().map(|n| pc.render(n)));
                let ns = ns.map(|n| format!("{n}/")).unwrap_or_default();
                lines.push(format!("  {} {} {ns}{}", o.api_version, o.kind, o.name));
            }
        }
        if let Some(k) = &self.kustomize {
            lines.push(format!(
                "kustomize {k} (rendered by `kubectl kustomize` at run time)"
            ));
        }
        Ok(lines)
    }
}

/// Validates manifest sources.
pub fn manifests(
    cx: &mut Cx,
    files: &[Spanned<String>],
    inline: Option<&Spanned<String>>,
    kustomize: Option<&Spanned<String>>,
    namespace: Option<&Spanned<String>>,
    extra: &BTreeSet<String>,
) -> Manifests {
    let files = cx.manifests(files, extra);
    let inline = inline.and_then(|s| {
        if !cx.template(s, extra) {
            return None;
        }
        let src = crate::diag::Source::new(
            format!("{} (inline manifest at line {})", cx.src.name, s.loc.line),
            s.value.as_str(),
        );
        Some(ManifestFile {
            rel: format!("inline manifest (line {})", s.loc.line),
            path: cx.src.name.clone().into(),
            source: src,
            uses_captures: true,
        })
    });
    if let Some(k) = kustomize {
        if k.value.split(['/', '\\']).any(|c| c == "..")
            || std::path::Path::new(&k.value).is_absolute()
        {
            cx.error(
                k.loc,
                format!(
                    "kustomize path `{}` leaves the playbook's directory",
                    k.value
                ),
            );
        } else if !cx.dir.join(&k.value).join("kustomization.yaml").is_file()
            && !cx.dir.join(&k.value).join("kustomization.yml").is_file()
        {
            cx.error(k.loc, format!("`{}` is not a kustomize directory", k.value))
                .expected("a directory (relative to the playbook) holding kustomization.yaml");
        }
    }
    if let Some(ns) = namespace {
        cx.template(ns, extra);
    }
    Manifests {
        files,
        inline,
        kustomize: kustomize.map(|k| k.value.clone()),
        namespace: namespace.map(|n| n.value.clone()),
    }
}

/// Named captures: variable name -> JSONPath. Adds them to the known names.
pub fn captures(cx: &mut Cx, raw: &BTreeMap<String, Spanned<String>>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (var, path) in raw {
        if crate::template::BUILTINS.contains(&var.as_str()) || cx.known.contains(var) {
            cx.error(
                path.loc,
                format!("capture `{var}` would hide an existing variable"),
            )
            .expected("a new variable name");
            continue;
        }
        if cx.jsonpath(path).is_some() {
            out.push((var.clone(), path.value.clone()));
        }
    }
    for (v, _) in &out {
        cx.captured.insert(v.clone());
    }
    out
}

// ---------------------------------------------------------------------------
// Run-time helpers shared by the cluster steps
// ---------------------------------------------------------------------------

use crate::cluster::{self, Conn, Kind};
use crate::load::ManifestObject;
use crate::run::{StepCx, StepError};

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
        let objs = crate::load::render_manifest(cx.env, f, &cx.ctx)
            .map_err(|d| StepError::Errored(d.render().trim_end().to_owned()))?;
        out.extend(objs);
    }
    if let Some(k) = &m.kustomize {
        let dir = cx.dir.join(k);
        let output = tokio::process::Command::new("kubectl")
            .arg("kustomize")
            .arg(&dir)
            .output()
            .await
            .map_err(|e| {
                StepError::Errored(if e.kind() == std::io::ErrorKind::NotFound {
                    format!("`kustomize: {k}` needs kubectl on PATH (kubectl kustomize renders the directory)")
                } else {
                    format!("cannot run kubectl kustomize: {e}")
                })
            })?;
        if !output.status.success() {
            return Err(StepError::Errored(format!(
                "kubectl kustomize {k} failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        let mf = ManifestFile {
            rel: format!("kustomize {k}"),
            path: dir.clone(),
            source: crate::diag::Source::new(format!("kustomize {k}"), text),
            uses_captures: false,
        };
        // kustomize output is not a template: render with no context changes it not.
        let objs = crate::load::render_manifest(
            &crate::template::environment(),
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

/// A selector with its templates rendered for this step.
///
/// # Errors
/// Template errors.
pub fn render_resource(cx: &StepCx<'_>, r: &Resource) -> Result<Resource, StepError> {
    let name = match &r.name {
        NameMatch::Any => NameMatch::Any,
        NameMatch::Exact(n) => NameMatch::Exact(cx.render(n)?),
        NameMatch::Prefix(n) => NameMatch::Prefix(cx.render(n)?),
        NameMatch::Regex(n) => NameMatch::Regex(n.clone()),
    };
    Ok(Resource {
        api_version: cx.render(&r.api_version)?,
        kind: cx.render(&r.kind)?,
        namespace: r.namespace.as_deref().map(|n| cx.render(n)).transpose()?,
        name,
        labels: r.labels.as_deref().map(|l| cx.render(l)).transpose()?,
        loc: r.loc,
    })
}

impl NameMatch {
    #[must_use]
    pub fn matches(&self, name: &str) -> bool {
        match self {
            NameMatch::Any => true,
            NameMatch::Exact(n) => n == name,
            NameMatch::Prefix(p) => name.starts_with(p.as_str()),
            NameMatch::Regex(r) => {
                regex::Regex::new(&format!("^(?:{r})$")).is_ok_and(|re| re.is_match(name))
            }
        }
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
        let q = crate::assert::Compiled::new(path).map_err(StepError::Errored)?;
        match q.select(obj) {
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
