//! Faults between scenario and a real API server: a fault-injecting TCP
//! proxy (tests/support/faultproxy.rs) in front of the lab's `cluster1`
//! resets, stalls, drops and flaps connections. The pre-flight and every step
//! kind that talks to a cluster retry inside their budget and never run past
//! it; an apply cut short by a dying API server lists what it applied.

use crate::support::faultproxy;
use crate::support::{self, Scenario};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use faultproxy::{Mode, Proxy};

/// A proxy in front of `cluster1` and a kubeconfig whose `cluster1` context
/// goes through it (the other contexts are direct).
fn proxied(dir: &Path, mode: Mode) -> (Proxy, PathBuf) {
    let lab = support::lab();
    let server = &lab.cluster("cluster1").unwrap().server;
    let upstream: SocketAddr = server
        .trim_start_matches("https://")
        .trim_end_matches('/')
        .parse()
        .unwrap();
    let proxy = Proxy::start(upstream, mode);
    let kc = std::fs::read_to_string(&lab.kubeconfig).unwrap();
    let path = dir.join("kubeconfig");
    std::fs::write(&path, kc.replace(server.as_str(), &proxy.url())).unwrap();
    (proxy, path)
}

/// `scenario run` of `pb` through `kubeconfig`, without a developer's log filter.
fn scenario(pb: &Path, kubeconfig: &Path, args: &[&str]) -> Scenario {
    Scenario::new()
        .arg("run")
        .arg(pb)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .env_remove("SCENARIO_LOG")
}

/// Every step kind that talks to a cluster, on cluster1, each with a 4s timeout.
fn all_kinds(dir: &Path, ns: &str, continue_on_error: bool) -> PathBuf {
    let coe = if continue_on_error {
        "\n    continueOnError: true"
    } else {
        ""
    };
    let p = dir.join("kinds.yaml");
    std::fs::write(
        &p,
        format!(
            r#"name: kinds
clusters:
  cluster1: {{}}
defaults:
  clusters: cluster1
  timeout: 4s
vars:
  ns: {ns}
steps:
  - name: mark
    sleep: 300ms
  - name: apply{coe}
    apply:
      namespace: "{{{{ ns }}}}"
      inline: |
        apiVersion: v1
        kind: ConfigMap
        metadata: {{ name: settings }}
        data: {{ mode: slow }}
  - name: patch{coe}
    patch:
      resource: {{ apiVersion: v1, kind: ConfigMap, namespace: "{{{{ ns }}}}", name: settings }}
      body: {{ data: {{ mode: fast }} }}
  - name: wait{coe}
    wait:
      resource: {{ apiVersion: v1, kind: ConfigMap, namespace: "{{{{ ns }}}}", name: settings }}
      jsonpath:
        - {{ path: $.data.mode, equals: fast }}
  - name: get{coe}
    get:
      resources: [{{ apiVersion: v1, kind: ConfigMap, namespace: "{{{{ ns }}}}", name: settings }}]
      capture: {{ mode: $.data.mode }}
  - name: delete{coe}
    delete:
      resources: [{{ apiVersion: v1, kind: ConfigMap, namespace: "{{{{ ns }}}}", name: settings }}]
"#
        ),
    )
    .unwrap();
    p
}

