//! Faults without a cluster: the pre-flight against ports that refuse, reset
//! or stall (through the fault proxy), the reports written after a failed or
//! interrupted pre-flight, atomic report writes under SIGKILL, and the
//! client library's log lines. Cluster-side faults are in lab_faults.rs.

use crate::support::faultproxy;
use crate::support::python;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::support::Scenario;
use std::time::{Duration, Instant};

use faultproxy::{Mode, Proxy};

/// The binary without the log filter a developer may have set.
fn bin() -> Scenario {
    Scenario::new().env_remove("SCENARIO_LOG")
}

/// A kubeconfig whose context `c1` points at `server` (any certificate accepted).
fn kubeconfig(dir: &Path, server: &str) -> PathBuf {
    let p = dir.join("kubeconfig");
    std::fs::write(
        &p,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{ server: \"{server}\", insecure-skip-tls-verify: true }}\nusers:\n- name: u\n  user: {{ token: not-a-secret }}\ncontexts:\n- name: c1\n  context: {{ cluster: c, user: u }}\ncurrent-context: c1\n"
        ),
    )
    .unwrap();
    p
}

/// A playbook with one cluster step on `c1`, and a `finally`.
fn cluster_playbook(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(format!("{name}.yaml"));
    std::fs::write(
        &p,
        format!(
            "name: {name}\nclusters:\n  c1: {{}}\nsteps:\n  - name: read\n    clusters: c1\n    get:\n      resources: [{{ apiVersion: v1, kind: ConfigMap, namespace: default }}]\n  - name: nap\n    sleep: 10ms\nfinally:\n  - name: tidy\n    sleep: 10ms\n"
        ),
    )
    .unwrap();
    p
}

/// A port where nothing listens (connections are refused).
fn refused() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

fn reports(dir: &Path) -> Vec<String> {
    ["junit", "json", "html"]
        .iter()
        .flat_map(|f| {
            let ext = if *f == "junit" { "xml" } else { f };
            [
                "--report".to_owned(),
                format!("{f}={}", dir.join(format!("r.{ext}")).display()),
            ]
        })
        .collect()
}

/// Reads the JUnit report with junitparser and checks the JSON report
/// against its schema; returns `{testcase: result kind}` per suite, as JSON.
fn consume(dir: &Path) -> serde_json::Value {
    python::ensure("junitparser, jsonschema", &["junitparser", "jsonschema"]);
    const CONSUMER: &str = r#"
import json, sys
import junitparser, jsonschema
xml = junitparser.JUnitXml.fromfile(sys.argv[1])
kind = lambda c: type(c.result[0]).__name__ if c.result else "passed"
out = {s.name: {c.name: kind(c) for c in s} for s in xml}
jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[3])))
print(json.dumps(out, sort_keys=True))
"#;
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/report.schema.json");
    let py = Command::new("python3")
        .args(["-c", CONSUMER])
        .arg(dir.join("r.xml"))
        .arg(dir.join("r.json"))
        .arg(&schema)
        .output()
        .unwrap();
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    serde_json::from_slice(&py.stdout).unwrap()
}

fn json_report(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("r.json")).unwrap()).unwrap()
}

#[test]
fn the_preflight_retries_refused_and_reset_connections_within_its_budget() {
    let dir = tempfile::tempdir().unwrap();
    let pb = cluster_playbook(dir.path(), "p");
    // Refused: nothing listens.
    let kc = kubeconfig(dir.path(), &format!("https://{}", refused()));
    let started = Instant::now();
    let o = bin()
        .arg("run")
        .arg(&pb)
        .arg("--kubeconfig")
        .arg(&kc)
        .args(["--preflight-timeout", "2s"])
        .run();
    let took = started.elapsed();
    let (out, err) = (&o.stdout, &o.stderr);
    assert_eq!(o.status, Some(3), "{out}\n{err}");
    // It did not give up on the first refusal, and it kept to its budget.
    assert!(
        took >= Duration::from_millis(1700),
        "gave up early: {took:?}\n{err}"
    );
    assert!(took < Duration::from_millis(3500), "over budget: {took:?}");
    assert!(err.contains("cannot be reached"), "{err}");
    assert!(err.contains("attempts in 1."), "{err}");
    assert!(out.is_empty(), "{out}");

    // Reset: the proxy accepts and resets every connection.
    let proxy = Proxy::start(refused(), Mode::Reset);
    let kc = kubeconfig(dir.path(), &proxy.url());
    let started = Instant::now();
    let o = bin()
        .arg("run")
        .arg(&pb)
        .arg("--kubeconfig")
        .arg(&kc)
        .args(["--preflight-timeout", "2s"])
        .run();
    let took = started.elapsed();
    let (out, err) = (&o.stdout, &o.stderr);
    assert_eq!(o.status, Some(3), "{out}\n{err}");
    assert!(
        took >= Duration::from_millis(1700),
        "gave up early: {took:?}"
    );
    assert!(took < Duration::from_millis(3500), "over budget: {took:?}");
    assert!(
        proxy.accepted() >= 4,
        "retried: {} connections",
        proxy.accepted()
    );
}

