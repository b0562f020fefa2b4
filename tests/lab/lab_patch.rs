//! `patch` against the real API servers of the lab: fields of an object that
//! another manager created, restore from a captured value, JSON Patch, dry
//! run (checked in the audit log), and a missing object.

use crate::support;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use support::{client, namespace, run_playbook};

/// Creates ConfigMap `settings` the way `kubectl create` does: an Update by
/// field manager `kubectl-create`, with `mode` and `keep` set per cluster.
async fn create_settings(cluster: &str, ns: &str) -> Api<ConfigMap> {
    let c = client(cluster).await;
    let api: Api<ConfigMap> = Api::namespaced(c, ns);
    let cm: ConfigMap = serde_json::from_value(serde_json::json!({
        "metadata": { "name": "settings" },
        "data": { "mode": format!("slow-{cluster}"), "keep": format!("{cluster}-keep") }
    }))
    .unwrap();
    let pp = PostParams {
        field_manager: Some("kubectl-create".into()),
        ..PostParams::default()
    };
    api.create(&pp, &cm).await.expect("create settings");
    api
}

/// The fields (`f:data.f:mode`, ...) each manager owns.
fn managers(cm: &ConfigMap) -> Vec<(String, String)> {
    cm.metadata
        .managed_fields
        .iter()
        .flatten()
        .map(|m| {
            (
                m.manager.clone().unwrap_or_default(),
                serde_json::to_string(&m.fields_v1).unwrap_or_default(),
            )
        })
        .collect()
}

/// Namespaces of the same name on both workload clusters.
async fn namespaces(test: &str) -> String {
    let ns = namespace(&client("cluster1").await, test).await;
    let c2 = client("cluster2").await;
    let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(c2);
    let obj = serde_json::from_value(serde_json::json!({ "metadata": { "name": ns } })).unwrap();
    api.create(&PostParams::default(), &obj).await.unwrap();
    ns
}

#[tokio::test]
async fn patch_changes_one_field_of_anothers_object_and_finally_restores_it() {
    let ns = namespaces("patch_restore").await;
    let a1 = create_settings("cluster1", &ns).await;
    let a2 = create_settings("cluster2", &ns).await;
    let (code, out, err) = run_playbook(
        "tests/playbooks/patch.yaml",
        &["--var", &format!("ns={ns}")],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains(&format!("  cluster1: patched ConfigMap {ns}/settings\n")),
        "{out}"
    );
    assert!(
        out.contains("    captured old_mode = \"slow-cluster1\"\n"),
        "{out}"
    );
    assert!(
        out.contains("    captured old_mode = \"slow-cluster2\"\n"),
        "{out}"
    );
    assert!(out.contains("    captured new_mode = \"fast\"\n"), "{out}");
    for (cluster, api) in [("cluster1", &a1), ("cluster2", &a2)] {
        let cm = api.get("settings").await.unwrap();
        let data = cm.data.clone().unwrap_or_default();
        // Restored from each cluster's own captured value; the other field untouched.
        assert_eq!(data["mode"], format!("slow-{cluster}"), "{cluster}");
        assert_eq!(data["keep"], format!("{cluster}-keep"), "{cluster}");
        assert_eq!(
            cm.metadata.labels.clone().unwrap_or_default()["patched"],
            "yes",
            "{cluster}: the JSON patch added the label"
        );
        let owners = managers(&cm);
        let creator = owners
            .iter()
            .find(|(m, _)| m == "kubectl-create")
            .unwrap_or_else(|| panic!("{cluster}: kubectl-create lost every field: {owners:?}"));
        assert!(creator.1.contains("f:keep"), "{owners:?}");
        assert!(!creator.1.contains("f:mode"), "{owners:?}");
        let ours = owners
            .iter()
            .find(|(m, _)| m == "scenario")
            .unwrap_or_else(|| panic!("{cluster}: no scenario manager: {owners:?}"));
        assert!(ours.1.contains("f:mode"), "{owners:?}");
        assert!(!ours.1.contains("f:keep"), "{owners:?}");
    }
    support::drop_namespace(&client("cluster1").await, &ns).await;
    support::drop_namespace(&client("cluster2").await, &ns).await;
}