const KINDS: [&str; 5] = ["apply", "patch", "wait", "get", "delete"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_step_kind_gets_through_dropped_and_flapping_connections() {
    let client = support::client("cluster1").await;
    let ns = support::namespace(&client, "faults_kinds").await;
    for mode in [
        Mode::Drop(0.3),
        // Down first, from the first connection, so every run meets a fault.
        Mode::Flap {
            up: Duration::from_millis(700),
            down: Duration::from_millis(300),
        },
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (proxy, kc) = proxied(dir.path(), mode);
        let pb = all_kinds(dir.path(), &ns, false);
        let report = dir.path().join("r.json");
        let o = scenario(
            &pb,
            &kc,
            &["--report", &format!("json={}", report.display())],
        )
        .run();
        let out = &o.stdout;
        let err = &o.stderr;
        assert_eq!(o.status, Some(0), "{mode:?}\n{out}\n{err}");
        assert!(proxy.faulted() > 0, "{mode:?}: the proxy injected no fault");
        // No client-library line for the retried connections (nor any other).
        assert!(err.trim().is_empty(), "{mode:?}: {err}");
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        for s in r["playbooks"][0]["steps"].as_array().unwrap() {
            assert!(s["duration"].as_f64().unwrap() < 4.5, "{s}");
        }
    }
    support::drop_namespace(&client, &ns).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_step_kind_stops_at_its_timeout_when_the_server_goes_away() {
    let client = support::client("cluster1").await;
    let ns = support::namespace(&client, "faults_timeout").await;
    for fault in [Mode::Reset, Mode::Stall] {
        let dir = tempfile::tempdir().unwrap();
        let (proxy, kc) = proxied(dir.path(), Mode::Pass);
        let pb = all_kinds(dir.path(), &ns, true);
        let report = dir.path().join("r.json");
        let mut child = scenario(
            &pb,
            &kc,
            &["--report", &format!("json={}", report.display())],
        )
        .command()
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
        // The pre-flight passed once the first step (a sleep) starts: then the server goes away.
        let mut stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            use std::io::Read as _;
            let mut seen = Vec::new();
            let mut buf = [0u8; 4096];
            let mut told = false;
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                seen.extend_from_slice(&buf[..n]);
                if !told && String::from_utf8_lossy(&seen).contains("] mark (sleep") {
                    let _ = tx.send(());
                    told = true;
                }
            }
            String::from_utf8_lossy(&seen).into_owned()
        });
        let marked = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(30)))
            .await
            .unwrap();
        assert!(marked.is_ok(), "the run reached its first step");
        proxy.set_mode(fault);
        proxy.kill();
        let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
            .await
            .unwrap();
        let out = reader.join().unwrap();
        // Every cluster step errors (continueOnError: each kind gets its turn,
        // and such steps do not decide the exit code).
        assert_eq!(status.code(), Some(0), "{fault:?}\n{out}");
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        let steps = r["playbooks"][0]["steps"].as_array().unwrap();
        for kind in KINDS {
            let s = steps.iter().find(|s| s["name"] == kind).unwrap();
            assert_eq!(s["status"], "errored", "{fault:?}: {s}");
            let d = s["duration"].as_f64().unwrap();
            // Retried for most of its time, and never past it.
            assert!(d >= 3.0, "{fault:?}: {kind} gave up after {d}s: {s}");
            assert!(
                d < 4.6,
                "{fault:?}: {kind} ran {d}s, past its 4s timeout: {s}"
            );
        }
    }
    support::drop_namespace(&client, &ns).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_preflight_gets_through_flapping_and_dropped_connections() {
    let client = support::client("cluster1").await;
    let ns = support::namespace(&client, "faults_preflight").await;
    let modes = [
        (
            // Down first, from the first connection: every run meets a fault
            // (asserted below) and, retrying with jittered waits, gets through.
            Mode::Flap {
                up: Duration::from_millis(700),
                down: Duration::from_millis(300),
            },
            3,
        ),
        (Mode::Drop(0.2), 8),
    ];
    for (mode, runs) in modes {
        for i in 0..runs {
            let dir = tempfile::tempdir().unwrap();
            let (proxy, kc) = proxied(dir.path(), mode);
            let pb = dir.path().join("p.yaml");
            std::fs::write(
                &pb,
                format!("name: p\nclusters:\n  cluster1: {{}}\nsteps:\n  - name: read\n    clusters: cluster1\n    get:\n      resources: [{{ apiVersion: v1, kind: ConfigMap, namespace: {ns} }}]\n"),
            )
            .unwrap();
            let started = Instant::now();
            let o = scenario(&pb, &kc, &["--preflight-timeout", "10s"]).run();
            assert_eq!(o.status, Some(0), "{mode:?} run {i}: {}", o.stderr);
            assert!(started.elapsed() < Duration::from_secs(15));
            if matches!(mode, Mode::Flap { .. }) {
                assert!(
                    proxy.faulted() > 0,
                    "{mode:?} run {i}: the proxy injected no fault"
                );
            }
            drop(proxy);
        }
    }
    support::drop_namespace(&client, &ns).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_cut_by_a_dying_api_server_lists_what_it_applied_per_cluster() {
    use k8s_openapi::api::core::v1::ConfigMap;
    let c1 = support::client("cluster1").await;
    let c2 = support::client("cluster2").await;
    let ns = support::namespace(&c1, "faults_apply").await;
    let ns2 = support::namespace(&c2, "faults_apply").await;
    assert_ne!(ns, ns2);
    // The same namespace name on both clusters.
    support::drop_namespace(&c2, &ns2).await;
    support::apply_json(
        &c2,
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        "test",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (proxy, kc) = proxied(dir.path(), Mode::Pass);
    let mut manifest = String::new();
    for i in 0..120 {
        manifest.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{ name: cm-{i:03} }}\ndata: {{ i: \"{i}\", pad: \"{}\" }}\n",
            "x".repeat(2000)
        ));
    }
    std::fs::write(dir.path().join("many.yaml"), manifest).unwrap();
    let pb = dir.path().join("p.yaml");
    std::fs::write(
        &pb,
        format!("name: p\nclusters:\n  cluster1: {{}}\n  cluster2: {{}}\nsteps:\n  - name: many\n    clusters: [cluster1, cluster2]\n    timeout: 4s\n    apply:\n      namespace: {ns}\n      manifests: [many.yaml]\n"),
    )
    .unwrap();
    let report = dir.path().join("r.json");
    let child = scenario(
        &pb,
        &kc,
        &["--report", &format!("json={}", report.display())],
    )
    .current_dir(dir.path())
    .command()
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    // Once 20 objects are on cluster1 (seen directly, not through the proxy), it dies.
    let api: kube::Api<ConfigMap> = kube::Api::namespaced(c1.clone(), &ns);
    let t0 = Instant::now();
    loop {
        let n = api.list(&Default::default()).await.unwrap().items.len();
        if n >= 20 || t0.elapsed() > Duration::from_secs(60) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    proxy.set_mode(Mode::Reset);
    proxy.kill();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    let existing: std::collections::BTreeSet<String> = api
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|c| c.metadata.name)
        .map(|n| format!("ConfigMap {ns}/{n}"))
        .collect();
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let outcomes = r["playbooks"][0]["steps"][0]["outcomes"]
        .as_array()
        .unwrap();
    let on = |c: &str| outcomes.iter().find(|o| o["cluster"] == c).unwrap();
    // cluster2 was not cut: all 120.
    assert_eq!(on("cluster2")["status"], "passed");
    assert_eq!(on("cluster2")["details"].as_array().unwrap().len(), 120);
    // cluster1: what it applied before the server died, each object really there.
    let o1 = on("cluster1");
    assert_eq!(o1["status"], "errored", "{o1}");
    let applied: Vec<String> = o1["data"]["applied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert!(
        applied.len() >= 10 && applied.len() < 120,
        "{}",
        applied.len()
    );
    for a in &applied {
        assert!(existing.contains(a), "reported as applied but absent: {a}");
    }
    // At most the objects in flight (16) were applied without an answer.
    assert!(
        existing.len() - applied.len() <= 16,
        "{} on the cluster, {} reported",
        existing.len(),
        applied.len()
    );
    assert_eq!(
        o1["data"]["notApplied"].as_u64().unwrap() as usize,
        120 - applied.len()
    );
    assert_eq!(o1["details"].as_array().unwrap().len(), applied.len());
    let message = o1["message"].as_str().unwrap();
    assert!(
        message.contains(&format!(
            "{} of 120 objects applied before the step stopped (listed below); {} not",
            applied.len(),
            120 - applied.len()
        )),
        "{message}"
    );
    // The terminal shows them under the error.
    assert!(
        stdout.contains(&format!("    {}\n", applied[0])),
        "{stdout}"
    );
    support::drop_namespace(&c1, &ns).await;
    support::drop_namespace(&c2, &ns).await;
}
