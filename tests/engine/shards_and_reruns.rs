//! Which playbooks a run takes: shards of a directory (`--shard I/N`, an
//! Indexed Job's `JOB_COMPLETION_INDEX` with `--shard-count`) and reruns of
//! what failed in an earlier report (`--rerun-failed`).

use crate::support::Scenario;

/// Writes playbook `name` of one step (its YAML after `- name: s`) in `dir`.
fn write_playbook(dir: &std::path::Path, name: &str, step: &str) {
    std::fs::write(
        dir.join(format!("{name}.yaml")),
        format!("name: {name}\nsteps:\n  - name: s\n    {step}\n"),
    )
    .unwrap();
}

/// Five playbooks that pass, one directory.
fn five_playbooks() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for n in ["p1", "p2", "p3", "p4", "p5"] {
        write_playbook(dir.path(), n, "sleep: 1ms");
    }
    dir
}

/// The playbooks a run passed, from its summary lines.
fn passed(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.split_once(": passed").map(|(n, _)| n.to_owned()))
        .collect()
}

#[test]
fn shards_split_a_directory_of_playbooks() {
    let dir = five_playbooks();
    let mut all = Vec::new();
    for i in 1..=2 {
        let out = Scenario::new()
            .arg("run")
            .arg(dir.path())
            .args(["--shard", &format!("{i}/2")])
            .expect_status(0)
            .run();
        all.extend(passed(&out.stdout));
    }
    all.sort();
    assert_eq!(all, ["p1", "p2", "p3", "p4", "p5"]);
}

#[test]
fn an_indexed_job_pod_takes_its_shard_from_job_completion_index() {
    let dir = five_playbooks();
    // As the Job's three pods would run, with the count from the flag or the environment.
    for count_from_env in [false, true] {
        let mut all = Vec::new();
        for index in 0..3 {
            let mut s = Scenario::new()
                .arg("run")
                .arg(dir.path())
                .env("JOB_COMPLETION_INDEX", index.to_string());
            s = if count_from_env {
                s.env("SCENARIO_SHARD_COUNT", "3")
            } else {
                s.args(["--shard-count", "3"])
            };
            let out = s.expect_status(0).run();
            assert!(
                out.stdout.starts_with(&format!("shard {}/3: ", index + 1)),
                "{}",
                out.stdout
            );
            all.extend(passed(&out.stdout));
        }
        all.sort();
        assert_eq!(all, ["p1", "p2", "p3", "p4", "p5"], "each exactly once");
    }
    // `--shard` wins over the Job's index.
    let out = Scenario::new()
        .arg("run")
        .arg(dir.path())
        .args(["--shard", "2/2"])
        .env("JOB_COMPLETION_INDEX", "0")
        .env("SCENARIO_SHARD_COUNT", "3")
        .expect_status(0)
        .run();
    assert_eq!(passed(&out.stdout), ["p2", "p4"]);
}

/// Environment, arguments, the exact stderr.
type UsageCase = (
    &'static [(&'static str, &'static str)],
    &'static [&'static str],
    &'static str,
);

#[test]
fn a_shard_that_cannot_be_known_is_a_usage_error_before_anything_runs() {
    let dir = five_playbooks();
    let marker = dir.path().join("ran");
    std::fs::write(
        dir.path().join("p0.yaml"),
        format!(
            "name: p0\nsteps:\n  - name: s\n    exec:\n      command: [touch, {}]\n",
            marker.display()
        ),
    )
    .unwrap();
    let cases: &[UsageCase] = &[
        (
            &[("JOB_COMPLETION_INDEX", "1")],
            &[],
            "error: JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but the shard count is not: pass --shard-count N or set SCENARIO_SHARD_COUNT\n",
        ),
        (
            &[("SCENARIO_SHARD_COUNT", "3")],
            &[],
            "error: --shard-count (or SCENARIO_SHARD_COUNT) needs JOB_COMPLETION_INDEX, which a Kubernetes Indexed Job sets in each pod; outside a Job, use --shard I/N\n",
        ),
        (
            &[("JOB_COMPLETION_INDEX", "3")],
            &["--shard-count", "3"],
            "error: JOB_COMPLETION_INDEX=3 is not below the shard count 3 (indexes run from 0 to 2)\n",
        ),
        (
            &[("JOB_COMPLETION_INDEX", "-1\u{1b}[31m")],
            &["--shard-count", "3"],
            "error: JOB_COMPLETION_INDEX=-1\\u{1b}[31m is not a shard index (a whole number from 0)\n",
        ),
    ];
    for (env, args, stderr) in cases {
        let mut s = Scenario::new()
            .arg("run")
            .arg(dir.path())
            .arg("--allow-exec")
            .args(args.iter().copied());
        for (k, v) in *env {
            s = s.env(k, v);
        }
        s.expect_status(2).expect_stderr(*stderr).run();
    }
    for bad in ["0", "100001", "1e3", "99999999999999999999999"] {
        let out = Scenario::new()
            .arg("run")
            .arg(dir.path())
            .args(["--shard-count", bad])
            .env("JOB_COMPLETION_INDEX", "0")
            .expect_status(2)
            .run();
        assert!(
            out.stderr
                .contains("a shard count is a whole number from 1 to 100000"),
            "{bad}: {}",
            out.stderr
        );
    }
    let out = Scenario::new()
        .arg("run")
        .arg(dir.path())
        .args(["--shard", "1/100001"])
        .expect_status(2)
        .run();
    assert!(
        out.stderr.contains("at most 100000 shards"),
        "{}",
        out.stderr
    );
    assert!(!marker.exists(), "nothing ran");
}

