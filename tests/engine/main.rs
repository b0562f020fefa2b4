//! The engine without a cluster: the command line and its exact output,
//! validation (golden errors, hostile inputs, bounds), output channels and
//! secrets, dry runs, templates and scope, the shipped playbooks and docs
//! lists, editor support, and faults of the pre-flight and report writes.
//! One module per feature; `support` is shared with the other test binaries.

#[path = "../support/mod.rs"]
mod support;

mod bounds;
mod cli;
mod contexts;
mod dry_run;
mod editor;
mod exec;
mod faults;
mod golden;
mod harness;
mod hostile_inputs;
mod import;
mod manifests;
mod output;
mod output_channels;
mod playbook_inputs;
mod playbooks;
mod prose_lists;
mod run_control;
mod scope;
mod secrets;
mod shards_and_reruns;
mod templates;
mod untrusted_output;
mod version;
