//! Exec steps: their output is checked, and a failed check points at the
//! line where it is written.

use crate::support::Scenario;

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
    let o = Scenario::new().args(["run", "--allow-exec", &b]).run();
    let out = o.stdout;
    assert_eq!(o.status, Some(1), "{out}");
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
    let o = Scenario::new().args(["plan", &b]).run();
    assert!(
        o.stdout.contains("       exec sh -c echo blue green; echo oops >&2 (needs --allow-exec)\n         expect stdout contains \"green\"\n         expect stdout matches \"^blue\"\n         expect stderr equals \"oops\"\n"),
        "{}",
        o.stdout
    );
}
