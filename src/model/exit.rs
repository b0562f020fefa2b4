//! Exit codes, kept by every command (documented in the README).

/// Everything passed.
pub const OK: i32 = 0;
/// An assertion failed (the system under test is wrong).
pub const ASSERTION_FAILED: i32 = 1;
/// Invalid input or usage: nothing was run.
pub const INVALID: i32 = 2;
/// A step errored (cluster, network, I/O): the check could not be made.
pub const STEP_ERROR: i32 = 3;
/// Interrupted by SIGINT/SIGTERM.
pub const INTERRUPTED: i32 = 130;
