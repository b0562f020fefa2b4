//! Hostile remote content through every output channel. A local server
//! answers a probe with control characters (ESC, BEL, CR, C1), code points
//! XML cannot carry (U+FFFE, U+FFFF), markup (`</script><script>`, an
//! `onerror` image, critic marks), Markdown fences and a 1,000,000-character
//! value. The terminal (with and without colour), JSON Lines, the JUnit
//! report (read by junitparser), the JSON report, the HTML report (opened in
//! headless Chromium) and the `docs --from-report` page (built by mkdocs)
//! must each stay well-formed, show no control sequence and run no script.

use crate::support::python;
use crate::support::site;

use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::Command;

use crate::support::Scenario;

/// The hostile answer: JSON whose strings carry everything above.
fn hostile_body() -> String {
    serde_json::json!({
        "color": "blue\u{1b}[31mRED\u{7}\r\u{9b}2J\u{fffe}\u{ffff}</script><script>document.title='pwned'</script>",
        "zbig": "x".repeat(1_000_000),
        "fence": "```\n~~~~\n<img src=x onerror=\"document.title='pwned-img'\">\n````\n# heading",
        "critic": "{==<b>critic</b>==} {++<script>document.title='pwned-critic'</script>++}",
    })
    .to_string()
}

/// A server on 127.0.0.1 that answers every request with `body` (one
/// connection at a time is enough for these probes). Returns its URL.
fn serve(body: String) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let body = body.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(head.as_bytes());
                let _ = s.write_all(body.as_bytes());
            });
        }
    });
    format!("http://{addr}/api")
}

/// A playbook whose probe reads the hostile answer and fails a check on it
/// (so the values land in failure messages, details and checks).
fn playbook(dir: &Path, url: &str) -> std::path::PathBuf {
    let p = dir.join("hostile.yaml");
    std::fs::write(
        &p,
        format!(
            "name: hostile\ntitle: \"Hostile\\rinjected: 1\\u2028also: 2\\x85third: 3\"\nsummary: \"ok\\r\\nsummary-key: 1\"\nauthors: [\"a\\rb: c\"]\nsteps:\n  - name: hostile\n    probe:\n      url: {url}\n      requests: 3\n      concurrency: 1\n      extract: {{ color: $.color, zbig: $.zbig, fence: $.fence, critic: $.critic }}\n      expect:\n        each:\n          - {{ value: color, equals: blue }}\n          - {{ value: zbig, equals: small }}\n"
        ),
    )
    .unwrap();
    p
}

/// Nothing of the server's answer reaches a terminal as a control
/// character, and no value is printed whole.
fn assert_terminal_safe(text: &str, coloured: bool) {
    for (bad, what) in [
        ("\u{1b}[31mRED", "the server's ESC sequence"),
        ("\u{7}", "BEL"),
        ("\u{9b}", "a C1 control (CSI)"),
        ("\u{fffe}", "U+FFFE"),
        ("\r", "a carriage return"),
    ] {
        assert!(!text.contains(bad), "{what} reached the terminal:\n{text}");
    }
    assert!(
        text.contains("blue\\u{1b}[31mRED\\u{7}\\r\\u{9b}2J"),
        "the value is shown escaped:\n{text}"
    );
    assert!(
        !text.contains(&"x".repeat(1001)),
        "a 1,000,000-character value printed whole"
    );
    assert!(
        text.contains(" characters)"),
        "a cut line says how long it was:\n{text}"
    );
    // Only scenario's own colours remain, and only when colours are on.
    let escapes = text.matches('\u{1b}').count();
    if coloured {
        assert!(escapes > 0, "colours were asked for:\n{text}");
        let sgr = regex_free_sgr_count(text);
        assert_eq!(
            escapes, sgr,
            "every ESC starts one of scenario's colour codes:\n{text}"
        );
    } else {
        assert_eq!(escapes, 0, "no ESC at all without colours:\n{text}");
    }
}

