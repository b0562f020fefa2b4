//! Pre-flight against the lab: with one cluster of three misnamed or down,
//! `run` stops before its first write; the audit logs of the other API
//! servers show no write request from scenario.

use crate::support::{self, Scenario};

const PLAYBOOK: &str = r#"name: preflight
clusters:
  mgmt: {}
  cluster1: {}
  cluster2: {}
vars:
  name: unset
steps:
  - name: write
    clusters: [mgmt, cluster1]
    apply:
      namespace: default
      inline: |
        apiVersion: v1
        kind: ConfigMap
        metadata: { name: "{{ name }}" }
        data: { written: "yes" }
  - name: read
    clusters: cluster2
    get:
      resources: [{ apiVersion: v1, kind: ConfigMap, namespace: default }]
"#;

/// Requests by scenario that name `object` and change something.
fn writes_naming(object: &str) -> Vec<String> {
    let mut out = Vec::new();
    for c in &support::lab().clusters {
        let log = std::fs::read_to_string(&c.audit_log).unwrap_or_default();
        out.extend(
            log.lines()
                .filter(|l| l.contains("\"userAgent\":\"scenario/") && l.contains(object))
                .filter(|l| {
                    ["create", "update", "patch", "delete"]
                        .iter()
                        .any(|v| l.contains(&format!("\"verb\":\"{v}\"")))
                })
                .map(|l| format!("{}: {l}", c.name)),
        );
    }
    out
}

fn run(
    dir: &std::path::Path,
    kubeconfig: &std::path::Path,
    args: &[&str],
) -> (i32, String, String) {
    let out = Scenario::new()
        .arg("run")
        .arg(dir.join("p.yaml"))
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .run();
    (out.code(), out.stdout, out.stderr)
}

#[test]
fn a_misnamed_or_dead_cluster_stops_the_run_before_any_write() {
    use rand::Rng as _;
    let lab = support::lab();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.yaml"), PLAYBOOK).unwrap();
    let name = format!("preflight-{}", rand::rng().random_range(0..1_000_000u32));
    let var = format!("name={name}");

    // Misnamed: the kubeconfig has no such context -> exit 2.
    let (code, out, err) = run(
        dir.path(),
        &lab.kubeconfig,
        &["--var", &var, "--context", "cluster2=custer2"],
    );
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(
        err.contains(
            "error: pre-flight: cluster `cluster2`: context `custer2` is not in the kubeconfig"
        ),
        "{err}"
    );
    assert!(err.contains("did you mean `cluster2`?"), "{err}");
    assert!(out.is_empty(), "no step ran: {out}");

    // Down: the same context points at a port where nothing listens -> exit 3.
    let kc = std::fs::read_to_string(&lab.kubeconfig).unwrap();
    let server = &lab.cluster("cluster2").unwrap().server;
    let dead = dir.path().join("kubeconfig");
    std::fs::write(&dead, kc.replace(server.as_str(), "https://127.0.0.1:1")).unwrap();
    let (code, out, err) = run(
        dir.path(),
        &dead,
        &["--var", &var, "--preflight-timeout", "2s"],
    );
    assert_eq!(code, 3, "{out}\n{err}");
    // Refused connections are retried until the budget ends, not given up on.
    assert!(
        err.contains("attempts in 1.9s, until the time limit)"),
        "{err}"
    );
    assert!(
        err.contains("error: pre-flight: cluster `cluster2` (context cluster2, https://127.0.0.1:1/) cannot be reached"),
        "{err}"
    );
    assert!(out.is_empty(), "no step ran: {out}");

    // The audit logs of mgmt and cluster1 show no write naming the object.
    let writes = writes_naming(&name);
    assert!(
        writes.is_empty(),
        "writes before a failed pre-flight: {writes:?}"
    );

    // With every cluster up, the same playbook writes (the check above can fail).
    let (code, out, err) = run(dir.path(), &lab.kubeconfig, &["--var", &var]);
    assert_eq!(code, 0, "{out}\n{err}");
    let writes = writes_naming(&name);
    assert!(
        writes.len() >= 2,
        "the run wrote on mgmt and cluster1: {writes:?}"
    );
}
