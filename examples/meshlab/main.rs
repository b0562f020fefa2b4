//! meshlab: a small stand-in for Gloo Mesh, Istio and the demo app on the
//! local lab, so that the traffic-management chapter can run end to end here.
//! Test scaffolding, not part of the engine.
//!
//! - seeds each workload cluster with what the chapter assumes (namespaces,
//!   the Istio test gateway, istio-system gateways and the istiod virtual
//!   service, the istio-ingressgateway Service with its address in the status);
//! - watches mgmt: VirtualGateway + VirtualHost + RouteTable become, after
//!   `--translate-delay`, an Istio Gateway `bgc-virtualgateway-<number>`
//!   (istio-system) and a VirtualService `bgc-virtualhost-gloo-mesh`
//!   (gloo-mesh) on each selected workload cluster; removed with their sources;
//! - serves each cluster's ingress on a loopback address and routes
//!   `GET /api` by the current TrafficPolicy weights (random per request,
//!   default all blue; no route while neither the test nor the translated
//!   VirtualService exists) to blue/green/canary backends answering like the
//!   demo app; a new policy takes effect after `--policy-delay`.
//!
//! ```text
//! cargo run --example meshlab -- --lab-dir DIR [--port 80] [--state FILE]
//!     [--translate-delay 500ms] [--policy-delay 300ms] [--freeze-after N] [--no-gateway]
//! ```

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use futures::StreamExt as _;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams,
};
use kube::runtime::{WatchStreamExt as _, watcher};
use serde_json::{Value, json};

const MANAGER: &str = "meshlab";
const APP: &str = "blue-green-canary";

#[derive(Debug, Parser)]
struct Args {
    /// The lab's state directory (kubeconfig with contexts mgmt, cluster1, ...).
    #[arg(long)]
    lab_dir: PathBuf,
    /// Ingress port on each cluster's loopback address (default 80 as root, else random).
    #[arg(long)]
    port: Option<u16>,
    /// Where to write `{"port": P, "clusters": {name: ip}}` once ready.
    #[arg(long)]
    state: Option<PathBuf>,
    /// Delay before Gloo Mesh objects are translated (as a controller would take).
    #[arg(long, default_value = "500ms", value_parser = humantime::parse_duration)]
    translate_delay: Duration,
    /// Delay before a new TrafficPolicy takes effect.
    #[arg(long, default_value = "300ms", value_parser = humantime::parse_duration)]
    policy_delay: Duration,
    /// Ignore every TrafficPolicy change after the first N (simulates a stuck mesh).
    #[arg(long)]
    freeze_after: Option<u32>,
    /// Never write the translated Istio Gateway (simulates a broken translation).
    #[arg(long)]
    no_gateway: bool,
}

/// The mesh's data plane state.
#[derive(Debug)]
struct Mesh {
    /// version -> weight; default all blue.
    weights: Vec<(String, f64)>,
    policies_applied: u32,
    /// cluster -> has a route for /api
    routed: BTreeMap<String, bool>,
}

fn gvk(api_version: &str, kind: &str) -> ApiResource {
    let (g, v) = api_version.split_once('/').unwrap_or(("", api_version));
    ApiResource::from_gvk(&GroupVersionKind::gvk(g, v, kind))
}

fn api(c: &kube::Client, api_version: &str, kind: &str, ns: Option<&str>) -> Api<DynamicObject> {
    let ar = gvk(api_version, kind);
    match ns {
        Some(ns) => Api::namespaced_with(c.clone(), ns, &ar),
        None => Api::all_with(c.clone(), &ar),
    }
}

