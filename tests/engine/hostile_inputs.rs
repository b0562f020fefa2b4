//! Hostile input never panics, never hangs and never half-runs: each case is
//! refused with a located error and exit code 2.

use std::time::Duration;

use crate::support::Scenario;

/// Runs `scenario validate` on content written to a temp file. A run still
/// going after `HANG` is killed and fails the test (this is a guard against
/// hangs, not a speed measurement: see BENCHMARKS.md for timings).
fn validate_bytes(name: &str, content: &[u8]) -> (Option<i32>, String) {
    const HANG: Duration = Duration::from_secs(20);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    let run = Scenario::new()
        .arg("validate")
        .arg(&path)
        .timeout(HANG)
        .run();
    (run.status, run.stderr)
}

fn refused(name: &str, content: &[u8], expect: &str) {
    let (code, err) = validate_bytes(name, content);
    assert_eq!(code, Some(2), "{name}: exit code, stderr:\n{err}");
    assert!(!err.contains("panicked"), "{name}: panicked:\n{err}");
    assert!(err.starts_with("error: "), "{name}: {err}");
    assert!(
        err.contains(&"--> ".to_string()),
        "{name}: no location: {err}"
    );
    assert!(
        err.contains(expect),
        "{name}: expected {expect:?} in:\n{err}"
    );
    assert!(err.ends_with("nothing was run\n"), "{name}: {err}");
}

#[test]
fn empty_file() {
    refused("empty.yaml", b"", "the file is empty");
    refused(
        "comments.yaml",
        b"# only\n# comments\n",
        "the file is empty",
    );
    refused("blank.yaml", b"\n\n   \n", "the file is empty");
}

#[test]
fn binary_garbage() {
    let bytes: Vec<u8> = (0..=255u8).cycle().take(20_000).collect();
    refused("garbage.yaml", &bytes, "not UTF-8 text");
    refused("nul.yaml", b"name: a\0b\nsteps: []\n", "NUL bytes");
}

#[test]
fn top_level_list_and_scalar() {
    refused(
        "list.yaml",
        b"- name: a\n  sleep: 1s\n",
        "expected a playbook mapping at the top level, found a list",
    );
    refused("scalar.yaml", b"hello\n", "found a string");
}

#[test]
fn duplicate_keys() {
    refused(
        "dup.yaml",
        b"name: a\nname: b\nsteps: []\n",
        "duplicate key: name",
    );
    refused(
        "dup-nested.yaml",
        b"name: a\nsteps:\n  - name: s\n    sleep: 1s\n    sleep: 2s\n",
        "duplicate key: sleep",
    );
}

#[test]
fn tabs() {
    refused("tabs.yaml", b"name: t\nsteps:\n\t- name: a\n", "tab");
}

#[test]
fn deep_nesting() {
    let flow = format!("name: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    refused("flow.yaml", flow.as_bytes(), "nests too deeply");
    let block: String = (0..1_000)
        .map(|i| format!("{}a:\n", " ".repeat(i)))
        .collect();
    refused("block.yaml", block.as_bytes(), "nests too deeply");
}

#[test]
fn alias_bomb() {
    let mut y = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["b", "c", "d", "e", "f", "g", "h", "i"];
    let mut prev = "a";
    for n in names {
        y.push_str(&format!(
            "{n}: &{n} [{}]\n",
            vec![format!("*{prev}"); 9].join(",")
        ));
        prev = n;
    }
    refused("laughs.yaml", y.as_bytes(), "too many alias expansions");
}

#[test]
fn huge_file() {
    let mut y = String::from("name: t\nsteps:\n");
    while y.len() < 5 * 1024 * 1024 {
        y.push_str("  - name: x\n    sleep: 1s\n");
    }
    refused("huge.yaml", y.as_bytes(), "file is too large");
}

#[test]
fn second_document() {
    refused(
        "two.yaml",
        b"name: t\nsteps: []\n---\nname: u\n",
        "second one starts here",
    );
}

#[test]
fn complex_keys() {
    refused(
        "key.yaml",
        b"? [a, b]\n: 1\nname: t\n",
        "expected a field name, found a list",
    );
}
