//! One file per command; each returns the process exit code.

pub mod args;
pub mod chapter;
pub mod common;
pub mod completions;
pub mod docs;
pub mod import;
pub mod init;
pub mod lab;
pub mod observed;
pub mod plan;
pub mod rerun;
pub mod run;
pub mod run_checks;
pub mod schema;
pub mod shard;
pub mod validate;
