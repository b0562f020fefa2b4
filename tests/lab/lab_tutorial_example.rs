//! examples/tutorial-repo: a chapter kept in a tutorial repository's own
//! layout (files beside the chapter, envsubst placeholders, kustomize, kubectl
//! JSONPath and resource names) validates and runs on the lab.

use crate::support::{self, Scenario};

use std::process::Command;

#[test]
fn the_tutorial_layout_example_validates_and_runs() {
    let book = "examples/tutorial-repo/chapters/settings.yaml";
    Scenario::new()
        .args(["validate", book])
        .expect_status(0)
        .run();
    if Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "make test installs kubectl"
        );
        eprintln!("kubectl not installed: skipping the run");
        return;
    }
    use rand::Rng as _;
    let ns = format!("tutorial-{}", rand::rng().random_range(0..1_000_000u32));
    let (code, out, err) = support::run_playbook(book, &["--var", &format!("NAMESPACE={ns}")]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("captured port = 8080"), "{out}");
    assert!(out.contains("  cluster1: applied 2 objects\n"), "{out}");
    assert!(out.contains("clean-up"), "{out}");
}
