//! Statistical validation of the split check by simulation (reproducible seed).
//!
//!   cargo bench --bench split
//!
//! Writes bench/results/split.md. For each true distribution, many trials
//! feed random answers to the sequential test (40/40/20 weights, tolerance 10
//! points, falseFail 0.001, falsePass 0.01, at most 2000 answers) and, side by
//! side, to Istio's fixed rule (100 calls, each class within ±10 points).

use std::fmt::Write as _;

#[path = "../tests/support/prng.rs"]
mod prng;

use prng::SplitMix64;
use scenario::steps::probe::stats::{SplitTest, Verdict, fixed_rule_passes};

const SEED: u64 = 20_261_125;
const MAX_ANSWERS: u64 = 2000;

struct Row {
    name: &'static str,
    shares: [f64; 3],
    trials: u64,
}

fn main() {
    let weights: Vec<(String, f64)> = vec![
        ("blue".into(), 40.0),
        ("green".into(), 40.0),
        ("yellow".into(), 20.0),
    ];
    let expected = [0.4, 0.4, 0.2, 0.0];
    let rows = [
        Row {
            name: "true split 40/40/20",
            shares: [0.4, 0.4, 0.2],
            trials: 200_000,
        },
        Row {
            name: "off by 10: 50/30/20",
            shares: [0.5, 0.3, 0.2],
            trials: 50_000,
        },
        Row {
            name: "off by 10: 30/50/20",
            shares: [0.3, 0.5, 0.2],
            trials: 50_000,
        },
        Row {
            name: "off by 10: 40/50/10",
            shares: [0.4, 0.5, 0.1],
            trials: 50_000,
        },
        Row {
            name: "off by 10: 40/30/30",
            shares: [0.4, 0.3, 0.3],
            trials: 50_000,
        },
        Row {
            name: "off by 10: 45/45/10",
            shares: [0.45, 0.45, 0.1],
            trials: 50_000,
        },
        Row {
            name: "off by 10: 35/35/30",
            shares: [0.35, 0.35, 0.3],
            trials: 50_000,
        },
        Row {
            name: "stuck on 50/50/0",
            shares: [0.5, 0.5, 0.0],
            trials: 50_000,
        },
        Row {
            name: "(indifference) off by 5: 45/35/20",
            shares: [0.45, 0.35, 0.2],
            trials: 50_000,
        },
    ];
    let mut rng = SplitMix64(SEED);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Seed {SEED}; weights blue 40 / green 40 / yellow 20; tolerance 10 points; falseFail 0.001; falsePass 0.01; at most {MAX_ANSWERS} answers.\n"
    );
    let _ = writeln!(
        out,
        "| true distribution | trials | sequential: passes | answers mean | p50 | p99 | max | truncated | Istio rule (100 calls, ±10): passes |"
    );
    let _ = writeln!(out, "|:---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in &rows {
        let shares = [row.shares[0], row.shares[1], row.shares[2], 0.0];
        let mut passes = 0u64;
        let mut truncated = 0u64;
        let mut ns = Vec::with_capacity(row.trials as usize);
        let mut istio_passes = 0u64;
        for _ in 0..row.trials {
            let mut t = SplitTest::new(&weights, 10.0, 0.001, 0.01);
            let mut v = Verdict::Undecided;
            while v == Verdict::Undecided && t.n < MAX_ANSWERS {
                v = t.observe(rng.pick(&shares));
            }
            if v == Verdict::Undecided {
                truncated += 1;
                v = t.lean();
            }
            if v == Verdict::Within {
                passes += 1;
            }
            ns.push(t.n);
            let mut counts = [0u64; 4];
            for _ in 0..100 {
                counts[rng.pick(&shares)] += 1;
            }
            if fixed_rule_passes(&counts, &expected, 10.0) {
                istio_passes += 1;
            }
        }
        ns.sort_unstable();
        let mean = ns.iter().sum::<u64>() as f64 / ns.len() as f64;
        let pct = |p: f64| ns[((ns.len() - 1) as f64 * p) as usize];
        let rate = |k: u64| format!("{:.3}%", 100.0 * k as f64 / row.trials as f64);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.0} | {} | {} | {} | {} | {} |",
            row.name,
            row.trials,
            rate(passes),
            mean,
            pct(0.5),
            pct(0.99),
            ns[ns.len() - 1],
            rate(truncated),
            rate(istio_passes)
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
