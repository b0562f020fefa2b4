//! `scenario import`: a split check counts each version by the value its
//! workload answers with (read from the workload manifests: env, ConfigMaps,
//! Istio DestinationRule subsets), proposes the version's own name with a
//! VERIFY marker when no manifest says; the root's manifests are read within
//! bounds (no symlink followed, big files and YAML bombs skipped). And an
//! apostrophe in `"${X:?message}"` (bash refuses it, POSIX sh reads it as
//! text) imports, while one in a value (`"${X:-it's}"`) is a located error.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{Run, Scenario};

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

fn import(dir: &Path, page: &str) -> Run {
    Scenario::new()
        .current_dir(dir)
        .args(["import", page, "--root", ".", "-o", "playbook.yaml"])
        .args(["--report", "report.json"])
        .expect_status(0)
        .timeout(Duration::from_secs(30))
        .run()
}

fn validate(dir: &Path) {
    Scenario::new()
        .current_dir(dir)
        .args(["validate", "playbook.yaml"])
        .expect_status(0)
        .run();
}

/// The reference chapter's folder, copied.
fn reference() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/import/traffic-management");
    let out = std::process::Command::new("cp")
        .arg("-r")
        .arg(src)
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let dir = tmp.path().join("traffic-management");
    (tmp, dir)
}

fn split_of(dir: &Path, step: &str) -> Value {
    let v: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(dir.join("playbook.yaml")).unwrap())
            .unwrap();
    v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == step)
        .unwrap_or_else(|| panic!("no step {step}"))["probe"]["expect"]
        .clone()
}