#[test]
fn rerun_failed_runs_exactly_the_playbooks_that_failed_or_errored() {
    let dir = five_playbooks();
    // p2 fails (a check), p4 errors (its command cannot start); the rest pass.
    write_playbook(dir.path(), "p2", "exec:\n      command: [\"false\"]");
    write_playbook(
        dir.path(),
        "p4",
        "exec:\n      command: [/nonexistent/command]",
    );
    let report = dir.path().join("first.json");
    let first = Scenario::new()
        .arg("run")
        .arg(dir.path())
        .arg("--allow-exec")
        .arg("--report")
        .arg(format!("json={}", report.display()))
        .run();
    assert_ne!(first.status, Some(0), "{}", first.stdout);
    let mut failed_first: Vec<String> = first
        .stdout
        .lines()
        .filter(|l| l.contains(": FAILED") || l.contains(": ERROR"))
        .filter_map(|l| l.split(':').next().map(str::to_owned))
        .collect();
    failed_first.sort();
    assert_eq!(failed_first, ["p2", "p4"], "{}", first.stdout);
    // The rerun runs p2 and p4 only.
    let again = Scenario::new()
        .arg("run")
        .arg(dir.path())
        .arg("--allow-exec")
        .arg("--rerun-failed")
        .arg(&report)
        .run();
    assert!(
        again
            .stdout
            .starts_with("rerun: 2 of 5 playbooks failed in "),
        "{}",
        again.stdout
    );
    let ran: Vec<&str> = again
        .stdout
        .lines()
        .filter(|l| l.starts_with('p') && l.contains(": "))
        .filter_map(|l| l.split(':').next())
        .collect();
    assert_eq!(ran, ["p2", "p4"], "{}", again.stdout);
    // Fixed, the rerun passes; with nothing failed, a rerun runs nothing and passes.
    write_playbook(dir.path(), "p2", "sleep: 1ms");
    write_playbook(dir.path(), "p4", "sleep: 1ms");
    let second = dir.path().join("second.json");
    let out = Scenario::new()
        .arg("run")
        .arg(dir.path())
        .arg("--rerun-failed")
        .arg(&report)
        .arg("--report")
        .arg(format!("json={}", second.display()))
        .expect_status(0)
        .run();
    assert_eq!(passed(&out.stdout), ["p2", "p4"]);
    let out = Scenario::new()
        .arg("run")
        .arg(dir.path())
        .arg("--rerun-failed")
        .arg(&second)
        .expect_status(0)
        .run();
    assert!(
        out.stdout.starts_with("rerun: 0 of 5 playbooks failed in "),
        "{}",
        out.stdout
    );
    assert!(passed(&out.stdout).is_empty());
}

#[test]
fn rerun_failed_refuses_a_report_it_cannot_read() {
    let dir = five_playbooks();
    let cases: [(&str, &[u8]); 3] = [
        ("not-json.json", b"<html>\x1b[31m"),
        (
            "other.json",
            b"{\"playbooks\": [{\"path\": \"p1.yaml\", \"status\": \"exploded\"}]}",
        ),
        ("binary.json", &[0xff, 0xfe, 0x00]),
    ];
    for (name, bytes) in cases {
        let report = dir.path().join(name);
        std::fs::write(&report, bytes).unwrap();
        let out = Scenario::new()
            .arg("run")
            .arg(dir.path())
            .arg("--rerun-failed")
            .arg(&report)
            .expect_status(2)
            .run();
        assert!(
            out.stderr.starts_with("error: --rerun-failed "),
            "{name}: {}",
            out.stderr
        );
        assert!(!out.stderr.contains('\u{1b}'), "{name}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "nothing ran: {}", out.stdout);
    }
    Scenario::new()
        .arg("run")
        .arg(dir.path())
        .arg("--rerun-failed")
        .arg(dir.path().join("missing.json"))
        .expect_status(2)
        .run();
    // A failed playbook of the report that is not among those given: rerunning
    // the rest and passing would hide it.
    let report = dir.path().join("elsewhere.json");
    std::fs::write(
        &report,
        "{\"playbooks\": [{\"path\": \"/somewhere/else.yaml\", \"status\": \"failed\"}]}",
    )
    .unwrap();
    let out = Scenario::new()
        .arg("run")
        .arg(dir.path())
        .arg("--rerun-failed")
        .arg(&report)
        .expect_status(2)
        .run();
    assert!(
        out.stderr.contains(
            "the report's failed playbook /somewhere/else.yaml is not among the playbooks given"
        ),
        "{}",
        out.stderr
    );
}
