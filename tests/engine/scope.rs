//! The template scope is built in one place: `plan`, `docs` and `run` render
//! the same values for `playbook.*`, `clusters.*`, `env.*`, playbook vars and
//! step vars. (No cluster needed: the step is an `exec`.)

use crate::support::{Run, Scenario};

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

/// The binary in `dir`, with the environment value the playbook shows.
fn scenario(dir: &std::path::Path) -> Scenario {
    Scenario::new()
        .current_dir(dir)
        .env("SCOPE_MARK", "marked")
        .env_remove("SCOPE_CTX")
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

    let Run {
        status: code,
        stdout: plan,
        stderr: err,
    } = scenario(tmp.path())
        .args(["plan", "chapter/scope.yaml"])
        .run();
    assert_eq!(code, Some(0), "{err}");
    assert!(
        plan.contains(&format!("exec echo {expected} (needs --allow-exec)")),
        "plan:\n{plan}"
    );

    let Run {
        status: code,
        stdout: docs,
        stderr: err,
    } = scenario(tmp.path())
        .args(["docs", "chapter/scope.yaml"])
        .run();
    assert_eq!(code, Some(0), "{err}");
    // The same values; on the page as one shell word (the `|` would pipe),
    // the captured output a shell variable.
    assert!(
        docs.contains(&format!("SEEN=$(echo \"{same}${{SCOPE_MARK}}\")\n")),
        "docs:\n{docs}"
    );

    let Run {
        status: code,
        stdout: run,
        stderr: err,
    } = scenario(tmp.path())
        .args(["run", "--allow-exec", "chapter/scope.yaml"])
        .run();
    assert_eq!(code, Some(0), "{run}\n{err}");
    assert!(
        run.contains(&format!("captured seen = \"{expected}\"")),
        "run:\n{run}"
    );
}
