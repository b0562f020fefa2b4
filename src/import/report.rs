//! The import report: for every command of the page and its scripts, and
//! every output block, what it became and why; the share of shell commands
//! that became typed steps; the proposed checks to review.

use serde::Serialize;

/// What one source line became.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// `file:line:col` of the command (or block).
    pub at: String,
    /// The command as written (one line, cut).
    pub source: String,
    /// `apply step`, `exec step`, `understood`, `proposed check`, `note`.
    pub became: String,
    /// The step it became or belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    pub why: String,
}

/// The counts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Shell commands that became a step (typed or exec).
    pub commands: usize,
    pub typed: usize,
    pub exec: usize,
    /// Shell commands understood without a step (assignments, guards, cd, echo, script calls).
    pub understood: usize,
    /// Percent of `commands` that became typed steps.
    pub typed_percent: f64,
    pub proposed_checks: usize,
    pub steps: usize,
}

/// The report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub entries: Vec<Entry>,
    pub summary: Summary,
}

fn one_line(s: &str) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    crate::language::untrusted::cut(&crate::language::untrusted::clean_line(&flat), 160)
}

impl Report {
    fn add(&mut self, at: &str, source: &str, became: &str, step: Option<&str>, why: &str) {
        self.entries.push(Entry {
            at: at.to_owned(),
            source: one_line(source),
            became: became.to_owned(),
            step: step.map(str::to_owned),
            why: one_line(why),
        });
    }

    pub fn understood(&mut self, at: &str, source: &str, why: &str) {
        self.add(at, source, "understood", None, why);
    }

    pub fn exec(&mut self, at: &str, source: &str, why: &str) {
        self.add(at, source, "exec step", None, why);
    }

    /// Names the step of the last exec entry.
    pub fn name_last(&mut self, name: &str) {
        if let Some(e) = self
            .entries
            .iter_mut()
            .rev()
            .find(|e| e.became == "exec step")
        {
            e.step = Some(name.to_owned());
        }
    }

    pub fn step(&mut self, at: &str, source: &str, name: &str, action: &str, why: &str) {
        self.add(at, source, &format!("{action} step"), Some(name), why);
    }

    pub fn proposed(&mut self, at: &str, why: &str, step: &str) {
        self.add(at, "", "proposed check", Some(step), why);
    }

    pub fn note(&mut self, at: &str, source: &str, why: &str) {
        self.add(at, source, "note", None, why);
    }

    /// Counts the entries.
    pub fn finish(&mut self, steps: usize) {
        let count = |f: &dyn Fn(&Entry) -> bool| self.entries.iter().filter(|e| f(e)).count();
        let typed = count(&|e| {
            e.became.ends_with(" step") && e.became != "exec step" && !e.source.is_empty()
        });
        let exec = count(&|e| e.became == "exec step");
        let s = Summary {
            commands: typed + exec,
            typed,
            exec,
            understood: count(&|e| e.became == "understood"),
            typed_percent: if typed + exec == 0 {
                0.0
            } else {
                (typed as f64 * 1000.0 / (typed + exec) as f64).round() / 10.0
            },
            proposed_checks: count(&|e| e.became == "proposed check"),
            steps,
        };
        self.summary = s;
    }

    /// The report for a terminal: one line per entry, then the counts.
    #[must_use]
    pub fn text(&self) -> String {
        let mut out = String::new();
        for e in &self.entries {
            let step = e
                .step
                .as_deref()
                .map(|s| format!(" `{s}`"))
                .unwrap_or_default();
            let src = if e.source.is_empty() {
                String::new()
            } else {
                format!("{}: ", e.source)
            };
            out.push_str(&format!("{}: {src}{}{step}: {}\n", e.at, e.became, e.why));
        }
        let s = &self.summary;
        out.push_str(&format!(
            "import: {} steps; {} shell commands became steps, {} typed ({}%), {} exec; {} understood without a step; {} proposed checks to review (marked `# proposed by scenario import`)\n",
            s.steps, s.commands, s.typed, s.typed_percent, s.exec, s.understood, s.proposed_checks
        ));
        out
    }
}
