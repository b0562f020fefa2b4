//! Cluster benchmarks on the local lab (not timed tests; see BENCHMARKS.md).
//!
//!   cargo bench --bench cluster
//!
//! (a) apply 200 objects to 3 clusters: `scenario run` vs `kubectl apply
//!     --server-side` of the same files (3 clusters one after the other, and
//!     3 kubectl processes in parallel), same lab, same run.
//! (b) wait reaction latency: from the write that satisfies the condition to
//!     the step completing, over 200 trials; side by side with a shell-style
//!     poll loop (`kubectl get` every 50 ms).
//!
//! Uses `$SCENARIO_LAB_DIR` when set, else starts (and stops) a lab of its own.
//! Writes bench/results/cluster.md.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, PostParams};
use scenario::runner::{Observer, RunOptions, StepResult};
use scenario_lab::LabState;

const OBJECTS: usize = 200;
const APPLY_RUNS: usize = 5;
const WAIT_TRIALS: usize = 200;
const POLL_TRIALS: usize = 50;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bin() -> PathBuf {
    let release = root().join("target/release/scenario");
    assert!(
        release.is_file(),
        "build the release binary first: cargo build --release"
    );
    release
}

fn stats(mut v: Vec<f64>) -> (f64, f64, f64, f64) {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pct = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    (mean, pct(0.5), pct(0.99), v[0])
}

fn main() {
    scenario::install_crypto_provider();
    let tmp = tempfile::tempdir().unwrap();
    let (state, own) = match std::env::var_os("SCENARIO_LAB_DIR") {
        Some(d) => (LabState::load(Path::new(&d)).expect("lab"), false),
        None => {
            let dir = tmp.path().join("lab");
            let clusters: Vec<String> = ["mgmt", "cluster1", "cluster2"]
                .iter()
                .map(|s| (*s).to_owned())
                .collect();
            (scenario_lab::up(&dir, &clusters).expect("lab up").0, true)
        }
    };
    let mut report = String::new();
    let _ = writeln!(
        report,
        "Machine: {} cores; commit {}; lab: 3 kube-apiservers 1.20 on one etcd (loopback)\n",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        String::from_utf8_lossy(
            &Command::new("git")
                .args(["rev-parse", "--short", "HEAD"])
                .output()
                .unwrap()
                .stdout
        )
        .trim()
    );
    apply_bench(&state, tmp.path(), &mut report);
    wait_bench(&state, tmp.path(), &mut report);
    std::fs::create_dir_all(root().join("bench/results")).unwrap();
    std::fs::write(root().join("bench/results/cluster.md"), &report).unwrap();
    println!("{report}");
    if own {
        scenario_lab::down(&state.dir).expect("lab down");
    }
}

