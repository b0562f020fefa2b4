//! `scenario validate`: load and check, print every problem.

use std::path::PathBuf;

use super::args::Inputs;
use super::common::load_options;
use crate::language::diag;
use crate::load;
use crate::model::exit;

pub fn validate(playbooks: &[PathBuf], inputs: &Inputs, quiet: bool) -> i32 {
    let opts = load_options(inputs);
    let mut code = exit::OK;
    for p in playbooks {
        match load::load(p, &opts) {
            Ok(pb) => {
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
                crate::stdio::err(&diag::render_all(&diags));
                code = exit::INVALID;
            }
        }
    }
    code
}
