//! Run control without a cluster: step selections (`--from`, `--until`,
//! `--only`, `--tags`, `--skip-tags`) that run nothing or leave out a capture
//! a selected step needs, empty shards, exec steps left out, and the step
//! timeout over retries. (Signals, `--fail-fast` and parallel playbooks on a
//! cluster: lab/lab_reports.rs.)

use crate::support::Scenario;

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
