//! The command line follows the habits of kubectl and friends: `--context`
//! alone for a one-cluster playbook, directories wherever playbooks go, one
//! meaning of `-o`, forced colours, paths printed once, the commit in
//! `--version`. Exact output; no cluster needed.

use std::path::Path;
use std::process::{Command, Output};

fn scenario(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_scenario"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("FORCE_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLUSTER1");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run scenario")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn context_without_a_cluster_name_for_a_one_cluster_playbook() {
    let o = scenario(
        &[
            "plan",
            "tests/playbooks/unreachable.yaml",
            "--context",
            "kind-east",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("clusters:\n  cluster1  context kind-east\n"),
        "{}",
        text(&o.stdout)
    );
    let o = scenario(
        &[
            "plan",
            "tests/playbooks/fanout.yaml",
            "--context",
            "kind-east",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        text(&o.stderr),
        "error: --context kind-east: the playbook has 2 clusters, so say which one\n  --> <command line>\n  = expected: --context CLUSTER=kind-east, with CLUSTER one of: cluster1, cluster2\n\n1 error found; nothing was run\n"
    );
}

#[test]
fn validate_and_plan_take_directories_like_run() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a", "b"] {
        std::fs::write(
            dir.path().join(format!("{name}.yaml")),
            format!("name: {name}\nsteps:\n  - name: s\n    sleep: 1s\n"),
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("notes.txt"), "not a playbook").unwrap();
    let d = dir.path().to_string_lossy().into_owned();
    let o = scenario(&["validate", &d], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(
        text(&o.stdout),
        format!("ok: {d}/a.yaml (1 step, 0 finally)\nok: {d}/b.yaml (1 step, 0 finally)\n")
    );
    let o = scenario(&["plan", &d], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let plan = text(&o.stdout);
    assert!(
        plan.starts_with(&format!("plan: a ({d}/a.yaml)\n")),
        "{plan}"
    );
    assert!(
        plan.contains(&format!("\n\nplan: b ({d}/b.yaml)\n")),
        "{plan}"
    );
}

#[test]
fn dash_o_names_the_output_file_in_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let book = "tests/playbooks/unreachable.yaml";
    for (args, expected) in [
        (vec!["schema"], scenario(&["schema"], &[]).stdout),
        (vec!["plan", book], scenario(&["plan", book], &[]).stdout),
        (vec!["docs", book], scenario(&["docs", book], &[]).stdout),
    ] {
        let file = dir.path().join(format!("{}.out", args[0]));
        let f = file.to_string_lossy().into_owned();
        let mut with_o = args.clone();
        with_o.extend(["-o", &f]);
        let o = scenario(&with_o, &[]);
        assert_eq!(o.status.code(), Some(0), "{with_o:?}: {}", text(&o.stderr));
        assert!(
            o.stdout.is_empty(),
            "{with_o:?} printed {}",
            text(&o.stdout)
        );
        assert_eq!(std::fs::read(&file).unwrap(), expected, "{with_o:?}");
    }
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
        let o = scenario(&["run", &b, flag, "json"], &[]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        let lines: Vec<serde_json::Value> = text(&o.stdout)
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
fn colours_are_forced_by_force_color_and_clicolor_force_and_refused_by_no_color() {
    let bad = "tests/invalid/unknown-action.yaml";
    let plain = text(&scenario(&["validate", bad], &[]).stderr);
    assert!(!plain.contains('\x1b'), "no colour in a pipe: {plain:?}");
    for var in ["FORCE_COLOR", "CLICOLOR_FORCE"] {
        let o = scenario(&["validate", bad], &[(var, "1")]);
        let err = text(&o.stderr);
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
    let o = scenario(
        &["validate", bad],
        &[("FORCE_COLOR", "1"), ("NO_COLOR", "1")],
    );
    assert!(!text(&o.stderr).contains('\x1b'), "NO_COLOR wins");
    let o = scenario(&["validate", bad], &[("FORCE_COLOR", "0")]);
    assert!(
        !text(&o.stderr).contains('\x1b'),
        "FORCE_COLOR=0 forces nothing"
    );
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
fn a_missing_kubeconfig_is_named_once_without_quotes() {
    let o = scenario(
        &[
            "run",
            "tests/playbooks/fanout.yaml",
            "--kubeconfig",
            "/nope/kubeconfig",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        text(&o.stderr),
        "error: pre-flight: cannot read kubeconfig /nope/kubeconfig: No such file or directory (os error 2)\n\n1 problem found before the run; nothing was written to any cluster\n"
    );
}

#[test]
fn version_names_the_commit() {
    let o = scenario(&["--version"], &[]);
    let v = text(&o.stdout);
    let commit = v
        .strip_prefix(concat!("scenario ", env!("CARGO_PKG_VERSION"), " ("))
        .and_then(|r| r.strip_suffix(")\n"))
        .unwrap_or_else(|| panic!("{v:?}"));
    assert!(
        commit == "unknown commit"
            || (commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{v:?}"
    );
    if Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.git")).exists() {
        assert_ne!(
            commit, "unknown commit",
            "built from a clone: the commit is known"
        );
    }
}

#[test]
fn init_outside_a_clone_writes_a_schema_the_editor_can_read() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_string_lossy().into_owned();
    let o = scenario(&["init", "ch1", "--dir", &d], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let book = std::fs::read_to_string(dir.path().join("ch1.yaml")).unwrap();
    assert!(
        book.starts_with("# yaml-language-server: $schema=playbook.schema.json\n"),
        "{book}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("playbook.schema.json")).unwrap(),
        scenario(&["schema"], &[]).stdout
    );
    assert!(text(&o.stdout).contains(&format!("created {d}/playbook.schema.json\n")));
}
