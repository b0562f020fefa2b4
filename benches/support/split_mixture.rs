//! A variant considered for the split test and kept for comparison: the same
//! alternatives as `src/steps/probe/stats.rs`, but it fails when the mixture
//! (1/J) Σ LR_j reaches 1/falseFail (Robbins 1970) instead of when one LR_j
//! reaches J/falseFail. Same pass rule.

pub struct MixtureTest {
    /// (category, hit, miss, llr, ruled out)
    alternatives: Vec<(usize, f64, f64, f64, bool)>,
    fail_at: f64,
    pass_at: f64,
    pub n: u64,
    pub verdict: scenario::steps::probe::stats::Verdict,
}

use scenario::steps::probe::stats::Verdict;

impl MixtureTest {
    /// Shares (0..1) including "(other)" last, tolerance d (0..1).
    pub fn new(expected: &[f64], d: f64, false_fail: f64, false_pass: f64) -> Self {
        let mut alternatives = Vec::new();
        for (i, &p) in expected.iter().enumerate() {
            let p0 = p.clamp(1e-6, 1.0 - 1e-6);
            for p1 in [p0 + d, p0 - d] {
                if p1 > 0.0 && p1 < 1.0 {
                    alternatives.push((
                        i,
                        (p1 / p0).ln(),
                        ((1.0 - p1) / (1.0 - p0)).ln(),
                        0.0,
                        false,
                    ));
                }
            }
        }
        let j = alternatives.len() as f64;
        MixtureTest {
            alternatives,
            fail_at: (1.0 / false_fail).ln() + j.ln(),
            pass_at: false_pass.ln(),
            n: 0,
            verdict: Verdict::Undecided,
        }
    }

    pub fn observe(&mut self, c: usize) -> Verdict {
        if self.verdict != Verdict::Undecided {
            return self.verdict;
        }
        self.n += 1;
        let mut all = true;
        for a in &mut self.alternatives {
            if a.4 {
                continue;
            }
            a.3 += if a.0 == c { a.1 } else { a.2 };
            if a.3 <= self.pass_at {
                a.4 = true;
            } else {
                all = false;
            }
        }
        let m = self
            .alternatives
            .iter()
            .map(|a| a.3)
            .fold(f64::MIN, f64::max);
        let sum: f64 = self.alternatives.iter().map(|a| (a.3 - m).exp()).sum();
        if m + sum.ln() >= self.fail_at {
            self.verdict = Verdict::Off;
        } else if all {
            self.verdict = Verdict::Within;
        }
        self.verdict
    }

    pub fn lean(&self) -> Verdict {
        if self.verdict != Verdict::Undecided {
            self.verdict
        } else if self.alternatives.iter().any(|a| !a.4 && a.3 > 0.0) {
            Verdict::Off
        } else {
            Verdict::Within
        }
    }
}
