//! What a failed probe check says it found: a sentence (`0 of 20 answers
//! passed; observed blue ×20`, `no answer to check it on`), never the raw
//! JSON summary the JSON report keeps, on the terminal and in the HTML report.

use crate::support::Scenario;
use crate::support::http::{self, Behaviour};

fn playbook(dir: &std::path::Path, url: &str) -> std::path::PathBuf {
    let p = dir.join("p.yaml");
    std::fs::write(
        &p,
        format!(
            "name: messages\nsteps:\n  - name: green\n    probe:\n      url: {url}\n      requests: 20\n      extract: {{ color: $.color }}\n      expect:\n        each:\n          - {{ value: color, equals: green }}\n"
        ),
    )
    .unwrap();
    p
}

#[test]
fn a_failed_probe_check_says_what_it_found_in_words() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let blue = rt.block_on(http::start(Behaviour::default(), None));
    let denied = rt.block_on(http::start(
        Behaviour {
            weights: vec![("denied".into(), 1.0)],
            ..Behaviour::default()
        },
        None,
    ));
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("r.html");

    let p = playbook(dir.path(), &blue.url("http"));
    let o = Scenario::new()
        .arg("run")
        .arg(&p)
        .arg("--report")
        .arg(format!("html={}", html.display()))
        .expect_status(1)
        .run();
    assert!(
        o.stdout.contains(
            "p.yaml:10:13: color == \"green\"; found 0 of 20 answers passed; observed blue ×20\n"
        ),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout
            .contains("    check color == \"green\": 0 of 20 answers passed\n"),
        "{}",
        o.stdout
    );
    assert!(!o.stdout.contains("{\"answers\""), "{}", o.stdout);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("found <code>0 of 20 answers passed; observed blue ×20</code>"),
        "{page}"
    );

    // Every answer a 403: no answer to check, said so (not "0 of 0").
    let p = playbook(dir.path(), &denied.url("http"));
    let o = Scenario::new().arg("run").arg(&p).expect_status(1).run();
    assert!(
        o.stdout
            .contains("p.yaml:10:13: color == \"green\"; found no answer to check it on\n"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout
            .contains("    check color == \"green\": no answer to check it on\n"),
        "{}",
        o.stdout
    );
    assert!(!o.stdout.contains("0 of 0"), "{}", o.stdout);
    assert!(!o.stdout.contains("{\"answers\""), "{}", o.stdout);
}
