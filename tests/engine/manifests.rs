//! Manifests of apply and delete steps: kustomize directories that do not
//! build, envsubst placeholders, the root they must live under, and what a
//! delete through manifests removes.

use std::process::Command;

use crate::support::Scenario;

#[test]
fn a_kustomize_directory_that_does_not_build_is_found_by_validate() {
    if Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_err()
    {
        eprintln!("kubectl not installed (make lab-install installs it): skipping");
        return;
    }
    let o = Scenario::new()
        .args(["validate", "tests/fixtures/kustomize-does-not-build.yaml"])
        .run();
    assert_eq!(o.status, Some(2));
    let err = o.stderr;
    assert!(
        err.starts_with("error: `kubectl kustomize kustomize-broken` fails: "),
        "{err}"
    );
    assert!(err.contains("missing.yaml"), "{err}");
    assert!(
        err.contains("  --> tests/fixtures/kustomize-does-not-build.yaml:12:18\n"),
        "{err}"
    );
}

#[test]
fn envsubst_placeholders_are_substituted_on_request_and_warned_about_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: mesh-${SUFFIX}\n  namespace: demo\ndata:\n  trustDomain: ${CLUSTER:=cluster1}\n  price: $${PRICE}\n",
    )
    .unwrap();
    let book = dir.path().join("p.yaml");
    let b = book.to_string_lossy().into_owned();
    let write = |substitute: bool, vars: &str| {
        std::fs::write(
            &book,
            format!("name: subst\nclusters:\n  c1: {{}}\nvars:\n{vars}steps:\n  - name: mesh\n    clusters: c1\n    apply:\n      substitute: {substitute}\n      manifests: [cm.yaml]\n"),
        )
        .unwrap();
    };
    // Without substitution: a warning, and the playbook is still valid.
    write(false, "  x: 1\n");
    let o = Scenario::new().args(["validate", &b]).run();
    assert_eq!(o.status, Some(0));
    let cm = dir.path().join("cm.yaml").to_string_lossy().into_owned();
    assert_eq!(
        o.stderr,
        format!(
            "warning: `${{SUFFIX}}` will be applied as written: this step does not substitute placeholders\n  --> {cm}:4:14\n  |\n4 |   name: mesh-${{SUFFIX}}\n  |              ^^^^^^^^\n  = help: add `substitute: true` to the step to replace `${{NAME}}` as envsubst does\n\n"
        )
    );
    // With substitution, a placeholder without a value is an error where it is written.
    write(true, "  x: 1\n");
    let o = Scenario::new().args(["validate", &b]).run();
    assert_eq!(o.status, Some(2));
    assert!(
        o.stderr.starts_with(&format!(
            "error: `${{SUFFIX}}` has no value\n  --> {cm}:4:14\n"
        )),
        "{}",
        o.stderr
    );
    // With a value: substituted (defaults and `$${` too), as plan shows.
    write(true, "  SUFFIX: blue\n");
    let o = Scenario::new().args(["plan", &b]).expect_status(0).run();
    assert!(
        o.stdout.contains("  v1 ConfigMap demo/mesh-blue\n"),
        "{}",
        o.stdout
    );
}

#[test]
fn manifests_may_come_from_anywhere_under_the_root() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("tutorial");
    std::fs::create_dir_all(home.join("mesh-files")).unwrap();
    std::fs::create_dir_all(home.join("chapter")).unwrap();
    std::fs::write(
        home.join("mesh-files/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: mesh, namespace: demo }\n",
    )
    .unwrap();
    let book = home.join("chapter/p.yaml");
    let b = book.to_string_lossy().into_owned();
    let write = |root: &str, pattern: &str| {
        std::fs::write(
            &book,
            format!("name: roots\n{root}clusters:\n  c1: {{}}\nsteps:\n  - name: a\n    clusters: c1\n    apply:\n      manifests: [\"{pattern}\"]\n"),
        )
        .unwrap();
    };
    let validate = |args: &[&str]| {
        let mut all = vec!["validate", b.as_str()];
        all.extend(args);
        let o = Scenario::new().args(&all).env("TUTORIAL_HOME", &home).run();
        (o.status, o.stderr)
    };
    // By default the root is the playbook's directory.
    write("", "../mesh-files/*.yaml");
    let (code, err) = validate(&[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("is outside the root"), "{err}");
    assert!(
        err.contains("widen it with `root:` in the playbook or `--root DIR`"),
        "{err}"
    );
    // `--root` widens it, and so does `root:` in the playbook.
    let home_s = home.to_string_lossy().into_owned();
    assert_eq!(validate(&["--root", &home_s]).0, Some(0));
    write("root: ..\n", "../mesh-files/*.yaml");
    assert_eq!(validate(&[]), (Some(0), String::new()));
    // Paths and roots may be templates of env.
    write(
        "root: \"{{ env.TUTORIAL_HOME }}\"\n",
        "{{ env.TUTORIAL_HOME }}/mesh-files/cm.yaml",
    );
    assert_eq!(validate(&[]), (Some(0), String::new()));
    // A symlink under the chapter that leads outside the root is refused.
    let outside = tmp.path().join("elsewhere.yaml");
    std::fs::write(
        &outside,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x, namespace: demo }\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(&outside, home.join("chapter/link.yaml")).unwrap();
    write("", "link.yaml");
    let (code, err) = validate(&[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("is outside the root"), "{err}");
}

#[test]
fn a_delete_through_manifests_says_it_deletes_whole_objects() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x, namespace: demo }\ndata: { only: this }\n").unwrap();
    let book = dir.path().join("p.yaml");
    std::fs::write(&book, "name: del\nclusters:\n  c1: {}\nsteps:\n  - name: d\n    clusters: c1\n    delete:\n      manifests: [cm.yaml]\n").unwrap();
    let o = Scenario::new()
        .args(["plan", &book.to_string_lossy()])
        .run();
    let out = o.stdout;
    assert!(
        out.contains("         whole objects named by these manifests, whatever fields they list (a `patch` step removes fields)\n       cm.yaml (1 object)\n"),
        "{out}"
    );
}
