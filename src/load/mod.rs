//! The loader: reads a playbook file, checks every part of it (steps through
//! the step registry) and returns the validated model, or every problem found.

pub mod inputs;
pub mod playbook;
pub mod shared;
pub mod step;
pub mod tutorial;

pub use inputs::{LoadOptions, scalar_value};
pub use playbook::{load, load_text};
pub use tutorial::{file_is_tutorial, load_tutorial};
