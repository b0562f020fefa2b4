//! Tutorials: chapters in order with shared definitions, reusable steps,
//! values exported by one chapter and read by a later one, and the run of a
//! whole tutorial (`--keep-going`, `--chapter`, `--from-chapter`, one suite
//! per chapter, the chapter table). The tutorial under tests/tutorials/basic
//! passes; the others are written here to fail in one place each.

use std::path::Path;

use crate::support::Scenario;

const BASIC: &str = "tests/tutorials/basic/tutorial.yaml";

/// Writes `files` (name, text) into `dir`.
fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

/// A tutorial whose first chapter fails (its `finally` still runs) and
/// whose second passes.
fn failing_first(dir: &Path) -> String {
    write(
        dir,
        &[
            (
                "tutorial.yaml",
                "name: two\nchapters: [one.yaml, two.yaml]\n",
            ),
            (
                "one.yaml",
                "name: one\nsteps:\n  - name: fails\n    exec:\n      command: [\"false\"]\nfinally:\n  - name: cleans-up\n    exec:\n      command: [\"true\"]\n",
            ),
            (
                "two.yaml",
                "name: two\nsteps:\n  - name: passes\n    exec:\n      command: [\"true\"]\n",
            ),
        ],
    );
    dir.join("tutorial.yaml").to_string_lossy().into_owned()
}

#[test]
fn a_tutorial_runs_its_chapters_in_order_and_values_flow_between_them() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let junit = dir.path().join("r.xml");
    let o = Scenario::new()
        .args(["run", "--allow-exec", BASIC, "--report"])
        .arg(format!("json={}", json.display()))
        .arg("--report")
        .arg(format!("junit={}", junit.display()))
        .expect_status(0)
        .run();
    // The second chapter read the first chapter's export, and the reusable
    // step rendered its parameters (the default suffix, then the given one).
    assert!(
        o.stdout.contains("  `echo hello!` exited with 0\n"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout
            .contains("  `echo token-42` exited with 0\n  passed"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains("  `echo token-42!!` exited with 0\n"),
        "{}",
        o.stdout
    );
    let table = o
        .stdout
        .split("\ntutorial basic")
        .nth(1)
        .unwrap_or_default();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0], " (tests/tutorials/basic/tutorial.yaml)",
        "{table}"
    );
    assert_eq!(lines[1], "  #  CHAPTER  RESULT   STEPS      TIME");
    assert!(
        lines[2].starts_with("  1  first    passed     2/2  "),
        "{table}"
    );
    assert!(
        lines[3].starts_with("  2  second   passed     2/2  "),
        "{table}"
    );
    assert_eq!(
        lines[5],
        "basic: passed — 2 of 2 chapters passed, 0 failed, 0 errored, 0 skipped"
    );
    // One suite per chapter, each saying where it stands in the tutorial.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let books = report["playbooks"].as_array().unwrap();
    assert_eq!(books.len(), 2);
    assert_eq!(
        books[0]["chapter"],
        serde_json::json!({"tutorial": "basic", "number": 1, "group": "Start"})
    );
    assert_eq!(
        books[1]["chapter"],
        serde_json::json!({"tutorial": "basic", "number": 2})
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testsuite ").count(), 2, "{xml}");
    assert!(xml.contains("<testsuite name=\"second\""), "{xml}");
}

