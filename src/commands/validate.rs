//! `scenario validate`: load and check, print every problem.

use std::path::PathBuf;

use super::args::Inputs;
use super::common::{Loaded, expand, load_any, load_options};
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
        match load_any(p, &opts) {
            Ok(loaded) => {
                for pb in loaded.books() {
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
                if let (Loaded::Tutorial(t), false) = (&loaded, quiet) {
                    crate::outln!(
                        "ok: {} (tutorial `{}`, {} chapter{})",
                        t.file,
                        t.name,
                        t.chapters.len(),
                        if t.chapters.len() == 1 { "" } else { "s" }
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
