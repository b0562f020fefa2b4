//! `scenario docs TUTORIAL -o DIR`: the tutorial's site. Its exact files for
//! `tests/tutorials/basic`, the values that flow between pages as shell
//! variables (run in one shell here, without a cluster), the site built by
//! mkdocs-material `--strict` and by Zensical and loaded in headless
//! Chromium, hostile titles, names and secrets, and each refusal.

use crate::support::command::Scenario;
use crate::support::python;
use crate::support::site;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The files of a directory, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, at: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(at).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn read(p: impl AsRef<Path>) -> String {
    std::fs::read_to_string(p.as_ref()).unwrap_or_else(|e| panic!("{}: {e}", p.as_ref().display()))
}

/// Writes the site of `tutorial` into a new directory and returns it.
fn site_of(tutorial: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("site");
    Scenario::new()
        .args(["docs", tutorial, "-o"])
        .arg(&out)
        .expect_status(0)
        .expect_stdout("")
        .expect_stderr("")
        .run();
    (tmp, out)
}

/// A page's top-level ```bash blocks with the include expanded, as
/// pymdownx.snippets expands it.
fn page_script(site: &Path, page: &str) -> String {
    let md = read(site.join("docs").join(page));
    let mut expanded = String::new();
    for line in md.lines() {
        match line
            .strip_prefix("--8<-- \"")
            .and_then(|r| r.strip_suffix('"'))
        {
            Some(inc) => expanded.push_str(&read(site.join(inc))),
            None => {
                expanded.push_str(line);
                expanded.push('\n');
            }
        }
    }
    let mut script = String::new();
    let mut inside = false;
    for line in expanded.lines() {
        match (inside, line) {
            (false, "```bash") => inside = true,
            (true, "```") => inside = false,
            (true, l) => {
                script.push_str(l);
                script.push('\n');
            }
            _ => {}
        }
    }
    script
}

const BASIC_MKDOCS: &str =
    "# Written by `scenario docs tutorial.yaml`: build it from this directory
# (`mkdocs build --strict` or `zensical build`), where the pages' include
# docs/includes/env.md is found.
docs_dir: docs
exclude_docs: |
  /includes/
markdown_extensions:
- admonition
- attr_list
- pymdownx.details
- pymdownx.superfences
- pymdownx.tasklist:
    custom_checkbox: true
- pymdownx.critic
- pymdownx.snippets:
    base_path:
    - '.'
    check_paths: true
nav:
- Overview: index.md
- Start:
  - first: first.md
- second: second.md
site_name: A basic tutorial
theme:
  font: false
  name: material
";

const BASIC_INDEX: &str = "---
title: A basic tutorial
---

Two chapters: the first makes a value, the second reads it.

## Chapters

1. [first](first.md) (Start)
2. [second](second.md)

Run the chapters in order, in one shell: each page's commands build on the earlier pages'. `scenario run tutorial.yaml` runs them all and checks every step.
";

