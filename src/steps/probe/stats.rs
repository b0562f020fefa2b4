//! The split check: is a categorical distribution within a tolerance of the
//! expected weights, or off by at least the tolerance?
//!
//! # Method: one sequential probability ratio test per "off" alternative
//!
//! Let p be the expected shares (the weights, plus an "(other)" category at
//! 0) and d the tolerance. "Off" is the composite hypothesis that some share
//! q_i is at least p_i + d or at most p_i - d. For each category and side,
//! the alternative closest to p in Kullback-Leibler divergence (the
//! I-projection of p onto that half-space, Csiszár 1975) is q_i = p_i ± d
//! with the other shares rescaled in proportion. Against it, the multinomial
//! likelihood ratio of n answers only depends on the hits of category i:
//! LR_j = (q_i/p_i)^hits · ((1-q_i)/(1-p_i))^misses. There are J such
//! alternatives (at most two per category; one for a category expected at 0,
//! whose share is taken as 1e-6 so that its ratio stays finite).
//!
//! **Fail** as soon as one open alternative's ratio reaches J/falseFail.
//! Under p each LR_j is a non-negative martingale with mean 1 (for a share of
//! 0, a supermartingale), so by Ville's inequality (Ville 1939)
//! P_p(sup_n LR_j ≥ J/a) ≤ a/J, and by the union bound the false-fail rate
//! is at most `falseFail` for any number of answers.
//!
//! **Pass** when every alternative is ruled out: LR_j ≤ falsePass (a ruled-out
//! alternative stops: it can no longer fail the test). If the true share q_i
//! is at least p_i + d (or at most p_i - d), 1/LR_j for that side is a
//! non-negative supermartingale with mean ≤ 1, so by Ville again
//! P_q(LR_j ever ≤ b) ≤ b: a split off by the tolerance or more passes with
//! probability at most `falsePass`. These are Wald's (1945) SPRT boundaries
//! without his approximations: both guarantees are exact upper bounds.
//!
//! How many answers a decision takes is set by the pass side: an alternative
//! is ruled out after about ln(1/b) / KL(p_i ‖ p_i ± d) answers, so
//! `falseFail` costs almost nothing there: 1e-5 instead of 1e-3 leaves the
//! mean for a true 40/40/20 at 385 answers. On the fail side no test can do
//! much better: by Wald's bound on the mean sample size, any test with these
//! error rates needs on average at least ((1-b) ln((1-b)/a) + b ln(b/(1-a)))
//! / KL(q ‖ p) answers under an alternative q, 556 for 50/33.3/16.7 against
//! 40/40/20 at a = 1e-5. A mixture of the J ratios (Robbins 1970) was
//! measured as well (benches/split.rs): it fails about 6 answers sooner on
//! splits 10 points off but uses up the whole false-fail budget (20 false
//! fails in 2,000,000 runs, at the bound), while this rule leaves slack.
//! BENCHMARKS.md shows the error rates and answer counts by simulation.
//!
//! Truncation: if `max` answers arrive before a decision, the verdict is the
//! side the test leans to (an open alternative with a ratio above 1 leans to
//! "off"); it is marked as not decided and carries no guarantee.

use serde::Serialize;

/// The expected share used for categories that should never appear.
const ZERO_SHARE: f64 = 1e-6;

/// One alternative: category `category` at share `p1` instead of `p0`.
#[derive(Debug, Clone, Serialize)]
struct Alternative {
    category: usize,
    p0: f64,
    p1: f64,
    hit: f64,
    miss: f64,
    /// ln LR_j.
    llr: f64,
    ruled_out: bool,
}

/// The verdict so far (a report's type: `model/step_data.rs`).
pub use crate::model::step_data::Verdict;

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
    /// ln(J/falseFail): an open alternative at or above it fails the test.
    fail_at: f64,
    /// ln(falsePass): an alternative is ruled out at or below it.
    pass_at: f64,
    alternatives: Vec<Alternative>,
    pub verdict: Verdict,
    /// Category (index) whose alternative failed the test.
    pub off_category: Option<usize>,
}

impl SplitTest {
    /// The test as a report shows it.
    #[must_use]
    pub fn report(&self) -> crate::model::step_data::SplitReport {
        use crate::model::step_data::{AlternativeReport, SplitReport};
        SplitReport {
            categories: self.categories.clone(),
            expected: self.expected.clone(),
            counts: self.counts.clone(),
            n: self.n,
            tolerance: self.tolerance,
            false_fail: self.false_fail,
            false_pass: self.false_pass,
            fail_at: self.fail_at,
            pass_at: self.pass_at,
            alternatives: self
                .alternatives
                .iter()
                .map(|a| AlternativeReport {
                    category: a.category,
                    p0: a.p0,
                    p1: a.p1,
                    hit: a.hit,
                    miss: a.miss,
                    llr: a.llr,
                    ruled_out: a.ruled_out,
                })
                .collect(),
            verdict: self.verdict,
            off_category: self.off_category,
        }
    }

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
        let mut alternatives = Vec::new();
        for (i, &p) in expected.iter().enumerate() {
            let p0 = p.clamp(ZERO_SHARE, 1.0 - ZERO_SHARE);
            for p1 in [p0 + d, p0 - d] {
                if p1 > 0.0 && p1 < 1.0 {
                    alternatives.push(Alternative {
                        category: i,
                        p0,
                        p1,
                        hit: (p1 / p0).ln(),
                        miss: ((1.0 - p1) / (1.0 - p0)).ln(),
                        llr: 0.0,
                        ruled_out: false,
                    });
                }
            }
        }
        let j = alternatives.len().max(1) as f64;
        SplitTest {
            counts: vec![0; categories.len()],
            categories,
            expected,
            n: 0,
            tolerance,
            false_fail,
            false_pass,
            fail_at: (1.0 / false_fail).ln() + j.ln(),
            pass_at: false_pass.ln(),
            alternatives,
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
        let mut all_ruled_out = true;
        // The category reported "off": the largest crossing log-ratio (ties: the later category).
        let mut off: Option<(f64, usize)> = None;
        for a in &mut self.alternatives {
            if a.ruled_out {
                continue;
            }
            a.llr += if a.category == category { a.hit } else { a.miss };
            if a.llr >= self.fail_at {
                if off.is_none_or(|(l, _)| a.llr >= l) {
                    off = Some((a.llr, a.category));
                }
            } else if a.llr <= self.pass_at {
                a.ruled_out = true;
            } else {
                all_ruled_out = false;
            }
        }
        if let Some((_, c)) = off {
            self.verdict = Verdict::Off;
            self.off_category = Some(c);
        } else if all_ruled_out {
            self.verdict = Verdict::Within;
        }
        self.verdict
    }

    /// The verdict when no more answers will come: decided, or the side
    /// the open alternatives lean to.
    #[must_use]
    pub fn lean(&self) -> Verdict {
        if self.verdict != Verdict::Undecided {
            return self.verdict;
        }
        if self.alternatives.iter().any(|a| !a.ruled_out && a.llr > 0.0) {
            Verdict::Off
        } else {
            Verdict::Within
        }
    }

    /// The category an undecided test leans "off" on (largest positive log-ratio).
    #[must_use]
    pub fn leaning_category(&self) -> Option<usize> {
        self.off_category.or_else(|| {
            self.alternatives
                .iter()
                .filter(|a| !a.ruled_out && a.llr > 0.0)
                .max_by(|a, b| a.llr.total_cmp(&b.llr))
                .map(|a| a.category)
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
