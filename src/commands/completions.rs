//! `scenario completions SHELL`: the shell completion script, generated
//! from the clap definitions.

use clap::CommandFactory as _;

use super::args::Cli;
use crate::model::exit;

/// Prints the completion script of `shell` on stdout.
#[must_use]
pub fn completions(shell: clap_complete::Shell) -> i32 {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "scenario", &mut script);
    crate::stdio::out(&String::from_utf8_lossy(&script));
    exit::OK
}
