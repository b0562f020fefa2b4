//! Reports that join: `run --report-dir DIR` (one uniquely named JSON and
//! JUnit report per shard, with the shard and each playbook's digests) and
//! `scenario report merge` (shards as an Indexed Job's pods write them,
//! joined; a missing, corrupt, oversized or foreign report is an error of
//! the merge, never fewer tests: `report_merge_problems.rs`). Read by
//! junitparser, jsonschema, Chromium.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{Scenario, python, site};

/// A playbook that fails: its command prints markup and control characters
/// and the check wants other text.
const FAILING: &str = "name: p3\nsteps:\n  - name: hostile\n    exec:\n      command: [printf, \"<script>alert(1)</script>\\u001b[31m&\"]\n      expect:\n        stdout: { contains: green }\n";

/// Seven playbooks, one directory; p3 fails.
pub(crate) fn seven_playbooks() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for n in 1..=7 {
        let text = if n == 3 {
            FAILING.to_owned()
        } else {
            format!("name: p{n}\nsteps:\n  - name: s\n    sleep: 1ms\n")
        };
        std::fs::write(dir.path().join(format!("p{n}.yaml")), text).unwrap();
    }
    dir
}

/// Runs the `count` shards of `dir` at once, as an Indexed Job's pods do:
/// each with its `JOB_COMPLETION_INDEX`, all writing into `out`.
pub(crate) fn run_shards(dir: &Path, count: usize, out: &Path) {
    let children: Vec<_> = (0..count)
        .map(|i| {
            Scenario::new()
                .current_dir(dir)
                .args(["run", ".", "--allow-exec", "-q", "--report-dir"])
                .arg(out)
                .env("JOB_COMPLETION_INDEX", i.to_string())
                .env("SCENARIO_SHARD_COUNT", count.to_string())
                .command()
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        let st = c.wait().unwrap();
        assert!(matches!(st.code(), Some(0 | 1)), "{st:?}");
    }
}

/// The JSON reports in `dir`, sorted.
pub(crate) fn json_reports(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    v.sort();
    v
}

pub(crate) fn read_json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// Checks the JSON report against the committed schema (jsonschema) and
/// reads the JUnit report with junitparser: `{suite: {case: result}}`.
pub(crate) fn consume(json: &Path, junit: &Path) -> serde_json::Value {
    python::ensure("junitparser, jsonschema", &["junitparser", "jsonschema"]);
    const CONSUMER: &str = r#"
import json, sys
import junitparser, jsonschema
jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[3])))
xml = junitparser.JUnitXml.fromfile(sys.argv[2])
kind = lambda c: type(c.result[0]).__name__ if c.result else "passed"
print(json.dumps({s.name: {c.name: kind(c) for c in s} for s in xml}, sort_keys=True))
"#;
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/report.schema.json");
    let py = Command::new("python3")
        .args(["-c", CONSUMER])
        .arg(json)
        .arg(junit)
        .arg(schema)
        .output()
        .unwrap();
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    serde_json::from_slice(&py.stdout).unwrap()
}

/// `sha256sum FILES | sha256sum`, run in `dir`.
fn sha256sum_of(dir: &Path, files: &[&str]) -> (Vec<String>, String) {
    let out = Command::new("sha256sum")
        .current_dir(dir)
        .args(files)
        .output()
        .unwrap();
    let lines = String::from_utf8(out.stdout).unwrap();
    let each = lines.lines().map(|l| l[..64].to_owned()).collect();
    let mut all = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    all.stdin
        .take()
        .unwrap()
        .write_all(lines.as_bytes())
        .unwrap();
    let o = all.wait_with_output().unwrap();
    (each, String::from_utf8(o.stdout).unwrap()[..64].to_owned())
}

#[test]
fn report_dir_writes_new_reports_with_the_shard_and_the_digests_of_what_each_playbook_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("p.yaml"),
        "name: p\nclusters:\n  c1: {}\nsteps:\n  - name: s\n    clusters: c1\n    apply:\n      manifests: [cm.yaml]\n  - name: again\n    clusters: c1\n    apply:\n      manifests: [cm.yaml]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("kc"),
        "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n",
    )
    .unwrap();
    let out = dir.path().join("reports");
    let run = || {
        Scenario::new()
            .current_dir(dir.path())
            .args([
                "run",
                "p.yaml",
                "--kubeconfig",
                "kc",
                "--context",
                "c1=none",
            ])
            .args(["--shard", "1/1", "--report-dir", "reports"])
            .run()
    };
    // The context is missing: the run stops at the pre-flight and still reports.
    assert_eq!(run().status, Some(2));
    let first = json_reports(&out);
    assert_eq!(first.len(), 1);
    let name = first[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("shard-1-of-1-"), "{name}");
    assert!(
        first[0].with_extension("xml").is_file(),
        "the JUnit report beside it"
    );
    let before = std::fs::read_to_string(&first[0]).unwrap();
    let v = read_json(&first[0]);
    assert_eq!(v["schemaVersion"], 3);
    assert_eq!(v["shard"], serde_json::json!({"index": 1, "count": 1}));
    assert!(v["startedAt"].as_f64().unwrap() > 1.7e9);
    let pb = &v["playbooks"][0];
    let (each, all) = sha256sum_of(dir.path(), &["p.yaml", "cm.yaml"]);
    assert_eq!(
        pb["files"],
        serde_json::json!([
            {"path": "p.yaml", "sha256": each[0]},
            {"path": "cm.yaml", "sha256": each[1]},
        ])
    );
    assert_eq!(
        pb["digest"],
        all.as_str(),
        "the digest is sha256sum's lines, hashed"
    );
    // A second run of the same shard: a new file; the first is untouched.
    std::fs::write(
        dir.path().join("cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: other }\n",
    )
    .unwrap();
    assert_eq!(run().status, Some(2));
    let second = json_reports(&out);
    assert_eq!(second.len(), 2, "{second:?}");
    assert_eq!(std::fs::read_to_string(&first[0]).unwrap(), before);
    let other = second.iter().find(|p| **p != first[0]).unwrap();
    let digest = read_json(other)["playbooks"][0]["digest"].clone();
    assert_ne!(
        digest, pb["digest"],
        "a changed manifest changes the digest"
    );
    // A directory that cannot be made: exit 3, said.
    std::fs::write(dir.path().join("file"), "").unwrap();
    let o = Scenario::new()
        .current_dir(dir.path())
        .args([
            "run",
            "p.yaml",
            "--kubeconfig",
            "kc",
            "--context",
            "c1=none",
        ])
        .args(["--report-dir", "file/sub"])
        .run();
    assert_eq!(o.status, Some(3), "{o:?}");
    assert!(
        o.stderr
            .contains("error: cannot write the reports into --report-dir file/sub: "),
        "{}",
        o.stderr
    );
}

