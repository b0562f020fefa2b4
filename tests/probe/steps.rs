//! Probe steps against a local HTTP server with controllable answers.

use crate::support::{Scenario, http};

use std::time::Duration;

use http::{Behaviour, start};

fn weights(v: &[(&str, f64)]) -> Vec<(String, f64)> {
    v.iter().map(|(k, w)| ((*k).to_owned(), *w)).collect()
}

/// Writes `playbook` (and extra files) into a temp dir and runs it.
fn run(playbook: &str, files: &[(&str, &str)]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.yaml"), playbook).unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let out = Scenario::new()
        .arg("run")
        .arg(dir.path().join("p.yaml"))
        .run();
    (out.code(), out.stdout, out.stderr)
}

fn split_playbook(url: &str, w: &str) -> String {
    format!(
        "name: split\nsteps:\n  - name: split\n    timeout: 60s\n    probe:\n      url: {url}\n      requests: 2000\n      concurrency: 16\n      extract: {{ color: $.color }}\n      expect:\n        distribution:\n          value: color\n          weights: {w}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_true_split_passes() {
    let s = start(
        Behaviour {
            weights: weights(&[("blue", 40.0), ("green", 40.0), ("yellow", 20.0)]),
            ..Default::default()
        },
        None,
    )
    .await;
    let (code, out, err) = run(
        &split_playbook(&s.url("http"), "{blue: 40, green: 40, yellow: 20}"),
        &[],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("color split within ±10 points of the weights"),
        "{out}"
    );
    assert!(out.contains("color split over "), "{out}");
    assert!(
        out.contains("verdict: within ±10 points of the weights (sequential test, decided after"),
        "{out}"
    );
    let sent = s.count.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        sent < 2000,
        "a sequential test stops early; the server saw {sent} requests"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_split_fails_with_a_readable_report() {
    let s = start(
        Behaviour {
            weights: weights(&[("blue", 50.0), ("green", 50.0)]),
            ..Default::default()
        },
        None,
    )
    .await;
    let (code, out, err) = run(
        &split_playbook(&s.url("http"), "{blue: 40, green: 40, yellow: 20}"),
        &[],
    );
    assert_eq!(code, 1, "an assertion failure\n{out}\n{err}");
    assert!(
        out.contains("the color split is off: yellow 0.0% observed, 20% expected"),
        "{out}"
    );
    assert!(
        out.contains("verdict: OFF: `yellow` is 10 points or more from its weight"),
        "{out}"
    );
    // The observed-vs-expected table, with bars.
    let row = out
        .lines()
        .find(|l| l.trim_start().starts_with("yellow"))
        .unwrap();
    assert!(
        row.contains(" 20.0%") && row.trim_end().ends_with("0.0%"),
        "{row}"
    );
    let blue = out
        .lines()
        .find(|l| l.trim_start().starts_with("blue "))
        .unwrap();
    assert!(blue.contains('█'), "{blue}");
    assert!(out.contains("split  probe     FAILED"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_all_blue_service_is_recognised() {
    let s = start(Behaviour::default(), None).await;
    let each = format!(
        "name: blue\nsteps:\n  - name: all-blue\n    probe:\n      url: {}\n      requests: 100\n      extract: {{ color: $.color, pod: $.pod }}\n      expect:\n        each:\n          - {{ value: color, equals: blue }}\n          - {{ path: $.greeting, matches: \"^Namaste\" }}\n",
        s.url("http")
    );
    let (code, out, err) = run(&each, &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("100 answers, all expectations hold"), "{out}");
    assert!(
        out.contains("check color == \"blue\": 100 of 100 answers"),
        "{out}"
    );
    // The same service against a 50/50 expectation: off, quickly.
    let (code, out, _) = run(
        &split_playbook(&s.url("http"), "{blue: 50, green: 50}"),
        &[],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("verdict: OFF"), "{out}");
    // And a check that expects green says how many passed and what was seen.
    let green = each.replace("equals: blue", "equals: green");
    let (code, out, _) = run(&green, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "check color == \"green\": 0 of 100 answers passed, 100 needed; observed blue ×100"
        ),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_statuses_are_reported_and_secrets_redacted() {
    let s = start(
        Behaviour {
            status: 503,
            ..Default::default()
        },
        None,
    )
    .await;
    let pb = format!(
        "name: errors\nsteps:\n  - name: errors\n    probe:\n      url: {}\n      requests: 20\n      headers: {{ Authorization: \"Bearer s3cr3t-token\" }}\n      extract: {{ color: $.color }}\n",
        s.url("http")
    );
    let (code, out, err) = run(&pb, &[]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        out.contains("error rate 100.0% (20 of 20) exceeds 0.0% (accepted status: [200])"),
        "{out}"
    );
    assert!(out.contains("status 503 ×20"), "{out}");
    assert!(out.contains("sample: {\"status\":503"), "{out}");
    assert!(out.contains("\"set-cookie\":\"<redacted>\""), "{out}");
    for secret in ["very-secret-cookie", "s3cr3t-token"] {
        assert!(
            !out.contains(secret) && !err.contains(secret),
            "{secret} leaked:\n{out}\n{err}"
        );
    }
    // Accepting 503 makes the same answers fine.
    let (code, out, _) = run(
        &pb.replace(
            "      extract:",
            "      expect: { status: [503] }\n      extract:",
        ),
        &[],
    );
    assert_eq!(code, 0, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_are_reported() {
    let s = start(
        Behaviour {
            delay: Duration::from_secs(3),
            ..Default::default()
        },
        None,
    )
    .await;
    let pb = format!(
        "name: slow\nsteps:\n  - name: slow\n    timeout: 10s\n    probe:\n      url: {}\n      requests: 4\n      requestTimeout: 200ms\n",
        s.url("http")
    );
    let (code, out, _) = run(&pb, &[]);
    assert_eq!(
        code, 3,
        "no answer at all: the check could not be made\n{out}"
    );
    assert!(out.contains("no answer from"), "{out}");
    assert!(out.contains("request timed out"), "{out}");
    // Some slow answers: counted in the error rate.
    let s2 = start(
        Behaviour {
            delay: Duration::from_millis(400),
            ..Default::default()
        },
        None,
    )
    .await;
    let pb2 = format!(
        "name: latency\nsteps:\n  - name: latency\n    probe:\n      url: {}\n      requests: 8\n      expect:\n        latency: {{ p50: 100ms }}\n",
        s2.url("http")
    );
    let (code, out, _) = run(&pb2, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("latency p50 is"), "{out}");
    assert!(out.contains("expected at most 100ms"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_verification_failure_is_a_clear_error() {
    let (acceptor, ca_pem) = http::tls_acceptor();
    let s = start(Behaviour::default(), Some(acceptor)).await;
    let base = format!(
        "name: tls\nsteps:\n  - name: tls\n    timeout: 10s\n    probe:\n      url: {}\n      requests: 5\n",
        s.url("https")
    );
    let (code, out, _) = run(&base, &[]);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains("TLS verification failed for https://127.0.0.1:"),
        "{out}"
    );
    assert!(out.contains("trust a private CA with `tls.ca`"), "{out}");
    let with_ca = format!("{base}      tls: {{ ca: ca.pem }}\n");
    let (code, out, _) = run(&with_ca, &[("ca.pem", &ca_pem)]);
    assert_eq!(code, 0, "{out}");
    let insecure = format!("{base}      tls: {{ insecureSkipVerify: true }}\n");
    let (code, out, _) = run(&insecure, &[]);
    assert_eq!(code, 0, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eventually_waits_for_a_traffic_shift() {
    let s = start(Behaviour::default(), None).await;
    let behaviour = s.behaviour.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(700)).await;
        behaviour.lock().unwrap().weights = vec![("green".into(), 1.0)];
    });
    let pb = format!(
        "name: shift\nsteps:\n  - name: green\n    timeout: 20s\n    probe:\n      url: {}\n      requests: 100\n      concurrency: 4\n      extract: {{ color: $.color }}\n      eventually: {{ window: 50 }}\n      expect:\n        each:\n          - {{ value: color, equals: green }}\n",
        s.url("http")
    );
    let (code, out, err) = run(&pb, &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("judged on the last 50 answers (eventually, window 50)"),
        "{out}"
    );
    // Without `eventually`, answers sent before the shift make it fail.
    let s2 = start(Behaviour::default(), None).await;
    let b2 = s2.behaviour.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        b2.lock().unwrap().weights = vec![("green".into(), 1.0)];
    });
    let strict = pb
        .replace(&s.url("http"), &s2.url("http"))
        .replace(
            "      eventually: { window: 50 }\n",
            "      concurrency: 1\n",
        )
        .replace("      concurrency: 4\n", "");
    let (code, out, _) = run(&strict, &[]);
    assert_eq!(code, 1, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_eventual_split_passes_after_convergence_and_a_stuck_one_fails() {
    let s = start(
        Behaviour {
            weights: weights(&[("blue", 50.0), ("green", 50.0)]),
            ..Default::default()
        },
        None,
    )
    .await;
    let b = s.behaviour.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        b.lock().unwrap().weights = weights(&[("blue", 40.0), ("green", 40.0), ("yellow", 20.0)]);
    });
    let pb = format!(
        "name: converge\nsteps:\n  - name: split\n    timeout: 30s\n    probe:\n      url: {}\n      requests: 2000\n      concurrency: 4\n      extract: {{ color: $.color }}\n      eventually: {{}}\n      expect:\n        distribution: {{ value: color, weights: {{blue: 40, green: 40, yellow: 20}} }}\n",
        s.url("http")
    );
    let (code, out, err) = run(&pb, &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    // The test began once the answers looked settled, after the shift.
    let after: u64 = out
        .split("converged: attempt ")
        .nth(1)
        .and_then(|r| r.split(" began after ").nth(1))
        .and_then(|r| r.split(' ').next())
        .and_then(|r| r.parse().ok())
        .unwrap_or_else(|| panic!("no convergence line:\n{out}"));
    assert!(after >= 50, "began after {after} answers:\n{out}");
    println!("{out}");
    // Stuck on 50/50 for the whole (short) timeout: fails, however many attempts.
    let stuck = start(
        Behaviour {
            weights: weights(&[("blue", 50.0), ("green", 50.0)]),
            ..Default::default()
        },
        None,
    )
    .await;
    let (code, out, _) = run(
        &pb.replace(&s.url("http"), &stuck.url("http"))
            .replace("timeout: 30s", "timeout: 3s"),
        &[],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("expectations did not hold before the step timed out"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_come_from_json_headers_status_and_body_with_regexes() {
    let s = start(Behaviour::default(), None).await;
    let pb = format!(
        r#"name: extract
steps:
  - name: extract
    probe:
      url: {}
      requests: 20
      extract:
        color: $.color
        ctype: {{ header: Content-Type }}
        code: {{ status: true }}
        word: {{ body: true, regex: '"greeting":"(\w+)' }}
        pod_prefix: {{ jsonpath: $.pod, regex: "^([a-z]+)-" }}
      expect:
        each:
          - {{ value: ctype, equals: application/json }}
          - {{ value: code, equals: 200 }}
          - {{ value: word, equals: Namaste }}
          - {{ value: pod_prefix, equals: blue }}
          - {{ path: $.userAgent, matches: "^scenario/" }}
"#,
        s.url("http")
    );
    let (code, out, err) = run(&pb, &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("word: Namaste ×20 (100%)"), "{out}");
    assert!(out.contains("code: 200 ×20 (100%)"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_check_points_at_its_line_in_terminal_junit_and_json() {
    let s = start(
        Behaviour {
            weights: weights(&[("blue", 100.0)]),
            ..Default::default()
        },
        None,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.yaml");
    let pb = format!(
        "name: located\nsteps:\n  - name: all-green\n    probe:\n      url: {}\n      requests: 20\n      extract: {{ color: $.color }}\n      expect:\n        each:\n          - {{ value: color, equals: green }}\n",
        s.url("http")
    );
    std::fs::write(&path, pb).unwrap();
    let (junit, json) = (dir.path().join("r.xml"), dir.path().join("r.json"));
    let out = Scenario::new()
        .arg("run")
        .arg(&path)
        .arg("--report")
        .arg(format!("junit={}", junit.display()))
        .arg("--report")
        .arg(format!("json={}", json.display()))
        .run();
    let stdout = out.stdout;
    assert_eq!(out.status, Some(1), "{stdout}");
    let at = format!("{}:10:13", path.display());
    assert!(
        stdout.contains(&format!(
            "    --> {at}: color == \"green\"; found 0 of 20 answers passed; observed blue ×20\n"
        )),
        "{stdout}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains(&format!("file=\"{}\" line=\"10\"", path.display())),
        "{xml}"
    );
    assert!(
        xml.contains(&format!("--&gt; {at}")) || xml.contains(&format!("--> {at}")),
        "{xml}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["schemaVersion"], 3);
    let check = &report["playbooks"][0]["steps"][0]["outcomes"][0]["checks"][0];
    assert_eq!(check["location"]["line"], 10, "{report}");
    assert_eq!(check["location"]["column"], 13, "{report}");
    assert_eq!(check["location"]["file"], path.display().to_string());
    assert_eq!(check["passed"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_is_respected_within_ten_percent() {
    let s = start(Behaviour::default(), None).await;
    // The probe's own rate, and the playbook's default written per minute.
    for (defaults, rate) in [
        ("", "\n      rate: 100"),
        ("defaults: { rate: 6000/m }\n", ""),
    ] {
        let before = s.count.load(std::sync::atomic::Ordering::Relaxed);
        let pb = format!(
            "name: polite\n{defaults}steps:\n  - name: paced\n    probe:\n      url: {}\n      requests: 250\n      concurrency: 16{rate}\n",
            s.url("http")
        );
        let started = std::time::Instant::now();
        let (code, out, err) = run(&pb, &[]);
        let took = started.elapsed().as_secs_f64();
        assert_eq!(code, 0, "{out}\n{err}");
        // 250 requests at 100/s: the last one is due at 2.49 s.
        assert!(
            (2.25..=2.75).contains(&took),
            "250 requests at 100/s took {took:.2} s: {out}"
        );
        assert_eq!(
            s.count.load(std::sync::atomic::Ordering::Relaxed) - before,
            250
        );
        // The report says the rate it kept, and the pace it was given.
        let rate: f64 = out
            .split(" requests in ")
            .nth(1)
            .and_then(|r| r.split("s (").nth(1))
            .and_then(|r| r.split("/s").next())
            .and_then(|r| r.parse().ok())
            .unwrap_or_else(|| panic!("no rate in {out}"));
        assert!((90.0..=110.0).contains(&rate), "reported {rate}/s: {out}");
        assert!(out.contains("/s, paced at 100/s); judged on"), "{out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unexpected_categories_are_named_in_the_split_table() {
    let s = start(
        Behaviour {
            weights: weights(&[("blue", 50.0), ("green", 30.0), ("purple", 20.0)]),
            ..Default::default()
        },
        None,
    )
    .await;
    let (code, out, _) = run(
        &split_playbook(&s.url("http"), "{blue: 50, green: 50}"),
        &[],
    );
    assert_eq!(code, 1, "{out}");
    let named = out
        .lines()
        .find(|l| l.trim_start().starts_with("(other) = "))
        .unwrap_or_else(|| panic!("no named (other) line: {out}"));
    assert!(named.contains("purple ×"), "{named}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_never_check_fails_on_the_first_matching_answer_without_waiting() {
    let s = start(
        Behaviour {
            weights: weights(&[("blue", 90.0), ("yellow", 10.0)]),
            ..Default::default()
        },
        None,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.yaml");
    let pb = format!(
        "name: never\nsteps:\n  - name: no-canary\n    timeout: 60s\n    probe:\n      url: {}\n      requests: 100000\n      concurrency: 4\n      extract: {{ color: $.color }}\n      eventually: {{ window: 2000 }}\n      expect:\n        never:\n          - {{ value: color, equals: yellow }}\n",
        s.url("http")
    );
    std::fs::write(&path, pb).unwrap();
    let started = std::time::Instant::now();
    let out = Scenario::new().arg("run").arg(&path).run();
    let stdout = out.stdout;
    assert_eq!(out.status, Some(1), "{stdout}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "failed at once, not at the 60 s timeout"
    );
    assert!(
        stdout.contains("passed a `never` check: color == \"yellow\""),
        "{stdout}"
    );
    assert!(
        stdout.contains("    answer: status 200, color=yellow\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "    --> {}:13:13: color == \"yellow\"; found \"yellow\"\n",
            path.display()
        )),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_when_check_applies_only_where_its_condition_holds() {
    let s = start(
        Behaviour {
            weights: weights(&[("blue", 50.0), ("green", 50.0)]),
            ..Default::default()
        },
        None,
    )
    .await;
    let playbook = |pod: &str| {
        format!(
            "name: when\nsteps:\n  - name: pods\n    probe:\n      url: {}\n      requests: 60\n      extract: {{ color: $.color, pod: $.pod }}\n      expect:\n        each:\n          - {{ value: pod, matches: \"^{pod}-\", when: {{ value: color, equals: green }} }}\n",
            s.url("http")
        )
    };
    let (code, out, err) = run(&playbook("green"), &[]);
    assert_eq!(code, 0, "green answers come from green pods: {out}\n{err}");
    assert!(
        out.contains("check pod =~ /^green-/ when color == \"green\": 60 of 60 answers"),
        "{out}"
    );
    let (code, out, _) = run(&playbook("blue"), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("check pod =~ /^blue-/ when color == \"green\""),
        "{out}"
    );
}
