//! Reports (JUnit, JSON), run control and interrupts, on the real binary.

use crate::support;
use crate::support::http;
use crate::support::python;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
    assert_eq!(report["schemaVersion"], 2);
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

#[test]
fn run_control_selects_steps() {
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("p.yaml");
    std::fs::write(&pb, "name: sel\nsteps:\n  - name: a\n    sleep: 1ms\n  - name: b\n    tags: [x]\n    sleep: 1ms\n  - name: c\n    sleep: 1ms\n  - name: d\n    sleep: 1ms\nfinally:\n  - name: z\n    sleep: 1ms\n").unwrap();
    let run = |args: &[&str]| {
        let o = bin().arg("run").arg(&pb).args(args).output().unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let ran = |out: &str| -> Vec<String> {
        out.lines()
            .filter_map(|l| l.strip_prefix('['))
            .filter_map(|l| l.split_once("] "))
            .map(|(_, r)| r.split(' ').next().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ran(&run(&["--from", "b", "--until", "c"]).1),
        ["b", "c", "z"]
    );
    assert_eq!(
        ran(&run(&["--only", "d", "--only", "a"]).1),
        ["a", "d", "z"]
    );
    assert_eq!(ran(&run(&["--tags", "x"]).1), ["b", "z"]);
    assert_eq!(ran(&run(&["--skip-tags", "x"]).1), ["a", "c", "d", "z"]);
    let (code, _, err) = run(&["--from", "bb"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("error: no step named `bb`") && err.contains("did you mean `b`?"),
        "{err}"
    );
}

#[test]
fn shards_split_a_directory_of_playbooks() {
    let dir = tempfile::tempdir().unwrap();
    for n in ["p1", "p2", "p3", "p4", "p5"] {
        std::fs::write(
            dir.path().join(format!("{n}.yaml")),
            format!("name: {n}\nsteps:\n  - name: s\n    sleep: 1ms\n"),
        )
        .unwrap();
    }
    let mut all = Vec::new();
    for i in 1..=2 {
        let o = bin()
            .arg("run")
            .arg(dir.path())
            .args(["--shard", &format!("{i}/2")])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0));
        let out = String::from_utf8_lossy(&o.stdout);
        all.extend(
            out.lines()
                .filter_map(|l| l.split_once(": passed").map(|(n, _)| n.to_owned())),
        );
    }
    all.sort();
    assert_eq!(all, ["p1", "p2", "p3", "p4", "p5"]);
}

fn interrupt_run(
    finally_sleep: &str,
    signals: usize,
) -> (Option<i32>, Duration, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("p.yaml");
    std::fs::write(&pb, format!("name: long\nsteps:\n  - name: long-wait\n    timeout: 5m\n    sleep: 120s\n  - name: never\n    sleep: 1ms\nfinally:\n  - name: cleanup\n    sleep: {finally_sleep}\n")).unwrap();
    let json = dir.path().join("r.json");
    let mut child = bin()
        .arg("run")
        .arg(&pb)
        .arg("--report")
        .arg(format!("json={}", json.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    let started = Instant::now();
    for _ in 0..signals {
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        std::thread::sleep(Duration::from_millis(400));
    }
    let status = child.wait().unwrap();
    let elapsed = started.elapsed();
    let report = serde_json::from_str(&std::fs::read_to_string(&json).unwrap_or_default())
        .unwrap_or_default();
    (status.code(), elapsed, report)
}

#[test]
fn sigint_stops_the_step_runs_finally_and_writes_the_report() {
    let (code, elapsed, report) = interrupt_run("300ms", 1);
    assert_eq!(code, Some(130));
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    let steps = &report["playbooks"][0]["steps"];
    assert_eq!(steps[0]["status"], "errored");
    assert!(
        steps[0]["outcomes"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("interrupted")
    );
    assert_eq!(steps[1]["outcomes"][0]["message"], "skipped: interrupted");
    assert_eq!(steps[2]["name"], "cleanup");
    assert_eq!(steps[2]["status"], "passed", "finally ran");
    assert_eq!(report["exitCode"], 130);
}

#[test]
fn a_second_sigint_skips_finally() {
    let (code, elapsed, report) = interrupt_run("60s", 2);
    assert_eq!(code, Some(130));
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    let cleanup = &report["playbooks"][0]["steps"][2];
    assert_eq!(cleanup["name"], "cleanup");
    assert_eq!(cleanup["status"], "errored");
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

#[test]
fn json_lines_events_and_parallel_playbooks() {
    let dir = tempfile::tempdir().unwrap();
    for n in ["a", "b"] {
        std::fs::write(
            dir.path().join(format!("{n}.yaml")),
            format!(
                "name: {n}\nsteps:\n  - name: s1\n    sleep: 300ms\n  - name: s2\n    sleep: 1ms\n"
            ),
        )
        .unwrap();
    }
    let events = |jobs: &str| -> Vec<(String, String, String)> {
        let o = bin()
            .arg("run")
            .arg(dir.path())
            .args(["--output", "json", "--jobs", jobs])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0));
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("every line is JSON");
                let step = v["step"]
                    .as_str()
                    .or(v["result"]["name"].as_str())
                    .unwrap_or("")
                    .to_owned();
                (
                    v["event"].as_str().unwrap().to_owned(),
                    v["playbook"].as_str().unwrap().to_owned(),
                    step,
                )
            })
            .collect()
    };
    let seq = events("1");
    let want: Vec<(String, String, String)> = [
        ("step_started", "a", "s1"),
        ("step_finished", "a", "s1"),
        ("step_started", "a", "s2"),
        ("step_finished", "a", "s2"),
        ("playbook_finished", "a", ""),
        ("step_started", "b", "s1"),
        ("step_finished", "b", "s1"),
        ("step_started", "b", "s2"),
        ("step_finished", "b", "s2"),
        ("playbook_finished", "b", ""),
    ]
    .iter()
    .map(|(e, p, s)| ((*e).to_owned(), (*p).to_owned(), (*s).to_owned()))
    .collect();
    assert_eq!(seq, want);
    // With --jobs 2, b starts before a has finished its first step.
    let par = events("2");
    let b_start = par
        .iter()
        .position(|e| e.0 == "step_started" && e.1 == "b")
        .unwrap();
    let a_done = par
        .iter()
        .position(|e| e.0 == "step_finished" && e.1 == "a")
        .unwrap();
    assert!(b_start < a_done, "{par:?}");
}

#[test]
fn fail_fast_stops_after_the_first_failing_playbook() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("1.yaml"), "name: first\nsteps:\n  - name: down\n    timeout: 2s\n    probe: { url: \"http://127.0.0.1:1/api\", requests: 1, requestTimeout: 300ms }\n").unwrap();
    std::fs::write(
        dir.path().join("2.yaml"),
        "name: second\nsteps:\n  - name: s\n    sleep: 1ms\n",
    )
    .unwrap();
    let o = bin()
        .arg("run")
        .arg(dir.path())
        .arg("--fail-fast")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(3), "{out}");
    assert!(
        out.contains("first: ERROR") && !out.contains("second:"),
        "{out}"
    );
    let o = bin().arg("run").arg(dir.path()).output().unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("second: passed"));
}
