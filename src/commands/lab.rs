//! `scenario lab ...`: the local control planes (the `scenario-lab` crate).

use scenario_lab::{
    LabState, crds, default_dir, down, find_binaries, install, install_crypto_provider,
    status_text, up,
};

use super::args::LabCommand;
use crate::model::exit;

/// Runs a lab subcommand; returns the exit code.
pub fn lab(cmd: LabCommand) -> i32 {
    install_crypto_provider();
    let result = match cmd {
        LabCommand::Install => match find_binaries() {
            Some(b) if b.controller_manager.is_some() => {
                crate::outln!(
                    "lab binaries present: {}",
                    b.apiserver
                        .parent()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default()
                );
                Ok(exit::OK)
            }
            _ => install().map(|b| {
                crate::outln!("lab binaries ready: {}", b.apiserver.display());
                exit::OK
            }),
        },
        LabCommand::Up { clusters, dir } => {
            let dir = dir.unwrap_or_else(default_dir);
            up(&dir, &clusters).map(|(state, started)| {
                if started {
                    crate::outln!("lab is up in {}", state.dir.display());
                } else {
                    crate::outln!(
                        "lab is already up in {} (nothing to do)",
                        state.dir.display()
                    );
                }
                for c in &state.clusters {
                    crate::outln!("  {:<12} {}  context {}", c.name, c.server, c.name);
                }
                crate::outln!("kubeconfig: {}", state.kubeconfig.display());
                crate::outln!("  export KUBECONFIG={}", state.kubeconfig.display());
                if let Some(c) = state.clusters.first() {
                    crate::outln!("  kubectl --context {} get namespaces", c.name);
                }
                exit::OK
            })
        }
        LabCommand::Down { dir } => {
            let dir = dir.unwrap_or_else(default_dir);
            if !dir.join("lab.json").exists() {
                crate::outln!("no lab in {} (nothing to do)", dir.display());
                return exit::OK;
            }
            down(&dir).map(|stopped| {
                crate::outln!(
                    "lab is down: stopped {} process{}; removed {}",
                    stopped.len(),
                    if stopped.len() == 1 { "" } else { "es" },
                    dir.display()
                );
                exit::OK
            })
        }
        LabCommand::Status { dir } => {
            let dir = dir.unwrap_or_else(default_dir);
            match LabState::load(&dir) {
                Err(_) => {
                    crate::outln!("no lab in {}", dir.display());
                    return exit::STEP_ERROR;
                }
                Ok(state) => {
                    let (text, healthy) = status_text(&state);
                    crate::outln!(
                        "lab in {} ({})",
                        dir.display(),
                        if healthy { "up" } else { "DEGRADED" }
                    );
                    crate::out!("{text}");
                    crate::outln!("kubeconfig: {}", state.kubeconfig.display());
                    Ok(if healthy { exit::OK } else { exit::STEP_ERROR })
                }
            }
        }
        LabCommand::Crds { dir } => {
            let dir = dir.unwrap_or_else(default_dir);
            LabState::load(&dir)
                .and_then(|state| crds::install_blocking(&state))
                .map(|lines| {
                    for l in lines {
                        crate::outln!("{l}");
                    }
                    exit::OK
                })
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            crate::errln!("error: lab: {e}");
            exit::STEP_ERROR
        }
    }
}
