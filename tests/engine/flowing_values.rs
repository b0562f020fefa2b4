//! Values that flow: vars computed from captures, structured values (a
//! list, an object, a number) exported by one chapter and read by a later
//! one, and what a chapter says when what it reads is missing at run time.

use std::path::Path;

use crate::support::Scenario;

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

#[test]
fn a_var_computed_from_a_capture_is_known_once_the_capture_is() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[(
            "p.yaml",
            "name: computed\nvars:\n  port: 8080\n  url: \"http://{{ ip }}:{{ port }}/api\"\nsteps:\n  - name: ip\n    exec:\n      command: [echo, 10.0.0.1]\n      captureStdout: ip\n  - name: call\n    exec:\n      command: [echo, \"{{ url }}\"]\n      expect:\n        stdout: { equals: \"http://10.0.0.1:8080/api\" }\n",
        )],
    );
    let p = dir.path().join("p.yaml");
    let o = Scenario::new()
        .arg("run")
        .arg("--allow-exec")
        .arg(&p)
        .expect_status(0)
        .run();
    assert!(
        o.stdout
            .contains("`echo http://10.0.0.1:8080/api` exited with 0\n  passed"),
        "{}",
        o.stdout
    );
    // Before the run, the capture is a placeholder.
    let o = Scenario::new().arg("plan").arg(&p).expect_status(0).run();
    assert!(
        o.stdout
            .contains("exec echo http://<ip>:8080/api (needs --allow-exec)"),
        "{}",
        o.stdout
    );
    // `--var` sets it as written: it is no longer computed.
    Scenario::new()
        .arg("run")
        .arg("--allow-exec")
        .arg(&p)
        .args(["--var", "url=http://10.0.0.1:8080/api"])
        .expect_status(0)
        .run();
    Scenario::new()
        .arg("run")
        .arg("--allow-exec")
        .arg(&p)
        .args(["--var", "url=http://elsewhere/api"])
        .expect_status(1)
        .run();
}

#[test]
fn a_structured_export_keeps_its_type_in_the_next_chapter() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (
                "tutorial.yaml",
                "name: flow\nchapters: [make.yaml, read.yaml]\n",
            ),
            (
                "make.yaml",
                "name: make\nsteps:\n  - name: weights\n    exec:\n      command: [echo, '40 40 20']\n      captureStdout: raw\nexports:\n  weights: \"{{ raw | split(' ') | map('int') | list }}\"\n  split: \"{{ dict(blue=40, green=40, canary=20) }}\"\n  total: \"{{ raw | split(' ') | map('int') | sum }}\"\n",
            ),
            (
                "read.yaml",
                "name: read\nvars:\n  summary: \"{{ weights[0] + split.canary }} of {{ total }}\"\nsteps:\n  - name: use\n    exec:\n      command: [echo, \"{{ summary }}\", \"{{ weights | length }}\", \"{{ (total / 4) | int }}\"]\n      expect:\n        stdout: { equals: \"60 of 100 3 25\" }\n",
            ),
        ],
    );
    let t = dir.path().join("tutorial.yaml");
    let o = Scenario::new()
        .arg("run")
        .arg("--allow-exec")
        .arg(&t)
        .expect_status(0)
        .run();
    assert!(
        o.stdout.contains("`echo 60 of 100 3 25` exited with 0"),
        "{}",
        o.stdout
    );
    // Given on the command line instead, the value is text: the check fails.
    let o = Scenario::new()
        .arg("run")
        .arg("--allow-exec")
        .arg(&t)
        .args([
            "--chapter",
            "read",
            "--var",
            "weights=40",
            "--var",
            "split=x",
            "--var",
            "total=100",
        ])
        .run();
    assert_ne!(o.status, Some(0), "{}", o.both());
}

#[test]
fn a_chapter_whose_import_is_missing_at_run_time_says_who_exports_it() {
    // The first chapter passes but its export does not render (the capture
    // it reads is skipped by `when`): the second chapter's step fails and
    // names the chapter that should have given the value.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (
                "tutorial.yaml",
                "name: flow\nchapters: [make.yaml, read.yaml]\n",
            ),
            (
                "make.yaml",
                "name: make\nvars:\n  enabled: false\nsteps:\n  - name: maybe\n    when: enabled\n    exec:\n      command: [echo, x]\n      captureStdout: made\nexports:\n  value: \"{{ made }}\"\n",
            ),
            (
                "read.yaml",
                "name: read\nsteps:\n  - name: use\n    exec:\n      command: [echo, \"{{ value }}\"]\n",
            ),
        ],
    );
    let o = Scenario::new()
        .arg("run")
        .arg("--allow-exec")
        .arg(dir.path().join("tutorial.yaml"))
        .expect_status(3)
        .run();
    assert!(
        o.stdout.contains("`value` is exported by chapter `make` ("),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("which did not give it in this run (it did not run first, or its value did not render): run the tutorial, or give it with --var value=VALUE"), "{}", o.stdout);
}
