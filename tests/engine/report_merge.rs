//! Reports that join: `run --report-dir DIR` (one uniquely named JSON and
//! JUnit report per shard, with the shard and each playbook's digests) and
//! `scenario report merge` (shards as an Indexed Job's pods write them,
//! joined; a missing, corrupt, oversized or foreign report is an error of
//! the merge, never fewer tests). Read by junitparser, jsonschema, Chromium.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{Scenario, python, site};

/// A playbook that fails: its command prints markup and control characters
/// and the check wants other text.
const FAILING: &str = "name: p3\nsteps:\n  - name: hostile\n    exec:\n      command: [printf, \"<script>alert(1)</script>\\u001b[31m&\"]\n      expect:\n        stdout: { contains: green }\n";

/// Seven playbooks, one directory; p3 fails.
fn seven_playbooks() -> tempfile::TempDir {
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
fn run_shards(dir: &Path, count: usize, out: &Path) {
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
fn json_reports(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    v.sort();
    v
}

fn read_json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// Checks the JSON report against the committed schema (jsonschema) and
/// reads the JUnit report with junitparser: `{suite: {case: result}}`.
fn consume(json: &Path, junit: &Path) -> serde_json::Value {
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
        "name: p\nclusters:\n  c1: {}\nsteps:\n  - name: s\n    clusters: c1\n    apply:\n      manifests: [cm.yaml]\n",
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

/// The three shard reports of [`seven_playbooks`], written once.
fn three_shard_reports() -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = seven_playbooks();
    let out = dir.path().join("reports");
    run_shards(dir.path(), 3, &out);
    let r = json_reports(&out);
    assert_eq!(r.len(), 3);
    (dir, r)
}

/// Merges `dir` (with `extra` arguments) into `dir/../merged.*`.
fn merge(dir: &Path, extra: &[&str]) -> crate::support::Run {
    let parent = dir.parent().unwrap();
    Scenario::new()
        .current_dir(parent)
        .args(["report", "merge"])
        .arg(dir.file_name().unwrap())
        .args([
            "-o",
            "merged.json",
            "--junit",
            "merged.xml",
            "--html",
            "merged.html",
        ])
        .args(extra.iter().copied())
        .run()
}

/// A copy of the shard reports in a new directory, shard 2's changed by `f`
/// (which may remove it, write bytes instead, or add files).
fn case(reports: &[PathBuf], f: impl FnOnce(&Path, &Path)) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("in");
    std::fs::create_dir(&dir).unwrap();
    for r in reports {
        std::fs::copy(r, dir.join(r.file_name().unwrap())).unwrap();
    }
    let second = dir.join(reports[1].file_name().unwrap());
    f(&dir, &second);
    tmp
}

fn edit(path: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    let mut v = read_json(path);
    f(&mut v);
    std::fs::write(path, serde_json::to_string(&v).unwrap()).unwrap();
}

#[test]
fn a_missing_corrupt_oversized_or_foreign_shard_report_is_an_error_of_the_merge() {
    let (_keep, reports) = three_shard_reports();
    let name2 = reports[1]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let missing =
        "error: report merge: no report of shard 2 of 3: its playbooks are not in the merge\n";
    type Case = (&'static str, Box<dyn FnOnce(&Path, &Path)>, Vec<String>);
    let cases: Vec<Case> = vec![
        (
            "missing",
            Box::new(|_, f| std::fs::remove_file(f).unwrap()),
            vec![missing.into()],
        ),
        (
            "truncated",
            Box::new(|_, f| {
                let t = std::fs::read(f).unwrap();
                std::fs::write(f, &t[..t.len() / 2]).unwrap();
            }),
            vec![
                format!("in/{name2}:"),
                ": not a scenario JSON report (schema version 3): EOF while parsing".into(),
                missing.into(),
            ],
        ),
        (
            "binary",
            Box::new(|_, f| std::fs::write(f, [0xff, 0xfe, 0, 0x1b]).unwrap()),
            vec![
                format!("error: report merge: in/{name2}:1:1: not a scenario JSON report"),
                missing.into(),
            ],
        ),
        (
            "foreign version",
            Box::new(|_, f| edit(f, |v| v["schemaVersion"] = 2.into())),
            vec![
                format!(
                    "error: report merge: in/{name2}: a report of schema version 2; this scenario reads version 3"
                ),
                missing.into(),
            ],
        ),
        (
            "another tool",
            Box::new(|_, f| edit(f, |v| v["tool"] = "other \u{1b}[31m1.0".into())),
            vec![
                format!(
                    "error: report merge: in/{name2}: written by `other \\u{{1b}}[31m1.0`, not by scenario"
                ),
                missing.into(),
            ],
        ),
        (
            "unknown kind",
            Box::new(|_, f| {
                edit(f, |v| {
                    v["playbooks"][0]["steps"][0]["kind"] = "teleport".into()
                })
            }),
            vec![
                "has the kind `teleport`, which this scenario does not know".into(),
                missing.into(),
            ],
        ),
        (
            "oversized",
            Box::new(|_, f| {
                let mut t = std::fs::read(f).unwrap();
                t.resize(16 * 1024 * 1024 + 1, b' ');
                std::fs::write(f, t).unwrap();
            }),
            vec![
                format!(
                    "error: report merge: in/{name2}: the report is larger than the limit of 16777216 bytes"
                ),
                missing.into(),
            ],
        ),
        (
            "other shard count",
            Box::new(|_, f| edit(f, |v| v["shard"]["count"] = 4.into())),
            vec![
                "error: report merge: the reports were written for different shard counts: 3 ("
                    .into(),
                "), 4 (".into(),
                "no report of shard 4 of 4".into(),
            ],
        ),
        (
            "a shard out of range",
            Box::new(|_, f| edit(f, |v| v["shard"]["index"] = 9.into())),
            vec![
                format!("in/{name2}: shard 9/3 is not a shard"),
                missing.into(),
            ],
        ),
        (
            "a playbook twice",
            Box::new(|d, f| {
                let copy = d.join("copy.json");
                std::fs::copy(f, &copy).unwrap();
                edit(&copy, |v| v["shard"] = serde_json::Value::Null);
            }),
            vec![
                "error: report merge: playbook ./p".into(),
                " is in two reports: in/".into(),
            ],
        ),
        (
            "hostile name",
            Box::new(|_, f| {
                std::fs::remove_file(f).unwrap();
                let bad = f.with_file_name("<b>x\u{1b}[31m.json");
                std::fs::write(bad, "<html>").unwrap();
            }),
            vec![
                "error: report merge: in/<b>x\\u{1b}[31m.json:1:1: not a scenario JSON report"
                    .into(),
                missing.into(),
            ],
        ),
    ];
    for (what, change, want) in cases {
        let tmp = case(&reports, change);
        let o = merge(&tmp.path().join("in"), &[]);
        assert_eq!(o.status, Some(3), "{what}: {o:?}");
        for w in &want {
            assert!(
                o.stderr.contains(w.as_str()),
                "{what}: want {w:?} in\n{}",
                o.stderr
            );
        }
        assert!(!o.stderr.contains('\u{1b}'), "{what}: {}", o.stderr);
        assert!(o.stdout.contains("; INCOMPLETE: "), "{what}: {}", o.stdout);
        // Still written, and saying so: JSON (schema-valid), JUnit, HTML.
        let (json, xml) = (
            tmp.path().join("merged.json"),
            tmp.path().join("merged.xml"),
        );
        let v = read_json(&json);
        assert_eq!(v["status"], "errored", "{what}");
        assert_eq!(v["exitCode"], 3, "{what}");
        let problems = v["merged"]["problems"].as_array().unwrap();
        assert_eq!(
            problems.len(),
            o.stderr.lines().count(),
            "{what}: {}",
            o.stderr
        );
        let suites = consume(&json, &xml);
        assert_eq!(
            suites["scenario report merge"]["merge problem 1"], "Error",
            "{what}: {suites}"
        );
        let page = std::fs::read_to_string(tmp.path().join("merged.html")).unwrap();
        assert!(page.contains("The merge is incomplete"), "{what}");
        assert!(!page.contains("<b>x") && !page.contains('\u{1b}'), "{what}");
    }
}

#[test]
fn expected_shards_retried_shards_and_unusable_arguments() {
    let (_keep, reports) = three_shard_reports();
    // --expect-shards more than the reports were written for.
    let tmp = case(&reports, |_, _| {});
    let o = merge(&tmp.path().join("in"), &["--expect-shards", "4"]);
    assert_eq!(o.status, Some(3));
    assert_eq!(
        o.stderr,
        "error: report merge: --expect-shards 4, but the reports were written for 3 shards\nerror: report merge: no report of shard 4 of 4: its playbooks are not in the merge\n"
    );
    // An index retried (backoffLimitPerIndex): the later report is used,
    // the earlier one listed as superseded; nothing counts twice.
    let tmp = case(&reports, |d, f| {
        let retry = d.join("retry.json");
        std::fs::copy(f, &retry).unwrap();
        edit(&retry, |v| {
            v["startedAt"] = (v["startedAt"].as_f64().unwrap() + 100.0).into();
            v["playbooks"][0]["name"] = "retried".into();
        });
    });
    let o = merge(&tmp.path().join("in"), &["--expect-shards", "3"]);
    assert_eq!(o.status, Some(1), "{o:?}");
    assert!(
        o.stdout
            .starts_with("merged 3 of 4 reports: 7 playbooks (FAILED)"),
        "{}",
        o.stdout
    );
    let v = read_json(&tmp.path().join("merged.json"));
    let names: Vec<&str> = v["playbooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"retried"), "{names:?}");
    let superseded: Vec<bool> = v["merged"]["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["superseded"].as_bool().unwrap())
        .collect();
    assert_eq!(
        superseded.iter().filter(|s| **s).count(),
        1,
        "{superseded:?}"
    );
    // Nothing to merge, a path that is not there, an output that cannot be written.
    let empty = tempfile::tempdir().unwrap();
    let o = merge(empty.path(), &[]);
    assert_eq!(o.status, Some(2));
    assert_eq!(
        o.stderr,
        "error: report merge: no JSON report found (give report files or directories holding *.json reports)\n"
    );
    Scenario::new()
        .args([
            "report",
            "merge",
            "/nonexistent/dir",
            "-o",
            "/tmp/never.json",
        ])
        .expect_status(2)
        .expect_stderr(
            "error: report merge: /nonexistent/dir: No such file or directory (os error 2)\n",
        )
        .run();
    let o = Scenario::new()
        .args(["report", "merge"])
        .args(&reports)
        .args(["-o", "/nonexistent/dir/merged.json"])
        .run();
    assert_eq!(o.status, Some(3), "{o:?}");
    assert!(
        o.stderr.starts_with(
            "error: cannot write the merged JSON report /nonexistent/dir/merged.json: "
        ),
        "{}",
        o.stderr
    );
    for bad in ["0", "100001", "-1", "x"] {
        let o = Scenario::new()
            .args(["report", "merge"])
            .args(&reports)
            .args(["-o", "/tmp/never.json", "--expect-shards", bad])
            .run();
        assert_eq!(o.status, Some(2), "{bad}: {o:?}");
    }
}