#[tokio::test]
async fn dry_run_patch_shows_the_diff_and_changes_nothing() {
    let ns = namespaces("patch_dry_run").await;
    let api = create_settings("cluster1", &ns).await;
    create_settings("cluster2", &ns).await;
    let before = api.get("settings").await.unwrap();
    let (code, out, err) = run_playbook(
        "tests/playbooks/patch.yaml",
        &[
            "--var",
            &format!("ns={ns}"),
            "--dry-run",
            "--only",
            "switch",
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains(&format!(
            "  cluster1: would patch ConfigMap {ns}/settings (server-side dry run)\n"
        )),
        "{out}"
    );
    assert!(out.contains("-    \"mode\": \"slow-cluster1\""), "{out}");
    assert!(out.contains("+    \"mode\": \"fast\""), "{out}");
    let after = api.get("settings").await.unwrap();
    assert_eq!(
        after.metadata.resource_version, before.metadata.resource_version,
        "a dry run changes nothing"
    );
    // The API server saw the patches, each of them as a dry run.
    let log = std::fs::read_to_string(&support::lab().cluster("cluster1").unwrap().audit_log)
        .unwrap_or_default();
    let patches: Vec<&str> = log
        .lines()
        .filter(|l| {
            l.contains("\"verb\":\"patch\"")
                && l.contains(&format!("/namespaces/{ns}/configmaps/settings"))
                && l.contains("\"stage\":\"ResponseComplete\"")
        })
        .collect();
    assert!(
        patches.len() >= 2,
        "switch and restore were sent: {patches:?}"
    );
    assert!(
        patches.iter().all(|l| l.contains("dryRun=All")),
        "every patch was a dry run: {patches:?}"
    );
    support::drop_namespace(&client("cluster1").await, &ns).await;
    support::drop_namespace(&client("cluster2").await, &ns).await;
}

#[tokio::test]
async fn patching_a_missing_object_is_an_error_naming_object_and_cluster() {
    let ns = namespaces("patch_missing").await;
    let (code, out, err) = run_playbook(
        "tests/playbooks/patch.yaml",
        &["--var", &format!("ns={ns}"), "--only", "switch"],
    );
    assert_eq!(code, 3, "{out}\n{err}");
    assert!(
        out.contains(&format!(
            "cluster1: ConfigMap {ns}/settings not found on cluster cluster1: `patch` changes an existing object"
        )),
        "{out}"
    );
    support::drop_namespace(&client("cluster1").await, &ns).await;
    support::drop_namespace(&client("cluster2").await, &ns).await;
}

#[tokio::test]
async fn an_apply_after_a_patch_takes_the_field_scenario_patched() {
    // scenario never conflicts with itself: the patch step owns `flag` as an
    // update by `scenario`, and the apply after it takes the field back.
    let c = client("cluster1").await;
    let ns = namespace(&c, "patch_then_apply").await;
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("p.yaml");
    let apply = |flag: &str| {
        format!(
            "    clusters: cluster1\n    apply:\n      inline: |\n        apiVersion: v1\n        kind: ConfigMap\n        metadata: {{ name: flags, namespace: {ns} }}\n        data: {{ flag: \"{flag}\" }}\n"
        )
    };
    std::fs::write(
        &book,
        format!(
            "name: self\nclusters:\n  cluster1: {{}}\nsteps:\n  - name: first\n{}  - name: switch\n    clusters: cluster1\n    patch:\n      resource: {{ apiVersion: v1, kind: ConfigMap, namespace: {ns}, name: flags }}\n      body: {{ data: {{ flag: patched }} }}\n  - name: again\n{}",
            apply("one"),
            apply("two")
        ),
    )
    .unwrap();
    let (code, out, err) = run_playbook(book.to_str().unwrap(), &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    let api: Api<ConfigMap> = Api::namespaced(c.clone(), &ns);
    assert_eq!(api.get("flags").await.unwrap().data.unwrap()["flag"], "two");
    support::drop_namespace(&c, &ns).await;
}
