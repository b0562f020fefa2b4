//! `eventually` with a split check: wait until the answers look settled,
//! then run one sequential test, and start another only after the answers
//! look settled again.
//!
//! Why: during a traffic shift the previous policy still routes for a while.
//! Restarting the test on every "off" verdict (0.1) restarted on every
//! stray answer, thousands of times, and each restart had to spend a
//! smaller share of the false-pass budget, so the test that finally
//! decided needed three times the answers of a fresh one.
//!
//! The rule: an attempt starts only after a **settled window**: the last W
//! answers (W = 5 / tolerance, 50 for 10 points) contain no category whose
//! weight is 0 or that the weights do not list, and every other category's
//! share is within the tolerance of its weight. The window only holds
//! answers that came after the previous attempt ended, so attempts are at
//! least W answers apart whatever the strays do. An attempt is one
//! [`SplitTest`] on the answers after it starts.
//!
//! Guarantees. Attempt k may pass falsely with probability at most
//! b_k = b · 6 / (π² k²) (Σ b_k = b). It starts at a stopping time and
//! uses only later answers, so if the split is off by the tolerance or
//! more from the first answer to the timeout, the step passes with
//! probability at most `falsePass` however many attempts it makes. If the
//! split is right from some answer on, the first attempt that starts after
//! it fails with probability at most `falseFail`; the step fails only if no
//! attempt passes before the timeout. The window is judged, never counted:
//! the answers that made it look settled are not part of the test (they
//! were chosen for looking right).
//!
//! An attempt that passed is dropped (`reopen`) when the answers it judged
//! have all left the probe's judged window while other checks kept the step
//! sampling: the split is then tested again on recent answers, as a new
//! attempt.
//!
//! While no attempt runs, the answers since the last one ended (or since the
//! probe began) go through a test of their own that can only explain a
//! failure: a step that times out unsettled reports its verdict ("`yellow`
//! is 10 points or more from its weight") instead of a bare "not settled".

use std::collections::VecDeque;

use super::stats::{SplitTest, Verdict};

/// The false-pass budget of attempt `k` (1-based): the terms sum to `total`.
#[must_use]
pub fn spent(total: f64, k: u32) -> f64 {
    let k = f64::from(k);
    total * 6.0 / (std::f64::consts::PI * std::f64::consts::PI * k * k)
}

/// Answers in a settled window for a tolerance in percentage points.
#[must_use]
pub fn settle_window(tolerance: f64) -> usize {
    (500.0 / tolerance).ceil().max(1.0) as usize
}

/// The split check of a probe: one test, or (`eventually`) attempts after
/// settled windows.
#[derive(Debug, Clone)]
pub struct Converging {
    weights: Vec<(String, f64)>,
    tolerance: f64,
    false_fail: f64,
    false_pass: f64,
    eventually: bool,
    /// W: the answers a settled window holds.
    window: usize,
    recent: VecDeque<usize>,
    recent_counts: Vec<u64>,
    /// The running attempt (`None` while waiting for a settled window).
    test: Option<SplitTest>,
    /// The answers since the last attempt ended (or the probe began), under a
    /// test of their own: it starts no attempt and passes nothing, but when
    /// the step times out unsettled it says how far off they were.
    settling: SplitTest,
    /// The last attempt that decided "off".
    last_off: Option<SplitTest>,
    /// Attempts started so far.
    attempt: u32,
    /// Answers seen in all.
    answers: u64,
    /// Answers seen before the current attempt began.
    began_after: u64,
}

/// What one answer did to the split check: returned by
/// [`Converging::observe`], so that callers need not infer it from the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// No attempt runs: waiting for a settled window.
    Settling,
    /// The window settled: attempt `n` began (it judges the answers from the next one).
    Began(u32),
    /// The running attempt took the answer; its verdict so far.
    Tested(Verdict),
    /// The attempt decided "off" and ended; a settled window is awaited again (`eventually`).
    EndedOff,
}

impl Event {
    /// The verdict of the attempt this answer went to (`Undecided` while settling).
    #[must_use]
    pub fn verdict(self) -> Verdict {
        match self {
            Event::Tested(v) => v,
            Event::EndedOff => Verdict::Off,
            Event::Settling | Event::Began(_) => Verdict::Undecided,
        }
    }
}

