//! Where output goes and how it looks, as chosen on the command line and by
//! the environment: colours forced by FORCE_COLOR and CLICOLOR_FORCE and
//! refused by NO_COLOR, run events chosen with `--format`, `-o FILE` in every
//! command, and a closed stdout (no panic; `finally` and reports still run).

use std::process::Stdio;

use crate::support::Scenario;

#[test]
fn colours_are_forced_by_force_color_and_clicolor_force_and_refused_by_no_color() {
    let bad = "tests/invalid/unknown-action.yaml";
    let plain = Scenario::new().args(["validate", bad]).run().stderr;
    assert!(!plain.contains('\x1b'), "no colour in a pipe: {plain:?}");
    for var in ["FORCE_COLOR", "CLICOLOR_FORCE"] {
        let o = Scenario::new()
            .args(["validate", bad])
            .envs([(var, "1")])
            .run();
        let err = o.stderr;
        assert!(
            err.starts_with("\x1b[1;31merror\x1b[0m: unknown action `wiat`\n"),
            "{var}: {err:?}"
        );
        assert!(
            err.contains("\x1b[1;34m-->\x1b[0m tests/invalid/unknown-action.yaml:10:5"),
            "{err:?}"
        );
        assert!(err.contains("\x1b[1;31m^^^^\x1b[0m"), "{err:?}");
        // The text without its escapes is the plain text.
        let stripped = regex_lite_strip(&err);
        assert_eq!(stripped, plain, "{var}");
    }
    let o = Scenario::new()
        .args(["validate", bad])
        .envs([("FORCE_COLOR", "1"), ("NO_COLOR", "1")])
        .run();
    assert!(!o.stderr.contains('\x1b'), "NO_COLOR wins");
    let o = Scenario::new()
        .args(["validate", bad])
        .envs([("FORCE_COLOR", "0")])
        .run();
    assert!(!o.stderr.contains('\x1b'), "FORCE_COLOR=0 forces nothing");
}

/// Removes `ESC [ ... m` sequences.
fn regex_lite_strip(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn run_events_are_chosen_with_format_and_the_old_flag_still_works() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("p.yaml");
    std::fs::write(
        &book,
        "name: events\nsteps:\n  - name: s\n    sleep: 10ms\n",
    )
    .unwrap();
    let b = book.to_string_lossy().into_owned();
    for flag in ["--format", "--output"] {
        let o = Scenario::new().args(["run", &b, flag, "json"]).run();
        assert_eq!(o.status, Some(0), "{}", o.stderr);
        let lines: Vec<serde_json::Value> = o
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON Lines"))
            .collect();
        let events: Vec<&str> = lines.iter().filter_map(|l| l["event"].as_str()).collect();
        assert_eq!(
            events,
            ["step_started", "step_finished", "playbook_finished"],
            "{flag}"
        );
    }
}

#[test]
fn dash_o_names_the_output_file_in_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let book = "tests/playbooks/unreachable.yaml";
    for (args, expected) in [
        (
            vec!["schema"],
            Scenario::new().args(["schema"]).run().stdout,
        ),
        (
            vec!["plan", book],
            Scenario::new().args(["plan", book]).run().stdout,
        ),
        (
            vec!["docs", book],
            Scenario::new().args(["docs", book]).run().stdout,
        ),
    ] {
        let file = dir.path().join(format!("{}.out", args[0]));
        let f = file.to_string_lossy().into_owned();
        let mut with_o = args.clone();
        with_o.extend(["-o", &f]);
        let o = Scenario::new().args(&with_o).run();
        assert_eq!(o.status, Some(0), "{with_o:?}: {}", o.stderr);
        assert!(o.stdout.is_empty(), "{with_o:?} printed {}", o.stdout);
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            expected,
            "{with_o:?}"
        );
    }
}

/// Runs with stdout closed before the command writes a byte.
fn with_closed_stdout(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Scenario::new()
        .args(args)
        .command()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn scenario");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_closed_stdout_never_panics() {
    let book = "playbooks/traffic-management.yaml";
    for args in [
        vec!["validate", book],
        vec!["plan", book],
        vec!["docs", book],
        vec!["schema"],
        vec!["schema", "--report"],
        vec!["completions", "bash"],
    ] {
        let (code, err) = with_closed_stdout(&args);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn a_run_with_a_closed_stdout_still_runs_finally_and_writes_its_reports() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("p.yaml");
    std::fs::write(
        &book,
        "name: pipe\nsteps:\n  - name: first\n    sleep: 10ms\n  - name: second\n    sleep: 10ms\nfinally:\n  - name: clean-up\n    sleep: 10ms\n",
    )
    .unwrap();
    let report = dir.path().join("r.json");
    let book = book.to_string_lossy().into_owned();
    let json = format!("json={}", report.display());
    let (code, err) = with_closed_stdout(&["run", &book, "--report", &json]);
    assert_eq!(code, Some(0), "the run's own code: {err}");
    assert!(!err.contains("panicked"), "{err}");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let steps = r["playbooks"][0]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 3);
    assert!(steps.iter().all(|s| s["status"] == "passed"), "{r}");
    assert_eq!(steps[2]["name"], "clean-up");
    assert_eq!(steps[2]["finally"], true);
}
