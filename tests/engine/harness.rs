//! The test harness itself: `support::Scenario` fails a test on every kind
//! of mismatch and says where, and passes when everything matches.

use crate::support::Scenario;
use crate::support::command::diff;

use std::time::Duration;

#[test]
fn the_harness_passes_when_status_and_output_match() {
    let run = Scenario::new()
        .arg("--version")
        .expect_status(0)
        .expect_stderr("")
        .run();
    assert!(run.stdout.starts_with("scenario "), "{}", run.stdout);
}

/// A playbook whose one exec step runs `command` (and expects `fed` on its stdout).
fn exec_playbook(dir: &std::path::Path, command: &str) -> std::path::PathBuf {
    let book = dir.join("p.yaml");
    std::fs::write(
        &book,
        format!("name: harness\nsteps:\n  - name: one\n    exec:\n      command: [sh, -c, {command:?}]\n      expect:\n        stdout: {{ equals: fed }}\n"),
    )
    .unwrap();
    book
}

#[test]
#[should_panic(expected = "still running after 1s")]
fn the_harness_stops_a_run_that_outlives_its_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let book = exec_playbook(dir.path(), "sleep 5");
    Scenario::new()
        .args(["run", "--allow-exec"])
        .arg(&book)
        .timeout(Duration::from_secs(1))
        .run();
}

#[test]
#[should_panic(expected = "exit status: expected Some(2), got Some(0)")]
fn the_harness_fails_on_a_wrong_exit_status() {
    Scenario::new().arg("--version").expect_status(2).run();
}

#[test]
#[should_panic(expected = "stdout differs (- expected, + actual)")]
fn the_harness_fails_on_a_wrong_stdout() {
    Scenario::new()
        .arg("--version")
        .expect_stdout("scenario 0.0.0\n")
        .run();
}

#[test]
#[should_panic(expected = "stderr differs (- expected, + actual)")]
fn the_harness_fails_on_a_wrong_stderr() {
    Scenario::new()
        .args(["validate", "tests/no-such-playbook.yaml"])
        .expect_stderr("")
        .run();
}

#[test]
fn the_diff_marks_missing_extra_and_unterminated_lines() {
    assert_eq!(diff("a\nb\nc\n", "a\nc\n"), "  a\n- b\n  c\n");
    assert_eq!(diff("a\n", "a\nz\n"), "  a\n+ z\n");
    assert_eq!(diff("a\n", "a"), "- a\n+ a\n\\ no newline at end\n");
    assert_eq!(diff("", ""), "");
}
