//! Every playbook shipped in playbooks/ and examples/ validates, starts with
//! the schema line, and the committed JSON Schema matches the Rust types.

use std::path::{Path, PathBuf};

use crate::support::Scenario;

const SCHEMA_LINE: &str = "# yaml-language-server: $schema=";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let p = e.path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
}

/// Playbooks are the YAML files that carry the schema line.
fn playbooks() -> Vec<PathBuf> {
    let mut files = Vec::new();
    yaml_files(&root().join("playbooks"), &mut files);
    yaml_files(&root().join("examples"), &mut files);
    files.sort();
    files
        .into_iter()
        .filter(|p| {
            std::fs::read_to_string(p)
                .unwrap_or_default()
                .starts_with(SCHEMA_LINE)
        })
        .collect()
}

#[test]
fn every_shipped_playbook_validates() {
    let books = playbooks();
    assert!(
        books
            .iter()
            .any(|p| p.ends_with("playbooks/traffic-management.yaml")),
        "the chapter playbook is found"
    );
    assert!(books.len() >= 2, "playbooks and examples: {books:?}");
    for p in &books {
        let out = Scenario::new().arg("validate").arg(p).run();
        assert_eq!(out.status, Some(0), "{}:\n{}", p.display(), out.stderr);
    }
}

#[test]
fn top_level_playbooks_carry_the_schema_line() {
    for e in std::fs::read_dir(root().join("playbooks"))
        .unwrap()
        .filter_map(Result::ok)
    {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "yaml") {
            let text = std::fs::read_to_string(&p).unwrap();
            let first = text.lines().next().unwrap_or("");
            assert!(
                first.starts_with(SCHEMA_LINE),
                "{}: first line is {first:?}",
                p.display()
            );
            let target = first.trim_start_matches(SCHEMA_LINE);
            assert!(
                p.parent().unwrap().join(target).is_file(),
                "{}: schema path {target} does not exist",
                p.display()
            );
        }
    }
}

#[test]
fn committed_schema_matches_the_rust_types() {
    let committed = std::fs::read_to_string(root().join(scenario::commands::schema::SCHEMA_PATH))
        .unwrap_or_default();
    let generated = scenario::commands::schema::playbook_schema();
    assert!(
        committed == generated,
        "schemas/playbook.schema.json is out of date: run `cargo run -- schema > schemas/playbook.schema.json`"
    );
}

#[test]
fn committed_report_schema_matches_the_rust_types() {
    let committed =
        std::fs::read_to_string(root().join(scenario::report::SCHEMA_PATH)).unwrap_or_default();
    assert!(
        committed == scenario::report::schema(),
        "schemas/report.schema.json is out of date: run `cargo run -- schema --report > schemas/report.schema.json`"
    );
}

#[test]
fn schema_is_valid_json_with_one_action_per_step() {
    let v: serde_json::Value =
        serde_json::from_str(&scenario::commands::schema::playbook_schema()).unwrap();
    let step = &v["$defs"]["Step"];
    assert_eq!(step["additionalProperties"], serde_json::Value::Bool(false));
    let one_of = step["oneOf"].as_array().unwrap();
    assert_eq!(one_of.len(), scenario::steps::ACTIONS.len());
    assert_eq!(v["required"], serde_json::json!(["name", "steps"]));
}

#[test]
fn every_step_kind_has_a_docs_page_whose_example_validates() {
    let dir = root().join("docs/steps");
    for kind in scenario::steps::ACTIONS {
        let page = dir.join(format!("{kind}.md"));
        let text = std::fs::read_to_string(&page)
            .unwrap_or_else(|_| panic!("docs/steps/{kind}.md is missing"));
        let blocks: Vec<&str> = text
            .split("```yaml\n")
            .skip(1)
            .filter_map(|b| b.split("\n```").next())
            .collect();
        assert!(!blocks.is_empty(), "{kind}.md has no YAML example");
        for (i, block) in blocks.iter().enumerate() {
            assert!(
                block.contains(&format!("    {kind}:")),
                "{kind}.md example {i} does not use `{kind}`"
            );
            let tmp = tempfile::tempdir().unwrap();
            let path = tmp.path().join("example.yaml");
            std::fs::write(&path, block).unwrap();
            let out = Scenario::new().arg("validate").arg(&path).run();
            assert_eq!(
                out.status,
                Some(0),
                "docs/steps/{kind}.md example {i}:\n{}",
                out.stderr
            );
        }
    }
}
