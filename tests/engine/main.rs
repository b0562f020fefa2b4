//! The engine without a cluster: the command line and its exact output,
//! validation (golden errors, hostile inputs, bounds), output channels and
//! secrets, dry runs, templates and scope, the shipped playbooks and docs
//! lists, editor support, and faults of the pre-flight and report writes.
//! One module per feature; `support` is shared with the other test binaries.

#[path = "../support/mod.rs"]
mod support;

mod bounds;
mod check_messages;
mod cli;
mod computed_requests;
mod computed_weights;
mod contexts;
mod dry_run;
mod editor;
mod exec;
mod faults;
mod flowing_values;
mod golden;
mod harness;
mod hostile_inputs;
mod import;
mod import_mkdocs;
mod import_workloads;
mod in_cluster;
mod manifests;
mod output;
mod output_channels;
mod playbook_inputs;
mod playbooks;
mod prose_lists;
mod rbac;
mod report_history;
mod report_merge;
mod report_merge_problems;
mod run_control;
mod scope;
mod secrets;
mod shard_balance;
mod shards_and_reruns;
mod templates;
mod tutorial_rerun;
mod tutorials;
mod untrusted_output;
mod version;
