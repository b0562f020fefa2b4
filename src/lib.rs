//! `scenario`: a declarative scenario engine. A playbook (YAML) of ordered
//! steps — delete, apply, patch, wait, probe, get — runs against one or more
//! Kubernetes clusters.
//!
//! The layers, each importing only those before it:
//! [`language`] (located YAML, templates, diagnostics) -> [`cluster`] (the
//! Kubernetes client) -> [`model`] (the validated playbook and the step
//! interface) -> [`tools`] (programs scenario runs: `kubectl kustomize`) ->
//! [`steps`] (one file per kind, one list) -> [`load`] ->
//! [`runner`] (the result tree) -> [`output`] / [`report`] (its formatters)
//! -> [`commands`] -> [`cli`]. [`import`] (a chapter read into a playbook)
//! uses `language` only and is used only by `commands`.

// Diagnostics are returned by value: they are rare and never on a hot path.
#![allow(clippy::result_large_err)]

pub mod cli;
pub mod cluster;
pub mod commands;
pub mod import;
pub mod language;
pub mod load;
pub mod model;
pub mod output;
pub mod report;
pub mod runner;
pub mod runtime;
pub mod stdio;
pub mod steps;
pub mod tools;

pub use cli::run;
pub use runtime::install_crypto_provider;
