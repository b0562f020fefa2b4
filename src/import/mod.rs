//! `scenario import`: a tutorial chapter (Markdown and the scripts its blocks
//! call) read into a playbook. Nothing is run: the page is parsed as CommonMark
//! (`markdown.rs`, after `page.rs` followed its includes), each shell block as
//! shell (`shell.rs`, with words expanded by `expand.rs`), each command mapped
//! to a step (`kubectl.rs`, `http.rs`, `steps.rs`), expected output turned into
//! proposed checks (`checks.rs`), and the steps written as YAML
//! (`playbook.rs`, `yaml_out.rs`) with a report of what became of every
//! command (`report.rs`). Only `commands` imports this layer.

pub mod checks;
pub mod expand;
pub mod http;
pub mod kubectl;
pub mod markdown;
pub mod page;
pub mod playbook;
pub mod report;
pub mod shell;
pub mod steps;
pub mod yaml_out;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use indexmap::IndexMap;

pub use report::Report;
use yaml_out::Y;

/// A located problem with the input (exit 2).
#[derive(Debug, Clone)]
pub struct ImportError {
    pub at: String,
    pub message: String,
}

impl ImportError {
    pub fn new(at: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            at: at.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// The bounds of one import (docs/import.md lists them).
#[derive(Debug, Clone)]
pub struct Limits {
    /// The page, each include and each script; also the page and its includes together.
    pub page_bytes: usize,
    /// Includes within includes.
    pub include_depth: usize,
    /// Scripts calling scripts (and shell functions calling functions).
    pub call_depth: usize,
    /// Shell commands read in all (page and scripts).
    pub commands: usize,
    /// One shell block or script.
    pub block_bytes: usize,
    /// Brackets and braces nested in one shell block.
    pub nesting: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            page_bytes: crate::language::limits::MAX_FILE_BYTES,
            include_depth: 16,
            call_depth: 16,
            commands: 20_000,
            block_bytes: 256 * 1024,
            nesting: 64,
        }
    }
}

/// What `scenario import` was asked.
pub struct Request<'a> {
    pub page: &'a Path,
    pub root: Option<&'a Path>,
    pub env: &'a [(String, String)],
    /// The playbook's file (paths in it are relative to its directory).
    pub out: Option<&'a Path>,
}

/// The import's result: the playbook text and the report.
pub struct Imported {
    pub playbook: String,
    pub report: Report,
}

/// One step of the playbook being built.
#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    pub section: Option<String>,
    pub title: Option<String>,
    pub level: Option<u8>,
    pub doc: Option<String>,
    pub clusters: Vec<String>,
    pub timeout: Option<String>,
    /// A comment written before the step (why it is an exec, what to review).
    pub note: Option<String>,
    pub action: &'static str,
    pub body: Y,
    /// Where the command that made it is.
    pub at: String,
    /// Files an `apply` read (for the weights of routing objects).
    pub files: Vec<PathBuf>,
    /// The routing weights this probe checks (its check is written at the end,
    /// when every answer field the page shows is known).
    pub weights: Option<Weights>,
}

/// A probe the importer can repeat after a routing change: its URL and the
/// answer field that names the version.
#[derive(Debug, Clone)]
pub struct ProbeModel {
    pub url: String,
    pub body: Y,
    /// JSON fields of the answer shown on the page, with their values.
    pub fields: Vec<(String, serde_json::Value)>,
}

/// Weights of a routing object the chapter applied.
#[derive(Debug, Clone)]
pub struct Weights {
    pub pairs: Vec<(String, i64)>,
    pub from: String,
}

/// The headings (level 1 to 6) and prose (level 0) seen since the last step, in order.
#[derive(Debug, Default)]
pub struct Pending {
    pub items: Vec<(u8, String)>,
}

/// One script or block being read: its file, where its text starts, its arguments.
#[derive(Debug, Clone)]
pub struct Frame {
    pub file: String,
    pub path: Option<PathBuf>,
    /// Added to the parser's 1-based line to get the file's line.
    pub line0: usize,
    /// Added to the column on the first line (a stripped `$ ` prompt).
    pub col0: usize,
    pub args: Vec<expand::Val>,
    /// The step names of this script: its file name without extension.
    pub stem: Option<String>,
}

/// The state of one import.
pub struct Cx<'a> {
    pub root: PathBuf,
    pub out_dir: PathBuf,
    pub limits: &'a Limits,
    pub vars: HashMap<String, expand::Val>,
    pub frames: Vec<Frame>,
    pub cwd: PathBuf,
    pub functions: HashMap<String, (brush_parser::ast::FunctionBody, Frame)>,
    /// Logical cluster -> context template.
    pub clusters: IndexMap<String, String>,
    /// The cluster of commands without `--context` (`kubectl config use-context`).
    pub current: Option<expand::Val>,
    pub steps: Vec<Step>,
    pub report: Report,
    pub pending: Pending,
    pub names: HashSet<String>,
    pub weights: Option<Weights>,
    pub probe_model: Option<ProbeModel>,
    /// Steps made by the last command of the page (for its expected output).
    pub last: Vec<usize>,
    pub commands: usize,
    /// Captures already made, by the command text that made them.
    pub captured: HashMap<String, String>,
    /// The command being read (`$(...)` inside it is located there).
    pub here: String,
    /// Requests of a probe in the loop being read (`for i in {1..10}`), and its pace.
    pub repeat: Option<(u64, Option<String>)>,
    pub outcomes: Vec<String>,
    pub next: Option<String>,
    /// The page's level-1 heading, when the front matter has no title.
    pub title: Option<String>,
}

