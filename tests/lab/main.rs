//! LAB TESTS: everything here needs Kubernetes control planes. `make test`
//! starts a lab and passes it as `SCENARIO_LAB_DIR`; without it the first
//! test to call `support::lab()` starts one for this process. Some tests
//! start labs of their own (named in their module's comment). Every module
//! and test that needs a cluster carries the `lab_` prefix, so
//! `cargo test --test lab` is the whole cluster suite.

#[path = "../support/mod.rs"]
mod support;

mod lab_chapter;
mod lab_check_now;
mod lab_control_planes;
mod lab_copy_paste;
mod lab_faults;
mod lab_html_report;
mod lab_import;
mod lab_in_cluster;
mod lab_kubectl_names;
mod lab_list_and_field_checks;
mod lab_mutation;
mod lab_patch;
mod lab_preflight;
mod lab_reports;
mod lab_restart;
mod lab_steps;
mod lab_tutorial;
mod lab_tutorial_example;
