//! The loader: reads a playbook file, checks every part of it (steps through
//! the step registry) and returns the validated model, or every problem found.

pub mod flow;
pub mod inputs;
pub mod playbook;
pub mod shared;
pub mod step;
pub mod tutorial;

pub use inputs::{LoadOptions, scalar_value};
pub use playbook::{load, load_text};
pub use tutorial::file_is_tutorial;

use std::path::Path;
use std::sync::Arc;

use crate::language::diag::Diagnostic;
use crate::model::chapter::ChapterCx;
use crate::model::playbook::Tutorial;
use tutorial::read_shared;

/// Loads a tutorial and every chapter with the shared definitions.
///
/// # Errors
/// Every problem found in the tutorial and its chapters.
pub fn load_tutorial(path: &Path, opts: &LoadOptions) -> Result<Tutorial, Vec<Diagnostic>> {
    let shared = Arc::new(read_shared(path)?);
    let mut diags = Vec::new();
    let mut chapters = Vec::new();
    for (index, c) in shared.chapters.iter().enumerate() {
        let mut o = opts.clone();
        o.chapter = Some(ChapterCx {
            shared: shared.clone(),
            index,
        });
        match load(&c.path, &o) {
            Ok(pb) => chapters.push(pb),
            Err(d) => diags.extend(d),
        }
    }
    if !diags.is_empty() {
        // One problem of the shared parts (a `--var` no chapter knows) once, not once per chapter.
        let mut seen = std::collections::HashSet::new();
        diags.retain(|d| seen.insert(format!("{}\n{:?}\n{}", d.file, d.loc, d.message)));
        return Err(diags);
    }
    Ok(Tutorial {
        name: shared.name.clone(),
        title: shared.title.clone(),
        overview: shared.overview.clone(),
        file: shared.file.clone(),
        chapters,
    })
}
