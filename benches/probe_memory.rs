//! Probe memory: peak RSS of `scenario run` for a probe of 10,000 and of
//! 1,000,000 requests (concurrency 64) against the same local server, side
//! by side in one run. Goal: at most 100 MB at 1,000,000.
//!
//!   cargo build --release && cargo bench --bench probe_memory
//!
//! Writes bench/results/probe-memory.md.

#[path = "../tests/support/http.rs"]
mod http;

use std::fmt::Write as _;
use std::os::unix::process::ExitStatusExt as _;
use std::process::Command;
use std::time::Instant;

const CONCURRENCY: u32 = 64;

/// Runs the command; returns (exit status, peak RSS in MiB, seconds).
fn measure(cmd: &mut Command) -> (std::process::ExitStatus, f64, f64) {
    let t = Instant::now();
    // Reaped by wait4 below (which also gives the child's peak RSS).
    #[allow(clippy::zombie_processes)]
    let child = cmd.spawn().expect("spawn scenario");
    let pid = i32::try_from(child.id()).expect("pid");
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &raw mut status, 0, &raw mut usage) };
    assert_eq!(r, pid, "wait4");
    let secs = t.elapsed().as_secs_f64();
    // ru_maxrss is in KiB on Linux.
    (
        std::process::ExitStatus::from_raw(status),
        usage.ru_maxrss as f64 / 1024.0,
        secs,
    )
}

fn main() {
    let root = env!("CARGO_MANIFEST_DIR");
    let bin = format!("{root}/target/release/scenario");
    assert!(
        std::path::Path::new(&bin).is_file(),
        "cargo build --release first"
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(http::start(http::Behaviour::default(), None));
    let url = server.url("http");
    let dir = tempfile::tempdir().unwrap();
    let mut rows = Vec::new();
    for requests in [10_000u32, 1_000_000] {
        let pb = dir.path().join(format!("p{requests}.yaml"));
        std::fs::write(
            &pb,
            format!(
                "name: memory\nsteps:\n  - name: load\n    timeout: 10m\n    probe:\n      url: {url}\n      requests: {requests}\n      concurrency: {CONCURRENCY}\n      extract: {{ color: $.color, pod: $.pod }}\n      expect:\n        each:\n          - {{ value: color, equals: blue }}\n"
            ),
        )
        .unwrap();
        let (status, mib, secs) = measure(
            Command::new(&bin)
                .args(["run", "-q"])
                .arg(&pb)
                .stdout(std::process::Stdio::null()),
        );
        assert!(status.success(), "scenario run failed: {status:?}");
        rows.push((requests, mib, secs));
    }
    let mut md =
        String::from("| requests (concurrency 64) | peak RSS | wall time |\n|---:|---:|---:|\n");
    for (n, mib, secs) in &rows {
        let _ = writeln!(md, "| {n} | {mib:.1} MiB | {secs:.1} s |");
    }
    std::fs::create_dir_all(format!("{root}/bench/results")).unwrap();
    std::fs::write(format!("{root}/bench/results/probe-memory.md"), &md).unwrap();
    print!("{md}");
}
