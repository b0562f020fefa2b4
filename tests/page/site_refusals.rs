//! `scenario docs TUTORIAL -o DIR`, what it refuses (exit 2, nothing
//! written): a page using a value no shell variable can hold, an export
//! named like a context, contexts that disagree, roots that differ, no `-o`,
//! an `-o` that is a file, links in the site's directory, and a
//! `--from-report` without a chapter; and `--from-report` filling the pages.

use crate::support::command::Scenario;

use std::path::Path;

fn read(p: impl AsRef<Path>) -> String {
    std::fs::read_to_string(p.as_ref()).unwrap_or_else(|e| panic!("{}: {e}", p.as_ref().display()))
}

/// The files of a directory, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// A tutorial in a temporary directory: (file, text) pairs.
fn tutorial_in(files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(tmp.path().join(name), text).unwrap();
    }
    tmp
}

const TWO: &str = "name: two\ntitle: Two\nchapters: [a.yaml, b.yaml]\n";
const A_EXPORTS: &str = "name: a\ntutorial: tutorial.yaml\nsteps:\n  - name: find\n    exec:\n      command: [echo, \"7\"]\n      captureStdout: num\nexports:\n  number: \"{{ num }}\"\n  doubled: \"{{ (num | int) * 2 }}\"\n";

/// `scenario docs` of a tutorial that must be refused: exit 2, stderr
/// containing each of `want`, and nothing written.
fn refused(tmp: &Path, out: &Path, want: &[&str]) {
    let run = Scenario::new()
        .arg("docs")
        .arg(tmp.join("tutorial.yaml"))
        .arg("-o")
        .arg(out)
        .expect_status(2)
        .expect_stdout("")
        .run();
    for w in want {
        assert!(run.stderr.contains(w), "want {w:?} in:\n{}", run.stderr);
    }
    assert!(
        !out.join("mkdocs.yml").exists(),
        "a refused site is not written"
    );
}

#[test]
fn a_page_that_uses_a_value_its_page_cannot_carry_is_a_located_error() {
    let tmp = tutorial_in(&[
        ("tutorial.yaml", TWO),
        ("a.yaml", A_EXPORTS),
        (
            "b.yaml",
            "name: b\ntutorial: tutorial.yaml\nsteps:\n  - name: use\n    exec:\n      command: [echo, \"{{ doubled }}\"]\n",
        ),
    ]);
    let out = tmp.path().join("out");
    refused(
        tmp.path(),
        &out,
        &[
            "b.yaml:6:24",
            "it uses `doubled`, which chapter 1 exports but its page cannot set as a shell variable",
        ],
    );
}

#[test]
fn a_page_that_changes_a_carried_value_with_a_filter_is_a_located_error() {
    for (template, at) in [
        ("{{ number | int + 1 }}", "b.yaml:6:24"),
        ("{{ number | lower }}", "b.yaml:6:24"),
        ("{{ number[0] }}", "b.yaml:6:24"),
    ] {
        let tmp = tutorial_in(&[
            ("tutorial.yaml", TWO),
            ("a.yaml", A_EXPORTS),
            (
                "b.yaml",
                &format!(
                    "name: b\ntutorial: tutorial.yaml\nsteps:\n  - name: use\n    exec:\n      command: [echo, \"{template}\"]\n"
                ),
            ),
        ]);
        let out = tmp.path().join("out");
        refused(
            tmp.path(),
            &out,
            &[at, "the site cannot write this chapter's page"],
        );
    }
    // The same value copied, inside a longer word, is carried.
    let tmp = tutorial_in(&[
        ("tutorial.yaml", TWO),
        ("a.yaml", A_EXPORTS),
        (
            "b.yaml",
            "name: b\ntutorial: tutorial.yaml\nsteps:\n  - name: use\n    exec:\n      command: [echo, \"n={{ number }}!\"]\n",
        ),
    ]);
    let out = tmp.path().join("out");
    Scenario::new()
        .arg("docs")
        .arg(tmp.path().join("tutorial.yaml"))
        .arg("-o")
        .arg(&out)
        .expect_status(0)
        .run();
    assert!(read(out.join("docs/b.md")).contains("echo n=\"${NUMBER}\"'!'"));
}

#[test]
fn an_export_named_like_a_context_variable_and_contexts_that_disagree_are_refused() {
    let tmp = tutorial_in(&[
        ("tutorial.yaml", TWO),
        (
            "a.yaml",
            "name: a\ntutorial: tutorial.yaml\nclusters:\n  mgmt: { context: kind-mgmt }\nsteps:\n  - name: s\n    sleep: 0s\nexports:\n  mgmt: \"x\"\n",
        ),
        (
            "b.yaml",
            "name: b\ntutorial: tutorial.yaml\nsteps:\n  - name: s\n    sleep: 0s\n",
        ),
    ]);
    refused(
        tmp.path(),
        &tmp.path().join("out"),
        &[
            "a.yaml:9:3",
            "export `mgmt` would be the shell variable `MGMT`",
        ],
    );
    let tmp = tutorial_in(&[
        ("tutorial.yaml", TWO),
        (
            "a.yaml",
            "name: a\ntutorial: tutorial.yaml\nclusters:\n  mgmt: { context: kind-mgmt }\nsteps:\n  - name: s\n    sleep: 0s\n",
        ),
        (
            "b.yaml",
            "name: b\ntutorial: tutorial.yaml\nclusters:\n  mgmt: { context: other }\nsteps:\n  - name: s\n    sleep: 0s\n",
        ),
    ]);
    refused(
        tmp.path(),
        &tmp.path().join("out"),
        &[
            "b.yaml:4:",
            "cluster `mgmt` has another context than in chapter",
        ],
    );
}

