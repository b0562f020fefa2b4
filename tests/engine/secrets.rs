//! Secrets never printed. A playbook takes a token from the environment
//! (`{{ env.TOKEN }}`) into a probe's URL, a secret header, a check, a
//! Secret's `stringData` and an `exec` command; it also holds a literal
//! secret header and a Secret with literal `data`. Every command (validate,
//! plan, docs, docs --from-report, run with the terminal, JSON Lines and
//! every report) is run and the secrets must appear nowhere, while the
//! chapter page refers to the token as a shell variable the reader exports.

use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::Command;

use crate::support::Scenario;

const TOKEN: &str = "tok-SUPER-s3cret-7731";
const LITERAL_KEY: &str = "literal-api-key-5309";
/// The decoded `data` of the literal Secret, and its base64 form.
const DATA: &str = "literal-base64-data";
const DATA_B64: &str = "bGl0ZXJhbC1iYXNlNjQtZGF0YQ==";
const STRING_DATA: &str = "literal-string-data-42";

/// Every form a secret could leak in (the token also in base64).
fn secrets() -> Vec<String> {
    let b64 = Command::new("sh")
        .args(["-c", &format!("printf %s {TOKEN} | base64")])
        .output()
        .unwrap();
    vec![
        TOKEN.to_owned(),
        String::from_utf8(b64.stdout).unwrap().trim().to_owned(),
        LITERAL_KEY.to_owned(),
        DATA.to_owned(),
        DATA_B64.to_owned(),
        STRING_DATA.to_owned(),
    ]
}

/// A server that echoes each request (method line and headers) as a JSON
/// answer: a server that reflects the token back must not make it leak.
fn serve() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let body =
                    serde_json::json!({ "color": "blue", "echo": String::from_utf8_lossy(&seen) })
                        .to_string();
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nset-cookie: s={TOKEN}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(head.as_bytes());
                let _ = s.write_all(body.as_bytes());
            });
        }
    });
    format!("http://{addr}/api")
}

/// A chapter that runs without a cluster (probe, exec) and one with the
/// Secret manifest (validate, plan, docs only).
fn write_playbooks(dir: &Path, url: &str) {
    std::fs::create_dir_all(dir.join("manifests")).unwrap();
    std::fs::write(
        dir.join("manifests/secret.yaml"),
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{ name: s, namespace: default }}\nstringData:\n  token: \"{{{{ env.TOKEN }}}}\"\n  other: {STRING_DATA}\ndata:\n  b: {DATA_B64}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("cluster.yaml"),
        "name: cluster\nclusters:\n  c1: { context: \"{{ env.CTX | default('c1') }}\" }\nsteps:\n  - name: secret\n    clusters: c1\n    apply:\n      manifests: [manifests/*.yaml]\n  - name: patch\n    clusters: c1\n    patch:\n      resource: { apiVersion: v1, kind: ConfigMap, namespace: default, name: cm }\n      body: { data: { token: \"{{ env.TOKEN }}\" } }\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("local.yaml"),
        format!(
            "name: local\nsteps:\n  - name: probe\n    probe:\n      url: \"{url}?t={{{{ env.TOKEN }}}}\"\n      requests: 3\n      concurrency: 1\n      headers: {{ Authorization: \"Bearer {{{{ env.TOKEN }}}}\", X-Api-Key: {LITERAL_KEY} }}\n      extract: {{ color: $.color, echo: $.echo }}\n      expect:\n        each:\n          - {{ value: color, equals: \"{{{{ env.TOKEN }}}}\" }}\n    continueOnError: true\n  - name: exec\n    exec:\n      command: [sh, -c, \"echo token is {{{{ env.TOKEN }}}}; echo $TOKEN >&2; exit 3\"]\n"
        ),
    )
    .unwrap();
}

/// The binary in `dir` with the token in its environment.
fn scenario(dir: &Path) -> Scenario {
    Scenario::new().current_dir(dir).env("TOKEN", TOKEN)
}

fn assert_no_secret(what: &str, text: &str) {
    for s in secrets() {
        assert!(!text.contains(&s), "{what} shows the secret `{s}`:\n{text}");
    }
}

