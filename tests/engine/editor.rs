//! Editor support as a user gets it: the real YAML language server (npm's
//! yaml-language-server, installed by `make test` under target/node) on a
//! chapter made by `scenario init` outside a clone. The `$schema` line that
//! `init` writes must resolve, so that completion offers the step kinds and
//! wrong keys, types and ranges are reported.

use std::path::Path;
use std::process::Command;

use crate::support::Scenario;

const SERVER: &str = "target/node/node_modules/yaml-language-server/bin/yaml-language-server";

#[test]
fn the_yaml_language_server_completes_and_checks_a_chapter_made_by_init() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let server = root.join(SERVER);
    if !server.is_file() {
        assert!(
            std::env::var_os("CI").is_none(),
            "make test installs yaml-language-server under target/node"
        );
        eprintln!("yaml-language-server not installed (make test installs it): skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_string_lossy().into_owned();
    Scenario::new()
        .args(["init", "chapter", "--dir", &d])
        .expect_status(0)
        .run();
    let book = dir.path().join("chapter.yaml");
    let mut text = std::fs::read_to_string(&book).unwrap();
    // Three mistakes an author makes, and a step being written.
    text.push_str(
        "  - name: typo\n    clusters: cluster1\n    timeout: 5\n    level: 7\n    wiat: {}\n  - name: writing\n    clusters: cluster1\n    \n",
    );
    std::fs::write(&book, &text).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let at = |needle: &str| {
        u32::try_from(
            lines
                .iter()
                .position(|l| l.trim_start().starts_with(needle))
                .unwrap(),
        )
        .unwrap()
    };
    let writing = at("- name: writing") + 2;
    let out = Command::new("python3")
        .arg(root.join("tests/support/lsp_probe.py"))
        .arg(&server)
        .arg(&book)
        .arg(writing.to_string())
        .arg("4")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let labels: Vec<&str> = v["completion"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l.as_str())
        .collect();
    for kind in scenario::steps::ACTIONS {
        assert!(
            labels.contains(kind),
            "completion offers `{kind}`: {labels:?}"
        );
    }
    let diags = v["diagnostics"].as_array().unwrap();
    let on = |line: u32| -> Vec<String> {
        diags
            .iter()
            .filter(|d| d["line"] == line)
            .map(|d| d["message"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    assert!(
        on(at("timeout: 5"))
            .iter()
            .any(|m| m.contains("Incorrect type")),
        "a wrong type: {diags:?}"
    );
    assert!(
        on(at("level: 7"))
            .iter()
            .any(|m| m.contains("Value is above the maximum of 4")),
        "a value out of range: {diags:?}"
    );
    assert!(
        on(at("wiat:"))
            .iter()
            .any(|m| m.contains("Property wiat is not allowed")),
        "an unknown key: {diags:?}"
    );
    assert!(
        diags.iter().all(|d| !d["message"]
            .as_str()
            .unwrap_or("")
            .contains("Unable to load schema")),
        "the schema resolves: {diags:?}"
    );
}

#[test]
fn init_outside_a_clone_writes_a_schema_the_editor_can_read() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_string_lossy().into_owned();
    let o = Scenario::new().args(["init", "ch1", "--dir", &d]).run();
    assert_eq!(o.status, Some(0), "{}", o.stderr);
    let book = std::fs::read_to_string(dir.path().join("ch1.yaml")).unwrap();
    assert!(
        book.starts_with("# yaml-language-server: $schema=playbook.schema.json\n"),
        "{book}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("playbook.schema.json")).unwrap(),
        Scenario::new().args(["schema"]).run().stdout
    );
    assert!(
        o.stdout
            .contains(&format!("created {d}/playbook.schema.json\n"))
    );
}
