//! CLI tests: exact output of the commands on known inputs.

use std::path::Path;
use std::process::{Command, Output};

fn scenario(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scenario"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .env_remove("MGMT")
        .env_remove("CLUSTER1")
        .env_remove("CLUSTER2")
        .env_remove("SCENARIO_MGMT")
        .output()
        .expect("run scenario")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn validate_ok_prints_one_line_per_playbook() {
    let o = scenario(&[
        "validate",
        "playbooks/traffic-management.yaml",
        "examples/configmap-roundtrip/playbook.yaml",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "ok: playbooks/traffic-management.yaml (15 steps, 2 finally)\n\
         ok: examples/configmap-roundtrip/playbook.yaml (3 steps, 1 finally)\n"
    );
    assert_eq!(stderr(&o), "");
}

#[test]
fn validate_reports_every_invalid_playbook_and_exits_2() {
    let o = scenario(&[
        "validate",
        "playbooks/traffic-management.yaml",
        "tests/invalid/no-action.yaml",
        "tests/invalid/unknown-action.yaml",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stdout(&o),
        "ok: playbooks/traffic-management.yaml (15 steps, 2 finally)\n"
    );
    let err = stderr(&o);
    assert!(
        err.contains("--> tests/invalid/no-action.yaml:8:11"),
        "{err}"
    );
    assert!(
        err.contains("--> tests/invalid/unknown-action.yaml:10:5"),
        "{err}"
    );
}

#[test]
fn plan_of_the_example_is_exact() {
    let o = scenario(&[
        "plan",
        "examples/configmap-roundtrip/playbook.yaml",
        "--var",
        "mode=slow",
        "--context",
        "cluster1=kind-east",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let expected = "\
plan: configmap-roundtrip — ConfigMap round trip (examples/configmap-roundtrip/playbook.yaml)
clusters:
  mgmt      context mgmt
  cluster1  context kind-east
steps:
  1. create [apply] on mgmt, cluster1 (timeout 30s)
       server-side apply
       manifests/00-namespace.yaml (1 object)
         v1 Namespace scenario-example
       manifests/10-configmap.yaml (1 object)
         v1 ConfigMap scenario-example/settings
  2. wait-for-mode [wait] on mgmt, cluster1 (timeout 30s)
       wait until v1 ConfigMap settings in scenario-example exists
         check $.data.mode == \"slow\"
         capture settings_uid = $.metadata.uid
  3. show [get] on mgmt, cluster1 (timeout 30s)
       show v1 ConfigMap in scenario-example
finally:
  4. clean-up [delete] on mgmt, cluster1 (timeout 30s)
       delete (Background propagation, wait until gone, absent is fine)
         v1 Namespace scenario-example
";
    assert_eq!(stdout(&o), expected);
}

#[test]
fn plan_takes_contexts_from_the_environment() {
    let o = Command::new(env!("CARGO_BIN_EXE_scenario"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["plan", "playbooks/traffic-management.yaml"])
        .env("MGMT", "kind-mgmt")
        .env("CLUSTER1", "kind-east")
        .env_remove("CLUSTER2")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("  mgmt      context kind-mgmt\n  cluster1  context kind-east\n  cluster2  context cluster2\n"), "{out}");
}

#[test]
fn plan_shows_every_step_and_object_of_the_chapter() {
    let o = scenario(&["plan", "playbooks/traffic-management.yaml"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    for step in [
        "delete-test-gateway [delete] on cluster1, cluster2",
        "show-istio-system [get] on cluster1, cluster2",
        "deploy-virtual-gateway [apply] on mgmt",
        "verify-gateway [wait] on cluster1, cluster2",
        "verify-virtual-service [wait] on cluster1, cluster2",
        "ingress-address [get] on cluster1",
        "all-blue [probe]",
        "shift-green [apply] on mgmt",
        "split-blue-green-canary [probe]",
        "restore-test-gateway [apply] on cluster1, cluster2 (timeout 2m) when restore",
    ] {
        assert!(out.contains(step), "missing {step:?} in:\n{out}");
    }
    for object in [
        "networking.istio.io/v1alpha3 Gateway blue-green-canary/bgc-gateway",
        "networking.istio.io/v1alpha3 VirtualService blue-green-canary/blue-green-canary",
        "networking.enterprise.mesh.gloo.solo.io/v1beta1 VirtualGateway gloo-mesh/bgc-virtualgateway",
        "networking.enterprise.mesh.gloo.solo.io/v1beta1 VirtualHost gloo-mesh/bgc-virtualhost",
        "networking.enterprise.mesh.gloo.solo.io/v1beta1 RouteTable gloo-mesh/blue-green-canary",
        "networking.mesh.gloo.solo.io/v1 TrafficPolicy gloo-mesh/blue-green-canary",
    ] {
        assert!(out.contains(object), "missing {object:?} in:\n{out}");
    }
    assert!(
        out.contains("expect color split blue 40% / green 40% / yellow 20% (within ±10 points)"),
        "{out}"
    );
    assert!(
        out.contains(
            "match {\"spec\":{\"gateways\":[\"istio-system/<gateway_name>\"],\"hosts\":[\"*\"]}}"
        ),
        "{out}"
    );
}

#[test]
fn unknown_var_override_is_refused_with_a_suggestion() {
    let o = scenario(&[
        "validate",
        "playbooks/traffic-management.yaml",
        "--var",
        "restor=true",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "error: unknown variable `restor`\n  --> <command line>\n  = expected: a variable declared under `vars:`: app, app_namespace, gloo_mesh_namespace, workload_clusters, versions, ingress_cluster, ingress_port, service_url, final_split, restore\n  = help: did you mean `restore`?\n\n1 error found; nothing was run\n"
    );
}

#[test]
fn unknown_context_override_is_refused() {
    let o = scenario(&[
        "validate",
        "playbooks/traffic-management.yaml",
        "--context",
        "cluster3=x",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--context cluster3=x: the playbook has no cluster `cluster3`"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("did you mean `cluster1`?"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn vars_file_overrides_defaults_and_var_wins_over_it() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("vars.yaml");
    std::fs::write(&f, "mode: medium\nnamespace: from-file\n").unwrap();
    let o = scenario(&[
        "plan",
        "examples/configmap-roundtrip/playbook.yaml",
        "--vars-file",
        f.to_str().unwrap(),
        "--var",
        "mode=slow",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("v1 ConfigMap from-file/settings"), "{out}");
    assert!(out.contains("check $.data.mode == \"slow\""), "{out}");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(scenario(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(scenario(&["validate"]).status.code(), Some(2));
    assert_eq!(
        scenario(&["plan", "x.yaml", "--var", "novalue"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn missing_playbook_file_is_a_clear_error() {
    let o = scenario(&["validate", "nope.yaml"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "error: cannot load playbook: no such file\n  --> nope.yaml\n\n1 error found; nothing was run\n"
    );
}

#[test]
fn help_lists_examples_and_exit_codes() {
    let o = scenario(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(
        out.contains("Examples:\n  scenario validate playbooks/traffic-management.yaml"),
        "{out}"
    );
    assert!(
        out.contains("  2    invalid input or usage (nothing was run)"),
        "{out}"
    );
}

#[test]
fn schema_command_prints_the_committed_schema() {
    let o = scenario(&["schema"]);
    assert_eq!(o.status.code(), Some(0));
    let committed = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/playbook.schema.json"),
    )
    .unwrap();
    assert_eq!(stdout(&o), committed);
}

#[test]
fn schema_report_prints_and_writes_the_committed_report_schema() {
    let committed = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/report.schema.json"),
    )
    .unwrap();
    let o = scenario(&["schema", "--report"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), committed);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.schema.json");
    let o = scenario(&["schema", "--report", "-o", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "", "written to the file, not stdout");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), committed);
}

#[test]
fn completions_for_each_shell() {
    for (shell, marker) in [
        ("bash", "_scenario()"),
        ("zsh", "#compdef scenario"),
        ("fish", "complete -c scenario"),
    ] {
        let o = scenario(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        let out = stdout(&o);
        assert!(out.contains(marker), "{shell}: {marker} not in output");
        assert!(
            out.contains("validate") && out.contains("plan"),
            "{shell}: subcommands missing"
        );
    }
}
