//! LAB TEST (starts its own labs): the chapter page is copy-paste correct.
//! For a playbook, on a fresh lab, `scenario run`; on another fresh lab,
//! every top-level `bash` block of `scenario docs`, in order, in one
//! `bash -euo pipefail` whose environment holds only PATH, HOME and
//! KUBECONFIG. Then the objects (kind, namespace, name, and all but
//! metadata and status: spec, a ConfigMap's data) on every cluster must be the same. For the traffic-management chapter (with the
//! mesh emulator), for the chapter `scenario init` writes, and for the
//! reference tutorial: `scenario docs playbooks/tutorial.yaml -o SITE`, and
//! every bash block of BOTH pages in reading order in one fresh shell (the
//! second page's after the first's, the environment include expanded as
//! pymdownx.snippets expands it), against `scenario run playbooks/tutorial.yaml`.

use crate::support::meshlab;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The binary under test; `SCENARIO_COPY_PASTE_BIN` names a copy of it (on
/// a machine whose target directory is shared, another build may replace
/// the binary while the labs start).
fn bin() -> &'static str {
    static BIN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        std::env::var("SCENARIO_COPY_PASTE_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_scenario").to_owned())
    })
}

/// A lab of its own (and the mesh emulator on it), stopped on drop.
struct Lab {
    dir: tempfile::TempDir,
    mesh: Option<meshlab::Mesh>,
    port: u16,
    clusters: Vec<String>,
}

impl Lab {
    fn up(clusters: &[&str], mesh: bool) -> Lab {
        let dir = tempfile::tempdir().unwrap();
        let lab = dir.path().join("lab");
        for args in [
            vec!["lab", "up", "--clusters", &clusters.join(",")],
            vec!["lab", "crds"],
        ] {
            let out = Command::new(bin())
                .args(&args)
                .arg("--dir")
                .arg(&lab)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "scenario {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let mut l = Lab {
            dir,
            mesh: None,
            port: 0,
            clusters: clusters.iter().map(|s| (*s).to_owned()).collect(),
        };
        if mesh {
            let m = meshlab::start(&lab, &[]);
            l.port = m.port;
            l.mesh = Some(m);
        }
        l
    }

    fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("lab/kubeconfig")
    }

    /// Every object on every cluster, `context kind namespace/name` -> spec,
    /// without what controllers churn (events, leases, endpoints,
    /// service-account tokens). Names the emulator derives from uids
    /// (`bgc-virtualgateway-<number>`) are normalized.
    fn snapshot(&self) -> BTreeMap<String, String> {
        let derived = regex::Regex::new(r"bgc-virtualgateway-\d+").unwrap();
        let mut out = BTreeMap::new();
        for ctx in &self.clusters {
            let kubectl = |args: &[&str]| {
                let o = Command::new("kubectl")
                    .env("KUBECONFIG", self.kubeconfig())
                    .arg("--context")
                    .arg(ctx)
                    .args(args)
                    .output()
                    .unwrap();
                assert!(
                    o.status.success(),
                    "kubectl {args:?}: {}",
                    String::from_utf8_lossy(&o.stderr)
                );
                String::from_utf8(o.stdout).unwrap()
            };
            let kinds: Vec<String> = kubectl(&["api-resources", "--verbs=list", "-o", "name"])
                .lines()
                .filter(|k| {
                    !matches!(
                        k.split('.').next().unwrap_or(""),
                        "events" | "leases" | "endpoints" | "endpointslices"
                    )
                })
                .map(str::to_owned)
                .collect();
            let list: serde_json::Value =
                serde_json::from_str(&kubectl(&["get", &kinds.join(","), "-A", "-o", "json"]))
                    .unwrap();
            for o in list["items"].as_array().unwrap() {
                if o["type"] == "kubernetes.io/service-account-token" {
                    continue;
                }
                let m = &o["metadata"];
                let key = format!(
                    "{ctx} {} {} {}/{}",
                    o["apiVersion"].as_str().unwrap_or(""),
                    o["kind"].as_str().unwrap_or(""),
                    m["namespace"].as_str().unwrap_or("-"),
                    m["name"].as_str().unwrap_or("")
                );
                // What the API server allocates differs between any two labs:
                // Service IPs, and the `kubernetes` Service (the lab's own port).
                if o["kind"] == "Service"
                    && m["name"] == "kubernetes"
                    && m["namespace"] == "default"
                {
                    continue;
                }
                // Each lab has its own CA.
                if m["name"] == "kube-root-ca.crt" {
                    continue;
                }
                // The object without metadata and status: spec, data, ...
                let mut body = o.clone();
                if let Some(b) = body.as_object_mut() {
                    b.remove("metadata");
                    b.remove("status");
                }
                if let Some(s) = body["spec"].as_object_mut() {
                    s.remove("clusterIP");
                    s.remove("clusterIPs");
                }
                let spec = serde_json::to_string(&body).unwrap();
                out.insert(
                    derived
                        .replace_all(&key, "bgc-virtualgateway-N")
                        .into_owned(),
                    derived
                        .replace_all(&spec, "bgc-virtualgateway-N")
                        .into_owned(),
                );
            }
        }
        out
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // The emulator stops first (its drop), then the lab.
        self.mesh = None;
        let _ = Command::new(bin())
            .args(["lab", "down", "--dir"])
            .arg(self.dir.path().join("lab"))
            .output();
    }
}

