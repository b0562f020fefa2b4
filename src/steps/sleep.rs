//! `sleep`: wait a fixed time. Prefer `wait` on a condition; `sleep` exists
//! for the rare system that gives no observable signal.

use std::time::Duration;

use crate::load::Cx;
use crate::yaml::Spanned;

pub fn validate(cx: &mut Cx, raw: &Spanned<crate::options::DurationText>) -> Option<Duration> {
    cx.duration(raw)
}
