//! Terminal output, with and without a TTY (a pseudo-terminal through
//! util-linux `script`), snapshot-tested after normalising durations.

use std::process::Command;

use crate::support::Scenario;

const PLAYBOOK: &str =
    "name: tty\nsteps:\n  - name: first\n    sleep: 700ms\n  - name: second\n    sleep: 10ms\n";

const SNAPSHOT: &str = "\
[1/2] first (sleep)
  slept 700ms
  passed in N.NNs
[2/2] second (sleep)
  slept 10ms
  passed in N.NNs

STEP    KIND      RESULT       TIME  CLUSTERS
first   sleep     passed      N.NNs  -
second  sleep     passed      N.NNs  -

tty: passed — 2 passed, 0 failed, 0 errored, 0 skipped in N.NNs
";

/// Drops ANSI sequences and spinner frames (what a terminal overwrites),
/// and replaces durations with N.NN.
fn normalise(raw: &str) -> String {
    let ansi = regex::Regex::new(r"\x1b\[[0-9;?]*[A-Za-z]").unwrap();
    let secs = regex::Regex::new(r"\d+\.\d\ds").unwrap();
    let text = ansi.replace_all(raw, "");
    let mut out = String::new();
    for line in text.split('\n') {
        let last = line.split('\r').rfind(|s| !s.is_empty()).unwrap_or("");
        out.push_str(&secs.replace_all(last, "N.NNs"));
        out.push('\n');
    }
    out.trim_end_matches('\n').to_owned() + "\n"
}

fn in_pty(pb: &std::path::Path, env: &[(&str, &str)]) -> String {
    let cmd = format!("{} run {}", env!("CARGO_BIN_EXE_scenario"), pb.display());
    let mut c = Command::new("script");
    c.args(["-qec", &cmd, "/dev/null"])
        .env("TERM", "xterm")
        .env_remove("NO_COLOR");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("util-linux script");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn without_a_tty_output_is_plain_lines() {
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("p.yaml");
    std::fs::write(&pb, PLAYBOOK).unwrap();
    let raw = Scenario::new().arg("run").arg(&pb).run().stdout;
    assert!(
        !raw.contains('\x1b') && !raw.contains('\r'),
        "no escape sequences in a pipe: {raw:?}"
    );
    assert_eq!(normalise(&raw), SNAPSHOT);
}

#[test]
fn on_a_tty_steps_show_a_live_spinner_and_colors() {
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("p.yaml");
    std::fs::write(&pb, PLAYBOOK).unwrap();
    let raw = in_pty(&pb, &[]);
    assert!(
        raw.contains("[1/2] first (sleep), timeout 2m 0s"),
        "a spinner with the step, its timeout and its elapsed time: {raw:?}"
    );
    assert!(
        raw.contains("\x1b[32mpassed\x1b[0m"),
        "colored verdicts: {raw:?}"
    );
    assert_eq!(normalise(&raw.replace("\r\n", "\n")), SNAPSHOT);
    // NO_COLOR keeps the spinner but drops the colors.
    let raw = in_pty(&pb, &[("NO_COLOR", "1")]);
    assert!(!raw.contains("\x1b[32m"), "{raw:?}");
    assert_eq!(normalise(&raw.replace("\r\n", "\n")), SNAPSHOT);
}

/// A server on loopback that answers every request `200 ok` and closes.
fn tiny_server() -> String {
    use std::io::{BufRead as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = std::io::BufReader::new(&conn);
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                    line.clear();
                }
                let _ = (&conn).write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                );
            });
        }
    });
    url
}

#[test]
fn on_a_tty_a_probe_shows_its_answers_as_a_bar() {
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("p.yaml");
    let url = tiny_server();
    std::fs::write(
        &pb,
        format!("name: bar\nsteps:\n  - name: ask\n    probe:\n      url: {url}\n      requests: 8\n      rate: 8\n"),
    )
    .unwrap();
    let raw = in_pty(&pb, &[("NO_COLOR", "1")]);
    assert!(
        raw.contains("probe: ") && raw.contains("/8 answers, ") && raw.contains(" (paced at 8/s)"),
        "a bar with the answers out of the requests, the rate and the pace: {raw:?}"
    );
    // Not in a pipe.
    let out = Command::new(env!("CARGO_BIN_EXE_scenario"))
        .arg("run")
        .arg(&pb)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(!text.contains("/8 answers"), "no bar in a pipe: {text}");
}
