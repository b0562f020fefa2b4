//! The chapter page's commands and a run's output on it, without a cluster:
//! the page's bash blocks run under `bash -euo pipefail` against a stand-in
//! `kubectl`, and `docs --from-report` reads a report written here.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

fn scenario(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_scenario"))
        .args(args)
        .current_dir(dir)
        .env_remove("CLUSTER1")
        .env_remove("CLUSTER2")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every top-level `bash` block of a page, in order.
fn bash_blocks(md: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in md.lines() {
        if !inside && line == "```bash" {
            inside = true;
        } else if inside && line == "```" {
            inside = false;
        } else if inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// A report written by hand made whole: what scenario writes for each
/// outcome besides the fields a test sets (a verdict, a duration, no
/// captures, no failed checks), and for a probe's data (`summary` only)
/// the rest of its observations.
fn complete(mut report: serde_json::Value) -> serde_json::Value {
    use serde_json::json;
    for pb in report["playbooks"].as_array_mut().unwrap() {
        for step in pb["steps"].as_array_mut().unwrap() {
            let status = step["status"].clone();
            for o in step["outcomes"].as_array_mut().unwrap() {
                let o = o.as_object_mut().unwrap();
                o.entry("status").or_insert(status.clone());
                o.entry("duration").or_insert(json!(0.5));
                o.entry("captures").or_insert(json!({}));
                o.entry("checks").or_insert(json!([]));
                let Some(data) = o.get_mut("data").and_then(|d| d.as_object_mut()) else {
                    continue;
                };
                if let Some(summary) = data.get_mut("summary").and_then(|s| s.as_object_mut()) {
                    let answers: u64 = summary["statuses"]
                        .as_object()
                        .unwrap()
                        .values()
                        .map(|n| n.as_u64().unwrap())
                        .sum();
                    let errors = summary["statuses"]
                        .get("error")
                        .cloned()
                        .unwrap_or(json!(0));
                    summary.insert("answers".into(), json!(answers));
                    summary.insert("errors".into(), errors);
                    summary.insert("error_rate".into(), json!(0.0));
                    summary.insert("latency_ms".into(), json!({ "p50": 1.0 }));
                    summary.insert("checks_passed".into(), json!([]));
                    data.insert("url".into(), json!("http://127.0.0.1:9/api"));
                    data.insert("sent".into(), json!(answers));
                    data.insert("unanswered".into(), json!(0));
                    data.insert("judged_on".into(), json!(format!("all {answers} answers")));
                    data.insert("distribution".into(), json!(null));
                    data.insert("samples".into(), json!([]));
                }
            }
        }
    }
    report
}

#[test]
fn a_patch_restore_runs_under_bash_euo_pipefail() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let md = scenario(root, &["docs", "tests/playbooks/patch.yaml"]);
    let script = bash_blocks(&md);
    assert!(
        script.contains("OLD_MODE_CLUSTER1=$(kubectl --context=\"${CLUSTER1}\" get configmap settings -n default -o jsonpath='{.data.mode}')"),
        "the old value is read before the patch:\n{script}"
    );
    // A kubectl that answers every read with `fast` and logs what it was asked.
    let dir = tempfile::tempdir().unwrap();
    let kubectl = dir.path().join("kubectl");
    std::fs::write(
        &kubectl,
        "#!/bin/sh\necho \"$*\" >> \"$(dirname \"$0\")/calls\"\ncase \"$*\" in *jsonpath*) printf fast ;; esac\n",
    )
    .unwrap();
    std::fs::set_permissions(&kubectl, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .env("PATH", format!("{}:/usr/bin:/bin", dir.path().display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the page's commands stop under bash -euo pipefail:\n{}\n{script}",
        String::from_utf8_lossy(&out.stderr)
    );
    let calls = std::fs::read_to_string(dir.path().join("calls")).unwrap();
    // The restore sends the value read before the patch.
    assert!(
        calls.contains(r#"patch configmap settings --type merge -p {"data":{"mode":"fast"}}"#),
        "{calls}"
    );
}

#[test]
fn a_report_shows_kubectl_text_new_objects_only_and_no_machine_path() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("m")).unwrap();
    std::fs::write(
        d.join("m/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: fresh, namespace: default }\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: old, namespace: default }\n",
    )
    .unwrap();
    std::fs::write(
        d.join("p.yaml"),
        "name: page\nclusters:\n  c1: {}\nsteps:\n  - name: apply\n    clusters: c1\n    apply: { manifests: [m/cm.yaml] }\n  - name: patch\n    clusters: c1\n    patch:\n      resource: { apiVersion: v1, kind: ConfigMap, namespace: default, name: old }\n      body: { data: { a: b } }\n  - name: exec\n    exec: { command: [\"{{ playbook.dir }}/x.sh\"] }\n",
    )
    .unwrap();
    let abs = d.canonicalize().unwrap().display().to_string();
    let report = serde_json::json!({ "playbooks": [{ "name": "page", "steps": [
        { "name": "apply", "status": "passed", "outcomes": [{ "cluster": "c1", "message": "applied 2 objects",
          "details": ["ConfigMap default/fresh", "ConfigMap default/old"],
          "data": { "existed": ["ConfigMap default/old"] } }] },
        { "name": "patch", "status": "passed", "outcomes": [{ "cluster": "c1", "message": "patched ConfigMap default/old",
          "details": ["merge patch {\"data\":{\"a\":\"b\"}}"], "data": { "kind": "ConfigMap", "name": "old", "changed": true } }] },
        { "name": "exec", "status": "passed", "outcomes": [{ "cluster": null, "message": format!("`{abs}/x.sh` exited with 0"),
          "details": [], "data": { "stdout": format!("wrote {abs}/out.txt"), "stderr": "" } }] },
    ]}]});
    std::fs::write(d.join("r.json"), complete(report).to_string()).unwrap();
    let md = scenario(d, &["docs", "p.yaml", "--from-report", "r.json"]);
    assert!(
        md.contains("{==configmap/fresh serverside-applied==}"),
        "{md}"
    );
    assert!(
        md.contains("\nconfigmap/old serverside-applied\n"),
        "an object that existed is not new:\n{md}"
    );
    assert!(
        md.contains("\nconfigmap/old patched\n"),
        "kubectl's text for a patch:\n{md}"
    );
    assert!(
        md.contains("\nwrote out.txt\n"),
        "what the command printed, relative to the root:\n{md}"
    );
    assert!(
        !md.contains(&abs),
        "a path of the machine on the page:\n{md}"
    );
}

#[test]
fn a_probe_shows_what_its_curl_loop_prints() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("p.yaml"),
        "name: probes\nsteps:\n  - name: colors\n    probe:\n      url: http://127.0.0.1:9/api\n      requests: 10\n      extract: { color: $.color }\n  - name: statuses\n    probe:\n      url: http://127.0.0.1:9/api\n      requests: 10\n",
    )
    .unwrap();
    // Two answers had no `color` (the loop's sed prints nothing for them) and
    // one request failed (curl's `%{http_code}` is then 000).
    let report = serde_json::json!({ "playbooks": [{ "name": "probes", "steps": [
        { "name": "colors", "status": "passed", "outcomes": [{ "cluster": null, "message": "10 answers", "details": [],
          "data": { "summary": { "values": { "color": { "blue": 5, "green": 3, "(missing)": 2 } },
                    "statuses": { "200": 10 } },
                    "distribution": { "categories": ["blue", "other"], "counts": [5, 5] } } }] },
        { "name": "statuses", "status": "passed", "outcomes": [{ "cluster": null, "message": "10 answers", "details": [],
          "data": { "summary": { "values": {}, "statuses": { "200": 9, "error": 1 } } } }] },
    ]}]});
    std::fs::write(d.join("r.json"), complete(report).to_string()).unwrap();
    let md = scenario(d, &["docs", "p.yaml", "--from-report", "r.json"]);
    assert!(
        md.contains("```text\n      5 blue\n      3 green\n```"),
        "{md}"
    );
    assert!(
        !md.contains("(missing)") && !md.contains(" other\n"),
        "{md}"
    );
    assert!(
        md.contains("```text\n      1 000\n      9 200\n```"),
        "{md}"
    );
}

/// The count of each curl loop of a page (`seq 1 N`) and the sum of the
/// `uniq -c` counts of the run's output block that follows it.
fn loops_and_shown_sums(md: &str) -> Vec<(u64, u64)> {
    md.split("$(seq 1 ")
        .skip(1)
        .map(loop_and_shown_sum)
        .collect()
}

fn loop_and_shown_sum(after: &str) -> (u64, u64) {
    let count: u64 = after.split(')').next().unwrap().parse().unwrap();
    let view = after
        .split("Output of a real run:\n\n```text\n")
        .nth(1)
        .expect("an output block");
    let view = view.split("\n```").next().unwrap();
    let sum = view
        .lines()
        .filter_map(|l| l.trim_start().split_once(' '))
        .filter_map(|(n, _)| n.parse::<u64>().ok())
        .sum();
    (count, sum)
}

#[test]
fn an_early_decided_probe_shows_a_loop_whose_tally_is_the_one_shown() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("p.yaml"),
        "name: probes\nsteps:\n  - name: colors\n    probe:\n      url: http://127.0.0.1:9/api\n      requests: 2000\n      extract: { color: $.color }\n      expect:\n        distribution: { value: color, weights: { blue: 50, green: 50 } }\n  - name: statuses\n    probe:\n      url: http://127.0.0.1:9/api\n      requests: 1000\n",
    )
    .unwrap();
    // The split was decided after 412 answers; the status probe timed out
    // after 37 answers (2 of them failed requests).
    let report = serde_json::json!({ "playbooks": [{ "name": "probes", "steps": [
        { "name": "colors", "status": "passed", "outcomes": [{ "cluster": null, "message": "412 answers", "details": [],
          "data": { "summary": { "values": { "color": { "blue": 210, "green": 202 } },
                    "statuses": { "200": 412 } },
                    "distribution": { "categories": ["blue", "green", "(other)"], "counts": [210, 202, 0] } } }] },
        { "name": "statuses", "status": "failed", "outcomes": [{ "cluster": null, "message": "timed out", "details": [],
          "data": { "summary": { "values": {}, "statuses": { "200": 35, "error": 2 } } } }] },
    ]}]});
    std::fs::write(d.join("r.json"), complete(report).to_string()).unwrap();
    let md = scenario(d, &["docs", "p.yaml", "--from-report", "r.json"]);
    assert_eq!(loops_and_shown_sums(&md), [(412, 412), (37, 37)], "{md}");
    assert!(
        md.contains("# the run judged 412 answers (the probe sends up to 2000): this loop sends 412\nfor i in $(seq 1 412);"),
        "{md}"
    );
    // Without a report, the loop sends the probe's own count.
    let md = scenario(d, &["docs", "p.yaml"]);
    assert!(
        md.contains("$(seq 1 2000)") && md.contains("$(seq 1 1000)"),
        "{md}"
    );
    assert!(!md.contains("the run judged"), "{md}");
}

