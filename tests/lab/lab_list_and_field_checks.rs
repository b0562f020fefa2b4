//! `wait` checks that look into lists (`contains`: some element of the
//! lists a path selects) and compare two fields of one object
//! (`equalsPath`), on a real API server: a VirtualService whose status a
//! controller would write (here the test, through the status subresource),
//! with conditions per parent as Gateway API routes keep them.

use crate::support;

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use serde_json::json;
use support::{apply_json, client, drop_namespace, namespace, run_playbook};

fn api(c: &kube::Client, ns: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("networking.istio.io", "v1alpha3", "VirtualService");
    Api::namespaced_with(c.clone(), ns, &ApiResource::from_gvk(&gvk))
}

/// Writes the route's status: its conditions under `parents[]` and the
/// generation the "controller" saw.
async fn set_status(c: &kube::Client, ns: &str, accepted: &str, observed: i64) {
    let status = json!({"status": {
        "observedGeneration": observed,
        "parents": [
            {"parentRef": {"name": "a"}, "conditions": [{"type": "ResolvedRefs", "status": "True"}]},
            {"parentRef": {"name": "b"}, "conditions": [{"type": "Accepted", "status": accepted}]}
        ]
    }});
    api(c, ns)
        .patch_status("route", &PatchParams::default(), &Patch::Merge(&status))
        .await
        .expect("status");
}

/// A playbook of one `wait` on the route with `checks` (YAML lines under
/// `jsonpath:`), `now` or waiting up to `timeout`.
fn playbook(dir: &std::path::Path, now: bool, timeout: &str, checks: &str) -> String {
    let path = dir.join("route.yaml");
    std::fs::write(
        &path,
        format!(
            "name: route\nclusters:\n  cluster1: {{}}\nvars:\n  ns: default\nsteps:\n  - name: accepted\n    clusters: cluster1\n    timeout: {timeout}\n    wait:\n      now: {now}\n      resource: {{ apiVersion: networking.istio.io/v1alpha3, kind: VirtualService, namespace: \"{{{{ ns }}}}\", name: route }}\n      jsonpath:\n{checks}"
        ),
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

const ACCEPTED: &str = "        - path: $.status.parents[*].conditions\n          contains: { type: Accepted, status: \"True\" }\n";
const CAUGHT_UP: &str =
    "        - { path: $.metadata.generation, equalsPath: $.status.observedGeneration }\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lab_a_wait_looks_into_lists_and_compares_two_fields() {
    let c = client("cluster1").await;
    let ns = namespace(&c, "list-checks").await;
    let route = apply_json(
        &c,
        json!({"apiVersion": "networking.istio.io/v1alpha3", "kind": "VirtualService",
               "metadata": {"name": "route", "namespace": ns},
               "spec": {"hosts": ["*"]}}),
        "test",
    )
    .await;
    let generation = route.metadata.generation.expect("a generation");
    set_status(&c, &ns, "False", generation).await;
    let dir = tempfile::tempdir().unwrap();
    let var = format!("ns={ns}");
    let both = format!("{ACCEPTED}{CAUGHT_UP}");

    // Accepted=False on the second parent: the check says what it found, located.
    let p = playbook(dir.path(), true, "30s", &both);
    let (code, out, err) = run_playbook(&p, &["--var", &var]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        out.contains("it exists, but $.status.parents[*].conditions: expected a list with an element that contains {\"status\":\"True\",\"type\":\"Accepted\"}, found [{\"status\":\"True\",\"type\":\"ResolvedRefs\"},{\"status\":\"False\",\"type\":\"Accepted\"}]"),
        "{out}"
    );
    assert!(
        out.contains("route.yaml:14:11"),
        "the check is located: {out}"
    );

    // The controller accepts the route a second later: the wait passes.
    let (c2, ns2) = (c.clone(), ns.clone());
    let later = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        set_status(&c2, &ns2, "True", generation).await;
    });
    let p = playbook(dir.path(), false, "30s", &both);
    let (code, out, err) = tokio::task::spawn_blocking(move || run_playbook(&p, &["--var", &var]))
        .await
        .unwrap();
    later.await.unwrap();
    assert_eq!(code, 0, "{out}\n{err}");
    let var = format!("ns={ns}");

    // A new spec: the generation moves on, the status lags one behind.
    apply_json(
        &c,
        json!({"apiVersion": "networking.istio.io/v1alpha3", "kind": "VirtualService",
               "metadata": {"name": "route", "namespace": ns},
               "spec": {"hosts": ["example.com"]}}),
        "test",
    )
    .await;
    let p = playbook(dir.path(), false, "3s", CAUGHT_UP);
    let (code, out, err) = run_playbook(&p, &["--var", &var]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        out.contains(&format!(
            "it exists, but $.metadata.generation: expected the value at $.status.observedGeneration, found {} ($.status.observedGeneration is {generation})",
            generation + 1
        )),
        "{out}"
    );
    // Caught up: it holds.
    set_status(&c, &ns, "True", generation + 1).await;
    let p = playbook(dir.path(), true, "30s", &both);
    let (code, out, err) = run_playbook(&p, &["--var", &var]);
    assert_eq!(code, 0, "{out}\n{err}");
    drop_namespace(&c, &ns).await;
}
