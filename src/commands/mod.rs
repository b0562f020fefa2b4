//! One file per command; each returns the process exit code.

pub mod args;
pub mod balance;
pub mod chapter;
pub mod chapters;
pub mod common;
pub mod completions;
pub mod docs;
pub mod import;
pub mod init;
pub mod lab;
pub mod markdown;
pub mod observed;
pub mod plan;
pub mod rbac;
pub mod report;
pub mod rerun;
pub mod run;
pub mod run_checks;
pub mod run_reports;
pub mod schema;
pub mod shard;
pub mod site;
pub mod site_flow;
pub mod validate;
