//! `apply`: render templated manifests and server-side apply them.

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::Deserialize;

use futures::future::BoxFuture;

use crate::model::access::{Access, verbs};
use crate::language::diag::Diagnostic;
use crate::model::action::{Action, Docs, KindRef, PlanCx, StepKind, Outcome, ReaderCx};
use crate::model::manifest::Manifests;
use crate::model::step_data::{self, ApplyStopped, StepData};
use crate::model::validator::Validator;
use crate::language::yaml::Spanned;

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
    /// Substitute `${NAME}` / `${NAME:=default}` (envsubst) in manifests and kustomize output,
    /// from vars, step vars, captures and the environment.
    #[serde(default)]
    pub substitute: bool,
    /// Namespace for objects that do not set one.
    pub namespace: Option<Spanned<String>>,
    /// Take ownership of fields managed by someone else (server-side apply `force`).
    #[serde(default)]
    pub force: bool,
    /// The field manager the objects are applied as (default `scenario`).
    pub field_manager: Option<Spanned<String>>,
}

#[derive(Debug, Clone)]
pub struct Apply {
    pub manifests: Manifests,
    pub force: bool,
    pub field_manager: String,
}

fn validate(cx: &mut Validator, raw: &Spanned<RawApply>, extra: &BTreeSet<String>) -> Option<Apply> {
    let r = &raw.value;
    let before = cx.diags.len();
    let manifests = super::manifests::manifests(
        cx,
        &r.manifests,
        r.inline.as_ref(),
        r.kustomize.as_ref(),
        r.namespace.as_ref(),
        r.substitute,
        extra,
    );
    if manifests.is_empty() && cx.diags.len() == before {
        cx.error(raw.loc, "`apply` has nothing to apply")
            .expected("`manifests: [files or globs]`, `inline: <yaml>` or `kustomize: <dir>`");
    }
    let field_manager = match &r.field_manager {
        Some(m)
            if m.value.is_empty()
                || m.value.len() > 128
                || !m.value.chars().all(|c| c.is_ascii_graphic()) =>
        {
            cx.error(m.loc, format!("invalid field manager `{}`", crate::language::limits::excerpt(&m.value)))
                .expected("1 to 128 visible ASCII characters, e.g. `kubectl-client-side-apply` or `my-tutorial`");
            FIELD_MANAGER.to_owned()
        }
        Some(m) => m.value.clone(),
        None => FIELD_MANAGER.to_owned(),
    };
    (cx.diags.len() == before).then_some(Apply {
        manifests,
        force: r.force,
        field_manager,
    })
}

impl Apply {
    /// # Errors
    /// A manifest that fails to render.
    fn plan_lines(&self, pc: &PlanCx<'_>) -> Result<Vec<String>, crate::language::diag::Diagnostic> {
        let mut lines = vec![format!(
            "server-side apply{}{}",
            if self.force { " (force)" } else { "" },
            if self.field_manager == FIELD_MANAGER {
                String::new()
            } else {
                format!(" as field manager {}", self.field_manager)
            }
        )];
        lines.extend(self.manifests.plan(pc)?);
        Ok(lines)
    }
}

// ---------------------------------------------------------------------------
// Run
// ---------------------------------------------------------------------------

use futures::StreamExt as _;
use kube::api::{Patch, PatchParams};

use crate::cluster::{self, FIELD_MANAGER};
use crate::model::manifest::ManifestObject;
use crate::model::action::{Done, StepCx, StepError};

/// Objects applied at once after namespaces and CRDs.
const CONCURRENCY: usize = 16;

/// Apply order: namespaces, then CRDs, then the rest (as written).
fn rank(kind: &str) -> u8 {
    match kind {
        "Namespace" => 0,
        "CustomResourceDefinition" => 1,
        _ => 2,
    }
}

