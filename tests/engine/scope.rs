//! The template scope is built in one place: `plan`, `docs` and `run` render
//! the same values for `playbook.*`, `clusters.*`, `env.*`, playbook vars and
//! step vars. (No cluster needed: the step is an `exec`.)

use std::process::Command;

const PLAYBOOK: &str = r#"name: scope
clusters:
  c1:
    context: "{{ env.SCOPE_CTX | default('ctx-one') }}"
vars:
  greeting: hello
steps:
  - name: show
    vars:
      local: here
    exec:
      command: [echo, "{{ playbook.path }}|{{ playbook.dir }}|{{ clusters.c1.context }}|{{ greeting }}|{{ local }}|{{ env.SCOPE_MARK }}"]
      captureStdout: seen
"#;

fn scenario(args: &[&str], dir: &std::path::Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_scenario"))
        .args(args)
        .current_dir(dir)
        .env("SCOPE_MARK", "marked")
        .env_remove("SCOPE_CTX")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn plan_run_and_docs_render_the_same_scope() {
    let tmp = tempfile::tempdir().unwrap();
    let chapter = tmp.path().join("chapter");
    std::fs::create_dir(&chapter).unwrap();
    std::fs::write(chapter.join("scope.yaml"), PLAYBOOK).unwrap();
    // The playbook is given relative to the working directory, as users do.
    // An environment value the playbook uses is a secret (docs/output-safety.md):
    // `plan` and `run` show it redacted, the page as the reader's variable.
    let same = "chapter/scope.yaml|chapter|ctx-one|hello|here|";
    let expected = format!("{same}<redacted>");

    let (code, plan, err) = scenario(&["plan", "chapter/scope.yaml"], tmp.path());
    assert_eq!(code, 0, "{err}");
    assert!(
        plan.contains(&format!("exec echo {expected} (needs --allow-exec)")),
        "plan:\n{plan}"
    );

    let (code, docs, err) = scenario(&["docs", "chapter/scope.yaml"], tmp.path());
    assert_eq!(code, 0, "{err}");
    // The same values; on the page as one shell word (the `|` would pipe),
    // the captured output a shell variable.
    assert!(
        docs.contains(&format!("SEEN=$(echo \"{same}${{SCOPE_MARK}}\")\n")),
        "docs:\n{docs}"
    );

    let (code, run, err) = scenario(&["run", "--allow-exec", "chapter/scope.yaml"], tmp.path());
    assert_eq!(code, 0, "{run}\n{err}");
    assert!(
        run.contains(&format!("captured seen = \"{expected}\"")),
        "run:\n{run}"
    );
}
