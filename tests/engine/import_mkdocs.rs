//! `scenario import mkdocs.yml -o tutorial.yaml`: an mkdocs site (its nav,
//! with the `!!python/name:` tags of mkdocs-material configs) becomes a
//! tutorial and one chapter per page, pinned by goldens
//! (tests/import/golden/mkdocs-site/), and the tutorial validates. Hostile
//! sites are refused with a located error, exit 2, writing nothing.
//!
//! Regenerate with `UPDATE_GOLDEN=1 cargo test --test engine import_mkdocs`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::Scenario;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/import")
}

fn golden(name: &str, got: &str, failures: &mut Vec<String>) {
    let path = fixtures().join("golden/mkdocs-site").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, got).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    if want != got {
        failures.push(format!(
            "{name} differs from the golden file:\n{}",
            crate::support::command::diff(&want, got)
        ));
    }
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn an_mkdocs_site_imports_to_a_tutorial_of_its_nav_that_validates() {
    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("cp")
        .arg("-r")
        .arg(fixtures().join("mkdocs-site"))
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let site = tmp.path().join("mkdocs-site");
    std::fs::create_dir(site.join("out")).unwrap();
    let run = Scenario::new()
        .current_dir(&site)
        .args(["import", "mkdocs.yml", "-o", "out/tutorial.yaml"])
        .args(["--report", "out/report.json"])
        .expect_status(0)
        .timeout(Duration::from_secs(30))
        .run();
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let written = files(&site.join("out"));
    assert_eq!(
        written,
        [
            "report.json",
            "rollout.yaml",
            "setup-config.yaml",
            "setup-namespace.yaml",
            "tutorial.yaml"
        ]
    );
    let mut failures = Vec::new();
    for f in &written {
        let text = std::fs::read_to_string(site.join("out").join(f)).unwrap();
        golden(f, &text, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Scenario::new()
        .current_dir(site.join("out"))
        .args(["validate", "tutorial.yaml"])
        .expect_status(0)
        .expect_stdout("ok: setup-namespace.yaml (3 steps, 0 finally)\nok: setup-config.yaml (3 steps, 0 finally)\nok: rollout.yaml (4 steps, 0 finally)\nok: tutorial.yaml (tutorial `podinfo-on-kubernetes`, 3 chapters)\n")
        .run();
    // The report covers every page and says what was left out.
    assert!(
        run.stderr.contains(
            "mkdocs.yml:26:11: index.md: note: no shell block: the page is the tutorial's overview"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("mkdocs.yml:31:13: https://example.com/podinfo-workshop: note: a link, not a page: left out"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("docs/rollout.md:19:1: kubectl delete namespace"),
        "{}",
        run.stderr
    );
    // The namespace the first page exported is known to the last one.
    let rollout = std::fs::read_to_string(site.join("out/rollout.yaml")).unwrap();
    assert!(
        rollout.contains("namespace: \"{{ env.NS | default('podinfo') }}\""),
        "{rollout}"
    );
}

/// A site in a temporary directory; the import's run (into `out/`).
fn import_site(files: &[(&str, &str)]) -> (tempfile::TempDir, crate::support::Run) {
    let tmp = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let p = tmp.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    std::fs::create_dir(tmp.path().join("out")).unwrap();
    let run = Scenario::new()
        .current_dir(tmp.path())
        .args(["import", "mkdocs.yml", "-o", "out/tutorial.yaml"])
        .timeout(Duration::from_secs(30))
        .run();
    (tmp, run)
}

const PAGE: &str = "# P\n\n```bash\nkubectl apply -f m.yaml\n```\n";

fn refused(files: &[(&str, &str)], stderr: &str) {
    let (tmp, run) = import_site(files);
    assert_eq!(run.status, Some(2), "{}", run.stderr);
    assert_eq!(run.stderr, stderr);
    assert!(
        std::fs::read_dir(tmp.path().join("out"))
            .unwrap()
            .next()
            .is_none(),
        "files written"
    );
}

#[test]
fn hostile_sites_are_refused_with_a_located_error_and_write_nothing() {
    refused(
        &[
            (
                "mkdocs.yml",
                "site_name: S\nnav:\n  - A: ../../etc/passwd.md\n",
            ),
            ("docs/a.md", PAGE),
        ],
        "error: mkdocs.yml:3:8: the nav lists `../../etc/passwd.md`, which is not a file in docs_dir `docs`\n",
    );
    refused(
        &[
            ("mkdocs.yml", "site_name: S\nnav:\n  - A: ../secret.md\n"),
            ("docs/a.md", PAGE),
            ("secret.md", PAGE),
        ],
        "error: mkdocs.yml:3:8: the nav's `../secret.md` is outside docs_dir `docs`\n",
    );
    refused(
        &[
            (
                "mkdocs.yml",
                "site_name: S\nnav:\n  - a.md\n  - Missing: gone.md\n",
            ),
            ("docs/a.md", PAGE),
        ],
        "error: mkdocs.yml:4:14: the nav lists `gone.md`, which is not a file in docs_dir `docs`\n",
    );
    refused(
        &[("mkdocs.yml", "site_name: S\ndocs_dir: ../elsewhere\n")],
        "error: mkdocs.yml:2:11: docs_dir `../elsewhere` cannot be read: No such file or directory (os error 2)\n",
    );
    refused(
        &[
            ("mkdocs.yml", "site_name: S\nnav: [\n"),
            ("docs/a.md", PAGE),
        ],
        "error: mkdocs.yml:2:6: not an mkdocs configuration: unclosed bracket '['\n",
    );
    refused(
        &[
            ("mkdocs.yml", "site_name: S\nnav:\n  - a.md\n"),
            ("docs/a.md", "# Only prose\n"),
        ],
        "error: mkdocs.yml: nothing to import: no page of the site has a shell block\n",
    );
    // A nav of 10,000 entries: refused at the first page over the bound, quickly.
    let nav: String = (0..10_000)
        .map(|i| format!("  - P{i}: p{i}.md\n"))
        .collect();
    let start = Instant::now();
    refused(
        &[
            ("mkdocs.yml", &format!("site_name: S\nnav:\n{nav}")),
            ("docs/a.md", PAGE),
        ],
        "error: mkdocs.yml:503:11: the nav lists more than 500 pages\n",
    );
    assert!(start.elapsed() < Duration::from_secs(10));
    // Without -o there is no place for the chapters.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("mkdocs.yml"), "site_name: S\n").unwrap();
    Scenario::new()
        .current_dir(tmp.path())
        .args(["import", "mkdocs.yml"])
        .expect_status(2)
        .expect_stderr("error: mkdocs.yml: a site imports into one playbook per page and a tutorial: give the tutorial file with -o (e.g. -o tutorial.yaml)\n")
        .run();
}

#[test]
fn tags_run_nothing_duplicates_are_imported_once_and_a_site_without_nav_reads_docs_dir() {
    let marker = tempfile::tempdir().unwrap();
    let touched = marker.path().join("touched");
    let config = format!(
        "site_name: S\nplugins:\n  - x: !!python/object/apply:os.system [\"touch {}\"]\nmarkdown_extensions:\n  - e:\n      f: !!python/name:os.system\n      g: !ENV [HOME]\nnav:\n  - a.md\n  - Again: a.md\n  - b.md\n",
        touched.display()
    );
    let (tmp, run) = import_site(&[
        ("mkdocs.yml", &config),
        ("docs/a.md", PAGE),
        ("docs/b.md", PAGE),
        (
            "docs/m.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\n",
        ),
    ]);
    assert_eq!(run.status, Some(0), "{}", run.stderr);
    assert!(!touched.exists(), "a YAML tag ran a command");
    assert!(
        run.stderr.contains("mkdocs.yml:10:12: a.md: note: the page is listed twice: imported once, where it is first listed"),
        "{}",
        run.stderr
    );
    let tutorial = std::fs::read_to_string(tmp.path().join("out/tutorial.yaml")).unwrap();
    assert!(
        tutorial.ends_with("chapters:\n  - a.yaml\n  - b.yaml\n"),
        "{tutorial}"
    );
    // No nav: the Markdown files of docs_dir, index.md first.
    let (tmp, run) = import_site(&[
        ("mkdocs.yml", "site_name: S\n"),
        ("docs/index.md", "# Welcome\n\nHello.\n"),
        ("docs/z.md", PAGE),
        ("docs/guide/b.md", PAGE),
        (
            "docs/m.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\n",
        ),
    ]);
    assert_eq!(run.status, Some(0), "{}", run.stderr);
    let tutorial = std::fs::read_to_string(tmp.path().join("out/tutorial.yaml")).unwrap();
    assert!(
        tutorial.ends_with(
            "overview: |\n  # Welcome\n\n  Hello.\nchapters:\n  - guide-b.yaml\n  - z.yaml\n"
        ),
        "{tutorial}"
    );
}

#[test]
fn control_characters_and_templates_in_a_site_stay_out_of_the_terminal_and_the_tutorial() {
    let (tmp, run) = import_site(&[
        (
            "mkdocs.yml",
            "site_name: \"Evil \\e[31mred {{ env.HOME }}\"\nnav:\n  - \"Grp \\e]8;;x\\a{% raw %}\":\n      - a.md\n  - \"https://x.test/\\e[2J\"\n",
        ),
        ("docs/a.md", PAGE),
        (
            "docs/m.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\n",
        ),
    ]);
    assert_eq!(run.status, Some(0), "{}", run.stderr);
    assert!(!run.stderr.contains('\u{1b}'), "{:?}", run.stderr);
    let tutorial = std::fs::read_to_string(tmp.path().join("out/tutorial.yaml")).unwrap();
    assert!(
        !tutorial.contains('\u{1b}') && !tutorial.contains("\\u001b"),
        "{tutorial}"
    );
    assert!(
        tutorial.contains("title: \"Evil [31mred { { env.HOME }}\"\n"),
        "{tutorial}"
    );
    assert!(
        tutorial.contains("  - group: \"Grp ]8;;x { % raw %}\"\n"),
        "{tutorial}"
    );
    Scenario::new()
        .current_dir(tmp.path().join("out"))
        .args(["validate", "tutorial.yaml"])
        .expect_status(0)
        .run();
}
