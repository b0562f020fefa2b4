//! In-cluster mode without a cluster: which contexts scenario sees when the
//! pod's service account is there (`KUBERNETES_SERVICE_HOST`/`_PORT` and the
//! files of `SCENARIO_SERVICE_ACCOUNT_DIR`). The lab test `lab_in_cluster`
//! runs a playbook this way against a real API server.

use crate::support::Scenario;

const PLAYBOOK: &str = "name: p\nclusters:\n  a: { context: nowhere }\n  b: { context: remote }\nsteps:\n  - name: s\n    clusters: [a, b]\n    get:\n      resources:\n        - { apiVersion: v1, kind: ConfigMap, namespace: ns, name: cm }\n";

/// A pod's service-account directory, a home without kubeconfig, a playbook.
fn pod() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let sa = dir.path().join("sa");
    std::fs::create_dir_all(&sa).unwrap();
    std::fs::create_dir_all(dir.path().join("home")).unwrap();
    std::fs::write(sa.join("token"), "not-a-real-token").unwrap();
    std::fs::write(sa.join("ca.crt"), "not a certificate").unwrap();
    std::fs::write(sa.join("namespace"), "tests").unwrap();
    let pb = dir.path().join("p.yaml");
    std::fs::write(&pb, PLAYBOOK).unwrap();
    (dir, pb)
}

fn in_pod(dir: &std::path::Path) -> Scenario {
    Scenario::new()
        .env_remove("KUBECONFIG")
        .env("HOME", dir.join("home"))
        .env("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        .env("KUBERNETES_SERVICE_PORT", "1")
        .env("SCENARIO_SERVICE_ACCOUNT_DIR", dir.join("sa"))
}

#[test]
fn the_service_account_is_the_context_in_cluster_beside_a_mounted_kubeconfig() {
    let (dir, pb) = pod();
    let kc = dir.path().join("kubeconfig");
    std::fs::write(
        &kc,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: r\n  cluster: { server: \"https://127.0.0.1:1\" }\nusers:\n- name: r\n  user: { token: t }\ncontexts:\n- name: remote\n  context: { cluster: r, user: r }\n",
    )
    .unwrap();
    let out = in_pod(dir.path())
        .env("KUBECONFIG", &kc)
        .arg("run")
        .arg(&pb)
        .args(["--preflight-timeout", "300ms"])
        .run();
    assert_eq!(out.code(), 2, "{}", out.both());
    assert!(
        out.stderr
            .contains("context `nowhere` is not in the kubeconfig (contexts: remote, in-cluster)"),
        "{}",
        out.stderr
    );
}

#[test]
fn without_a_kubeconfig_several_clusters_must_name_their_contexts() {
    let (dir, pb) = pod();
    let out = in_pod(dir.path()).arg("run").arg(&pb).run();
    assert_eq!(out.code(), 2, "{}", out.both());
    assert!(
        out.stderr
            .contains("context `nowhere` is not in the kubeconfig (contexts: in-cluster)"),
        "{}",
        out.stderr
    );
}

#[test]
fn outside_a_pod_there_is_no_context_in_cluster() {
    let (dir, pb) = pod();
    // A port that is not a port, then no token: neither is a pod.
    for (port, token) in [("http", true), ("443", false)] {
        if !token {
            std::fs::remove_file(dir.path().join("sa/token")).unwrap();
        }
        let out = in_pod(dir.path())
            .env("KUBERNETES_SERVICE_PORT", port)
            .arg("run")
            .arg(&pb)
            .run();
        assert_eq!(out.code(), 2, "{}", out.both());
        assert!(
            out.stderr
                .contains("cannot read kubeconfig (KUBECONFIG or ~/.kube/config)"),
            "{}",
            out.stderr
        );
    }
}
