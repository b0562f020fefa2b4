//! `scenario report history`: 30 generated nightly reports with exactly one
//! flaky step (passed and failed on the same playbook digest) and one step
//! that fails only after its playbook changed (not flaky); the page is
//! self-contained, escapes what the reports hold, and loads in Chromium.

use std::path::Path;

use serde_json::{Value, json};

use crate::support::{Scenario, site};

const DAY: f64 = 86_400.0;
const START: f64 = 1_795_000_000.0;

fn outcome(status: &str, data: Value) -> Value {
    json!({
        "cluster": null, "status": status, "message": format!("{status} message"),
        "details": [], "duration": 0.5, "captures": {}, "data": data, "checks": []
    })
}

/// A probe's data with a split check that needed `n` answers.
fn split(n: u64) -> Value {
    json!({
        "url": "http://svc/<script>", "sent": n, "unanswered": 0,
        "summary": {"answers": n, "errors": 0, "error_rate": 0.0, "statuses": {"200": n},
                    "latency_ms": {"p50": 1.0}, "values": {}, "checks_passed": []},
        "judged_on": format!("all {n} answers"),
        "distribution": {"categories": ["blue", "green", "(other)"], "expected": [0.8, 0.2, 0.0],
            "counts": [n * 4 / 5, n / 5, 0], "n": n, "tolerance": 0.1, "false_fail": 0.01,
            "false_pass": 0.01, "fail_at": 5.0, "pass_at": -4.6, "alternatives": [],
            "verdict": "within", "off_category": null},
        "samples": []
    })
}

fn step(name: &str, kind: &str, status: &str, secs: f64, data: Value) -> Value {
    json!({"name": name, "kind": kind, "status": status, "duration": secs, "attempts": 1,
           "outcomes": [outcome(status, data)], "finally": false})
}

fn playbook(name: &str, digest: &str, steps: Vec<Value>) -> Value {
    let status = if steps.iter().any(|s| s["status"] == "failed") {
        "failed"
    } else {
        "passed"
    };
    json!({"name": name, "path": format!("{name}.yaml"), "status": status, "interrupted": false,
           "duration": steps.iter().map(|s| s["duration"].as_f64().unwrap()).sum::<f64>(),
           "steps": steps, "digest": digest, "files": [{"path": format!("{name}.yaml"), "sha256": digest}]})
}

/// Night `k` of 30: `web`'s `split` step fails on night 12 only, on the same
/// digest (flaky); `api`'s `migrate` fails from night 20 on, when the
/// playbook's digest changed (not flaky); `health` is skipped some nights.
fn night(k: u32) -> Value {
    let d = |c: char| c.to_string().repeat(64);
    let web = playbook(
        "web",
        &d('a'),
        vec![
            step(
                "deploy",
                "apply",
                "passed",
                2.0 + f64::from(k % 3),
                Value::Null,
            ),
            step(
                "split",
                "probe",
                if k == 12 { "failed" } else { "passed" },
                10.0 + f64::from(k),
                split(200 + u64::from(k) * 10),
            ),
        ],
    );
    let changed = k >= 20;
    let api = playbook(
        "api",
        &d(if changed { 'c' } else { 'b' }),
        vec![
            step(
                "migrate",
                "exec",
                if changed { "failed" } else { "passed" },
                1.0,
                Value::Null,
            ),
            step(
                "health",
                "get",
                if k.is_multiple_of(7) {
                    "skipped"
                } else {
                    "passed"
                },
                0.2,
                Value::Null,
            ),
            step(
                "<img src=x onerror=alert(1)>\u{1b}[31m",
                "sleep",
                "passed",
                0.1,
                Value::Null,
            ),
        ],
    );
    let failed = k == 12 || changed;
    json!({
        "schemaVersion": 3, "tool": "scenario 0.1.0",
        "status": if failed { "failed" } else { "passed" }, "exitCode": i32::from(failed),
        "durationSeconds": 20.0, "startedAt": START + f64::from(k) * DAY,
        "shard": null, "merged": null, "playbooks": [web, api]
    })
}

/// Writes the 30 nights into `dir`, in an order that is not the nights'
/// (the history orders them by their start time).
fn thirty_nights(dir: &Path) {
    for k in 0..30 {
        let name = format!("night-{:02}.json", (k * 7) % 30);
        std::fs::write(
            dir.join(name),
            serde_json::to_string_pretty(&night(k)).unwrap(),
        )
        .unwrap();
    }
}

