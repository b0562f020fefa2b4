//! The reader's probe on the page, run for real against a local server: the
//! probe's count of requests in one curl, a tally that adds up to it, failed
//! requests counted instead of ending the script, and URLs that curl's
//! configuration could misread.

use std::process::Command;
use std::sync::atomic::Ordering;

use crate::support::http;

/// The page of a one-step playbook with this probe body.
fn page(probe: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let pb = tmp.path().join("p.yaml");
    std::fs::write(
        &pb,
        format!("name: p\nsteps:\n  - name: call\n    probe:\n{probe}"),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_scenario"))
        .arg("docs")
        .arg(&pb)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The line of the page that sends the requests.
fn probe_line(md: &str) -> String {
    md.lines()
        .find(|l| l.starts_with("for i in $(seq 1 "))
        .unwrap_or_else(|| panic!("no probe line:\n{md}"))
        .to_owned()
}

/// Runs a line as a reader's fresh shell would, strict: (exit code, stdout).
fn bash(line: &str) -> (Option<i32>, String) {
    let out = Command::new("env")
        .args([
            "-i",
            "PATH=/usr/bin:/bin",
            "bash",
            "-euo",
            "pipefail",
            "-c",
            line,
        ])
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// `uniq -c` output as (value, count).
fn tally(out: &str) -> Vec<(String, u64)> {
    out.lines()
        .filter_map(|l| {
            let (n, v) = l.trim().split_once(' ')?;
            Some((v.to_owned(), n.parse().ok()?))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_sends_the_probes_count_in_one_curl_and_tallies_every_answer() {
    let s = http::start(
        http::Behaviour {
            weights: vec![("blue".into(), 1.0), ("green".into(), 1.0)],
            ..Default::default()
        },
        None,
    )
    .await;
    let line = probe_line(&page(&format!(
        "      url: {}\n      requests: 300\n      extract: {{ color: $.color }}\n",
        s.url("http")
    )));
    assert_eq!(line.matches("curl ").count(), 1, "one curl: {line}");
    let (code, out) = bash(&line);
    assert_eq!(code, Some(0), "{line}\n{out}");
    assert_eq!(s.count.load(Ordering::SeqCst), 300, "{line}");
    let t = tally(&out);
    assert_eq!(t.iter().map(|(_, n)| n).sum::<u64>(), 300, "{out}");
    assert!(t.iter().all(|(v, _)| v == "blue" || v == "green"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_tally_counts_every_answer_and_a_dead_server_as_000() {
    let s = http::start(
        http::Behaviour {
            weights: vec![("blue".into(), 1.0), ("denied".into(), 1.0)],
            ..Default::default()
        },
        None,
    )
    .await;
    // No extracted value: the page tallies statuses (the bodies go nowhere).
    let line = probe_line(&page(&format!(
        "      url: {}\n      requests: 120\n",
        s.url("http")
    )));
    let (code, out) = bash(&line);
    assert_eq!(code, Some(0), "{line}\n{out}");
    let t = tally(&out);
    assert_eq!(t.iter().map(|(_, n)| n).sum::<u64>(), 120, "{out}");
    assert!(t.iter().all(|(v, _)| v == "200" || v == "403"), "{out}");
    assert!(!out.contains("RBAC"), "a body reached the tally: {out}");

    // Nothing listens: every request fails, the script goes on (even though
    // curl's last transfer failed), and the tally says so.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let line = probe_line(&page(&format!(
        "      url: http://127.0.0.1:{port}/api\n      requests: 7\n"
    )));
    let (code, out) = bash(&line);
    assert_eq!(code, Some(0), "{line}\n{out}");
    assert_eq!(tally(&out), [("000".to_owned(), 7)], "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quotes_dollars_and_backslashes_in_a_url_reach_curl_as_written() {
    let s = http::start(http::Behaviour::default(), None).await;
    // Text that the shell and curl's configuration syntax would both read:
    // each request still goes to this server, once per request.
    let url = format!(r#"{}?q=%22a$b\c`d'e"#, s.url("http"));
    let line = probe_line(&page(&format!(
        "      url: '{}'\n      requests: 5\n",
        url.replace('\'', "''")
    )));
    let (code, out) = bash(&line);
    assert_eq!(code, Some(0), "{line}\n{out}");
    assert_eq!(s.count.load(Ordering::SeqCst), 5, "{line}\n{out}");
    assert_eq!(tally(&out), [("200".to_owned(), 5)], "{line}\n{out}");
}

#[test]
fn a_paced_probe_keeps_one_curl_per_request_with_a_sleep() {
    let line = probe_line(&page(
        "      url: http://127.0.0.1:9/api\n      requests: 4\n      rate: 2/s\n",
    ));
    assert!(line.contains(" sleep 0.500; done"), "{line}");
    assert!(!line.contains("-K -"), "{line}");
}
