//! The mutation suite: for every check kind and option, a playbook that
//! passes against a known answer and the same playbook with the expectation
//! changed, which must FAIL (exit 1) and say why. A check that silently
//! became a no-op (never applied, compared nothing, judged fewer answers
//! than asked for) passes its mutant and fails this suite.

use crate::support::{Scenario, raw_http};

use raw_http::{Reply, json, serve};

/// Runs `playbook` (written into a fresh directory); returns (exit code, stdout + stderr).
fn run(playbook: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.yaml"), playbook).unwrap();
    let out = Scenario::new()
        .arg("run")
        .arg("--allow-exec")
        .arg("--no-color")
        .arg(dir.path().join("p.yaml"))
        .run();
    (out.code(), out.both())
}

/// A probe step of 20 requests to `url` with `body` (YAML, indented by 6).
fn probe(url: &str, body: &str) -> String {
    format!(
        "name: mutation\nsteps:\n  - name: probe\n    timeout: 20s\n    probe:\n      url: {url}\n      requests: 20\n      concurrency: 4\n{body}"
    )
}

/// The same answer every time: JSON with a string, a number and a boolean.
fn steady() -> raw_http::RawServer {
    serve(|_| json(r#"{"color":"blue","num":7,"ok":true,"pod":"blue-5d8f"}"#))
}

/// `holds` passes; `mutant` fails with exit 1 and says `why`.
fn pair(url: &str, holds: &str, mutant: &str, why: &str) {
    let (code, out) = run(&probe(url, holds));
    assert_eq!(code, 0, "the unmutated check must pass:\n{holds}\n{out}");
    let (code, out) = run(&probe(url, mutant));
    assert_eq!(code, 1, "the mutant must fail:\n{mutant}\n{out}");
    assert!(out.contains(why), "expected {why:?} in:\n{out}");
}

#[test]
fn each_equals() {
    let s = steady();
    pair(
        &s.url(),
        "      extract: { color: $.color }\n      expect:\n        each:\n          - { value: color, equals: blue }\n",
        "      extract: { color: $.color }\n      expect:\n        each:\n          - { value: color, equals: green }\n",
        "0 of 20 answers passed",
    );
}

#[test]
fn each_equals_on_a_json_path() {
    let s = steady();
    pair(
        &s.url(),
        "      expect:\n        each:\n          - { path: $.num, equals: 7 }\n",
        "      expect:\n        each:\n          - { path: $.num, equals: 8 }\n",
        "0 of 20 answers passed",
    );
}

#[test]
fn each_matches() {
    let s = steady();
    pair(
        &s.url(),
        "      extract: { pod: $.pod }\n      expect:\n        each:\n          - { value: pod, matches: '^blue-' }\n",
        "      extract: { pod: $.pod }\n      expect:\n        each:\n          - { value: pod, matches: '^green-' }\n",
        "matches /^green-/",
    );
}

#[test]
fn each_one_of() {
    let s = steady();
    pair(
        &s.url(),
        "      extract: { color: $.color }\n      expect:\n        each:\n          - { value: color, oneOf: [blue, green] }\n",
        "      extract: { color: $.color }\n      expect:\n        each:\n          - { value: color, oneOf: [green, yellow] }\n",
        "one of [\"green\",\"yellow\"]",
    );
}

#[test]
fn each_exists() {
    let s = steady();
    pair(
        &s.url(),
        "      expect:\n        each:\n          - { path: $.pod, exists: true }\n",
        "      expect:\n        each:\n          - { path: $.missing, exists: true }\n",
        "$.missing exists",
    );
    pair(
        &s.url(),
        "      expect:\n        each:\n          - { path: $.missing, exists: false }\n",
        "      expect:\n        each:\n          - { path: $.pod, exists: false }\n",
        "does not exist",
    );
}

#[test]
fn each_fraction() {
    // Half the answers are green.
    let s = serve(|n| {
        json(if n % 2 == 0 {
            r#"{"color":"blue"}"#
        } else {
            r#"{"color":"green"}"#
        })
    });
    pair(
        &s.url(),
        "      extract: { color: $.color }\n      expect:\n        each:\n          - { value: color, equals: blue, fraction: 0.5 }\n",
        "      extract: { color: $.color }\n      expect:\n        each:\n          - { value: color, equals: blue, fraction: 0.6 }\n",
        "10 of 20 answers passed, 12 needed",
    );
}

#[test]
fn each_when() {
    let s = steady();
    pair(
        &s.url(),
        "      extract: { color: $.color, num: $.num }\n      expect:\n        each:\n          - { value: color, equals: blue, when: { value: num, equals: 7 } }\n",
        "      extract: { color: $.color, num: $.num }\n      expect:\n        each:\n          - { value: color, equals: green, when: { value: num, equals: 7 } }\n",
        "0 of 20 answers passed",
    );
}

#[test]
fn a_when_that_cannot_compare_fails_the_check_instead_of_not_applying() {
    // `n` is a number in the answers; the condition compares it with a string.
    let s = steady();
    let (code, out) = run(&probe(
        &s.url(),
        "      extract: { color: $.color, num: $.num }\n      expect:\n        each:\n          - { value: color, equals: green, when: { value: num, equals: \"7\" } }\n",
    ));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "its condition `num == \"7\"` cannot be judged: 7 is a number, \"7\" is a string"
        ),
        "{out}"
    );
}

