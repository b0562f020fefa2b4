//! `scenario import`: a tutorial chapter (Markdown and the scripts its blocks
//! call) read into a playbook. Nothing is run. The files, bottom up (each uses
//! only those before it, so there is no cycle): `yaml_out.rs` (the YAML tree
//! and writer), `report.rs`, `words.rs` (expanded shell words), `cx.rs` (the
//! state, steps, errors, bounds), `emit.rs` (adding a step, `exec`), `page.rs`
//! (files, front matter, includes, Hugo blocks), `markdown.rs` (pulldown-cmark),
//! `expand.rs` (words), `workloads.rs` (what each version of an application
//! answers, from its workload manifests), `checks.rs` (routing weights), `expected.rs` (checks
//! from expected output), `kubectl.rs`, `kubectl_pipe.rs`, `http.rs`,
//! `steps.rs` (what each command becomes), `parse.rs` (brush-parser, bounded;
//! `apostrophe.rs`), `shell.rs` (the walk,
//! scripts, functions, `$(...)`), `playbook.rs` (the text), `mkdocs.rs` (a
//! site: every page of its nav, and the tutorial file). Only `commands`
//! imports this layer.

pub mod apostrophe;
pub mod checks;
pub mod cx;
pub mod emit;
pub mod expand;
pub mod expected;
pub mod http;
pub mod kubectl;
pub mod kubectl_pipe;
pub mod markdown;
pub mod mkdocs;
pub mod page;
pub mod parse;
pub mod playbook;
pub mod report;
pub mod shell;
pub mod steps;
pub mod words;
pub mod workloads;
pub mod yaml_out;

use std::path::Path;

use words::Val;

pub use cx::{Cx, ImportError, Limits};
pub use report::Report;

/// What `scenario import` was asked.
pub struct Request<'a> {
    pub page: &'a Path,
    pub root: Option<&'a Path>,
    pub env: &'a [(String, String)],
    /// `.envrc`-style files: `export NAME=VALUE` lines, read before `env` (which wins).
    pub env_files: &'a [std::path::PathBuf],
    /// The playbook's file (paths in it are relative to its directory).
    pub out: Option<&'a Path>,
}

/// The import's result: the playbook text and the report.
pub struct Imported {
    pub playbook: String,
    pub report: Report,
}

/// Imports a chapter.
pub fn import(req: &Request<'_>, limits: &Limits) -> Result<Imported, ImportError> {
    import_after(req, limits, &[]).map(|(i, _)| i)
}

/// The chapter's environment at its end that a reader's shell keeps for the
/// next page: variables set to a value (not captures, not unknowns).
pub type Carried = Vec<(String, Val)>;

