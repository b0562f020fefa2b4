//! Cluster steps (`scenario run`) against the real API servers of the lab.

use crate::support;

use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Service};
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;
use support::{Scenario, apply_json, client, namespace, run_playbook};

#[tokio::test]
async fn apply_fans_out_to_two_clusters_and_orders_namespaces_first() {
    use rand::Rng as _;
    let ns = format!("t-fanout-{}", rand::rng().random_range(0..1_000_000u32));
    let (code, out, err) = run_playbook(
        "tests/playbooks/fanout.yaml",
        &["--var", &format!("ns={ns}"), "--var", "value=v42"],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("[1/3] create (apply on cluster1, cluster2)"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "  cluster1: applied 2 objects\n    Namespace {ns}\n    ConfigMap {ns}/settings\n"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "  cluster2: applied 2 objects\n    Namespace {ns}\n    ConfigMap {ns}/settings\n"
        )),
        "{out}"
    );
    // Each cluster got its own rendering ({{ cluster.name }}).
    for c in ["cluster1", "cluster2"] {
        let cms: Api<ConfigMap> = Api::namespaced(client(c).await, &ns);
        let cm = cms.get("settings").await.unwrap();
        let data = cm.data.unwrap();
        assert_eq!(data["cluster"], c);
        assert_eq!(data["value"], "v42");
        let mf = cm.metadata.managed_fields.unwrap();
        assert!(
            mf.iter().any(|m| m.manager.as_deref() == Some("scenario")
                && m.operation.as_deref() == Some("Apply"))
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_finds_a_prefixed_name_and_reuses_the_capture() {
    let c = client("cluster1").await;
    let ns = namespace(&c, "prefix").await;
    let ns2 = ns.clone();
    // The "controller" writes the translated objects a little later.
    let writer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(800)).await;
        let c = client("cluster1").await;
        apply_json(
            &c,
            json!({"apiVersion": "networking.istio.io/v1alpha3", "kind": "Gateway",
            "metadata": {"name": "bgc-virtualgateway-17072781039916753854", "namespace": ns2},
            "spec": {"selector": {"istio": "ingressgateway"}}}),
            "emulator",
        )
        .await;
        apply_json(&c, json!({"apiVersion": "networking.istio.io/v1alpha3", "kind": "VirtualService",
            "metadata": {"name": "bgc-virtualhost-gloo-mesh", "namespace": ns2},
            "spec": {"gateways": [format!("{ns2}/bgc-virtualgateway-17072781039916753854")], "hosts": ["*"]}}), "emulator").await;
    });
    let (code, out, err) = run_playbook(
        "tests/playbooks/wait-prefix.yaml",
        &["--var", &format!("ns={ns}")],
    );
    writer.await.unwrap();
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("captured gateway_name = \"bgc-virtualgateway-17072781039916753854\""),
        "{out}"
    );
    assert!(
        out.contains("VirtualService bgc-virtualhost-gloo-mesh in"),
        "{out}"
    );
    support::drop_namespace(&c, &ns).await;
}

