//! Templates in playbooks: minijinja's functions are not unknown variables,
//! step vars are templates, and a mapping can come from a variable.

use crate::support::Scenario;

#[test]
fn minijinja_functions_are_not_unknown_variables() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("p.yaml");
    std::fs::write(
        &book,
        "name: functions\nvars:\n  count: 3\nsteps:\n  - name: s\n    exec:\n      command: [echo, \"{% for i in range(count) %}{{ i }}{% endfor %} {{ dict(a=1).a }}\"]\n",
    )
    .unwrap();
    let b = book.to_string_lossy().into_owned();
    let o = Scenario::new().args(["plan", &b]).expect_status(0).run();
    assert!(
        o.stdout.contains("exec echo 012 1 (needs --allow-exec)"),
        "{}",
        o.stdout
    );
}

#[test]
fn step_vars_are_templates_and_a_mapping_can_come_from_a_variable() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("p.yaml");
    std::fs::write(
        &book,
        "name: vars\nvars:\n  base: one\n  split: { blue: 40, green: 60 }\nsteps:\n  - name: echo\n    vars:\n      v: \"{{ base }}-two\"\n      w: \"{{ split }}\"\n    exec:\n      command: [echo, \"{{ v }} {{ w.blue }}\"]\n  - name: split\n    probe:\n      url: http://127.0.0.1:9/\n      extract: { color: $.color }\n      expect:\n        distribution: { value: color, weights: \"{{ split }}\" }\n",
    )
    .unwrap();
    let b = book.to_string_lossy().into_owned();
    let o = Scenario::new().args(["plan", &b]).expect_status(0).run();
    let out = o.stdout;
    assert!(
        out.contains("exec echo one-two 40 (needs --allow-exec)"),
        "{out}"
    );
    assert!(
        out.contains("expect color split blue 40% / green 60%"),
        "{out}"
    );
    // A step var that uses an unknown name is an error at validation.
    std::fs::write(&book, "name: vars\nvars:\n  base: one\nsteps:\n  - name: echo\n    vars:\n      v: \"{{ bsae }}-two\"\n    sleep: 1s\n").unwrap();
    let o = Scenario::new().args(["validate", &b]).run();
    assert_eq!(o.status, Some(2));
    assert!(
        o.stderr
            .contains("unknown variable `bsae` in template; did you mean `base`?"),
        "{}",
        o.stderr
    );
}
