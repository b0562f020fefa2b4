//! The local lab, tested against the real control planes it starts.

use crate::support;

use std::process::Command;
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use kube::discovery::Discovery;
use kube::runtime::wait::{await_condition, conditions};
use support::{CLUSTERS, Scenario, client, lab, namespace};

#[tokio::test]
async fn three_api_servers_answer_through_the_kubeconfig_contexts() {
    let state = lab();
    let mut servers = Vec::new();
    for c in CLUSTERS {
        let v = client(c).await.apiserver_version().await.expect("version");
        assert_eq!((v.major.as_str(), v.minor.as_str()), ("1", "20"), "{c}");
        servers.push(state.cluster(c).unwrap().server.clone());
    }
    servers.sort();
    servers.dedup();
    assert_eq!(servers.len(), 3, "three distinct API servers");
    // The kubeconfig trusts the lab CA: no insecure-skip-tls-verify anywhere.
    let kc = std::fs::read_to_string(&state.kubeconfig).unwrap();
    assert!(!kc.contains("insecure-skip-tls-verify"));
    assert_eq!(kc.matches("certificate-authority-data:").count(), 3);
}

#[tokio::test]
async fn kubectl_uses_the_written_kubeconfig() {
    if Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_err()
    {
        eprintln!("kubectl not installed: skipping the kubectl cross-check");
        return;
    }
    let state = lab();
    for c in CLUSTERS {
        let out = Command::new("kubectl")
            .args([
                "--kubeconfig",
                state.kubeconfig.to_str().unwrap(),
                "--context",
                c,
                "get",
                "--raw",
                "/readyz",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{c}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), "ok");
    }
}

#[tokio::test]
async fn the_chapter_crds_are_served_on_the_right_clusters() {
    let mgmt = Discovery::new(client("mgmt").await).run().await.unwrap();
    for (g, k) in [
        ("networking.enterprise.mesh.gloo.solo.io", "VirtualGateway"),
        ("networking.enterprise.mesh.gloo.solo.io", "RouteTable"),
        ("networking.mesh.gloo.solo.io", "TrafficPolicy"),
        ("networking.mesh.gloo.solo.io", "AccessPolicy"),
    ] {
        assert!(
            mgmt.groups()
                .any(|grp| grp.name() == g && grp.recommended_kind(k).is_some()),
            "mgmt serves {g} {k}"
        );
    }
    for c in ["cluster1", "cluster2"] {
        let d = Discovery::new(client(c).await).run().await.unwrap();
        for k in ["Gateway", "VirtualService", "WorkloadEntry"] {
            assert!(
                d.groups()
                    .any(|grp| grp.name() == "networking.istio.io"
                        && grp.recommended_kind(k).is_some()),
                "{c} serves networking.istio.io {k}"
            );
        }
        assert!(
            !d.groups()
                .any(|grp| grp.name() == "networking.mesh.gloo.solo.io"),
            "{c} has no Gloo Mesh kinds"
        );
    }
}

#[tokio::test]
async fn a_new_crd_becomes_served() {
    let c = client("cluster2").await;
    use rand::Rng as _;
    let group = format!(
        "t{}.scenario.test",
        rand::rng().random_range(0..1_000_000u32)
    );
    let crd: CustomResourceDefinition = serde_json::from_value(serde_json::json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": { "name": format!("widgets.{group}") },
        "spec": {
            "group": group, "scope": "Namespaced",
            "names": { "kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList" },
            "versions": [{ "name": "v1", "served": true, "storage": true,
                "schema": { "openAPIV3Schema": { "type": "object", "x-kubernetes-preserve-unknown-fields": true } } }]
        }
    }))
    .unwrap();
    let api: Api<CustomResourceDefinition> = Api::all(c.clone());
    api.create(&PostParams::default(), &crd).await.unwrap();
    let name = format!("widgets.{group}");
    tokio::time::timeout(
        Duration::from_secs(30),
        await_condition(api.clone(), &name, conditions::is_crd_established()),
    )
    .await
    .expect("established within 30s")
    .unwrap();
    let d = Discovery::new(c.clone()).run().await.unwrap();
    assert!(
        d.groups()
            .any(|g| g.name() == group && g.recommended_kind("Widget").is_some())
    );
    api.delete(&name, &DeleteParams::default()).await.unwrap();
}

#[tokio::test]
async fn server_side_apply_of_a_custom_resource() {
    let c = client("mgmt").await;
    let ns = namespace(&c, "ssa").await;
    let gvk = GroupVersionKind::gvk(
        "networking.enterprise.mesh.gloo.solo.io",
        "v1beta1",
        "VirtualGateway",
    );
    let ar = ApiResource::from_gvk(&gvk);
    let api: Api<DynamicObject> = Api::namespaced_with(c.clone(), &ns, &ar);
    let obj = serde_json::json!({
        "apiVersion": "networking.enterprise.mesh.gloo.solo.io/v1beta1",
        "kind": "VirtualGateway",
        "metadata": { "name": "bgc-virtualgateway", "namespace": ns },
        "spec": { "ingressGatewaySelectors": [{ "portName": "http2" }] }
    });
    let applied = api
        .patch(
            "bgc-virtualgateway",
            &PatchParams::apply("scenario-test"),
            &Patch::Apply(&obj),
        )
        .await
        .expect("server-side apply");
    assert_eq!(
        applied.data["spec"]["ingressGatewaySelectors"][0]["portName"],
        "http2"
    );
    let managed = applied.metadata.managed_fields.unwrap_or_default();
    assert!(
        managed
            .iter()
            .any(|m| m.manager.as_deref() == Some("scenario-test")
                && m.operation.as_deref() == Some("Apply"))
    );
    // Applying again with a changed field updates it in place.
    let mut obj2 = obj.clone();
    obj2["spec"]["ingressGatewaySelectors"][0]["portName"] = "http".into();
    let again = api
        .patch(
            "bgc-virtualgateway",
            &PatchParams::apply("scenario-test"),
            &Patch::Apply(&obj2),
        )
        .await
        .unwrap();
    assert_eq!(
        again.data["spec"]["ingressGatewaySelectors"][0]["portName"],
        "http"
    );
    support::drop_namespace(&c, &ns).await;
}