#[test]
fn the_site_of_a_tutorial_has_its_config_index_include_and_a_page_per_chapter() {
    let (_tmp, out) = site_of("tests/tutorials/basic/tutorial.yaml");
    assert_eq!(
        files(&out),
        [
            "docs/first.md",
            "docs/includes/env.md",
            "docs/index.md",
            "docs/second.md",
            "mkdocs.yml"
        ]
    );
    assert_eq!(read(out.join("mkdocs.yml")), BASIC_MKDOCS);
    assert_eq!(read(out.join("docs/index.md")), BASIC_INDEX);
    assert_eq!(
        read(out.join("docs/includes/env.md")),
        "```bash\n# This tutorial needs no kube context and no secret.\n```\n"
    );
    let first = read(out.join("docs/first.md"));
    let second = read(out.join("docs/second.md"));
    for page in [&first, &second] {
        assert!(
            page.contains("## Ensure Environment\n\nRun the commands of this chapter in order, from the tutorial's root directory (`basic`), in a shell where the kube contexts of its clusters are set:\n\n--8<-- \"docs/includes/env.md\"\n"),
            "{page}"
        );
    }
    // The producing page sets the export after its steps; the next reads it.
    assert!(
        first.ends_with("```bash\nSHARED_TOKEN=\"${TOKEN}\"\n```\n\n\nPrevious: [Overview](index.md) · Next: [second](second.md)\n"),
        "{first}"
    );
    assert!(
        second.contains("\n```bash\necho \"${SHARED_TOKEN}\"\n```\n"),
        "{second}"
    );
    assert!(
        second.contains("- `SHARED_TOKEN` is set by [first](first.md) (its `shared_token`)"),
        "{second}"
    );
    assert!(
        second.contains(": \"${SHARED_TOKEN:?set by chapter 1 (first.md): run its commands first, or export SHARED_TOKEN}\"\n"),
        "{second}"
    );
    assert!(
        second.ends_with("\nPrevious: [first](first.md)\n"),
        "{second}"
    );
    // Run alone, the second chapter would not start: the tip runs the tutorial.
    assert!(
        second.contains(
            "after them:\n\n    ```bash\n    scenario run tutorial.yaml --allow-exec\n    ```\n"
        ),
        "{second}"
    );
    assert!(
        first.contains("    scenario run first.yaml --allow-exec\n"),
        "{first}"
    );
    assert!(
        !first.contains("{{") && !second.contains("{{"),
        "a template left"
    );
    // Outside a site, the chapter page is as it was (one page, its own environment block).
    let alone = Scenario::new()
        .args(["docs", "tests/tutorials/basic/first.yaml"])
        .expect_status(0)
        .run()
        .stdout;
    assert!(
        !alone.contains("--8<--") && !alone.contains("SHARED_TOKEN"),
        "{alone}"
    );
}

