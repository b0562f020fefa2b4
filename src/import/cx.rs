//! What every file of the import shares: the state of one import (`Cx`), the
//! steps being built, located errors, the bounds, and a command as read.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use crate::language::limits;

use super::report::Report;
use super::words::{Val, Word};
use super::yaml_out::Y;

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
            page_bytes: limits::MAX_FILE_BYTES,
            include_depth: limits::MAX_IMPORT_INCLUDE_DEPTH,
            call_depth: limits::MAX_IMPORT_CALL_DEPTH,
            commands: limits::MAX_IMPORT_COMMANDS,
            block_bytes: limits::MAX_IMPORT_BLOCK_BYTES,
            nesting: limits::MAX_IMPORT_NESTING,
        }
    }
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
    /// Step vars: the chapter's variables a substituted manifest reads.
    pub vars: Vec<(String, super::yaml_out::Y)>,
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
    /// The routing object's destination of each pair, as written.
    pub dests: Vec<serde_json::Value>,
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
    pub args: Vec<Val>,
    /// The step names of this script: its file name without extension.
    pub stem: Option<String>,
}

/// The state of one import.
pub struct Cx<'a> {
    pub root: PathBuf,
    pub out_dir: PathBuf,
    pub limits: &'a Limits,
    pub vars: HashMap<String, Val>,
    pub frames: Vec<Frame>,
    pub cwd: PathBuf,
    pub functions: HashMap<String, (brush_parser::ast::FunctionBody, Frame)>,
    /// Logical cluster -> context template.
    pub clusters: IndexMap<String, String>,
    /// The cluster of commands without `--context` (`kubectl config use-context`).
    pub current: Option<Val>,
    pub steps: Vec<Step>,
    pub report: Report,
    pub pending: Pending,
    pub names: HashSet<String>,
    pub suffixes: HashMap<String, usize>,
    pub weights: Option<Weights>,
    /// A probe of one request made since the weights were applied.
    pub single: Option<usize>,
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
    /// Reads `$(...)` (the shell reader's function: words are expanded below it).
    pub substitution: Substitution,
}

/// What `$(TEXT)` is worth now.
pub type Substitution = fn(&mut Cx<'_>, &str) -> Val;

/// A simple command, its words expanded.
#[derive(Debug, Clone, Default)]
pub struct Cmd {
    pub argv: Vec<Word>,
    /// The words as written.
    pub raw: Vec<String>,
    pub text: String,
    pub at: String,
    /// `NAME=value` before the command: (name, value, as written).
    pub assigns: Vec<(String, Word, String)>,
    pub stdin: Option<Stdin>,
    /// A file the command's output is written to.
    pub writes: Option<String>,
    pub unknown: Option<String>,
}

/// What a command reads on its standard input.
#[derive(Debug, Clone)]
pub enum Stdin {
    Heredoc { text: String, expand: bool },
    Text(Word),
    File(Word),
}

impl Cmd {
    /// The program's name (the last part of its path).
    #[must_use]
    pub fn program(&self) -> String {
        let w = self
            .argv
            .first()
            .and_then(Word::concrete)
            .unwrap_or_default();
        w.rsplit('/').next().unwrap_or("").to_owned()
    }

    /// The argument words after the program, as known now (unknown ones as their template).
    #[must_use]
    pub fn args(&self) -> Vec<String> {
        self.argv
            .iter()
            .skip(1)
            .map(|w| w.concrete().unwrap_or_else(|| w.template()))
            .collect()
    }
}

impl<'a> Cx<'a> {
    /// A fresh state; `substitution` reads `$(...)` (the shell reader's, set by the caller).
    pub fn new(
        root: PathBuf,
        out_dir: PathBuf,
        limits: &'a Limits,
        substitution: Substitution,
    ) -> Self {
        let mut vars = HashMap::new();
        for home in ["TUTORIAL_HOME", "PROJECT_HOME", "REPO_HOME"] {
            vars.insert(
                home.to_owned(),
                Val::env(home, Some(root.display().to_string())),
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
            suffixes: HashMap::new(),
            weights: None,
            single: None,
            probe_model: None,
            last: Vec::new(),
            commands: 0,
            captured: HashMap::new(),
            here: String::new(),
            repeat: None,
            outcomes: Vec::new(),
            next: None,
            title: None,
            substitution,
        }
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
        // The next suffix to try for each base: linear in the number of steps.
        let mut n = self.suffixes.get(&slug).copied().unwrap_or(2);
        let mut name = slug.clone();
        while self.names.contains(&name) {
            name = format!("{slug}-{n}");
            n += 1;
        }
        self.suffixes.insert(slug, n);
        self.names.insert(name.clone());
        name
    }

    /// The logical cluster of a `--context` value (or of none).
    pub fn cluster(&mut self, context: Option<&Word>) -> String {
        let val = context
            .and_then(|w| w.single().cloned())
            .or_else(|| self.current.clone());
        let (name, ctx) = match val {
            Some(Val::Env { var, value }) => {
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
            Some(Val::Lit(s)) => (slug(&s), s),
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

/// `to` relative to the directory `from` (both absolute).
#[must_use]
pub fn relative(from: &Path, to: &Path) -> String {
    let a: Vec<_> = from.components().collect();
    let b: Vec<_> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = vec!["..".to_owned(); a.len() - common];
    parts.extend(
        b[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().to_string()),
    );
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }
}
