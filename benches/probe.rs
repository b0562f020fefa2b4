//! Probe throughput on loopback: `scenario run` (a probe step, 64 connections)
//! vs `oha` (crates.io) against the same local server, in one run.
//!
//!   cargo install oha && cargo build --release && cargo bench --bench probe
//!
//! Writes bench/results/probe.md.

#[path = "../tests/support/http.rs"]
mod http;

use std::fmt::Write as _;
use std::process::Command;
use std::time::Instant;

const REQUESTS: u32 = 200_000;
const CONNECTIONS: u32 = 64;
const ROUNDS: usize = 3;

fn main() {
    let root = env!("CARGO_MANIFEST_DIR");
    let bin = format!("{root}/target/release/scenario");
    assert!(
        std::path::Path::new(&bin).is_file(),
        "cargo build --release first"
    );
    let oha = Command::new("oha")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success());
    // The server gets a runtime of its own (2 worker threads), like a separate process would.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(http::start(http::Behaviour::default(), None));
    let url = server.url("http");
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("p.yaml");
    std::fs::write(
        &pb,
        format!(
            "name: throughput\nsteps:\n  - name: load\n    timeout: 5m\n    probe:\n      url: {url}\n      requests: {REQUESTS}\n      concurrency: {CONNECTIONS}\n      extract: {{ color: $.color }}\n      expect:\n        each:\n          - {{ value: color, equals: blue }}\n"
        ),
    )
    .unwrap();
    let mut scen = Vec::new();
    let mut oha_rates = Vec::new();
    for _ in 0..ROUNDS {
        let t = Instant::now();
        let o = Command::new(&bin)
            .args(["run", "-q"])
            .arg(&pb)
            .output()
            .unwrap();
        let wall = t.elapsed().as_secs_f64();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
        scen.push(f64::from(REQUESTS) / wall);
        if oha.is_some() {
            let t = Instant::now();
            let o = Command::new("oha")
                .args([
                    "--no-tui",
                    "-n",
                    &REQUESTS.to_string(),
                    "-c",
                    &CONNECTIONS.to_string(),
                    &url,
                ])
                .output()
                .unwrap();
            let wall = t.elapsed().as_secs_f64();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            oha_rates.push(f64::from(REQUESTS) / wall);
        }
    }
    let best = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{REQUESTS} GET requests, {CONNECTIONS} connections, to a local hyper server answering like the demo app (JSON, ~140 bytes); {ROUNDS} rounds each, alternating; rate = requests / whole-process wall time.\n"
    );
    let _ = writeln!(out, "| client | mean rate | best rate |\n|:---|---:|---:|");
    let _ = writeln!(
        out,
        "| `scenario run` (probe: extract `$.color`, check every answer) | {:.0} req/s | {:.0} req/s |",
        mean(&scen),
        best(&scen)
    );
    match oha {
        Some(v) => {
            let _ = writeln!(
                out,
                "| `oha --no-tui -n {REQUESTS} -c {CONNECTIONS}` ({}) | {:.0} req/s | {:.0} req/s |",
                String::from_utf8_lossy(&v.stdout).trim(),
                mean(&oha_rates),
                best(&oha_rates)
            );
        }
        None => {
            let _ = writeln!(out, "| oha | not installed (`cargo install oha`) | |");
        }
    }
    std::fs::create_dir_all(format!("{root}/bench/results")).unwrap();
    std::fs::write(format!("{root}/bench/results/probe.md"), &out).unwrap();
    println!("{out}");
}
