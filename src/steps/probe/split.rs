//! The split check of a probe: answers to categories, the sequential test
//! (with its attempts under `eventually`, see `converge`), and its table.

use std::collections::BTreeMap;
use std::time::Duration;

use super::converge::{Converging, Event};
use super::http::Record;
use super::split_spec::SplitSpec;
use super::spec::Probe;
use super::stats::{SplitTest, Verdict};
use super::tally::value_key;

/// The split state of a running probe.
pub(super) struct Split {
    /// The extracted values that make an answer's category, in order.
    value_indexes: Vec<usize>,
    pub(super) run: Converging,
    pub(super) spec: SplitSpec,
    /// Values outside the weights counted as "(other)" since the current
    /// attempt (or settling) began, by name.
    others: BTreeMap<String, u64>,
    /// The same for the last attempt that decided "off".
    last_others: BTreeMap<String, u64>,
    /// When the current attempt began (time since the probe started).
    began_at: Duration,
}

/// The category of an answer: its values joined with `/`; a value the answer
/// lacks is left out (`403` when a text answer has no `color`).
pub(super) fn category(r: &Record, indexes: &[usize]) -> String {
    // One value (the usual split): its text, with no list to build per answer.
    if let [i] = indexes {
        return value_key(r.values.get(*i).and_then(Option::as_ref));
    }
    let parts: Vec<String> = indexes
        .iter()
        .filter_map(|&i| r.values.get(i).and_then(Option::as_ref))
        .map(|v| value_key(Some(v)))
        .collect();
    if parts.is_empty() {
        value_key(None)
    } else {
        parts.join("/")
    }
}

impl Split {
    pub(super) fn new(p: &Probe) -> Option<Self> {
        let d = p.split.clone()?;
        let value_indexes = d
            .values
            .iter()
            .map(|v| p.extract.iter().position(|(n, _)| n == v))
            .collect::<Option<Vec<_>>>()?;
        let run = Converging::new(
            &d.weights,
            d.tolerance,
            d.false_fail,
            d.false_pass,
            p.eventually_window.is_some(),
        );
        Some(Split {
            value_indexes,
            run,
            spec: d,
            others: BTreeMap::new(),
            last_others: BTreeMap::new(),
            began_at: Duration::ZERO,
        })
    }

    /// Adds an answer (answers with an unaccepted status are not counted).
    pub(super) fn observe(&mut self, r: &Record, elapsed: Duration) -> Verdict {
        if !r.ok {
            return self.run.verdict();
        }
        let key = category(r, &self.value_indexes);
        let i = self.run.index(&key);
        let other = i + 1 == self.run.settling().categories.len();
        let event = self.run.observe(i);
        if other {
            // Named others are for the report: a few names, the rest in one count.
            super::tally::count_bounded(&mut self.others, key);
        }
        match event {
            // The attempt just ended: its named others go with it.
            Event::EndedOff => self.last_others = std::mem::take(&mut self.others),
            Event::Began(_) => {
                self.began_at = elapsed;
                self.others.clear();
            }
            Event::Settling | Event::Tested(_) => {}
        }
        event.verdict()
    }

    /// The test the report shows (see [`Converging::shown`]).
    pub(super) fn shown(&self) -> &SplitTest {
        self.run.shown()
    }

    /// Why the split check fails, if it does.
    pub(super) fn problem(&self) -> Option<String> {
        let t = self.shown();
        let name = self.spec.values.join("/");
        let settling = std::ptr::eq(t, self.run.settling());
        if settling && (self.run.answers() == 0 || t.lean() == Verdict::Within) {
            return (self.run.answers() > 0).then(|| {
                format!(
                    "the {name} split never settled: no {} answers in a row looked like the weights",
                    self.run.window()
                )
            });
        }
        if t.lean() == Verdict::Within {
            return None;
        }
        let detail = t
            .leaning_category()
            .map(|i| {
                format!(
                    ": {} {:.1}% observed, {}% expected",
                    t.categories[i],
                    t.observed(i) * 100.0,
                    t.expected[i] * 100.0
                )
            })
            .unwrap_or_default();
        Some(format!("the {name} split is off{detail}"))
    }

