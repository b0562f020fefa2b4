//! Statistical validation of the split check by simulation (reproducible seed).
//!
//!   cargo bench --bench split
//!
//! Writes bench/results/split.md. Weights 40/40/20, tolerance 10 points,
//! falsePass 0.01, at most 5000 answers per decision. Side by side in one
//! run: the current test (src/steps/probe/stats.rs: one Wald SPRT per "off"
//! alternative with exact Ville boundaries and the union bound, falseFail
//! 1e-5), the test of 0.1 (Bonferroni-split Wald SPRTs with Wald's
//! approximate boundaries) at its default falseFail 1e-3
//! and with only its threshold moved to 1e-5, the mixture variant that was
//! considered (falseFail 1e-5, same number of runs as the current test on
//! the true split), and Istio's fixed rule (100 calls, each class within ±10
//! points). Then `eventually` on a switching
//! distribution: the current settle-then-test rule against 0.1's restart on
//! every "off" verdict.

use std::fmt::Write as _;

#[path = "support/split_mixture.rs"]
mod mixture;
#[path = "../tests/support/prng.rs"]
mod prng;
#[path = "support/split_v01.rs"]
mod v01;

use prng::SplitMix64;
use scenario::steps::probe::converge::Converging;
use scenario::steps::probe::stats::{SplitTest, Verdict, fixed_rule_passes};

const SEED: u64 = 20_261_126;
const MAX_ANSWERS: u64 = 5000;
/// Trials of the current test on the true split: enough to see 1e-5.
const TRUE_TRIALS: u64 = 2_000_000;
const TRIALS: u64 = 50_000;
const SWITCH_TRIALS: u64 = 20_000;
/// Answers after which an `eventually` run counts as timed out.
const HORIZON: u64 = 20_000;

trait Test {
    fn observe(&mut self, c: usize) -> Verdict;
    fn lean(&self) -> Verdict;
    fn n(&self) -> u64;
}

impl Test for SplitTest {
    fn observe(&mut self, c: usize) -> Verdict {
        SplitTest::observe(self, c)
    }
    fn lean(&self) -> Verdict {
        SplitTest::lean(self)
    }
    fn n(&self) -> u64 {
        self.n
    }
}

impl Test for v01::SplitTest {
    fn observe(&mut self, c: usize) -> Verdict {
        match v01::SplitTest::observe(self, c) {
            v01::Verdict::Undecided => Verdict::Undecided,
            v01::Verdict::Within => Verdict::Within,
            v01::Verdict::Off => Verdict::Off,
        }
    }
    fn lean(&self) -> Verdict {
        match v01::SplitTest::lean(self) {
            v01::Verdict::Within => Verdict::Within,
            _ => Verdict::Off,
        }
    }
    fn n(&self) -> u64 {
        self.n
    }
}

impl Test for mixture::MixtureTest {
    fn observe(&mut self, c: usize) -> Verdict {
        mixture::MixtureTest::observe(self, c)
    }
    fn lean(&self) -> Verdict {
        mixture::MixtureTest::lean(self)
    }
    fn n(&self) -> u64 {
        self.n
    }
}

fn weights() -> Vec<(String, f64)> {
    vec![
        ("blue".into(), 40.0),
        ("green".into(), 40.0),
        ("yellow".into(), 20.0),
    ]
}

/// Passes, answers (sorted) and runs cut short at `MAX_ANSWERS` that lean
/// "off", of `trials` runs of a fresh test.
fn stationary<T: Test>(
    rng: &mut SplitMix64,
    shares: &[f64; 4],
    trials: u64,
    make: impl Fn() -> T,
) -> (u64, Vec<u64>, u64) {
    let mut passes = 0;
    let mut cut_off = 0;
    let mut ns = Vec::with_capacity(trials as usize);
    for _ in 0..trials {
        let mut t = make();
        let mut v = Verdict::Undecided;
        while v == Verdict::Undecided && t.n() < MAX_ANSWERS {
            v = t.observe(rng.pick(shares));
        }
        if v == Verdict::Undecided {
            v = t.lean();
            cut_off += u64::from(v == Verdict::Off);
        }
        if v == Verdict::Within {
            passes += 1;
        }
        ns.push(t.n());
    }
    ns.sort_unstable();
    (passes, ns, cut_off)
}

fn mean(ns: &[u64]) -> f64 {
    ns.iter().sum::<u64>() as f64 / ns.len().max(1) as f64
}

fn pct(ns: &[u64], p: f64) -> u64 {
    ns[((ns.len() - 1) as f64 * p) as usize]
}

fn rate(k: u64, n: u64) -> String {
    format!("{:.4}%", 100.0 * k as f64 / n as f64)
}

struct Phase {
    shares: [f64; 4],
    answers: u64,
}

