//! The probe engine (HTTP requests, extraction, assertions, split check).

use crate::run::{Done, StepCx, StepError};
use crate::steps::probe::Probe;

/// Runs a probe step.
///
/// # Errors
/// Not implemented yet.
pub async fn run(_p: &Probe, _cx: &StepCx<'_>) -> Result<Done, StepError> {
    Err(StepError::Errored(
        "probe steps are not implemented yet".into(),
    ))
}