#[test]
fn never() {
    let s = steady();
    pair(
        &s.url(),
        "      extract: { color: $.color }\n      expect:\n        never:\n          - { value: color, equals: yellow }\n",
        "      extract: { color: $.color }\n      expect:\n        never:\n          - { value: color, equals: blue }\n",
        "passed a `never` check: color == \"blue\"",
    );
}

#[test]
fn never_with_when() {
    let s = steady();
    pair(
        &s.url(),
        "      extract: { color: $.color, num: $.num }\n      expect:\n        never:\n          - { value: color, equals: blue, when: { value: num, equals: 8 } }\n",
        "      extract: { color: $.color, num: $.num }\n      expect:\n        never:\n          - { value: color, equals: blue, when: { value: num, equals: 7 } }\n",
        "passed a `never` check",
    );
}

#[test]
fn status() {
    let s = serve(|_| Reply::Full(503, "text/plain", b"busy".to_vec()));
    pair(
        &s.url(),
        "      expect:\n        status: [503]\n",
        "      expect:\n        status: [200]\n",
        "error rate 100.0% (20 of 20) exceeds 0.0%",
    );
}

#[test]
fn status_extracted_as_a_number() {
    let s = steady();
    pair(
        &s.url(),
        "      extract: { code: { status: true } }\n      expect:\n        each:\n          - { value: code, equals: 200 }\n",
        "      extract: { code: { status: true } }\n      expect:\n        each:\n          - { value: code, equals: 201 }\n",
        "0 of 20 answers passed",
    );
}

#[test]
fn max_error_rate() {
    // One answer in four is a 500.
    let s = serve(|n| {
        if n % 4 == 0 {
            Reply::Full(500, "text/plain", b"oops".to_vec())
        } else {
            json(r#"{"color":"blue"}"#)
        }
    });
    pair(
        &s.url(),
        "      expect:\n        maxErrorRate: 0.25\n",
        "      expect:\n        maxErrorRate: 0.2\n",
        "error rate 25.0% (5 of 20) exceeds 20.0%",
    );
}

#[test]
fn latency() {
    let s = steady();
    pair(
        &s.url(),
        "      expect:\n        latency: { p50: 5s }\n",
        "      expect:\n        latency: { p50: 1ns }\n",
        "latency p50 is",
    );
}

#[test]
fn distribution() {
    let s = steady();
    let split = |w: &str| {
        format!(
            "      requests: 400\n      extract: {{ color: $.color }}\n      expect:\n        distribution:\n          value: color\n          weights: {w}\n"
        )
    };
    // `requests` is given twice in the YAML otherwise: build the step by hand.
    let step = |w: &str| {
        format!(
            "name: mutation\nsteps:\n  - name: probe\n    timeout: 20s\n    probe:\n      url: {}\n      concurrency: 4\n{}",
            s.url(),
            split(w)
        )
    };
    let (code, out) = run(&step("{blue: 100}"));
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(&step("{blue: 50, green: 50}"));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("the color split is off"), "{out}");
}

