//! JSON Schema of the playbook language, generated from the raw Rust types.

use crate::model::RawPlaybook;
use crate::steps::ACTIONS;

/// Where the committed schema lives, relative to the repository.
pub const SCHEMA_PATH: &str = "schemas/playbook.schema.json";

/// The playbook JSON Schema, pretty-printed with a trailing newline.
#[must_use]
pub fn playbook_schema() -> String {
    let schema = schemars::schema_for!(RawPlaybook);
    let mut value = schema.to_value();
    if let Some(obj) = value.as_object_mut() {
        obj.insert(
            "$id".into(),
            serde_json::Value::String("https://scenario.dev/schemas/playbook.schema.json".into()),
        );
        // A step has exactly one action: say so to editors too.
        if let Some(step) = obj
            .get_mut("$defs")
            .and_then(|d| d.get_mut("Step"))
            .and_then(|s| s.as_object_mut())
        {
            let one_of: Vec<serde_json::Value> = ACTIONS
                .iter()
                .map(|a| serde_json::json!({ "required": [a] }))
                .collect();
            step.insert("oneOf".into(), serde_json::Value::Array(one_of));
        }
    }
    let mut s = serde_json::to_string_pretty(&value).unwrap_or_default();
    s.push('\n');
    s
}
