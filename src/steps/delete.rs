//! `delete`: delete objects (from manifests or by selector) and wait until
//! they are gone.

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use futures::future::BoxFuture;

use crate::model::access::{Access, verbs};
use crate::language::diag::Diagnostic;
use crate::model::action::{Action, Docs, KindRef, DocsCommand, PlanCx, StepKind, Outcome, ReaderCx};
use crate::model::manifest::Manifests;
use crate::model::resource::{RawResource, Resource};
use crate::model::validator::Validator;
use crate::language::yaml::Spanned;

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
    /// Substitute `${NAME}` / `${NAME:=default}` (envsubst) in manifests and kustomize output,
    /// from vars, step vars, captures and the environment.
    #[serde(default)]
    pub substitute: bool,
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

fn validate(cx: &mut Validator, raw: &Spanned<RawDelete>, extra: &BTreeSet<String>) -> Option<Delete> {
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
    let resources: Vec<Resource> = r
        .resources
        .iter()
        .filter_map(|res| crate::model::resource::resource(cx, res, extra))
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
    fn plan_lines(&self, pc: &PlanCx<'_>) -> Result<Vec<String>, crate::language::diag::Diagnostic> {
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
        if !self.manifests.is_empty() {
            // kubectl delete -f deletes objects, not the fields a manifest lists.
            lines.push(
                "  whole objects named by these manifests, whatever fields they list (a `patch` step removes fields)".to_owned(),
            );
        }
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

// ---------------------------------------------------------------------------
// Run
// ---------------------------------------------------------------------------

use futures::StreamExt as _;
use kube::api::{DeleteParams, PropagationPolicy};

use crate::cluster::{self, Conn, Kind};
use crate::model::action::{Done, StepCx, StepError};

/// One object to delete.
struct Target {
    kind: Kind,
    kind_name: String,
    namespace: Option<String>,
    name: String,
}

enum Gone {
    Deleted,
    Absent,
}

impl Delete {
    /// Deletes every target and waits (by watch) until each is gone.
    ///
    /// # Errors
    /// Cluster errors; an object still present at the deadline (a failure).
    async fn execute(&self, cx: &StepCx<'_>) -> Result<Done, StepError> {
        let conn = cx.conn()?.clone();
        let mut targets = Vec::new();
        let ns = super::common::default_namespace(cx, &self.manifests, &conn)?;
        for o in super::common::render_objects(cx, &self.manifests).await? {
            let kind = conn.kind(&o.api_version, &o.kind, cx.deadline).await?;
            let namespace = kind
                .namespaced
                .then(|| o.namespace.clone().unwrap_or_else(|| ns.clone()));
            targets.push(Target {
                kind,
                kind_name: o.kind.clone(),
                namespace,
                name: o.name.clone(),
            });
        }
        for r in &self.resources {
            let mut r = cx.resource(r)?;
            if r.namespace.is_none() && self.manifests.namespace.is_some() {
                r.namespace = Some(ns.clone());
            }
            let (kind, items) = super::common::list_selected(cx, &conn, &r).await?;
            if items.is_empty() {
                if let crate::model::resource::NameMatch::Exact(n) = &r.name {
                    // Keep it so that `missingOk: false` can say it was absent.
                    targets.push(Target {
                        namespace: kind
                            .namespaced
                            .then(|| r.namespace.clone().unwrap_or_else(|| ns.clone())),
                        kind,
                        kind_name: r.kind.clone(),
                        name: n.clone(),
                    });
                }
                continue;
            }
            for item in items {
                targets.push(Target {
                    kind: kind.clone(),
                    kind_name: r.kind.clone(),
                    namespace: item.metadata.namespace.clone(),
                    name: item.metadata.name.clone().unwrap_or_default(),
                });
            }
        }
        let futs: Vec<_> = targets
            .iter()
            .map(|t| self.delete_one(cx, &conn, t))
            .collect();
        let results: Vec<Result<(String, Gone), StepError>> =
            futures::stream::iter(futs).buffered(16).collect().await;
        let mut deleted = Vec::new();
        let mut absent = Vec::new();
        for r in results {
            match r? {
                (label, Gone::Deleted) => deleted.push(label),
                (label, Gone::Absent) => absent.push(label),
            }
        }
        if !self.missing_ok && !absent.is_empty() {
            return Err(StepError::failed(
                format!(
                    "{} object{} to delete did not exist",
                    absent.len(),
                    if absent.len() == 1 { "" } else { "s" }
                ),
                absent,
            ));
        }
        let verb = if cx.dry_run {
            "would delete"
        } else {
            "deleted"
        };
        let mut message = format!(
            "{verb} {} object{}",
            deleted.len(),
            if deleted.len() == 1 { "" } else { "s" }
        );
        if self.wait && !cx.dry_run && !deleted.is_empty() {
            message.push_str(", all gone");
        }
        if !absent.is_empty() {
            message.push_str(&format!(" ({} already absent)", absent.len()));
        }
        let mut details = deleted;
        details.extend(absent.into_iter().map(|a| format!("{a} (absent)")));
        Ok(Done {
            message,
            details,
            ..Done::default()
        })
    }

    async fn delete_one(
        &self,
        cx: &StepCx<'_>,
        conn: &Conn,
        t: &Target,
    ) -> Result<(String, Gone), StepError> {
        let label = super::common::describe(&t.kind_name, t.namespace.as_deref(), &t.name);
        let api = conn.api(&t.kind, t.namespace.as_deref());
        let Some(existing) =
            cluster::retry(cx.deadline, &conn.name, || api.get_opt(&t.name)).await?
        else {
            return Ok((label, Gone::Absent));
        };
        let uid = existing.metadata.uid.clone().unwrap_or_default();
        let dp = DeleteParams {
            propagation_policy: Some(match self.propagation {
                Propagation::Background => PropagationPolicy::Background,
                Propagation::Foreground => PropagationPolicy::Foreground,
                Propagation::Orphan => PropagationPolicy::Orphan,
            }),
            dry_run: cx.dry_run,
            ..DeleteParams::default()
        };
        match cluster::retry(cx.deadline, &conn.name, || api.delete(&t.name, &dp)).await {
            Ok(_) => {}
            Err(cluster::ClusterError::UnknownKind(_)) => return Ok((label, Gone::Absent)),
            Err(e) => return Err(StepError::Errored(format!("{label}: {e}"))),
        }
        if self.wait && !cx.dry_run {
            wait_gone(cx, conn, &api, &t.name, &uid, &label).await?;
        }
        Ok((label, Gone::Deleted))
    }
}

/// Waits by watch until the object with this uid is gone; survives watch
/// errors (an API server restart) by re-checking and watching again.
pub(crate) async fn wait_gone(
    cx: &StepCx<'_>,
    conn: &Conn,
    api: &kube::Api<kube::api::DynamicObject>,
    name: &str,
    uid: &str,
    label: &str,
) -> Result<(), StepError> {
    use kube::runtime::wait::{await_condition, conditions};
    loop {
        match tokio::time::timeout(
            cx.left(),
            await_condition(api.clone(), name, conditions::is_deleted(uid)),
        )
        .await
        {
            Ok(Ok(_)) => return Ok(()),
            Ok(Err(e)) => {
                let msg = e.to_string();
                if msg.contains("403") || msg.to_lowercase().contains("forbidden") {
                    return Err(StepError::Errored(format!(
                        "{}: forbidden by RBAC while watching {label} until it is gone: {msg}",
                        conn.name
                    )));
                }
                tracing::debug!(cluster = %conn.name, error = %e, "watch for deletion failed; watching again");
                tokio::time::sleep(std::time::Duration::from_millis(200).min(cx.left())).await;
            }
            Err(_) => {
                let left = api.get_opt(name).await.ok().flatten();
                let why = left
                    .map(|o| {
                        let fin = o.metadata.finalizers.unwrap_or_default();
                        if fin.is_empty() {
                            "still present".to_owned()
                        } else {
                            format!("still present, waiting on finalizers {}", fin.join(", "))
                        }
                    })
                    .unwrap_or_else(|| "state unknown".to_owned());
                return Err(StepError::failed(
                    format!("{label} was not gone before the step timed out ({why})"),
                    Vec::new(),
                ));
            }
        }
    }
}

impl StepKind for Delete {
    const NAME: &'static str = "delete";
    const SUMMARY: &'static str = "Delete objects and wait until they are gone.";
    const NEEDS_CLUSTER: bool = true;
    const DRY_RUN: crate::model::action::DryRun = crate::model::action::DryRun::ServerSide;
    type Raw = RawDelete;

    fn validate(v: &mut Validator, raw: &Spanned<RawDelete>, vars: &BTreeSet<String>) -> Option<Self> {
        validate(v, raw, vars)
    }
}

impl Action for Delete {
    fn captures(&self) -> Vec<String> {
        Vec::new()
    }

    fn plan(&self, pc: &PlanCx<'_>) -> Result<Vec<String>, Diagnostic> {
        self.plan_lines(pc)
    }

    fn docs(&self, pc: &PlanCx<'_>, clusters: &[String]) -> Result<Docs, Diagnostic> {
        // The step's behaviour as kubectl flags: kubectl waits until the
        // objects are gone by default, as the step does.
        let mut flags = String::new();
        if self.missing_ok {
            flags.push_str(" --ignore-not-found");
        }
        match self.propagation {
            Propagation::Background => {}
            Propagation::Foreground => flags.push_str(" --cascade=foreground"),
            Propagation::Orphan => flags.push_str(" --cascade=orphan"),
        }
        if !self.wait {
            flags.push_str(" --wait=false");
        }
        let mut docs = Docs::default();
        for c in clusters {
            docs.commands.extend(super::kubectl::manifest_commands(
                &self.manifests,
                pc,
                c,
                &format!("delete{flags}"),
            )?);
            for r in &self.resources {
                // A selector without a namespace takes the step's, as at run time.
                let mut r = pc.resource(r);
                if r.namespace.is_none() && !super::kubectl::cluster_scoped(&r.kind) {
                    r.namespace = self.manifests.namespace.as_deref().map(|n| pc.render(n));
                }
                docs.commands
                    .push(DocsCommand::on(c, super::kubectl::delete_command(c, &r, &flags)));
            }
        }
        Ok(docs)
    }

    fn reader_view(&self, o: &Outcome, cx: &mut ReaderCx) -> Vec<String> {
        // kubectl delete: `TYPE "NAME" deleted`; an absent object prints nothing.
        o.details
            .iter()
            .filter_map(|d| crate::model::observed::object_line(d))
            .filter(|(_, _, absent)| !absent)
            .map(|(kind, name, _)| {
                cx.made.remove(name);
                format!("{} \"{name}\" deleted", cx.type_name(kind))
            })
            .collect()
    }

    fn kinds(&self, pc: &PlanCx<'_>) -> Vec<KindRef> {
        let mut kinds = self.manifests.kinds(pc);
        for r in &self.resources {
            kinds.extend(KindRef::of(&pc.resource(r)));
        }
        kinds
    }

    fn access(&self, pc: &PlanCx<'_>) -> Vec<Access> {
        let mut needs = self.manifests.access(pc, verbs::DELETE);
        for r in &self.resources {
            needs.push(Access::of(&pc.resource(r), verbs::DELETE));
        }
        needs
    }

    fn run<'a>(&'a self, cx: &'a StepCx<'a>) -> BoxFuture<'a, Result<Done, StepError>> {
        Box::pin(self.execute(cx))
    }
}