#[tokio::test]
async fn namespace_deletion_completes() {
    let c = client("cluster1").await;
    let ns = namespace(&c, "nsdel").await;
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), &ns);
    let cm: ConfigMap =
        serde_json::from_value(serde_json::json!({"metadata": {"name": "x"}, "data": {"a": "b"}}))
            .unwrap();
    cms.create(&PostParams::default(), &cm).await.unwrap();
    let nss: Api<Namespace> = Api::all(c.clone());
    let uid = nss.get(&ns).await.unwrap().metadata.uid.unwrap();
    nss.delete(&ns, &DeleteParams::default()).await.unwrap();
    tokio::time::timeout(
        Duration::from_secs(60),
        await_condition(nss.clone(), &ns, conditions::is_deleted(&uid)),
    )
    .await
    .expect("namespace gone within 60s (the controller manager finishes it)")
    .unwrap();
    assert!(nss.get_opt(&ns).await.unwrap().is_none());
}

#[tokio::test]
async fn rbac_forbids_the_restricted_user() {
    let c = scenario_lab::crds::client_as(lab(), "restricted@cluster1")
        .await
        .unwrap();
    let nss: Api<Namespace> = Api::all(c);
    match nss.list(&Default::default()).await {
        Err(kube::Error::Api(s)) => {
            assert_eq!(s.code, 403);
            assert!(
                s.message
                    .contains("User \"restricted\" cannot list resource \"namespaces\""),
                "{}",
                s.message
            );
        }
        other => panic!("expected 403, got {other:?}"),
    }
}

#[tokio::test]
async fn the_audit_log_records_who_did_what() {
    let c = client("cluster2").await;
    let ns = namespace(&c, "audit").await;
    let log = &lab().cluster("cluster2").unwrap().audit_log;
    let mut found = false;
    for _ in 0..50 {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        found = text.lines().any(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap_or_default();
            v["verb"] == "create"
                && v["objectRef"]["resource"] == "namespaces"
                && v["objectRef"]["name"] == ns.as_str()
                && v["user"]["username"] == "admin"
        });
        if found {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        found,
        "no audit entry for creating namespace {ns} in {}",
        log.display()
    );
    // The other clusters' logs do not see it.
    let other =
        std::fs::read_to_string(&lab().cluster("cluster1").unwrap().audit_log).unwrap_or_default();
    assert!(!other.contains(&ns));
    support::drop_namespace(&c, &ns).await;
}

/// A lab of its own: up, no-op up, crash report, down leaves nothing behind.
#[test]
fn lab_lifecycle_up_status_crash_down() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lab");
    let run = |args: &[&str]| Scenario::new().args(args).arg("--dir").arg(&dir).run();
    let up = run(&["lab", "up", "--clusters", "solo,duo"]);
    assert!(up.success(), "{}", up.stderr);
    assert!(up.stdout.starts_with(&format!(
        "lab is up in {}",
        dir.canonicalize().unwrap().display()
    )));
    let state = scenario_lab::LabState::load(&dir).unwrap();
    assert_eq!(state.clusters.len(), 2);
    let again = run(&["lab", "up", "--clusters", "solo,duo"]);
    assert!(again.success());
    assert!(again.stdout.contains("already up"), "{}", again.stdout);
    let status = run(&["lab", "status"]);
    assert_eq!(status.status, Some(0), "{}", status.stdout);
    // A crashed component is reported with its log.
    let kcm = state.clusters[1]
        .controller_manager
        .clone()
        .expect("controller manager");
    unsafe { libc::kill(kcm.pid as i32, libc::SIGKILL) };
    std::thread::sleep(Duration::from_millis(300));
    let status = run(&["lab", "status"]);
    assert_eq!(status.status, Some(3));
    let text = &status.stdout;
    assert!(
        text.contains("kube-controller-manager (duo)") && text.contains("NOT RUNNING"),
        "{text}"
    );
    let up_again = run(&["lab", "up", "--clusters", "solo,duo"]);
    assert!(!up_again.success());
    assert!(up_again.stderr.contains("partly down"));
    // Down: no process and no port left.
    let down = run(&["lab", "down"]);
    assert!(down.success(), "{}", down.stderr);
    let mut pids = vec![state.etcd.pid];
    let mut ports = vec![state.etcd.port];
    for c in &state.clusters {
        pids.push(c.apiserver.pid);
        ports.push(c.apiserver.port);
        pids.extend(c.controller_manager.as_ref().map(|k| k.pid));
    }
    for pid in pids {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state_char = stat
            .rsplit(')')
            .next()
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or("");
        assert!(
            stat.is_empty() || state_char == "Z",
            "pid {pid} still running: {stat}"
        );
    }
    for port in ports {
        assert!(!scenario_lab::port_open(port), "port {port} still open");
    }
    assert!(!dir.exists(), "state removed");
}
