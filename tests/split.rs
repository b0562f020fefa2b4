//! The sequential split test on simulated answers (no cluster, no network).

#[path = "support/prng.rs"]
mod prng;

use prng::SplitMix64;
use scenario::steps::probe::stats::{SplitTest, Verdict, fixed_rule_passes};

fn w(v: &[(&str, f64)]) -> Vec<(String, f64)> {
    v.iter().map(|(k, x)| ((*k).to_owned(), *x)).collect()
}

fn run(true_shares: &[f64], seed: u64) -> (Verdict, u64) {
    let mut t = SplitTest::new(
        &w(&[("blue", 40.0), ("green", 40.0), ("yellow", 20.0)]),
        10.0,
        0.001,
        0.01,
    );
    let mut rng = SplitMix64(seed);
    for _ in 0..5000 {
        let v = t.observe(rng.pick(true_shares));
        if v != Verdict::Undecided {
            return (v, t.n);
        }
    }
    (t.lean(), t.n)
}

#[test]
fn a_true_split_passes_and_a_wrong_one_fails() {
    let mut pass = 0;
    let mut fail = 0;
    for seed in 0..200 {
        if run(&[0.4, 0.4, 0.2, 0.0], seed).0 == Verdict::Within {
            pass += 1;
        }
        if run(&[0.5, 0.5, 0.0, 0.0], seed).0 == Verdict::Off {
            fail += 1;
        }
    }
    assert_eq!(pass, 200);
    assert_eq!(fail, 200);
}

#[test]
fn an_unexpected_category_fails_at_once() {
    let mut t = SplitTest::new(&w(&[("blue", 100.0)]), 10.0, 0.001, 0.01);
    for _ in 0..3 {
        assert_eq!(t.observe(0), Verdict::Undecided);
    }
    let other = t.index("red");
    assert_eq!(other, 1);
    assert_eq!(t.observe(other), Verdict::Off);
    assert_eq!(t.off_category, Some(1));
}

#[test]
fn all_one_color_is_recognised_quickly() {
    let (v, n) = run(&[1.0, 0.0, 0.0, 0.0], 7);
    assert_eq!(v, Verdict::Off);
    assert!(n < 60, "decided after {n}");
}

#[test]
fn fixed_rule() {
    assert!(fixed_rule_passes(
        &[40, 40, 20, 0],
        &[0.4, 0.4, 0.2, 0.0],
        10.0
    ));
    assert!(!fixed_rule_passes(
        &[55, 25, 20, 0],
        &[0.4, 0.4, 0.2, 0.0],
        10.0
    ));
}