impl Apply {
    /// Renders, resolves and server-side applies every object.
    ///
    /// # Errors
    /// Rendering, discovery or API errors, each naming the manifest and document.
    async fn execute(&self, cx: &StepCx<'_>) -> Result<Done, StepError> {
        let conn = cx.conn()?.clone();
        let mut objs = super::common::render_objects(cx, &self.manifests).await?;
        objs.sort_by_key(|o| rank(&o.kind));
        let ns = super::common::default_namespace(cx, &self.manifests, &conn)?;
        let total = objs.len();
        let (early, rest): (Vec<ManifestObject>, Vec<ManifestObject>) =
            objs.into_iter().partition(|o| rank(&o.kind) < 2);
        let mut done = Applied::default();
        let mut crds = Vec::new();
        for o in &early {
            match self.apply_one(cx, &conn, o, &ns).await {
                Ok(one) => done.push(one),
                Err(e) => return Err(done.stopped(e, Vec::new(), total, cx.dry_run)),
            }
            if o.kind == "CustomResourceDefinition" {
                crds.push(o.name.clone());
            }
        }
        if !crds.is_empty()
            && !cx.dry_run
            && let Err(e) = wait_established(cx, &conn, &crds).await
        {
            return Err(done.stopped(e, Vec::new(), total, cx.dry_run));
        }
        // Futures collected first: a closure inside the stream would make the
        // step's future lose `Send` (higher-ranked lifetime inference).
        let futs: Vec<_> = rest
            .iter()
            .map(|o| self.apply_one(cx, &conn, o, &ns))
            .collect();
        let results: Vec<Result<Applied1, StepError>> = futures::stream::iter(futs)
            .buffered(CONCURRENCY)
            .collect()
            .await;
        let mut errors = Vec::new();
        for r in results {
            match r {
                Ok(one) => done.push(one),
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            let first = errors.remove(0);
            return Err(done.stopped(first, errors, total, cx.dry_run));
        }
        let n = done.lines.len();
        let verb = if cx.dry_run {
            "would apply (server-side dry run)"
        } else {
            "applied"
        };
        Ok(Done {
            message: format!("{verb} {n} object{}", if n == 1 { "" } else { "s" }),
            details: done.lines,
            // The objects that were there before: not new on the page.
            data: Some(StepData::Applied(step_data::Applied {
                existed: done.existed,
            })),
            ..Done::default()
        })
    }

    async fn apply_one(
        &self,
        cx: &StepCx<'_>,
        conn: &cluster::Conn,
        o: &ManifestObject,
        ns: &str,
    ) -> Result<Applied1, StepError> {
        let at = format!(
            "{} document {} ({})",
            o.file,
            o.doc_index,
            super::common::describe(&o.kind, o.namespace.as_deref(), &o.name)
        );
        let kind = conn
            .kind(&o.api_version, &o.kind, cx.deadline)
            .await
            .map_err(|e| StepError::Errored(format!("{at}: {e}")))?;
        let mut obj = o.object.clone();
        let namespace = if kind.namespaced {
            let n = o.namespace.clone().unwrap_or_else(|| ns.to_owned());
            obj["metadata"]["namespace"] = serde_json::Value::String(n.clone());
            Some(n)
        } else {
            if let Some(m) = obj["metadata"].as_object_mut() {
                m.remove("namespace");
            }
            None
        };
        let api = conn.api(&kind, namespace.as_deref());
        let mut pp = PatchParams::apply(&self.field_manager);
        if self.force {
            pp = pp.force();
        }
        if cx.dry_run {
            pp = pp.dry_run();
        }
        // Read first: a dry run shows the diff, and the page marks as new
        // only the objects this apply made. A run needs no right to read:
        // an object it cannot read counts as made (apply needs only `patch`).
        let read = cluster::retry(cx.deadline, &conn.name, || api.get_opt(&o.name)).await;
        let before = match read {
            Ok(b) => b,
            Err(e) if cx.dry_run => return Err(StepError::Errored(format!("{at}: {e}"))),
            Err(_) => None,
        };
        let existed = before.is_some();
        let patch = Patch::Apply(&obj);
        let mut result = cluster::retry(cx.deadline, &conn.name, || api.patch(&o.name, &pp, &patch)).await;
        // Fields scenario itself set (a `patch` step owns them as an update)
        // are scenario's to take, as kubectl's apply takes its own.
        if let Err(e) = &result
            && !self.force
            && only_own_conflicts(&e.to_string(), &self.field_manager)
        {
            let forced = pp.clone().force();
            result = cluster::retry(cx.deadline, &conn.name, || api.patch(&o.name, &forced, &patch)).await;
        }
        let applied = result
            .map_err(|e| {
                let e = e.to_string();
                // The API names the other manager and the fields; say the ways out.
                let hint = if e.starts_with("conflict:") {
                    format!(
                        " — to take these fields, set `force: true` on this apply (as field manager `{}`), or change only them with a `patch` step, which leaves the other fields to their owners",
                        self.field_manager
                    )
                } else if !existed && e.starts_with("forbidden by RBAC") && e.trim_end().ends_with("forbidden:") {
                    // The API server authorizes an apply that makes an object
                    // as a create, and then gives no reason.
                    format!(
                        " — applying an object that does not exist yet is a create: the identity cannot create resource \"{}\" (grant `create` beside `patch`; `scenario rbac` does)",
                        kind.resource.plural
                    )
                } else {
                    String::new()
                };
                StepError::Errored(format!("{at}: {}{hint}", e.trim_end()))
            })?;
        let label = super::common::describe(&o.kind, namespace.as_deref(), &o.name);
        if cx.dry_run {
            let after = serde_json::to_value(&applied).unwrap_or_default();
            let before = before.map(|b| serde_json::to_value(&b).unwrap_or_default());
            let shown = super::common::diff(&label, before.as_ref(), &after);
            return Ok(Applied1 { label, line: shown, existed });
        }
        Ok(Applied1 { line: label.clone(), label, existed })
    }
}

/// Most error messages kept in the data of an apply that stopped.
const MAX_ERRORS_KEPT: usize = 20;

/// One object applied: its label (`Kind ns/name`), the line shown for it
/// (the diff in a dry run) and whether it existed before.
struct Applied1 {
    label: String,
    line: String,
    existed: bool,
}

/// What an apply has done so far on one cluster: the objects (as
/// `Kind ns/name`), the lines it shows for them, and those that existed before.
#[derive(Default)]
struct Applied {
    labels: Vec<String>,
    lines: Vec<String>,
    existed: Vec<String>,
}

impl Applied {
    fn push(&mut self, one: Applied1) {
        if one.existed {
            self.existed.push(one.line.clone());
        }
        self.labels.push(one.label);
        self.lines.push(one.line);
    }

