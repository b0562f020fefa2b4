//! `run --balance REPORT`: shards chosen by an earlier run's durations,
//! longest first to the least loaded shard, instead of round robin.

use std::collections::BTreeMap;

use crate::support::Scenario;

/// Nine playbooks; an earlier report knows the durations of p1..p8 (9 s
/// down to 1 s), not p9's.
fn nine_playbooks() -> (tempfile::TempDir, BTreeMap<String, f64>) {
    let dir = tempfile::tempdir().unwrap();
    let mut known = BTreeMap::new();
    for n in 1..=9 {
        std::fs::write(
            dir.path().join(format!("p{n}.yaml")),
            format!("name: p{n}\nsteps:\n  - name: s\n    sleep: 1ms\n"),
        )
        .unwrap();
        if n < 9 {
            known.insert(format!("p{n}"), f64::from(10 - n));
        }
    }
    let playbooks: Vec<serde_json::Value> = known
        .iter()
        .map(|(name, secs)| serde_json::json!({"name": name, "path": format!("{name}.yaml"), "duration": secs}))
        .collect();
    std::fs::write(
        dir.path().join("earlier.json"),
        serde_json::json!({ "playbooks": playbooks }).to_string(),
    )
    .unwrap();
    (dir, known)
}

fn ran(stdout: &str) -> Vec<String> {
    let mut v: Vec<String> = stdout
        .lines()
        .filter_map(|l| l.split_once(": passed").map(|(n, _)| n.to_owned()))
        .collect();
    v.sort();
    v
}

#[test]
fn balance_gives_shards_whose_durations_differ_by_at_most_the_longest_playbook() {
    let (dir, known) = nine_playbooks();
    let shards: Vec<Vec<String>> = (1..=3)
        .map(|i| {
            let out = Scenario::new()
                .current_dir(dir.path())
                .args([
                    "run",
                    ".",
                    "--balance",
                    "earlier.json",
                    "--shard",
                    &format!("{i}/3"),
                ])
                .expect_status(0)
                .run();
            // The same as an Indexed Job's pod gets it.
            let pod = Scenario::new()
                .current_dir(dir.path())
                .args([
                    "run",
                    ".",
                    "--balance",
                    "earlier.json",
                    "--shard-count",
                    "3",
                ])
                .env("JOB_COMPLETION_INDEX", (i - 1).to_string())
                .expect_status(0)
                .run();
            assert_eq!(ran(&pod.stdout), ran(&out.stdout), "deterministic");
            ran(&out.stdout)
        })
        .collect();
    // Longest first to the least loaded; p9, unknown, counts as the mean (4.625 s).
    assert_eq!(
        shards,
        [["p1", "p5", "p8"], ["p2", "p7", "p9"], ["p3", "p4", "p6"]],
        "round robin would give p1, p4, p7 to the first"
    );
    let mean = known.values().sum::<f64>() / 8.0;
    let sums: Vec<f64> = shards
        .iter()
        .map(|s| {
            s.iter()
                .map(|p| known.get(p).copied().unwrap_or(mean))
                .sum()
        })
        .collect();
    let (lo, hi) = sums
        .iter()
        .fold((f64::MAX, 0.0_f64), |(l, h), s| (l.min(*s), h.max(*s)));
    assert!(hi - lo <= 9.0, "{sums:?}");
}

#[test]
fn balance_needs_a_shard_and_a_readable_report() {
    let (dir, _) = nine_playbooks();
    let marker = dir.path().join("ran");
    std::fs::write(
        dir.path().join("p0.yaml"),
        format!(
            "name: p0\nsteps:\n  - name: s\n    exec:\n      command: [touch, {}]\n",
            marker.display()
        ),
    )
    .unwrap();
    Scenario::new()
        .current_dir(dir.path())
        .args(["run", ".", "--allow-exec", "--balance", "earlier.json"])
        .expect_status(2)
        .expect_stderr("error: --balance assigns playbooks to shards: give --shard I/N (or --shard-count N with JOB_COMPLETION_INDEX)\n")
        .run();
    std::fs::write(
        dir.path().join("bad.json"),
        "{\"playbooks\": [{\"path\": \"p1.yaml\"}]}",
    )
    .unwrap();
    let out = Scenario::new()
        .current_dir(dir.path())
        .args([
            "run",
            ".",
            "--allow-exec",
            "--balance",
            "bad.json",
            "--shard",
            "1/2",
        ])
        .expect_status(2)
        .run();
    assert!(
        out.stderr.starts_with("error: --balance bad.json: not a scenario JSON report (`run --report json=FILE`): missing field `duration`"),
        "{}",
        out.stderr
    );
    Scenario::new()
        .current_dir(dir.path())
        .args([
            "run",
            ".",
            "--allow-exec",
            "--balance",
            "missing.json",
            "--shard",
            "1/2",
        ])
        .expect_status(2)
        .expect_stderr("error: --balance missing.json: No such file or directory (os error 2)\n")
        .run();
    assert!(!marker.exists(), "nothing ran");
}
