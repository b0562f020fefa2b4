//! `scenario schema`: the playbook's JSON Schema, generated from the raw
//! types and the step registry (one property per step kind), or with
//! `--report` the JSON report's.

use std::path::Path;

use serde_json::{Value, json};

use crate::language::raw::RawPlaybook;
use crate::steps::KINDS;

/// Where the committed schema lives, relative to the repository.
pub const SCHEMA_PATH: &str = "schemas/playbook.schema.json";

/// `scenario schema [--report] [-o FILE]`.
#[must_use]
pub fn schema(report: bool, output: Option<&Path>) -> i32 {
    let text = if report {
        crate::report::schema()
    } else {
        playbook_schema()
    };
    super::common::emit(output, &text)
}

/// The playbook JSON Schema, pretty-printed with a trailing newline.
#[must_use]
pub fn playbook_schema() -> String {
    let mut generator = schemars::SchemaGenerator::default();
    let mut value = generator.root_schema_for::<RawPlaybook>().to_value();
    let actions: Vec<(&str, Value)> = KINDS
        .iter()
        .map(|k| {
            let mut s = (k.schema)(&mut generator).to_value();
            if let Some(o) = s.as_object_mut() {
                o.insert("description".into(), Value::String(k.summary.to_owned()));
            }
            (k.name, s)
        })
        .collect();
    if let Some(obj) = value.as_object_mut() {
        let defs = obj
            .entry("$defs")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .map(std::mem::take)
            .unwrap_or_default();
        let mut defs = defs;
        for (name, schema) in generator.definitions() {
            defs.entry(name.clone()).or_insert_with(|| schema.clone());
        }
        // A step: its options plus one key per kind, exactly one of which is present.
        if let Some(step) = defs.get_mut("Step").and_then(|s| s.as_object_mut()) {
            if let Some(props) = step.get_mut("properties").and_then(|p| p.as_object_mut()) {
                for (name, schema) in &actions {
                    props.insert((*name).to_owned(), schema.clone());
                }
            }
            let one_of: Vec<Value> = actions
                .iter()
                .map(|(a, _)| json!({ "required": [a] }))
                .collect();
            step.insert("oneOf".into(), Value::Array(one_of));
        }
        obj.insert("$defs".into(), Value::Object(defs));
    }
    let mut s = serde_json::to_string_pretty(&value).unwrap_or_default();
    s.push('\n');
    s
}