#[test]
fn without_o_or_with_o_a_file_or_through_a_symlink_nothing_is_written() {
    Scenario::new()
        .args(["docs", "tests/tutorials/basic/tutorial.yaml"])
        .expect_status(2)
        .expect_stdout("")
        .expect_stderr("error: tests/tutorials/basic/tutorial.yaml is a tutorial: its site is a directory of files; give it with `-o DIR`\n")
        .run();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("file");
    std::fs::write(&file, "keep").unwrap();
    let run = Scenario::new()
        .args(["docs", "tests/tutorials/basic/tutorial.yaml", "-o"])
        .arg(&file)
        .expect_status(2)
        .run();
    assert!(run.stderr.contains("not a directory"), "{}", run.stderr);
    assert_eq!(read(&file), "keep");
    // `docs` in the site is a link out of it: refused, and nothing is written there.
    let outside = tmp.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::os::unix::fs::symlink(&outside, out.join("docs")).unwrap();
    let run = Scenario::new()
        .args(["docs", "tests/tutorials/basic/tutorial.yaml", "-o"])
        .arg(&out)
        .expect_status(2)
        .run();
    assert!(run.stderr.contains("is a symbolic link"), "{}", run.stderr);
    assert!(files(&outside).is_empty() && !out.join("mkdocs.yml").exists());
    // A page that is a link (to a file outside): refused, the file unchanged.
    let out = tmp.path().join("out2");
    std::fs::create_dir_all(out.join("docs")).unwrap();
    std::os::unix::fs::symlink(&file, out.join("docs/first.md")).unwrap();
    Scenario::new()
        .args(["docs", "tests/tutorials/basic/tutorial.yaml", "-o"])
        .arg(&out)
        .expect_status(2)
        .run();
    assert_eq!(read(&file), "keep");
}

#[test]
fn from_report_fills_every_page_and_a_report_without_a_chapter_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let report = tmp.path().join("run.json");
    Scenario::new()
        .args([
            "run",
            "--allow-exec",
            "tests/tutorials/basic/tutorial.yaml",
            "--report",
        ])
        .arg(format!("json={}", report.display()))
        .expect_status(0)
        .run();
    let out = tmp.path().join("out");
    Scenario::new()
        .args([
            "docs",
            "tests/tutorials/basic/tutorial.yaml",
            "--from-report",
        ])
        .arg(&report)
        .arg("-o")
        .arg(&out)
        .expect_status(0)
        .run();
    assert!(
        read(out.join("docs/second.md"))
            .contains("Output of a real run:\n\n```text\ntoken-42\n```")
    );
    let other = tmp.path().join("other.json");
    Scenario::new()
        .args([
            "run",
            "--allow-exec",
            "tests/tutorials/basic/first.yaml",
            "--report",
        ])
        .arg(format!("json={}", other.display()))
        .expect_status(0)
        .run();
    let run = Scenario::new()
        .args([
            "docs",
            "tests/tutorials/basic/tutorial.yaml",
            "--from-report",
        ])
        .arg(&other)
        .arg("-o")
        .arg(tmp.path().join("out2"))
        .expect_status(2)
        .run();
    assert!(
        run.stderr.contains("second.yaml") && run.stderr.contains("--from-report"),
        "{}",
        run.stderr
    );
    assert!(!tmp.path().join("out2/mkdocs.yml").exists());
    // A report that is not one: refused before anything is written.
    std::fs::write(&other, "{ truncated").unwrap();
    let run = Scenario::new()
        .args([
            "docs",
            "tests/tutorials/basic/tutorial.yaml",
            "--from-report",
        ])
        .arg(&other)
        .arg("-o")
        .arg(tmp.path().join("out3"))
        .expect_status(2)
        .run();
    assert!(run.stderr.contains("not a JSON report"), "{}", run.stderr);
    assert!(!tmp.path().join("out3").exists());
}

#[test]
fn chapters_with_different_roots_are_refused() {
    let tmp = tutorial_in(&[
        (
            "tutorial.yaml",
            "name: two\nchapters: [a.yaml, sub/b.yaml]\n",
        ),
        (
            "a.yaml",
            "name: a\ntutorial: tutorial.yaml\nsteps:\n  - name: s\n    sleep: 0s\n",
        ),
    ]);
    std::fs::create_dir(tmp.path().join("sub")).unwrap();
    std::fs::write(
        tmp.path().join("sub/b.yaml"),
        "name: b\ntutorial: ../tutorial.yaml\nsteps:\n  - name: s\n    sleep: 0s\n",
    )
    .unwrap();
    refused(
        tmp.path(),
        &tmp.path().join("out"),
        &["sub/b.yaml", "the site's commands run from one directory"],
    );
    // With `root:` naming the tutorial's directory, the chapters share it.
    std::fs::write(
        tmp.path().join("sub/b.yaml"),
        "name: b\ntutorial: ../tutorial.yaml\nroot: ..\nsteps:\n  - name: s\n    sleep: 0s\n",
    )
    .unwrap();
    Scenario::new()
        .arg("docs")
        .arg(tmp.path().join("tutorial.yaml"))
        .arg("-o")
        .arg(tmp.path().join("out"))
        .expect_status(0)
        .run();
}