#[test]
fn validate_and_plan_check_every_chapter_with_the_shared_definitions() {
    Scenario::new()
        .args(["validate", BASIC])
        .expect_status(0)
        .expect_stdout(
            "ok: tests/tutorials/basic/first.yaml (2 steps, 0 finally)\n\
             ok: tests/tutorials/basic/second.yaml (2 steps, 0 finally)\n\
             ok: tests/tutorials/basic/tutorial.yaml (tutorial `basic`, 2 chapters)\n",
        )
        .run();
    let o = Scenario::new().args(["plan", BASIC]).expect_status(0).run();
    assert!(
        o.stdout.starts_with(
            "tutorial: basic — A basic tutorial (tests/tutorials/basic/tutorial.yaml, 2 chapters)\n\nplan: first"
        ),
        "{}",
        o.stdout
    );
    // The shared default timeout and var reach the chapter; so does what flows.
    assert!(
        o.stdout.contains(
            "  1. greet [exec] (timeout 30s)\n       exec echo hello! (needs --allow-exec)\n"
        ),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains("exports: shared_token = {{ token }}\n"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains("reads: shared_token (exported by chapter `first`, tests/tutorials/basic/first.yaml:12:17)\n"),
        "{}",
        o.stdout
    );
}

#[test]
fn a_failing_chapter_stops_the_tutorial_unless_keep_going() {
    let dir = tempfile::tempdir().unwrap();
    let t = failing_first(dir.path());
    let json = dir.path().join("r.json");
    let o = Scenario::new()
        .args(["run", "--allow-exec", &t, "--report"])
        .arg(format!("json={}", json.display()))
        .expect_status(1)
        .run();
    assert!(
        o.stdout.contains("[2/2] cleans-up (exec)"),
        "finally runs: {}",
        o.stdout
    );
    assert!(!o.stdout.contains("] passes (exec)"), "{}", o.stdout);
    assert!(
        o.stdout.contains("\n  1  one      FAILED     1/2"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains("\n  2  two      skipped    0/1"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout
            .contains("\ntwo: FAILED — 0 of 2 chapters passed, 1 failed, 0 errored, 1 skipped\n"),
        "{}",
        o.stdout
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["playbooks"][1]["status"], "skipped");
    assert_eq!(
        report["playbooks"][1]["steps"][0]["outcomes"][0]["message"],
        "skipped: chapter `one` did not pass (--keep-going runs the rest)"
    );
    let o = Scenario::new()
        .args(["run", "--allow-exec", "--keep-going", &t])
        .expect_status(1)
        .run();
    assert!(o.stdout.contains("[1/1] passes (exec)"), "{}", o.stdout);
    assert!(
        o.stdout.contains("\n  2  two      passed     1/1"),
        "{}",
        o.stdout
    );
}

#[test]
fn chapter_and_from_chapter_choose_where_the_tutorial_starts() {
    let o = Scenario::new()
        .args(["run", "--allow-exec", BASIC, "--from-chapter", "first"])
        .expect_status(0)
        .run();
    assert!(o.stdout.contains("  2  second"), "{}", o.stdout);
    let o = Scenario::new()
        .args(["run", "--allow-exec", BASIC, "--chapter", "first"])
        .expect_status(0)
        .run();
    assert!(
        o.stdout.contains("  1  first") && !o.stdout.contains("second"),
        "{}",
        o.stdout
    );
    // The second chapter alone lacks what the first exports: nothing runs.
    Scenario::new()
        .args(["run", "--allow-exec", BASIC, "--chapter", "second"])
        .expect_status(2)
        .expect_stdout("")
        .expect_stderr(
            "error: step `read-token` reads `shared_token`, which chapter `first` exports (tests/tutorials/basic/first.yaml:12:17), and that chapter does not run before this one\n  \
             --> tests/tutorials/basic/second.yaml:4:11\n  |\n4 |   - name: read-token\n  |           ^^^^^^^^^^\n  \
             = expected: the tutorial run from chapter `first` on (--from-chapter first), or the value given with --var shared_token=VALUE (a list or a mapping in a --vars-file)\n\n\
             1 error found; nothing was run\n",
        )
        .run();
    Scenario::new()
        .args([
            "run",
            "--allow-exec",
            BASIC,
            "--chapter",
            "second",
            "--var",
            "shared_token=token-42",
        ])
        .expect_status(0)
        .run();
    // A `--var` no chapter knows is one error, not one per chapter.
    let o = Scenario::new()
        .args(["validate", BASIC, "--var", "nope=1"])
        .expect_status(2)
        .run();
    assert_eq!(
        o.stderr.matches("unknown variable `nope`").count(),
        1,
        "{}",
        o.stderr
    );
    let o = Scenario::new()
        .args(["run", "--allow-exec", BASIC, "--chapter", "secnd"])
        .expect_status(2)
        .run();
    assert!(
        o.stderr
            .contains("the tutorial `basic` has no chapter `secnd`"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("did you mean `second`?"), "{}", o.stderr);
    let o = Scenario::new()
        .args([
            "run",
            "--allow-exec",
            "tests/tutorials/basic/first.yaml",
            "--chapter",
            "first",
        ])
        .expect_status(2)
        .run();
    assert!(
        o.stderr.contains("--chapter first: no tutorial was given"),
        "{}",
        o.stderr
    );
}

#[test]
fn a_chapter_names_its_tutorial_and_runs_alone() {
    // Alone, the first chapter still has the tutorial's vars, defaults and steps.
    let o = Scenario::new()
        .args(["run", "--allow-exec", "tests/tutorials/basic/first.yaml"])
        .expect_status(0)
        .run();
    assert!(
        o.stdout.contains("`echo hello!` exited with 0"),
        "{}",
        o.stdout
    );
    assert!(
        !o.stdout.contains("CHAPTER"),
        "no chapter table for a playbook: {}",
        o.stdout
    );
    // The second says which chapter gives what it reads.
    let o = Scenario::new()
        .args(["run", "--allow-exec", "tests/tutorials/basic/second.yaml"])
        .expect_status(2)
        .run();
    assert!(
        o.stderr
            .contains("reads `shared_token`, which chapter `first` exports"),
        "{}",
        o.stderr
    );
    Scenario::new()
        .args([
            "run",
            "--allow-exec",
            "tests/tutorials/basic/second.yaml",
            "--var",
            "shared_token=token-42",
        ])
        .expect_status(0)
        .run();
    // A value that differs from what the chapter expects fails it.
    Scenario::new()
        .args([
            "run",
            "--allow-exec",
            "tests/tutorials/basic/second.yaml",
            "--var",
            "shared_token=other",
        ])
        .expect_status(1)
        .run();
}

#[test]
fn reusable_steps_and_tutorial_links_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (
                "tutorial.yaml",
                "name: t\nsteps:\n  say:\n    params: { word: }\n    exec:\n      command: [echo, \"{{ word }}\"]\nchapters: [c.yaml]\n",
            ),
            (
                "c.yaml",
                "name: c\ntutorial: tutorial.yaml\nsteps:\n  - name: a\n    use: say\n    with: { wrod: hi }\n  - name: b\n    use: sai\n",
            ),
            (
                "alone.yaml",
                "name: alone\nsteps:\n  - name: a\n    use: say\n",
            ),
            (
                "other.yaml",
                "name: other\ntutorial: tutorial.yaml\nsteps:\n  - name: a\n    sleep: 1ms\n",
            ),
        ],
    );
    let run = |f: &str| {
        Scenario::new()
            .arg("validate")
            .arg(dir.path().join(f))
            .expect_status(2)
            .run()
            .stderr
    };
    let e = run("c.yaml");
    assert!(
        e.contains("error: reusable step `say` has no parameter `wrod`"),
        "{e}"
    );
    assert!(e.contains("= help: did you mean `word`?"), "{e}");
    assert!(e.contains("c.yaml:6:13\n"), "{e}");
    assert!(
        e.contains("error: the tutorial defines no reusable step `sai`"),
        "{e}"
    );
    assert!(e.contains("did you mean `say`?"), "{e}");
    let e = run("alone.yaml");
    assert!(
        e.contains("`use: say`: this playbook belongs to no tutorial"),
        "{e}"
    );
    let e = run("other.yaml");
    assert!(
        e.contains("the tutorial `tutorial.yaml` does not list this chapter"),
        "{e}"
    );
    let e = run("tutorial.yaml");
    assert!(
        e.contains("has no parameter `wrod`"),
        "the tutorial checks its chapters: {e}"
    );
}

#[test]
fn hostile_tutorials_are_refused_with_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("empty.yaml", "name: e\nchapters: []\n"),
            ("twice.yaml", "name: t\nchapters: [c.yaml, ./c.yaml]\n"),
            ("c.yaml", "name: c\nsteps:\n  - name: a\n    sleep: 1ms\n"),
            (
                "bad-group.yaml",
                "name: g\nchapters:\n  - {group: G, chapters: [c.yaml], extra: 1}\n",
            ),
            ("number.yaml", "name: num\nchapters: [42]\n"),
            ("itself.yaml", "name: i\nchapters: [itself.yaml]\n"),
            (
                "control.yaml",
                "name: \"x\\u001b[31m\"\nchapters: [\"c\\u0007.yaml\"]\n",
            ),
        ],
    );
    let err = |f: &str| {
        Scenario::new()
            .arg("validate")
            .arg(dir.path().join(f))
            .expect_status(2)
            .timeout(std::time::Duration::from_secs(20))
            .run()
            .stderr
    };
    assert!(err("empty.yaml").contains("the tutorial lists no chapter"));
    assert!(err("twice.yaml").contains("chapter `./c.yaml` is listed twice"));
    assert!(err("bad-group.yaml").contains("a group of chapters needs `group`"));
    assert!(err("number.yaml").contains("a chapter is a path or a group, found an integer"));
    // A tutorial listed as its own chapter is read as a playbook, and refused.
    assert!(err("itself.yaml").contains("unknown field `chapters` in playbook"));
    let e = err("control.yaml");
    assert!(!e.contains('\u{1b}') && !e.contains('\u{7}'), "{e:?}");
}

