//! The chapter end to end on the lab with the mesh emulator, plus the negative
//! runs: a stuck mesh, a missing translated Gateway, an invalid edit (proved
//! to open no connection to any API server). One test, run in order: the runs
//! share the lab and restart the emulator between them.

use crate::support::meshlab;
use crate::support::{self, Scenario};

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use meshlab::Mesh;

fn meshlab(args: &[&str]) -> Mesh {
    meshlab::start(&support::lab().dir, args)
}

/// A copy of the tutorial whose Traffic Management chapter's text `edit`
/// may change (see [`copy_of`]).
fn chapter_copy(edit: impl Fn(&str, String) -> String) -> (tempfile::TempDir, PathBuf) {
    copy_of("traffic-management", edit)
}

/// A copy of the whole tutorial (`playbooks/`: both chapters, their
/// manifests and `tutorial.yaml`, which the chapters name), `edit(file
/// name, text)` applied to chapter `name`'s playbook, its manifests and the
/// tutorial file (shared vars such as `versions` are there). Returns the
/// copy of chapter `name`'s playbook.
fn copy_of(name: &str, edit: impl Fn(&str, String) -> String) -> (tempfile::TempDir, PathBuf) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("playbooks");
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("cp")
        .arg("-r")
        .arg(format!("{}/.", root.display()))
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.path().join(name))
        .unwrap()
        .map(|f| f.unwrap().path())
        .filter(|f| f.is_file())
        .collect();
    files.push(dir.path().join(format!("{name}.yaml")));
    files.push(dir.path().join("tutorial.yaml"));
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let file = f.file_name().unwrap().to_string_lossy().into_owned();
        std::fs::write(&f, edit(&file, text)).unwrap();
    }
    let path = dir.path().join(format!("{name}.yaml"));
    (dir, path)
}

/// The step's row in the summary table.
fn row(out: &str, step: &str) -> String {
    out.lines()
        .find(|l| l.starts_with(&format!("{step} ")))
        .unwrap_or_default()
        .to_owned()
}

/// The chapter after Traffic Management, on the state it leaves: it passes;
/// run alone it refuses to start without the values Traffic Management
/// exports, and with them given (`--var`, `--vars-file`) its precondition
/// fails at once; an AccessPolicy that names the wrong service account, or
/// the VM's policy the wrong cluster, fails it at the step that measures
/// that policy (the emulator answers 403 as Istio does).
fn access_policies_after_traffic_management() {
    let chapters = Path::new(env!("CARGO_MANIFEST_DIR")).join("playbooks");
    let ap = chapters.join("access-policies.yaml");
    let mesh = meshlab(&[]);
    let (code, out) = run(&ap, Some(&mesh), &[]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains(
            "step `all-denied` reads `ingress_ip`, which chapter `traffic-management` exports"
        ),
        "{out}"
    );
    assert!(
        out.contains("step `blue-and-green-allowed` reads `color_split`, which chapter `traffic-management` exports"),
        "{out}"
    );
    let dir = tempfile::tempdir().unwrap();
    let split = dir.path().join("split.yaml");
    std::fs::write(&split, "color_split: {blue: 40, green: 40, yellow: 20}\n").unwrap();
    let stand_ins = [
        "--var",
        "ingress_ip=127.0.0.1",
        "--vars-file",
        split.to_str().unwrap(),
    ];
    let (code, out) = run(&ap, Some(&mesh), &stand_ins);
    assert_eq!(code, 1, "{out}");
    let pre = row(&out, "traffic-policy-in-place");
    assert!(pre.contains(" FAILED "), "{out}");
    // A precondition checks once (`now: true`): it fails in well under a second.
    let took: f64 = pre
        .split_whitespace()
        .find_map(|w| w.strip_suffix('s').and_then(|n| n.parse().ok()))
        .unwrap_or(f64::MAX);
    assert!(took < 1.0, "the precondition took {took}s: {out}");
    assert!(
        row(&out, "enable-global-access-policy").contains(" skipped "),
        "{out}"
    );
    // The tutorial: both chapters in order on the same clusters (without
    // `restore`, which would undo the first chapter before the second). The
    // second reads the ingress address and the split the first exports.
    let (code, out) = run(&chapters.join("tutorial.yaml"), Some(&mesh), &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("traffic-management: passed — 15 passed, 0 failed, 0 errored, 2 skipped"),
        "{out}"
    );
    assert!(
        out.contains("access-policies: passed — 7 passed, 0 failed, 0 errored, 2 skipped"),
        "{out}"
    );
    assert!(
        out.contains("gloo-mesh-workshop: passed — 2 of 2 chapters passed"),
        "{out}"
    );
    assert!(
        row(&out, "blue-and-green-allowed").contains(" passed "),
        "{out}"
    );
    drop(mesh);

    // The tutorial with one wrong AccessPolicy: Traffic Management passes,
    // Access Policies fails at the step that measures that policy.
    for (what, right, wrong, step) in [
        (
            "service account",
            "- name: istio-ingressgateway-service-account",
            "- name: default",
            "blue-and-green-allowed",
        ),
        (
            "cluster",
            "clusters: [\"{{ versions.canary.cluster }}\"]",
            "clusters: [cluster2]",
            "all-allowed",
        ),
    ] {
        let mesh = meshlab(&[]);
        let (dir, _) = copy_of("access-policies", |file, t| {
            if what == "cluster" && file == "vm.yaml" {
                assert!(t.contains(right), "the VM policy changed");
                t.replace(right, wrong)
            } else if what == "service account" && file == "ingress-gateway.yaml" {
                assert!(t.contains(right), "the ingress policy changed");
                t.replace(right, wrong)
            } else if file == "access-policies.yaml" {
                step_timeout(t, step, "6s")
            } else {
                t
            }
        });
        let (code, out) = run(&dir.path().join("tutorial.yaml"), Some(&mesh), &[]);
        assert_eq!(
            code, 1,
            "a policy with the wrong {what} must fail the chapter: {out}"
        );
        assert!(
            out.contains("traffic-management: passed — 15 passed"),
            "{what}: {out}"
        );
        assert!(row(&out, step).contains(" FAILED "), "{what}: {out}");
        assert!(
            out.contains("403"),
            "{what}: the denied share answers 403: {out}"
        );
        drop(mesh);
    }
}

