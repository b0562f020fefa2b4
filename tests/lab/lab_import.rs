//! LAB TEST (starts its own lab, so that its mesh emulator does not meet
//! the one of `lab_chapter` on the shared lab): the reference chapter,
//! imported by `scenario import` with the stand-in scripts and manifests
//! under tests/import/traffic-management, validates and runs green on the
//! lab with the mesh emulator WITHOUT EDITS, its proposed 50/50 and 40/40/20
//! split checks included (the canary counted as `yellow`, what its workload
//! answers). The probe port is the chapter's `${INGRESS_PORT:-80}`, given in
//! the environment. Negative runs of the same imported playbook: a mesh that
//! stays on 50/50 where the page says 40/40/20, and a policy whose canary
//! destination names a namespace the VM does not run in, each fail the step
//! that measures it with exit 1.

use crate::support::meshlab;
use crate::support::{Run, Scenario};

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_scenario")
}

/// A lab of its own, stopped (after any emulator) on drop.
struct Lab {
    dir: tempfile::TempDir,
}

impl Lab {
    fn up() -> Lab {
        let dir = tempfile::tempdir().unwrap();
        for args in [vec!["lab", "up"], vec!["lab", "crds"]] {
            let out = Command::new(bin())
                .args(&args)
                .arg("--dir")
                .arg(dir.path().join("lab"))
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "scenario {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Lab { dir }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("lab")
    }

    fn kubeconfig(&self) -> PathBuf {
        self.path().join("kubeconfig")
    }

    /// Removes the TrafficPolicy an earlier run left (all traffic to blue again).
    fn forget_policy(&self) {
        let out = Command::new("kubectl")
            .env("KUBECONFIG", self.kubeconfig())
            .args(["--context", "mgmt", "-n", "gloo-mesh", "delete"])
            .args([
                "trafficpolicies.networking.mesh.gloo.solo.io",
                "blue-green-canary",
            ])
            .args(["--ignore-not-found", "--wait=true"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = Command::new(bin())
            .args(["lab", "down", "--dir"])
            .arg(self.path())
            .output();
    }
}

/// The chapter folder copied to a temporary directory and imported there
/// (`-o playbook.yaml`); the import must validate as written.
fn imported() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/import/traffic-management");
    let out = Command::new("cp")
        .arg("-r")
        .arg(&src)
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let dir = tmp.path().join("traffic-management");
    Scenario::new()
        .current_dir(&dir)
        .args(["import", "docs/traffic-management.md", "--root", "."])
        .args(["-o", "playbook.yaml", "-q"])
        .expect_status(0)
        .run();
    Scenario::new()
        .current_dir(&dir)
        .args(["validate", "playbook.yaml"])
        .expect_status(0)
        .run();
    (tmp, dir)
}

fn run(lab: &Lab, dir: &Path, playbook: &str, mesh: &meshlab::Mesh) -> Run {
    Scenario::new()
        .current_dir(dir)
        .args(["run", playbook])
        .env("KUBECONFIG", lab.kubeconfig())
        .env("INGRESS_PORT", mesh.port.to_string())
        .timeout(Duration::from_secs(300))
        .run()
}

/// The step's row in the summary table.
fn row(out: &str, step: &str) -> String {
    out.lines()
        .find(|l| l.starts_with(&format!("{step} ")))
        .unwrap_or_default()
        .to_owned()
}

/// A copy of the imported playbook where one step times out sooner (the
/// run under test would otherwise wait the default two minutes).
fn with_timeout(dir: &Path, step: &str, timeout: &str) -> String {
    let text = std::fs::read_to_string(dir.join("playbook.yaml")).unwrap();
    let marker = format!("  - name: {step}\n");
    assert!(text.contains(&marker), "no step {step}");
    let text = text.replacen(&marker, &format!("{marker}    timeout: {timeout}\n"), 1);
    let name = format!("{step}-{timeout}.yaml");
    std::fs::write(dir.join(&name), text).unwrap();
    name
}

#[test]
fn lab_the_imported_reference_chapter_runs_green_and_fails_on_a_wrong_policy() {
    let lab = Lab::up();
    let (_tmp, dir) = imported();
    let playbook = std::fs::read_to_string(dir.join("playbook.yaml")).unwrap();
    // What the importer proposed from the policies' weights, the canary
    // counted by what its workload answers.
    assert!(
        playbook.contains("weights: { blue: 50, green: 50 }"),
        "{playbook}"
    );
    assert!(
        playbook.contains("weights: { blue: 40, green: 40, yellow: 20 }"),
        "{playbook}"
    );
    assert!(
        playbook.contains("url: \"http://{{ istio_ingressgateway_ip }}:{{ env.INGRESS_PORT | default('80') }}/api\""),
        "{playbook}"
    );

    // 1. Green, unedited.
    let mesh = meshlab::start(&lab.path(), &[]);
    let r = run(&lab, &dir, "playbook.yaml", &mesh);
    let out = r.both();
    assert_eq!(r.code(), 0, "{out}");
    assert!(
        out.contains("traffic-management: passed — 29 passed, 0 failed, 0 errored, 0 skipped"),
        "{out}"
    );
    let split = out
        .split("12-blue-green-canary-answers (probe)")
        .nth(1)
        .unwrap_or_default();
    for color in ["blue      40.0%", "green     40.0%", "yellow    20.0%"] {
        assert!(split.contains(color), "{color} row missing:\n{out}");
    }
    assert!(
        split.contains("verdict: within ±10 points of the weights"),
        "{out}"
    );
    let half = out
        .split("11-blue-green-answers (probe)")
        .nth(1)
        .unwrap_or_default();
    assert!(half.contains("blue      50.0%"), "{out}");
    drop(mesh);

    // 2. A mesh that keeps the 50/50 split (it ignores every policy after
    //    the third) where the page says 40/40/20: that split fails, exit 1.
    lab.forget_policy();
    let mesh = meshlab::start(&lab.path(), &["--freeze-after", "3"]);
    let book = with_timeout(&dir, "12-blue-green-canary-answers", "6s");
    let r = run(&lab, &dir, &book, &mesh);
    let out = r.both();
    assert_eq!(r.code(), 1, "{out}");
    assert!(
        row(&out, "11-blue-green-answers").contains(" passed "),
        "{out}"
    );
    assert!(
        row(&out, "12-blue-green-canary-answers").contains(" FAILED "),
        "{out}"
    );
    assert!(out.contains("yellow 0.0% observed, 20% expected"), "{out}");
    drop(mesh);

    // 3. A canary policy that routes to a namespace the VM does not run in:
    //    the emulator answers 503 as Envoy does, the all-canary check fails.
    lab.forget_policy();
    let policy = dir.join("mesh-files/traffic-policy/canary.yaml");
    let text = std::fs::read_to_string(&policy).unwrap();
    assert!(text.contains("namespace: vm-blue-green-canary"));
    std::fs::write(
        &policy,
        text.replace(
            "namespace: vm-blue-green-canary",
            "namespace: blue-green-canary",
        ),
    )
    .unwrap();
    let mesh = meshlab::start(&lab.path(), &[]);
    let book = with_timeout(&dir, "9-canary-answers", "6s");
    let r = run(&lab, &dir, &book, &mesh);
    let out = r.both();
    assert_eq!(r.code(), 1, "{out}");
    assert!(row(&out, "8-green-answers").contains(" passed "), "{out}");
    assert!(row(&out, "9-canary-answers").contains(" FAILED "), "{out}");
    assert!(out.contains("503"), "{out}");
    drop(mesh);
}
