//! A tutorial as its chapters see it while they load: the shared
//! definitions, each chapter's place and what it exports (read ahead).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;

use super::playbook::ChapterOf;
use crate::language::yaml::{Loc, Node};

/// What a tutorial gives its chapters.
#[derive(Debug)]
pub struct Shared {
    pub name: String,
    pub title: Option<String>,
    pub overview: Option<String>,
    /// The tutorial file as shown in messages.
    pub file: String,
    pub canonical: PathBuf,
    /// The tutorial's `clusters`, `vars` and `defaults` as written.
    pub clusters: Option<Node>,
    pub vars: Option<Node>,
    pub defaults: Option<Node>,
    pub steps: IndexMap<String, Reusable>,
    pub chapters: Vec<ChapterRef>,
    /// The environment variables the tutorial's templates refer to (secrets).
    pub env_refs: BTreeSet<String>,
}

/// A reusable step: its parameters (name -> default; `None`: required) and
/// its body (a step without `name`).
#[derive(Debug, Clone)]
pub struct Reusable {
    pub params: IndexMap<String, Option<serde_json::Value>>,
    pub body: Vec<(Node, Node)>,
}

/// One chapter as the tutorial lists it, and what it exports.
#[derive(Debug, Clone)]
pub struct ChapterRef {
    pub path: PathBuf,
    pub canonical: Option<PathBuf>,
    /// The chapter playbook's `name` (its file name when it has none).
    pub name: String,
    pub group: Option<String>,
    pub exports: Vec<ExportRef>,
}

/// One exported value of a chapter: the names its template reads and where it is.
#[derive(Debug, Clone)]
pub struct ExportRef {
    pub name: String,
    pub uses: BTreeSet<String>,
    pub at: String,
    pub loc: Loc,
}

/// A chapter being loaded as part of a tutorial: the shared definitions and
/// its position.
#[derive(Debug, Clone)]
pub struct ChapterCx {
    pub shared: Arc<Shared>,
    pub index: usize,
}

impl ChapterCx {
    /// The chapter's place in the tutorial (for reports).
    #[must_use]
    pub fn chapter_of(&self) -> ChapterOf {
        ChapterOf {
            tutorial: self.shared.name.clone(),
            number: self.index + 1,
            group: self.shared.chapters[self.index].group.clone(),
        }
    }
}

impl Shared {
    /// The position of a chapter file in the tutorial.
    #[must_use]
    pub fn position(&self, chapter: &Path) -> Option<usize> {
        let c = chapter.canonicalize().ok()?;
        self.chapters
            .iter()
            .position(|r| r.canonical.as_ref() == Some(&c))
    }

    /// Whether `path` is this tutorial's file.
    #[must_use]
    pub fn is_file(&self, path: &Path) -> bool {
        path.canonicalize().ok().as_ref() == Some(&self.canonical)
    }
}
