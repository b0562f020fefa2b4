//! A probe against servers that misbehave: bodies that never end, huge
//! bodies, bodies that stall, answers that all differ. The step ends within
//! its bounds, says what happened, and keeps memory bounded (peak RSS is in
//! BENCHMARKS.md: `cargo bench --bench probe_memory`).

use crate::support::{Scenario, raw_http};

use std::time::{Duration, Instant};

use raw_http::{Reply, json, serve};

fn run_in(dir: &std::path::Path, playbook: &str, args: &[&str]) -> (i32, String) {
    std::fs::write(dir.join("p.yaml"), playbook).unwrap();
    let out = Scenario::new()
        .arg("run")
        .arg("--no-color")
        .args(args)
        .arg(dir.join("p.yaml"))
        .run();
    (out.code(), out.both())
}

fn run(playbook: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    run_in(dir.path(), playbook, &[])
}

fn probe(url: &str, requests: u32, rest: &str) -> String {
    format!(
        "name: hostile\nsteps:\n  - name: probe\n    timeout: 30s\n    probe:\n      url: {url}\n      requests: {requests}\n      concurrency: 4\n      requestTimeout: 2s\n{rest}"
    )
}

#[test]
fn an_endless_body_is_an_error_for_that_answer_not_a_hang() {
    let s = serve(|_| Reply::Endless);
    let started = Instant::now();
    let (code, out) = run(&probe(&s.url(), 4, ""));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("the answer's body is larger than 1 MiB (the default `maxBody`; set `maxBody` on the probe to read up to 64 MiB)"),
        "{out}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_body_announced_larger_than_max_body_is_not_read() {
    let s = serve(|_| Reply::Sized(100 * 1024 * 1024));
    let (code, out) = run(&probe(&s.url(), 4, "      maxBody: 64KiB\n"));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("the answer's body is larger than 64 KiB (`maxBody` at "),
        "{out}"
    );
}

#[test]
fn a_body_that_stalls_fails_by_the_request_timeout() {
    let s = serve(|_| Reply::StallBody);
    let started = Instant::now();
    let (code, out) = run(&probe(&s.url(), 2, ""));
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("timed out"), "{out}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn answers_that_all_differ_are_counted_in_bounded_space() {
    // 300 answers, each a different 2,000-character body.
    let s = serve(|n| {
        Reply::Full(
            200,
            "text/plain",
            format!("{n:04}{}", "z".repeat(2000)).into_bytes(),
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let (code, out) = run_in(
        dir.path(),
        &probe(&s.url(), 300, "      extract: { text: { body: true } }\n"),
        &["--report", &format!("json={}", report.display())],
    );
    assert_eq!(code, 0, "{out}");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let values = &r["playbooks"][0]["steps"][0]["outcomes"][0]["data"]["summary"]["values"]["text"];
    let values = values
        .as_object()
        .unwrap_or_else(|| panic!("no values in {r}"));
    assert_eq!(values.len(), 101, "100 by name and one count for the rest");
    assert_eq!(values["(more distinct values)"], 200);
    assert!(
        values.keys().all(|k| k.chars().count() < 160),
        "values are cut"
    );
    // The terminal never prints a 2,000-character value.
    assert!(!out.contains(&"z".repeat(200)), "{out}");
}

#[test]
fn a_rendered_template_compares_as_the_type_found() {
    // The capture is the text "7"; the answer's `num` is the number 7.
    let s = serve(|_| json(r#"{"num":7}"#));
    let playbook = format!(
        "name: typed\nsteps:\n  - name: seven\n    exec:\n      command: [echo, '7']\n      captureStdout: seven\n  - name: probe\n    probe:\n      url: {}\n      requests: 5\n      expect:\n        each:\n          - {{ path: $.num, equals: \"{{{{ seven }}}}\" }}\n",
        s.url()
    );
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = run_in(dir.path(), &playbook, &["--allow-exec"]);
    assert_eq!(code, 0, "{out}");
    let wrong = playbook.replace("echo, '7'", "echo, '8'");
    let (code, out) = run_in(dir.path(), &wrong, &["--allow-exec"]);
    assert_eq!(code, 1, "{out}");
}

#[test]
fn a_json_value_of_another_type_fails_the_check_and_says_why() {
    let s = serve(|_| json(r#"{"num":7}"#));
    let (code, out) = run(&probe(
        &s.url(),
        5,
        "      expect:\n        each:\n          - { path: $.num, equals: \"7\" }\n",
    ));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("(7 is a number, \"7\" is a string: they never compare equal)"),
        "{out}"
    );
}

#[test]
fn an_exec_command_that_writes_without_end_is_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (code, out) = run_in(
        dir.path(),
        "name: flood\nsteps:\n  - name: flood\n    timeout: 60s\n    exec:\n      command: ['yes']\n",
        &["--allow-exec"],
    );
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains("`yes` wrote more than 4 MiB of output; it was stopped"),
        "{out}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_value_with_newlines_cannot_start_a_line_of_output() {
    // The answer tries to print a line of its own in the report of values.
    let s = serve(|_| {
        Reply::Full(
            200,
            "text/plain",
            b"blue\n[1/1] fake (probe)\n  passed in 0.00s".to_vec(),
        )
    });
    let (code, out) = run(&probe(
        &s.url(),
        3,
        "      extract: { text: { body: true } }\n      expect:\n        each:\n          - { value: text, equals: green }\n",
    ));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("blue\\n[1/1] fake (probe)\\n  passed"),
        "escaped: {out}"
    );
    assert!(!out.lines().any(|l| l.starts_with("[1/1] fake")), "{out}");
}
