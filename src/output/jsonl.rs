//! `--output json`: JSON Lines events for tools.

use crate::model::step::Step;
use crate::runner::observer::Observer;
use crate::runner::result::{PlaybookResult, StepResult};

/// `--output json`: one JSON object per line and event, for tools.
pub struct JsonLines;

impl JsonLines {
    fn emit(v: &serde_json::Value) {
        crate::outln!("{v}");
    }
}

impl Observer for JsonLines {
    fn step_started(&self, playbook: &str, index: usize, total: usize, step: &Step) {
        Self::emit(&serde_json::json!({
            "event": "step_started", "playbook": playbook, "step": step.name, "kind": step.kind.name,
            "index": index, "total": total, "clusters": step.options.clusters,
        }));
    }

    fn step_finished(&self, playbook: &str, result: &StepResult) {
        Self::emit(
            &serde_json::json!({ "event": "step_finished", "playbook": playbook, "result": result }),
        );
    }

    /// The event closing a playbook.
    fn playbook_finished(&self, r: &PlaybookResult) {
        Self::emit(&serde_json::json!({
            "event": "playbook_finished", "playbook": r.name, "path": r.path,
            "status": r.status, "exitCode": r.exit_code(), "durationSeconds": r.duration.as_secs_f64(),
        }));
    }
}
