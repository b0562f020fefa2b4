//! Reports written at the end of a run, formatters of the result tree, and
//! the atomic file write that puts them on disk.

pub mod file;
pub mod history;
pub mod history_html;
pub mod html;
pub mod json;
pub mod junit;
mod markup;
pub mod merge;
pub mod read;

pub use html::{html, html_with};
pub use json::{SCHEMA_PATH, SCHEMA_VERSION, json, json_with, schema};
pub use junit::{junit, junit_with};
