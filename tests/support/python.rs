//! Python packages the tests use as real consumers (from PyPI), installed on first use.

use std::process::Command;

/// Makes sure `import <modules>` works, installing `packages` with pip if not.
pub fn ensure(modules: &str, packages: &[&str]) {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        let st = Command::new("python3")
            .args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
            .args(packages)
            .status()
            .expect("python3");
        assert!(st.success(), "pip install {packages:?} failed");
    }
}
