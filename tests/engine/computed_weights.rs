//! A split's weights computed at run time from a capture (or an export): the
//! probe judges the answers against the rendered weights, and weights that
//! render to something else than a mapping of 100 percent stop the step
//! before its first request, naming where they are written.

use std::path::Path;
use std::sync::atomic::Ordering;

use crate::support::Scenario;
use crate::support::http::{self, Behaviour};

/// A playbook whose probe of `url` judges the color split on weights
/// computed by `weights` (a template over the capture `raw`, the stdout of
/// `echo RAW`), and a var `many` that `--vars-file` may set.
fn playbook(dir: &Path, url: &str, raw: &str, weights: &str) -> std::path::PathBuf {
    let text = format!(
        "name: computed\nvars:\n  many: {{}}\nsteps:\n  - name: raw\n    exec:\n      command: [echo, '{raw}']\n      captureStdout: raw\n  - name: split\n    timeout: 20s\n    probe:\n      url: {url}\n      requests: 2000\n      extract: {{ color: $.color }}\n      expect:\n        distribution:\n          value: color\n          weights: \"{weights}\"\n"
    );
    let p = dir.join("p.yaml");
    std::fs::write(&p, text).unwrap();
    p
}

fn server(weights: &[(&str, f64)]) -> (tokio::runtime::Runtime, http::Server) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(http::start(
        Behaviour {
            weights: weights.iter().map(|(c, w)| ((*c).to_owned(), *w)).collect(),
            ..Behaviour::default()
        },
        None,
    ));
    (rt, s)
}

#[test]
fn weights_computed_from_a_capture_judge_the_split() {
    let (_rt, s) = server(&[("blue", 40.0), ("green", 60.0)]);
    let dir = tempfile::tempdir().unwrap();
    let computed = "{{ dict(blue=raw|int, green=100 - (raw|int)) }}";
    // The capture says 40: the 40/60 server passes.
    let p = playbook(dir.path(), &s.url("http"), "40", computed);
    let o = Scenario::new()
        .args(["run", "--allow-exec"])
        .arg(&p)
        .expect_status(0)
        .run();
    assert!(
        o.stdout
            .contains("color split within ±10 points of the weights"),
        "{}",
        o.stdout
    );
    // The capture says 90: the same server fails the same playbook.
    let p = playbook(dir.path(), &s.url("http"), "90", computed);
    let o = Scenario::new()
        .args(["run", "--allow-exec"])
        .arg(&p)
        .expect_status(1)
        .run();
    assert!(o.stdout.contains("the color split is off"), "{}", o.stdout);
    // Before the run, the plan says the weights are computed.
    let o = Scenario::new().arg("plan").arg(&p).expect_status(0).run();
    assert!(
        o.stdout.contains(
            "expect color split with the weights `dict(blue=raw|int, green=100 - (raw|int))` computes when the step runs (within ±10 points)"
        ),
        "{}",
        o.stdout
    );
}

#[test]
fn computed_weights_that_are_not_a_split_stop_the_step_before_any_request() {
    let (_rt, s) = server(&[("blue", 1.0)]);
    let dir = tempfile::tempdir().unwrap();
    let not_a_map = "is a list (`[\"40\"]`), not a mapping";
    let cases: [(&str, &str, &str); 9] = [
        // A capture that is a list instead of a mapping.
        ("40", "{{ [raw] }}", not_a_map),
        ("40", "{{ raw }}", "is text (`\"40\"`), not a mapping"),
        (
            "1e308",
            "{{ dict(blue=raw|float) }}",
            "weight of `blue` is 1e308; expected a number of percent, at most 100",
        ),
        (
            "-1",
            "{{ dict(blue=raw|int, green=101) }}",
            "weight of `blue` is -1; expected a non-negative number",
        ),
        (
            "NaN",
            "{{ dict(blue=raw) }}",
            "gives `blue` the weight `\"NaN\"`, which is not a number",
        ),
        (
            "0",
            "{{ dict(blue=raw|int, green=raw|int) }}",
            "weights sum to 0, not 100",
        ),
        (
            "40",
            "{{ dict(blue=raw|int) }}",
            "weights sum to 40, not 100",
        ),
        (
            "x",
            "{{ dict(blue=raw.nothing) }}",
            "gives `blue` the weight `null`, which is not a number",
        ),
        (
            "x",
            "{{ dict(blue=raw.nothing.deeper) }}",
            "do not render: ",
        ),
    ];
    for (raw, weights, said) in cases {
        let p = playbook(dir.path(), &s.url("http"), raw, weights);
        let o = Scenario::new()
            .args(["run", "--allow-exec"])
            .arg(&p)
            .expect_status(3)
            .run();
        let at = format!("the weights at {}:18:20 (`", p.display());
        assert!(o.stdout.contains(&at), "{weights}: {}", o.stdout);
        assert!(o.stdout.contains(said), "{weights}: {}", o.stdout);
        assert!(o.stdout.contains("no request was sent"), "{}", o.stdout);
    }
    assert_eq!(s.count.load(Ordering::SeqCst), 0, "a request was sent");
}

#[test]
fn ten_thousand_computed_categories_are_refused() {
    let (_rt, s) = server(&[("blue", 1.0)]);
    let dir = tempfile::tempdir().unwrap();
    let many: String = (0..10_000).map(|i| format!("  c{i}: 0.01\n")).collect();
    let vars = dir.path().join("vars.yaml");
    std::fs::write(&vars, format!("many:\n{many}")).unwrap();
    // Computed from a capture, so judged when the step runs.
    let p = playbook(dir.path(), &s.url("http"), "x", "{{ many if raw else {} }}");
    let o = Scenario::new()
        .args(["run", "--allow-exec", "--vars-file"])
        .arg(&vars)
        .arg(&p)
        .expect_status(3)
        .run();
    assert!(
        o.stdout
            .contains("the value has 10000 categories, more than 100; expected at most 100 categories; no request was sent"),
        "{}",
        o.stdout
    );
    assert_eq!(s.count.load(Ordering::SeqCst), 0, "a request was sent");
    // Known before the run: refused at validation, located.
    let p = playbook(dir.path(), &s.url("http"), "x", "{{ many }}");
    let o = Scenario::new()
        .args(["validate", "--vars-file"])
        .arg(&vars)
        .arg(&p)
        .expect_status(2)
        .run();
    assert!(
        o.stderr
            .contains("`weights` has 10000 categories, more than 100"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("p.yaml:18:20"), "{}", o.stderr);
}
