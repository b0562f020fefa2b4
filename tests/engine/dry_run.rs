//! `--dry-run` has no side effect: no command runs, no request is sent, no
//! sleep or prompt happens; each such step says what it would do. (Cluster
//! kinds make server-side dry runs: tests/lab/lab_steps.rs.)

use crate::support::{Scenario, raw_http};

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

#[test]
fn dry_run_runs_no_command_sends_no_request_and_does_not_sleep() {
    let server = raw_http::serve(|_| raw_http::json(r#"{"color":"blue"}"#));
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("touched");
    let playbook = format!(
        "name: dry\nsteps:\n  - name: touch\n    exec:\n      command: [touch, '{}']\n      captureStdout: out\n  - name: nap\n    sleep: 30s\n    timeout: 1m\n  - name: call\n    probe:\n      url: {}\n      requests: 5\n      headers: {{ X-Out: \"{{{{ out }}}}\" }}\n",
        marker.display(),
        server.url()
    );
    std::fs::write(dir.path().join("p.yaml"), playbook).unwrap();
    let started = Instant::now();
    let out = Scenario::new()
        .args(["run", "--dry-run", "--allow-exec", "--no-color"])
        .arg(dir.path().join("p.yaml"))
        .expect_status(0)
        .run();
    let text = out.stdout;
    assert!(!marker.exists(), "the exec step ran: {text}");
    assert_eq!(
        server.count.load(Ordering::SeqCst),
        0,
        "the probe sent requests"
    );
    assert!(started.elapsed() < Duration::from_secs(20), "it slept");
    assert!(
        text.contains("dry run: not run (exec steps do nothing under --dry-run)"),
        "{text}"
    );
    assert!(
        text.contains(&format!("would run: exec touch {}", marker.display())),
        "{text}"
    );
    assert!(
        text.contains("dry run: not run (probe steps do nothing under --dry-run)"),
        "{text}"
    );
    assert!(
        text.contains("dry run: not run (sleep steps do nothing under --dry-run)"),
        "{text}"
    );
}

#[test]
fn the_dry_run_docs_name_what_each_kind_does() {
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/playbook.md")).unwrap();
    let section = docs
        .split("## Dry run")
        .nth(1)
        .expect("docs/playbook.md has a `## Dry run` section");
    for kind in scenario::steps::KINDS {
        let row = section
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` |", kind.name)))
            .unwrap_or_else(|| panic!("no row for `{}` in the dry-run table", kind.name));
        let word = match kind.dry_run {
            scenario::model::action::DryRun::ServerSide => "server-side dry run",
            scenario::model::action::DryRun::ReadOnly => "runs (reads only)",
            scenario::model::action::DryRun::NotRun => "not run",
        };
        assert!(
            row.contains(word),
            "`{}`: the row should say {word:?}: {row}",
            kind.name
        );
    }
}