/// Imports a chapter.
pub fn import(req: &Request<'_>, limits: &Limits) -> Result<Imported, ImportError> {
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
    let mut cx = Cx::new(root, out_dir, limits);
    for (k, v) in req.env {
        cx.vars
            .insert(k.clone(), expand::Val::env(k, Some(v.clone())));
    }
    cx.read_items(&page, &items)?;
    let name = req
        .page
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let playbook = playbook::write(&cx, &page, &name);
    cx.report.finish(&cx.steps);
    Ok(Imported {
        playbook,
        report: cx.report,
    })
}

impl<'a> Cx<'a> {
    fn new(root: PathBuf, out_dir: PathBuf, limits: &'a Limits) -> Self {
        let mut vars = HashMap::new();
        for home in ["TUTORIAL_HOME", "PROJECT_HOME", "REPO_HOME"] {
            vars.insert(
                home.to_owned(),
                expand::Val::env(home, Some(root.display().to_string())),
            );
        }
        Self {
            cwd: root.clone(),
            root,
            out_dir,
            limits,
            vars,
            frames: Vec::new(),
            functions: HashMap::new(),
            clusters: IndexMap::new(),
            current: None,
            steps: Vec::new(),
            report: Report::default(),
            pending: Pending::default(),
            names: HashSet::new(),
            weights: None,
            probe_model: None,
            last: Vec::new(),
            commands: 0,
            captured: HashMap::new(),
            here: String::new(),
            repeat: None,
            outcomes: Vec::new(),
            next: None,
            title: None,
        }
    }

    fn read_items(
        &mut self,
        page: &page::Page,
        items: &[markdown::Item],
    ) -> Result<(), ImportError> {
        let mut after_command = false;
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
                        for (text, output, line0, col0) in code.commands() {
                            let frame = Frame {
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
                                checks::expected_output(self, &out, &page.at_line(code.line, 1));
                            }
                        }
                        after_command = true;
                    } else if after_command && markdown::is_output(&code.lang) {
                        checks::expected_output(self, &code.text, &page.at_line(code.line, 1));
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
            return Err(ImportError::new(
                format!("{}:1:1", page.files[0]),
                "nothing to import: the page has no shell block (```bash, ```sh, ```console or a Hugo {{< text bash >}})",
            ));
        }
        Ok(())
    }

    /// Where the parser's position `(line, col)` is, in the file being read.
    #[must_use]
    pub fn at(&self, line: usize, col: usize) -> String {
        match self.frames.last() {
            Some(f) => format!(
                "{}:{}:{}",
                f.file,
                f.line0 + line.max(1),
                col + if line <= 1 { f.col0 } else { 0 }
            ),
            None => format!("?:{line}:{col}"),
        }
    }

    /// A unique step name from `base`.
    pub fn name(&mut self, base: &str) -> String {
        let mut slug = slug(base);
        if slug.is_empty() {
            slug = "step".to_owned();
        }
        let mut name = slug.clone();
        let mut n = 2;
        while self.names.contains(&name) {
            name = format!("{slug}-{n}");
            n += 1;
        }
        self.names.insert(name.clone());
        name
    }

    /// The logical cluster of a `--context` value (or of none).
    pub fn cluster(&mut self, context: Option<&expand::Word>) -> String {
        let val = context
            .and_then(|w| w.single().cloned())
            .or_else(|| self.current.clone());
        let (name, ctx) = match val {
            Some(expand::Val::Env { var, value }) => {
                let name = slug(&var.to_ascii_lowercase());
                let default = value.unwrap_or_else(|| name.clone());
                (
                    name,
                    format!(
                        "{{{{ env.{var} | default('{}') }}}}",
                        default.replace('\'', "")
                    ),
                )
            }
            Some(expand::Val::Lit(s)) => (slug(&s), s),
            _ => (
                "current".to_owned(),
                "{{ env.KUBE_CONTEXT | default('current') }}".to_owned(),
            ),
        };
        let name = if name.is_empty() {
            "current".to_owned()
        } else {
            name
        };
        self.clusters.entry(name.clone()).or_insert(ctx);
        name
    }
}

/// Letters, digits and `-`, lower case: a step or cluster name.
#[must_use]
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    out.chars()
        .take(60)
        .collect::<String>()
        .trim_end_matches('-')
        .to_owned()
}
