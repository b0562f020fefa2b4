//! The runner: selection, interrupts, retries, fan-out and the result tree.

pub mod executor;
pub mod interrupt;
pub mod observer;
pub mod preflight;
pub mod result;
pub mod selection;

pub use executor::{run_playbook, run_playbook_until};
pub use interrupt::Interrupt;
pub use observer::Observer;
pub use result::{Outcome, PlaybookResult, Status, StepResult};
pub use selection::{RunOptions, Selection};
