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

/// A tutorial whose first chapter exports a mapping and a text value; the
/// second reads the text through a computed var (its URL) and the mapping
/// as a probe's split weights.
fn structured_flow(dir: &Path) {
    write(
        dir,
        &[
            (
                "tutorial.yaml",
                "name: flow\nchapters: [make.yaml, read.yaml]\n",
            ),
            (
                "make.yaml",
                "name: make\ntutorial: tutorial.yaml\nsteps:\n  - name: address\n    exec:\n      command: [echo, 10.9.8.7]\n      captureStdout: address\nexports:\n  ip: \"{{ address }}\"\n  split: \"{{ dict(blue=40, green=60) }}\"\n",
            ),
            (
                "read.yaml",
                "name: read\ntutorial: tutorial.yaml\nvars:\n  url: \"http://{{ ip }}:8080/api\"\nsteps:\n  - name: call\n    probe:\n      url: \"{{ url }}\"\n      requests: 2000\n      extract: { color: $.color }\n      expect:\n        distribution: { value: color, weights: \"{{ split }}\" }\n",
            ),
        ],
    );
}

#[test]
fn a_chapter_alone_says_what_it_reads_and_takes_a_mapping_from_a_vars_file() {
    let dir = tempfile::tempdir().unwrap();
    structured_flow(dir.path());
    let read = dir.path().join("read.yaml");
    // Alone: the export read through the computed var is needed too.
    let o = Scenario::new().arg("run").arg(&read).expect_status(2).run();
    assert!(
        o.stderr
            .contains("step `call` reads `ip`, which chapter `make` exports"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr
            .contains("step `call` reads `split`, which chapter `make` exports"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains(
            "or the value given with --var split=VALUE (a list or a mapping in a --vars-file)"
        ),
        "{}",
        o.stderr
    );
    // Before the run, an export is a placeholder; on the page, the shell
    // variable the earlier chapter's page sets.
    let o = Scenario::new()
        .arg("plan")
        .arg(&read)
        .expect_status(0)
        .run();
    assert!(
        o.stdout.contains("GET http://<ip>:8080/api x2000"),
        "{}",
        o.stdout
    );
    let o = Scenario::new()
        .arg("docs")
        .arg(&read)
        .expect_status(0)
        .run();
    assert!(
        o.stdout.contains("\"url = \\\"http://${IP}:8080/api\\\"\""),
        "{}",
        o.stdout
    );
    assert!(!o.stdout.contains("{{"), "{}", o.stdout);
    assert!(
        o.stdout
            .contains("expect color split with the weights `split` computes when the step runs"),
        "{}",
        o.stdout
    );
    // A mapping from a --vars-file stands in: the run starts (and errors at
    // the probe: nothing listens at 127.0.0.1:9).
    let vars = dir.path().join("vars.yaml");
    std::fs::write(&vars, "split: {blue: 40, green: 60}\nip: 127.0.0.1\n").unwrap();
    let o = Scenario::new()
        .arg("run")
        .arg(&read)
        .arg("--vars-file")
        .arg(&vars)
        .expect_status(3)
        .run();
    assert!(
        o.stdout
            .contains("cannot connect to http://127.0.0.1:8080/api"),
        "{}",
        o.stdout
    );
    // A list where the weights want a mapping: the step says so, located.
    std::fs::write(&vars, "split: [40, 60]\nip: 127.0.0.1\n").unwrap();
    let o = Scenario::new()
        .arg("run")
        .arg(&read)
        .arg("--vars-file")
        .arg(&vars)
        .expect_status(3)
        .run();
    assert!(
        o.stdout.contains(
            "read.yaml:12:48 (`{{ split }}`): the value is a list (`[40,60]`), not a mapping"
        ),
        "{}",
        o.stdout
    );
}
