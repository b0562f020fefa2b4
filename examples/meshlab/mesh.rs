//! The emulator's Kubernetes side: seeding the workload clusters,
//! translating Gloo Mesh objects into Istio ones, and reading the routes and
//! weights that the HTTP side serves by.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams,
};
use serde_json::{Value, json};

use crate::{APP, Args, MANAGER};

pub fn gvk(api_version: &str, kind: &str) -> ApiResource {
    let (g, v) = api_version.split_once('/').unwrap_or(("", api_version));
    ApiResource::from_gvk(&GroupVersionKind::gvk(g, v, kind))
}

pub fn api(
    c: &kube::Client,
    api_version: &str,
    kind: &str,
    ns: Option<&str>,
) -> Api<DynamicObject> {
    let ar = gvk(api_version, kind);
    match ns {
        Some(ns) => Api::namespaced_with(c.clone(), ns, &ar),
        None => Api::all_with(c.clone(), &ar),
    }
}

pub async fn apply(c: &kube::Client, obj: Value) -> anyhow::Result<()> {
    let av = obj["apiVersion"].as_str().unwrap_or_default().to_owned();
    let kind = obj["kind"].as_str().unwrap_or_default().to_owned();
    let name = obj["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let ns = obj["metadata"]["namespace"].as_str().map(str::to_owned);
    api(c, &av, &kind, ns.as_deref())
        .patch(
            &name,
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(&obj),
        )
        .await?;
    Ok(())
}

pub async fn delete(c: &kube::Client, av: &str, kind: &str, ns: &str, name: &str) {
    let _ = api(c, av, kind, Some(ns))
        .delete(name, &DeleteParams::default())
        .await;
}

pub fn istio(kind: &str, ns: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": "networking.istio.io/v1alpha3", "kind": kind, "metadata": {"name": name, "namespace": ns}, "spec": spec})
}

/// What the chapter assumes exists on a workload cluster before it starts.
pub async fn seed(c: &kube::Client, cluster: &str, ip: Ipv4Addr, port: u16) -> anyhow::Result<()> {
    let mut namespaces = vec!["istio-system", "gloo-mesh", APP];
    if cluster == "cluster1" {
        namespaces.push("vm-blue-green-canary");
    }
    for ns in namespaces {
        apply(
            c,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        )
        .await?;
    }
    let route = |name: &str, m: Value| json!({"name": name, "match": [m], "route": [{"destination": {"host": APP, "port": {"number": 8080}}}]});
    apply(
        c,
        istio(
            "Gateway",
            APP,
            "bgc-gateway",
            json!({"selector": {"istio": "ingressgateway"},
        "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]}]}),
        ),
    )
    .await?;
    let mut ui = route("bgc-ui-route", json!({"uri": {"prefix": "/bgc"}}));
    ui["rewrite"] = json!({"uri": "/"});
    apply(
        c,
        istio(
            "VirtualService",
            APP,
            APP,
            json!({"hosts": ["*"], "gateways": ["bgc-gateway"],
        "http": [ui, route("bgc-api-route", json!({"uri": {"exact": "/api"}}))]}),
        ),
    )
    .await?;
    for gw in [
        "istiod-gateway",
        "cross-network-gateway",
        &format!("istio-ingressgateway-istio-system-{cluster}-gloo-mesh"),
    ] {
        apply(c, istio("Gateway", "istio-system", gw, json!({"selector": {"istio": "ingressgateway"},
            "servers": [{"port": {"number": 15443, "name": "tls", "protocol": "TLS"}, "hosts": ["*"]}]}))).await?;
    }
    apply(c, istio("VirtualService", "istio-system", "istiod-vs", json!({"hosts": ["istiod.istio-system.svc.cluster.local"],
        "gateways": ["istiod-gateway"], "tls": [{"match": [{"port": 15012, "sniHosts": ["*"]}],
        "route": [{"destination": {"host": "istiod.istio-system.svc.cluster.local", "port": {"number": 15012}}}]}]}))).await?;
    apply(c, json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "istio-ingressgateway", "namespace": "istio-system",
        "labels": {"istio": "ingressgateway"}},
        "spec": {"type": "ClusterIP", "selector": {"istio": "ingressgateway"}, "ports": [{"name": "http2", "port": 80, "protocol": "TCP", "targetPort": 8080}]}})).await?;
    let svcs = api(c, "v1", "Service", Some("istio-system"));
    let mut ingress = json!({"ip": ip.to_string()});
    if port != 80 {
        // Not in the 1.20 API (dropped by the server); the port is also in meshlab's state file.
        ingress["ports"] = json!([{"port": port, "protocol": "TCP"}]);
    }
    svcs.patch_status(
        "istio-ingressgateway",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"loadBalancer": {"ingress": [ingress]}}})),
    )
    .await?;
    Ok(())
}