    /// The error that stopped the apply, with what was applied before it on
    /// this cluster: in the message (a count), in the details (the same
    /// lines a full apply shows) and in the report's data (`applied`,
    /// `notApplied`, and the other errors).
    fn stopped(self, first: StepError, others: Vec<StepError>, total: usize, dry_run: bool) -> StepError {
        let n = self.labels.len();
        let failed = total.saturating_sub(n);
        let what = format!(
            "{n} of {total} object{} {} before the step stopped{}; {failed} not",
            if total == 1 { "" } else { "s" },
            if dry_run { "checked by server-side dry run" } else { "applied" },
            if n == 0 { "" } else { " (listed below)" },
        );
        let message_of = |e: &StepError| match e {
            StepError::Failed { message, .. }
            | StepError::Errored(message)
            | StepError::Incomplete { message, .. } => message.clone(),
        };
        let more = others.len().saturating_sub(MAX_ERRORS_KEPT);
        let data = StepData::ApplyStopped(ApplyStopped {
            applied: self.labels,
            not_applied: failed,
            dry_run,
            other_errors: others.iter().take(MAX_ERRORS_KEPT).map(message_of).collect(),
            other_errors_not_shown: more,
        });
        let also = if others.is_empty() {
            String::new()
        } else {
            format!(
                "; {} more object{} failed",
                others.len(),
                if others.len() == 1 { "" } else { "s" }
            )
        };
        match first {
            StepError::Failed {
                message,
                mut details,
                checks,
                ..
            } => {
                details.extend(self.lines);
                StepError::Failed {
                    message: format!("{message} ({what}{also})"),
                    details,
                    data: Some(data),
                    checks,
                }
            }
            other => StepError::Incomplete {
                message: format!("{} ({what}{also})", message_of(&other)),
                details: self.lines,
                data: Some(data),
            },
        }
    }
}

async fn wait_established(
    cx: &StepCx<'_>,
    conn: &cluster::Conn,
    names: &[String],
) -> Result<(), StepError> {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    use kube::runtime::wait::{await_condition, conditions};
    let api: kube::Api<CustomResourceDefinition> = kube::Api::all(conn.client.clone());
    for n in names {
        match tokio::time::timeout(
            cx.left(),
            await_condition(api.clone(), n, conditions::is_crd_established()),
        )
        .await
        {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                return Err(StepError::Errored(format!(
                    "{}: waiting for CRD {n}: {e}",
                    conn.name
                )));
            }
            Err(_) => {
                return Err(StepError::failed(
                    format!("CRD {n} was not Established before the step timed out"),
                    Vec::new(),
                ));
            }
        }
    }
    Ok(())
}

