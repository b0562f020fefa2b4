//! `scenario rbac`: the least-privilege RBAC of a playbook, derived from its
//! steps (the lab test `lab_in_cluster` runs a playbook with exactly it), and
//! the manifests in `deploy/`, checked by a schema validator for a current
//! Kubernetes (PyPI `kubernetes-validate`).

use crate::support::{self, Scenario};

const PLAYBOOK: &str = r#"name: rbac
clusters:
  one: { context: east }
  two: { context: west }
steps:
  - name: crd
    clusters: one
    apply:
      inline: |
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: { name: widgets.example.com }
        spec:
          group: example.com
          scope: Namespaced
          names: { kind: Widget, plural: widgets, singular: widget }
          versions:
            - name: v1
              served: true
              storage: true
              schema: { openAPIV3Schema: { type: object, x-kubernetes-preserve-unknown-fields: true } }
  - name: widget
    clusters: one
    apply:
      namespace: shop
      inline: |
        apiVersion: example.com/v1
        kind: Widget
        metadata: { name: w }
  - name: address
    clusters: one
    get:
      resources:
        - { apiVersion: v1, kind: Service, namespace: ingress, name: gateway }
      capture: { ns: $.metadata.labels.team }
  - name: ready
    clusters: [one, two]
    wait:
      resource: { apiVersion: apps/v1, kind: Deployment, namespace: "{{ captures.ns }}", name: web }
  - name: nudge
    clusters: two
    patch:
      resource: { apiVersion: v1, kind: ConfigMap, namespace: shop, name: settings }
      body: { data: { mode: fast } }
  - name: gone
    clusters: two
    delete:
      resources:
        - { apiVersion: v1, kind: Namespace, name: old }
  - name: call
    probe: { url: "http://127.0.0.1:9/", requests: 1 }
"#;

fn binding(kind: &str, role: &str, ns: Option<&str>) -> String {
    let ns_line = ns
        .map(|n| format!("  namespace: \"{n}\"\n"))
        .unwrap_or_default();
    format!(
        "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata:\n  name: \"runner\"\n{ns_line}  labels:\n    app.kubernetes.io/managed-by: scenario\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: {role}\n  name: \"runner\"\nsubjects:\n  - kind: ServiceAccount\n    name: \"bot\"\n    namespace: \"ci\"\n"
    )
}

fn head(kind: &str, ns: Option<&str>) -> String {
    let ns_line = ns
        .map(|n| format!("  namespace: \"{n}\"\n"))
        .unwrap_or_default();
    format!(
        "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata:\n  name: \"runner\"\n{ns_line}  labels:\n    app.kubernetes.io/managed-by: scenario\nrules:\n"
    )
}

const DISCOVERY: &str = "  - nonResourceURLs: [\"/api\", \"/api/*\", \"/apis\", \"/apis/*\", \"/version\"]\n    verbs: [\"get\"]\n";

fn rule(group: &str, resource: &str, verbs: &str) -> String {
    format!("  - apiGroups: [\"{group}\"]\n    resources: [\"{resource}\"]\n    verbs: {verbs}\n")
}

#[test]
fn rbac_grants_each_cluster_what_its_steps_do_and_nothing_more() {
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("rbac.yaml");
    std::fs::write(&pb, PLAYBOOK).unwrap();
    let one = [
        "\n# cluster `one` (context east)\n".to_owned(),
        head("ClusterRole", None),
        DISCOVERY.to_owned(),
        // The CRD itself; the pre-flight lists CRDs to wait until it is established.
        rule(
            "apiextensions.k8s.io",
            "customresourcedefinitions",
            "[\"get\", \"list\", \"create\", \"patch\"]",
        ),
        // The wait's namespace comes from a capture: known only at run time.
        rule("apps", "deployments", "[\"list\", \"watch\"]"),
        binding("ClusterRoleBinding", "ClusterRole", None),
        head("Role", Some("ingress")),
        rule("", "services", "[\"list\"]"),
        binding("RoleBinding", "Role", Some("ingress")),
        head("Role", Some("shop")),
        // The plural and scope come from the CRD the playbook applies.
        rule("example.com", "widgets", "[\"get\", \"create\", \"patch\"]"),
        binding("RoleBinding", "Role", Some("shop")),
    ]
    .concat();
    let two = [
        "\n# cluster `two` (context west)\n".to_owned(),
        head("ClusterRole", None),
        DISCOVERY.to_owned(),
        rule(
            "",
            "namespaces",
            "[\"get\", \"list\", \"watch\", \"delete\"]",
        ),
        rule("apps", "deployments", "[\"list\", \"watch\"]"),
        binding("ClusterRoleBinding", "ClusterRole", None),
        head("Role", Some("shop")),
        rule("", "configmaps", "[\"get\", \"patch\"]"),
        binding("RoleBinding", "Role", Some("shop")),
    ]
    .concat();
    let top = format!(
        "# RBAC for {}: what the steps need of each cluster's API, derived by `scenario rbac`\n# (docs/kubernetes.md). Apply each cluster's part on that cluster.\n",
        pb.display()
    );
    Scenario::new()
        .arg("rbac")
        .arg(&pb)
        .args(["--service-account", "ci/bot", "--name", "runner"])
        .expect_status(0)
        .expect_stdout(format!("{top}{one}{two}"))
        .expect_stderr("")
        .run();
    Scenario::new()
        .arg("rbac")
        .arg(&pb)
        .args([
            "--service-account",
            "ci/bot",
            "--name",
            "runner",
            "--cluster",
            "two",
        ])
        .expect_status(0)
        .expect_stdout(format!("{top}{two}"))
        .run();
}