fn run(playbook: &Path, mesh: Option<&Mesh>, extra: &[&str]) -> (i32, String) {
    run_with(playbook, mesh, extra, &support::lab().kubeconfig)
}

/// `run` through another kubeconfig.
fn run_with(
    playbook: &Path,
    mesh: Option<&Mesh>,
    extra: &[&str],
    kubeconfig: &Path,
) -> (i32, String) {
    let mut cmd = Scenario::new()
        .arg("run")
        .arg(playbook)
        .env("KUBECONFIG", kubeconfig);
    if let Some(m) = mesh {
        cmd = cmd.args(["--var", &format!("ingress_port={}", m.port)]);
    }
    let out = cmd.args(extra).run();
    (out.code(), out.both())
}

/// A kubeconfig like the lab's whose every server is a local port that
/// counts the connections made to it (and answers none): a run through it
/// that opens no connection made no request to any API server. (The audit
/// logs cannot tell: the other lab tests of this binary run at the same
/// time.)
fn counting_kubeconfig(dir: &Path) -> (PathBuf, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&count);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            seen.fetch_add(1, Ordering::SeqCst);
            drop(conn);
        }
    });
    let lab = support::lab();
    let mut kc = std::fs::read_to_string(&lab.kubeconfig).unwrap();
    for c in &lab.clusters {
        assert!(kc.contains(&c.server), "{} is in the kubeconfig", c.server);
        kc = kc.replace(&c.server, &url);
    }
    let path = dir.join("kubeconfig");
    std::fs::write(&path, kc).unwrap();
    (path, count)
}

/// Requests scenario made, per the API servers' audit logs.
fn scenario_requests() -> usize {
    support::lab()
        .clusters
        .iter()
        .map(|c| {
            std::fs::read_to_string(&c.audit_log)
                .unwrap_or_default()
                .lines()
                .filter(|l| l.contains("\"userAgent\":\"scenario/"))
                .count()
        })
        .sum()
}

/// Sets the `timeout` of one step (replacing the one it has, if any).
fn step_timeout(text: String, step: &str, timeout: &str) -> String {
    let marker = format!("  - name: {step}\n");
    let at = text
        .find(&marker)
        .unwrap_or_else(|| panic!("no step {step}"))
        + marker.len();
    let (head, tail) = text.split_at(at);
    let end = tail.find("\n  - name: ").map_or(tail.len(), |i| i + 1);
    let (block, rest) = tail.split_at(end);
    let block: String = block
        .lines()
        .filter(|l| !l.starts_with("    timeout:"))
        .map(|l| format!("{l}\n"))
        .collect();
    format!("{head}    timeout: {timeout}\n{block}{rest}")
}

