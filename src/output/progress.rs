//! Live progress on a terminal: the spinners and bars that steps and the
//! runner ask for through the step interface's `Progress`, drawn by
//! `tracing-indicatif` from spans of one tracing target. The CLI installs
//! the drawing layer for that target only when the output is live.

use tracing_indicatif::span_ext::IndicatifSpanExt as _;

use crate::model::action::{Counter, Meter, Progress};

/// Target of the tracing spans that carry the terminal's spinners and bars.
pub const PROGRESS_TARGET: &str = "scenario::progress";

/// Spinners and bars as tracing spans (drawn when the CLI's progress layer
/// is installed, nothing otherwise).
#[derive(Debug, Clone, Copy, Default)]
pub struct Spinners;

/// A span shown while it lives.
struct Shown(tracing::Span);

impl Meter for Shown {
    fn inc(&self, n: u64) {
        self.0.pb_inc(n);
    }
}

impl Progress for Spinners {
    fn spinner(&self, message: &str) -> Box<dyn Meter> {
        let span = tracing::info_span!(target: PROGRESS_TARGET, "cluster");
        span.pb_set_message(message);
        span.pb_start();
        Box::new(Shown(span))
    }

    fn counter(&self, c: &Counter<'_>) -> Box<dyn Meter> {
        let bar = tracing::info_span!(target: PROGRESS_TARGET, "probe");
        let (label, unit, note) = (c.label, c.unit, c.note);
        // `{rate}` is the measured rate.
        let template = if c.total.is_some() {
            format!("  {{bar:30}} {label}: {{pos}}/{{len}} {unit}, {{rate}}{note} {{elapsed}}")
        } else {
            format!("  {{spinner}} {label}: {{pos}} {unit}, {{rate}}{note} {{elapsed}}")
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(&template) {
            // Whole things per second: "10747/s", not "10,747.1727/s".
            let style = style.with_key(
                "rate",
                |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.0}/s", state.per_sec());
                },
            );
            bar.pb_set_style(&style);
        }
        if let Some(total) = c.total {
            bar.pb_set_length(total);
        }
        bar.pb_start();
        Box::new(Shown(bar))
    }
}