/// How many ESC are scenario's SGR colour codes (`ESC [ digits;... m`).
fn regex_free_sgr_count(text: &str) -> usize {
    text.match_indices('\u{1b}')
        .filter(|(i, _)| {
            let rest = &text[i + 1..];
            rest.starts_with('[')
                && rest[1..].find('m').is_some_and(|end| {
                    rest[1..1 + end]
                        .chars()
                        .all(|c| c.is_ascii_digit() || c == ';')
                })
                && !rest.starts_with("[31mRED")
        })
        .count()
}

#[test]
fn plain_terminal_output_without_colour_shows_remote_controls_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let pb = playbook(dir.path(), &serve(hostile_body()));
    let out = Scenario::new()
        .current_dir(dir.path())
        .args(["run", pb.to_str().unwrap()])
        .envs([("NO_COLOR", "1")])
        .run();
    assert_eq!(out.status, Some(1), "the checks fail: {out:?}");
    let text = out.both();
    assert_terminal_safe(&text, false);
    // The summary at the end repeats the failures, as safely.
    assert!(text.contains("failures:"), "{text}");
}

#[test]
fn live_terminal_output_with_colour_shows_remote_controls_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let pb = playbook(dir.path(), &serve(hostile_body()));
    // A pseudo-terminal, so that scenario runs its live, coloured printer.
    let cmd = format!("{} run {}", env!("CARGO_BIN_EXE_scenario"), pb.display());
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(dir.path())
        .env_remove("NO_COLOR")
        .env("FORCE_COLOR", "1")
        .env("TERM", "xterm")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    // The progress bar redraws with CR and erase sequences of its own:
    // judge the lines scenario printed for the finished step.
    let printed: String = text
        .lines()
        .map(|l| l.rsplit('\r').next().unwrap_or(l))
        .filter(|l| !l.contains("\u{1b}[2K") && !l.contains("\u{1b}[?25"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(printed.contains("FAILED"), "{printed}");
    assert_terminal_safe(&printed, true);
}

#[test]
fn json_lines_stay_valid_json_with_every_value_cut() {
    let dir = tempfile::tempdir().unwrap();
    let pb = playbook(dir.path(), &serve(hostile_body()));
    let out = Scenario::new()
        .current_dir(dir.path())
        .args(["run", pb.to_str().unwrap(), "--format", "json"])
        .run();
    assert_eq!(out.status, Some(1));
    let text = out.stdout;
    let mut events = 0;
    for line in text.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v["event"].is_string());
        events += 1;
    }
    assert!(events >= 3, "{text}");
    assert!(!text.contains(&"x".repeat(1001)), "a value printed whole");
    // Raw control characters are escaped by JSON; none is left for a terminal tailing the log.
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text}"
    );
    assert!(!text.contains('\u{fffe}'), "a noncharacter in JSON Lines");
}

#[test]
fn reports_are_well_formed_and_run_no_script() {
    let dir = tempfile::tempdir().unwrap();
    let pb = playbook(dir.path(), &serve(hostile_body()));
    let (j, x, h) = (
        dir.path().join("r.json"),
        dir.path().join("r.xml"),
        dir.path().join("r.html"),
    );
    let out = Scenario::new()
        .current_dir(dir.path())
        .args([
            "run",
            pb.to_str().unwrap(),
            "--report",
            &format!("json={}", j.display()),
            "--report",
            &format!("junit={}", x.display()),
            "--report",
            &format!("html={}", h.display()),
        ])
        .run();
    assert_eq!(out.status, Some(1), "{out:?}");
    // JSON: parses, and keeps no value whole.
    let json = std::fs::read_to_string(&j).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(
        !json.contains(&"x".repeat(1001)),
        "a 1,000,000-character value in the JSON report"
    );
    assert!(
        v.to_string().contains("blue\\\\u{1b}[31mRED"),
        "the value, escaped"
    );
    // JUnit: junitparser (what CI systems use) reads it.
    python::ensure("junitparser", &["junitparser"]);
    let xml = std::fs::read_to_string(&x).unwrap();
    assert!(!xml.contains('\u{fffe}') && !xml.contains('\u{ffff}') && !xml.contains('\u{1b}'));
    let parsed = Command::new("python3")
        .args([
            "-c",
            "import sys; from junitparser import JUnitXml\nx = JUnitXml.fromfile(sys.argv[1])\nfor s in x:\n  for c in s:\n    print(c.name, [r._tag for r in c.result])",
        ])
        .arg(&x)
        .output()
        .unwrap();
    assert!(
        parsed.status.success(),
        "{}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&parsed.stdout).trim(),
        "hostile ['failure']"
    );
    // HTML: Chromium runs none of the answer's markup.
    let html = std::fs::read_to_string(&h).unwrap();
    assert!(!html.contains("<script"), "the report has no script at all");
    let Some(browser) = site::chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "make test installs chromium"
        );
        eprintln!("chromium not installed (make test installs it): skipping the browser part");
        return;
    };
    let dom = site::dump_dom(browser, &h);
    assert!(dom.contains("<html"), "chromium loaded the report: {dom}");
    assert_no_hostile_element(&dom);
    assert!(
        dom.contains("&lt;/script&gt;&lt;script&gt;"),
        "the markup is shown as text"
    );
}

