//! An API server stopped (and restarted) during a step: the step recovers
//! within its timeout, or fails with a clear error; it never hangs past it.
//! Uses a lab of its own, so the shared lab is not disturbed.

use std::os::unix::process::CommandExt as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::Scenario;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};

fn kill(pid: u32) {
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    let start = Instant::now();
    while std::path::Path::new(&format!("/proc/{pid}/cmdline")).exists()
        && std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
        && start.elapsed() < Duration::from_secs(15)
    {
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_wait_survives_an_api_server_restart_and_fails_cleanly_when_it_stays_down() {
    scenario::install_crypto_provider();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lab");
    Scenario::new()
        .args(["lab", "up", "--clusters", "solo", "--dir"])
        .arg(&dir)
        .expect_status(0)
        .run();
    let state = scenario_lab::LabState::load(&dir).unwrap();
    let api = &state.clusters[0].apiserver;
    let argv: Vec<String> = std::fs::read(format!("/proc/{}/cmdline", api.pid))
        .unwrap()
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();

    // 1. Stopped and restarted while the step waits: it recovers.
    let started = Instant::now();
    let run = Scenario::new()
        .args(["run", "tests/playbooks/wait-restart.yaml"])
        .env("KUBECONFIG", &state.kubeconfig)
        .command()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    kill(api.pid);
    std::thread::sleep(Duration::from_secs(2));
    let log = std::fs::File::create(dir.join("solo/apiserver-restarted.log")).unwrap();
    let mut restarted = Command::new(&argv[0])
        .args(&argv[1..])
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .process_group(0)
        .spawn()
        .unwrap();
    // Once it answers again, the awaited object appears.
    let created = scenario_lab::block_on(async {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(c) = scenario_lab::crds::client(&state, "solo").await {
                let cms: Api<ConfigMap> = Api::namespaced(c, "default");
                let cm: ConfigMap =
                    serde_json::from_value(serde_json::json!({"metadata": {"name": "late"}}))
                        .unwrap();
                if cms.create(&PostParams::default(), &cm).await.is_ok() {
                    return true;
                }
            }
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    assert!(created, "the restarted API server never answered");
    let out = run.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("v1 ConfigMap late in default exists: yes"),
        "{stdout}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(45),
        "within the 40s step timeout"
    );

    // 2. Stopped for good: the pre-flight finds it before the step starts: a
    // clear error, exit 3, no hang. (The pre-flight retries a refused
    // connection within its budget, here 5 s.)
    kill(restarted.id());
    let _ = restarted.wait();
    let started = Instant::now();
    let out = Scenario::new()
        .args([
            "run",
            "--preflight-timeout",
            "5s",
            "tests/playbooks/wait-restart-short.yaml",
        ])
        .env("KUBECONFIG", &state.kubeconfig)
        .run();
    let (stdout, stderr) = (&out.stdout, &out.stderr);
    assert_eq!(out.status, Some(3), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("cannot reach the API server of `solo`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("nothing was written to any cluster"),
        "{stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );

    Scenario::new()
        .args(["lab", "down", "--dir"])
        .arg(&dir)
        .expect_status(0)
        .run();
}