impl Converging {
    #[must_use]
    pub fn new(
        weights: &[(String, f64)],
        tolerance: f64,
        false_fail: f64,
        false_pass: f64,
        eventually: bool,
    ) -> Self {
        let settling = SplitTest::new(weights, tolerance, false_fail, false_pass);
        let mut c = Converging {
            weights: weights.to_vec(),
            tolerance,
            false_fail,
            false_pass,
            eventually,
            window: settle_window(tolerance),
            recent: VecDeque::new(),
            recent_counts: vec![0; settling.categories.len()],
            test: None,
            settling,
            last_off: None,
            attempt: 0,
            answers: 0,
            began_after: 0,
        };
        if !eventually {
            c.begin();
        }
        c
    }

    /// Index of a category by name; unknown names count as "(other)".
    #[must_use]
    pub fn index(&self, name: &str) -> usize {
        self.settling.index(name)
    }

    fn begin(&mut self) {
        self.attempt += 1;
        let b = if self.eventually {
            spent(self.false_pass, self.attempt)
        } else {
            self.false_pass
        };
        self.test = Some(self.split_test(b));
        self.began_after = self.answers;
    }

    /// Does the window look like the weights?
    fn settled(&self) -> bool {
        if self.recent.len() < self.window {
            return false;
        }
        let w = self.window as f64;
        let d = self.tolerance / 100.0;
        self.recent_counts
            .iter()
            .zip(&self.settling.expected)
            .all(|(&c, &p)| {
                if p == 0.0 {
                    c == 0
                } else {
                    (c as f64 / w - p).abs() <= d
                }
            })
    }

    /// Drops the running attempt; the next begins after a new settled window
    /// (`eventually`, when the answers the attempt judged have left the
    /// judged window). It is one more attempt for the false-pass spending.
    pub fn reopen(&mut self) {
        if !self.eventually {
            return;
        }
        self.test = None;
        self.settle_again();
    }

    /// Waiting for a settled window again: one made only of answers from now on.
    fn settle_again(&mut self) {
        self.recent.clear();
        self.recent_counts.iter_mut().for_each(|c| *c = 0);
        self.settling = self.split_test(self.false_pass);
    }

    /// A fresh test of the weights with false-pass budget `b`.
    fn split_test(&self, b: f64) -> SplitTest {
        SplitTest::new(&self.weights, self.tolerance, self.false_fail, b)
    }

    /// Adds one answer and says what it did.
    pub fn observe(&mut self, category: usize) -> Event {
        self.answers += 1;
        if let Some(t) = self.test.as_mut() {
            let v = t.observe(category);
            if v == Verdict::Off && self.eventually {
                self.last_off = self.test.take();
                self.settle_again();
                return Event::EndedOff;
            }
            return Event::Tested(v);
        }
        self.settling.observe(category);
        self.recent.push_back(category);
        self.recent_counts[category] += 1;
        if self.recent.len() > self.window
            && let Some(old) = self.recent.pop_front()
        {
            self.recent_counts[old] -= 1;
        }
        if self.settled() {
            self.begin();
            return Event::Began(self.attempt);
        }
        Event::Settling
    }

    /// Attempts begun so far.
    #[must_use]
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Answers seen before the running (or last) attempt began.
    #[must_use]
    pub fn began_after(&self) -> u64 {
        self.began_after
    }

    /// Answers seen in all.
    #[must_use]
    pub fn answers(&self) -> u64 {
        self.answers
    }

    /// Answers since the running (or last) attempt began.
    #[must_use]
    pub fn answers_in_attempt(&self) -> u64 {
        self.answers - self.began_after
    }

    /// The answers a settled window holds.
    #[must_use]
    pub fn window(&self) -> usize {
        self.window
    }

    /// The running attempt, if one runs.
    #[must_use]
    pub fn running(&self) -> Option<&SplitTest> {
        self.test.as_ref()
    }

    /// The test of the answers since the last attempt ended.
    #[must_use]
    pub fn settling(&self) -> &SplitTest {
        &self.settling
    }

    /// The verdict so far: the running attempt's (`Undecided` while settling).
    #[must_use]
    pub fn verdict(&self) -> Verdict {
        self.test.as_ref().map_or(Verdict::Undecided, |t| t.verdict)
    }

    /// The test to show: the running attempt, or, when the timeout cut it
    /// short (or no attempt is running), the last one that decided "off",
    /// or else the answers counted while settling.
    #[must_use]
    pub fn shown(&self) -> &SplitTest {
        match (&self.test, &self.last_off) {
            (Some(t), _) if t.verdict != Verdict::Undecided => t,
            (_, Some(off)) => off,
            (Some(t), None) => t,
            (None, None) => &self.settling,
        }
    }
}