fn notes(dir: &Path) -> Vec<String> {
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    r["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["became"] == "note")
        .map(|e| {
            format!(
                "{}: {}: {}",
                e["at"].as_str().unwrap_or(""),
                e["source"].as_str().unwrap_or(""),
                e["why"].as_str().unwrap_or("")
            )
        })
        .collect()
}

#[test]
fn the_canary_is_counted_by_the_color_its_deployment_answers_and_the_report_says_where() {
    let (_tmp, dir) = reference();
    import(&dir, "docs/traffic-management.md");
    validate(&dir);
    assert_eq!(
        split_of(&dir, "12-blue-green-canary-answers")["distribution"]["weights"],
        serde_json::json!({"blue": 40, "green": 40, "yellow": 20})
    );
    let notes = notes(&dir);
    assert!(
        notes.contains(&"TrafficPolicy blue-green-canary (mesh-files/traffic-policy/canary.yaml): version canary: answers `color: yellow`: BLUE_GREEN_CANARY_COLOR of Deployment canary (demo-app/config/canary/deployment.yaml)".to_owned()),
        "{notes:#?}"
    );
    // The variable is learned from the page's answer (`color: blue` is the
    // blue Deployment's BLUE_GREEN_CANARY_COLOR), not BLUE_GREEN_CANARY_TEXT_COLOR.
    let text = std::fs::read_to_string(dir.join("playbook.yaml")).unwrap();
    assert!(!text.contains("VERIFY"), "{text}");
}

#[test]
fn without_workload_manifests_the_version_name_is_proposed_with_a_verify_marker() {
    let (_tmp, dir) = reference();
    for v in ["blue", "green", "canary"] {
        std::fs::remove_dir_all(dir.join("demo-app/config").join(v)).unwrap();
    }
    import(&dir, "docs/traffic-management.md");
    validate(&dir);
    assert_eq!(
        split_of(&dir, "12-blue-green-canary-answers")["distribution"]["weights"],
        serde_json::json!({"blue": 40, "green": 40, "canary": 20})
    );
    let text = std::fs::read_to_string(dir.join("playbook.yaml")).unwrap();
    assert!(
        text.contains("; VERIFY: green, canary never seen as `color` in an answer on the page and no workload manifest says what they would answer: check the value and change the key\n"),
        "{text}"
    );
    // A workload whose two manifests disagree is not guessed either.
    let (_tmp2, dir) = reference();
    let canary = dir.join("demo-app/config/canary/deployment.yaml");
    let text = std::fs::read_to_string(&canary).unwrap();
    write(
        &dir,
        &[(
            "demo-app/config/canary/other.yaml",
            &text.replace("value: yellow", "value: orange"),
        )],
    );
    import(&dir, "docs/traffic-management.md");
    assert_eq!(
        split_of(&dir, "12-blue-green-canary-answers")["distribution"]["weights"],
        serde_json::json!({"blue": 40, "green": 40, "canary": 20})
    );
    let notes = notes(&dir);
    assert!(
        notes.iter().any(|n| n.ends_with("version canary: what it answers as `color` is not known: its workloads set BLUE_GREEN_CANARY_COLOR to different values (yellow, orange)")),
        "{notes:#?}"
    );
}

const ISTIO_PAGE: &str = r#"# Reviews

```bash
kubectl apply -f manifests/
curl -s http://reviews.example/api
```

```json
{"release": "r1", "pod": "reviews-v1-abc"}
```

Shift a fifth of the traffic:

```bash
kubectl apply -f route/vs.yaml
for i in $(seq 1 100); do curl -s http://reviews.example/api; done
```
"#;

const ISTIO_FILES: &[(&str, &str)] = &[
    (
        "route/vs.yaml",
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews}\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews.default.svc.cluster.local, subset: stable}\n      weight: 80\n    - destination: {host: reviews, subset: next}\n      weight: 20\n",
    ),
    (
        "manifests/dr.yaml",
        "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: reviews}\nspec:\n  host: reviews\n  subsets:\n  - name: stable\n    labels: {track: r1}\n  - name: next\n    labels: {track: r2}\n",
    ),
    (
        "manifests/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: reviews-v1}\nspec:\n  selector: {matchLabels: {app: reviews, track: r1}}\n  template:\n    metadata: {labels: {app: reviews, track: r1}}\n    spec:\n      containers:\n      - name: app\n        image: reviews\n        env:\n        - name: RELEASE\n          valueFrom: {configMapKeyRef: {name: reviews-r1, key: release}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: reviews-r1}\ndata: {release: r1}\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: reviews-v2}\nspec:\n  selector: {matchLabels: {app: reviews, track: r2}}\n  template:\n    metadata: {labels: {app: reviews, track: r2}}\n    spec:\n      containers:\n      - name: app\n        image: reviews\n        envFrom:\n        - configMapRef: {name: reviews-r2}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: reviews-r2}\ndata: {RELEASE: r2-beta}\n",
    ),
];

#[test]
fn istio_subsets_and_config_maps_give_the_values_the_answers_carry() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), ISTIO_FILES);
    write(tmp.path(), &[("page.md", ISTIO_PAGE)]);
    // The page shows `release: r1`; the split is keyed by subset names
    // (`stable`, `next`), whose DestinationRule labels select the workloads.
    import(tmp.path(), "page.md");
    validate(tmp.path());
    let v: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(tmp.path().join("playbook.yaml")).unwrap())
            .unwrap();
    let probe = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["probe"]["expect"]["distribution"].is_object())
        .map(|s| s["probe"].clone())
        .unwrap_or_else(|| panic!("no split: {v}"));
    assert_eq!(probe["expect"]["distribution"]["value"], "release");
    assert_eq!(
        probe["expect"]["distribution"]["weights"],
        serde_json::json!({"r1": 80, "r2-beta": 20})
    );
}