#[test]
fn shards_run_as_indexed_job_pods_merge_into_one_report() {
    let dir = seven_playbooks();
    let out = dir.path().join("reports");
    run_shards(dir.path(), 3, &out);
    let shards = json_reports(&out);
    assert_eq!(shards.len(), 3, "one report per pod");
    let merged = dir.path().join("merged.json");
    let (xml, html) = (
        dir.path().join("merged.xml"),
        dir.path().join("merged.html"),
    );
    let o = Scenario::new()
        .current_dir(dir.path())
        .args(["report", "merge", "reports", "-o", "merged.json"])
        .args(["--junit", "merged.xml", "--html", "merged.html", "--expect-shards", "3"])
        .expect_status(1)
        .expect_stdout("merged 3 of 3 reports: 7 playbooks (FAILED), 7 steps: 6 passed, 1 failed, 0 errored, 0 skipped\n")
        .expect_stderr("")
        .run();
    drop(o);
    let v = read_json(&merged);
    let paths: Vec<&str> = v["playbooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "./p1.yaml",
            "./p2.yaml",
            "./p3.yaml",
            "./p4.yaml",
            "./p5.yaml",
            "./p6.yaml",
            "./p7.yaml"
        ]
    );
    assert_eq!(v["status"], "failed");
    assert_eq!(v["exitCode"], 1);
    assert_eq!(v["merged"]["shards"], 3);
    assert_eq!(v["merged"]["problems"], serde_json::json!([]));
    // The failure keeps its location and every playbook its digest.
    let p3 = &v["playbooks"][2];
    let check = &p3["steps"][0]["outcomes"][0]["checks"][0];
    assert_eq!(check["location"]["file"], "./p3.yaml", "{check}");
    assert_eq!(check["location"]["line"], 7, "{check}");
    assert!(
        v["playbooks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["digest"].as_str().is_some_and(|d| d.len() == 64))
    );
    let suites = consume(&merged, &xml);
    let want: serde_json::Value = (1..=7)
        .map(|n| {
            let (case, result) = if n == 3 {
                ("hostile", "Failure")
            } else {
                ("s", "passed")
            };
            (format!("p{n}"), serde_json::json!({ case: result }))
        })
        .collect::<serde_json::Map<_, _>>()
        .into();
    assert_eq!(suites, want);
    let x = std::fs::read_to_string(&xml).unwrap();
    assert!(x.contains("file=\"./p3.yaml\" line=\"7\""), "{x}");
    assert!(x.contains("&lt;script&gt;") && !x.contains("<script>") && !x.contains('\u{1b}'));
    // The HTML in Chromium: all seven, the failure, no markup of the command run.
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(!page.contains("<script") && !page.contains("src=\"http"));
    let Some(browser) = site::chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "make test installs chromium"
        );
        return;
    };
    let dom = site::dump_dom(browser, &html);
    assert!(dom.contains("7 playbooks, exit code 1"), "{dom}");
    assert!(
        dom.contains("./p3.yaml:7:"),
        "the failure's location: {dom}"
    );
    assert!(
        dom.contains("&lt;script&gt;alert(1)"),
        "shown as text: {dom}"
    );
    assert!(!dom.contains("<script>alert"), "{dom}");
}

#[test]
fn the_ci_examples_merge_as_many_shards_as_they_run() {
    let read = |f: &str| {
        std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("examples/ci")
                .join(f),
        )
        .unwrap()
    };
    let gh = read("github-actions-nightly.yml");
    assert!(gh.contains("        shard: [1, 2, 3]\n"), "three shards");
    assert!(gh.contains("--shard ${{ matrix.shard }}/3 "));
    let gl = read("gitlab-ci-nightly.yml");
    assert!(gl.contains("  parallel: 3\n"), "three shards");
    for ci in [&gh, &gl] {
        assert!(
            ci.contains("--report-dir reports"),
            "each shard keeps its reports"
        );
        assert!(
            ci.contains("scenario report merge reports/ --expect-shards 3"),
            "the merge knows how many shards there are"
        );
    }
}
