//! `scenario import PAGE.md`: a chapter (Markdown and the scripts it calls)
//! read into a playbook; the report of what each command became on stderr and,
//! with `--report FILE`, as JSON. Nothing is run.

use std::path::{Path, PathBuf};

use crate::import::{Limits, Request, import as run_import};
use crate::model::exit;

/// What the command line gave.
pub struct Args<'a> {
    pub page: &'a Path,
    pub root: Option<&'a Path>,
    pub env: &'a [(String, String)],
    pub env_files: &'a [PathBuf],
    pub output: Option<&'a Path>,
    pub report: Option<&'a Path>,
    pub quiet: bool,
}

pub fn import(a: &Args<'_>) -> i32 {
    if crate::import::mkdocs::is_site(a.page) {
        return site(a);
    }
    let out_for_paths: Option<PathBuf> = a.output.map(Path::to_path_buf);
    let req = Request {
        page: a.page,
        root: a.root,
        env: a.env,
        env_files: a.env_files,
        out: out_for_paths.as_deref(),
    };
    let imported = match run_import(&req, &Limits::default()) {
        Ok(i) => i,
        Err(e) => return refused(&e),
    };
    if let Some(path) = a.report {
        let json = serde_json::to_string_pretty(&imported.report).unwrap_or_default();
        if let Err(e) = crate::report::file::write(path, &format!("{json}\n")) {
            crate::errln!("error: {}: cannot write the report: {e}", path.display());
            return exit::STEP_ERROR;
        }
    }
    match a.output {
        Some(path) => {
            if let Err(e) = crate::report::file::write(path, &imported.playbook) {
                crate::errln!("error: {}: cannot write the playbook: {e}", path.display());
                return exit::STEP_ERROR;
            }
        }
        None => crate::outln!("{}", imported.playbook.trim_end()),
    }
    if !a.quiet {
        crate::errln!("{}", imported.report.text().trim_end());
    }
    exit::OK
}

fn refused(e: &crate::import::ImportError) -> i32 {
    crate::errln!(
        "error: {}: {}",
        crate::language::untrusted::clean_line(&e.at),
        crate::language::untrusted::clean_line(&e.message)
    );
    exit::INVALID
}

/// `scenario import mkdocs.yml -o tutorial.yaml`: every page into a chapter
/// next to the tutorial; nothing is written unless every page imports.
fn site(a: &Args<'_>) -> i32 {
    let req = Request {
        page: a.page,
        root: a.root,
        env: a.env,
        env_files: a.env_files,
        out: a.output,
    };
    let site = match crate::import::mkdocs::import_site(&req, &Limits::default()) {
        Ok(s) => s,
        Err(e) => return refused(&e),
    };
    let mut files: Vec<(PathBuf, &str)> = site
        .chapters
        .iter()
        .map(|(p, t)| (p.clone(), t.as_str()))
        .collect();
    if let Some(out) = a.output {
        files.push((out.to_path_buf(), site.tutorial.as_str()));
    }
    let json = serde_json::to_string_pretty(&site.report).unwrap_or_default();
    let json = format!("{json}\n");
    if let Some(path) = a.report {
        files.push((path.to_path_buf(), json.as_str()));
    }
    for (path, text) in files {
        if let Err(e) = crate::report::file::write(&path, text) {
            crate::errln!("error: {}: cannot write: {e}", path.display());
            return exit::STEP_ERROR;
        }
    }
    if !a.quiet {
        crate::errln!("{}", site.report.text().trim_end());
    }
    exit::OK
}
