//! `scenario import`: the reference chapter (with stand-in scripts under
//! tests/import/traffic-management/bin) and six chapters in other styles
//! import to the golden playbook and report (tests/import/golden/), each
//! validates, and at least 80% of their shell commands become typed steps.
//! Hostile pages are refused with a located error, exit 2, in bounded time.
//!
//! Regenerate after an intended change with
//! `UPDATE_GOLDEN=1 cargo test --test engine import` and review the diff.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::support::{Run, Scenario};

/// (folder under tests/import, page inside it).
const CHAPTERS: &[(&str, &str)] = &[
    ("traffic-management", "docs/traffic-management.md"),
    ("hugo", "docs/traffic-shifting.md"),
    ("jq-yq", "docs/scaling.md"),
    ("waits", "docs/rollout.md"),
    ("helm-cloud", "docs/install.md"),
    ("expected-output", "docs/access.md"),
    ("includes", "docs/gateway-api.md"),
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/import")
}

/// A copy of a chapter folder in a temporary directory.
fn copy(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("cp")
        .arg("-r")
        .arg(fixtures().join(name))
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let dir = tmp.path().join(name);
    (tmp, dir)
}

fn listing(dir: &Path) -> Vec<String> {
    let out = std::process::Command::new("find")
        .arg(".")
        .current_dir(dir)
        .output()
        .unwrap();
    let mut v: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    v.sort();
    v
}

fn import(dir: &Path, page: &str) -> Run {
    Scenario::new()
        .current_dir(dir)
        .args(["import", page, "--root", ".", "-o", "playbook.yaml"])
        .args(["--report", "report.json"])
        .expect_status(0)
        .timeout(Duration::from_secs(30))
        .run()
}

