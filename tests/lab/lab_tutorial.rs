//! A tutorial of two chapters on the lab: the second builds on the state
//! and the values the first leaves, and its precondition fails at once when
//! that state is not there.

use crate::support;

use support::{Scenario, lab, namespace};

const TUTORIAL: &str = "tests/tutorials/lab/tutorial.yaml";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lab_tutorial_runs_its_chapters_on_the_same_clusters() {
    let c = support::client("cluster1").await;
    let ns = namespace(&c, "tutorial").await;
    let c2 = support::client("cluster2").await;
    let ns2 = ns.clone();
    // The same namespace on cluster2.
    support::apply_json(
        &c2,
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns2}}),
        "test",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let var = format!("ns={ns}");
    let o = Scenario::new()
        .args(["run", TUTORIAL, "--var", &var, "--report"])
        .arg(format!("json={}", report.display()))
        .env("KUBECONFIG", &lab().kubeconfig)
        .run();
    assert_eq!(o.status, Some(0), "{}\n{}", o.stdout, o.stderr);
    assert!(
        o.stdout.contains("  1  write    passed     2/2"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains("  2  read     passed     3/3"),
        "{}",
        o.stdout
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(v["playbooks"][0]["chapter"]["group"], "Setup");

    // The second chapter alone: the state is gone (its finally deleted it),
    // so the precondition fails at once; the exports are given with --var.
    let started = std::time::Instant::now();
    let o = Scenario::new()
        .args(["run", TUTORIAL, "--chapter", "read", "--var", &var])
        .args(["--var", "weight=40", "--var", "settings=unused", "--report"])
        .arg(format!("json={}", report.display()))
        .env("KUBECONFIG", &lab().kubeconfig)
        .run();
    let whole = started.elapsed();
    assert_eq!(o.status, Some(1), "{}\n{}", o.stdout, o.stderr);
    assert!(
        o.stdout
            .contains("checked now whether v1 ConfigMap tutorial-settings in"),
        "{}",
        o.stdout
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let step = &v["playbooks"][0]["steps"][0];
    assert_eq!(step["name"], "precondition");
    assert_eq!(step["status"], "failed");
    let took = step["duration"].as_f64().unwrap();
    assert!(took < 1.0, "the precondition took {took}s");
    eprintln!("tutorial precondition: step {took:.3}s, whole run {whole:?}");
    // Alone without the exports, nothing runs.
    let o = Scenario::new()
        .args(["run", TUTORIAL, "--chapter", "read", "--var", &var])
        .env("KUBECONFIG", &lab().kubeconfig)
        .run();
    assert_eq!(o.status, Some(2), "{}\n{}", o.stdout, o.stderr);
    assert!(
        o.stderr.contains("which chapter `write` exports"),
        "{}",
        o.stderr
    );
    support::drop_namespace(&c, &ns).await;
    support::drop_namespace(&c2, &ns).await;
}
