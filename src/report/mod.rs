//! Reports written at the end of a run, formatters of the result tree, and
//! the atomic file write that puts them on disk.

pub mod file;
pub mod html;
pub mod json;
pub mod junit;
mod markup;

pub use html::html;
pub use json::{SCHEMA_PATH, SCHEMA_VERSION, json, schema};
pub use junit::junit;