fn apply_bench(state: &LabState, tmp: &Path, report: &mut String) {
    let dir = tmp.join("apply");
    let manifests = dir.join("manifests");
    std::fs::create_dir_all(&manifests).unwrap();
    std::fs::write(
        manifests.join("000-namespace.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bench-apply\n",
    )
    .unwrap();
    for i in 1..OBJECTS {
        std::fs::write(
            manifests.join(format!("{i:03}-cm.yaml")),
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i:03}\n  namespace: bench-apply\n  labels:\n    app: bench\ndata:\n  index: \"{i}\"\n  payload: \"{}\"\n", "x".repeat(200)),
        )
        .unwrap();
    }
    std::fs::write(
        dir.join("playbook.yaml"),
        "name: apply-bench\nclusters:\n  mgmt: {}\n  cluster1: {}\n  cluster2: {}\nsteps:\n  - name: apply\n    clusters: [mgmt, cluster1, cluster2]\n    apply:\n      manifests: [manifests/*.yaml]\n",
    )
    .unwrap();
    let kc = state.kubeconfig.to_str().unwrap().to_owned();
    let scenario_run = || {
        let o = Command::new(bin())
            .args(["run", "-q"])
            .arg(dir.join("playbook.yaml"))
            .env("KUBECONFIG", &kc)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    };
    let kubectl = |ctx: &str| {
        Command::new("kubectl")
            .args([
                "--kubeconfig",
                &kc,
                "--context",
                ctx,
                "apply",
                "--server-side",
                "--field-manager",
                "kubectl-bench",
                "-f",
            ])
            .arg(&manifests)
            .output()
            .unwrap()
    };
    let kubectl_seq = || {
        for ctx in ["mgmt", "cluster1", "cluster2"] {
            let o = kubectl(ctx);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
    };
    let kubectl_par = || {
        let hs: Vec<_> = ["mgmt", "cluster1", "cluster2"]
            .iter()
            .map(|ctx| {
                let kc = kc.clone();
                let m = manifests.clone();
                let ctx = (*ctx).to_owned();
                std::thread::spawn(move || {
                    Command::new("kubectl")
                        .args([
                            "--kubeconfig",
                            &kc,
                            "--context",
                            &ctx,
                            "apply",
                            "--server-side",
                            "--field-manager",
                            "kubectl-bench",
                            "-f",
                        ])
                        .arg(&m)
                        .output()
                        .unwrap()
                })
            })
            .collect();
        for h in hs {
            assert!(h.join().unwrap().status.success());
        }
    };
    // Warm up both (creation, discovery caches), then alternate runs.
    scenario_run();
    kubectl_seq();
    let (mut s, mut k, mut kp) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..APPLY_RUNS {
        let t = Instant::now();
        scenario_run();
        s.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        kubectl_seq();
        k.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        kubectl_par();
        kp.push(t.elapsed().as_secs_f64());
    }
    let (sm, _, _, smin) = stats(s);
    let (km, _, _, kmin) = stats(k);
    let (pm, _, _, pmin) = stats(kp);
    let _ = writeln!(
        report,
        "### (a) apply {OBJECTS} objects to 3 clusters ({APPLY_RUNS} runs each, alternating, after one warm-up)\n"
    );
    let _ = writeln!(
        report,
        "| command | mean | min | vs scenario |\n|:---|---:|---:|---:|"
    );
    let _ = writeln!(
        report,
        "| `scenario run` (one apply step on 3 clusters) | {sm:.2} s | {smin:.2} s | 1.0x |"
    );
    let _ = writeln!(
        report,
        "| `kubectl apply --server-side -f DIR`, 3 contexts one after the other | {km:.2} s | {kmin:.2} s | {:.1}x slower |",
        km / sm
    );
    let _ = writeln!(
        report,
        "| same, 3 kubectl processes in parallel | {pm:.2} s | {pmin:.2} s | {:.1}x slower |\n",
        pm / sm
    );
    // Clean up.
    for ctx in ["mgmt", "cluster1", "cluster2"] {
        let _ = Command::new("kubectl")
            .args([
                "--kubeconfig",
                &kc,
                "--context",
                ctx,
                "delete",
                "namespace",
                "bench-apply",
                "--wait=false",
            ])
            .output();
    }
}

/// Records when each step finished.
struct Clock(Arc<Mutex<Option<Instant>>>);

impl Observer for Clock {
    fn step_started(&self, _: &str, _: usize, _: usize, _: &scenario::model::step::Step) {}
    fn step_finished(&self, _: &str, _: &StepResult) {
        *self.0.lock().unwrap() = Some(Instant::now());
    }
}

