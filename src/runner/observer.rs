//! Progress as the run goes: the executor calls an [`Observer`]; the
//! terminal, plain and JSON Lines outputs implement it.

use super::result::StepResult;
use crate::model::step::Step;

/// Receives progress as the run goes (the terminal printer implements it).
pub trait Observer: Send + Sync {
    fn step_started(&self, playbook: &str, index: usize, total: usize, step: &Step);
    fn step_finished(&self, playbook: &str, result: &StepResult);
}
