//! Resource names and JSONPath as tutorials write them, against the lab:
//! `svc`, `services`, `cm/settings`, `virtualservices.networking.istio.io`
//! resolved by discovery, and kubectl's `{.status.loadBalancer.ingress[0].*}`.

use crate::support;

use k8s_openapi::api::core::v1::{ConfigMap, Service};
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

#[tokio::test]
async fn kubectl_names_and_jsonpath_work_in_get_wait_and_delete() {
    let c = support::client("cluster1").await;
    let ns = support::namespace(&c, "kubectl_names").await;
    let svcs: Api<Service> = Api::namespaced(c.clone(), &ns);
    let svc: Service = serde_json::from_value(json!({
        "metadata": { "name": "istio-ingressgateway" },
        "spec": { "type": "LoadBalancer", "ports": [{ "name": "http", "port": 80 }] }
    }))
    .unwrap();
    svcs.create(&PostParams::default(), &svc).await.unwrap();
    // What a cloud load balancer would write: one ingress with an IP and a hostname.
    svcs.patch_status(
        "istio-ingressgateway",
        &PatchParams::default(),
        &Patch::Merge(json!({ "status": { "loadBalancer": { "ingress": [{ "ip": "10.1.2.3", "hostname": "lb.example" }] } } })),
    )
    .await
    .unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), &ns);
    let cm: ConfigMap =
        serde_json::from_value(json!({ "metadata": { "name": "settings" } })).unwrap();
    cms.create(&PostParams::default(), &cm).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("p.yaml");
    std::fs::write(
        &book,
        format!(
            r#"name: kubectl-names
clusters:
  cluster1: {{}}
steps:
  - name: ingress
    clusters: cluster1
    get:
      show: false
      resources: [{{ kind: svc, namespace: {ns}, name: istio-ingressgateway }}]
      capture:
        ingress: "{{.status.loadBalancer.ingress[0].*}}"
        ip: "{{.status.loadBalancer.ingress[0].ip}}"
        port: '{{.spec.ports[?(@.name=="http")].port}}'
  - name: ready
    clusters: cluster1
    wait:
      resource: {{ kind: services, namespace: {ns}, name: istio-ingressgateway }}
      jsonpath:
        - {{ path: "{{.status.loadBalancer.ingress[0].ip}}", equals: "{{{{ ip }}}}" }}
  - name: routes
    clusters: cluster1
    get:
      resources: [{{ kind: virtualservices.networking.istio.io, namespace: {ns} }}]
  - name: clean
    clusters: cluster1
    delete:
      resources: [{{ kind: cm/settings, namespace: {ns} }}]
"#
        ),
    )
    .unwrap();
    let (code, out, err) = support::run_playbook(book.to_str().unwrap(), &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    // Several matches are space-separated, as kubectl prints them.
    assert!(
        out.contains("captured ingress = \"lb.example 10.1.2.3\"")
            || out.contains("captured ingress = \"10.1.2.3 lb.example\""),
        "{out}"
    );
    assert!(out.contains("captured ip = \"10.1.2.3\""), "{out}");
    assert!(out.contains("captured port = 80"), "{out}");
    assert!(
        out.contains(&format!(
            "virtualservices.networking.istio.io in {ns}: none"
        )),
        "{out}"
    );
    assert!(
        cms.get_opt("settings").await.unwrap().is_none(),
        "cm/settings deleted"
    );

    // An unknown name is found by the pre-flight, with a suggestion.
    std::fs::write(
        &book,
        format!("name: typo\nclusters:\n  cluster1: {{}}\nsteps:\n  - name: s\n    clusters: cluster1\n    get:\n      resources: [{{ kind: servcies, namespace: {ns} }}]\n"),
    )
    .unwrap();
    let (code, _out, err) = support::run_playbook(book.to_str().unwrap(), &[]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("error: pre-flight: cluster `cluster1`: no resource type `servcies` on this cluster; did you mean `services`?"),
        "{err}"
    );
    support::drop_namespace(&c, &ns).await;
}