#[test]
fn the_page_from_a_hostile_report_fences_everything_and_builds() {
    let dir = tempfile::tempdir().unwrap();
    let pb = playbook(dir.path(), &serve(hostile_body()));
    let j = dir.path().join("r.json");
    let out = Scenario::new()
        .current_dir(dir.path())
        .args([
            "run",
            pb.to_str().unwrap(),
            "--report",
            &format!("json={}", j.display()),
        ])
        .run();
    assert_eq!(out.status, Some(1));
    let page = Scenario::new()
        .current_dir(dir.path())
        .args([
            "docs",
            pb.to_str().unwrap(),
            "--from-report",
            j.to_str().unwrap(),
        ])
        .run();
    assert!(page.success(), "{page:?}");
    let md = page.stdout;
    assert!(
        !md.contains(&"x".repeat(1001)),
        "a value printed whole on the page"
    );
    // The front matter is YAML with exactly the keys scenario wrote.
    let front = md.split("---\n").nth(1).unwrap();
    python::ensure("yaml", &["pyyaml"]);
    let keys = Command::new("python3")
        .args([
            "-c",
            "import sys, yaml; print(sorted(yaml.safe_load(sys.stdin.read())))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(front.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&keys.stdout).trim(),
        "['authors', 'summary', 'title']",
        "front matter:\n{front}"
    );
    // The answer's own fences cannot close the blocks that show it: they
    // are fenced with one more backtick than the longest run inside.
    assert!(md.contains("Output of a real run:\n\n`````text\n"), "{md}");
    assert!(md.contains("    `````text\n"), "{md}");
    // Built by mkdocs-material and opened in Chromium: no script of the answer ran.
    let Some(browser) = site::chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "make test installs chromium"
        );
        eprintln!("chromium not installed (make test installs it): skipping the site part");
        return;
    };
    python::ensure("mkdocs, material", &["mkdocs-material"]);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let site_dir = dir.path().join("site");
    assert!(
        Command::new("cp")
            .arg("-r")
            .arg(root.join("examples/mkdocs-site"))
            .arg(&site_dir)
            .status()
            .unwrap()
            .success()
    );
    std::fs::write(site_dir.join("docs/traffic-management.md"), &md).unwrap();
    site::mkdocs_build(&site_dir.join("mkdocs.yml"), &dir.path().join("html"));
    let built = dir.path().join("html/traffic-management/index.html");
    let dom = site::dump_dom(browser, &built);
    assert!(dom.contains("</html>"), "chromium loaded the page");
    assert_no_hostile_element(&dom);
    assert!(
        dom.contains("&lt;/script&gt;&lt;script&gt;"),
        "the answer's markup is shown as text"
    );
}

/// No markup of the answer became an element, and none of its scripts ran
/// (each would have set the title to `pwned...`).
fn assert_no_hostile_element(dom: &str) {
    for bad in [
        "<title>pwned",
        "<script>document.title",
        "<img src=\"x\"",
        "<b>critic</b>",
        "<h1 id=\"heading\"",
    ] {
        assert!(!dom.contains(bad), "`{bad}` in the DOM:\n{dom}");
    }
}
