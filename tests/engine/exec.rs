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

#[test]
fn exec_eventually_runs_again_until_its_checks_hold_within_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let counter = dir.path().join("count");
    // Prints 1, 2, 3, ... on successive runs.
    let count = format!(
        "n=$(cat '{c}' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '{c}'; echo $n",
        c = counter.display()
    );
    let book = dir.path().join("p.yaml");
    let write = |every: &str, timeout: &str, want: &str| {
        std::fs::write(
            &book,
            format!(
                "name: eventually\nsteps:\n  - name: third-time\n    timeout: {timeout}\n    exec:\n      command: [sh, -c, {count:?}]\n      expect:\n        stdout: {{ equals: \"{want}\" }}\n{every}"
            ),
        )
        .unwrap();
        let _ = std::fs::remove_file(&counter);
    };
    let b = book.to_string_lossy().into_owned();
    // Without `eventually`, the first run decides.
    write("", "10s", "3");
    let o = Scenario::new()
        .args(["run", "--allow-exec", &b])
        .expect_status(1)
        .run();
    assert!(o.stdout.contains("found \"1\""), "{}", o.stdout);
    // With it, the third run holds.
    write("      eventually: { every: 20ms }\n", "10s", "3");
    let o = Scenario::new()
        .args(["run", "--allow-exec", &b])
        .expect_status(0)
        .run();
    assert!(o.stdout.contains("    held on run 3\n"), "{}", o.stdout);
    let o = Scenario::new().args(["plan", &b]).expect_status(0).run();
    assert!(
        o.stdout
            .contains("         again every 20ms until it holds (within the step's timeout)\n"),
        "{}",
        o.stdout
    );
    // Never holds: bounded by the step's timeout, and says how many runs.
    write("      eventually: { every: 50ms }\n", "1s", "never");
    let started = std::time::Instant::now();
    let o = Scenario::new()
        .args(["run", "--allow-exec", &b])
        .expect_status(1)
        .run();
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert!(
        o.stdout.contains("(eventually, every 50ms)"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("did not hold in "), "{}", o.stdout);
    // A run the timeout cuts short (here the second one hangs) leaves the
    // failure of the run before it: the checks did not hold (exit 1), not an
    // error of the step.
    let hang = format!(
        "n=$(cat '{c}' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '{c}'; if [ $n -ge 2 ]; then sleep 30; fi; echo $n",
        c = counter.display()
    );
    std::fs::write(
        &book,
        format!("name: eventually\nsteps:\n  - name: third-time\n    timeout: 1s\n    exec:\n      command: [sh, -c, {hang:?}]\n      expect:\n        stdout: {{ equals: \"never\" }}\n      eventually: {{ every: 50ms }}\n"),
    )
    .unwrap();
    let _ = std::fs::remove_file(&counter);
    let o = Scenario::new()
        .args(["run", "--allow-exec", &b])
        .expect_status(1)
        .run();
    assert!(
        o.stdout.contains("did not hold in 1 run over ")
            && o.stdout
                .contains("(eventually, every 50ms); run 2 was cut short by the step's timeout"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("found \"1\""), "{}", o.stdout);
    // A pause that is not shorter than the timeout is refused.
    write("      eventually: { every: 2s }\n", "1s", "3");
    let o = Scenario::new()
        .args(["validate", &b])
        .expect_status(2)
        .run();
    assert!(
        o.stderr
            .contains("`eventually.every` is 2s: the command would not run a second time within the step's timeout (1s)"),
        "{}",
        o.stderr
    );
}
