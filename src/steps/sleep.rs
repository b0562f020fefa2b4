//! `sleep`: wait a fixed time. Prefer `wait` on a condition; `sleep` exists
//! for the rare system that gives no observable signal.

use std::time::Duration;

use crate::load::Cx;
use crate::yaml::Spanned;

pub fn validate(cx: &mut Cx, raw: &Spanned<crate::options::DurationText>) -> Option<Duration> {
    cx.duration(raw)
}

/// Sleeps, never past the step's deadline.
///
/// # Errors
/// Never.
pub async fn run(
    d: Duration,
    cx: &crate::run::StepCx<'_>,
) -> Result<crate::run::Done, crate::run::StepError> {
    tokio::time::sleep(d.min(cx.left())).await;
    Ok(crate::run::Done::msg(format!(
        "slept {}",
        humantime::format_duration(d)
    )))
}
