//! The split test of 0.1 (per-category Wald SPRTs, Bonferroni-split false-fail
//! budget; under `eventually`, a restart on every "off" verdict), kept here as
//! the baseline the benchmark runs side by side with the current test.

#![allow(dead_code)]

const ZERO_SHARE: f64 = 1e-6;

#[derive(Debug, Clone)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Not decided yet.
    Undecided,
    /// Within the tolerance of the weights.
    Within,
    /// Off by at least the tolerance in some category.
    Off,
}

/// A sequential split test.
#[derive(Debug, Clone)]
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

/// 0.1's `eventually`: restart on every "off" verdict, attempt k with false-pass
/// budget b·6/(π²k²).
pub struct Restarting {
    weights: Vec<(String, f64)>,
    false_fail: f64,
    false_pass: f64,
    pub test: SplitTest,
    pub attempt: u32,
}

impl Restarting {
    pub fn new(weights: &[(String, f64)], false_fail: f64, false_pass: f64) -> Self {
        Restarting {
            weights: weights.to_vec(),
            false_fail,
            false_pass,
            test: SplitTest::new(weights, 10.0, false_fail, spent(false_pass, 1)),
            attempt: 1,
        }
    }

    pub fn observe(&mut self, c: usize) -> Verdict {
        let v = self.test.observe(c);
        if v == Verdict::Off {
            self.attempt += 1;
            self.test = SplitTest::new(
                &self.weights,
                10.0,
                self.false_fail,
                spent(self.false_pass, self.attempt),
            );
        }
        v
    }
}

fn spent(total: f64, k: u32) -> f64 {
    let k = f64::from(k);
    total * 6.0 / (std::f64::consts::PI * std::f64::consts::PI * k * k)
}
