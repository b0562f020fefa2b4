//! `lab down` and `lab status`.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::process::{alive, kill, port_open};
use crate::state::{Component, LabError, LabState, io};

/// Stops every component of the lab (controller managers, API servers, etcd).
///
/// # Errors
/// A process that survives SIGKILL or a port that stays open.
pub fn stop(state: &LabState) -> Result<Vec<String>, LabError> {
    let mut stopped = Vec::new();
    let comps = state.components();
    // Clients first, then the API servers, then etcd: each stage stops quickly
    // when nothing is connected to it any more.
    let kcms: Vec<&Component> = state
        .clusters
        .iter()
        .filter_map(|c| c.controller_manager.as_ref())
        .collect();
    let apis: Vec<&Component> = state.clusters.iter().map(|c| &c.apiserver).collect();
    for stage in [kcms, apis, vec![&state.etcd]] {
        for c in &stage {
            if alive(c.pid, &state.dir) {
                kill(c.pid, libc::SIGTERM);
                stopped.push(format!("{} (pid {})", c.name, c.pid));
            }
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        for c in &stage {
            while alive(c.pid, &state.dir) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(25));
            }
            if alive(c.pid, &state.dir) {
                tracing::warn!("{} ignored SIGTERM for 10s; sending SIGKILL", c.name);
                kill(c.pid, libc::SIGKILL);
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
    let survivors: Vec<String> = comps
        .iter()
        .filter(|c| alive(c.pid, &state.dir))
        .map(|c| c.name.clone())
        .collect();
    if !survivors.is_empty() {
        return Err(LabError::Msg(format!(
            "still running after SIGKILL: {}",
            survivors.join(", ")
        )));
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    let ports: Vec<u16> = comps.iter().map(|c| c.port).filter(|p| *p != 0).collect();
    while ports.iter().any(|p| port_open(*p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let open: Vec<String> = ports
        .iter()
        .filter(|p| port_open(**p))
        .map(ToString::to_string)
        .collect();
    if !open.is_empty() {
        return Err(LabError::Msg(format!(
            "ports still open after stopping the lab: {}",
            open.join(", ")
        )));
    }
    Ok(stopped)
}

/// Stops the lab in `dir` and removes its state.
///
/// # Errors
/// As [`stop`]; no lab in `dir`.
pub fn down(dir: &Path) -> Result<Vec<String>, LabError> {
    let state = LabState::load(dir)?;
    let stopped = stop(&state)?;
    fs::remove_dir_all(dir).map_err(io(format!("cannot remove {}", dir.display())))?;
    Ok(stopped)
}
