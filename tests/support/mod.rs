//! What the test binaries share (each `tests/<area>/main.rs` has it once as
//! `mod support`): [`Scenario`], the one way to run the binary and assert its
//! exact output; local servers (`http`, `raw_http`, the fault proxy), the mesh
//! emulator, headless-browser and mkdocs helpers, Python consumers.
//!
//! The rest of this file is the harness for cluster tests: a real local lab
//! (etcd + kube-apiservers), started once per test run, or an already-running
//! one via `SCENARIO_LAB_DIR` (what `make test` does). Each test gets its own
//! namespace.

#![allow(dead_code)]

pub mod command;
pub mod faultproxy;
pub mod http;
pub mod meshlab;
pub mod prng;
pub mod python;
pub mod raw_http;
pub mod site;

#[allow(unused_imports)] // not every binary destructures a Run
pub use command::{Run, Scenario};

use std::path::PathBuf;
use std::sync::OnceLock;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams, PostParams};
use scenario_lab::LabState;

/// The clusters every test lab has.
pub const CLUSTERS: &[&str] = &["mgmt", "cluster1", "cluster2"];

static LAB: OnceLock<LabState> = OnceLock::new();

/// The shared lab: `$SCENARIO_LAB_DIR` when set, else one started for this
/// test process (stopped by a watchdog when the process exits).
pub fn lab() -> &'static LabState {
    LAB.get_or_init(|| {
        scenario::install_crypto_provider();
        if let Some(dir) = std::env::var_os("SCENARIO_LAB_DIR") {
            let state = LabState::load(&PathBuf::from(dir)).expect("SCENARIO_LAB_DIR holds a running lab");
            return state;
        }
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("lab-{}", std::process::id()));
        let clusters: Vec<String> = CLUSTERS.iter().map(|s| (*s).to_owned()).collect();
        let (state, _) = scenario_lab::up(&dir, &clusters).expect("start the lab");
        // Stop the lab when this test process ends.
        let _ = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "while kill -0 {pid} 2>/dev/null; do sleep 1; done; exec '{bin}' lab down --dir '{dir}' >/dev/null 2>&1",
                pid = std::process::id(),
                bin = env!("CARGO_BIN_EXE_scenario"),
                dir = dir.display()
            ))
            .stdin(std::process::Stdio::null())
            .spawn();
        scenario_lab::crds::install_blocking(&state).expect("install the test CRDs");
        state
    })
}

/// An admin client for a lab cluster.
pub async fn client(cluster: &str) -> kube::Client {
    scenario_lab::crds::client(lab(), cluster)
        .await
        .expect("client")
}

/// Creates a fresh namespace named after the test (with a random suffix).
pub async fn namespace(client: &kube::Client, test: &str) -> String {
    use rand::Rng as _;
    let suffix: u32 = rand::rng().random_range(0..1_000_000);
    let name = format!("t-{}-{suffix:06}", test.replace('_', "-"));
    let api: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": name }
    }))
    .unwrap();
    api.create(&PostParams::default(), &ns)
        .await
        .expect("create namespace");
    name
}

/// Deletes a test namespace (not waiting).
pub async fn drop_namespace(client: &kube::Client, name: &str) {
    let api: Api<Namespace> = Api::all(client.clone());
    let _ = api.delete(name, &DeleteParams::default()).await;
}

/// Runs `scenario run` on a test playbook against the lab; returns (exit code, stdout, stderr).
pub fn run_playbook(playbook: &str, args: &[&str]) -> (i32, String, String) {
    let out = Scenario::new()
        .arg("run")
        .arg(playbook)
        .args(args)
        .env("KUBECONFIG", &lab().kubeconfig)
        .run();
    (out.code(), out.stdout, out.stderr)
}

/// Applies a JSON object with server-side apply under a field manager.
pub async fn apply_json(
    client: &kube::Client,
    obj: serde_json::Value,
    manager: &str,
) -> kube::api::DynamicObject {
    use kube::api::{ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
    let api_version = obj["apiVersion"].as_str().unwrap().to_owned();
    let kind = obj["kind"].as_str().unwrap().to_owned();
    let (g, v) = api_version.split_once('/').unwrap_or(("", &api_version));
    let ar = ApiResource::from_gvk(&GroupVersionKind::gvk(g, v, &kind));
    let name = obj["metadata"]["name"].as_str().unwrap().to_owned();
    let api: Api<DynamicObject> = match obj["metadata"]["namespace"].as_str() {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
        None => Api::all_with(client.clone(), &ar),
    };
    api.patch(
        &name,
        &PatchParams::apply(manager).force(),
        &Patch::Apply(&obj),
    )
    .await
    .expect("apply")
}
