//! `--rerun-failed` with a tutorial: it runs again from the first chapter that
//! failed in the report (the later chapters build on it).

use crate::support::Scenario;

/// A tutorial of three chapters whose second fails until `ok` exists in `dir`.
fn flaky_tutorial(dir: &std::path::Path) -> std::path::PathBuf {
    let flag = dir.join("ok");
    std::fs::write(
        dir.join("tutorial.yaml"),
        "name: t\nchapters: [one.yaml, two.yaml, three.yaml]\n",
    )
    .unwrap();
    for (name, cmd) in [
        ("one", "[\"true\"]".to_owned()),
        (
            "two",
            format!(
                "[test, -f, {}]",
                serde_json::Value::String(flag.display().to_string())
            ),
        ),
        ("three", "[\"true\"]".to_owned()),
    ] {
        std::fs::write(
            dir.join(format!("{name}.yaml")),
            format!("name: {name}\ntutorial: tutorial.yaml\nsteps:\n  - name: s\n    exec: {{ command: {cmd} }}\n"),
        )
        .unwrap();
    }
    dir.join("tutorial.yaml")
}

#[test]
fn rerun_failed_runs_a_tutorial_again_from_its_first_failed_chapter() {
    let dir = tempfile::tempdir().unwrap();
    let tutorial = flaky_tutorial(dir.path());
    let report = dir.path().join("night.json");
    let first = Scenario::new()
        .current_dir(dir.path())
        .args([
            "run",
            "--allow-exec",
            "--keep-going",
            "tutorial.yaml",
            "--report",
        ])
        .arg(format!("json={}", report.display()))
        .run();
    assert_eq!(first.code(), 1, "{}", first.both());
    std::fs::write(dir.path().join("ok"), "").unwrap();
    let again = Scenario::new()
        .current_dir(dir.path())
        .args(["run", "--allow-exec", "tutorial.yaml", "--rerun-failed"])
        .arg(&report)
        .run();
    assert_eq!(again.code(), 0, "{}", again.both());
    assert!(!again.stdout.contains("one: passed"), "{}", again.stdout);
    assert!(again.stdout.contains("two: passed"), "{}", again.stdout);
    assert!(again.stdout.contains("three: passed"), "{}", again.stdout);
    // The chapters that failed cannot be rerun without their tutorial.
    let alone = Scenario::new()
        .current_dir(dir.path())
        .args(["run", "--allow-exec", "one.yaml", "--rerun-failed"])
        .arg(&report)
        .run();
    assert_eq!(alone.code(), 2, "{}", alone.both());
    assert!(
        alone.stderr.contains(
            "chapters of a tutorial failed in the report, and no tutorial is among the files given"
        ),
        "{}",
        alone.stderr
    );
    assert!(tutorial.exists());
}