#[test]
fn a_secret_the_tutorial_reads_stays_secret_in_its_chapters() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (
                "tutorial.yaml",
                "name: sec\nvars:\n  token: \"{{ env.S6_TUTORIAL_TOKEN }}\"\nchapters: [c.yaml]\n",
            ),
            (
                "c.yaml",
                "name: c\nsteps:\n  - name: show\n    exec:\n      command: [echo, \"token={{ token }}\"]\n",
            ),
        ],
    );
    let t = dir.path().join("tutorial.yaml");
    let json = dir.path().join("r.json");
    let o = Scenario::new()
        .args(["run", "--allow-exec"])
        .arg(&t)
        .arg("--report")
        .arg(format!("json={}", json.display()))
        .env("S6_TUTORIAL_TOKEN", "hunter2-in-the-tutorial")
        .expect_status(0)
        .run();
    assert!(
        o.stdout.contains("`echo token=<redacted>` exited with 0"),
        "{}",
        o.stdout
    );
    assert!(!o.both().contains("hunter2"), "{}", o.both());
    assert!(!std::fs::read_to_string(&json).unwrap().contains("hunter2"));
    let o = Scenario::new()
        .arg("plan")
        .arg(&t)
        .env("S6_TUTORIAL_TOKEN", "hunter2-in-the-tutorial")
        .expect_status(0)
        .run();
    assert!(!o.both().contains("hunter2"), "{}", o.both());
}

