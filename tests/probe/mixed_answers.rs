//! Probes against a server that answers 200 JSON and 403 text ("RBAC: access
//! denied") in set proportions: splits over several values, `never` and
//! `when` checks on mixed answers.

use crate::support::{Scenario, http};

use std::time::Instant;

use http::{Behaviour, start};

fn mix(v: &[(&str, f64)]) -> Behaviour {
    Behaviour {
        weights: v.iter().map(|(k, w)| ((*k).to_owned(), *w)).collect(),
        ..Default::default()
    }
}

/// Writes the playbook into a temp dir, runs it; (exit code, stdout and stderr, seconds).
fn run(playbook: &str) -> (i32, String, f64) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.yaml");
    std::fs::write(&path, playbook).unwrap();
    let started = Instant::now();
    let out = Scenario::new().arg("run").arg(&path).run();
    // stdout, then stderr: a failure shows both.
    (out.code(), out.both(), started.elapsed().as_secs_f64())
}

/// A probe that accepts 200 and 403 and extracts the status, the color
/// (JSON answers only) and the body.
fn probe(url: &str, expect: &str) -> String {
    format!(
        "name: mixed\nsteps:\n  - name: mixed\n    timeout: 60s\n    probe:\n      url: {url}\n      requests: 3000\n      concurrency: 8\n      extract:\n        status: {{ status: true }}\n        color: $.color\n        body: {{ body: true }}\n      expect:\n        status: [200, 403]\n{expect}"
    )
}

const SPLIT: &str = "        distribution:\n          value: [status, color]\n          weights: { 200/blue: 40, 200/green: 40, \"403\": 20 }\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_over_status_and_color_passes_when_right() {
    let s = start(
        mix(&[("blue", 40.0), ("green", 40.0), ("denied", 20.0)]),
        None,
    )
    .await;
    let (code, out, _) = run(&probe(&s.url("http"), SPLIT));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("status/color split within ±10 points"),
        "{out}"
    );
    for row in ["  200/blue  ", "  200/green  ", "  403  "] {
        assert!(out.contains(row), "no `{row}` row: {out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_mix_fails_with_a_table_naming_every_category() {
    let s = start(
        mix(&[
            ("blue", 30.0),
            ("green", 20.0),
            ("denied", 35.0),
            ("yellow", 15.0),
        ]),
        None,
    )
    .await;
    let (code, out, _) = run(&probe(&s.url("http"), SPLIT));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("the status/color split is off"), "{out}");
    for row in ["  200/blue  ", "  200/green  ", "  403  ", "  (other)  "] {
        assert!(out.contains(row), "no `{row}` row: {out}");
    }
    let named = out
        .lines()
        .find(|l| l.trim_start().starts_with("(other) = "))
        .unwrap_or_else(|| panic!("no named (other): {out}"));
    assert!(named.contains("200/yellow ×"), "{named}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_never_check_on_mixed_answers_fails_on_the_first_denial() {
    let s = start(mix(&[("blue", 95.0), ("denied", 5.0)]), None).await;
    let never = "        never:\n          - { value: status, equals: 403 }\n";
    let pb = probe(&s.url("http"), never).replace(
        "      requests: 3000\n",
        // A window no run fills before its first denial (5% of the answers).
        "      requests: 100000\n      eventually: { window: 2000 }\n",
    );
    let (code, out, took) = run(&pb);
    assert_eq!(code, 1, "{out}");
    assert!(
        took < 10.0,
        "took {took:.1} s: the first denial decides, not the 60 s timeout"
    );
    assert!(
        out.contains("passed a `never` check: status == 403"),
        "{out}"
    );
    assert!(
        out.contains("answer: status 403, status=403, color=(missing), body=RBAC: access denied"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_when_check_judges_the_denied_answers_body() {
    let s = start(mix(&[("blue", 50.0), ("denied", 50.0)]), None).await;
    let check = |text: &str| {
        format!(
            "        each:\n          - {{ value: body, equals: \"{text}\", when: {{ value: status, equals: 403 }} }}\n          - {{ value: color, equals: blue, when: {{ value: status, equals: 200 }} }}\n"
        )
    };
    let (code, out, _) = run(&probe(&s.url("http"), &check("RBAC: access denied")));
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = run(&probe(&s.url("http"), &check("RBAC: forbidden")));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("check body == \"RBAC: forbidden\" when status == 403"),
        "{out}"
    );
}

#[test]
fn a_split_with_too_few_requests_is_warned_about_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.yaml");
    let validate = |extra: &str| {
        std::fs::write(
            &path,
            format!("name: few\nsteps:\n  - name: s\n    probe:\n      url: http://127.0.0.1:9/api\n{extra}      extract: {{ color: $.color }}\n      expect:\n        distribution: {{ value: color, weights: {{ blue: 50, green: 50 }} }}\n"),
        )
        .unwrap();
        let out = Scenario::new().arg("validate").arg(&path).run();
        assert_eq!(out.status, Some(0), "a warning, not an error");
        out.stderr
    };
    let warned = validate("");
    assert!(
        warned
            .contains("warning: a split check with 100 requests will often stop before it decides"),
        "{warned}"
    );
    assert!(!validate("      requests: 2000\n").contains("warning"));
    // Under `eventually` the probe keeps sampling until the timeout.
    assert!(!validate("      eventually: {}\n").contains("warning"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_never_check_that_no_answer_matches_passes_and_says_so() {
    let s = start(mix(&[("blue", 50.0), ("green", 50.0)]), None).await;
    let never = "        never:\n          - { value: status, equals: 403 }\n";
    for extra in ["", "      eventually: { window: 50 }\n"] {
        let pb = probe(&s.url("http"), never).replace(
            "      requests: 3000\n",
            &format!("      requests: 200\n{extra}"),
        );
        let (code, out, _) = run(&pb);
        assert_eq!(code, 0, "{out}");
        assert!(
            out.contains("never status == 403: no answer matched"),
            "{out}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_each_check_with_only_error_answers_says_so_in_a_sentence() {
    // Every answer is a 403, and only 200 is accepted: no answer is left to
    // judge the `each` check on.
    let s = start(mix(&[("denied", 100.0)]), None).await;
    let playbook = format!(
        "name: errors\nsteps:\n  - name: errors\n    timeout: 30s\n    probe:\n      url: {}\n      requests: 20\n      extract:\n        color: $.color\n      expect:\n        status: [200]\n        each:\n          - {{ value: color, equals: blue }}\n",
        s.url("http")
    );
    let (code, out, _) = run(&playbook);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("check color == \"blue\": no answer to check it on (all 20 were errors)"),
        "{out}"
    );
    assert!(!out.contains("0 of 0 answers passed"), "{out}");
}
