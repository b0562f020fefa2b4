//! The HTML report of a failing run on the lab, opened in headless Chromium
//! (Debian's `chromium`) with networking disabled: the failure, where its
//! check is written, and the split table are on the page; nothing is loaded
//! from elsewhere.

use crate::support;

use crate::support::http;
use crate::support::site;

use std::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_html_report_of_a_failing_run_shows_failures_locations_and_splits() {
    let Some(browser) = site::chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "make test installs chromium"
        );
        eprintln!("chromium not installed (make test installs it): skipping");
        return;
    };
    let lab = support::lab();
    let c = support::client("cluster1").await;
    let ns = support::namespace(&c, "html_report").await;
    let server = http::start(
        http::Behaviour {
            weights: vec![("blue".into(), 50.0), ("green".into(), 50.0)],
            ..Default::default()
        },
        None,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("p.yaml");
    std::fs::write(
        &book,
        format!(
            "name: html\nclusters:\n  cluster1: {{}}\nsteps:\n  - name: settings\n    clusters: cluster1\n    apply:\n      inline: |\n        apiVersion: v1\n        kind: ConfigMap\n        metadata: {{ name: settings, namespace: {ns} }}\n        data: {{ mode: slow }}\n  - name: mode-is-fast\n    clusters: cluster1\n    timeout: 2s\n    continueOnError: true\n    wait:\n      resource: {{ apiVersion: v1, kind: ConfigMap, namespace: {ns}, name: settings }}\n      jsonpath:\n        - {{ path: $.data.mode, equals: fast }}\n  - name: split\n    probe:\n      url: {}\n      requests: 400\n      extract: {{ color: $.color }}\n      expect:\n        distribution:\n          value: color\n          weights: {{ blue: 80, green: 20 }}\n",
            server.url("http")
        ),
    )
    .unwrap();
    let report = dir.path().join("report.html");
    let out = Command::new(env!("CARGO_BIN_EXE_scenario"))
        .arg("run")
        .arg(&book)
        .arg("--kubeconfig")
        .arg(&lab.kubeconfig)
        .arg("--report")
        .arg(format!("html={}", report.display()))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let html = std::fs::read_to_string(&report).unwrap();
    for external in [
        "src=\"http",
        "href=\"http",
        "url(http",
        "<script",
        "@import",
    ] {
        assert!(!html.contains(external), "self-contained: found {external}");
    }
    let dom = site::dump_dom(browser, &report);
    let book = book.display();
    assert!(dom.contains("<h1>scenario report</h1>"), "{dom}");
    assert!(
        dom.contains("timed out waiting until v1 ConfigMap settings"),
        "the failure: {dom}"
    );
    assert!(
        dom.contains(&format!("{book}:20:11")),
        "its location: {dom}"
    );
    assert!(
        dom.contains("expected <code>== \"fast\"</code>, found <code>\"slow\"</code>"),
        "{dom}"
    );
    assert!(
        dom.contains("<table class=\"split\">"),
        "the split table: {dom}"
    );
    for category in ["blue", "green"] {
        assert!(
            dom.contains(&format!("<tr><td>{category}</td><td class=\"num\">")),
            "{dom}"
        );
    }
    support::drop_namespace(&c, &ns).await;
}