#[test]
fn rbac_says_what_it_cannot_know_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("p.yaml");
    std::fs::write(
        &pb,
        "name: p\nclusters:\n  c: {}\nsteps:\n  - name: cmd\n    clusters: c\n    exec: { command: [kubectl, get, pods] }\n  - name: gw\n    clusters: c\n    wait:\n      resource: { apiVersion: networking.istio.io/v1beta1, kind: Gateway, namespace: x, name: g }\n",
    )
    .unwrap();
    let out = Scenario::new().arg("rbac").arg(&pb).run();
    assert_eq!(out.code(), 0, "{}", out.both());
    assert_eq!(
        out.stderr,
        "warning: cluster `c`: not known before the run: what the commands of `exec` steps ask of a cluster (they run with the same credentials)\n"
    );
    assert!(
        out.stdout
            .contains("# warning: not known before the run: what the commands of `exec` steps ask"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("# warning: resource guessed from the kind (check with `kubectl api-resources`): networking.istio.io/v1beta1 Gateway -> gateways"),
        "{}",
        out.stdout
    );
}

#[test]
fn rbac_refuses_a_bad_subject_or_an_unknown_cluster() {
    let pb = "playbooks/traffic-management.yaml";
    for (args, want) in [
        (
            vec!["--service-account", "scenario"],
            "error: invalid --service-account `scenario`: expected NAMESPACE/NAME (DNS labels, e.g. scenario/scenario)\n",
        ),
        (
            vec!["--service-account", "a/B\u{1b}[31m"],
            "error: invalid --service-account `a/B\\u{1b}[31m`: expected NAMESPACE/NAME (DNS labels, e.g. scenario/scenario)\n",
        ),
        (
            vec!["--name=x-"],
            "error: invalid --name `x-`: expected a DNS label (a-z, 0-9, `-`, at most 63)\n",
        ),
        (
            vec!["--cluster", "cluster9"],
            "error: --cluster `cluster9` is not a cluster of playbooks/traffic-management.yaml (clusters: cluster1, cluster2, mgmt)\n",
        ),
    ] {
        Scenario::new()
            .arg("rbac")
            .arg(pb)
            .args(&args)
            .expect_status(2)
            .expect_stdout("")
            .expect_stderr(want)
            .run();
    }
}

#[test]
fn rbac_keeps_a_hostile_namespace_one_yaml_value() {
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("p.yaml");
    std::fs::write(
        &pb,
        "name: p\nclusters:\n  c: {}\nsteps:\n  - name: s\n    clusters: c\n    get:\n      resources:\n        - { apiVersion: v1, kind: ConfigMap, namespace: \"a\\\": b\\n- x: [y]\", name: cfg }\n",
    )
    .unwrap();
    // A context with a line break of its own stays inside its comment.
    let out = Scenario::new()
        .arg("rbac")
        .arg(&pb)
        .args(["--context", "c=east\n---\nkind: Evil"])
        .run();
    assert_eq!(out.code(), 0, "{}", out.both());
    assert!(
        out.stdout
            .contains("# cluster `c` (context east\\n---\\nkind: Evil)\n"),
        "{}",
        out.stdout
    );
    support::python::ensure("yaml", &["pyyaml"]);
    let parsed = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, yaml; docs=[d for d in yaml.safe_load_all(sys.stdin) if d]; print(len(docs)); print(repr(docs[2]['metadata']['namespace']))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write as _;
            c.stdin.take().unwrap().write_all(out.stdout.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&parsed.stdout),
        "4\n'a\": b\\n- x: [y]'\n"
    );
}

