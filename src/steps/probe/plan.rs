//! What `scenario plan` shows of a probe: the requests, and each expectation in words.

use super::spec::Probe;

impl Probe {
    #[must_use]
    pub(super) fn plan_lines(&self, pc: &crate::model::action::PlanCx<'_>) -> Vec<String> {
        let count = self.requests_text(pc);
        let mut lines = vec![format!(
            "{} {} x{count} (concurrency {}{})",
            self.method,
            pc.render(&self.url),
            self.concurrency,
            self.rate
                .map(|r| format!(", at most {r}/s"))
                .unwrap_or_default()
        )];
        lines.push(format!(
            "  expect status in {:?}, error rate <= {}%",
            self.status,
            self.max_error_rate * 100.0
        ));
        for (p, d) in &self.latency {
            lines.push(format!(
                "  expect p{p} latency <= {}",
                humantime::format_duration(*d)
            ));
        }
        for c in &self.each {
            lines.push(format!("  expect every answer: {c}"));
        }
        for c in &self.never {
            lines.push(format!("  expect no answer: {c} (the first one fails the step)"));
        }
        if let Some(d) = &self.split {
            let w: Vec<String> = d.weights.iter().map(|(k, w)| format!("{k} {w}%")).collect();
            let w = match &d.computed {
                Some(c) => format!(
                    "with the weights `{}` computes when the step runs",
                    crate::language::template::whole_expression(&c.template).unwrap_or(&c.template)
                ),
                None => w.join(" / "),
            };
            lines.push(format!(
                "  expect {} split {w} (within ±{} points)",
                d.values.join("/"),
                d.tolerance
            ));
        }
        if let Some(w) = self.eventually_window {
            let w = match &self.requests_computed {
                Some(c) if c.window_from_requests => count,
                _ => w.to_string(),
            };
            lines.push(format!(
                "  eventually: judged on the last {w} answers, until the step timeout"
            ));
        }
        lines
    }

    /// How many requests, as the plan and the page show it: the number, or
    /// what its template renders with captures as placeholders.
    #[must_use]
    pub(super) fn requests_text(&self, pc: &crate::model::action::PlanCx<'_>) -> String {
        match &self.requests_computed {
            Some(c) => pc.render(&c.template),
            None => self.requests.to_string(),
        }
    }
}
