//! Terminal output: a plain line-oriented printer for CI logs and pipes, and
//! a live one with spinners and colors for people.

use std::collections::HashMap;

use super::progress::{PROGRESS_TARGET, Spinners};
use crate::language::untrusted;
use crate::model::action::Progress;
use crate::model::check::CheckResult;
use crate::model::step::Step;
use crate::runner::observer::Observer;
use crate::runner::result::{Status, StepResult};

/// The heading line of a step.
#[must_use]
pub fn step_heading(index: usize, total: usize, step: &Step) -> String {
    let on = if step.options.clusters.is_empty() {
        String::new()
    } else {
        format!(" on {}", step.options.clusters.join(", "))
    };
    format!("[{index}/{total}] {} ({}{on})", step.name, step.kind.name)
}

/// The lines printed when a step ends: per-cluster outcomes, details, verdict.
#[must_use]
pub fn step_report(r: &StepResult, color: bool) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for o in &r.outcomes {
        let _ = writeln!(out, "  {}", o.headline());
        for d in &o.shown_details() {
            for line in d.lines() {
                let _ = writeln!(out, "    {line}");
            }
        }
        for c in &o.checks {
            let _ = writeln!(out, "{}", check_line(c));
        }
    }
    // Nothing from outside reaches the terminal as a control sequence, with
    // colours or without (the result tree is already clean; this holds even
    // for text added after it was).
    let mut out = untrusted::clean_text(&out);
    let attempts = if r.attempts > 1 {
        format!(" after {} attempts", r.attempts)
    } else {
        String::new()
    };
    let word = r.status.word();
    let word = if color {
        let code = match r.status {
            Status::Passed => "32",
            Status::Skipped => "33",
            Status::Failed => "1;31",
            Status::Errored => "1;35",
        };
        format!("\x1b[{code}m{word}\x1b[0m")
    } else {
        word.to_owned()
    };
    let _ = writeln!(
        out,
        "  {word} in {:.2}s{attempts}",
        r.duration.as_secs_f64()
    );
    out
}

/// A check that did not hold, pointing at where it is written (like a
/// compiler's `-->`), with what it expects and what was found.
#[must_use]
pub fn check_line(c: &CheckResult) -> String {
    format!(
        "    --> {}: {}; found {}",
        c.location,
        c.check,
        c.found_text()
    )
}

/// Line-oriented output for CI logs and pipes.
pub struct Plain {
    pub quiet: bool,
}

impl Observer for Plain {
    fn step_started(&self, _playbook: &str, index: usize, total: usize, step: &Step) {
        if !self.quiet {
            crate::outln!("{}", step_heading(index, total, step));
        }
    }

    fn step_finished(&self, _playbook: &str, r: &StepResult) {
        if !self.quiet || r.status.is_failure() {
            crate::out!("{}", step_report(r, false));
        }
    }
}

/// Terminal output: a live spinner per running step (with elapsed time and
/// its clusters), then the step's lines, in color unless disabled.
pub struct Tty {
    pub color: bool,
    /// Running steps: their spinner (a span) and heading.
    spans: std::sync::Mutex<HashMap<(String, String), (tracing::Span, String)>>,
}

impl Tty {
    #[must_use]
    pub fn new(color: bool) -> Self {
        Tty {
            color,
            spans: std::sync::Mutex::new(HashMap::new()),
        }
    }
}

impl Observer for Tty {
    fn step_started(&self, playbook: &str, index: usize, total: usize, step: &Step) {
        use tracing_indicatif::span_ext::IndicatifSpanExt as _;
        let heading = step_heading(index, total, step);
        let span = tracing::info_span!(target: PROGRESS_TARGET, "step");
        span.pb_set_message(&format!(
            "{heading}, timeout {}",
            humantime::format_duration(step.options.timeout)
        ));
        span.pb_start();
        if let Ok(mut m) = self.spans.lock() {
            m.insert((playbook.to_owned(), step.name.clone()), (span, heading));
        }
    }

    fn progress(&self) -> &dyn Progress {
        &Spinners
    }

    fn step_finished(&self, playbook: &str, r: &StepResult) {
        let heading = self
            .spans
            .lock()
            .ok()
            .and_then(|mut m| m.remove(&(playbook.to_owned(), r.name.clone())))
            .map_or_else(|| format!("{} ({})", r.name, r.kind), |(_span, h)| h);
        let text = step_report(r, self.color);
        tracing_indicatif::suspend_tracing_indicatif(|| {
            crate::out!("{heading}\n{text}");
        });
    }
}
