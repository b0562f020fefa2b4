//! The commands on the chapter page, one kind of selector at a time, as exact
//! lines; and every page the repository's playbooks render is valid bash
//! (`bash -n` on each block). The lab test (`lab_copy_paste`) runs two
//! chapters' blocks for real.

use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn docs(playbook: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_scenario"))
        .arg("docs")
        .arg(playbook)
        .env_remove("CLUSTER1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every ```bash block, indented ones (tips, optional sections) included.
fn blocks(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<(usize, String)> = None;
    for line in md.lines() {
        let trimmed = line.trim_start();
        let pad = line.len() - trimmed.len();
        match &mut cur {
            None if trimmed == "```bash" => cur = Some((pad, String::new())),
            Some((p, b)) if trimmed == "```" && pad == *p => {
                out.push(std::mem::take(b));
                cur = None;
            }
            Some((p, b)) => {
                b.push_str(line.get(*p..).unwrap_or(""));
                b.push('\n');
            }
            None => {}
        }
    }
    out
}

const PLAYBOOK: &str = r#"name: selectors
title: "Canary: 90/10"
clusters:
  east.1: {}
vars:
  ns: demo
steps:
  - name: by-labels-and-name
    clusters: east.1
    wait:
      resource: { apiVersion: apps/v1, kind: Deployment, namespace: "{{ ns }}", name: web, labels: "app=web" }
      condition: { type: Available }
  - name: anywhere
    clusters: east.1
    get:
      resources: [{ apiVersion: apps/v1, kind: Deployment, name: istiod }]
      capture: { replicas: $.spec.replicas }
  - name: pattern
    clusters: east.1
    delete:
      namespace: "{{ ns }}"
      propagation: Orphan
      resources:
        - { apiVersion: v1, kind: Pod, nameRegex: "web-[0-9]+" }
        - { apiVersion: v1, kind: Pod, labels: "app=old" }
        - { apiVersion: v1, kind: Namespace, name: scratch }
  - name: look
    pause:
      message: |
        Open the dashboard.
        Then come back.
  - name: optional
    title: The "old" web
    when: "false"
    clusters: east.1
    wait:
      resource: { apiVersion: v1, kind: ConfigMap, namespace: demo, nameRegex: "a.*b_c" }
  - name: tool
    exec:
      command: [sh, -c, "echo it's {{ replicas }}; exit 3"]
      expectExit: 3
      captureStdout: said
"#;

#[test]
fn selectors_become_commands_kubectl_accepts_with_the_steps_meaning() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("p.yaml");
    std::fs::write(&path, PLAYBOOK).unwrap();
    let md = docs(&path);
    // A title YAML would misread is quoted in the front matter.
    assert!(md.starts_with("---\ntitle: \"Canary: 90/10\"\n"), "{md}");
    // A cluster name that is no shell name still gives a valid variable.
    assert!(md.contains("export EAST_1=east.1\n"), "{md}");
    let has = |line: &str| assert!(md.contains(line), "missing:\n{line}\nin:\n{md}");
    // A name with labels: kubectl refuses both, so the name is a field selector.
    has(
        "until kubectl --context=\"${EAST_1}\" get deployment.apps --field-selector metadata.name=web -n demo -l app=web -o name | grep -q .; do sleep 1; done\nkubectl --context=\"${EAST_1}\" wait deployment.apps --field-selector metadata.name=web -n demo -l app=web --for=condition=Available=True --timeout=120s\n",
    );
    // No namespace: the step looks in all of them, so does the page.
    // (a JSONPath on a list has no `.spec`: the value comes from the item named so)
    has(
        "REPLICAS_EAST_1=$(kubectl --context=\"${EAST_1}\" get deployment.apps -A -o jsonpath='{range .items[*]}{.metadata.name}{\"\\t\"}{.spec.replicas}{\"\\n\"}{end}' | awk -F '\\t' '!found && $1 == \"istiod\" { print $2; found = 1 }')\n",
    );
    // A regex matches whole names, as the step's does; the step's namespace and
    // propagation carry over; a cluster-scoped kind takes no namespace.
    has(
        "kubectl --context=\"${EAST_1}\" get pod -n demo -o jsonpath='{range .items[*]}{.metadata.name}{\"\\n\"}{end}' | awk '$1 ~ \"^(web-[0-9]+)$\" { print $1 }' | xargs -r -L1 kubectl --context=\"${EAST_1}\" delete pod -n demo --ignore-not-found --cascade=orphan\n",
    );
    has(
        "kubectl --context=\"${EAST_1}\" delete pod -n demo -l app=old --ignore-not-found --cascade=orphan\n",
    );
    has(
        "kubectl --context=\"${EAST_1}\" delete namespace scratch --ignore-not-found --cascade=orphan\n",
    );
    // exec: one word per argument, its expected exit code, its captured output.
    has("SAID=$(sh -c \"echo it's ${REPLICAS}; exit 3\" || [ $? -eq 3 ])\n");
    // A tip of several lines stays in its box; a title's quotes stay in the title.
    has("!!! tip\n    Open the dashboard.\n    Then come back.\n");
    has("??? example \"Optional: The &quot;old&quot; web\"\n");
    // A regex in a check box is not read as Markdown emphasis.
    has("/a.\\*b\\_c/");
    for b in blocks(&md) {
        let out = Command::new("bash")
            .args(["-n", "-c", &b])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "bash -n: {}\n{b}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn every_page_the_repository_renders_is_valid_bash() {
    let mut pages = 0;
    let mut playbooks = vec![
        root().join("playbooks/traffic-management.yaml"),
        root().join("examples/configmap-roundtrip/playbook.yaml"),
        root().join("examples/tutorial-repo/chapters/settings.yaml"),
    ];
    for dir in ["tests/playbooks"] {
        for e in std::fs::read_dir(root().join(dir)).unwrap().flatten() {
            if e.path().extension().is_some_and(|x| x == "yaml") {
                playbooks.push(e.path());
            }
        }
    }
    for p in playbooks {
        let out = Command::new(env!("CARGO_BIN_EXE_scenario"))
            .arg("docs")
            .arg(&p)
            .output()
            .unwrap();
        if !out.status.success() {
            continue; // a playbook that needs inputs to validate
        }
        let md = String::from_utf8(out.stdout).unwrap();
        assert!(
            !md.contains("{{"),
            "{}: a template left on the page",
            p.display()
        );
        for b in blocks(&md) {
            let check = Command::new("bash")
                .args(["-n", "-c", &b])
                .output()
                .unwrap();
            assert!(
                check.status.success(),
                "{}: bash -n: {}\n{b}",
                p.display(),
                String::from_utf8_lossy(&check.stderr)
            );
        }
        pages += 1;
    }
    assert!(pages >= 4, "{pages} pages checked");
}
