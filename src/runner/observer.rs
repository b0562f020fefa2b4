//! Progress as the run goes: the executor calls an [`Observer`]; the
//! terminal, plain and JSON Lines outputs implement it; the scheduler tells
//! it when a playbook ends.

use super::result::{PlaybookResult, StepResult};
use crate::model::action::{NoProgress, Progress};
use crate::model::step::Step;

/// Receives progress as the run goes (the terminal printer implements it).
pub trait Observer: Send + Sync {
    fn step_started(&self, playbook: &str, index: usize, total: usize, step: &Step);
    fn step_finished(&self, playbook: &str, result: &StepResult);
    /// Where steps and the runner show their progress. None by default.
    fn progress(&self) -> &dyn Progress {
        &NoProgress
    }
    /// A playbook ended (or the pre-flight stopped it). Nothing by default.
    fn playbook_finished(&self, _result: &PlaybookResult) {}
}
