//! Golden tests: every playbook under tests/invalid/ is refused with exactly
//! the error text in its `.stderr` file and exit code 2.
//!
//! Regenerate after an intended change with `UPDATE_GOLDEN=1 cargo test --test engine golden`
//! and review the diff.

use std::path::Path;

use crate::support::Scenario;

#[test]
fn invalid_playbooks_give_the_golden_errors() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("tests/invalid");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/invalid exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 25,
        "at least 25 invalid playbooks, found {}",
        cases.len()
    );
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    for case in &cases {
        let rel = case.strip_prefix(root).unwrap();
        let out = Scenario::new().arg("validate").arg(rel).run();
        let stderr = out.stderr;
        let golden = case.with_extension("stderr");
        if update {
            std::fs::write(&golden, &stderr).unwrap();
        }
        let expected = std::fs::read_to_string(&golden).unwrap_or_default();
        if out.status != Some(2) {
            failures.push(format!(
                "{}: exit code {:?}, expected 2",
                rel.display(),
                out.status
            ));
        }
        if !out.stdout.is_empty() {
            failures.push(format!(
                "{}: unexpected stdout {:?}",
                rel.display(),
                out.stdout
            ));
        }
        if stderr != expected {
            failures.push(format!(
                "{}: stderr differs from {}\n--- expected\n{expected}\n--- actual\n{stderr}",
                rel.display(),
                golden.file_name().unwrap().to_string_lossy()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden mismatch(es):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