/// Imports a chapter read after others in the same shell: `before` is the
/// environment the earlier pages left (`--env-file` and `--env` win over it).
/// Returns the environment this page leaves.
pub fn import_after(
    req: &Request<'_>,
    limits: &Limits,
    before: &[(String, Val)],
) -> Result<(Imported, Carried), ImportError> {
    let shown = req.page.display().to_string();
    let page_dir = req
        .page
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let root_arg = req.root.unwrap_or(page_dir);
    let root = std::fs::canonicalize(root_arg).map_err(|e| {
        ImportError::new(
            root_arg.display().to_string(),
            format!("the root cannot be read: {e}"),
        )
    })?;
    let page = page::read(req.page, &shown, &root, limits)?;
    let items = markdown::items(&page)?;
    let out_dir = req
        .out
        .and_then(Path::parent)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let out_dir = std::fs::canonicalize(out_dir).map_err(|e| {
        ImportError::new(
            out_dir.display().to_string(),
            format!("the output directory cannot be read: {e}"),
        )
    })?;
    let mut cx = Cx::new(root, out_dir, limits, shell::substitution);
    for (k, v) in before {
        cx.vars.entry(k.clone()).or_insert_with(|| v.clone());
    }
    for file in req.env_files {
        env_file(&mut cx, file)?;
    }
    for (k, v) in req.env {
        cx.vars.insert(k.clone(), Val::env(k, Some(v.clone())));
    }
    cx.read_items(&page, &items)?;
    let name = req
        .page
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let playbook = playbook::write(&cx, &page, &name);
    cx.report.finish(cx.steps.len());
    let mut carried: Carried = cx
        .vars
        .iter()
        .filter(|(k, v)| {
            matches!(v, Val::Env { value: Some(_), .. } | Val::Lit(_))
                && !["TUTORIAL_HOME", "PROJECT_HOME", "REPO_HOME"].contains(&k.as_str())
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    carried.sort_by(|a, b| a.0.cmp(&b.0));
    Ok((
        Imported {
            playbook,
            report: cx.report,
        },
        carried,
    ))
}

/// An `.envrc`-style file: assignments and exports only (read as shell).
fn env_file(cx: &mut Cx<'_>, path: &Path) -> Result<(), ImportError> {
    let shown = path.display().to_string();
    let text = page::read_text(path, &shown, cx.limits.block_bytes)?;
    let before = cx.steps.len();
    let frame = cx::Frame {
        file: shown,
        path: None,
        line0: 0,
        col0: 0,
        args: Vec::new(),
        stem: None,
    };
    shell::read_block(cx, &text, frame)?;
    match cx.steps.get(before) {
        Some(s) => Err(ImportError::new(
            s.at.clone(),
            "an env file only sets variables (`export NAME=VALUE`); this is a command",
        )),
        None => Ok(()),
    }
}

impl Cx<'_> {
    fn read_items(
        &mut self,
        page: &page::Page,
        items: &[markdown::Item],
    ) -> Result<(), ImportError> {
        let mut after_command = false;
        let mut blocks = 0usize;
        for item in items {
            match item {
                markdown::Item::Heading(1, text)
                    if self.title.is_none() && !page.front.contains_key("title") =>
                {
                    self.title = Some(text.clone());
                    after_command = false;
                }
                markdown::Item::Heading(level, text) => {
                    self.pending.items.push(((*level).max(1), text.clone()));
                    after_command = false;
                }
                markdown::Item::Prose(text) => self.pending.items.push((0, text.clone())),
                markdown::Item::Outcomes(list) => self.outcomes.extend(list.iter().cloned()),
                markdown::Item::Code(code) => {
                    if markdown::is_shell(&code.lang) || code.has_prompts() {
                        blocks += 1;
                        for (text, output, line0, col0) in code.commands() {
                            let frame = cx::Frame {
                                file: page.files[page.origin.get(code.line).map_or(0, |o| o.0)]
                                    .clone(),
                                path: None,
                                line0: page
                                    .origin
                                    .get(code.line + line0)
                                    .map_or(code.line + line0, |o| o.1)
                                    - 1,
                                col0,
                                args: Vec::new(),
                                stem: None,
                            };
                            self.last.clear();
                            shell::read_block(self, &text, frame)?;
                            if let Some(out) = output {
                                expected::expected_output(self, &out, &page.at_line(code.line, 1));
                            }
                        }
                        after_command = true;
                    } else if after_command && markdown::is_output(&code.lang) {
                        expected::expected_output(self, &code.text, &page.at_line(code.line, 1));
                        after_command = false;
                    } else {
                        self.pending.items.push((0, code.raw.clone()));
                    }
                }
            }
        }
        checks::flush_weights(self, "the end of the chapter");
        checks::finish(self);
        let rest = std::mem::take(&mut self.pending);
        let tail: Vec<String> = rest
            .items
            .iter()
            .map(|(l, h)| {
                if *l == 0 {
                    h.clone()
                } else {
                    format!("{} {h}", "#".repeat(usize::from(*l)))
                }
            })
            .collect();
        if !tail.is_empty() {
            self.next = Some(tail.join("\n\n"));
        }
        if self.steps.is_empty() {
            let why = if blocks == 0 {
                "nothing to import: the page has no shell block (```bash, ```sh, ```console or a Hugo {{< text bash >}})".to_owned()
            } else {
                format!(
                    "nothing to import: no command of its {blocks} shell block(s) becomes a step (they only set variables, print or test)"
                )
            };
            return Err(ImportError::new(format!("{}:1:1", page.files[0]), why));
        }
        Ok(())
    }
}
