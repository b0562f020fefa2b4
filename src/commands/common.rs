//! What several commands share: CLI inputs to load options, loading with
//! diagnostics printed, and expanding directories into playbook files.

use std::path::{Path, PathBuf};

use super::args::Inputs;
use crate::language::diag;
use crate::load::{self, LoadOptions};
use crate::model::exit;
use crate::model::playbook::Playbook;

/// Turns CLI inputs into load options (with the process environment).
#[must_use]
pub fn load_options(inputs: &Inputs) -> LoadOptions {
    LoadOptions {
        vars: inputs.vars.clone(),
        vars_files: inputs.vars_files.clone(),
        contexts: inputs.contexts.clone(),
        root: inputs.root.clone(),
        env: std::env::vars().collect(),
        chapter: None,
    }
}

/// Loads a playbook; on failure prints its diagnostics and gives the exit code.
pub fn load_or_report(path: &Path, opts: &LoadOptions) -> Result<Playbook, i32> {
    load::load(path, opts).map_err(|diags| {
        crate::stdio::diagnostics(&diags);
        exit::INVALID
    })
}

/// A file given on the command line: a playbook, or a tutorial of chapters.
#[derive(Debug)]
pub enum Loaded {
    Playbook(Box<Playbook>),
    Tutorial(crate::model::playbook::Tutorial),
}

impl Loaded {
    /// The playbooks to check or run: the one, or every chapter in order.
    #[must_use]
    pub fn books(&self) -> &[Playbook] {
        match self {
            Loaded::Playbook(pb) => std::slice::from_ref(pb),
            Loaded::Tutorial(t) => &t.chapters,
        }
    }
}

/// Loads a playbook or a tutorial (a file that lists `chapters`).
///
/// # Errors
/// Every problem found.
pub fn load_any(path: &Path, opts: &LoadOptions) -> Result<Loaded, Vec<diag::Diagnostic>> {
    if load::file_is_tutorial(path) {
        load::load_tutorial(path, opts).map(Loaded::Tutorial)
    } else {
        load::load(path, opts).map(|pb| Loaded::Playbook(Box::new(pb)))
    }
}

/// Playbook files from the arguments: files as given, directories expanded to
/// their `*.yaml`/`*.yml` files (not recursive), sorted.
/// A directory without playbooks is an error: a CI job must not pass on nothing.
pub fn expand(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<diag::Diagnostic>) {
    let mut out = Vec::new();
    let mut diags = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut files: Vec<_> = std::fs::read_dir(p)
                .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
                .unwrap_or_default();
            files.retain(|f| {
                f.is_file() && f.extension().is_some_and(|x| x == "yaml" || x == "yml")
            });
            files.sort();
            if files.is_empty() {
                diags.push(
                    diag::Diagnostic::file(
                        p.display().to_string(),
                        "no playbook in this directory",
                    )
                    .with_expected("a directory holding *.yaml or *.yml playbooks"),
                );
            }
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    (out, diags)
}

/// Writes a command's product to `-o FILE`, or to stdout without one (the
/// one meaning of `-o`/`--output` in every command).
pub fn emit(output: Option<&Path>, text: &str) -> i32 {
    match output {
        Some(o) => match std::fs::write(o, text) {
            Ok(()) => exit::OK,
            Err(e) => {
                crate::errln!("error: cannot write {}: {e}", o.display());
                exit::STEP_ERROR
            }
        },
        None => {
            crate::out!("{text}");
            exit::OK
        }
    }
}