fn golden(name: &str, got: &str, failures: &mut Vec<String>) {
    let path = fixtures().join("golden").join(name);
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

#[test]
fn chapters_import_to_the_golden_playbooks_and_reports_and_validate() {
    let mut failures = Vec::new();
    for (name, page) in CHAPTERS {
        let (_tmp, dir) = copy(name);
        let before = listing(&dir);
        let run = import(&dir, page);
        assert!(run.stdout.is_empty(), "{name}: stdout {:?}", run.stdout);
        // It writes the playbook and the report, nothing else.
        let mut after = listing(&dir);
        after.retain(|f| f != "./playbook.yaml" && f != "./report.json");
        assert_eq!(
            before, after,
            "{name}: files written besides -o and --report"
        );
        let playbook = std::fs::read_to_string(dir.join("playbook.yaml")).unwrap();
        let report = std::fs::read_to_string(dir.join("report.json")).unwrap();
        golden(&format!("{name}.yaml"), &playbook, &mut failures);
        golden(&format!("{name}.report.json"), &report, &mut failures);
        Scenario::new()
            .current_dir(&dir)
            .args(["validate", "playbook.yaml"])
            .expect_status(0)
            .run();
        let r: Value = serde_json::from_str(&report).unwrap();
        let s = &r["summary"];
        let share = s["typed_percent"].as_f64().unwrap();
        assert!(share >= 80.0, "{name}: {share}% typed");
        assert!(s["commands"].as_u64().unwrap() >= 5, "{name}: {s}");
        // Every exec says why; every proposed check is marked in the playbook.
        for e in r["entries"].as_array().unwrap() {
            if e["became"] == "exec step" {
                assert!(e["why"].as_str().unwrap().len() > 10, "{name}: {e}");
                assert!(e["step"].is_string(), "{name}: {e}");
            }
        }
        let marks = playbook.matches("# proposed by scenario import:").count();
        let proposed = s["proposed_checks"].as_u64().unwrap() as usize;
        assert!(
            marks >= proposed.min(1) && (proposed == 0) == (marks == 0),
            "{name}: {marks} marks, {proposed} proposed"
        );
        // The terminal report ends with the counts.
        let last = run.stderr.lines().last().unwrap_or_default();
        assert!(
            last.starts_with("import: ") && last.contains("% typed") || last.contains("typed ("),
            "{name}: {last}"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The steps of a playbook as JSON.
fn steps(dir: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(dir.join("playbook.yaml")).unwrap();
    let v: Value = serde_saphyr::from_str(&text).unwrap();
    v["steps"].as_array().unwrap().clone()
}

#[test]
fn the_reference_chapter_proposes_the_splits_of_its_traffic_policies() {
    let (_tmp, dir) = copy("traffic-management");
    import(&dir, "docs/traffic-management.md");
    let steps = steps(&dir);
    let split = |weights: Value| {
        let i = steps
            .iter()
            .position(|s| s["probe"]["expect"]["distribution"]["weights"] == weights)
            .unwrap_or_else(|| panic!("no probe with the split {weights}"));
        let probe = &steps[i]["probe"];
        assert_eq!(probe["eventually"], serde_json::json!({}));
        assert_eq!(probe["expect"]["distribution"]["value"], "color");
        assert_eq!(probe["extract"]["color"], "$.color");
        assert_eq!(probe["requests"], 2000);
        // Right after the apply of the policy with those weights, on mgmt.
        assert_eq!(steps[i - 1]["clusters"], "mgmt");
        steps[i - 1]["apply"]["manifests"][0]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        split(serde_json::json!({"blue": 50, "green": 50})),
        "mesh-files/traffic-policy/blue-green.yaml"
    );
    assert_eq!(
        split(serde_json::json!({"blue": 40, "green": 40, "yellow": 20})),
        "mesh-files/traffic-policy/blue-green-canary.yaml"
    );
    // The all-green shift: every answer green, judged on the last 50.
    let green = steps
        .iter()
        .find(|s| s["probe"]["expect"]["each"][0]["equals"] == "green")
        .unwrap();
    assert_eq!(green["probe"]["eventually"]["window"], 50);
    // The script's kustomize | envsubst | kubectl apply -f -.
    let gw = steps
        .iter()
        .find(|s| s["name"] == "7-deploy-gateway")
        .unwrap();
    assert_eq!(gw["apply"]["kustomize"], "gloo-mesh/gateway");
    assert_eq!(gw["apply"]["substitute"], true);
    // The generated gateway name became a prefix.
    assert!(
        steps
            .iter()
            .any(|s| s["wait"]["resource"]["namePrefix"] == "bgc-virtualgateway-")
    );
    // The two deletes on the two clusters are one step on both.
    assert_eq!(
        steps[0]["clusters"],
        serde_json::json!(["cluster1", "cluster2"])
    );
}

#[test]
fn a_probe_in_a_loop_sends_as_many_requests_and_sleep_sets_its_pace() {
    let tmp = tempfile::tempdir().unwrap();
    let page = "# Loops\n\n```bash\nfor i in {1..10}; do curl -s http://example.test/api; sleep 2; done\n```\n\n```bash\nfor i in $(seq 1 99999999999); do curl -s http://example.test/; done\n```\n";
    std::fs::write(tmp.path().join("loops.md"), page).unwrap();
    Scenario::new()
        .current_dir(tmp.path())
        .args(["import", "loops.md", "-o", "p.yaml"])
        .expect_status(0)
        .run();
    let steps = steps_of(&tmp.path().join("p.yaml"));
    assert_eq!(steps[0]["probe"]["requests"], 10);
    assert_eq!(steps[0]["probe"]["rate"], "30/m");
    // A loop past the probe's limit asks for the limit.
    assert_eq!(steps[1]["probe"]["requests"], 1_000_000);
    Scenario::new()
        .current_dir(tmp.path())
        .args(["validate", "p.yaml"])
        .expect_status(0)
        .run();
}

fn steps_of(path: &Path) -> Vec<Value> {
    let v: Value = serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v["steps"].as_array().unwrap().clone()
}

/// A page in a temporary directory; the import's run.
fn import_page(files: &[(&str, &[u8])], page: &str) -> Run {
    let tmp = tempfile::tempdir().unwrap();
    for (name, bytes) in files {
        let p = tmp.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    Scenario::new()
        .current_dir(tmp.path())
        .args(["import", page, "--root", "."])
        .timeout(Duration::from_secs(20))
        .run()
}

fn refused(files: &[(&str, &[u8])], page: &str, stderr: &str) {
    let run = import_page(files, page);
    assert_eq!(run.status, Some(2), "{}", run.stderr);
    assert!(run.stdout.is_empty());
    assert_eq!(run.stderr, stderr);
}

/// Refused with a message that starts as given (the rest names a temporary directory).
fn refused_with(files: &[(&str, &[u8])], page: &str, start: &str) {
    let run = import_page(files, page);
    assert_eq!(run.status, Some(2), "{}", run.stderr);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.starts_with(start), "{}", run.stderr);
}

#[test]
fn hostile_pages_are_refused_with_a_located_error() {
    refused(
        &[("p.md", b"# T\n\nab\0cd\n")],
        "p.md",
        "error: p.md:3:3: a NUL byte: this is a binary file, not Markdown or shell\n",
    );
    refused(
        &[("p.md", b"# T\n\n\xff\xfe\n")],
        "p.md",
        "error: p.md:3:1: bytes that are not UTF-8 text\n",
    );
    refused(
        &[("p.md", b"# Only prose\n\nNo commands here.\n")],
        "p.md",
        "error: p.md:1:1: nothing to import: the page has no shell block (```bash, ```sh, ```console or a Hugo {{< text bash >}})\n",
    );
    refused(
        &[
            ("p.md", b"# T\n\n--8<-- \"a.md\"\n"),
            ("a.md", b"x\n--8<-- \"b.md\"\n"),
            ("b.md", b"--8<-- \"a.md\"\n"),
        ],
        "p.md",
        "error: b.md:1:1: include loop: `a.md` includes itself (through 3 files)\n",
    );
    refused_with(
        &[("docs/p.md", b"# T\n\n---8<--- \"../../etc/passwd\"\n")],
        "docs/p.md",
        "error: docs/p.md:3:1: `../../etc/passwd` is outside the root /",
    );
    refused(
        &[("p.md", b"```bash\nkubectl get pods )\n```\n")],
        "p.md",
        "error: p.md:2:18: not shell that bash reads: syntax error at line 1 col 18\n",
    );
    refused(
        &[
            ("p.md", b"```bash\nbin/a.sh\n```\n"),
            ("bin/a.sh", b"bin/b.sh\n"),
            ("bin/b.sh", b"bin/a.sh\n"),
        ],
        "p.md",
        "error: bin/b.sh:1:1: script loop: `bin/a.sh` calls itself (through 2 scripts)\n",
    );
    // A page of 10 MB is refused before it is read.
    let big = vec![b'a'; 10 * 1024 * 1024];
    refused(
        &[("p.md", &big)],
        "p.md",
        "error: p.md:1:1: the file has 10485760 bytes; a chapter file may have at most 4194304\n",
    );
    refused(
        &[("p.md", b"```bash\nexport A=1 && true && echo hi\n```\n")],
        "p.md",
        "error: p.md:1:1: nothing to import: no command of its 1 shell block(s) becomes a step (they only set variables, print or test)\n",
    );
    let deep = format!(
        "```bash\necho {}x{}\n```\n",
        "$(".repeat(100),
        ")".repeat(100)
    );
    refused(
        &[("p.md", deep.as_bytes())],
        "p.md",
        "error: p.md:2:1: brackets nest deeper than 64 levels\n",
    );
}

#[test]
fn control_characters_and_markup_in_the_page_stay_out_of_the_terminal_and_the_yaml() {
    let page = "---\ntitle: \"Evil \\e[31mred\"\n---\n\n## Step \u{1b}[2J\n\nProse with \u{1b}]8;;http://x\u{7}link and\ttab and <script>alert(1)</script>\n\n```bash\nkubectl apply -f \"m\u{1b}[31m.yaml\"\ncurl -s 'http://example.test/{{x}}'\n```\n";
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("p.md"), page).unwrap();
    let run = Scenario::new()
        .current_dir(tmp.path())
        .args(["import", "p.md", "-o", "p.yaml"])
        .expect_status(0)
        .run();
    assert!(!run.stderr.contains('\u{1b}'), "{}", run.stderr);
    let yaml = std::fs::read_to_string(tmp.path().join("p.yaml")).unwrap();
    assert!(
        !yaml.contains('\u{1b}') && !yaml.contains('\u{7}'),
        "{yaml}"
    );
    // The template braces of the URL are text, not a template.
    assert!(yaml.contains("{% raw %}"), "{yaml}");
    Scenario::new()
        .current_dir(tmp.path())
        .args(["validate", "p.yaml"])
        .expect_status(0)
        .run();
}

#[test]
fn many_blocks_import_in_linear_time() {
    // 20,000 blocks of the same command: each name and each line is found
    // without scanning the ones before (this took minutes when it did).
    let page: String = (0..20_000)
        .map(|i| format!("```bash\nkubectl get pods -n n{i}\n```\n"))
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("p.md"), page).unwrap();
    let run = Scenario::new()
        .current_dir(tmp.path())
        .args(["import", "p.md", "-o", "p.yaml", "-q"])
        .expect_status(0)
        .timeout(Duration::from_secs(20))
        .run();
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    let yaml = std::fs::read_to_string(tmp.path().join("p.yaml")).unwrap();
    assert!(
        yaml.contains("name: get-pods-20000\n"),
        "the last step's name"
    );
}

#[test]
fn the_chapter_page_of_the_imported_playbook_keeps_the_headings_in_order() {
    let (_tmp, dir) = copy("traffic-management");
    import(&dir, "docs/traffic-management.md");
    let page = Scenario::new()
        .current_dir(&dir)
        .args(["docs", "playbook.yaml"])
        .expect_status(0)
        .run()
        .stdout;
    let source = std::fs::read_to_string(dir.join("docs/traffic-management.md")).unwrap();
    let headings = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with("## ") || l.starts_with("### ") || l.starts_with("#### "))
            .map(|l| l.trim_start_matches('#').trim().to_owned())
            .collect()
    };
    let rendered = headings(&page);
    let mut at = 0;
    for h in headings(&source) {
        let found = rendered[at..].iter().position(|r| *r == h);
        assert!(
            found.is_some(),
            "`{h}` missing or out of order in:\n{rendered:#?}"
        );
        at += found.unwrap() + 1;
    }
    // The prose is there as written.
    assert!(page.contains(
        "If you try check your browser you should see an alternating blue-green traffic."
    ));
    assert!(page.contains("!!!note\n    The `VirtualMesh` includes the on-premise VM"));
}

