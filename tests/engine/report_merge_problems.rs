//! `scenario report merge` when something is wrong: a shard report missing,
//! truncated, binary, oversized, of another version or tool, with an unknown
//! step kind or an impossible shard; shard counts that disagree; a playbook
//! in two reports; a retried index; arguments that cannot be used. Each is
//! an error of the merge, and the merged files still say what is missing.

use std::path::{Path, PathBuf};

use super::report_merge::{consume, json_reports, read_json, run_shards, seven_playbooks};
use crate::support::Scenario;

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
            "a count past any number",
            Box::new(|_, f| edit(f, |v| v["shard"]["count"] = serde_json::json!(1e30))),
            vec![
                format!("in/{name2}:"),
                ": not a scenario JSON report (schema version 3): invalid type: floating point"
                    .into(),
                missing.into(),
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
            // Durations no run writes are read as 0, not refused.
            v["playbooks"][0]["duration"] = (-5.0).into();
            v["playbooks"][0]["steps"][0]["duration"] = 1e300.into();
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
    let retried = v["playbooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "retried")
        .unwrap();
    assert_eq!(retried["duration"], 0.0);
    assert_eq!(retried["steps"][0]["duration"], 0.0);
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
