//! LAB TEST: in-cluster mode. A playbook runs as a pod would run it: no
//! kubeconfig, `KUBERNETES_SERVICE_HOST`/`_PORT` and the service account's
//! token, CA and namespace in a directory (`SCENARIO_SERVICE_ACCOUNT_DIR`
//! stands in for /var/run/secrets/kubernetes.io/serviceaccount), with the RBAC
//! `scenario rbac` derives and nothing more. Then each verb of it is needed:
//! without any one of them the run fails with exit 3 naming it.

use crate::support;

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{ConfigMap, ServiceAccount};
use k8s_openapi::api::rbac::v1::Role;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;
use support::{Scenario, client, drop_namespace, lab, namespace};

fn playbook(ns: &str) -> String {
    format!(
        r#"name: in-cluster
clusters:
  cluster1: {{}}
steps:
  - name: settings
    clusters: cluster1
    apply:
      namespace: {ns}
      inline: |
        apiVersion: v1
        kind: ConfigMap
        metadata: {{ name: settings }}
        data: {{ mode: slow }}
  - name: ready-later
    clusters: cluster1
    timeout: 10s
    wait:
      resource: {{ apiVersion: v1, kind: ConfigMap, namespace: {ns}, name: settings }}
      jsonpath:
        - {{ path: $.data.ready, equals: "yes" }}
  - name: go-fast
    clusters: cluster1
    patch:
      resource: {{ apiVersion: v1, kind: ConfigMap, namespace: {ns}, name: settings }}
      body: {{ data: {{ mode: fast }} }}
  - name: read-mode
    clusters: cluster1
    get:
      resources:
        - {{ apiVersion: v1, kind: ConfigMap, namespace: {ns}, name: settings }}
      capture: {{ mode: $.data.mode }}
  - name: clean-up
    clusters: cluster1
    timeout: 10s
    delete:
      resources:
        - {{ apiVersion: v1, kind: ConfigMap, namespace: {ns}, name: settings }}
"#
    )
}

/// A service account's token, CA and namespace, laid out as in a pod.
async fn pod_dir(admin: &kube::Client, ns: &str, dir: &std::path::Path) {
    let sas: Api<ServiceAccount> = Api::namespaced(admin.clone(), ns);
    let sa: ServiceAccount =
        serde_json::from_value(json!({ "metadata": { "name": "runner" } })).unwrap();
    sas.create(&PostParams::default(), &sa).await.unwrap();
    let request = TokenRequest {
        spec: TokenRequestSpec {
            audiences: Vec::new(),
            expiration_seconds: Some(3600),
            ..TokenRequestSpec::default()
        },
        ..TokenRequest::default()
    };
    let token = sas
        .create_token_request("runner", &PostParams::default(), &request)
        .await
        .unwrap()
        .status
        .unwrap()
        .token;
    std::fs::write(dir.join("token"), token).unwrap();
    std::fs::write(dir.join("ca.crt"), &lab().ca_pem).unwrap();
    std::fs::write(dir.join("namespace"), ns).unwrap();
}

/// Runs the playbook in a "pod" while another writer marks the ConfigMap
/// ready a moment after the run made it, so that the wait step watches.
async fn run_while_ready_later(
    admin: &kube::Client,
    ns: &str,
    paths: [&std::path::Path; 3],
) -> (i32, String) {
    let cms: Api<ConfigMap> = Api::namespaced(admin.clone(), ns);
    let _ = cms.delete("settings", &DeleteParams::default()).await;
    let [pb, sa_dir, home] = paths.map(std::path::Path::to_path_buf);
    let run = tokio::task::spawn_blocking(move || run_in_pod(&pb, &sa_dir, &home));
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    // Fails harmlessly when the run stopped before it made the ConfigMap.
    let _ = cms
        .patch(
            "settings",
            &PatchParams::default(),
            &Patch::Merge(json!({ "data": { "ready": "yes" } })),
        )
        .await;
    run.await.unwrap()
}

fn run_in_pod(
    pb: &std::path::Path,
    sa_dir: &std::path::Path,
    home: &std::path::Path,
) -> (i32, String) {
    let server = &lab()
        .clusters
        .iter()
        .find(|c| c.name == "cluster1")
        .unwrap()
        .server;
    let port = server.rsplit(':').next().unwrap().trim_end_matches('/');
    let out = Scenario::new()
        .arg("run")
        .arg(pb)
        .env_remove("KUBECONFIG")
        .env("HOME", home)
        .env("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        .env("KUBERNETES_SERVICE_PORT", port)
        .env("SCENARIO_SERVICE_ACCOUNT_DIR", sa_dir)
        .run();
    (out.code(), out.both())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lab_in_cluster_runs_with_the_derived_rbac_and_needs_every_verb_of_it() {
    let admin = client("cluster1").await;
    let ns = namespace(&admin, "in-cluster").await;
    let tmp = tempfile::tempdir().unwrap();
    let pb = tmp.path().join("in-cluster.yaml");
    std::fs::write(&pb, playbook(&ns)).unwrap();
    let sa_dir = tmp.path().join("serviceaccount");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&sa_dir).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    pod_dir(&admin, &ns, &sa_dir).await;

    // Without any RBAC the service account may do nothing: exit 3, named.
    let (code, out) = run_in_pod(&pb, &sa_dir, &home);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains(&format!("system:serviceaccount:{ns}:runner")),
        "{out}"
    );

    let rbac = Scenario::new()
        .arg("rbac")
        .arg(&pb)
        .args(["--service-account", &format!("{ns}/runner"), "--name", &ns])
        .run();
    assert_eq!(rbac.code(), 0, "{}", rbac.both());
    let applied = std::process::Command::new("kubectl")
        .env("KUBECONFIG", &lab().kubeconfig)
        .args(["--context", "cluster1", "apply", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(rbac.stdout.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );

    let paths = [pb.as_path(), sa_dir.as_path(), home.as_path()];
    let (code, out) = run_while_ready_later(&admin, &ns, paths).await;
    assert_eq!(
        code, 0,
        "the derived RBAC is enough:\n{}\n{out}",
        rbac.stdout
    );

    // Least privilege: each verb on configmaps is needed.
    let roles: Api<Role> = Api::namespaced(admin.clone(), &ns);
    let verbs = ["get", "list", "watch", "create", "patch", "delete"];
    for missing in verbs {
        let kept: Vec<&str> = verbs.iter().copied().filter(|v| *v != missing).collect();
        roles
            .patch(
                &ns,
                &PatchParams::default(),
                &Patch::Merge(json!({ "rules": [
                    { "apiGroups": [""], "resources": ["configmaps"], "verbs": kept }
                ] })),
            )
            .await
            .unwrap();
        // The authorizer sees the change within moments; a run that keeps
        // passing is the failure this test is for.
        let mut last = (0, String::new());
        for _ in 0..10 {
            last = run_while_ready_later(&admin, &ns, paths).await;
            if last.0 != 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        let (code, out) = last;
        assert_eq!(code, 3, "without `{missing}` the run must fail:\n{out}");
        assert!(
            out.contains(&format!("cannot {missing} resource \"configmaps\"")),
            "without `{missing}`: {out}"
        );
    }
    drop_namespace(&admin, &ns).await;
}
