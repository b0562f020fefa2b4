//! Pre-flight: before the first write, connect to every cluster the selected
//! steps (and `finally`) target and resolve every kind they name. A playbook
//! that would fail half-way because a context is missing, a cluster is down
//! or a kind is unknown fails here instead, with every problem listed, and
//! no cluster is changed.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use tokio::time::Instant;

use super::selection::RunOptions;
use crate::cluster::{ClusterError, Clusters, KubeconfigSource};
use crate::language::template;
use crate::model::action::{KindRef, PlanCx};
use crate::model::playbook::Playbook;

/// How long the pre-flight of one cluster may take.
const PER_CLUSTER: Duration = Duration::from_secs(20);

/// One problem found before the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
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
    let checks = targets.iter().map(|(name, kinds)| {
        let (clusters, defined) = (&clusters, &defined);
        async move {
            let deadline = Instant::now() + PER_CLUSTER;
            let conn = match clusters.get(name).await {
                Ok(c) => c,
                Err(e) => {
                    return vec![Problem {
                        config: matches!(e, ClusterError::Config(_)),
                        message: e.to_string(),
                    }];
                }
            };
            let reach = tokio::time::timeout(PER_CLUSTER, conn.client.apiserver_version()).await;
            let unreachable = match reach {
                Ok(Ok(_)) => None,
                Ok(Err(e)) => Some(crate::cluster::classify(name, &e).to_string()),
                Err(_) => Some(format!("no answer within {}s", PER_CLUSTER.as_secs())),
            };
            if let Some(why) = unreachable {
                return vec![Problem {
                    config: false,
                    message: format!(
                        "cluster `{name}` (context {}, {}) cannot be reached: {why}",
                        conn.context, conn.server
                    ),
                }];
            }
            let mut problems = Vec::new();
            for (api_version, kind) in kinds {
                let group = api_version.split_once('/').map_or("", |(g, _)| g);
                if defined.contains(&(group.to_owned(), kind.clone())) {
                    continue; // its CRD is applied by the playbook itself
                }
                if let Err(e) = conn.kind(api_version, kind, deadline).await {
                    problems.push(Problem {
                        config: false,
                        message: format!("cluster `{name}`: {e}"),
                    });
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
