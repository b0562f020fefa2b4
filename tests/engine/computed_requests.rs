//! `requests` computed from a capture: the probe sends as many requests as
//! the capture says, a rendered count out of range (or not a number) stops the
//! step before its first request naming where `requests` is written, and a
//! template over vars is checked before the run like a number.

use std::path::Path;
use std::sync::atomic::Ordering;

use crate::support::Scenario;
use crate::support::http::{self, Behaviour};

/// A playbook that captures `echo RAW` as `raw`, then probes `url` with
/// `requests` as written (`requests_yaml`), and optionally `eventually`.
fn playbook(
    dir: &Path,
    url: &str,
    raw: &str,
    requests_yaml: &str,
    extra: &str,
) -> std::path::PathBuf {
    let text = format!(
        "name: counted\nvars:\n  calls: 7\nsteps:\n  - name: raw\n    exec:\n      command: [echo, '{raw}']\n      captureStdout: raw\n  - name: call\n    timeout: 20s\n    probe:\n      url: {url}\n      requests: {requests_yaml}\n{extra}"
    );
    let p = dir.join("p.yaml");
    std::fs::write(&p, text).unwrap();
    p
}

fn server() -> (tokio::runtime::Runtime, http::Server) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(http::start(Behaviour::default(), None));
    (rt, s)
}

#[test]
fn requests_computed_from_a_capture_send_that_many() {
    let (_rt, s) = server();
    let dir = tempfile::tempdir().unwrap();
    let p = playbook(dir.path(), &s.url("http"), "37", "\"{{ raw | int }}\"", "");
    let o = Scenario::new()
        .args(["run", "--allow-exec"])
        .arg(&p)
        .expect_status(0)
        .run();
    assert_eq!(s.count.load(Ordering::SeqCst), 37, "{}", o.stdout);
    assert!(o.stdout.contains("37 requests in "), "{}", o.stdout);
    // The plan and the page say where the number comes from: the capture's
    // shell variable, or (a filter the page cannot spell) the default count
    // with a comment that says so.
    let o = Scenario::new().arg("plan").arg(&p).expect_status(0).run();
    assert!(
        o.stdout.contains("/api x{{ raw | int }} (concurrency"),
        "{}",
        o.stdout
    );
    let o = Scenario::new().arg("docs").arg(&p).expect_status(0).run();
    assert!(
        o.stdout.contains("# scenario computes how many requests to send when it runs (raw | int): this loop sends 100\nfor i in $(seq 1 100); do"),
        "{}",
        o.stdout
    );
    let plain = playbook(dir.path(), &s.url("http"), "37", "\"{{ raw }}\"", "");
    let o = Scenario::new()
        .arg("plan")
        .arg(&plain)
        .expect_status(0)
        .run();
    assert!(
        o.stdout.contains("/api x<raw> (concurrency"),
        "{}",
        o.stdout
    );
    let o = Scenario::new()
        .arg("docs")
        .arg(&plain)
        .expect_status(0)
        .run();
    assert!(
        o.stdout.contains("for i in $(seq 1 \"${RAW}\"); do"),
        "{}",
        o.stdout
    );
    // Under `eventually` without a window, the window is the rendered count.
    let p = playbook(
        dir.path(),
        &s.url("http"),
        "12",
        "\"{{ raw }}\"",
        "      eventually: {}\n",
    );
    let o = Scenario::new()
        .args(["run", "--allow-exec"])
        .arg(&p)
        .expect_status(0)
        .run();
    assert!(
        o.stdout.contains("judged on the last 12 answers"),
        "{}",
        o.stdout
    );
}

#[test]
fn a_computed_count_out_of_range_stops_the_step_before_any_request() {
    let (_rt, s) = server();
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("0", "\"{{ raw | int }}\"", "renders 0, out of range"),
        ("-5", "\"{{ raw | int }}\"", "renders -5, out of range"),
        (
            "1000001",
            "\"{{ raw | int }}\"",
            "renders 1000001, out of range",
        ),
        (
            "99999999999999999999999",
            "\"{{ raw }}\"",
            "renders 99999999999999999999999, out of range",
        ),
        ("1e308", "\"{{ raw | float }}\"", "not a whole number"),
        (
            "12.5",
            "\"{{ raw | float }}\"",
            "renders 12.5, not a whole number",
        ),
        (
            "many",
            "\"{{ raw }}\"",
            "renders the text `many`, not a whole number",
        ),
        ("x", "\"{{ [raw] }}\"", "renders a list"),
    ];
    for (raw, requests, want) in cases {
        let p = playbook(dir.path(), &s.url("http"), raw, requests, "");
        let o = Scenario::new()
            .args(["run", "--allow-exec"])
            .arg(&p)
            .expect_status(3)
            .run();
        assert!(
            o.stdout
                .contains(&format!("`requests` at {}:13:17", p.display()))
                && o.stdout.contains(want)
                && o.stdout.contains("no request was sent"),
            "{raw} {requests}: {}",
            o.stdout
        );
    }
    // Fewer than the window asked for.
    let p = playbook(
        dir.path(),
        &s.url("http"),
        "3",
        "\"{{ raw }}\"",
        "      eventually: { window: 10 }\n",
    );
    let o = Scenario::new()
        .args(["run", "--allow-exec"])
        .arg(&p)
        .expect_status(3)
        .run();
    assert!(
        o.stdout
            .contains("renders 3, fewer than `eventually.window` (10)"),
        "{}",
        o.stdout
    );
    assert_eq!(s.count.load(Ordering::SeqCst), 0, "a request was sent");
}

#[test]
fn a_count_known_before_the_run_is_checked_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    // A template over vars renders now: 7 is fine, and plan shows the number.
    let p = playbook(
        dir.path(),
        "http://127.0.0.1:9/api",
        "1",
        "\"{{ calls }}\"",
        "",
    );
    let o = Scenario::new().arg("plan").arg(&p).expect_status(0).run();
    assert!(o.stdout.contains("/api x7 (concurrency"), "{}", o.stdout);
    // A name nothing gives is refused before the run, at the name.
    let p = playbook(
        dir.path(),
        "http://127.0.0.1:9/api",
        "1",
        "\"{{ nothing_here }}\"",
        "",
    );
    let o = Scenario::new()
        .arg("validate")
        .arg(&p)
        .expect_status(2)
        .run();
    assert!(
        o.stderr.contains("unknown variable `nothing_here`") && o.stderr.contains("p.yaml:13:21"),
        "{}",
        o.stderr
    );
    for (requests, want) in [
        (
            "\"{{ calls * 1000000 }}\"",
            "`requests` renders 7000000, out of range",
        ),
        (
            "\"{{ calls ~ 'x' }}\"",
            "`requests` renders the text `7x`, not a whole number",
        ),
        ("many", "`requests` is the text `many`"),
        ("\"{{ calls }} and {{ calls }}\"", "`requests` is the text"),
    ] {
        let p = playbook(dir.path(), "http://127.0.0.1:9/api", "1", requests, "");
        let o = Scenario::new()
            .arg("validate")
            .arg(&p)
            .expect_status(2)
            .run();
        assert!(
            o.stderr.contains(want) && o.stderr.contains("p.yaml:13:17"),
            "{requests}: {}",
            o.stderr
        );
    }
}
