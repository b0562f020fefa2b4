//! The split check of a probe: the running sequential test, its restarts
//! under `eventually` (with false-pass spending), and its table.

use super::http::Record;
use super::spec::{Distribution, Probe};
use super::stats::{SplitTest, Verdict};
use super::tally::value_key;

/// The false-pass budget of attempt `k` (1-based): the terms sum to `total`.
pub(super) fn spent(total: f64, k: u32) -> f64 {
    let k = f64::from(k);
    total * 6.0 / (std::f64::consts::PI * std::f64::consts::PI * k * k)
}

/// The split state: the running test and its restarts.
pub(super) struct Split {
    value_index: usize,
    pub(super) test: SplitTest,
    /// The last attempt that decided "off" (shown when the final one is undecided).
    last_off: Option<SplitTest>,
    attempt: u32,
    pub(super) spec: Distribution,
    /// Values outside the weights that the current attempt counted as "(other)", by name.
    others: std::collections::BTreeMap<String, u64>,
    /// The same for `last_off`.
    last_others: std::collections::BTreeMap<String, u64>,
}

impl Split {
    pub(super) fn new(p: &Probe) -> Option<Self> {
        let d = p.distribution.clone()?;
        let value_index = p.extract.iter().position(|(n, _)| *n == d.value)?;
        Some(Split {
            value_index,
            last_off: None,
            test: SplitTest::new(
                &d.weights,
                d.tolerance,
                d.false_fail,
                spent(d.false_pass, 1),
            ),
            attempt: 1,
            spec: d,
            others: std::collections::BTreeMap::new(),
            last_others: std::collections::BTreeMap::new(),
        })
    }

    pub(super) fn restart(&mut self) {
        self.attempt += 1;
        self.last_off = Some(self.test.clone());
        self.last_others = std::mem::take(&mut self.others);
        let fp = spent(self.spec.false_pass, self.attempt);
        self.test = SplitTest::new(
            &self.spec.weights,
            self.spec.tolerance,
            self.spec.false_fail,
            fp,
        );
    }

    pub(super) fn observe(&mut self, r: &Record) -> Verdict {
        if !r.ok {
            return self.test.verdict;
        }
        let key = value_key(r.values[self.value_index].as_ref());
        let i = self.test.index(&key);
        if i + 1 == self.test.categories.len() && self.test.verdict == Verdict::Undecided {
            *self.others.entry(key).or_default() += 1;
        }
        self.test.observe(i)
    }

    /// The attempt to show: the current one, or, when the timeout cut it
    /// short, the last one that decided.
    pub(super) fn shown(&self) -> &SplitTest {
        match (&self.last_off, self.test.verdict) {
            (Some(off), Verdict::Undecided) => off,
            _ => &self.test,
        }
    }

    pub(super) fn report(&self) -> Vec<String> {
        // An attempt cut short by the timeout says little: show the last decided one.
        let t = self.shown();
        let mut lines = vec![format!(
            "{} split over {} answers (expected → observed):",
            self.spec.value, t.n
        )];
        let width = t.categories.iter().map(String::len).max().unwrap_or(5);
        let others = if std::ptr::eq(t, &self.test) {
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
            let named: Vec<String> = others.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
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
            "verdict: {verdict} (sequential test, {decided}; false fail ≤ {}%, false pass ≤ {}%{})",
            self.spec.false_fail * 100.0,
            self.spec.false_pass * 100.0,
            match (std::ptr::eq(t, &self.test), self.attempt) {
                (true, 1) => String::new(),
                (true, k) => format!("; attempt {k}"),
                (false, k) => format!(
                    "; attempt {} of {k}, the last one cut short by the timeout",
                    k - 1
                ),
            }
        ));
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

