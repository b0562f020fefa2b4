//! The mesh emulator (examples/meshlab) on a lab, for the chapter's lab tests:
//! started with `--port 0`, its port read from the state file it writes once
//! ready, stopped (SIGTERM) on drop.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Mesh {
    child: Child,
    /// The ingress port it serves on each cluster's loopback address.
    pub port: u16,
}

impl Drop for Mesh {
    fn drop(&mut self) {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

/// Starts the emulator on the lab in `lab_dir` (extra flags in `args`).
pub fn start(lab_dir: &Path, args: &[&str]) -> Mesh {
    // Beside the binary under test, wherever CARGO_TARGET_DIR puts it.
    let bin = Path::new(env!("CARGO_BIN_EXE_scenario"))
        .parent()
        .expect("the binary is in a directory")
        .join("examples/meshlab");
    assert!(
        bin.is_file(),
        "build the emulator first: cargo build --example meshlab (cargo test builds examples)"
    );
    let state = tempfile::NamedTempFile::new().unwrap().into_temp_path();
    let _ = std::fs::remove_file(&state);
    let child = Command::new(bin)
        .arg("--lab-dir")
        .arg(lab_dir)
        .arg("--state")
        .arg(&state)
        .args(["--port", "0"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while std::fs::metadata(&state).map_or(true, |m| m.len() == 0) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "meshlab did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    Mesh {
        child,
        port: v["port"].as_u64().unwrap() as u16,
    }
}
