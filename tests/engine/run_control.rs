//! Run control without a cluster: step selections (`--from`, `--until`,
//! `--only`, `--tags`, `--skip-tags`) that run nothing or leave out a capture
//! a selected step needs, empty shards, exec steps left out, and the step
//! timeout over retries; which steps a selection runs,
//! SIGINT (once: `finally` runs; twice: it is skipped), `--jobs` and
//! `--fail-fast` over several playbooks.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::Scenario;

/// The binary as a `Command`, for the tests that signal it or read its events.
fn bin() -> Command {
    Scenario::new().command()
}

#[test]
fn a_selection_that_runs_nothing_is_refused() {
    let book = "tests/playbooks/fanout.yaml";
    Scenario::new()
        .args(["run", book, "--from", "check", "--until", "create"])
    .expect_status(2)
    .expect_stderr("error: --until create comes before --from check in tests/playbooks/fanout.yaml: nothing would run\n  --> <command line>\n  = expected: --from a step at or before --until\n\n1 error found; nothing was run\n")
    .run();
    Scenario::new()
        .args(["run", book, "--tags", "nothing-has-this"])
    .expect_status(2)
    .expect_stderr("error: the step selection (--from/--until/--only/--tags/--skip-tags) runs no step\n  --> <command line>\n  = expected: options that select at least one step\n\n1 error found; nothing was run\n")
    .run();
}

#[test]
fn an_empty_shard_is_a_notice_not_a_failure() {
    Scenario::new()
        .args(["run", "tests/playbooks/fanout.yaml", "--shard", "2/3"])
        .expect_status(0)
        .expect_stdout("shard 2/3: 0 playbooks (nothing to run in this shard)\n")
        .run();
}

#[test]
fn from_names_the_skipped_step_whose_capture_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("p.yaml");
    let marker = dir.path().join("written");
    std::fs::write(
        &book,
        format!(
            "name: from\nsteps:\n  - name: get-ip\n    exec:\n      command: [echo, 10.0.0.1]\n      captureStdout: ip\n  - name: write\n    exec:\n      command: [touch, {m}]\n  - name: use-ip\n    exec:\n      command: [echo, \"{{{{ ip }}}}\"]\n",
            m = marker.display()
        ),
    )
    .unwrap();
    let b = book.to_string_lossy().into_owned();
    // Refused before anything runs: `write` (selected, before `use-ip`) writes nothing.
    for selection in [
        &["--from", "write"][..],
        &["--only", "write", "--only", "use-ip"],
    ] {
        let mut args = vec!["run", "--allow-exec", b.as_str()];
        args.extend(selection);
        let o = Scenario::new().args(args).run();
        let err = o.stderr;
        assert_eq!(o.status, Some(2), "{err}");
        assert_eq!(
            err,
            format!(
                "error: step `use-ip` uses `ip`, which only step `get-ip` captures, and the step selection leaves it out\n  --> {b}:10:11\n   |\n10 |   - name: use-ip\n   |           ^^^^^^\n  = expected: a selection that runs `get-ip` before `use-ip` (e.g. --from get-ip), or a fallback in the template (`ip | default(...)`, or `when: ip is defined` on the step)\n\n1 error found; nothing was run\n"
            )
        );
        assert!(o.stdout.is_empty());
        assert!(!marker.exists(), "a step ran before the refusal");
    }
    // Selecting the producer too runs everything.
    let o = Scenario::new()
        .args(["run", "--allow-exec", &b, "--from", "get-ip"])
        .run();
    assert_eq!(o.status, Some(0));
    assert!(marker.exists());
}

#[test]
fn a_capture_with_a_fallback_or_a_guard_is_not_needed_but_finally_and_tags_count() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("p.yaml");
    std::fs::write(
        &book,
        "name: needs\nsteps:\n  - name: get-ip\n    tags: [setup]\n    exec:\n      command: [echo, 10.0.0.1]\n      captureStdout: ip\n  - name: fallback\n    exec:\n      command: [echo, \"{{ ip | default('none') }}\"]\n  - name: guarded\n    when: ip is defined\n    exec:\n      command: [echo, \"{{ ip }}\"]\n  - name: step-var\n    vars:\n      addr: \"{{ ip }}:80\"\n    exec:\n      command: [echo, \"{{ addr }}\"]\nfinally:\n  - name: last\n    exec:\n      command: [echo, \"{{ ip }}\"]\n",
    )
    .unwrap();
    let b = book.to_string_lossy().into_owned();
    let refused = |args: &[&str]| {
        let mut all = vec!["run", "--allow-exec", b.as_str()];
        all.extend(args);
        let o = Scenario::new().args(all).run();
        assert_eq!(o.status, Some(2), "{args:?}");
        assert!(o.stdout.is_empty(), "{args:?}: nothing ran");
        o.stderr
    };
    // A step var that uses the capture makes the step need it; so does `finally`.
    let err = refused(&["--only", "step-var"]);
    assert!(
        err.contains("error: step `step-var` uses `ip`, which only step `get-ip` captures"),
        "{err}"
    );
    assert!(
        err.contains("error: step `last` uses `ip`, which only step `get-ip` captures"),
        "{err}"
    );
    assert!(err.ends_with("2 errors found; nothing was run\n"), "{err}");
    // --skip-tags leaves the producer out as well.
    let err = refused(&["--skip-tags", "setup"]);
    assert!(err.contains("step `step-var` uses `ip`"), "{err}");
    assert!(!err.contains("step `fallback`"), "{err}");
    assert!(!err.contains("step `guarded`"), "{err}");
    // With the producer selected, everything runs.
    let o = Scenario::new()
        .args(["run", "--allow-exec", &b, "--tags", "setup"])
        .run();
    assert_eq!(o.status, Some(0), "{}", o.stderr);
    assert!(o.stdout.contains("`echo 10.0.0.1` exited with 0"));
}

#[test]
fn exec_steps_left_out_by_the_selection_need_no_allow_exec() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("p.yaml");
    std::fs::write(
        &book,
        "name: sel\nsteps:\n  - name: wait-a-bit\n    sleep: 10ms\n  - name: local\n    tags: [local]\n    exec:\n      command: [echo, hi]\n",
    )
    .unwrap();
    let b = book.to_string_lossy().into_owned();
    Scenario::new()
        .args(["run", &b, "--skip-tags", "local"])
        .expect_status(0)
        .run();
    let o = Scenario::new().args(["run", &b]).run();
    assert_eq!(o.status, Some(2));
    assert!(
        o.stderr
            .contains("error: step `local` runs a local command"),
        "{}",
        o.stderr
    );
}

#[test]
fn the_step_timeout_bounds_every_attempt_and_delay() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("p.yaml");
    std::fs::write(
        &book,
        "name: retries\nsteps:\n  - name: flaky\n    timeout: 2s\n    retry: { attempts: 10, delay: 1s }\n    exec:\n      command: [\"false\"]\n",
    )
    .unwrap();
    let b = book.to_string_lossy().into_owned();
    let started = std::time::Instant::now();
    let o = Scenario::new().args(["run", "--allow-exec", &b]).run();
    let took = started.elapsed();
    let out = o.stdout;
    assert_eq!(o.status, Some(1), "{out}");
    // Ten attempts a second apart would take 9 s; the 2 s timeout ends them.
    assert!(
        took < std::time::Duration::from_secs(4),
        "took {took:?}: {out}"
    );
    assert!(
        out.contains("FAILED in ") && out.contains(" attempts"),
        "{out}"
    );
    assert!(!out.contains("after 10 attempts"), "{out}");
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
