//! The runner: selection, interrupts, retries, fan-out, the result tree,
//! and the scheduler that runs several playbooks (`schedule.rs`).

pub mod executor;
pub mod interrupt;
pub mod observer;
pub mod preflight;
pub mod result;
pub mod schedule;
pub mod selection;

pub use executor::{run_playbook, run_playbook_until};
pub use interrupt::Interrupt;
pub use observer::Observer;
pub use result::{Outcome, PlaybookResult, Status, StepResult};
pub use schedule::{Finished, Schedule, Scheduler};
pub use selection::{RunOptions, Selection};