#[tokio::test]
async fn a_wait_that_times_out_shows_the_last_state_and_the_diff() {
    let c = client("cluster1").await;
    let ns = namespace(&c, "waitdiff").await;
    apply_json(
        &c,
        json!({"apiVersion": "networking.istio.io/v1alpha3", "kind": "Gateway",
        "metadata": {"name": "bgc-virtualgateway-1", "namespace": ns}, "spec": {}}),
        "emulator",
    )
    .await;
    apply_json(
        &c,
        json!({"apiVersion": "networking.istio.io/v1alpha3", "kind": "VirtualService",
        "metadata": {"name": "bgc-virtualhost-gloo-mesh", "namespace": ns},
        "spec": {"gateways": [format!("{ns}/bgc-virtualgateway-1")], "hosts": ["example.com"]}}),
        "emulator",
    )
    .await;
    let started = std::time::Instant::now();
    let (code, out, err) = run_playbook(
        "tests/playbooks/wait-prefix.yaml",
        &["--var", &format!("ns={ns}")],
    );
    assert_eq!(
        code, 1,
        "an unmet wait is an assertion failure\n{out}\n{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "bounded by the 5s step timeout"
    );
    assert!(out.contains("timed out waiting until networking.istio.io/v1alpha3 VirtualService bgc-virtualhost-gloo-mesh in"), "{out}");
    // The message says which part did not hold: the object exists, a check does not.
    assert!(
        out.contains("exists: it exists, but spec.hosts[0]: expected \"*\", found \"example.com\""),
        "{out}"
    );
    assert!(
        out.contains("last observed: the matching object does not satisfy the conditions"),
        "{out}"
    );
    assert!(
        out.contains("spec.hosts[0]: expected \"*\", found \"example.com\""),
        "{out}"
    );
    assert!(out.contains("state: {\"spec\":{\"gateways\""), "{out}");
    assert!(
        out.contains("virtual-service-points-at-it  wait      FAILED"),
        "{out}"
    );
    support::drop_namespace(&c, &ns).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_waits_until_the_object_is_really_gone() {
    let c = client("cluster2").await;
    let ns = namespace(&c, "gone").await;
    // A finalizer keeps the object alive after the delete call; it is removed 1.5 s later.
    apply_json(
        &c,
        json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "held", "namespace": ns, "finalizers": ["scenario.test/hold"]}}),
        "test",
    )
    .await;
    let ns2 = ns.clone();
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let cms: Api<ConfigMap> = Api::namespaced(client("cluster2").await, &ns2);
        cms.patch(
            "held",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": null}})),
        )
        .await
        .unwrap();
    });
    let started = std::time::Instant::now();
    let (code, out, err) = run_playbook(
        "tests/playbooks/delete-waits.yaml",
        &["--var", &format!("ns={ns}")],
    );
    release.await.unwrap();
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        started.elapsed() >= Duration::from_millis(1400),
        "returned before the finalizer was released"
    );
    assert!(out.contains("deleted 1 object, all gone"), "{out}");
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), &ns);
    assert!(cms.get_opt("held").await.unwrap().is_none());
    // Deleting again: absent is fine by default.
    let (code, out, _) = run_playbook(
        "tests/playbooks/delete-waits.yaml",
        &["--var", &format!("ns={ns}")],
    );
    assert_eq!(code, 0);
    assert!(
        out.contains("deleted 0 objects (1 already absent)"),
        "{out}"
    );
    support::drop_namespace(&c, &ns).await;
}

#[tokio::test]
async fn a_capture_is_reused_by_later_steps_on_another_cluster() {
    let c1 = client("cluster1").await;
    let mgmt = client("mgmt").await;
    use rand::Rng as _;
    let ns = format!("t-capture-{}", rand::rng().random_range(0..1_000_000u32));
    for c in [&c1, &mgmt] {
        apply_json(
            c,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
            "test",
        )
        .await;
    }
    let svcs: Api<Service> = Api::namespaced(c1.clone(), &ns);
    let svc: Service = serde_json::from_value(json!({"metadata": {"name": "istio-ingressgateway"},
        "spec": {"ports": [{"name": "http2", "port": 80}]}}))
    .unwrap();
    svcs.create(&PostParams::default(), &svc).await.unwrap();
    svcs.patch_status(
        "istio-ingressgateway",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"loadBalancer": {"ingress": [{"ip": "127.0.0.77"}]}}})),
    )
    .await
    .unwrap();
    let (code, out, err) = run_playbook(
        "tests/playbooks/capture-reuse.yaml",
        &["--var", &format!("ns={ns}")],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("captured ingress_ip = \"127.0.0.77\""),
        "{out}"
    );
    let cms: Api<ConfigMap> = Api::namespaced(mgmt.clone(), &ns);
    assert_eq!(
        cms.get("ingress").await.unwrap().data.unwrap()["address"],
        "127.0.0.77"
    );
    support::drop_namespace(&c1, &ns).await;
    support::drop_namespace(&mgmt, &ns).await;
}

#[tokio::test]
async fn rbac_forbidden_names_the_verb_and_resource() {
    let (code, out, err) = run_playbook("tests/playbooks/forbidden.yaml", &["--var", "ns=default"]);
    assert_eq!(code, 3, "a step error\n{out}\n{err}");
    assert!(out.contains("forbidden by RBAC"), "{out}");
    assert!(
        out.contains("User \"restricted\" cannot patch resource \"configmaps\""),
        "{out}"
    );
}

