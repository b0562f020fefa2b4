//! Reports (JUnit, JSON), run control and interrupts, on the real binary.

use crate::support;
use crate::support::http;
use crate::support::python;

use std::path::Path;
use std::process::Command;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_scenario"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

/// Python with junitparser and jsonschema (from PyPI), installed on first use.
fn python_with_consumers() {
    python::ensure("junitparser, jsonschema", &["junitparser", "jsonschema"]);
}

const CONSUMER: &str = r#"
import json, sys
import junitparser, jsonschema
xml = junitparser.JUnitXml.fromfile(sys.argv[1])
cases = {c.name: c for suite in xml for c in suite}
kind = lambda c: type(c.result[0]).__name__ if c.result else "passed"
print(json.dumps({name: kind(c) for name, c in cases.items()}, sort_keys=True))
report = json.load(open(sys.argv[2]))
jsonschema.validate(report, json.load(open(sys.argv[3])))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junit_and_json_reports_are_accepted_by_real_consumers() {
    python_with_consumers();
    let s = http::start(http::Behaviour::default(), None).await;
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("p.yaml");
    std::fs::write(
        &pb,
        format!(
            "name: reports\nsteps:\n  - name: ok\n    probe: {{ url: {u}, requests: 5 }}\n  - name: wrong-color\n    continueOnError: true\n    probe:\n      url: {u}\n      requests: 5\n      extract: {{ color: $.color }}\n      expect: {{ each: [{{ value: color, equals: green }}] }}\n  - name: unreachable\n    continueOnError: true\n    timeout: 3s\n    probe: {{ url: \"http://127.0.0.1:1/api\", requests: 2, requestTimeout: 500ms }}\n  - name: tagged\n    tags: [slow]\n    sleep: 1s\nfinally:\n  - name: cleanup\n    sleep: 10ms\n",
            u = s.url("http")
        ),
    )
    .unwrap();
    let junit = dir.path().join("junit.xml");
    let json = dir.path().join("report.json");
    let out = bin()
        .arg("run")
        .arg(&pb)
        .args(["--skip-tags", "slow", "--report"])
        .arg(format!("junit={}", junit.display()))
        .arg("--report")
        .arg(format!("json={}", json.display()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "continueOnError steps do not decide the verdict\n{stdout}"
    );
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/report.schema.json");
    let py = Command::new("python3")
        .args(["-c", CONSUMER])
        .arg(&junit)
        .arg(&json)
        .arg(&schema)
        .output()
        .unwrap();
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&py.stdout).trim(),
        r#"{"cleanup": "passed", "ok": "passed", "tagged": "Skipped", "unreachable": "Error", "wrong-color": "Failure"}"#
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["schemaVersion"], 3);
    let steps = &report["playbooks"][0]["steps"];
    assert_eq!(steps[1]["status"], "failed");
    assert_eq!(steps[2]["status"], "errored");
    assert_eq!(
        steps[3]["outcomes"][0]["message"],
        "skipped: tag `slow` is in --skip-tags"
    );
    // The observations are in the report: counts per value.
    assert_eq!(
        steps[1]["outcomes"][0]["data"]["summary"]["values"]["color"]["blue"],
        5
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_any_output_or_report() {
    let state = support::lab();
    let s = http::start(
        http::Behaviour {
            status: 500,
            ..Default::default()
        },
        None,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("p.yaml");
    let header_secret = "Bearer do-not-print-me-42";
    std::fs::write(
        &pb,
        format!(
            "name: secrets\nclusters:\n  cluster1: {{}}\nsteps:\n  - name: read\n    clusters: cluster1\n    get:\n      resources: [{{ apiVersion: v1, kind: Namespace, name: default }}]\n  - name: call\n    probe:\n      url: {}\n      requests: 3\n      headers: {{ Authorization: \"{header_secret}\" }}\n",
            s.url("http")
        ),
    )
    .unwrap();
    let (junit, json) = (dir.path().join("j.xml"), dir.path().join("r.json"));
    let out = bin()
        .args(["-vv", "run"])
        .arg(&pb)
        .arg("--report")
        .arg(format!("junit={}", junit.display()))
        .arg("--report")
        .arg(format!("json={}", json.display()))
        .env("KUBECONFIG", &state.kubeconfig)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let everything = format!(
        "{}{}{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(&junit).unwrap(),
        std::fs::read_to_string(&json).unwrap()
    );
    assert!(
        everything.contains("set-cookie\\\":\\\"<redacted>") || everything.contains("<redacted>"),
        "samples are in the output"
    );
    for secret in [
        state.admin_token.as_str(),
        "do-not-print-me-42",
        "very-secret-cookie",
    ] {
        assert!(!everything.contains(secret), "a secret leaked");
    }
}