#[test]
fn extract_from_a_header_and_through_a_regex() {
    let s = steady();
    pair(
        &s.url(),
        "      extract: { ctype: { header: content-type, regex: '^application/(\\w+)' } }\n      expect:\n        each:\n          - { value: ctype, equals: json }\n",
        "      extract: { ctype: { header: content-type, regex: '^application/(\\w+)' } }\n      expect:\n        each:\n          - { value: ctype, equals: xml }\n",
        "0 of 20 answers passed",
    );
}

#[test]
fn extract_the_body() {
    let s = steady();
    pair(
        &s.url(),
        "      extract: { text: { body: true } }\n      expect:\n        each:\n          - { value: text, matches: 'blue-5d8f' }\n",
        "      extract: { text: { body: true } }\n      expect:\n        each:\n          - { value: text, matches: 'green' }\n",
        "0 of 20 answers passed",
    );
}

#[test]
fn max_body() {
    let s = steady();
    pair(
        &s.url(),
        "      maxBody: 1KiB\n",
        "      maxBody: 10B\n",
        "the answer's body is larger than 10 B (`maxBody` at ",
    );
}

#[test]
fn a_probe_cut_short_by_its_timeout_fails() {
    // 8 answers, then the server never answers again.
    let s = serve(|n| {
        if n < 8 {
            json(r#"{"color":"blue"}"#)
        } else {
            Reply::Hang
        }
    });
    let playbook = format!(
        "name: cut-short\nsteps:\n  - name: probe\n    timeout: 2s\n    probe:\n      url: {}\n      requests: 20\n      concurrency: 1\n      requestTimeout: 10s\n      extract: {{ color: $.color }}\n      expect:\n        each:\n          - {{ value: color, equals: blue }}\n",
        s.url()
    );
    let (code, out) = run(&playbook);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("the step timed out with 12 of 20 requests unanswered (8 answers)"),
        "{out}"
    );
}

#[test]
fn eventually_that_never_holds() {
    let s = steady();
    let step = |color: &str| {
        format!(
            "name: mutation\nsteps:\n  - name: probe\n    timeout: 3s\n    probe:\n      url: {}\n      requests: 20\n      extract: {{ color: $.color }}\n      expect:\n        each:\n          - {{ value: color, equals: {color} }}\n      eventually: {{ window: 10 }}\n",
            s.url()
        )
    };
    let (code, out) = run(&step("blue"));
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(&step("green"));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("expectations did not hold before the step timed out"),
        "{out}"
    );
}

#[test]
fn exec_expect_exit_and_output_checks() {
    let exec = |check: &str| {
        format!(
            "name: mutation\nsteps:\n  - name: exec\n    exec:\n      command: [sh, -c, 'echo blue; exit 3']\n{check}"
        )
    };
    let (code, out) = run(&exec("      expectExit: 3\n"));
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(&exec("      expectExit: 0\n"));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("exited with 3, expected 0"), "{out}");
    for (holds, mutant) in [
        ("equals: blue", "equals: green"),
        ("contains: lu", "contains: re"),
        ("matches: '^b'", "matches: '^g'"),
    ] {
        let (code, out) = run(&exec(&format!(
            "      expect: {{ exitCode: 3, stdout: {{ {holds} }} }}\n"
        )));
        assert_eq!(code, 0, "{holds}: {out}");
        let (code, out) = run(&exec(&format!(
            "      expect: {{ exitCode: 3, stdout: {{ {mutant} }} }}\n"
        )));
        assert_eq!(code, 1, "{mutant}: {out}");
        assert!(out.contains("its output does not match"), "{out}");
    }
}
