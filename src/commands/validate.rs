//! `scenario validate`: load and check, print every problem.

use std::path::PathBuf;

use super::args::Inputs;
use super::common::{expand, load_options};
use crate::load;
use crate::model::exit;

/// `scenario validate PLAYBOOK|DIR...`.
pub fn validate(playbooks: &[PathBuf], inputs: &Inputs, quiet: bool) -> i32 {
    let opts = load_options(inputs);
    let (files, diags) = expand(playbooks);
    let mut code = exit::OK;
    if !diags.is_empty() {
        crate::stdio::diagnostics(&diags);
        code = exit::INVALID;
    }
    for p in &files {
        match load::load(p, &opts) {
            Ok(pb) => {
                crate::stdio::warnings(&pb.warnings);
                if !quiet {
                    crate::outln!(
                        "ok: {} ({} step{}, {} finally)",
                        pb.source.name,
                        pb.steps.len(),
                        if pb.steps.len() == 1 { "" } else { "s" },
                        pb.finally.len()
                    );
                }
            }
            Err(diags) => {
                crate::stdio::diagnostics(&diags);
                code = exit::INVALID;
            }
        }
    }
    code
}