/// `eventually` on a distribution that switches: answers after the switch
/// until "within" (None: not before the horizon), and attempts made.
fn eventually(
    rng: &mut SplitMix64,
    old: &Phase,
    new: &[f64; 4],
    mut observe: impl FnMut(usize) -> Verdict,
) -> Option<u64> {
    for _ in 0..old.answers {
        if observe(rng.pick(&old.shares)) == Verdict::Within {
            return Some(0);
        }
    }
    (1..=HORIZON).find(|_| observe(rng.pick(new)) == Verdict::Within)
}

struct Switch {
    name: &'static str,
    old: Phase,
    new: [f64; 4],
}

#[allow(clippy::too_many_lines)]
fn main() {
    let w = weights();
    let expected = [0.4, 0.4, 0.2, 0.0];
    let rows: [(&str, [f64; 4], u64); 11] = [
        ("true split 40/40/20", [0.4, 0.4, 0.2, 0.0], TRUE_TRIALS),
        ("off by 10: 50/30/20", [0.5, 0.3, 0.2, 0.0], TRIALS),
        ("off by 10: 30/50/20", [0.3, 0.5, 0.2, 0.0], TRIALS),
        ("off by 10: 40/50/10", [0.4, 0.5, 0.1, 0.0], TRIALS),
        ("off by 10: 40/30/30", [0.4, 0.3, 0.3, 0.0], TRIALS),
        ("off by 10: 45/45/10", [0.45, 0.45, 0.1, 0.0], TRIALS),
        ("off by 10: 35/35/30", [0.35, 0.35, 0.3, 0.0], TRIALS),
        (
            "off by 10 (only blue): 50/33.3/16.7",
            [0.5, 1.0 / 3.0, 1.0 / 6.0, 0.0],
            TRIALS,
        ),
        (
            "off by 10 (only blue): 30/46.7/23.3",
            [0.3, 0.7 * 2.0 / 3.0, 0.7 / 3.0, 0.0],
            TRIALS,
        ),
        ("stuck on 50/50/0", [0.5, 0.5, 0.0, 0.0], TRIALS),
        (
            "(indifference) off by 5: 45/35/20",
            [0.45, 0.35, 0.2, 0.0],
            TRIALS,
        ),
    ];
    let mut rng = SplitMix64(SEED);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Seed {SEED}; weights blue 40 / green 40 / yellow 20; tolerance 10 points; falsePass 0.01; at most {MAX_ANSWERS} answers.\n"
    );
    let _ = writeln!(
        out,
        "| true distribution | trials (current; others) | current, falseFail 1e-5: passes | answers mean | p50 | p99 | 0.1 test, 1e-3: passes | mean | 0.1 test, 1e-5: passes | mean | mixture, 1e-5: passes | mean | Istio rule: passes |"
    );
    let _ = writeln!(
        out,
        "|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for (name, shares, trials) in &rows {
        let (p_new, ns, cut_new) = stationary(&mut rng, shares, *trials, || {
            SplitTest::new(&w, 10.0, 1e-5, 0.01)
        });
        let others = (*trials).min(200_000);
        let (p_old3, ns_old3, _) = stationary(&mut rng, shares, others, || {
            v01::SplitTest::new(&w, 10.0, 1e-3, 0.01)
        });
        let (p_old5, ns_old5, _) = stationary(&mut rng, shares, others, || {
            v01::SplitTest::new(&w, 10.0, 1e-5, 0.01)
        });
        let (p_mix, ns_mix, _) = stationary(&mut rng, shares, *trials, || {
            mixture::MixtureTest::new(&expected, 0.1, 1e-5, 0.01)
        });
        let mut istio = 0;
        for _ in 0..others {
            let mut counts = [0u64; 4];
            for _ in 0..100 {
                counts[rng.pick(shares)] += 1;
            }
            if fixed_rule_passes(&counts, &expected, 10.0) {
                istio += 1;
            }
        }
        let _ = writeln!(
            out,
            "| {name} | {trials}; {others} | {} | {:.0} | {} | {} | {} | {:.0} | {} | {:.0} | {} | {:.0} | {} |",
            rate(p_new, *trials),
            mean(&ns),
            pct(&ns, 0.5),
            pct(&ns, 0.99),
            rate(p_old3, others),
            mean(&ns_old3),
            rate(p_old5, others),
            mean(&ns_old5),
            rate(p_mix, *trials),
            mean(&ns_mix),
            rate(istio, others),
        );
        if *name == "true split 40/40/20" {
            let fails = trials - p_new;
            let _ = writeln!(
                out,
                "| ↳ false failures | | current: {fails} of {trials} ({:.1e}; {} decided \"off\", {cut_new} cut short at {MAX_ANSWERS} answers leaning \"off\") | | | | | | | | mixture: {} of {trials} ({:.1e}) | | |",
                fails as f64 / *trials as f64,
                fails - cut_new,
                trials - p_mix,
                (trials - p_mix) as f64 / *trials as f64
            );
        }
    }

    let switches = [
        Switch {
            name: "fresh: 40/40/20 from the start",
            old: Phase {
                shares: [0.4, 0.4, 0.2, 0.0],
                answers: 0,
            },
            new: [0.4, 0.4, 0.2, 0.0],
        },
        Switch {
            name: "50/50/0 for 1000 answers, then 40/40/20",
            old: Phase {
                shares: [0.5, 0.5, 0.0, 0.0],
                answers: 1000,
            },
            new: [0.4, 0.4, 0.2, 0.0],
        },
        Switch {
            name: "all blue for 300 answers, then 40/40/20",
            old: Phase {
                shares: [1.0, 0.0, 0.0, 0.0],
                answers: 300,
            },
            new: [0.4, 0.4, 0.2, 0.0],
        },
        Switch {
            name: "40/40/10 + 10% strays (a color not in the weights) for 1000 answers, then 40/40/20",
            old: Phase {
                shares: [0.4, 0.4, 0.1, 0.1],
                answers: 1000,
            },
            new: [0.4, 0.4, 0.2, 0.0],
        },
        Switch {
            name: "45/45/10 (off by 10, looks settled) for 1000 answers, then 40/40/20",
            old: Phase {
                shares: [0.45, 0.45, 0.1, 0.0],
                answers: 1000,
            },
            new: [0.4, 0.4, 0.2, 0.0],
        },
        Switch {
            name: "off by 10 (only blue) throughout: 50/33.3/16.7",
            old: Phase {
                shares: [0.5, 1.0 / 3.0, 1.0 / 6.0, 0.0],
                answers: 0,
            },
            new: [0.5, 1.0 / 3.0, 1.0 / 6.0, 0.0],
        },
    ];
    let _ = writeln!(
        out,
        "\n`eventually`, {SWITCH_TRIALS} trials per row, at most {HORIZON} answers after the switch; answers counted from the switch until the verdict \"within\".\n"
    );
    let _ = writeln!(
        out,
        "| answers | current: passes | after the switch: mean | p99 | ÷ fresh | attempts: mean | max | 0.1 restart rule: passes | mean | ÷ fresh | attempts: mean | max |"
    );
    let _ = writeln!(
        out,
        "|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    let mut fresh = (0.0, 0.0);
    for s in &switches {
        let mut new_ns = Vec::new();
        let mut new_attempts = Vec::new();
        let mut old_ns = Vec::new();
        let mut old_attempts = Vec::new();
        for _ in 0..SWITCH_TRIALS {
            let mut c = Converging::new(&w, 10.0, 1e-5, 0.01, true);
            if let Some(k) = eventually(&mut rng, &s.old, &s.new, |x| c.observe(x).verdict()) {
                new_ns.push(k);
            }
            new_attempts.push(u64::from(c.attempt()));
            let mut r = v01::Restarting::new(&w, 1e-3, 0.01);
            let got = eventually(&mut rng, &s.old, &s.new, |x| match r.observe(x) {
                v01::Verdict::Within => Verdict::Within,
                _ => Verdict::Undecided,
            });
            if let Some(k) = got {
                old_ns.push(k);
            }
            old_attempts.push(u64::from(r.attempt));
        }
        new_ns.sort_unstable();
        old_ns.sort_unstable();
        let (m_new, m_old) = (mean(&new_ns), mean(&old_ns));
        if s.old.answers == 0 && s.new == [0.4, 0.4, 0.2, 0.0] {
            fresh = (m_new, m_old);
        }
        let ratio = |m: f64, f: f64| {
            if f > 0.0 {
                format!("{:.2}", m / f)
            } else {
                "-".into()
            }
        };
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {} | {} | {:.2} | {} | {} | {:.0} | {} | {:.1} | {} |",
            s.name,
            rate(new_ns.len() as u64, SWITCH_TRIALS),
            m_new,
            if new_ns.is_empty() {
                0
            } else {
                pct(&new_ns, 0.99)
            },
            ratio(m_new, fresh.0),
            mean(&new_attempts),
            new_attempts.iter().max().copied().unwrap_or(0),
            rate(old_ns.len() as u64, SWITCH_TRIALS),
            m_old,
            ratio(m_old, fresh.1),
            mean(&old_attempts),
            old_attempts.iter().max().copied().unwrap_or(0),
        );
    }
    std::fs::create_dir_all(concat!(env!("CARGO_MANIFEST_DIR"), "/bench/results")).unwrap();
    std::fs::write(
        concat!(env!("CARGO_MANIFEST_DIR"), "/bench/results/split.md"),
        &out,
    )
    .unwrap();
    println!("{out}");
}