#[test]
fn the_chapter_end_to_end_and_its_failure_modes() {
    support::lab();

    // 1. The chapter passes, and `restore=true` puts the clusters back.
    let mesh = meshlab(&[]);
    let before = scenario_requests();
    let playbook = Path::new(env!("CARGO_MANIFEST_DIR")).join("playbooks/traffic-management.yaml");
    let (code, out) = run(&playbook, Some(&mesh), &["--var", "restore=true"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("traffic-management: passed — 17 passed, 0 failed, 0 errored, 0 skipped"),
        "{out}"
    );
    assert!(
        out.contains("color split within ±10 points of the weights"),
        "{out}"
    );
    let split = out.split("[15/17] split-blue-green-canary").nth(1).unwrap();
    for color in ["blue      40.0%", "green     40.0%", "yellow    20.0%"] {
        assert!(split.contains(color), "{color} row missing:\n{split}");
    }
    assert!(
        scenario_requests() > before,
        "the audit logs record the run's requests"
    );
    drop(mesh);

    // 2. A mesh stuck on 50/50: the 40/40/20 check fails with a readable report, exit 1.
    let mesh = meshlab(&["--freeze-after", "3"]);
    let (_dir, stuck) = chapter_copy(|file, t| {
        if file == "traffic-management.yaml" {
            step_timeout(t, "split-blue-green-canary", "6s")
        } else {
            t
        }
    });
    let (code, out) = run(&stuck, Some(&mesh), &[]);
    assert_eq!(code, 1, "{out}");
    let row = |name: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(row("split-blue-green").contains(" passed "), "{out}");
    assert!(row("split-blue-green-canary").contains(" FAILED "), "{out}");
    assert!(out.contains("verdict: OFF: `yellow` is 10 points or more from its weight (sequential test, decided after"), "{out}");
    assert!(out.contains("expectations did not hold before the step timed out (the color split is off: yellow 0.0% observed, 20% expected)"), "{out}");
    drop(mesh);

    // 3. No translated Gateway: the wait times out with what it saw, exit 1.
    let mesh = meshlab(&["--no-gateway"]);
    let (_dir, nogw) = chapter_copy(|file, t| {
        if file == "traffic-management.yaml" {
            step_timeout(t, "verify-gateway", "3s")
        } else {
            t
        }
    });
    let (code, out) = run(&nogw, Some(&mesh), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("timed out waiting until networking.istio.io/v1alpha3 Gateway bgc-virtualgateway-* in istio-system exists"), "{out}");
    assert!(out.contains("last observed: no matching Gateway (present: cross-network-gateway, istio-ingressgateway-istio-system-cluster1-gloo-mesh, istiod-gateway)"), "{out}");
    drop(mesh);

    // 4. A policy that names the wrong cluster for green, then one with the wrong
    //    namespace for canary: the emulator routes only to workloads it runs (a
    //    real mesh answers 503 for the rest), so the chapter fails on each.
    for (what, wrong, step) in [
        (
            "cluster",
            "green: { cluster: cluster1, namespace: blue-green-canary }",
            "all-green",
        ),
        (
            "namespace",
            "canary: { cluster: cluster1, namespace: blue-green-canary }",
            "all-canary",
        ),
    ] {
        let mesh = meshlab(&[]);
        let (_dir, book) = chapter_copy(|file, t| {
            let right = if what == "cluster" {
                "green: { cluster: cluster2, namespace: blue-green-canary }"
            } else {
                "canary: { cluster: cluster1, namespace: vm-blue-green-canary }"
            };
            match file {
                // The versions are the tutorial's, shared by its chapters.
                "tutorial.yaml" => {
                    assert!(t.contains(right), "the tutorial's versions changed");
                    t.replace(right, wrong)
                }
                "traffic-management.yaml" => step_timeout(t, step, "6s"),
                _ => t,
            }
        });
        let (code, out) = run(&book, Some(&mesh), &[]);
        assert_eq!(code, 1, "a wrong {what} must fail the chapter: {out}");
        let failed = out
            .lines()
            .find(|l| l.starts_with(&format!("{step} ")))
            .unwrap_or_default()
            .to_owned();
        assert!(failed.contains(" FAILED "), "{what}: {out}");
        assert!(
            out.contains("503"),
            "{what}: the unroutable share answers 503: {out}"
        );
        drop(mesh);
    }

    // 5. An invalid edit is refused before any cluster is touched.
    let (dir, invalid) = chapter_copy(|file, t| {
        if file == "traffic-management.yaml" {
            t.replacen("    wait:\n", "    wiat:\n", 1)
        } else {
            t
        }
    });
    std::thread::sleep(Duration::from_millis(500));
    let (kubeconfig, connections) = counting_kubeconfig(dir.path());
    let (code, out) = run_with(&invalid, None, &[], &kubeconfig);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("error: unknown action `wiat`"), "{out}");
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "the invalid run made requests to an API server"
    );

    // 6. The next chapter, Access Policies, on what this one leaves.
    access_policies_after_traffic_management();
}
