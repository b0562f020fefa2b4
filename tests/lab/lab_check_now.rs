//! `wait` with `now: true`: a precondition checked once on the current
//! state, failing at once with what was found (not after the timeout).

use crate::support;

use serde_json::json;
use support::{apply_json, client, drop_namespace, namespace, run_playbook};

/// A playbook of one `now` check on cluster1 (the rest of the `wait` given).
fn playbook(dir: &std::path::Path, wait: &str) -> String {
    let path = dir.join("now.yaml");
    std::fs::write(
        &path,
        format!(
            "name: now\nclusters:\n  cluster1: {{}}\nvars:\n  ns: default\nsteps:\n  - name: precondition\n    clusters: cluster1\n    timeout: 30s\n    wait:\n      now: true\n{wait}"
        ),
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

/// The duration of the first step, from a JSON report.
fn step_seconds(report: &std::path::Path) -> f64 {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    v["playbooks"][0]["steps"][0]["duration"].as_f64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lab_check_now_fails_at_once_with_what_was_found() {
    let c = client("cluster1").await;
    let ns = namespace(&c, "check-now").await;
    apply_json(
        &c,
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "settings", "namespace": ns},
               "data": {"mode": "blue"}}),
        "test",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let rep = format!("json={}", report.display());
    let var = format!("ns={ns}");

    // Missing object: fails at once (the step's timeout is 30s).
    let p = playbook(
        dir.path(),
        "      resource: { apiVersion: v1, kind: ConfigMap, namespace: \"{{ ns }}\", name: absent }\n",
    );
    let started = std::time::Instant::now();
    let (code, out, err) = run_playbook(&p, &["--var", &var, "--report", &rep]);
    let whole = started.elapsed();
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        out.contains(&format!(
            "checked now whether v1 ConfigMap absent in {ns} exists: found no matching ConfigMap\n"
        )),
        "{out}"
    );
    let took = step_seconds(&report);
    assert!(took < 1.0, "the false precondition took {took}s");
    eprintln!("check now, false: step {took:.3}s, whole run {whole:?}");

    // The object exists but a check does not hold: says which, located.
    let p = playbook(
        dir.path(),
        "      resource: { apiVersion: v1, kind: ConfigMap, namespace: \"{{ ns }}\", name: settings }\n      jsonpath:\n        - { path: $.data.mode, equals: green }\n",
    );
    let (code, out, err) = run_playbook(&p, &["--var", &var, "--report", &rep]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("exists, but"), "{out}");
    assert!(
        out.contains("now.yaml:14:11: $.data.mode == \"green\"; found \"blue\""),
        "the check is located: {out}"
    );
    assert!(out.contains("found \"blue\""), "{out}");
    assert!(step_seconds(&report) < 1.0);

    // It holds: passes, and captures like any wait.
    let p = playbook(
        dir.path(),
        "      resource: { apiVersion: v1, kind: ConfigMap, namespace: \"{{ ns }}\", name: settings }\n      jsonpath:\n        - { path: $.data.mode, equals: blue }\n      capture: { mode: $.data.mode }\n",
    );
    let (code, out, err) = run_playbook(&p, &["--var", &var]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("captured mode = \"blue\""), "{out}");

    // Without `now`, the same false condition waits for the timeout.
    let path = dir.path().join("wait.yaml");
    std::fs::write(
        &path,
        format!("name: w\nclusters:\n  cluster1: {{}}\nsteps:\n  - name: w\n    clusters: cluster1\n    timeout: 2s\n    wait:\n      resource: {{ apiVersion: v1, kind: ConfigMap, namespace: {ns}, name: absent }}\n"),
    )
    .unwrap();
    let (code, out, _) = run_playbook(&path.to_string_lossy(), &["--report", &rep]);
    assert_eq!(code, 1, "{out}");
    assert!(step_seconds(&report) >= 1.9, "{out}");
    drop_namespace(&c, &ns).await;
}
