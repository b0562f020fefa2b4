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
//!   demo app (and `GET /` to the app's page, as a browser opens it); a new
//!   policy takes effect after `--policy-delay`;
//! - enforces access policies (`access.rs`): while the VirtualMesh
//!   `bgc-virtual-mesh` has `globalAccessPolicy: ENABLED`, a call answers 403
//!   "RBAC: access denied" unless an AccessPolicy selects the ingress gateway's
//!   service account on that cluster and the workload the route picked. The
//!   emulator starts with the VirtualMesh the setup chapter leaves (DISABLED).
//!
//! ```text
//! cargo run --example meshlab -- --lab-dir DIR [--port 80] [--state FILE]
//!     [--translate-delay 500ms] [--policy-delay 300ms] [--freeze-after N] [--no-gateway]
//! ```

mod access;
mod mesh;

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
use kube::api::{DeleteParams, ListParams};
use kube::runtime::{WatchStreamExt as _, watcher};
use serde_json::{Value, json};

use mesh::{api, apply, policy_weights, routes, seed, translate};

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
    /// Which (ingress cluster, version) calls the access policies allow.
    allowed: access::Allowed,
}
/// The page the demo app serves at `/` (it calls `/api` from the browser).
const UI_PAGE: &str =
    "<!doctype html><title>blue-green-canary</title><p>The answers of /api, by color.</p>\n";

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
                    if req.uri().path() == "/" && routed {
                        // The demo app's page (what the reader opens in a browser).
                        (200u16, UI_PAGE.to_owned())
                    } else if req.uri().path() != "/api" || !routed {
                        (404u16, "no route\n".to_owned())
                    } else {
                        let version = pick(&m.weights);
                        let denied = m
                            .allowed
                            .as_ref()
                            .is_some_and(|a| !a.contains(&(cluster.clone(), version.clone())));
                        if version.starts_with(mesh::UNAVAILABLE) {
                            (503u16, "no healthy upstream".to_owned())
                        } else if denied {
                            (403u16, "RBAC: access denied".to_owned())
                        } else {
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
                    }
                };
                async move {
                    Ok::<_, Infallible>(
                        Response::builder()
                            .status(status)
                            .header(
                                "content-type",
                                if status == 200 && body.starts_with('<') {
                                    "text/html"
                                } else if status == 200 {
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
    scenario_lab::install_crypto_provider();
    let state = scenario_lab::LabState::load(&args.lab_dir)?;
    let mgmt_name = scenario_lab::crds::management_cluster(&state)
        .unwrap_or("mgmt")
        .to_owned();
    let mgmt = scenario_lab::crds::client(&state, &mgmt_name).await?;
    let mut workloads = BTreeMap::new();
    for c in state.clusters.iter().filter(|c| c.name != mgmt_name) {
        workloads.insert(
            c.name.clone(),
            scenario_lab::crds::client(&state, &c.name).await?,
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
    let _ = api(
        &mgmt,
        "networking.mesh.gloo.solo.io/v1",
        "AccessPolicy",
        Some("gloo-mesh"),
    )
    .delete_collection(&DeleteParams::default(), &ListParams::default())
    .await;
    apply(
        &mgmt,
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "gloo-mesh"}}),
    )
    .await?;
    access::seed(&mgmt).await?;
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
        allowed: None,
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
    // VirtualMesh and AccessPolicies -> which calls are allowed, after a delay.
    for kind in ["VirtualMesh", "AccessPolicy"] {
        let (args, mgmt, mesh) = (args.clone(), mgmt.clone(), mesh.clone());
        let ingress: Vec<String> = workloads.keys().cloned().collect();
        tokio::spawn(async move {
            let a = api(
                &mgmt,
                "networking.mesh.gloo.solo.io/v1",
                kind,
                Some("gloo-mesh"),
            );
            let mut s = watcher(a, watcher::Config::default())
                .default_backoff()
                .boxed();
            while let Some(ev) = s.next().await {
                if !matches!(
                    ev,
                    Ok(watcher::Event::Apply(_)
                        | watcher::Event::Delete(_)
                        | watcher::Event::InitDone)
                ) {
                    continue;
                }
                tokio::time::sleep(args.policy_delay).await;
                match access::allowed(&mgmt, &ingress).await {
                    Ok(a) => {
                        eprintln!("meshlab: access now {a:?}");
                        mesh.lock().unwrap().allowed = a;
                    }
                    Err(e) => eprintln!("meshlab: reading the access policies failed: {e}"),
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