impl StepKind for Apply {
    const NAME: &'static str = "apply";
    const SUMMARY: &'static str = "Server-side apply of templated manifests.";
    const NEEDS_CLUSTER: bool = true;
    const DRY_RUN: crate::model::action::DryRun = crate::model::action::DryRun::ServerSide;
    type Raw = RawApply;

    fn validate(v: &mut Validator, raw: &Spanned<RawApply>, vars: &BTreeSet<String>) -> Option<Self> {
        validate(v, raw, vars)
    }
}

impl Action for Apply {
    fn captures(&self) -> Vec<String> {
        Vec::new()
    }

    fn plan(&self, pc: &PlanCx<'_>) -> Result<Vec<String>, Diagnostic> {
        self.plan_lines(pc)
    }

    fn docs(&self, pc: &PlanCx<'_>, clusters: &[String]) -> Result<Docs, Diagnostic> {
        // Server-side apply, under the step's field manager when it names one.
        let mut verb = "apply --server-side".to_owned();
        if self.field_manager != FIELD_MANAGER {
            verb.push_str(&format!(
                " --field-manager={}",
                crate::language::shell::word(&self.field_manager)
            ));
        }
        if self.force {
            verb.push_str(" --force-conflicts");
        }
        let mut docs = Docs::default();
        for c in clusters {
            docs.commands
                .extend(super::kubectl::manifest_commands(&self.manifests, pc, c, &verb)?);
        }
        Ok(docs)
    }

    fn reader_view(&self, o: &Outcome, cx: &mut ReaderCx) -> Vec<String> {
        // kubectl apply --server-side: `TYPE/NAME serverside-applied`, each one made.
        // Objects that existed before the apply are not marked as made.
        let existed: &[String] = match &o.data {
            Some(StepData::Applied(a)) => &a.existed,
            _ => &[],
        };
        o.details
            .iter()
            .filter_map(|d| Some((d, crate::model::observed::object_line(d)?)))
            .map(|(d, (kind, name, _))| {
                let line = format!("{}/{name} serverside-applied", cx.type_name(kind));
                if existed.contains(d) {
                    line
                } else {
                    cx.made.insert(name.to_owned());
                    format!("{{=={line}==}}")
                }
            })
            .collect()
    }

    fn kinds(&self, pc: &PlanCx<'_>) -> Vec<KindRef> {
        self.manifests.kinds(pc)
    }

    fn access(&self, pc: &PlanCx<'_>) -> Vec<Access> {
        self.manifests.access(pc, verbs::APPLY)
    }

    fn run<'a>(&'a self, cx: &'a StepCx<'a>) -> BoxFuture<'a, Result<Done, StepError>> {
        Box::pin(self.execute(cx))
    }
}

/// Whether an apply conflict names only scenario's own field managers.
fn only_own_conflicts(error: &str, field_manager: &str) -> bool {
    if !error.starts_with("conflict:") {
        return false;
    }
    let managers: Vec<&str> = error
        .split("conflict with \"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    !managers.is_empty()
        && managers
            .iter()
            .all(|m| *m == FIELD_MANAGER || *m == field_manager)
}

#[cfg(test)]
mod own_conflicts {
    use super::only_own_conflicts;

    #[test]
    fn only_scenarios_own_managers_are_taken() {
        let own = "conflict: Apply failed with 1 conflict: conflict with \"scenario\" using v1: .data.flag";
        assert!(only_own_conflicts(own, "scenario"));
        let mixed = "conflict: Apply failed with 2 conflicts: conflict with \"scenario\" using v1: .data.a\nconflict with \"kubectl\" using v1: .data.b";
        assert!(!only_own_conflicts(mixed, "scenario"));
        assert!(!only_own_conflicts("conflict: Apply failed with 1 conflict: conflict with \"someone-else\"", "scenario"));
        assert!(only_own_conflicts("conflict: Apply failed with 1 conflict: conflict with \"tutorial\"", "tutorial"));
        assert!(!only_own_conflicts("invalid object: conflict with \"scenario\"", "scenario"));
    }
}