#[test]
fn the_pages_commands_in_one_shell_carry_the_values_from_page_to_page() {
    let (_tmp, out) = site_of("tests/tutorials/site/tutorial.yaml");
    let make = read(out.join("docs/make.md"));
    assert!(
        make.contains(
            "```bash\nINGRESS_IP=\"${ADDRESS}\"\nBASE_URL=\"http://${ADDRESS}:8080/api\"\n```\n"
        ),
        "{make}"
    );
    // A value computed from a capture cannot be a shell variable: the page says so.
    assert!(
        make.contains("!!! note \"`doubled` is not a shell variable\""),
        "{make}"
    );
    let both = format!(
        "{}{}",
        page_script(&out, "make.md"),
        page_script(&out, "read.md")
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tutorials/site");
    let run = |script: &str| {
        Command::new("env")
            .args(["-i", &format!("PATH={}", std::env::var("PATH").unwrap())])
            .args(["bash", "-euo", "pipefail", "-c", script])
            .current_dir(&root)
            .output()
            .unwrap()
    };
    let o = run(&both);
    assert!(
        o.status.success(),
        "{both}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "http://10.0.0.7:8080/api\n"
    );
    // Starting at the second page, the guard names the page that sets the value.
    let o = run(&page_script(&out, "read.md"));
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(
            "BASE_URL: set by chapter 1 (make.md): run its commands first, or export BASE_URL"
        ),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn the_site_builds_with_mkdocs_material_strict_and_with_zensical_and_loads_in_chromium() {
    python::ensure("material, mkdocs", &["mkdocs-material"]);
    python::ensure("zensical", &["zensical"]);
    let tags = regex::Regex::new(r"<[^>]*>").unwrap();
    for tutorial in [
        "tests/tutorials/site/tutorial.yaml",
        "playbooks/tutorial.yaml",
    ] {
        let (tmp, out) = site_of(tutorial);
        let html = tmp.path().join("html");
        let built = site::mkdocs_build_site(&out, &html);
        assert!(
            built.status.success(),
            "mkdocs build --strict {tutorial}: {}",
            String::from_utf8_lossy(&built.stderr)
        );
        let z = site::zensical_build_site(&out);
        let zlog = format!(
            "{}{}",
            String::from_utf8_lossy(&z.stdout),
            String::from_utf8_lossy(&z.stderr)
        );
        assert!(
            z.status.success() && !zlog.contains("Error"),
            "zensical build {tutorial}: {zlog}"
        );
        for built_dir in [html.clone(), out.join("site")] {
            assert!(
                built_dir.join("index.html").is_file(),
                "{}",
                built_dir.display()
            );
            // The include is pulled into every page, and no page of it is built.
            assert!(!built_dir.join("includes").exists());
        }
        let first_page = if tutorial.starts_with("playbooks") {
            "traffic-management"
        } else {
            "make"
        };
        for built_dir in [&html, &out.join("site")] {
            let page = read(built_dir.join(first_page).join("index.html"));
            let env_line = if first_page == "make" {
                "needs no kube context"
            } else {
                "CLUSTER1"
            };
            assert!(
                page.contains(env_line),
                "{tutorial}: the include in {}",
                built_dir.display()
            );
        }
        let Some(browser) = site::chromium() else {
            assert!(
                std::env::var_os("CI").is_none(),
                "make test installs chromium"
            );
            continue;
        };
        for page in ["index.html".to_owned(), format!("{first_page}/index.html")] {
            let dom = site::dump_dom(browser, &html.join(&page));
            assert!(dom.contains("<nav"), "{page}: {dom}");
            assert!(!dom.contains("{{"), "{page}: a template left");
            assert!(
                !dom.contains(env!("CARGO_MANIFEST_DIR")),
                "{page}: a local path"
            );
            assert!(
                !dom.contains("--8&lt;--") && !dom.contains("--8<--"),
                "{page}: an include left"
            );
        }
        let dom = site::dump_dom(browser, &html.join("index.html"));
        assert!(
            dom.contains(&format!("href=\"{first_page}/\"")),
            "a link to the first chapter: {dom}"
        );
        // The first chapter's page links back to the overview and on to the next.
        let dom = site::dump_dom(browser, &html.join(first_page).join("index.html"));
        let text = tags.replace_all(&dom, "");
        assert!(
            text.contains("Previous: Overview · Next: "),
            "{first_page}: {text}"
        );
    }
}

/// A tutorial in a temporary directory: (file, text) pairs.
fn tutorial_in(files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(tmp.path().join(name), text).unwrap();
    }
    tmp
}

#[test]
fn hostile_titles_names_overview_and_secrets_stay_one_value_and_off_the_site() {
    python::ensure("material, mkdocs", &["mkdocs-material"]);
    let title = "Title: with # markup *x* <b>y</b> [z](j) \"q\" 'r' {a: b} & | > \u{85}\u{2028}\r\n---\n- item\u{1b}[31m";
    let overview = format!(
        "Overview with <em>markup</em>.\u{1b}[2J\r\n\n---\n\n{}\n",
        "x".repeat(1_000_000)
    );
    let tutorial = serde_json::json!({
        "name": "hostile",
        "title": title,
        "overview": overview,
        "chapters": [ { "group": title, "chapters": ["first chapter ü.yaml", "Ω.yaml"] } ],
    });
    let tmp = tutorial_in(&[
        ("tutorial.yaml", &serde_json::to_string(&tutorial).unwrap()),
        (
            "first chapter ü.yaml",
            &serde_json::to_string(&serde_json::json!({
                "name": "first", "title": title, "tutorial": "tutorial.yaml",
                "vars": { "password": "{{ env.SITE_TOKEN }}" },
                "steps": [
                    { "name": "s", "exec": { "command": ["echo", "{{ password }}"] } },
                    { "name": "secret", "clusters": "c", "apply": { "inline": "apiVersion: v1\nkind: Secret\nmetadata: { name: creds, namespace: default }\nstringData: { pw: hunter2-literal }\n" } }
                ],
                "clusters": { "c": { "context": "kind-c" } },
            }))
            .unwrap(),
        ),
        ("Ω.yaml", "name: omega\ntutorial: tutorial.yaml\nsteps:\n  - name: s\n    sleep: 0s\n"),
    ]);
    let out = tmp.path().join("out");
    let started = std::time::Instant::now();
    Scenario::new()
        .arg("docs")
        .arg(tmp.path().join("tutorial.yaml"))
        .arg("-o")
        .arg(&out)
        .env("SITE_TOKEN", "s3cr3t-from-env")
        .expect_status(0)
        .run();
    assert!(
        started.elapsed().as_secs() < 10,
        "a huge overview is written at once"
    );
    // Page names are plain URLs; the overview is written as given.
    assert_eq!(
        files(&out),
        [
            "docs/chapter-2.md",
            "docs/first-chapter.md",
            "docs/includes/env.md",
            "docs/index.md",
            "mkdocs.yml"
        ]
    );
    // mkdocs.yml stays YAML whose titles are one value each.
    let parsed = Command::new("python3")
        .args([
            "-c",
            "import yaml,json,sys; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
        ])
        .arg(out.join("mkdocs.yml"))
        .output()
        .unwrap();
    assert!(
        parsed.status.success(),
        "{}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    let cfg: serde_json::Value = serde_json::from_slice(&parsed.stdout).unwrap();
    let one_line =
        "Title: with # markup *x* <b>y</b> [z](j) \"q\" 'r' {a: b} & | > --- - item [31m";
    assert_eq!(cfg["site_name"], one_line);
    assert_eq!(cfg["nav"][1][one_line][0][one_line], "first-chapter.md");
    assert_eq!(cfg["nav"][1][one_line][1]["omega"], "chapter-2.md");
    assert_eq!(cfg["nav"].as_array().unwrap().len(), 2);
    // No secret reaches the site: the environment's is a variable the reader sets.
    for f in files(&out) {
        let text = read(out.join(&f));
        assert!(
            !text.contains("s3cr3t-from-env") && !text.contains("hunter2-literal"),
            "{f}"
        );
    }
    assert!(
        read(out.join("docs/includes/env.md"))
            .contains("export SITE_TOKEN=\"${SITE_TOKEN:?set SITE_TOKEN first}\"")
    );
    let first = read(out.join("docs/first-chapter.md"));
    assert!(
        first.contains("export CREDS_PW="),
        "the Secret's value stays on its page: {first}"
    );
    let index = read(out.join("docs/index.md"));
    assert!(
        index.contains("Overview with <em>markup</em>.[2J\n\n---\n\n"),
        "control characters dropped, the Markdown kept"
    );
    assert!(
        index.contains("1. [Title: with # markup \\*x\\* &lt;b>y&lt;/b> \\[z\\](j)"),
        "{}",
        &index[..300.min(index.len())]
    );
    let html = tmp.path().join("html");
    let built = site::mkdocs_build_site(&out, &html);
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
}

#[test]
fn a_value_no_page_can_set_may_be_shown_in_a_check_in_words() {
    let tmp = tutorial_in(&[
        ("tutorial.yaml", "name: two\nchapters: [a.yaml, b.yaml]\n"),
        (
            "a.yaml",
            "name: a\ntutorial: tutorial.yaml\nsteps:\n  - name: find\n    exec:\n      command: [echo, \"7\"]\n      captureStdout: num\nexports:\n  doubled: \"{{ (num | int) * 2 }}\"\n",
        ),
        (
            "b.yaml",
            "name: b\ntutorial: tutorial.yaml\nsteps:\n  - name: use\n    exec:\n      command: [echo, \"14\"]\n      expect:\n        stdout: { equals: \"{{ doubled }}\" }\n",
        ),
    ]);
    let out = tmp.path().join("out");
    Scenario::new()
        .arg("docs")
        .arg(tmp.path().join("tutorial.yaml"))
        .arg("-o")
        .arg(&out)
        .expect_status(0)
        .expect_stderr("")
        .run();
    let b = read(out.join("docs/b.md"));
    assert!(
        b.contains("- expect stdout equals \"`doubled` (from an earlier chapter)\""),
        "{b}"
    );
    // The reader's commands do not read it: no guard, nothing to set.
    assert!(!b.contains("DOUBLED") && !b.contains('\u{E003}'), "{b}");
}