/// The top-level ```bash blocks of a page, in order (indented ones sit in
/// tips and optional sections, off the reader's main path).
fn bash_blocks(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in md.lines() {
        match &mut current {
            None if line == "```bash" => current = Some(String::new()),
            Some(b) if line == "```" => {
                out.push(std::mem::take(b));
                current = None;
            }
            Some(b) => {
                b.push_str(line);
                b.push('\n');
            }
            None => {}
        }
    }
    out
}

/// The bash blocks of every page of a tutorial's site, in reading order
/// (the chapter list of its index), each page's environment include
/// expanded where the page pulls it in.
fn site_blocks(site: &Path) -> Vec<String> {
    let read =
        |p: &Path| std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let item = regex::Regex::new(r"^\d+\. \[.*\]\(([^)]+\.md)\)").unwrap();
    let pages: Vec<String> = read(&site.join("docs/index.md"))
        .lines()
        .filter_map(|l| item.captures(l).map(|c| c[1].to_owned()))
        .collect();
    assert!(pages.len() > 1, "the index lists the chapters");
    let mut out = Vec::new();
    for page in pages {
        let md = read(&site.join("docs").join(&page));
        let mut expanded = String::new();
        for line in md.lines() {
            match line
                .strip_prefix("--8<-- \"")
                .and_then(|r| r.strip_suffix('"'))
            {
                Some(include) => expanded.push_str(&read(&site.join(include))),
                None => {
                    expanded.push_str(line);
                    expanded.push('\n');
                }
            }
        }
        out.extend(bash_blocks(&expanded));
    }
    out
}

