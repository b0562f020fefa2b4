//! LAB: the mutation suite for the cluster check kinds (the probe's and
//! exec's are in tests/probe/mutation.rs). Each check passes as written against a
//! real API server and FAILS (exit 1) once its expectation is changed, so no
//! check can silently become a no-op: `wait` (exists, deleted, condition,
//! jsonpath equals/matches/oneOf/exists, match, count) and `patch`'s JSON
//! Patch `test`.

use crate::support;

use serde_json::json;
use support::{apply_json, client, namespace, run_playbook};

const CRD: &str = "trafficpolicies.networking.mesh.gloo.solo.io";

/// Runs a one-step playbook on cluster1; returns (exit code, stdout + stderr).
fn run_step(step: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("p.yaml");
    std::fs::write(
        &book,
        format!("name: mutation\nclusters:\n  cluster1: {{}}\n  mgmt: {{}}\nsteps:\n  - name: check\n    timeout: 3s\n{step}"),
    )
    .unwrap();
    let (code, out, err) = run_playbook(book.to_str().unwrap(), &["--no-color"]);
    (code, format!("{out}{err}"))
}

/// `holds` passes, `mutant` fails with exit 1 and says `why`.
fn pair(holds: &str, mutant: &str, why: &str) {
    let (code, out) = run_step(holds);
    assert_eq!(code, 0, "the unmutated check must pass:\n{holds}\n{out}");
    let (code, out) = run_step(mutant);
    assert_eq!(code, 1, "the mutant must fail:\n{mutant}\n{out}");
    assert!(out.contains(why), "expected {why:?} in:\n{out}");
}

/// A namespace on cluster1 with ConfigMap `settings` (mode fast, replicas "3").
async fn settings(test: &str) -> String {
    let c = client("cluster1").await;
    let ns = namespace(&c, test).await;
    apply_json(
        &c,
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "settings", "namespace": ns, "labels": {"app": "demo"}},
               "data": {"mode": "fast", "owner": "team-blue"}}),
        "test",
    )
    .await;
    ns
}

fn wait(ns: &str, body: &str) -> String {
    format!(
        "    clusters: cluster1\n    wait:\n      resource: {{ apiVersion: v1, kind: ConfigMap, namespace: {ns}, name: settings }}\n{body}"
    )
}

#[tokio::test]
async fn wait_exists_and_deleted() {
    let ns = settings("mut_exists").await;
    pair(
        &wait(&ns, ""),
        &wait(&ns, "").replace("name: settings", "name: nothing-here"),
        "timed out waiting until",
    );
    pair(
        &wait(&ns, "      for: exists\n"),
        &wait(&ns, "      for: deleted\n"),
        "timed out waiting until",
    );
}

#[tokio::test]
async fn wait_jsonpath_predicates() {
    let ns = settings("mut_jsonpath").await;
    for (holds, mutant) in [
        (
            "{ path: $.data.mode, equals: fast }",
            "{ path: $.data.mode, equals: slow }",
        ),
        (
            "{ path: $.data.owner, matches: '^team-' }",
            "{ path: $.data.owner, matches: '^org-' }",
        ),
        (
            "{ path: $.data.mode, oneOf: [fast, slow] }",
            "{ path: $.data.mode, oneOf: [slow, off] }",
        ),
        (
            "{ path: $.data.mode, exists: true }",
            "{ path: $.data.speed, exists: true }",
        ),
        (
            "{ path: $.data.speed, exists: false }",
            "{ path: $.data.mode, exists: false }",
        ),
    ] {
        pair(
            &wait(&ns, &format!("      jsonpath:\n        - {holds}\n")),
            &wait(&ns, &format!("      jsonpath:\n        - {mutant}\n")),
            "timed out waiting until",
        );
    }
}

#[tokio::test]
async fn wait_match_and_count() {
    let ns = settings("mut_match").await;
    pair(
        &wait(&ns, "      match: { data: { mode: fast } }\n"),
        &wait(&ns, "      match: { data: { mode: slow } }\n"),
        "data.mode: expected \"slow\", found \"fast\"",
    );
    let by_label = |count: u32| {
        format!(
            "    clusters: cluster1\n    wait:\n      resource: {{ apiVersion: v1, kind: ConfigMap, namespace: {ns}, labels: app=demo }}\n      count: {count}\n"
        )
    };
    pair(&by_label(1), &by_label(2), "timed out waiting until");
}

#[tokio::test]
async fn wait_condition() {
    let crd = |status: &str| {
        format!(
            "    clusters: mgmt\n    wait:\n      resource: {{ apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, name: {CRD} }}\n      condition: {{ type: Established, status: \"{status}\" }}\n"
        )
    };
    pair(&crd("True"), &crd("False"), "condition Established=False");
}

#[tokio::test]
async fn patch_json_test_operation() {
    let ns = settings("mut_patch_test").await;
    let patch = |mode: &str| {
        format!(
            "    clusters: cluster1\n    patch:\n      resource: {{ apiVersion: v1, kind: ConfigMap, namespace: {ns}, name: settings }}\n      type: json\n      body:\n        - {{ op: test, path: /data/mode, value: {mode} }}\n        - {{ op: add, path: /data/checked, value: \"yes\" }}\n"
        )
    };
    let (code, out) = run_step(&patch("fast"));
    assert_eq!(code, 0, "{out}");
    let (code, out) = run_step(&patch("slow"));
    assert_ne!(
        code, 0,
        "a failed JSON Patch test must fail the step: {out}"
    );
}
