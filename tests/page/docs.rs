//! `scenario docs` and `scenario init`.

use crate::support::http;
use crate::support::python;
use crate::support::site;

use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn scenario(args: &[&str]) -> (Option<i32>, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_scenario"))
        .current_dir(root())
        .args(args)
        .env_remove("CLUSTER1")
        .env_remove("CLUSTER2")
        .env_remove("MGMT")
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Markdown headings outside code fences.
fn headings(md: &str) -> Vec<String> {
    let mut fenced = false;
    let mut out = Vec::new();
    for line in md.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced && line.starts_with('#') {
            out.push(line.trim_end().to_owned());
        }
    }
    out
}

/// The seed page's heading structure (its section titles, in order). When the
/// seed is available next to the repository (../shared), the test checks this
/// list against it too, so it cannot drift.
const SEED_HEADINGS: &[&str] = &[
    "## Ensure Environment",
    "## Delete Existing Test Gateway",
    "## Gloo Mesh Gateway",
    "### Deploy Virtual Gateway",
    "#### CLUSTER1",
    "#### CLUSTER2",
    "## Calling Service",
    "## Traffic Policy",
    "### Green",
    "### Canary",
    "### Blue <-- --> Green",
    "## Blue,Green and Canary",
];

#[test]
fn the_chapter_page_has_the_seeds_sections_in_the_same_order() {
    if let Ok(seed) = std::fs::read_to_string(root().join("../shared/seed/traffic-management.md")) {
        assert_eq!(headings(&seed), SEED_HEADINGS);
    }
    let (code, md, err) = scenario(&["docs", "playbooks/traffic-management.yaml"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(headings(&md), SEED_HEADINGS);
    assert!(
        md.starts_with("---\ntitle: Traffic Management\nsummary: "),
        "front matter"
    );
    assert!(md.contains("- [x] Created a TrafficPolicy to distribute traffic"));
    // The object scenario applies, rendered, inline: not the template's path.
    assert!(
        md.contains("kubectl --context=\"${MGMT}\" apply --server-side -f - <<'EOF'\napiVersion: networking.mesh.gloo.solo.io/v1\nkind: TrafficPolicy\n"),
        "{md}"
    );
    assert!(!md.contains("{{"), "no template left on the page");
    assert!(
        md.contains("- expect color split blue 40% / green 40% / yellow 20% (within ±10 points)"),
        "the check in words"
    );
    assert!(md.contains("!!! success \"What `scenario run` checks\""));
    // The address comes from a capture, as a shell variable set by kubectl's JSONPath.
    assert!(
        md.contains("INGRESS_IP_CLUSTER1=$(kubectl --context=\"${CLUSTER1}\" get service istio-ingressgateway -n istio-system -o jsonpath='{.status.loadBalancer.ingress[0].ip}')\n"),
        "{md}"
    );
    // Probes: the probe's own count of requests in one curl, and a tally.
    for n in [50, 200, 2000] {
        assert!(
            md.contains(&format!("for i in $(seq 1 {n}); do printf '%s\\n' \"url = \\\"http://${{INGRESS_IP_CLUSTER1}}:80/api\\\"\"; done | {{ curl -s --max-time 5 -w '\\n' -K - || true; }} | sed -n ")),
            "{n} requests: {md}"
        );
    }
    assert!(md.contains(" | sort | uniq -c\n"));
    assert!(!md.contains("<ingress_ip>") && !md.contains("seq 1 100"));
    // The clean-up (`when: restore`) is an optional, folded section.
    assert!(md.contains("??? example \"Optional: restore-remove-policy\"\n\n    `scenario run` does this only when `restore` holds."), "{md}");
    // The whole chapter in one command, relative to the root.
    assert!(
        md.contains("    scenario run traffic-management.yaml\n"),
        "{md}"
    );
    assert!(!md.contains(env!("CARGO_MANIFEST_DIR")), "no absolute path");
    // The page ends with the playbook's closing paragraph.
    assert!(
        md.trim_end().ends_with("The next chapter restricts who may call the service, and from\nwhere, with access policies."),
        "{md}"
    );
}

#[test]
fn the_page_builds_with_mkdocs_material_in_strict_mode() {
    python::ensure("material, mkdocs", &["mkdocs-material"]);
    let tmp = tempfile::tempdir().unwrap();
    let html = std::fs::read_to_string(site::built_chapter_page(tmp.path())).unwrap();
    assert!(
        html.contains("Blue,Green and Canary") && html.contains("<details"),
        "sections and folded boxes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_report_shows_what_a_real_run_observed() {
    let s = http::start(
        http::Behaviour {
            weights: vec![("blue".into(), 1.0), ("green".into(), 1.0)],
            ..Default::default()
        },
        None,
    )
    .await;
    let tmp = tempfile::tempdir().unwrap();
    let pb = tmp.path().join("p.yaml");
    std::fs::write(&pb, format!("name: observed\nsteps:\n  - name: split\n    title: Blue and Green\n    probe:\n      url: {}\n      requests: 2000\n      extract: {{ color: $.color }}\n      expect:\n        distribution: {{ value: color, weights: {{ blue: 50, green: 50 }} }}\n", s.url("http"))).unwrap();
    let report = tmp.path().join("r.json");
    let (code, out, _) = scenario(&[
        "run",
        pb.to_str().unwrap(),
        "--report",
        &format!("json={}", report.display()),
    ]);
    assert_eq!(code, Some(0), "{out}");
    let (code, md, err) = scenario(&[
        "docs",
        pb.to_str().unwrap(),
        "--from-report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    let observed = md
        .split("Output of a real run:")
        .nth(1)
        .expect("an output block");
    assert!(
        observed.contains("color split within ±10 points of the weights"),
        "{md}"
    );
    assert!(
        observed.contains("  color split over ") && observed.contains("blue      50.0%"),
        "{md}"
    );
    assert!(!observed.contains("sample: "), "no raw samples in a page");
    // What the reader's curl loop shows: one JSON answer and the tally.
    let view = observed.split("```text\n").nth(1).unwrap_or("");
    assert!(
        view.starts_with("{\"color\":"),
        "a sample answer first: {md}"
    );
    let tally: Vec<&str> = view
        .lines()
        .filter(|l| l.starts_with("    ") && (l.ends_with(" blue") || l.ends_with(" green")))
        .collect();
    assert_eq!(tally.len(), 2, "a `uniq -c` line per color: {md}");
    // The printed loop sends as many requests as the tally shown counts (a
    // decided split stops before the probe's 2000).
    let count: u64 = md
        .split("$(seq 1 ")
        .nth(1)
        .and_then(|a| a.split(')').next())
        .and_then(|n| n.parse().ok())
        .expect("a curl loop");
    let shown: u64 = tally
        .iter()
        .filter_map(|l| l.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    assert_eq!(count, shown, "{md}");
    // scenario's own lines are folded under the reader's view.
    assert!(
        observed.contains("??? info \"What `scenario run` reported\""),
        "{md}"
    );
}

#[test]
fn init_scaffolds_a_chapter_that_validates() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_str().unwrap();
    let (code, out, err) = scenario(&["init", "my-chapter", "--dir", dir]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("my-chapter.yaml")
            && out.contains("my-chapter/10-configmap.yaml")
            && out.contains("my-chapter/README.md"),
        "{out}"
    );
    let book = tmp.path().join("my-chapter.yaml");
    assert!(
        std::fs::read_to_string(&book)
            .unwrap()
            .starts_with("# yaml-language-server: $schema=")
    );
    let (code, out, err) = scenario(&["validate", book.to_str().unwrap()]);
    assert_eq!((code, err.as_str()), (Some(0), ""), "{out}");
    let (code, _, err) = scenario(&["init", "my-chapter", "--dir", dir]);
    assert_eq!(code, Some(2), "refuses to overwrite: {err}");
    // Inside this repository the schema line points at schemas/ relatively.
    let inside = root().join("target/init-test");
    let _ = std::fs::remove_dir_all(&inside);
    std::fs::create_dir_all(&inside).unwrap();
    let (code, _, _) = scenario(&["init", "local", "--dir", inside.to_str().unwrap()]);
    assert_eq!(code, Some(0));
    let text = std::fs::read_to_string(inside.join("local.yaml")).unwrap();
    assert!(
        text.starts_with("# yaml-language-server: $schema=../../schemas/playbook.schema.json"),
        "{text}"
    );
    std::fs::remove_dir_all(&inside).unwrap();
}

#[test]
fn waits_become_kubectl_wait_where_kubectl_can_say_it() {
    let (code, md, err) = scenario(&["docs", "examples/configmap-roundtrip/playbook.yaml"]);
    assert_eq!(code, Some(0), "{err}");
    // kubectl wait fails at once on a missing object: first wait until it exists.
    assert!(
        md.contains("until kubectl --context=\"${MGMT}\" get configmap settings -n scenario-example >/dev/null 2>&1; do sleep 1; done\nkubectl --context=\"${MGMT}\" wait -n scenario-example configmap/settings --for=jsonpath='{.data.mode}'=fast --timeout="),
        "{md}"
    );
    let (_, chapter, _) = scenario(&["docs", "playbooks/traffic-management.yaml"]);
    // A name prefix is beyond kubectl wait: a loop over the names, then the capture.
    assert!(
        chapter.contains(
            "until kubectl --context=\"${CLUSTER1}\" get gateway.networking.istio.io -n istio-system -o jsonpath='{range .items[*]}{.metadata.name}{\"\\n\"}{end}' | awk -v p=bgc-virtualgateway- 'index($0, p) == 1 { found = 1 } END { exit !found }'; do sleep 1; done\nGATEWAY_NAME_CLUSTER1=$("
        ),
        "{chapter}"
    );
    // Singular resource names, which kubectl resolves (never a made-up plural).
    assert!(!chapter.contains("gateways.networking") && !chapter.contains("virtualservices."));
}

#[test]
fn the_example_site_builds_strict_as_committed_and_its_page_is_current() {
    python::ensure("material, mkdocs", &["mkdocs-material"]);
    let committed =
        std::fs::read_to_string(root().join("examples/mkdocs-site/docs/traffic-management.md"))
            .expect("the example site's page is committed");
    let (code, md, err) = scenario(&["docs", "playbooks/traffic-management.yaml"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        committed == md,
        "examples/mkdocs-site/docs/traffic-management.md is out of date: run `scenario docs playbooks/traffic-management.yaml -o examples/mkdocs-site/docs/traffic-management.md`"
    );
    let tmp = tempfile::tempdir().unwrap();
    site::mkdocs_build(&root().join("examples/mkdocs-site/mkdocs.yml"), tmp.path());
    assert!(tmp.path().join("traffic-management/index.html").is_file());
}
