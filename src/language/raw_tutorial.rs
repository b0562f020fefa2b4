//! The raw tutorial file: what the YAML of `tutorial.yaml` says, with
//! locations. Chapters and reusable steps stay YAML nodes; the loader reads
//! them on their own (`load/tutorial.rs`).

use indexmap::IndexMap;
use serde::Deserialize;

use super::raw::{RawCluster, RawDefaults};
use super::yaml::{Node, Spanned};

/// A tutorial: chapters (playbooks) in order, and what they share.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", rename = "Tutorial")]
pub struct RawTutorial {
    /// Short identifier (reports), e.g. `gloo-mesh-workshop`.
    pub name: Spanned<String>,
    /// The tutorial's title.
    pub title: Option<String>,
    /// Markdown introducing the whole tutorial.
    pub overview: Option<String>,
    /// Clusters every chapter has (a chapter may add its own).
    #[serde(default)]
    pub clusters: IndexMap<String, Spanned<RawCluster>>,
    /// Variables every chapter has (a chapter's own win).
    #[serde(default)]
    pub vars: IndexMap<String, serde_json::Value>,
    /// Step defaults of every chapter (a chapter's own `defaults` win, field by field).
    pub defaults: Option<Spanned<RawDefaults>>,
    /// Reusable steps: name -> `params` (name -> default; none: required) and a step body.
    #[serde(default)]
    pub steps: IndexMap<String, Node>,
    /// The chapters in order: a path, or `{group: TITLE, chapters: [paths]}`.
    pub chapters: Vec<Node>,
}