async fn apply(c: &kube::Client, obj: Value) -> anyhow::Result<()> {
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

async fn delete(c: &kube::Client, av: &str, kind: &str, ns: &str, name: &str) {
    let _ = api(c, av, kind, Some(ns))
        .delete(name, &DeleteParams::default())
        .await;
}

fn istio(kind: &str, ns: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": "networking.istio.io/v1alpha3", "kind": kind, "metadata": {"name": name, "namespace": ns}, "spec": spec})
}

/// What the chapter assumes exists on a workload cluster before it starts.
async fn seed(c: &kube::Client, cluster: &str, ip: Ipv4Addr, port: u16) -> anyhow::Result<()> {
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
fn gateway_number(uid: &str, cluster: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in uid.bytes().chain(cluster.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Makes the workload clusters match the Gloo Mesh objects on mgmt.
async fn translate(
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
async fn policy_weights(mgmt: &kube::Client) -> anyhow::Result<Vec<(String, f64)>> {
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
    let mut w = Vec::new();
    for d in tp.data["spec"]["policy"]["trafficShift"]["destinations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let version = d["kubeService"]["subset"]["version"]
            .as_str()
            .unwrap_or("blue")
            .to_owned();
        w.push((version, d["weight"].as_f64().unwrap_or(0.0)));
    }
    if w.iter().all(|(_, x)| *x <= 0.0) {
        w = vec![("blue".into(), 1.0)];
    }
    Ok(w)
}

async fn routes(workloads: &BTreeMap<String, kube::Client>) -> BTreeMap<String, bool> {
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

/// The demo app's answer for a version.
fn backend(version: &str, count: u64, ua: &str) -> Value {
    let (color, greeting, text, pod) = match version {
        "green" => (
            "green",
            "Bonjour 👋🏽",
            "whitesmoke",
            "green-6d8c9b7f4-q2w9x".to_owned(),
        ),
        "canary" => ("yellow", "Hola ✋🏽", "black", "vm-192.168.64.20".to_owned()),
        _ => (
            "blue",
            "Namaste 🙏🏽",
            "whitesmoke",
            "blue-5c7d6f8b9-k4m7p".to_owned(),
        ),
    };
    json!({"color": color, "count": count, "greeting": greeting, "pod": pod, "textColor": text, "userAgent": ua})
}

fn pick(weights: &[(String, f64)]) -> String {
    use rand::Rng as _;
    let total: f64 = weights.iter().map(|(_, w)| w).sum();
    let mut u = rand::rng().random_range(0.0..total.max(f64::MIN_POSITIVE));
    for (v, w) in weights {
        if u < *w {
            return v.clone();
        }
        u -= w;
    }
    weights
        .last()
        .map(|(v, _)| v.clone())
        .unwrap_or_else(|| "blue".into())
}

async fn serve(
    listener: tokio::net::TcpListener,
    cluster: String,
    mesh: Arc<Mutex<Mesh>>,
    counters: Arc<BTreeMap<&'static str, AtomicU64>>,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (mesh, counters, cluster) = (mesh.clone(), counters.clone(), cluster.clone());
        tokio::spawn(async move {
            let svc = service_fn(move |req: Request<hyper::body::Incoming>| {
                let (status, body) = {
                    let m = mesh.lock().unwrap();
                    let routed = m.routed.get(&cluster).copied().unwrap_or(false);
                    if req.uri().path() != "/api" || !routed {
                        (404u16, "no route\n".to_owned())
                    } else {
                        let version = pick(&m.weights);
                        let key = match version.as_str() {
                            "green" => "green",
                            "canary" => "canary",
                            _ => "blue",
                        };
                        let n = counters[key].fetch_add(1, Ordering::Relaxed) + 1;
                        let ua = req
                            .headers()
                            .get("user-agent")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("");
                        (200, backend(&version, n, ua).to_string())
                    }
                };
                async move {
                    Ok::<_, Infallible>(
                        Response::builder()
                            .status(status)
                            .header(
                                "content-type",
                                if status == 200 {
                                    "application/json"
                                } else {
                                    "text/plain"
                                },
                            )
                            .body(Full::new(Bytes::from(body)))
                            .unwrap(),
                    )
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

/// Binds one listener per cluster on distinct loopback addresses, same port.
async fn bind(
    n: usize,
    port: u16,
) -> anyhow::Result<(Vec<(Ipv4Addr, tokio::net::TcpListener)>, u16)> {
    use rand::Rng as _;
    for _ in 0..20 {
        let (a, b) = (
            rand::rng().random_range(1..=254u8),
            rand::rng().random_range(1..=254u8),
        );
        let mut out = Vec::new();
        let mut p = port;
        let mut ok = true;
        for i in 0..n {
            let ip = Ipv4Addr::new(127, a, b, u8::try_from(i + 1).unwrap_or(1));
            match tokio::net::TcpListener::bind(SocketAddr::new(IpAddr::V4(ip), p)).await {
                Ok(l) => {
                    p = l.local_addr()?.port();
                    out.push((ip, l));
                }
                Err(_) => {
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            return Ok((out, p));
        }
    }
    anyhow::bail!("cannot bind the ingress listeners on loopback (port {port})")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    scenario::install_crypto_provider();
    let state = scenario::lab::LabState::load(&args.lab_dir)?;
    let mgmt_name = scenario::lab::crds::management_cluster(&state)
        .unwrap_or("mgmt")
        .to_owned();
    let mgmt = scenario::lab::crds::client(&state, &mgmt_name).await?;
    let mut workloads = BTreeMap::new();
    for c in state.clusters.iter().filter(|c| c.name != mgmt_name) {
        workloads.insert(
            c.name.clone(),
            scenario::lab::crds::client(&state, &c.name).await?,
        );
    }
    let root = unsafe { libc::geteuid() } == 0;
    let (listeners, port) = bind(
        workloads.len(),
        args.port.unwrap_or(if root { 80 } else { 0 }),
    )
    .await?;
    // A clean start: no Gloo Mesh objects, no translated objects, no policy.
    for kind in ["VirtualGateway", "VirtualHost", "RouteTable"] {
        let a = api(
            &mgmt,
            "networking.enterprise.mesh.gloo.solo.io/v1beta1",
            kind,
            Some("gloo-mesh"),
        );
        let _ = a
            .delete_collection(&DeleteParams::default(), &ListParams::default())
            .await;
    }
    let _ = api(
        &mgmt,
        "networking.mesh.gloo.solo.io/v1",
        "TrafficPolicy",
        Some("gloo-mesh"),
    )
    .delete_collection(&DeleteParams::default(), &ListParams::default())
    .await;
    apply(
        &mgmt,
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "gloo-mesh"}}),
    )
    .await?;
    let mut addrs = BTreeMap::new();
    for ((cluster, c), (ip, _)) in workloads.iter().zip(&listeners) {
        seed(c, cluster, *ip, port).await?;
        addrs.insert(cluster.clone(), ip.to_string());
    }
    translate(&args, &mgmt, &workloads).await?;
    let mesh = Arc::new(Mutex::new(Mesh {
        weights: vec![("blue".into(), 1.0)],
        policies_applied: 0,
        routed: routes(&workloads).await,
    }));
    let counters: Arc<BTreeMap<&'static str, AtomicU64>> = Arc::new(
        ["blue", "green", "canary"]
            .into_iter()
            .map(|k| (k, AtomicU64::new(0)))
            .collect(),
    );
    for ((cluster, _), (_, l)) in workloads.iter().zip(listeners) {
        tokio::spawn(serve(l, cluster.clone(), mesh.clone(), counters.clone()));
    }
    let args = Arc::new(args);
    let workloads = Arc::new(workloads);
    // Gloo Mesh objects on mgmt -> translation on the workload clusters.
    for kind in ["VirtualGateway", "VirtualHost", "RouteTable"] {
        let (args, mgmt, workloads) = (args.clone(), mgmt.clone(), workloads.clone());
        tokio::spawn(async move {
            let a = api(
                &mgmt,
                "networking.enterprise.mesh.gloo.solo.io/v1beta1",
                kind,
                Some("gloo-mesh"),
            );
            let mut s = watcher(a, watcher::Config::default())
                .default_backoff()
                .boxed();
            while let Some(ev) = s.next().await {
                if matches!(
                    ev,
                    Ok(watcher::Event::Apply(_)
                        | watcher::Event::Delete(_)
                        | watcher::Event::InitDone)
                ) {
                    tokio::time::sleep(args.translate_delay).await;
                    if let Err(e) = translate(&args, &mgmt, &workloads).await {
                        eprintln!("meshlab: translation failed: {e}");
                    }
                }
            }
        });
    }
    // VirtualServices on the workload clusters -> which ingresses route /api.
    for (_, c) in workloads.iter() {
        let (mesh, workloads, c) = (mesh.clone(), workloads.clone(), c.clone());
        tokio::spawn(async move {
            let a = api(&c, "networking.istio.io/v1alpha3", "VirtualService", None);
            let mut s = watcher(a, watcher::Config::default())
                .default_backoff()
                .boxed();
            while let Some(ev) = s.next().await {
                if ev.is_ok() {
                    let r = routes(&workloads).await;
                    mesh.lock().unwrap().routed = r;
                }
            }
        });
    }
    // TrafficPolicy -> weights, after a delay (and not after --freeze-after N).
    {
        let (args, mgmt, mesh) = (args.clone(), mgmt.clone(), mesh.clone());
        tokio::spawn(async move {
            let a = api(
                &mgmt,
                "networking.mesh.gloo.solo.io/v1",
                "TrafficPolicy",
                Some("gloo-mesh"),
            );
            let mut s = watcher(a, watcher::Config::default())
                .default_backoff()
                .boxed();
            while let Some(ev) = s.next().await {
                if !matches!(ev, Ok(watcher::Event::Apply(_) | watcher::Event::Delete(_))) {
                    continue;
                }
                tokio::time::sleep(args.policy_delay).await;
                match policy_weights(&mgmt).await {
                    Ok(w) => {
                        let mut m = mesh.lock().unwrap();
                        if args.freeze_after.is_some_and(|n| m.policies_applied >= n) {
                            eprintln!(
                                "meshlab: ignoring a TrafficPolicy change (frozen after {} policies)",
                                m.policies_applied
                            );
                            continue;
                        }
                        m.policies_applied += 1;
                        eprintln!("meshlab: traffic weights now {w:?}");
                        m.weights = w;
                    }
                    Err(e) => eprintln!("meshlab: reading the TrafficPolicy failed: {e}"),
                }
            }
        });
    }
    let ready = json!({"port": port, "clusters": addrs, "pid": std::process::id()});
    if let Some(path) = &args.state {
        std::fs::write(path, serde_json::to_string_pretty(&ready)?)?;
    }
    println!("meshlab ready: {ready}");
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    Ok(())
}