/// Decodes standard base64 (the test's own, to check what the page applies).
fn unbase64(s: &str) -> Vec<u8> {
    let abc = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let digits: Vec<u32> = s
        .trim_end_matches('=')
        .bytes()
        .map(|c| abc.iter().position(|&b| b == c).expect("base64") as u32)
        .collect();
    let mut out = Vec::new();
    for chunk in digits.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, d)| n | (d << (18 - 6 * i)));
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

#[test]
fn secret_values_in_a_manifest_are_variables_the_reader_exports() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("m")).unwrap();
    let long_key = format!("k{}", "-long".repeat(60));
    // Hostile values: newlines, quotes, command substitution, backticks,
    // a variable, a backslash, a value shorter than redaction sees, and
    // `data` that is not text (kept in base64 as written).
    let text: Vec<(String, String)> = vec![
        ("db.password".into(), "line1\nline2\n".into()),
        ("db-password".into(), "it's \"quoted\"".into()),
        ("ключ".into(), "$(touch pwned)`touch pwned2`".into()),
        (long_key.clone(), "${HOME}\\n".into()),
        ("pin".into(), "ab".into()),
    ];
    let mut yaml = String::from(
        "apiVersion: v1\nkind: Secret\nmetadata: { name: app-creds, namespace: default }\ntype: Opaque\nstringData:\n",
    );
    for (k, v) in &text[..4] {
        yaml.push_str(&format!(
            "  {}: {}\n",
            serde_json::json!(k),
            serde_json::json!(v)
        ));
    }
    yaml.push_str("data:\n  pin: YWI=\n  blob: /wAQ\n");
    std::fs::write(d.join("m/secret.yaml"), &yaml).unwrap();
    std::fs::write(
        d.join("m/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: plain }\ndata: { greeting: hello }\n",
    )
    .unwrap();
    std::fs::write(
        d.join("p.yaml"),
        "name: secrets\nclusters:\n  c1: {}\nsteps:\n  - name: apply\n    clusters: c1\n    apply: { manifests: [m/secret.yaml, m/cm.yaml] }\n",
    )
    .unwrap();
    let md = scenario(d, &["docs", "p.yaml"]);
    // No value on the page, in any form, and nothing redacted either.
    for (_, v) in &text {
        for shown in [
            v.clone(),
            serde_json::json!(v).to_string(),
            v.trim().to_owned(),
        ] {
            assert!(!md.contains(&shown), "{shown:?} on the page:\n{md}");
        }
    }
    assert!(!md.contains("YWI=") && !md.contains("/wAQ"), "{md}");
    assert!(!md.contains("<redacted>"), "{md}");
    // A document without secrets is as written.
    assert!(
        md.contains("metadata: { name: plain }\ndata: { greeting: hello }\n"),
        "{md}"
    );
    // Each value a variable, exported in "Ensure Environment" with where it is written.
    let ensure = md.split("```bash\n").nth(1).unwrap();
    let ensure = ensure.split("\n```").next().unwrap();
    let mut env: Vec<(String, String)> = Vec::new();
    let lines: Vec<&str> = ensure.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        let Some(what) = l.strip_prefix("# key ") else {
            continue;
        };
        let (key, rest) = what.split_once(" of Secret ").unwrap();
        assert!(rest.starts_with("default/app-creds"), "{l}");
        // A long key is cut: `k-long-long…-long… (333 characters)`.
        let (key, cut) = match key.split_once('…') {
            Some((k, _)) => (k, true),
            None => (key, false),
        };
        let name = lines[i + 1]
            .strip_prefix("export ")
            .and_then(|x| x.split('=').next())
            .unwrap_or_else(|| panic!("an export after {l}:\n{ensure}"));
        assert!(
            name.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                && name.len() <= 60,
            "{name}"
        );
        assert!(
            !env.iter().any(|(n, _)| n == name),
            "{name} twice:\n{ensure}"
        );
        let value = if key == "blob" {
            assert!(rest.ends_with(" (in base64)"), "{l}");
            "/wAQ".to_owned()
        } else {
            text.iter()
                .find(|(k, _)| k == key || (cut && k.starts_with(key)))
                .unwrap_or_else(|| panic!("no key {key}:\n{ensure}"))
                .1
                .clone()
        };
        env.push((name.to_owned(), value));
    }
    assert_eq!(env.len(), 6, "{ensure}");
    assert!(
        env.iter().any(|(n, _)| n == "APP_CREDS_DB_PASSWORD"),
        "{ensure}"
    );
    // Run as printed, with the exports filled: kubectl gets the same Secret.
    let bin = tempfile::tempdir().unwrap();
    std::fs::write(
        bin.path().join("kubectl"),
        "#!/bin/sh\ncat >> \"$(dirname \"$0\")/applied\"\necho --- >> \"$(dirname \"$0\")/applied\"\n",
    )
    .unwrap();
    std::fs::set_permissions(
        bin.path().join("kubectl"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &bash_blocks(&md)])
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", bin.path().display()))
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(work.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::read_dir(work.path()).unwrap().next().is_none(),
        "a value ran as a command"
    );
    let applied = std::fs::read_to_string(bin.path().join("applied")).unwrap();
    let secret: serde_json::Value =
        serde_saphyr::from_str(applied.split("\n---\n").next().unwrap()).unwrap();
    assert_eq!(secret["metadata"]["name"], "app-creds");
    assert!(secret.get("stringData").is_none(), "{applied}");
    let data = secret["data"].as_object().unwrap();
    assert_eq!(data.len(), 6, "{applied}");
    for (k, v) in &text {
        assert_eq!(
            unbase64(data[k.as_str()].as_str().unwrap()),
            v.as_bytes(),
            "{k}:\n{applied}"
        );
    }
    assert_eq!(data["blob"], "/wAQ");
}