#[test]
fn a_stalled_api_server_is_given_up_at_the_budget() {
    let dir = tempfile::tempdir().unwrap();
    let pb = cluster_playbook(dir.path(), "p");
    let proxy = Proxy::start(refused(), Mode::Stall);
    let kc = kubeconfig(dir.path(), &proxy.url());
    let started = Instant::now();
    let o = bin()
        .arg("run")
        .arg(&pb)
        .arg("--kubeconfig")
        .arg(&kc)
        .args(["--preflight-timeout", "3s"])
        .args(reports(dir.path()))
        .run();
    let took = started.elapsed();
    let (out, err) = (&o.stdout, &o.stderr);
    assert_eq!(o.status, Some(3), "{out}\n{err}");
    assert!(took >= Duration::from_millis(2900), "{took:?}");
    assert!(took < Duration::from_millis(4500), "over budget: {took:?}");
    assert!(err.contains("no answer"), "{err}");
    assert_eq!(
        consume(dir.path())["p"]["(pre-flight)"],
        "Error",
        "the report says the pre-flight failed"
    );
}

#[test]
fn a_failed_preflight_writes_every_report_with_an_error_per_playbook() {
    let dir = tempfile::tempdir().unwrap();
    let books = dir.path().join("books");
    std::fs::create_dir(&books).unwrap();
    cluster_playbook(&books, "a-cluster");
    std::fs::write(
        books.join("b-local.yaml"),
        "name: b-local\nsteps:\n  - name: nap\n    sleep: 10ms\n",
    )
    .unwrap();
    let kc = kubeconfig(dir.path(), &format!("https://{}", refused()));
    // A previous report is replaced, not left as if the run had passed.
    std::fs::write(dir.path().join("r.json"), "{\"status\": \"passed\"}").unwrap();
    let o = bin()
        .arg("run")
        .arg(&books)
        .arg("--kubeconfig")
        .arg(&kc)
        .args(["--preflight-timeout", "500ms"])
        .args(reports(dir.path()))
        .run();
    let (out, err) = (&o.stdout, &o.stderr);
    assert_eq!(o.status, Some(3), "{out}\n{err}");
    let cases = consume(dir.path());
    assert_eq!(
        cases,
        serde_json::json!({
            "a-cluster": {"(pre-flight)": "Error", "read": "Skipped", "nap": "Skipped", "tidy": "Skipped"},
            "b-local": {"(pre-flight)": "Skipped", "nap": "Skipped"},
        })
    );
    let r = json_report(dir.path());
    assert_eq!(r["status"], "errored");
    assert_eq!(r["exitCode"], 3);
    let pre = &r["playbooks"][0]["steps"][0];
    assert_eq!(pre["outcomes"][0]["cluster"], "c1");
    assert!(
        pre["outcomes"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("cluster `c1` (context c1, https://127.0.0.1:"),
        "{pre}"
    );
    assert_eq!(
        r["playbooks"][0]["steps"][1]["outcomes"][0]["message"],
        "skipped: the pre-flight found problems; nothing was written to any cluster"
    );
    assert_eq!(r["playbooks"][1]["status"], "skipped");
    let html = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
    assert!(html.contains("(pre-flight)"), "the HTML report names it");

    // A context the kubeconfig lacks: exit 2, and the reports too.
    for f in ["r.xml", "r.json", "r.html"] {
        std::fs::remove_file(dir.path().join(f)).unwrap();
    }
    let o = bin()
        .arg("run")
        .arg(books.join("a-cluster.yaml"))
        .arg("--kubeconfig")
        .arg(&kc)
        .args(["--context", "c1=nope"])
        .args(reports(dir.path()))
        .run();
    assert_eq!(o.status, Some(2), "{:?}", (&o.stdout, &o.stderr));
    assert_eq!(consume(dir.path())["a-cluster"]["(pre-flight)"], "Error");
    assert_eq!(json_report(dir.path())["exitCode"], 2);
}

/// Starts a run whose pre-flight hangs on a stalled API server.
fn stalled_run(dir: &Path, proxy: &Proxy) -> Child {
    let pb = cluster_playbook(dir, "p");
    let kc = kubeconfig(dir, &proxy.url());
    bin()
        .arg("run")
        .arg(&pb)
        .arg("--kubeconfig")
        .arg(&kc)
        .args(["--preflight-timeout", "60s"])
        .args(reports(dir))
        .command()
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_for(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    None
}

#[test]
fn a_signal_during_the_preflight_ends_with_reports_and_130() {
    let proxy = Proxy::start(refused(), Mode::Stall);
    for (signal, after_ms) in [
        (libc::SIGTERM, 150),
        (libc::SIGTERM, 600),
        (libc::SIGINT, 1200),
        (libc::SIGTERM, 2500),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut child = stalled_run(dir.path(), &proxy);
        std::thread::sleep(Duration::from_millis(after_ms));
        let sent = Instant::now();
        unsafe { libc::kill(child.id() as i32, signal) };
        let status = wait_for(&mut child, Duration::from_secs(10));
        let status = status
            .unwrap_or_else(|| panic!("still running 10s after signal {signal} at {after_ms}ms"));
        assert!(
            sent.elapsed() < Duration::from_secs(3),
            "{:?}",
            sent.elapsed()
        );
        assert_eq!(status.code(), Some(130), "signal {signal} at {after_ms}ms");
        let r = json_report(dir.path());
        assert_eq!(r["exitCode"], 130);
        assert_eq!(r["playbooks"][0]["interrupted"], true);
        assert!(
            r["playbooks"][0]["steps"][0]["outcomes"][0]["message"]
                .as_str()
                .unwrap()
                .starts_with("interrupted (SIGINT/SIGTERM) before the steps started"),
            "{r}"
        );
        assert_eq!(consume(dir.path())["p"]["(pre-flight)"], "Error");
    }
}

/// A playbook of `n` short sleeps named `name` (no cluster: no pre-flight).
fn local_playbook(dir: &Path, name: &str, n: usize) -> PathBuf {
    let p = dir.join(format!("{name}.yaml"));
    let mut s = format!("name: {name}\nsteps:\n");
    for i in 0..n {
        s.push_str(&format!("  - name: s{i}\n    sleep: 1ms\n"));
    }
    std::fs::write(&p, s).unwrap();
    p
}

/// The temporary file of a report being written by `pid`, once it exists.
fn temp_of(dir: &Path, report: &str, pid: u32) -> PathBuf {
    dir.join(format!(".{report}.{pid}.tmp"))
}

#[test]
fn sigkill_between_the_temporary_file_and_the_rename_keeps_the_previous_report() {
    let dir = tempfile::tempdir().unwrap();
    let first = local_playbook(dir.path(), "first", 3);
    let second = local_playbook(dir.path(), "second", 300);
    let run = |pb: &Path| bin().arg("run").arg(pb).args(reports(dir.path()));
    let o = run(&first).run();
    assert_eq!(o.status, Some(0));
    let before_json = std::fs::read(dir.path().join("r.json")).unwrap();
    let before_xml = std::fs::read(dir.path().join("r.xml")).unwrap();

    // The next run pauses after writing and flushing its first temporary
    // file (the JUnit report); it is killed there.
    let mut child = run(&second)
        .env("SCENARIO_TEST_REPORT_PAUSE_MS", "20000")
        .command()
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let tmp = temp_of(dir.path(), "r.xml", child.id());
    let started = Instant::now();
    while !tmp.exists() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(tmp.exists(), "the run reached its report write");
    std::thread::sleep(Duration::from_millis(100));
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = child.wait();
    // The new report was whole in its temporary file; the previous one is intact.
    let new = std::fs::read_to_string(&tmp).unwrap();
    assert!(new.contains("name=\"second\"") && new.ends_with("</testsuites>\n"));
    assert_eq!(std::fs::read(dir.path().join("r.xml")).unwrap(), before_xml);
    assert_eq!(
        std::fs::read(dir.path().join("r.json")).unwrap(),
        before_json
    );
    assert_eq!(consume(dir.path())["first"]["s0"], "passed");

    // The next run replaces them (and a leftover temporary file stays a
    // separate, hidden file).
    let o = run(&second).run();
    assert_eq!(o.status, Some(0));
    assert_eq!(consume(dir.path())["second"]["s299"], "passed");
}

#[test]
fn sigkill_at_random_moments_never_leaves_a_broken_report() {
    let dir = tempfile::tempdir().unwrap();
    // A large report (about 400 KB of JSON), so that its write takes a while.
    let pb = local_playbook(dir.path(), "big", 800);
    let o = bin()
        .arg("run")
        .arg(&pb)
        .args(reports(dir.path()))
        .command()
        .stdout(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let whole = std::fs::read(dir.path().join("r.json")).unwrap();
    assert!(whole.len() > 300_000, "{}", whole.len());
    // How long a run takes up to its end, to aim the kills at its last part.
    let started = Instant::now();
    bin()
        .arg("run")
        .arg(&pb)
        .args(reports(dir.path()))
        .command()
        .stdout(Stdio::null())
        .output()
        .unwrap();
    let full = started.elapsed();
    let mut rng = 0x1234_5678_u64;
    for _ in 0..10 {
        rng = rng.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let frac = 0.85 + 0.2 * ((rng >> 33) as f64 / f64::from(u32::MAX >> 1));
        let mut child = bin()
            .arg("run")
            .arg(&pb)
            .args(reports(dir.path()))
            .command()
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(full.mul_f64(frac));
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        let _ = child.wait();
        let text = std::fs::read_to_string(dir.path().join("r.json")).unwrap();
        let r: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| {
            panic!("a broken report after SIGKILL ({} bytes): {e}", text.len())
        });
        assert_eq!(r["playbooks"][0]["steps"].as_array().unwrap().len(), 800);
        consume(dir.path());
    }
}

#[test]
fn a_signal_during_the_report_write_does_not_cut_it() {
    let dir = tempfile::tempdir().unwrap();
    let pb = local_playbook(dir.path(), "p", 3);
    let mut child = bin()
        .arg("run")
        .arg(&pb)
        .args(reports(dir.path()))
        .env("SCENARIO_TEST_REPORT_PAUSE_MS", "800")
        .command()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let tmp = temp_of(dir.path(), "r.xml", child.id());
    let started = Instant::now();
    while !tmp.exists() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(5));
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = wait_for(&mut child, Duration::from_secs(20)).expect("ends");
    // The run had finished: its reports are whole and say so.
    assert_eq!(status.code(), Some(0));
    assert_eq!(consume(dir.path())["p"]["s2"], "passed");
    assert_eq!(json_report(dir.path())["exitCode"], 0);
}

#[test]
fn client_library_lines_are_folded_quiet_and_plain() {
    let dir = tempfile::tempdir().unwrap();
    let pb = cluster_playbook(dir.path(), "p");
    let kc = kubeconfig(dir.path(), &format!("https://{}", refused()));
    let run = |args: &[&str], force_color: bool| {
        let mut c = bin()
            .arg("run")
            .arg(&pb)
            .arg("--kubeconfig")
            .arg(&kc)
            .args(["--preflight-timeout", "1s"])
            .args(args);
        if force_color {
            c = c.env("FORCE_COLOR", "1");
        }
        let o = c.run();
        assert_eq!(o.status, Some(3));
        o.stderr
    };
    let kube_line = |e: &str| e.contains("kube_client") || e.contains("failed with error");
    // Default and -q: scenario's own error once, no client-library line, no colour.
    for args in [&[][..], &["-q"]] {
        let err = run(args, false);
        assert!(!kube_line(&err), "{args:?}: {err}");
        assert!(!err.contains("retrying"), "{args:?}: {err}");
        assert!(!err.contains('\x1b'), "{args:?}: {err}");
        assert!(err.contains("error: pre-flight: cluster `c1`"), "{err}");
        assert!(err.lines().count() <= 4, "{args:?}: {err}");
    }
    // -v: one scenario line per retry, still no client-library line, no colour on a pipe.
    let err = run(&["-v"], false);
    assert!(!kube_line(&err), "{err}");
    assert!(!err.contains('\x1b'), "{err}");
    let retries = err.lines().filter(|l| l.contains("; retrying in ")).count();
    assert!((3..=12).contains(&retries), "{retries} retries: {err}");
    // Colour when forced, and the client's own lines at -vv (the filter above is real).
    assert!(run(&["-v"], true).contains('\x1b'));
    assert!(kube_line(&run(&["-vv"], false)));
}

#[test]
fn a_preflight_timeout_must_be_a_positive_bounded_duration() {
    for (value, message) in [
        ("0s", "the pre-flight needs more than 0s"),
        ("25h", "longer than the limit of 24h"),
        ("10", "has no unit"),
        ("1e400s", "invalid duration"),
        ("-1s", "invalid duration `-1s`"),
        ("18446744073709551616s", "number is too large"),
        ("\u{1b}[31m5s", "invalid duration"),
    ] {
        let o = bin()
            .args(["run", "tests/playbooks/fanout.yaml"])
            .arg(format!("--preflight-timeout={value}"))
            .run();
        let err = &o.stderr;
        assert_eq!(o.status, Some(2), "{value}: {err}");
        assert!(err.contains(message), "{value}: {err}");
        assert!(!err.contains('\x1b'), "{value}: {err}");
    }
}