#[tokio::test]
async fn an_unknown_kind_gets_a_suggestion() {
    // Found by the pre-flight (discovery before any write), not half-way.
    let (code, out, err) = run_playbook("tests/playbooks/unknown-kind.yaml", &[]);
    assert_eq!(code, 3, "{out}\n{err}");
    assert!(
        err.contains("error: pre-flight: cluster `mgmt`: no kind `VirtualGatway` in networking.enterprise.mesh.gloo.solo.io/v1beta1; did you mean `VirtualGateway`?"),
        "{err}"
    );
    assert!(out.is_empty(), "no step ran: {out}");
}

#[tokio::test]
async fn an_invalid_object_shows_the_api_message_with_file_and_document() {
    let c = client("cluster2").await;
    let ns = namespace(&c, "invalid").await;
    let (code, out, err) = run_playbook(
        "tests/playbooks/invalid-object.yaml",
        &["--var", &format!("ns={ns}")],
    );
    assert_eq!(code, 3, "{out}\n{err}");
    assert!(out.contains("tests/playbooks/manifests/bad-service.yaml document 2 (Service broken): invalid object:"), "{out}");
    assert!(
        out.contains("spec.ports[0].port: Invalid value: 99999"),
        "{out}"
    );
    support::drop_namespace(&c, &ns).await;
}

#[tokio::test]
async fn a_field_owned_by_another_manager_conflicts_unless_forced() {
    let c = client("cluster1").await;
    let ns = namespace(&c, "conflict").await;
    apply_json(&c, json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owned", "namespace": ns},
        "data": {"mode": "theirs"}}), "someone-else").await;
    let (code, out, _) = run_playbook(
        "tests/playbooks/conflict.yaml",
        &["--var", &format!("ns={ns}")],
    );
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains("conflict: Apply failed with 1 conflict: conflict with \"someone-else\""),
        "{out}"
    );
    assert!(
        out.contains("to take these fields, set `force: true` on this apply (as field manager `scenario`), or change only them with a `patch` step"),
        "both ways out: {out}"
    );
    let (code, out, _) = run_playbook(
        "tests/playbooks/conflict.yaml",
        &["--var", &format!("ns={ns}"), "--var", "force=true"],
    );
    assert_eq!(code, 0, "{out}");
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), &ns);
    assert_eq!(
        cms.get("owned").await.unwrap().data.unwrap()["mode"],
        "mine"
    );
    support::drop_namespace(&c, &ns).await;
}

#[tokio::test]
async fn a_crd_and_its_instance_apply_in_one_step() {
    use rand::Rng as _;
    let group = format!(
        "g{}.scenario.test",
        rand::rng().random_range(0..1_000_000u32)
    );
    let c = client("cluster2").await;
    let ns = namespace(&c, "crd").await;
    let (code, out, err) = run_playbook(
        "tests/playbooks/crd-then-cr.yaml",
        &[
            "--var",
            &format!("ns={ns}"),
            "--var",
            &format!("group={group}"),
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains(&format!(
            "applied 2 objects\n    CustomResourceDefinition widgets.{group}\n    Widget {ns}/w1"
        )),
        "{out}"
    );
    // A status condition, a name regex with a capture, a delete and a wait for deletion.
    assert!(
        out.contains(&format!(
            "CustomResourceDefinition widgets.{group} exists: yes"
        )),
        "{out}"
    );
    assert!(out.contains("captured widget = \"w1\""), "{out}");
    assert!(
        out.contains(&format!("deleted 1 object\n    Widget {ns}/w1")),
        "{out}"
    );
    assert!(
        out.contains(&format!("Widget w1 in {ns} is deleted: yes")),
        "{out}"
    );
    support::drop_namespace(&c, &ns).await;
}

#[tokio::test]
async fn dry_run_shows_a_diff_and_changes_nothing() {
    let c = client("cluster1").await;
    let ns = namespace(&c, "dryrun").await;
    apply_json(&c, json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": ns},
        "data": {"mode": "fast"}}), "scenario").await;
    let (code, out, err) = run_playbook(
        "tests/playbooks/dry-run.yaml",
        &["--var", &format!("ns={ns}"), "--dry-run"],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("would apply (server-side dry run) 1 object"),
        "{out}"
    );
    assert!(
        out.contains(&format!("ConfigMap {ns}/settings: would change")),
        "{out}"
    );
    assert!(
        out.contains("-    \"mode\": \"fast\"") && out.contains("+    \"mode\": \"slow\""),
        "{out}"
    );
    assert!(out.contains("+    \"added\": \"yes\""), "{out}");
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), &ns);
    let data = cms.get("settings").await.unwrap().data.unwrap();
    assert_eq!(data["mode"], "fast");
    assert!(!data.contains_key("added"));
    support::drop_namespace(&c, &ns).await;
}

