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
                println!(
                    "lab binaries present: {}",
                    b.apiserver
                        .parent()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default()
                );
                Ok(exit::OK)
            }
            _ => install().map(|b| {
                println!("lab binaries ready: {}", b.apiserver.display());
                exit::OK
            }),
        },
        LabCommand::Up { clusters, dir } => {
            let dir = dir.unwrap_or_else(default_dir);
            up(&dir, &clusters).map(|(state, started)| {
                if started {
                    println!("lab is up in {}", state.dir.display());
                } else {
                    println!(
                        "lab is already up in {} (nothing to do)",
                        state.dir.display()
                    );
                }
                for c in &state.clusters {
                    println!("  {:<12} {}  context {}", c.name, c.server, c.name);
                }
                println!("kubeconfig: {}", state.kubeconfig.display());
                println!("  export KUBECONFIG={}", state.kubeconfig.display());
                if let Some(c) = state.clusters.first() {
                    println!("  kubectl --context {} get namespaces", c.name);
                }
                exit::OK
            })
        }
        LabCommand::Down { dir } => {
            let dir = dir.unwrap_or_else(default_dir);
            if !dir.join("lab.json").exists() {
                println!("no lab in {} (nothing to do)", dir.display());
                return exit::OK;
            }
            down(&dir).map(|stopped| {
                println!(
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
                    println!("no lab in {}", dir.display());
                    return exit::STEP_ERROR;
                }
                Ok(state) => {
                    let (text, healthy) = status_text(&state);
                    println!(
                        "lab in {} ({})",
                        dir.display(),
                        if healthy { "up" } else { "DEGRADED" }
                    );
                    print!("{text}");
                    println!("kubeconfig: {}", state.kubeconfig.display());
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
                        println!("{l}");
                    }
                    exit::OK
                })
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: lab: {e}");
            exit::STEP_ERROR
        }
    }
}