/// A stable "random" number for the translated gateway name, per cluster.
pub fn gateway_number(uid: &str, cluster: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in uid.bytes().chain(cluster.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Makes the workload clusters match the Gloo Mesh objects on mgmt.
pub async fn translate(
    args: &Args,
    mgmt: &kube::Client,
    workloads: &BTreeMap<String, kube::Client>,
) -> anyhow::Result<()> {
    let g = "networking.enterprise.mesh.gloo.solo.io/v1beta1";
    let get = |kind: &'static str| async move {
        api(mgmt, g, kind, Some("gloo-mesh"))
            .list(&ListParams::default())
            .await
            .map(|l| l.items)
    };
    let (vgs, vhs, rts) = (
        get("VirtualGateway").await?,
        get("VirtualHost").await?,
        get("RouteTable").await?,
    );
    let vg = vgs
        .into_iter()
        .find(|o| o.metadata.name.as_deref() == Some("bgc-virtualgateway"));
    let complete = vg.is_some() && !vhs.is_empty() && !rts.is_empty();
    let selected: Vec<String> = vg
        .as_ref()
        .map(|vg| {
            let mut v = Vec::new();
            for sel in vg.data["spec"]["ingressGatewaySelectors"]
                .as_array()
                .cloned()
                .unwrap_or_default()
            {
                for ds in sel["destinationSelectors"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                {
                    for c in ds["kubeServiceMatcher"]["clusters"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                    {
                        v.extend(c.as_str().map(str::to_owned));
                    }
                }
            }
            v
        })
        .unwrap_or_default();
    for (cluster, c) in workloads {
        let want = complete && selected.contains(cluster);
        let gws = api(
            c,
            "networking.istio.io/v1alpha3",
            "Gateway",
            Some("istio-system"),
        );
        let existing: Vec<String> = gws
            .list(&ListParams::default())
            .await?
            .items
            .into_iter()
            .filter_map(|o| o.metadata.name)
            .filter(|n| n.starts_with("bgc-virtualgateway-"))
            .collect();
        // Translated gateways that are not (or no longer) wanted go away.
        let mut keep: Option<String> = None;
        if want {
            let uid = vg
                .as_ref()
                .and_then(|v| v.metadata.uid.clone())
                .unwrap_or_default();
            let name = format!("bgc-virtualgateway-{}", gateway_number(&uid, cluster));
            if !args.no_gateway {
                apply(c, istio("Gateway", "istio-system", &name, json!({"selector": {"istio": "ingressgateway"},
                    "servers": [{"port": {"number": 80, "name": "http2", "protocol": "HTTP"}, "hosts": ["*"]}]}))).await?;
            }
            apply(c, istio("VirtualService", "gloo-mesh", "bgc-virtualhost-gloo-mesh", json!({"hosts": ["*"],
                "gateways": [format!("istio-system/{name}")],
                "http": [{"match": [{"uri": {"prefix": "/"}}], "route": [{"destination": {"host": format!("{APP}.{APP}.svc.cluster.local"), "port": {"number": 8080}}}]}]}))).await?;
            keep = Some(name);
        } else {
            delete(
                c,
                "networking.istio.io/v1alpha3",
                "VirtualService",
                "gloo-mesh",
                "bgc-virtualhost-gloo-mesh",
            )
            .await;
        }
        for old in existing.iter().filter(|n| keep.as_ref() != Some(*n)) {
            delete(
                c,
                "networking.istio.io/v1alpha3",
                "Gateway",
                "istio-system",
                old,
            )
            .await;
        }
    }
    Ok(())
}

/// Reads the TrafficPolicy weights (version -> weight); all blue without one.
/// Where the demo app runs (the chapter's facts): cluster, namespace, version.
/// A destination routes only to one of these, as in a real mesh.
pub const WORKLOADS: &[(&str, &str, &str)] = &[
    ("cluster1", APP, "blue"),
    ("cluster2", APP, "green"),
    ("cluster1", "vm-blue-green-canary", "canary"),
];

/// The version a destination reaches, or why it reaches nothing.
fn destination(d: &Value) -> Result<String, String> {
    let s = &d["kubeService"];
    let (cluster, ns, name) = (
        s["clusterName"].as_str().unwrap_or(""),
        s["namespace"].as_str().unwrap_or(""),
        s["name"].as_str().unwrap_or(""),
    );
    let version = s["subset"]["version"].as_str().unwrap_or("");
    if name != APP {
        return Err(format!("no service {name}"));
    }
    WORKLOADS
        .iter()
        .find(|(c, n, v)| *c == cluster && *n == ns && *v == version)
        .map(|(_, _, v)| (*v).to_owned())
        .ok_or_else(|| format!("no workload {version} of {ns}/{name} on {cluster}"))
}

/// Whether the policy's destinationSelector selects the demo app's service.
fn selects_the_app(spec: &Value) -> bool {
    let Some(selectors) = spec["destinationSelector"].as_array() else {
        return true; // no selector: every destination
    };
    selectors.iter().any(|sel| {
        sel["kubeServiceRefs"]["services"]
            .as_array()
            .is_some_and(|svcs| {
                svcs.iter().any(|r| {
                    r["name"] == APP
                        && WORKLOADS
                            .iter()
                            .any(|(c, n, _)| r["clusterName"] == *c && r["namespace"] == *n)
                })
            })
    })
}

/// The traffic split the TrafficPolicy asks for. A destination that names no
/// workload the mesh runs (a wrong cluster, namespace or subset) keeps its
/// weight but answers 503 "no healthy upstream", as Envoy does; a policy that
/// does not select the app's service does not apply (all traffic to blue).
pub async fn policy_weights(mgmt: &kube::Client) -> anyhow::Result<Vec<(String, f64)>> {
    let tps = api(
        mgmt,
        "networking.mesh.gloo.solo.io/v1",
        "TrafficPolicy",
        Some("gloo-mesh"),
    )
    .list(&ListParams::default())
    .await?;
    let Some(tp) = tps
        .items
        .into_iter()
        .find(|o| o.metadata.name.as_deref() == Some(APP))
    else {
        return Ok(vec![("blue".into(), 1.0)]);
    };
    if !selects_the_app(&tp.data["spec"]) {
        eprintln!("meshlab: the TrafficPolicy selects no service of the app: not applied");
        return Ok(vec![("blue".into(), 1.0)]);
    }
    let mut w = Vec::new();
    for d in tp.data["spec"]["policy"]["trafficShift"]["destinations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let weight = d["weight"].as_f64().unwrap_or(0.0);
        match destination(&d) {
            Ok(version) => w.push((version, weight)),
            Err(why) => {
                eprintln!("meshlab: destination {why}: its {weight}% answer 503");
                w.push((format!("{UNAVAILABLE}{why}"), weight));
            }
        }
    }
    if w.iter().all(|(_, x)| *x <= 0.0) {
        w = vec![("blue".into(), 1.0)];
    }
    Ok(w)
}

/// The prefix of a "version" that stands for a destination with no workload.
pub const UNAVAILABLE: &str = "unavailable:";

pub async fn routes(workloads: &BTreeMap<String, kube::Client>) -> BTreeMap<String, bool> {
    let mut out = BTreeMap::new();
    for (cluster, c) in workloads {
        let test = api(
            c,
            "networking.istio.io/v1alpha3",
            "VirtualService",
            Some(APP),
        )
        .get_opt(APP)
        .await
        .ok()
        .flatten();
        let translated = api(
            c,
            "networking.istio.io/v1alpha3",
            "VirtualService",
            Some("gloo-mesh"),
        )
        .get_opt("bgc-virtualhost-gloo-mesh")
        .await
        .ok()
        .flatten();
        out.insert(cluster.clone(), test.is_some() || translated.is_some());
    }
    out
}