    pub(super) fn report(&self, eventually: bool) -> Vec<String> {
        let t = self.shown();
        let current = self.run.running().is_some_and(|c| std::ptr::eq(t, c));
        let settling = std::ptr::eq(t, self.run.settling());
        let mut lines = vec![format!(
            "{} split over {} answers (expected → observed):",
            self.spec.values.join("/"),
            t.n
        )];
        let width = t.categories.iter().map(String::len).max().unwrap_or(5);
        let others = if current || settling {
            &self.others
        } else {
            &self.last_others
        };
        for (i, c) in t.categories.iter().enumerate() {
            if i + 1 == t.categories.len() && t.counts[i] == 0 {
                continue;
            }
            let obs = t.observed(i);
            let bar = bar(obs, 20);
            lines.push(format!(
                "  {c:<width$}  {:>5.1}%  {bar:<20}  {:>5}  {:>5.1}%",
                t.expected[i] * 100.0,
                t.counts[i],
                obs * 100.0
            ));
        }
        if !others.is_empty() {
            // Name what "(other)" was: the values the weights do not list.
            let named: Vec<String> = others.iter().map(|(k, n)| format!("{} ×{n}", super::tally::shown(k))).collect();
            lines.push(format!("  (other) = {}", named.join(", ")));
        }
        let decided = if t.verdict == Verdict::Undecided {
            format!("not decided after {} answers; leaning", t.n)
        } else {
            format!("decided after {} answers", t.n)
        };
        let verdict = match t.lean() {
            Verdict::Within => format!("within ±{} points of the weights", t.tolerance),
            _ => format!(
                "OFF: `{}` is {} points or more from its weight",
                t.leaning_category()
                    .map_or("?", |i| t.categories[i].as_str()),
                t.tolerance
            ),
        };
        lines.push(format!(
            "verdict: {verdict} (sequential test, {decided}; false fail ≤ {}%, false pass ≤ {}%)",
            self.spec.false_fail * 100.0,
            self.spec.false_pass * 100.0,
        ));
        if settling {
            lines.push(format!(
                "not settled: no {} answers in a row looked like the weights (within ±{} points, no value outside them), so no attempt began; the verdict above is a test of the {} answers since {}",
                self.run.window(),
                t.tolerance,
                t.n,
                if self.run.attempt() == 0 {
                    "the probe began"
                } else {
                    "the last attempt ended"
                }
            ));
        } else if eventually {
            lines.push(if current && t.verdict == Verdict::Undecided {
                format!(
                    "attempt {} began after {} answers ({:.2}s); the timeout cut it short after {} answers",
                    self.run.attempt(),
                    self.run.began_after(),
                    self.began_at.as_secs_f64(),
                    t.n
                )
            } else if current {
                format!(
                    "converged: attempt {} began after {} answers ({:.2}s), once {} answers in a row looked like the weights; the decision used the {} answers after it",
                    self.run.attempt(),
                    self.run.began_after(),
                    self.began_at.as_secs_f64(),
                    self.run.window(),
                    t.n
                )
            } else {
                format!(
                    "not converged: the table shows attempt {} of {}, the last to decide before the timeout",
                    self.run.attempt() - u32::from(self.run.running().is_some()),
                    self.run.attempt()
                )
            });
        }
        lines
    }
}

fn bar(share: f64, width: usize) -> String {
    let eighths = (share.clamp(0.0, 1.0) * width as f64 * 8.0).round() as usize;
    let full = eighths / 8;
    let part = eighths % 8;
    let mut s = "█".repeat(full);
    if part > 0 {
        s.push(['▏', '▎', '▍', '▌', '▋', '▊', '▉'][part - 1]);
    }
    s
}
