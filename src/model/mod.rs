//! The validated model: the playbook after validation, the building blocks
//! steps share (resources, manifests, checks), the validator that checks them,
//! and the interface every step kind implements.

pub mod access;
pub mod action;
pub mod chapter;
pub mod check;
pub mod check_result;
pub mod exit;
pub mod json;
pub mod manifest;
pub mod object_check;
pub mod observed;
pub mod outcome;
pub mod page_secrets;
pub mod playbook;
pub mod preview;
pub mod resource;
pub mod step;
pub mod step_data;
pub mod validator;
pub mod value_checks;