#[tokio::test]
async fn a_kustomize_directory_is_applied_through_kubectl() {
    if std::process::Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_err()
    {
        eprintln!("kubectl not installed: skipping");
        return;
    }
    let c = client("cluster2").await;
    let ns = namespace(&c, "kustomize").await;
    let (code, out, err) = run_playbook(
        "tests/playbooks/kustomize.yaml",
        &["--var", &format!("ns={ns}")],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains(&format!("ConfigMap {ns}/demo-settings")),
        "{out}"
    );
    support::drop_namespace(&c, &ns).await;
}

#[tokio::test]
async fn get_prints_the_servers_columns() {
    let c = client("cluster1").await;
    let ns = namespace(&c, "table").await;
    apply_json(&c, json!({"apiVersion": "networking.istio.io/v1alpha3", "kind": "VirtualService",
        "metadata": {"name": "istiod-vs", "namespace": ns},
        "spec": {"gateways": ["istiod-gateway"], "hosts": ["istiod.istio-system.svc.cluster.local"]}}), "test").await;
    let (code, out, err) = run_playbook(
        "tests/playbooks/get-table.yaml",
        &["--var", &format!("ns={ns}")],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("    NAME        GATEWAYS             HOSTS                                       AGE\n    istiod-vs   [\"istiod-gateway\"]   [\"istiod.istio-system.svc.cluster.local\"]   "), "{out}");
    support::drop_namespace(&c, &ns).await;
}

