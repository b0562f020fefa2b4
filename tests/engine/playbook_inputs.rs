//! Where playbooks come from: a directory works wherever a playbook does,
//! and a directory holding none is refused.

use crate::support::Scenario;

#[test]
fn validate_and_plan_take_directories_like_run() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a", "b"] {
        std::fs::write(
            dir.path().join(format!("{name}.yaml")),
            format!("name: {name}\nsteps:\n  - name: s\n    sleep: 1s\n"),
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("notes.txt"), "not a playbook").unwrap();
    let d = dir.path().to_string_lossy().into_owned();
    Scenario::new()
        .args(["validate", &d])
        .expect_status(0)
        .expect_stdout(format!(
            "ok: {d}/a.yaml (1 step, 0 finally)\nok: {d}/b.yaml (1 step, 0 finally)\n"
        ))
        .run();
    let o = Scenario::new().args(["plan", &d]).run();
    assert_eq!(o.status, Some(0), "{}", o.stderr);
    let plan = o.stdout;
    assert!(
        plan.starts_with(&format!("plan: a ({d}/a.yaml)\n")),
        "{plan}"
    );
    assert!(
        plan.contains(&format!("\n\nplan: b ({d}/b.yaml)\n")),
        "{plan}"
    );
}

#[test]
fn a_directory_without_playbooks_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_string_lossy().into_owned();
    Scenario::new()
        .args(["run", &d])
        .expect_status(2)
        .expect_stdout("")
        .expect_stderr(format!(
            "error: no playbook in this directory\n  --> {d}\n  = expected: a directory holding *.yaml or *.yml playbooks\n\n1 error found; nothing was run\n"
        ))
        .run();
}
