//! The split check: is a categorical distribution within a tolerance of the
//! expected weights, or off by at least the tolerance?
//!
//! Method: for every category i with expected share p_i we run two one-sided
//! Wald sequential probability ratio tests (SPRT) on the Bernoulli stream
//! "answer is in category i": H0 p = p_i against H1 p = p_i + d and against
//! H1' p = p_i - d (d = tolerance; an alternative outside (0, 1) is dropped).
//! Each SPRT adds, per answer, log(q1/q0) for a hit and log((1-q1)/(1-q0))
//! for a miss, and stops at the Wald bounds A = ln((1-b)/a), B = ln(b/(1-a)).
//! The whole test **passes** when every SPRT has accepted H0 and **fails** as
//! soon as one accepts its alternative. The false-fail budget is split over
//! the SPRTs (Bonferroni: a = falseFail / number of SPRTs), so a true split
//! fails with probability at most falseFail; a split off by d or more in some
//! category is caught by that category's SPRT with probability at least
//! 1 - falsePass. Answers outside the declared categories form an extra
//! category expected at 0% (tested against d, with p0 = 1e-6).
//!
//! Truncation: if `max` answers arrive before a decision, the verdict is the
//! side each SPRT leans to (a log-ratio above 0 leans to "off"); it is marked
//! as not decided. BENCHMARKS.md measures all error rates by simulation.

use serde::Serialize;

/// The expected share used for categories that should never appear.
const ZERO_SHARE: f64 = 1e-6;

#[derive(Debug, Clone, Serialize)]
struct Sprt {
    category: usize,
    p0: f64,
    p1: f64,
    hit: f64,
    miss: f64,
    llr: f64,
    accepted_h0: bool,
}

/// The verdict so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Not decided yet.
    Undecided,
    /// Within the tolerance of the weights.
    Within,
    /// Off by at least the tolerance in some category.
    Off,
}

/// A sequential split test.
#[derive(Debug, Clone, Serialize)]
pub struct SplitTest {
    pub categories: Vec<String>,
    /// Expected shares (0..1), one per category; the last is "other" (0).
    pub expected: Vec<f64>,
    pub counts: Vec<u64>,
    pub n: u64,
    pub tolerance: f64,
    pub false_fail: f64,
    pub false_pass: f64,
    upper: f64,
    lower: f64,
    sprts: Vec<Sprt>,
    pub verdict: Verdict,
    /// Category (index) whose SPRT decided "off".
    pub off_category: Option<usize>,
}

impl SplitTest {
    /// `weights` in percent (summing to 100), `tolerance` in percentage points.
    #[must_use]
    pub fn new(
        weights: &[(String, f64)],
        tolerance: f64,
        false_fail: f64,
        false_pass: f64,
    ) -> Self {
        let mut categories: Vec<String> = weights.iter().map(|(k, _)| k.clone()).collect();
        let mut expected: Vec<f64> = weights.iter().map(|(_, w)| w / 100.0).collect();
        categories.push("(other)".to_owned());
        expected.push(0.0);
        let d = tolerance / 100.0;
        let mut sprts = Vec::new();
        for (i, &p) in expected.iter().enumerate() {
            let p0 = p.clamp(ZERO_SHARE, 1.0 - ZERO_SHARE);
            for p1 in [p0 + d, p0 - d] {
                if p1 > 0.0 && p1 < 1.0 {
                    sprts.push(Sprt {
                        category: i,
                        p0,
                        p1,
                        hit: (p1 / p0).ln(),
                        miss: ((1.0 - p1) / (1.0 - p0)).ln(),
                        llr: 0.0,
                        accepted_h0: false,
                    });
                }
            }
        }
        let a = false_fail / sprts.len().max(1) as f64;
        let b = false_pass;
        SplitTest {
            counts: vec![0; categories.len()],
            categories,
            expected,
            n: 0,
            tolerance,
            false_fail,
            false_pass,
            upper: ((1.0 - b) / a).ln(),
            lower: (b / (1.0 - a)).ln(),
            sprts,
            verdict: Verdict::Undecided,
            off_category: None,
        }
    }

    /// Index of a category by name; unknown names count as "(other)".
    #[must_use]
    pub fn index(&self, name: &str) -> usize {
        self.categories[..self.categories.len() - 1]
            .iter()
            .position(|c| c == name)
            .unwrap_or(self.categories.len() - 1)
    }

    /// Adds one answer (by category index); returns the verdict so far.
    pub fn observe(&mut self, category: usize) -> Verdict {
        if self.verdict != Verdict::Undecided {
            return self.verdict;
        }
        self.n += 1;
        self.counts[category] += 1;
        let mut all_h0 = true;
        // The category reported "off": the largest crossing log-ratio (ties: the later category).
        let mut off: Option<(f64, usize)> = None;
        for s in &mut self.sprts {
            if s.accepted_h0 {
                continue;
            }
            s.llr += if s.category == category {
                s.hit
            } else {
                s.miss
            };
            if s.llr >= self.upper {
                if off.is_none_or(|(l, _)| s.llr >= l) {
                    off = Some((s.llr, s.category));
                }
            } else if s.llr <= self.lower {
                s.accepted_h0 = true;
            } else {
                all_h0 = false;
            }
        }
        if let Some((_, c)) = off {
            self.verdict = Verdict::Off;
            self.off_category = Some(c);
        } else if all_h0 {
            self.verdict = Verdict::Within;
        }
        self.verdict
    }

    /// The verdict when no more answers will come: decided, or the side
    /// every open SPRT leans to.
    #[must_use]
    pub fn lean(&self) -> Verdict {
        if self.verdict != Verdict::Undecided {
            return self.verdict;
        }
        if self.sprts.iter().any(|s| !s.accepted_h0 && s.llr > 0.0) {
            Verdict::Off
        } else {
            Verdict::Within
        }
    }

    /// The category an undecided test leans "off" on (largest positive log-ratio).
    #[must_use]
    pub fn leaning_category(&self) -> Option<usize> {
        self.off_category.or_else(|| {
            self.sprts
                .iter()
                .filter(|s| !s.accepted_h0 && s.llr > 0.0)
                .max_by(|a, b| a.llr.total_cmp(&b.llr))
                .map(|s| s.category)
        })
    }

    /// Observed share of a category.
    #[must_use]
    pub fn observed(&self, i: usize) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.counts[i] as f64 / self.n as f64
        }
    }
}

/// Istio's own test rule, for comparison: after `n` answers every category
/// is within `points` of its weight.
#[must_use]
pub fn fixed_rule_passes(counts: &[u64], expected: &[f64], points: f64) -> bool {
    let n: u64 = counts.iter().sum();
    if n == 0 {
        return false;
    }
    counts
        .iter()
        .zip(expected)
        .all(|(&c, &p)| ((c as f64 / n as f64) - p).abs() * 100.0 <= points)
}
