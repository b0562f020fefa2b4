//! Edges of the command line: closed pipes, empty inputs and selections, a
//! kustomize directory that does not build. No cluster needed.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn scenario(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scenario"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("run scenario")
}

/// The command succeeded; its stderr says why when it did not.
fn assert_ok(o: &Output) {
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Runs with stdout closed before the command writes a byte.
fn with_closed_stdout(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_scenario"))
        .current_dir(root())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn scenario");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_closed_stdout_never_panics() {
    let book = "playbooks/traffic-management.yaml";
    for args in [
        vec!["validate", book],
        vec!["plan", book],
        vec!["docs", book],
        vec!["schema"],
        vec!["schema", "--report"],
        vec!["completions", "bash"],
    ] {
        let (code, err) = with_closed_stdout(&args);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn a_run_with_a_closed_stdout_still_runs_finally_and_writes_its_reports() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("p.yaml");
    std::fs::write(
        &book,
        "name: pipe\nsteps:\n  - name: first\n    sleep: 10ms\n  - name: second\n    sleep: 10ms\nfinally:\n  - name: clean-up\n    sleep: 10ms\n",
    )
    .unwrap();
    let report = dir.path().join("r.json");
    let book = book.to_string_lossy().into_owned();
    let json = format!("json={}", report.display());
    let (code, err) = with_closed_stdout(&["run", &book, "--report", &json]);
    assert_eq!(code, Some(0), "the run's own code: {err}");
    assert!(!err.contains("panicked"), "{err}");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let steps = r["playbooks"][0]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 3);
    assert!(steps.iter().all(|s| s["status"] == "passed"), "{r}");
    assert_eq!(steps[2]["name"], "clean-up");
    assert_eq!(steps[2]["finally"], true);
}

#[test]
fn a_directory_without_playbooks_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_string_lossy().into_owned();
    let o = scenario(&["run", &d]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "error: no playbook in this directory\n  --> {d}\n  = expected: a directory holding *.yaml or *.yml playbooks\n\n1 error found; nothing was run\n"
        )
    );
}

