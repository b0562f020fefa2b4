//! Reports written at the end of a run, formatters of the result tree.

pub mod html;
pub mod json;
pub mod junit;
mod markup;

pub use html::html;
pub use json::{SCHEMA_PATH, SCHEMA_VERSION, json, schema};
pub use junit::junit;