fn wait_bench(state: &LabState, tmp: &Path, report: &mut String) {
    let dir = tmp.join("wait");
    std::fs::create_dir_all(&dir).unwrap();
    let pb_path = dir.join("playbook.yaml");
    std::fs::write(
        &pb_path,
        "name: wait-bench\nclusters:\n  cluster1: {}\nvars:\n  name: x\nsteps:\n  - name: appears\n    clusters: cluster1\n    timeout: 10s\n    wait:\n      resource: { apiVersion: v1, kind: ConfigMap, namespace: default, name: \"{{ name }}\" }\n      jsonpath:\n        - { path: $.data.ready, equals: \"yes\" }\n",
    )
    .unwrap();
    let kc = state.kubeconfig.clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let latencies: Vec<f64> = rt.block_on(async {
        let client = scenario_lab::crds::client(state, "cluster1").await.unwrap();
        let cms: Api<ConfigMap> = Api::namespaced(client, "default");
        let mut lat = Vec::new();
        for i in 0..WAIT_TRIALS {
            let name = format!("wait-bench-{i}");
            let load = scenario::load::LoadOptions {
                vars: vec![("name".into(), name.clone())],
                ..Default::default()
            };
            let pb = scenario::load::load(&pb_path, &load).unwrap();
            let done = Arc::new(Mutex::new(None));
            let clock = Clock(done.clone());
            let opts = RunOptions {
                kubeconfig: Some(kc.clone()),
                ..Default::default()
            };
            let runner =
                tokio::spawn(
                    async move { scenario::runner::run_playbook(&pb, &opts, &clock).await },
                );
            // Let the watch start, then write the object that satisfies the condition.
            tokio::time::sleep(Duration::from_millis(150)).await;
            let cm: ConfigMap = serde_json::from_value(
                serde_json::json!({"metadata": {"name": name}, "data": {"ready": "yes"}}),
            )
            .unwrap();
            let t0 = Instant::now();
            cms.create(&PostParams::default(), &cm).await.unwrap();
            let r = runner.await.unwrap();
            assert_eq!(r.status, scenario::runner::Status::Passed);
            let t1 = done.lock().unwrap().unwrap();
            lat.push(t1.duration_since(t0).as_secs_f64() * 1000.0);
            let _ = cms.delete(&name, &DeleteParams::default()).await;
        }
        lat
    });
    // Baseline: a shell-style poll loop, `kubectl get` every 50 ms.
    let poll: Vec<f64> = rt.block_on(async {
        let client = scenario_lab::crds::client(state, "cluster1").await.unwrap();
        let cms: Api<ConfigMap> = Api::namespaced(client, "default");
        let mut lat = Vec::new();
        for i in 0..POLL_TRIALS {
            let name = format!("poll-bench-{i}");
            let kc = kc.clone();
            let n2 = name.clone();
            let poller = tokio::task::spawn_blocking(move || {
                loop {
                    let o = Command::new("kubectl")
                        .args([
                            "--kubeconfig",
                            kc.to_str().unwrap(),
                            "--context",
                            "cluster1",
                            "get",
                            "configmap",
                            &n2,
                            "-n",
                            "default",
                            "-o",
                            "jsonpath={.data.ready}",
                        ])
                        .output()
                        .unwrap();
                    if String::from_utf8_lossy(&o.stdout) == "yes" {
                        return Instant::now();
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            });
            tokio::time::sleep(Duration::from_millis(150)).await;
            let cm: ConfigMap = serde_json::from_value(
                serde_json::json!({"metadata": {"name": name}, "data": {"ready": "yes"}}),
            )
            .unwrap();
            let t0 = Instant::now();
            cms.create(&PostParams::default(), &cm).await.unwrap();
            let t1 = poller.await.unwrap();
            lat.push(t1.duration_since(t0).as_secs_f64() * 1000.0);
            let _ = cms.delete(&name, &DeleteParams::default()).await;
        }
        lat
    });
    let (m, p50, p99, min) = stats(latencies);
    let (pm, pp50, pp99, pmin) = stats(poll);
    let _ = writeln!(
        report,
        "### (b) wait reaction latency: write that satisfies the condition -> step completed\n"
    );
    let _ = writeln!(
        report,
        "| waiter | trials | mean | p50 | p99 | min |\n|:---|---:|---:|---:|---:|---:|"
    );
    let _ = writeln!(
        report,
        "| `wait` step (watch) | {WAIT_TRIALS} | {m:.1} ms | {p50:.1} ms | {p99:.1} ms | {min:.1} ms |"
    );
    let _ = writeln!(
        report,
        "| baseline: `kubectl get` every 50 ms | {POLL_TRIALS} | {pm:.1} ms | {pp50:.1} ms | {pp99:.1} ms | {pmin:.1} ms |"
    );
    let _ = writeln!(
        report,
        "\nt0 is taken just before the create request is sent, so the figures include the write itself."
    );
}