/// `kubernetes-validate` (PyPI) for Kubernetes 1.33, strict: unknown fields fail.
fn validate_for_current_kubernetes(files: &[&std::path::Path]) -> std::process::Output {
    support::python::ensure("kubernetes_validate", &["kubernetes-validate"]);
    std::process::Command::new("python3")
        .args([
            "-m",
            "kubernetes_validate",
            "--strict",
            "-k",
            "1.33.0",
            "--no-warn",
        ])
        .args(files)
        .output()
        .unwrap()
}

#[test]
fn the_deploy_manifests_and_the_derived_rbac_pass_a_current_kubernetes_schema() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(root.join("deploy"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "yaml")
                && p.file_name().is_some_and(|n| n != "kustomization.yaml")
        })
        .collect();
    files.sort();
    assert!(files.len() >= 5, "{files:?}");
    let dir = tempfile::tempdir().unwrap();
    let derived = dir.path().join("rbac.yaml");
    let out = Scenario::new()
        .args(["rbac", "playbooks/traffic-management.yaml", "-o"])
        .arg(&derived)
        .run();
    assert_eq!(out.code(), 0, "{}", out.both());
    files.push(derived);
    let refs: Vec<&std::path::Path> = files.iter().map(std::path::PathBuf::as_path).collect();
    let v = validate_for_current_kubernetes(&refs);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );
    assert!(v.status.success(), "{text}");
    for kind in [
        "job/scenario-nightly",
        "cronjob/scenario-nightly",
        "clusterrole/scenario",
    ] {
        assert!(
            text.contains(&format!("passed for resource {kind} against version 1.33")),
            "{text}"
        );
    }
    // The validator can fail: a Job with a field the API does not have.
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(root.join("deploy/job.yaml"))
            .unwrap()
            .replace(
                "backoffLimitPerIndex: 2",
                "backoffLimitPerIndex: 2\n  retryEverything: true",
            ),
    )
    .unwrap();
    assert!(!validate_for_current_kubernetes(&[&bad]).status.success());
}

#[test]
fn deploy_rbac_is_what_scenario_rbac_derives_for_the_chapter() {
    let out = Scenario::new()
        .args([
            "rbac",
            "playbooks/traffic-management.yaml",
            "--cluster",
            "mgmt",
        ])
        .run();
    assert_eq!(out.code(), 0, "{}", out.both());
    let committed = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/rbac.yaml"),
    )
    .unwrap();
    assert_eq!(
        committed, out.stdout,
        "regenerate: scenario rbac playbooks/traffic-management.yaml --cluster mgmt -o deploy/rbac.yaml"
    );
}

#[test]
fn rbac_of_a_tutorial_covers_every_chapter() {
    let out = Scenario::new()
        .args(["rbac", "playbooks/tutorial.yaml", "--cluster", "mgmt"])
        .run();
    assert_eq!(out.code(), 0, "{}", out.both());
    assert!(
        out.stdout
            .starts_with("# RBAC for playbooks/tutorial.yaml: what the steps need"),
        "{}",
        out.stdout
    );
    // Traffic Management's Gloo Mesh objects and Access Policies' own, in one Role.
    let role = out
        .stdout
        .split("---\n")
        .find(|d| d.contains("kind: Role\n") && d.contains("namespace: \"gloo-mesh\""))
        .unwrap_or_else(|| panic!("{}", out.stdout));
    for (resource, verbs) in [
        (
            "accesspolicies",
            "[\"get\", \"list\", \"watch\", \"create\", \"patch\", \"delete\"]",
        ),
        ("virtualmeshes", "[\"get\", \"patch\"]"),
        (
            "trafficpolicies",
            "[\"get\", \"list\", \"watch\", \"create\", \"patch\", \"delete\"]",
        ),
        (
            "routetables",
            "[\"get\", \"list\", \"watch\", \"create\", \"patch\", \"delete\"]",
        ),
    ] {
        assert!(
            role.contains(&format!(
                "    resources: [\"{resource}\"]\n    verbs: {verbs}\n"
            )),
            "{resource}: {role}"
        );
    }
}