#[test]
fn the_roots_manifests_are_read_within_bounds() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), ISTIO_FILES);
    write(tmp.path(), &[("page.md", ISTIO_PAGE)]);
    // Many files, a big one, a YAML bomb, a symlink out of the root: the
    // import stays quick and reads none of them.
    for i in 0..3000 {
        write(
            tmp.path(),
            &[(&format!("many/{i:04}/x.yaml"), "kind: ConfigMap\n")],
        );
    }
    let big = format!("kind: ConfigMap\ndata:\n{}", "  k: v\n".repeat(300_000));
    let bomb = "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nkind: Deployment\n";
    write(tmp.path(), &[("a/big.yaml", &big), ("a/bomb.yaml", bomb)]);
    let outside = tempfile::tempdir().unwrap();
    write(
        outside.path(),
        &[(
            "d.yaml",
            &ISTIO_FILES[2].1.replace("r2-beta", "from-outside"),
        )],
    );
    std::os::unix::fs::symlink(outside.path(), tmp.path().join("link")).unwrap();
    let start = Instant::now();
    import(tmp.path(), "page.md");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    let text = std::fs::read_to_string(tmp.path().join("playbook.yaml")).unwrap();
    assert!(!text.contains("from-outside"), "{text}");
}

#[test]
fn an_apostrophe_in_a_message_expansion_imports_and_one_in_a_value_is_a_located_error() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        &[
            (
                "page.md",
                "# Pods\n\n```bash\nkubectl --context=\"${CLUSTER1:?Set CLUSTER1 to your first cluster's context}\" get pods -n demo\nbin/check.sh\n```\n",
            ),
            (
                "bin/check.sh",
                "#!/usr/bin/env bash\n: \"${MGMT:?set MGMT to the management cluster's context}\"\nkubectl --context \"$MGMT\" get ns\n",
            ),
        ],
    );
    import(tmp.path(), "page.md");
    validate(tmp.path());
    let text = std::fs::read_to_string(tmp.path().join("playbook.yaml")).unwrap();
    assert!(
        text.contains("context: \"{{ env.CLUSTER1 | default('cluster1') }}\""),
        "{text}"
    );
    assert!(text.contains("- { kind: pods, namespace: demo }"), "{text}");
    let notes = notes(tmp.path());
    let why = "read as text (`’`); POSIX sh does so, bash 5 refuses this line (it looks for the closing quote)";
    assert!(
        notes.contains(&format!(
            "page.md:4:66: apostrophe in \"${{CLUSTER1:?...}}\": {why}"
        )),
        "{notes:#?}"
    );
    assert!(
        notes.contains(&format!(
            "bin/check.sh:2:46: apostrophe in \"${{MGMT:?...}}\": {why}"
        )),
        "{notes:#?}"
    );
    // In a value, the two shells disagree: the import does not guess.
    let bad = tempfile::tempdir().unwrap();
    write(
        bad.path(),
        &[(
            "page.md",
            "# Pods\n\n```bash\nkubectl get pods -n \"${NS:-the team's namespace}\"\n```\n",
        )],
    );
    Scenario::new()
        .current_dir(bad.path())
        .args(["import", "page.md"])
        .expect_status(2)
        .expect_stderr("error: page.md:4:36: an apostrophe in the word of `${NS:-...}` inside double quotes: POSIX sh reads it as text, bash 5 looks for the closing quote and refuses the line; write the word without an apostrophe, or set the value outside the double quotes\n")
        .run();
}

#[test]
fn a_template_or_control_characters_in_a_workloads_value_are_not_copied_into_a_check() {
    for evil in ["\"{{ env.HOME }}\"", "\"yel\\e[31mlow\""] {
        let (_tmp, dir) = reference();
        let canary = dir.join("demo-app/config/canary/deployment.yaml");
        let text = std::fs::read_to_string(&canary).unwrap();
        std::fs::write(
            &canary,
            text.replace("value: yellow", &format!("value: {evil}")),
        )
        .unwrap();
        import(&dir, "docs/traffic-management.md");
        validate(&dir);
        assert_eq!(
            split_of(&dir, "12-blue-green-canary-answers")["distribution"]["weights"],
            serde_json::json!({"blue": 40, "green": 40, "canary": 20}),
            "{evil}"
        );
        let notes = notes(&dir);
        assert!(
            notes.iter().any(|n| n.ends_with("version canary: what it answers as `color` is not known: BLUE_GREEN_CANARY_COLOR is empty, a placeholder, a template, control characters or over 200 bytes")),
            "{notes:#?}"
        );
    }
}
