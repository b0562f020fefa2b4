//! The chapter page (`scenario docs`, `scenario init`) without a cluster: its
//! sections and commands, its bash under `bash -euo pipefail`, the mkdocs
//! site built strict, and the page in a headless browser.

#[path = "../support/mod.rs"]
mod support;

mod chapter_page;
mod computed_vars;
mod docs;
mod docs_browser;
mod docs_commands;
mod probe_line;
mod site;
mod site_refusals;
