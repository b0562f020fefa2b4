//! The result of a check as the reports keep it: the check as written,
//! what was found, where it is written; and what was found as a message
//! says it.

use schemars::JsonSchema;
use serde::Serialize;

/// Where a check is written: file, line and column in the playbook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, JsonSchema)]
pub struct Location {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// The result of a check: what it asked, what was found, and where it is
/// written, so that a failure can point at its line like a compiler does.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, JsonSchema)]
pub struct CheckResult {
    /// The check as written (`$.data.mode == "fast"`).
    pub check: String,
    pub passed: bool,
    /// What was found (`None`: nothing at the path), or a summary over answers.
    pub actual: Option<serde_json::Value>,
    pub expected: String,
    pub location: Location,
}

impl CheckResult {
    /// What was found, as a message says it: `nothing`, the value (quoted,
    /// one line), or for a probe check, whose `actual` is a summary over
    /// answers, a sentence (`0 of 5 answers passed; observed blue ×5`, `no
    /// answer to check it on`).
    #[must_use]
    pub fn found_text(&self) -> String {
        let quoted = |v: &serde_json::Value| crate::language::untrusted::quoted(&v.to_string());
        let Some(v) = &self.actual else {
            return "nothing".to_owned();
        };
        let (Some(passed), Some(answers)) = (
            v.get("passed").and_then(serde_json::Value::as_u64),
            v.get("answers").and_then(serde_json::Value::as_u64),
        ) else {
            return quoted(v);
        };
        if answers == 0 {
            return "no answer to check it on".to_owned();
        }
        let mut text = format!("{passed} of {answers} answers passed");
        if let Some(seen) = v.get("observed").and_then(serde_json::Value::as_object) {
            let seen: Vec<String> = seen
                .iter()
                .map(|(k, n)| format!("{} ×{n}", crate::language::untrusted::quoted(k)))
                .collect();
            text.push_str(&format!("; observed {}", seen.join(", ")));
        }
        if let Some(why) = v.get("cannotCompare").and_then(serde_json::Value::as_str) {
            text.push_str(&format!(" ({})", crate::language::untrusted::quoted(why)));
        }
        text
    }
}