#[test]
fn validate_plan_and_docs_show_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    write_playbooks(dir.path(), "http://127.0.0.1:9/api");
    for pb in ["cluster.yaml", "local.yaml"] {
        let v = scenario(dir.path()).args(["validate", pb]).run();
        assert!(v.success(), "{}", v.both());
        assert_no_secret("validate", &v.both());
        let p = scenario(dir.path()).args(["plan", pb]).run();
        assert!(p.success(), "{}", p.both());
        assert_no_secret("plan", &p.both());
        let d = scenario(dir.path()).args(["docs", pb]).run();
        assert!(d.success(), "{}", d.both());
        assert_no_secret("docs", &d.both());
    }
    let plan = scenario(dir.path())
        .args(["plan", "cluster.yaml"])
        .run()
        .both();
    assert!(
        plan.contains(r#"{"data":{"token":"<redacted>"}}"#),
        "{plan}"
    );
    // The page: the token is a variable that the reader exports first.
    let page = scenario(dir.path())
        .args(["docs", "cluster.yaml"])
        .run()
        .both();
    assert!(
        page.contains("export TOKEN=\"${TOKEN:?set TOKEN first}\""),
        "{page}"
    );
    assert!(
        page.contains("  token: \"${TOKEN}\""),
        "the Secret refers to the variable:\n{page}"
    );
    assert!(
        page.contains(r#"'{"data":{"token":"'"${TOKEN}"'"}}'"#),
        "the patch too:\n{page}"
    );
    let local = scenario(dir.path())
        .args(["docs", "local.yaml"])
        .run()
        .both();
    assert!(local.contains("?t=${TOKEN}"), "{local}");
    // The context comes from the environment too but is no secret: it is exported as given.
    let ctx = scenario(dir.path())
        .args(["docs", "cluster.yaml"])
        .env("CTX", "kind-east")
        .run();
    assert!(ctx.both().contains("export C1=kind-east"), "{}", ctx.both());
}

#[test]
fn a_run_shows_no_secret_in_any_output_or_report() {
    let dir = tempfile::tempdir().unwrap();
    write_playbooks(dir.path(), &serve());
    let reports = ["json=r.json", "junit=r.xml", "html=r.html"];
    let mut args = vec!["run", "local.yaml", "--allow-exec"];
    for r in &reports {
        args.extend(["--report", r]);
    }
    let run = scenario(dir.path()).args(&args).run();
    let text = run.both();
    assert_eq!(run.status, Some(1), "the checks fail:\n{text}");
    assert!(
        text.contains("token is <redacted>"),
        "the exec output is shown, redacted:\n{text}"
    );
    assert!(text.contains("?t=<redacted>"), "{text}");
    assert_no_secret("the terminal", &text);
    for file in ["r.json", "r.xml", "r.html"] {
        let report = std::fs::read_to_string(dir.path().join(file)).unwrap();
        assert!(
            report.contains("redacted"),
            "{file} says where a secret was:\n{report}"
        );
        assert_no_secret(file, &report);
    }
    let mut json_args = args.clone();
    json_args.extend(["--format", "json"]);
    let jl = scenario(dir.path()).args(&json_args).run();
    assert_eq!(jl.status, Some(1));
    assert_no_secret("JSON Lines", &jl.both());
    // The page built from that report.
    let page = scenario(dir.path())
        .args(["docs", "local.yaml", "--from-report", "r.json"])
        .run();
    assert!(page.success(), "{}", page.both());
    assert_no_secret("docs --from-report", &page.both());
}

#[test]
fn a_header_error_names_the_header_and_not_the_value() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.yaml"),
        "name: h\nsteps:\n  - name: s\n    probe:\n      url: http://127.0.0.1:9/\n      headers: { Authorization: \"Bearer {{ env.TOKEN }}\" }\n",
    )
    .unwrap();
    let out = Scenario::new()
        .args(["validate", "p.yaml"])
        .current_dir(dir.path())
        .env("TOKEN", format!("{TOKEN}\n"))
        .run();
    assert_eq!(out.status, Some(2));
    let err = out.both();
    assert!(
        err.contains("error: header `Authorization` has an invalid value: character 29 is a control character (U+000A)"),
        "{err}"
    );
    assert_no_secret("validate", &err);
}
