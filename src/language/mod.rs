//! The playbook language: located YAML, raw types, templates and their scope,
//! diagnostics and their one renderer. Knows nothing of step kinds.

pub mod diag;
pub mod digest;
pub mod expr_bound;
pub mod from_node;
pub mod jsonpath;
pub mod limits;
pub mod options;
pub mod raw;
pub mod raw_tutorial;
pub mod scope;
pub mod secrets;
pub mod shell;
pub mod size;
pub mod source;
pub mod substitute;
pub mod template;
#[cfg(test)]
mod template_bound_tests;
pub mod template_budget;
pub mod template_rewrite;
pub mod untrusted;
pub mod yaml;
