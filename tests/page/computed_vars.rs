//! A var computed from a capture on the chapter page: the reader's shell
//! variable, set by the command that captured it, not a value of one run.

use crate::support::Scenario;

#[test]
fn a_var_computed_from_a_capture_is_the_captures_shell_variable_on_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.yaml");
    std::fs::write(
        &p,
        "name: computed\nvars:\n  host: example\n  url: \"http://{{ ip }}/{{ host }}\"\nsteps:\n  - name: ip\n    exec: {command: [echo, 10.0.0.1], captureStdout: ip}\n  - name: use\n    exec: {command: [echo, \"{{ url }}\"]}\n",
    )
    .unwrap();
    let o = Scenario::new().arg("docs").arg(&p).expect_status(0).run();
    assert!(
        o.stdout.contains("```bash\nIP=$(echo 10.0.0.1)\n```"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout
            .contains("```bash\necho \"http://${IP}/example\"\n```"),
        "{}",
        o.stdout
    );
}
