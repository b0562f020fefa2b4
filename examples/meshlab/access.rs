//! Access policies, as Gloo Mesh enforces them on the demo app: while the
//! VirtualMesh's `globalAccessPolicy` is ENABLED, a call is allowed only when an
//! AccessPolicy selects both its source (here: the ingress gateway's service
//! account on the cluster the call came in on) and its destination (the
//! workload the route picked); any other call answers 403 "RBAC: access denied",
//! as Istio's RBAC filter does. DISABLED (or no VirtualMesh) allows everything.

use std::collections::BTreeSet;

use kube::api::ListParams;
use serde_json::{Value, json};

use crate::APP;
use crate::mesh::{WORKLOADS, api, apply};

/// The VirtualMesh the tutorial's setup chapter creates.
pub const VIRTUAL_MESH: &str = "bgc-virtual-mesh";
const GROUP_VERSION: &str = "networking.mesh.gloo.solo.io/v1";

/// The identity every call from outside has: the ingress gateway's service account.
const INGRESS_SA: (&str, &str) = ("istio-ingressgateway-service-account", "istio-system");

/// The labels of the demo app's Service (what a `kubeServiceMatcher` sees).
fn app_labels() -> Value {
    json!({ "app": APP })
}

/// `(ingress cluster, version)` pairs a call may take; `None`: not enforced.
pub type Allowed = Option<BTreeSet<(String, String)>>;

/// The VirtualMesh as the setup chapter leaves it: mTLS, access policy off.
pub async fn seed(mgmt: &kube::Client) -> anyhow::Result<()> {
    apply(
        mgmt,
        json!({"apiVersion": GROUP_VERSION, "kind": "VirtualMesh",
            "metadata": {"name": VIRTUAL_MESH, "namespace": "gloo-mesh"},
            "spec": {"mtlsConfig": {"autoRestartPods": true, "shared": {"rootCertificateAuthority": {"generated": {}}}},
                "federation": {"selectors": [{}]},
                "globalAccessPolicy": "DISABLED",
                "meshes": [{"name": "istiod-istio-system-cluster1", "namespace": "gloo-mesh"},
                           {"name": "istiod-istio-system-cluster2", "namespace": "gloo-mesh"}]}}),
    )
    .await
}

/// Reads the VirtualMesh and the AccessPolicies of `gloo-mesh` on mgmt.
pub async fn allowed(mgmt: &kube::Client, ingress_clusters: &[String]) -> anyhow::Result<Allowed> {
    let meshes = api(mgmt, GROUP_VERSION, "VirtualMesh", Some("gloo-mesh"))
        .list(&ListParams::default())
        .await?;
    let enforced = meshes.items.iter().any(|m| {
        m.metadata.name.as_deref() == Some(VIRTUAL_MESH)
            && m.data["spec"]["globalAccessPolicy"] == "ENABLED"
    });
    if !enforced {
        return Ok(None);
    }
    let policies = api(mgmt, GROUP_VERSION, "AccessPolicy", Some("gloo-mesh"))
        .list(&ListParams::default())
        .await?;
    let mut out = BTreeSet::new();
    for p in &policies.items {
        let spec = &p.data["spec"];
        for cluster in ingress_clusters {
            if !any_selects(&spec["sourceSelector"], |s| source_selects(s, cluster)) {
                continue;
            }
            for (wc, ns, version) in WORKLOADS {
                if any_selects(&spec["destinationSelector"], |d| {
                    destination_selects(d, wc, ns)
                }) {
                    out.insert((cluster.clone(), (*version).to_owned()));
                }
            }
        }
    }
    Ok(Some(out))
}

/// A selector list selects when one of its selectors does; no list selects all.
fn any_selects(list: &Value, f: impl Fn(&Value) -> bool) -> bool {
    match list.as_array() {
        None => list.is_null(),
        Some(sels) => sels.is_empty() || sels.iter().any(f),
    }
}

/// A list field of a matcher: absent or empty matches anything.
fn listed(v: &Value, want: &str) -> bool {
    v.as_array()
        .is_none_or(|xs| xs.is_empty() || xs.iter().any(|x| x == want))
}

fn source_selects(sel: &Value, cluster: &str) -> bool {
    let (name, ns) = INGRESS_SA;
    if let Some(sas) = sel["kubeServiceAccountRefs"]["serviceAccounts"].as_array() {
        return sas
            .iter()
            .any(|r| r["name"] == name && r["namespace"] == ns && r["clusterName"] == cluster);
    }
    let m = &sel["kubeIdentityMatcher"];
    m.is_object() && listed(&m["namespaces"], ns) && listed(&m["clusters"], cluster)
}

fn destination_selects(sel: &Value, cluster: &str, ns: &str) -> bool {
    if let Some(svcs) = sel["kubeServiceRefs"]["services"].as_array() {
        return svcs
            .iter()
            .any(|r| r["name"] == APP && r["namespace"] == ns && r["clusterName"] == cluster);
    }
    let m = &sel["kubeServiceMatcher"];
    let labels_hold = m["labels"]
        .as_object()
        .is_none_or(|want| want.iter().all(|(k, v)| app_labels()[k.as_str()] == *v));
    m.is_object() && labels_hold && listed(&m["namespaces"], ns) && listed(&m["clusters"], cluster)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_must_name_the_ingress_account_on_the_right_cluster() {
        let sel = json!({"kubeServiceAccountRefs": {"serviceAccounts": [
            {"name": "istio-ingressgateway-service-account", "namespace": "istio-system", "clusterName": "cluster1"}]}});
        assert!(source_selects(&sel, "cluster1"));
        assert!(!source_selects(&sel, "cluster2"));
        let wrong = json!({"kubeServiceAccountRefs": {"serviceAccounts": [
            {"name": "default", "namespace": "istio-system", "clusterName": "cluster1"}]}});
        assert!(!source_selects(&wrong, "cluster1"));
    }

    #[test]
    fn destinations_by_namespace_labels_or_reference() {
        let ns = json!({"kubeServiceMatcher": {"namespaces": ["blue-green-canary"]}});
        assert!(destination_selects(&ns, "cluster1", "blue-green-canary"));
        assert!(!destination_selects(
            &ns,
            "cluster1",
            "vm-blue-green-canary"
        ));
        let labels = json!({"kubeServiceMatcher": {"labels": {"app": "other"}}});
        assert!(!destination_selects(
            &labels,
            "cluster2",
            "blue-green-canary"
        ));
        let r = json!({"kubeServiceRefs": {"services": [
            {"name": "blue-green-canary", "namespace": "vm-blue-green-canary", "clusterName": "cluster1"}]}});
        assert!(destination_selects(&r, "cluster1", "vm-blue-green-canary"));
        assert!(!destination_selects(&r, "cluster2", "vm-blue-green-canary"));
        assert!(any_selects(&Value::Null, |_| false));
        assert!(!any_selects(&json!([{"x": 1}]), |_| false));
    }
}
