//! `--version` names the commit it was built from.

use std::path::Path;

use crate::support::Scenario;

#[test]
fn version_names_the_commit() {
    let o = Scenario::new().args(["--version"]).run();
    let v = o.stdout;
    let commit = v
        .strip_prefix(concat!("scenario ", env!("CARGO_PKG_VERSION"), " ("))
        .and_then(|r| r.strip_suffix(")\n"))
        .unwrap_or_else(|| panic!("{v:?}"));
    assert!(
        commit == "unknown commit"
            || (commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{v:?}"
    );
    if Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.git")).exists() {
        assert_ne!(
            commit, "unknown commit",
            "built from a clone: the commit is known"
        );
    }
}