#[test]
fn env_files_and_env_set_the_chapter_environment() {
    let tmp = tempfile::tempdir().unwrap();
    let page = "```bash\nkubectl --context \"$CLUSTER1\" get pods -n \"$NS\"\n```\n";
    std::fs::write(tmp.path().join("p.md"), page).unwrap();
    std::fs::write(
        tmp.path().join(".envrc"),
        "# the lab\nexport CLUSTER1=kind-east\nNS=shop\n",
    )
    .unwrap();
    Scenario::new()
        .current_dir(tmp.path())
        .args([
            "import",
            "p.md",
            "--env-file",
            ".envrc",
            "--env",
            "NS=web",
            "-o",
            "p.yaml",
        ])
        .expect_status(0)
        .run();
    let yaml = std::fs::read_to_string(tmp.path().join("p.yaml")).unwrap();
    assert!(
        yaml.contains("context: \"{{ env.CLUSTER1 | default('kind-east') }}\""),
        "{yaml}"
    );
    // --env wins over the file.
    assert!(
        yaml.contains("namespace: \"{{ env.NS | default('web') }}\""),
        "{yaml}"
    );
    // A command in an env file is refused where it is.
    std::fs::write(
        tmp.path().join("bad.env"),
        "export A=1\nkubectl delete ns prod\n",
    )
    .unwrap();
    Scenario::new()
        .current_dir(tmp.path())
        .args(["import", "p.md", "--env-file", "bad.env"])
        .expect_status(2)
        .expect_stderr("error: bad.env:2:1: an env file only sets variables (`export NAME=VALUE`); this is a command\n")
        .run();
}

