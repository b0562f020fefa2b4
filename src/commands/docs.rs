//! `scenario docs`: the playbook rendered as a chapter page, or a tutorial
//! as a site (`commands/site.rs`).

use std::path::Path;

use super::args::Inputs;
use super::chapter;
use super::common::{emit, load_options, load_or_report};
use crate::model::exit;

/// `scenario docs PLAYBOOK [-o FILE] [--from-report run.json]`, or
/// `scenario docs TUTORIAL -o DIR`.
pub fn docs(
    path: &Path,
    output: Option<&Path>,
    from_report: Option<&Path>,
    inputs: &Inputs,
) -> i32 {
    if crate::load::file_is_tutorial(path) {
        return super::site::site(path, output, from_report, inputs);
    }
    let opts = load_options(inputs);
    let pb = match load_or_report(path, &opts) {
        Ok(pb) => pb,
        Err(code) => return code,
    };
    let observed = match from_report {
        Some(r) => match super::observed::read_report(r)
            .and_then(|t| super::observed::from_report(&t, &pb.name))
        {
            Ok(o) => Some(o),
            Err(e) => {
                crate::errln!("error: --from-report {}: {e}", r.display());
                return exit::INVALID;
            }
        },
        None => None,
    };
    let md = match chapter::render(&pb, observed.as_ref()) {
        Ok(md) => md,
        Err(mut d) => {
            d.redact(&pb.secrets);
            crate::stdio::diagnostics(&[d]);
            return exit::INVALID;
        }
    };
    // Secrets from the environment are shell variables on the page already;
    // what is left (a Secret's literal data, a report's text) is redacted.
    emit(output, &pb.secrets.redact(&md))
}