#[test]
fn unknown_context_and_unreachable_cluster_are_step_errors() {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    std::fs::write(&kc, "apiVersion: v1\nkind: Config\nclusters:\n- name: dead\n  cluster:\n    server: https://127.0.0.1:1\ncontexts:\n- name: cluster1\n  context:\n    cluster: dead\n    user: u\nusers:\n- name: u\n  user:\n    token: x\ncurrent-context: cluster1\n").unwrap();
    let run = |args: &[&str]| {
        Scenario::new()
            .args([
                "run",
                "tests/playbooks/unreachable.yaml",
                "--kubeconfig",
                kc.to_str().unwrap(),
            ])
            .args(args)
            .run()
    };
    // A context the kubeconfig lacks is a usage error (exit 2), found before the run.
    let o = run(&["--context", "cluster1=cluster9"]);
    let err = &o.stderr;
    assert_eq!(o.status, Some(2), "{err}");
    assert!(
        err.contains(
            "error: pre-flight: cluster `cluster1`: context `cluster9` is not in the kubeconfig (contexts: cluster1)"
        ),
        "{err}"
    );
    assert!(o.stdout.is_empty(), "no step ran");
    // An unreachable cluster: exit 3, found before the run, within the
    // pre-flight's budget (it retries a refused connection until then).
    let started = std::time::Instant::now();
    let o = run(&["--preflight-timeout", "3s"]);
    let err = &o.stderr;
    assert_eq!(o.status, Some(3), "{err}");
    assert!(
        err.contains("error: pre-flight: cluster `cluster1` (context cluster1, https://127.0.0.1:1/) cannot be reached: cannot reach the API server of `cluster1`"),
        "{err}"
    );
    assert!(
        err.contains("1 problem found before the run; nothing was written to any cluster"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "bounded: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_wait_that_times_out_points_at_the_check_that_did_not_hold() {
    let c = client("cluster1").await;
    let ns = namespace(&c, "wait_located").await;
    let api: Api<ConfigMap> = Api::namespaced(c.clone(), &ns);
    let cm: ConfigMap = serde_json::from_value(
        json!({ "metadata": { "name": "settings" }, "data": { "mode": "slow", "keep": "x" } }),
    )
    .unwrap();
    api.create(&PostParams::default(), &cm).await.unwrap();
    let (code, out, err) = run_playbook(
        "tests/playbooks/wait-located.yaml",
        &["--var", &format!("ns={ns}")],
    );
    assert_eq!(code, 1, "{out}\n{err}");
    // Only the check that failed, at its line and column, with what was found.
    assert!(
        out.contains(
            "    --> tests/playbooks/wait-located.yaml:14:11: $.data.mode == \"fast\"; found \"slow\"\n"
        ),
        "{out}"
    );
    assert!(!out.contains("wait-located.yaml:13:"), "{out}");
    support::drop_namespace(&c, &ns).await;
}

#[tokio::test]
async fn apply_as_another_field_manager_owns_its_fields_as_that_manager() {
    let c = client("cluster1").await;
    let ns = namespace(&c, "field_manager").await;
    apply_json(&c, json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owned", "namespace": ns},
        "data": {"mode": "theirs"}}), "tutorial-script").await;
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("p.yaml");
    std::fs::write(
        &book,
        format!("name: fm\nclusters:\n  cluster1: {{}}\nsteps:\n  - name: as-the-script\n    clusters: cluster1\n    apply:\n      fieldManager: tutorial-script\n      inline: |\n        apiVersion: v1\n        kind: ConfigMap\n        metadata: {{ name: owned, namespace: {ns} }}\n        data: {{ mode: mine }}\n"),
    )
    .unwrap();
    let (code, out, err) = run_playbook(book.to_str().unwrap(), &[]);
    assert_eq!(
        code, 0,
        "the same manager does not conflict with itself: {out}\n{err}"
    );
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), &ns);
    let cm = cms.get("owned").await.unwrap();
    assert_eq!(cm.data.unwrap()["mode"], "mine");
    let managers: Vec<String> = cm
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert_eq!(
        managers,
        ["tutorial-script"],
        "no `scenario` manager was added"
    );
    support::drop_namespace(&c, &ns).await;
}

#[tokio::test]
async fn a_dry_run_says_what_each_wait_would_wait_for_instead_of_waiting() {
    let c = client("cluster1").await;
    let ns = namespace(&c, "dry_wait").await;
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("p.yaml");
    std::fs::write(
        &book,
        format!("name: dry\nclusters:\n  cluster1: {{}}\nsteps:\n  - name: create\n    clusters: cluster1\n    apply:\n      inline: |\n        apiVersion: v1\n        kind: ConfigMap\n        metadata: {{ name: later, namespace: {ns} }}\n  - name: appears\n    clusters: cluster1\n    timeout: 30s\n    wait:\n      resource: {{ apiVersion: v1, kind: ConfigMap, namespace: {ns}, name: later }}\n      jsonpath:\n        - {{ path: $.metadata.name, equals: later }}\n"),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let (code, out, err) = run_playbook(book.to_str().unwrap(), &["--dry-run"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains(&format!("  cluster1: dry run: not waiting until v1 ConfigMap later in {ns} exists\n    would wait until v1 ConfigMap later in {ns} exists\n      check $.metadata.name == \"later\"\n")),
        "{out}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "did not wait for the 30s timeout"
    );
    support::drop_namespace(&c, &ns).await;
}

#[tokio::test]
async fn kustomize_output_is_substituted_like_envsubst_when_asked() {
    if std::process::Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "make test installs kubectl"
        );
        eprintln!("kubectl not installed: skipping");
        return;
    }
    let c = client("cluster2").await;
    let ns = namespace(&c, "envsubst").await;
    let (code, out, err) = run_playbook(
        "tests/playbooks/kustomize-envsubst.yaml",
        &["--var", &format!("ns={ns}")],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), &ns);
    let data = cms.get("mesh").await.unwrap().data.unwrap();
    assert_eq!(
        data["trustDomain"], "cluster2",
        "never the text ${{CLUSTER}}"
    );
    assert_eq!(data["network"], "flat");
    support::drop_namespace(&c, &ns).await;
}
