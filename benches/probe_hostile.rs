//! The probe against hostile servers, side by side with a baseline binary
//! (main before issue #20) in one run:
//! - peak RSS against a 100 MB body and a body that never ends (goal: under
//!   100 MB, flat);
//! - CPU time of 20 `when` + regex checks over 1000 answers against the same
//!   probe without checks (goal: within 2x).
//!
//!   cargo build --release && SCENARIO_BASELINE=/path/to/old/scenario cargo bench --bench probe_hostile
//!
//! Writes bench/results/probe-hostile.md.

#[path = "../tests/support/raw_http.rs"]
mod raw_http;

use std::fmt::Write as _;
use std::os::unix::process::ExitStatusExt as _;
use std::process::Command;
use std::time::Instant;

use raw_http::{Reply, json, serve};

/// What one run cost.
struct Cost {
    exit: Option<i32>,
    peak_mib: f64,
    cpu_s: f64,
    wall_s: f64,
}

/// Runs `bin run -q playbook`; its exit code, peak RSS, CPU and wall time (from `wait4`).
fn measure(bin: &str, playbook: &std::path::Path) -> Cost {
    let t = Instant::now();
    // Reaped by wait4 below (which also gives the child's peak RSS).
    #[allow(clippy::zombie_processes)]
    let child = Command::new(bin)
        .args(["run", "-q"])
        .arg(playbook)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn scenario");
    let pid = i32::try_from(child.id()).expect("pid");
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &raw mut status, 0, &raw mut usage) };
    assert_eq!(r, pid, "wait4");
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Cost {
        exit: std::process::ExitStatus::from_raw(status).code(),
        // ru_maxrss is in KiB on Linux.
        peak_mib: usage.ru_maxrss as f64 / 1024.0,
        cpu_s: secs(usage.ru_utime) + secs(usage.ru_stime),
        wall_s: t.elapsed().as_secs_f64(),
    }
}

fn probe(url: &str, rest: &str) -> String {
    format!(
        "name: bench\nsteps:\n  - name: probe\n    timeout: 30s\n    probe:\n      url: {url}\n{rest}"
    )
}

/// 20 checks, each applied by a `when` and matching a regex.
fn twenty_checks() -> String {
    let mut s = String::from(
        "      requests: 1000\n      concurrency: 8\n      extract: { color: $.color, pod: $.pod, num: $.num }\n      expect:\n        each:\n",
    );
    for i in 0..20 {
        let _ = writeln!(
            s,
            "          - {{ value: pod, matches: '^(blue|green)-[0-9a-f]{{4}}(-x{i})?$', when: {{ value: color, matches: '^b(l|r)ue$' }} }}"
        );
    }
    s
}

fn main() {
    let root = env!("CARGO_MANIFEST_DIR");
    let current = format!("{root}/target/release/scenario");
    assert!(
        std::path::Path::new(&current).is_file(),
        "cargo build --release first"
    );
    let baseline = std::env::var("SCENARIO_BASELINE").ok();
    let mut bins = vec![("this change", current)];
    if let Some(b) = baseline {
        bins.insert(0, ("baseline", b));
    }
    let big = serve(|_| Reply::Sized(100 * 1024 * 1024));
    let endless = serve(|_| Reply::Endless);
    let steady = serve(|_| json(r#"{"color":"blue","pod":"blue-5d8f","num":7}"#));
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let cases = [
        (
            "100 MB body, 16 requests, concurrency 8: peak RSS",
            write(
                "big.yaml",
                probe(
                    &big.url(),
                    "      requests: 16\n      concurrency: 8\n      requestTimeout: 20s\n",
                ),
            ),
        ),
        (
            "endless body, 8 requests, concurrency 8, requestTimeout 2s: peak RSS",
            write(
                "endless.yaml",
                probe(
                    &endless.url(),
                    "      requests: 8\n      concurrency: 8\n      requestTimeout: 2s\n",
                ),
            ),
        ),
        (
            "1000 answers, no checks: CPU",
            write(
                "plain.yaml",
                probe(
                    &steady.url(),
                    "      requests: 1000\n      concurrency: 8\n      extract: { color: $.color, pod: $.pod, num: $.num }\n",
                ),
            ),
        ),
        (
            "1000 answers, 20 when + regex checks: CPU",
            write("checks.yaml", probe(&steady.url(), &twenty_checks())),
        ),
    ];
    let mut md = String::from(
        "| case | binary | exit | peak RSS | CPU | wall |\n|:---|:---|---:|---:|---:|---:|\n",
    );
    for (what, playbook) in &cases {
        for (label, bin) in &bins {
            let c = measure(bin, playbook);
            let _ = writeln!(
                md,
                "| {what} | {label} | {} | {:.1} MiB | {:.2} s | {:.2} s |",
                c.exit
                    .map_or_else(|| "signal".to_owned(), |e| e.to_string()),
                c.peak_mib,
                c.cpu_s,
                c.wall_s
            );
        }
    }
    std::fs::create_dir_all(format!("{root}/bench/results")).unwrap();
    std::fs::write(format!("{root}/bench/results/probe-hostile.md"), &md).unwrap();
    print!("{md}");
}