#[test]
fn a_selection_that_runs_nothing_is_refused() {
    let book = "tests/playbooks/fanout.yaml";
    let o = scenario(&["run", book, "--from", "check", "--until", "create"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "error: --until create comes before --from check in tests/playbooks/fanout.yaml: nothing would run\n  --> <command line>\n  = expected: --from a step at or before --until\n\n1 error found; nothing was run\n"
    );
    let o = scenario(&["run", book, "--tags", "nothing-has-this"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "error: the step selection (--from/--until/--only/--tags/--skip-tags) runs no step\n  --> <command line>\n  = expected: options that select at least one step\n\n1 error found; nothing was run\n"
    );
}

#[test]
fn an_empty_shard_is_a_notice_not_a_failure() {
    let o = scenario(&["run", "tests/playbooks/fanout.yaml", "--shard", "2/3"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "shard 2/3: 0 playbooks (nothing to run in this shard)\n"
    );
}

#[test]
fn a_kustomize_directory_that_does_not_build_is_found_by_validate() {
    if Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_err()
    {
        eprintln!("kubectl not installed (make lab-install installs it): skipping");
        return;
    }
    let o = scenario(&["validate", "tests/fixtures/kustomize-does-not-build.yaml"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("error: `kubectl kustomize kustomize-broken` fails: "),
        "{err}"
    );
    assert!(err.contains("missing.yaml"), "{err}");
    assert!(
        err.contains("  --> tests/fixtures/kustomize-does-not-build.yaml:12:18\n"),
        "{err}"
    );
}

#[test]
fn minijinja_functions_are_not_unknown_variables() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("p.yaml");
    std::fs::write(
        &book,
        "name: functions\nvars:\n  count: 3\nsteps:\n  - name: s\n    exec:\n      command: [echo, \"{% for i in range(count) %}{{ i }}{% endfor %} {{ dict(a=1).a }}\"]\n",
    )
    .unwrap();
    let b = book.to_string_lossy().into_owned();
    let o = scenario(&["plan", &b]);
    assert_ok(&o);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("exec echo 012 1 (needs --allow-exec)"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn exec_output_is_checked_and_a_failed_check_points_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("p.yaml");
    std::fs::write(
        &book,
        "name: exec-checks\nvars:\n  want: green\nsteps:\n  - name: colors\n    exec:\n      command: [sh, -c, \"echo blue green; echo oops >&2\"]\n      expect:\n        stdout: { contains: \"{{ want }}\", matches: \"^blue\" }\n        stderr: { equals: oops }\n  - name: wrong\n    exec:\n      command: [echo, blue]\n      expect:\n        stdout: { contains: red }\n",
    )
    .unwrap();
    let b = book.to_string_lossy().into_owned();
    let o = scenario(&["run", "--allow-exec", &b]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains(
            "[1/2] colors (exec)\n  `sh -c echo blue green; echo oops >&2` exited with 0\n  passed"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "  `echo blue` exited with 0, but its output does not match: stdout contains \"red\"\n"
        ),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "    --> {b}:15:29: stdout contains \"red\"; found \"blue\"\n"
        )),
        "{out}"
    );
    let o = scenario(&["plan", &b]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("       exec sh -c echo blue green; echo oops >&2 (needs --allow-exec)\n         expect stdout contains \"green\"\n         expect stdout matches \"^blue\"\n         expect stderr equals \"oops\"\n"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
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
        let o = scenario(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
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
    let o = scenario(&["run", "--allow-exec", &b, "--from", "get-ip"]);
    assert_eq!(o.status.code(), Some(0));
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
        let o = scenario(&all);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(o.stdout.is_empty(), "{args:?}: nothing ran");
        String::from_utf8_lossy(&o.stderr).into_owned()
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
    let o = scenario(&["run", "--allow-exec", &b, "--tags", "setup"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("`echo 10.0.0.1` exited with 0"));
}

#[test]
fn step_vars_are_templates_and_a_mapping_can_come_from_a_variable() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("p.yaml");
    std::fs::write(
        &book,
        "name: vars\nvars:\n  base: one\n  split: { blue: 40, green: 60 }\nsteps:\n  - name: echo\n    vars:\n      v: \"{{ base }}-two\"\n      w: \"{{ split }}\"\n    exec:\n      command: [echo, \"{{ v }} {{ w.blue }}\"]\n  - name: split\n    probe:\n      url: http://127.0.0.1:9/\n      extract: { color: $.color }\n      expect:\n        distribution: { value: color, weights: \"{{ split }}\" }\n",
    )
    .unwrap();
    let b = book.to_string_lossy().into_owned();
    let o = scenario(&["plan", &b]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_ok(&o);
    assert!(
        out.contains("exec echo one-two 40 (needs --allow-exec)"),
        "{out}"
    );
    assert!(
        out.contains("expect color split blue 40% / green 60%"),
        "{out}"
    );
    // A step var that uses an unknown name is an error at validation.
    std::fs::write(&book, "name: vars\nvars:\n  base: one\nsteps:\n  - name: echo\n    vars:\n      v: \"{{ bsae }}-two\"\n    sleep: 1s\n").unwrap();
    let o = scenario(&["validate", &b]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("unknown variable `bsae` in template; did you mean `base`?"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn envsubst_placeholders_are_substituted_on_request_and_warned_about_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: mesh-${SUFFIX}\n  namespace: demo\ndata:\n  trustDomain: ${CLUSTER:=cluster1}\n  price: $${PRICE}\n",
    )
    .unwrap();
    let book = dir.path().join("p.yaml");
    let b = book.to_string_lossy().into_owned();
    let write = |substitute: bool, vars: &str| {
        std::fs::write(
            &book,
            format!("name: subst\nclusters:\n  c1: {{}}\nvars:\n{vars}steps:\n  - name: mesh\n    clusters: c1\n    apply:\n      substitute: {substitute}\n      manifests: [cm.yaml]\n"),
        )
        .unwrap();
    };
    // Without substitution: a warning, and the playbook is still valid.
    write(false, "  x: 1\n");
    let o = scenario(&["validate", &b]);
    assert_eq!(o.status.code(), Some(0));
    let cm = dir.path().join("cm.yaml").to_string_lossy().into_owned();
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "warning: `${{SUFFIX}}` will be applied as written: this step does not substitute placeholders\n  --> {cm}:4:14\n  |\n4 |   name: mesh-${{SUFFIX}}\n  |              ^^^^^^^^\n  = help: add `substitute: true` to the step to replace `${{NAME}}` as envsubst does\n\n"
        )
    );
    // With substitution, a placeholder without a value is an error where it is written.
    write(true, "  x: 1\n");
    let o = scenario(&["validate", &b]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).starts_with(&format!(
            "error: `${{SUFFIX}}` has no value\n  --> {cm}:4:14\n"
        )),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // With a value: substituted (defaults and `$${` too), as plan shows.
    write(true, "  SUFFIX: blue\n");
    let o = scenario(&["plan", &b]);
    assert_ok(&o);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("  v1 ConfigMap demo/mesh-blue\n"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn manifests_may_come_from_anywhere_under_the_root() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("tutorial");
    std::fs::create_dir_all(home.join("mesh-files")).unwrap();
    std::fs::create_dir_all(home.join("chapter")).unwrap();
    std::fs::write(
        home.join("mesh-files/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: mesh, namespace: demo }\n",
    )
    .unwrap();
    let book = home.join("chapter/p.yaml");
    let b = book.to_string_lossy().into_owned();
    let write = |root: &str, pattern: &str| {
        std::fs::write(
            &book,
            format!("name: roots\n{root}clusters:\n  c1: {{}}\nsteps:\n  - name: a\n    clusters: c1\n    apply:\n      manifests: [\"{pattern}\"]\n"),
        )
        .unwrap();
    };
    let validate = |args: &[&str]| {
        let mut all = vec!["validate", b.as_str()];
        all.extend(args);
        let o = Command::new(env!("CARGO_BIN_EXE_scenario"))
            .args(&all)
            .env("TUTORIAL_HOME", &home)
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    // By default the root is the playbook's directory.
    write("", "../mesh-files/*.yaml");
    let (code, err) = validate(&[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("is outside the root"), "{err}");
    assert!(
        err.contains("widen it with `root:` in the playbook or `--root DIR`"),
        "{err}"
    );
    // `--root` widens it, and so does `root:` in the playbook.
    let home_s = home.to_string_lossy().into_owned();
    assert_eq!(validate(&["--root", &home_s]).0, Some(0));
    write("root: ..\n", "../mesh-files/*.yaml");
    assert_eq!(validate(&[]), (Some(0), String::new()));
    // Paths and roots may be templates of env.
    write(
        "root: \"{{ env.TUTORIAL_HOME }}\"\n",
        "{{ env.TUTORIAL_HOME }}/mesh-files/cm.yaml",
    );
    assert_eq!(validate(&[]), (Some(0), String::new()));
    // A symlink under the chapter that leads outside the root is refused.
    let outside = tmp.path().join("elsewhere.yaml");
    std::fs::write(
        &outside,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x, namespace: demo }\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(&outside, home.join("chapter/link.yaml")).unwrap();
    write("", "link.yaml");
    let (code, err) = validate(&[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("is outside the root"), "{err}");
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
    let o = scenario(&["run", "--allow-exec", &b]);
    let took = started.elapsed();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
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
fn a_delete_through_manifests_says_it_deletes_whole_objects() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x, namespace: demo }\ndata: { only: this }\n").unwrap();
    let book = dir.path().join("p.yaml");
    std::fs::write(&book, "name: del\nclusters:\n  c1: {}\nsteps:\n  - name: d\n    clusters: c1\n    delete:\n      manifests: [cm.yaml]\n").unwrap();
    let o = scenario(&["plan", &book.to_string_lossy()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("         whole objects named by these manifests, whatever fields they list (a `patch` step removes fields)\n       cm.yaml (1 object)\n"),
        "{out}"
    );
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
    let o = scenario(&["run", &b, "--skip-tags", "local"]);
    assert_ok(&o);
    let o = scenario(&["run", &b]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("error: step `local` runs a local command"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
