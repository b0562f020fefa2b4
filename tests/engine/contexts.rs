//! Which cluster a context names: `--context` alone for a one-cluster
//! playbook, and a kubeconfig that is not there, named once. Exact output; no
//! cluster needed.

use crate::support::Scenario;

#[test]
fn context_without_a_cluster_name_for_a_one_cluster_playbook() {
    let o = Scenario::new()
        .args([
            "plan",
            "tests/playbooks/unreachable.yaml",
            "--context",
            "kind-east",
        ])
        .run();
    assert_eq!(o.status, Some(0), "{}", o.stderr);
    assert!(
        o.stdout
            .contains("clusters:\n  cluster1  context kind-east\n"),
        "{}",
        o.stdout
    );
    Scenario::new().args([
            "plan",
            "tests/playbooks/fanout.yaml",
            "--context",
            "kind-east",
        ])
        .expect_status(2)
        .expect_stderr("error: --context kind-east: the playbook has 2 clusters, so say which one\n  --> <command line>\n  = expected: --context CLUSTER=kind-east, with CLUSTER one of: cluster1, cluster2\n\n1 error found; nothing was run\n")
        .run();
}

#[test]
fn a_missing_kubeconfig_is_named_once_without_quotes() {
    Scenario::new()
        .args([
            "run",
            "tests/playbooks/fanout.yaml",
            "--kubeconfig",
            "/nope/kubeconfig",
        ])
        .expect_status(2)
        .expect_stderr("error: pre-flight: cannot read kubeconfig /nope/kubeconfig: No such file or directory (os error 2)\n\n1 problem found before the run; nothing was written to any cluster\n")
        .run();
}