#[test]
fn a_long_chain_of_exports_is_checked_in_linear_time() {
    // 20,000 exports across two chapters, each computed from the next one
    // of the other chapter; the last closes a cycle.
    let n = 10_000;
    let dir = tempfile::tempdir().unwrap();
    let mut a = String::from("name: a\nsteps:\n  - name: s\n    sleep: 1ms\nexports:\n");
    let mut b = String::from("name: b\nsteps:\n  - name: s\n    sleep: 1ms\nexports:\n");
    for i in 0..n {
        a.push_str(&format!("  a{i}: \"{{{{ b{i} }}}}\"\n"));
        let next = if i + 1 == n {
            "a0".to_owned()
        } else {
            format!("a{}", i + 1)
        };
        b.push_str(&format!("  b{i}: \"{{{{ {next} }}}}\"\n"));
    }
    write(
        dir.path(),
        &[
            ("tutorial.yaml", "name: chain\nchapters: [a.yaml, b.yaml]\n"),
            ("a.yaml", &a),
            ("b.yaml", &b),
        ],
    );
    let started = std::time::Instant::now();
    let o = Scenario::new()
        .arg("validate")
        .arg(dir.path().join("tutorial.yaml"))
        .expect_status(2)
        .timeout(std::time::Duration::from_secs(60))
        .run();
    let took = started.elapsed();
    assert!(
        o.stderr
            .contains("is computed from … (20000 exports in the cycle) is computed from `a.a0`\n"),
        "{}",
        &o.stderr[..o.stderr.len().min(2000)]
    );
    assert!(
        o.stderr.len() < 2000,
        "the message stays short: {} bytes",
        o.stderr.len()
    );
    assert!(
        o.stderr.contains(
            "error: cycle of exports: `a.a0` is computed from `b.b0` is computed from `a.a1`"
        ),
        "{}",
        &o.stderr[..o.stderr.len().min(2000)]
    );
    assert!(took < std::time::Duration::from_secs(20), "{took:?}");
}