fn scenario(dir: &Path, lab: &Lab, args: &[&str]) -> (i32, String) {
    let out = Command::new(bin())
        .current_dir(dir)
        .env("KUBECONFIG", lab.kubeconfig())
        .env_remove("MGMT")
        .env_remove("CLUSTER1")
        .env_remove("CLUSTER2")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Runs the chapter both ways and compares the clusters.
fn same_state_both_ways(
    dir: &Path,
    playbook: &str,
    clusters: &[&str],
    mesh: bool,
    run_flags: &[&str],
) {
    let vars = |lab: &Lab| -> Vec<String> {
        if mesh {
            vec!["--var".into(), format!("ingress_port={}", lab.port)]
        } else {
            Vec::new()
        }
    };
    let by_run = {
        let lab = Lab::up(clusters, mesh);
        let mut args = vec!["run".to_owned(), playbook.to_owned()];
        args.extend(vars(&lab));
        args.extend(run_flags.iter().map(|f| (*f).to_owned()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out) = scenario(dir, &lab, &args);
        assert_eq!(code, 0, "scenario run:\n{out}");
        lab.snapshot()
    };
    let by_hand = {
        let lab = Lab::up(clusters, mesh);
        let mut args = vec!["docs".to_owned(), playbook.to_owned()];
        args.extend(vars(&lab));
        let site = lab.dir.path().join("site");
        if playbook.ends_with("tutorial.yaml") {
            args.push("-o".to_owned());
            args.push(site.display().to_string());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, md) = scenario(dir, &lab, &args);
        assert_eq!(code, 0, "scenario docs:\n{md}");
        let blocks = if playbook.ends_with("tutorial.yaml") {
            site_blocks(&site)
        } else {
            bash_blocks(&md)
        };
        assert!(blocks.len() > 2, "{md}");
        let script = lab.dir.path().join("chapter.sh");
        std::fs::write(&script, blocks.concat()).unwrap();
        // Only what a reader's fresh shell has, and a bound on the time.
        let out = Command::new("timeout")
            .arg("600")
            .arg("env")
            .arg("-i")
            .arg(format!(
                "PATH={}",
                std::env::var("PATH").unwrap_or_default()
            ))
            .arg(format!("HOME={}", lab.dir.path().display()))
            .arg(format!("KUBECONFIG={}", lab.kubeconfig().display()))
            .args(["bash", "-euo", "pipefail"])
            .arg(&script)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "the page's commands failed ({:?}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        lab.snapshot()
    };
    let only = |a: &BTreeMap<String, String>, b: &BTreeMap<String, String>| -> Vec<String> {
        a.iter()
            .filter(|(k, v)| b.get(*k) != Some(v))
            .map(|(k, v)| format!("{k}: {v}"))
            .collect()
    };
    assert!(by_run.len() > 10, "{by_run:?}");
    assert!(
        by_run == by_hand,
        "different cluster states.\nafter scenario run only:\n{}\nafter the page's commands only:\n{}",
        only(&by_run, &by_hand).join("\n"),
        only(&by_hand, &by_run).join("\n")
    );
}

#[test]
fn lab_the_traffic_management_page_reaches_the_state_of_scenario_run() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("playbooks");
    same_state_both_ways(
        &dir,
        "traffic-management.yaml",
        &["mgmt", "cluster1", "cluster2"],
        true,
        &[],
    );
}

#[test]
fn lab_the_tutorial_site_pages_in_one_shell_reach_the_state_of_scenario_run() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("playbooks");
    same_state_both_ways(
        &dir,
        "tutorial.yaml",
        &["mgmt", "cluster1", "cluster2"],
        true,
        &[],
    );
}

#[test]
fn lab_the_init_chapter_page_reaches_the_state_of_scenario_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(bin())
        .args(["init", "demo", "--dir"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    same_state_both_ways(tmp.path(), "demo.yaml", &["cluster1"], false, &[]);
}

/// Selectors the two chapters do not use: a name with labels, a name without a
/// namespace, a whole-name regex and labels in a delete, an exec whose exit
/// code 3 is expected and whose output a later manifest uses.
const SELECTORS: &str = r#"name: selectors
clusters:
  cluster1: {}
steps:
  - name: objects
    clusters: cluster1
    apply:
      inline: |
        apiVersion: v1
        kind: Namespace
        metadata: { name: sel }
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: { name: web-1, namespace: sel, labels: { app: web } }
        data: { mode: fast }
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: { name: web-2, namespace: sel, labels: { app: web } }
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: { name: webx, namespace: sel, labels: { app: web } }
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: { name: old-1, namespace: sel, labels: { app: old } }
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: { name: keep, namespace: sel }
  - name: wait-web-1
    clusters: cluster1
    wait:
      resource: { apiVersion: v1, kind: ConfigMap, namespace: sel, name: web-1, labels: "app=web" }
      jsonpath: [{ path: $.data.mode, equals: fast }]
  - name: find-anywhere
    clusters: cluster1
    get:
      show: false
      resources: [{ apiVersion: v1, kind: ConfigMap, name: keep }]
      capture: { kept: $.metadata.namespace }
  - name: note
    exec:
      command: [sh, -c, "echo \"it's {{ kept }}\"; exit 3"]
      expectExit: 3
      captureStdout: said
  - name: record
    clusters: cluster1
    apply:
      inline: |
        apiVersion: v1
        kind: ConfigMap
        metadata: { name: record, namespace: sel }
        data: { said: "{{ said }}" }
  - name: clean
    clusters: cluster1
    delete:
      namespace: sel
      resources:
        - { apiVersion: v1, kind: ConfigMap, nameRegex: "web-[0-9]+" }
        - { apiVersion: v1, kind: ConfigMap, labels: "app=old" }
"#;

#[test]
fn lab_selectors_and_exec_on_the_page_reach_the_state_of_scenario_run() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("selectors.yaml"), SELECTORS).unwrap();
    same_state_both_ways(
        tmp.path(),
        "selectors.yaml",
        &["cluster1"],
        false,
        &["--allow-exec"],
    );
}
