//! Bounds before allocation at the command line (issue #20): inputs that
//! used to take the machine (a huge `--from-report`), crash, or write
//! outside their directory are refused with a message and exit code 2.

use crate::support::{Run, Scenario};

const PLAYBOOK: &str = "name: t\nsteps:\n  - name: s\n    sleep: 1s\n";

/// A report over 16 MiB is refused before it is read (a sparse file: its
/// size is all it has), and so is an endless stream.
#[test]
fn from_report_over_the_limit_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.yaml"), PLAYBOOK).unwrap();
    let big = std::fs::File::create(dir.path().join("big.json")).unwrap();
    big.set_len(16 * 1024 * 1024 + 1).unwrap();
    let Run {
        status: code,
        stdout: out,
        stderr: err,
    } = Scenario::new()
        .current_dir(dir.path())
        .args(["docs", "p.yaml", "--from-report", "big.json"])
        .run();
    assert_eq!(code, Some(2), "{err}");
    assert!(out.is_empty(), "{out}");
    assert_eq!(
        err,
        "error: --from-report big.json: the report is larger than the limit of 16 MiB (see docs/limits.md)\n"
    );
    // A stream without a size (a character device) stops at the limit.
    let Run {
        status: code,
        stderr: err,
        ..
    } = Scenario::new()
        .current_dir(dir.path())
        .args(["docs", "p.yaml", "--from-report", "/dev/zero"])
        .run();
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("larger than the limit of 16 MiB"), "{err}");
    // Just under the limit is read (and judged as JSON).
    let under = std::fs::File::create(dir.path().join("under.json")).unwrap();
    under.set_len(1024).unwrap();
    let Run {
        status: code,
        stderr: err,
        ..
    } = Scenario::new()
        .current_dir(dir.path())
        .args(["docs", "p.yaml", "--from-report", "under.json"])
        .run();
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("not a JSON report"), "{err}");
}

/// `{{ playbook.dir }}` is never empty: with the playbook given as a bare
/// file name it is `.`, so `{{ playbook.dir }}/bin/x.sh` is not `/bin/x.sh`.
#[test]
fn playbook_dir_of_a_bare_file_name_is_not_empty() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("d.yaml"),
        "name: t\nsteps:\n  - name: s\n    probe:\n      url: \"http://h/{{ playbook.dir }}/bin\"\n",
    )
    .unwrap();
    for (arg, want) in [("d.yaml", "http://h/./bin"), ("./d.yaml", "http://h/./bin")] {
        let Run {
            status: code,
            stdout: out,
            stderr: err,
        } = Scenario::new()
            .current_dir(dir.path())
            .args(["plan", arg])
            .run();
        assert_eq!(code, Some(0), "{arg}: {err}");
        assert!(out.contains(want), "{arg}: expected {want:?} in:\n{out}");
        assert!(
            !out.contains("http://h//bin"),
            "{arg}: an empty dir in:\n{out}"
        );
    }
}

/// `init` with names YAML would read as something else makes chapters that
/// validate; names that are not a namespace are refused.
#[test]
fn init_names_yaml_would_misread_make_chapters_that_validate() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["true", "null", "1e3", "0x10", "no", "on"] {
        let Run {
            status: code,
            stdout: out,
            stderr: err,
        } = Scenario::new()
            .current_dir(dir.path())
            .args(["init", name])
            .run();
        assert_eq!(code, Some(0), "init {name}: {out}{err}");
        let book = format!("{name}.yaml");
        let Run {
            status: code,
            stdout: out,
            stderr: err,
        } = Scenario::new()
            .current_dir(dir.path())
            .args(["validate", &book])
            .run();
        assert_eq!(code, Some(0), "validate {book}: {out}{err}");
        let Run {
            status: code,
            stdout: out,
            stderr: err,
        } = Scenario::new()
            .current_dir(dir.path())
            .args(["plan", &book])
            .run();
        assert_eq!(code, Some(0), "plan {book}: {out}{err}");
        assert!(
            out.contains(&format!("Namespace {name}"))
                || out.contains(&format!("name: \"{name}\""))
                || out.contains(&format!("name: '{name}'")),
            "{out}"
        );
    }
    for bad in [
        "Upper",
        "-lead",
        "trail-",
        "a_b",
        "dot.ted",
        &"x".repeat(64),
        "bell\u{7}",
    ] {
        let Run {
            status: code,
            stderr: err,
            ..
        } = Scenario::new()
            .current_dir(dir.path())
            .args(["init", "--", bad])
            .run();
        assert_eq!(code, Some(2), "init {bad:?}: {err}");
        assert!(err.contains("invalid chapter name"), "{err}");
        assert!(
            !err.contains('\u{7}'),
            "control characters are escaped: {err:?}"
        );
    }
}

/// `init` never writes through a dangling symlink to a file outside `--dir`.
#[test]
fn init_refuses_a_dangling_symlink_instead_of_writing_through_it() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("planted.yaml");
    std::os::unix::fs::symlink(&target, dir.path().join("chap.yaml")).unwrap();
    let Run {
        status: code,
        stdout: out,
        stderr: err,
    } = Scenario::new()
        .current_dir(dir.path())
        .args(["init", "chap"])
        .run();
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(err.contains("already exists"), "{err}");
    assert!(!target.exists(), "wrote through the symlink");
    assert!(!dir.path().join("chap").exists(), "nothing half-written");
}
