//! Pre-flight: before the first write, connect to every cluster the selected
//! steps (and `finally`) target and resolve every kind they name. A playbook
//! that would fail half-way because a context is missing, a cluster is down
//! or a kind is unknown fails here instead, with every problem listed, and
//! no cluster is changed.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use tokio::time::Instant;

use super::result::{Outcome, PlaybookResult, Status, StepResult};
use super::selection::RunOptions;
use crate::cluster::{ClusterError, Clusters, KubeconfigSource};
use crate::language::template;
use crate::model::action::{KindRef, PlanCx};
use crate::model::playbook::Playbook;

/// How long the pre-flight of one cluster may take by default
/// (`run --preflight-timeout` changes it). Transient errors are retried
/// inside it, as steps retry them inside their timeout.
pub const PER_CLUSTER: Duration = Duration::from_secs(20);

/// The name of the pre-flight in reports: not a valid step name, so it
/// never collides with one.
pub const STEP_NAME: &str = "(pre-flight)";

/// One problem found before the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The logical cluster it concerns.
    pub cluster: String,
    pub message: String,
    /// A context the kubeconfig lacks (usage: exit 2) rather than a cluster
    /// that cannot be reached or lacks a kind (exit 3).
    pub config: bool,
}

/// The connections of a playbook's clusters (one per logical cluster).
#[must_use]
pub fn clusters_of(pb: &Playbook, opts: &RunOptions) -> Clusters {
    let contexts = pb
        .clusters
        .keys()
        .map(|name| {
            let ctx = pb.scope.context_of(name).unwrap_or(name).to_owned();
            (name.clone(), ctx)
        })
        .collect();
    Clusters::new(
        KubeconfigSource {
            path: opts.kubeconfig.clone(),
        },
        contexts,
    )
}

/// Every problem of the clusters the run would touch (empty: go).
pub async fn check(pb: &Playbook, opts: &RunOptions) -> Vec<Problem> {
    let env = template::environment();
    let mut targets: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    let mut defined: BTreeSet<(String, String)> = BTreeSet::new();
    let selected = (0..pb.steps.len())
        .filter(|&i| opts.selection.excluded(&pb.steps, i).is_none())
        .map(|i| &pb.steps[i]);
    for step in selected.chain(&pb.finally) {
        if !step.kind.needs_cluster {
            continue;
        }
        let pc = PlanCx::shared(&env, pb.preview(step));
        let kinds = step.action.kinds(&pc);
        for c in &step.options.clusters {
            let names = targets.entry(c.clone()).or_default();
            for k in &kinds {
                match k {
                    KindRef::Uses { api_version, kind } => {
                        names.insert((api_version.clone(), kind.clone()));
                    }
                    KindRef::Defines { group, kind } => {
                        defined.insert((group.clone(), kind.clone()));
                    }
                }
            }
        }
    }
    let clusters = clusters_of(pb, opts);
    let budget = opts.preflight_timeout.unwrap_or(PER_CLUSTER);
    let checks = targets.iter().map(|(name, kinds)| {
        let (clusters, defined) = (&clusters, &defined);
        async move {
            let deadline = Instant::now() + budget;
            let problem = |config: bool, message: String| Problem {
                cluster: name.clone(),
                message,
                config,
            };
            let conn = match clusters.get(name).await {
                Ok(c) => c,
                Err(e) => {
                    return vec![problem(matches!(e, ClusterError::Config(_)), e.to_string())];
                }
            };
            // The same retry as every step's request: transient errors
            // (refused, reset, 429, 5xx, no answer) are retried until the budget ends.
            let reach =
                crate::cluster::retry(deadline, name, || conn.client.apiserver_version()).await;
            if let Err(why) = reach {
                return vec![problem(
                    false,
                    format!(
                        "cluster `{name}` (context {}, {}) cannot be reached: {why}",
                        conn.context, conn.server
                    ),
                )];
            }
            let mut problems = Vec::new();
            for (api_version, kind) in kinds {
                let group = api_version.split_once('/').map_or("", |(g, _)| g);
                if defined.contains(&(group.to_owned(), kind.clone())) {
                    continue; // its CRD is applied by the playbook itself
                }
                if let Err(e) = conn.kind(api_version, kind, deadline).await {
                    problems.push(problem(false, format!("cluster `{name}`: {e}")));
                }
            }
            problems
        }
    });
    futures::future::join_all(checks)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// Why a playbook did not run: the pre-flight stopped the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotRun {
    /// Its own pre-flight found problems.
    Problems,
    /// Another playbook's pre-flight found problems (a run is all or nothing).
    Other,
    /// SIGINT/SIGTERM arrived before the steps started.
    Interrupted,
}

/// The result of a playbook that did not run because of the pre-flight:
/// an errored `(pre-flight)` step with one outcome per problem (per
/// cluster), then its steps, skipped. Reports written from it say what
/// stopped the run, not "0 tests".
#[must_use]
pub fn not_run(pb: &Playbook, problems: &[Problem], why: NotRun, took: Duration) -> PlaybookResult {
    let outcome = |cluster: Option<String>, status: Status, message: String| Outcome {
        cluster,
        status,
        message,
        details: Vec::new(),
        duration: took,
        captures: serde_json::Map::new(),
        data: None,
        checks: Vec::new(),
    };
    let (status, outcomes, skip) = match why {
        NotRun::Problems => (
            Status::Errored,
            problems
                .iter()
                .map(|p| outcome(Some(p.cluster.clone()), Status::Errored, p.message.clone()))
                .collect(),
            "the pre-flight found problems; nothing was written to any cluster",
        ),
        NotRun::Other => (
            Status::Skipped,
            vec![outcome(
                None,
                Status::Skipped,
                "passed, but another playbook's pre-flight found problems, so nothing ran"
                    .to_owned(),
            )],
            "another playbook's pre-flight found problems; nothing was written to any cluster",
        ),
        NotRun::Interrupted => (
            Status::Errored,
            vec![outcome(
                None,
                Status::Errored,
                "interrupted (SIGINT/SIGTERM) before the steps started; nothing was written to any cluster"
                    .to_owned(),
            )],
            "interrupted before the steps started",
        ),
    };
    let mut steps = vec![StepResult {
        name: STEP_NAME.to_owned(),
        kind: "preflight",
        status,
        duration: took,
        attempts: 1,
        outcomes,
        finally: false,
    }];
    for (step, finally) in pb
        .steps
        .iter()
        .map(|s| (s, false))
        .chain(pb.finally.iter().map(|s| (s, true)))
    {
        steps.push(StepResult::skipped(step, skip, finally));
    }
    PlaybookResult {
        name: pb.name.clone(),
        path: pb.source.name.clone(),
        status,
        interrupted: why == NotRun::Interrupted,
        duration: took,
        steps,
        chapter: pb.chapter.clone(),
    }
}

/// A chapter of a tutorial run that does not start (an earlier chapter did
/// not pass, or a signal): every step skipped, saying why.
#[must_use]
pub fn not_run_because(pb: &Playbook, why: &str) -> PlaybookResult {
    let steps = pb
        .steps
        .iter()
        .map(|s| (s, false))
        .chain(pb.finally.iter().map(|s| (s, true)))
        .map(|(s, finally)| StepResult::skipped(s, why, finally))
        .collect();
    PlaybookResult {
        name: pb.name.clone(),
        path: pb.source.name.clone(),
        status: Status::Skipped,
        interrupted: false,
        duration: Duration::ZERO,
        steps,
        chapter: pb.chapter.clone(),
    }
}