#[test]
fn without_o_the_playbook_goes_to_stdout_and_a_script_outside_the_root_is_an_exec() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("chapter")).unwrap();
    std::fs::write(tmp.path().join("outside.sh"), "kubectl delete ns prod\n").unwrap();
    std::fs::write(
        tmp.path().join("chapter/p.md"),
        "```bash\n../outside.sh\nsleep 2\n```\n",
    )
    .unwrap();
    let run = Scenario::new()
        .current_dir(tmp.path().join("chapter"))
        .args(["import", "p.md"])
        .expect_status(0)
        .run();
    // The script was not read (it is outside the root): one exec that says why.
    assert!(
        run.stdout
            .contains("# exec: a script outside the root: give a wider --root to read it\n"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("delete"), "{}", run.stdout);
    assert!(run.stdout.contains("sleep: 2s"), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("p.md:2:1: ../outside.sh: exec step `exec`: a script outside the root"),
        "{}",
        run.stderr
    );
    // With a wider root it is read: its kubectl line is a typed step. Commands
    // run from the root (where the reader runs the chapter), not the page's folder.
    std::fs::write(
        tmp.path().join("chapter/p2.md"),
        "```bash\n./outside.sh\n```\n",
    )
    .unwrap();
    let run = Scenario::new()
        .current_dir(tmp.path().join("chapter"))
        .args(["import", "p2.md", "--root", ".."])
        .expect_status(0)
        .run();
    assert!(
        run.stdout
            .contains("delete:\n      resources:\n        - { kind: ns, name: prod }"),
        "{}",
        run.stdout
    );
}