#[test]
fn history_flags_the_one_step_that_passed_and_failed_on_the_same_digest() {
    let dir = tempfile::tempdir().unwrap();
    let nights = dir.path().join("nights");
    std::fs::create_dir(&nights).unwrap();
    thirty_nights(&nights);
    Scenario::new()
        .current_dir(dir.path())
        .args([
            "report",
            "history",
            "nights",
            "-o",
            "history.json",
            "--format",
            "json",
        ])
        .expect_status(0)
        .expect_stdout(
            "history of 30 nights: 2 playbooks, 1 flaky step\nflaky: web.yaml step split\n",
        )
        .expect_stderr("")
        .run();
    let h: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("history.json")).unwrap())
            .unwrap();
    assert_eq!(
        h["flaky"],
        json!([{"playbook": "web.yaml", "step": "split", "digests": ["a".repeat(64)]}])
    );
    let starts: Vec<f64> = h["nights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["startedAt"].as_f64().unwrap())
        .collect();
    assert!(
        starts.windows(2).all(|w| w[0] < w[1]),
        "oldest first: {starts:?}"
    );
    let api = &h["playbooks"][0];
    assert_eq!(api["path"], "api.yaml");
    let migrate = &api["steps"][0];
    assert_eq!(migrate["name"], "migrate");
    assert_eq!(
        migrate["flakyOn"],
        json!([]),
        "failed only after the digest changed"
    );
    assert_eq!(migrate["runs"][20]["status"], "failed");
    assert_eq!(migrate["runs"][19]["status"], "passed");
    let split = &h["playbooks"][1]["steps"][1];
    let answers: Vec<u64> = split["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["answers"].as_u64().unwrap())
        .collect();
    assert_eq!(
        answers,
        (0..30).map(|k| 200 + k * 10).collect::<Vec<_>>(),
        "the answers each night's split needed"
    );
    let durations: Vec<f64> = split["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["durationSeconds"].as_f64().unwrap())
        .collect();
    assert_eq!(durations[29], 39.0);
    // The page: self-contained, one flaky row, the reports' text escaped.
    let o = Scenario::new()
        .current_dir(dir.path())
        .args(["report", "history", "nights", "-o", "history.html"])
        .expect_status(0)
        .run();
    drop(o);
    let html_path = dir.path().join("history.html");
    let page = std::fs::read_to_string(&html_path).unwrap();
    for external in ["src=\"http", "href=", "url(", "<script", "@import", "<img"] {
        assert!(
            !page.contains(external),
            "self-contained and inert: {external}"
        );
    }
    assert_eq!(page.matches("class=\"step flaky\"").count(), 1);
    assert_eq!(
        page.matches("<svg").count(),
        2 * 2 + 5 * 2 + 1,
        "a strip and a duration trend per playbook and step, an answers trend for the split"
    );
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;") && !page.contains('\u{1b}'));
    let Some(browser) = site::chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "make test installs chromium"
        );
        return;
    };
    let dom = site::dump_dom(browser, &html_path);
    assert!(
        dom.contains("30 nights, 2 playbooks, <strong>1 flaky step</strong>"),
        "{dom}"
    );
    assert!(
        dom.contains("<code>web.yaml</code> step <strong>split</strong>"),
        "{dom}"
    );
    assert!(!dom.contains("<img"), "{dom}");
    // A screenshot, for a person to look at (docs/reports.md describes it).
    let png = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-history.png");
    let _ = std::fs::remove_file(&png);
    let shot = std::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
        ])
        .args(["--proxy-server=127.0.0.1:9", "--window-size=1280,1400"])
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", html_path.display()))
        .output()
        .unwrap();
    assert!(
        shot.status.success(),
        "{}",
        String::from_utf8_lossy(&shot.stderr)
    );
    let bytes = std::fs::read(&png).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
        "{}",
        bytes.len()
    );
}

#[test]
fn history_of_unreadable_or_too_many_reports() {
    let dir = tempfile::tempdir().unwrap();
    let nights = dir.path().join("nights");
    std::fs::create_dir(&nights).unwrap();
    thirty_nights(&nights);
    std::fs::write(
        nights.join("night-99.json"),
        &b"{\"schemaVersion\": 3, \"playbooks\": ["[..],
    )
    .unwrap();
    let o = Scenario::new()
        .current_dir(dir.path())
        .args(["report", "history", "nights", "-o", "history.html"])
        .expect_status(3)
        .expect_stdout(
            "history of 30 nights: 2 playbooks, 1 flaky step\nflaky: web.yaml step split\n",
        )
        .run();
    assert!(
        o.stderr
            .starts_with("error: report history: nights/night-99.json:1:"),
        "{}",
        o.stderr
    );
    let page = std::fs::read_to_string(dir.path().join("history.html")).unwrap();
    assert!(page.contains("Reports that could not be read"));
    for k in 0..1001 {
        std::fs::write(nights.join(format!("x-{k:04}.json")), "{}").unwrap();
    }
    Scenario::new()
        .current_dir(dir.path())
        .args(["report", "history", "nights", "-o", "history.html"])
        .expect_status(2)
        .expect_stderr(
            "error: report history: 1032 reports; a history reads at most 1000 (docs/limits.md)\n",
        )
        .run();
}
