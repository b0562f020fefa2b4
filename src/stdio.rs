//! Standard output and error that a closed pipe cannot crash
//! (`scenario plan x | head -1`). Once a write fails, the stream counts as
//! closed and later writes are dropped; the command goes on (a run still
//! runs `finally` and writes its reports) and exits with its own code.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
static STDERR_CLOSED: AtomicBool = AtomicBool::new(false);
static STDERR_COLOR: AtomicBool = AtomicBool::new(false);

/// Whether diagnostics on stderr are coloured (set once by the CLI).
pub fn set_stderr_color(on: bool) {
    STDERR_COLOR.store(on, Ordering::Relaxed);
}

/// Prints diagnostics on stderr, coloured when stderr wants colour.
pub fn diagnostics(diags: &[crate::language::diag::Diagnostic]) {
    err(&crate::language::diag::render_all_styled(
        diags,
        STDERR_COLOR.load(Ordering::Relaxed),
    ));
}

fn write(text: &str, closed: &AtomicBool, stdout: bool) {
    if closed.load(Ordering::Relaxed) {
        return;
    }
    let result = if stdout {
        let mut o = std::io::stdout().lock();
        o.write_all(text.as_bytes()).and_then(|()| o.flush())
    } else {
        let mut e = std::io::stderr().lock();
        e.write_all(text.as_bytes()).and_then(|()| e.flush())
    };
    if result.is_err() {
        closed.store(true, Ordering::Relaxed);
    }
}

/// Writes to stdout; nothing happens once stdout is closed.
pub fn out(text: &str) {
    write(text, &STDOUT_CLOSED, true);
}

/// Writes to stderr; nothing happens once stderr is closed.
pub fn err(text: &str) {
    write(text, &STDERR_CLOSED, false);
}

/// Whether a write to stdout has failed (the reader went away).
#[must_use]
pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

/// `println!` that a closed stdout cannot crash.
#[macro_export]
macro_rules! outln {
    () => { $crate::stdio::out("\n") };
    ($($arg:tt)*) => { $crate::stdio::out(&format!("{}\n", format_args!($($arg)*))) };
}

/// `print!` that a closed stdout cannot crash.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::stdio::out(&format!($($arg)*)) };
}

/// `eprintln!` that a closed stderr cannot crash.
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => { $crate::stdio::err(&format!("{}\n", format_args!($($arg)*))) };
}

/// Prints warnings on stderr (no closing count: they do not stop anything).
pub fn warnings(diags: &[crate::language::diag::Diagnostic]) {
    let color = STDERR_COLOR.load(Ordering::Relaxed);
    for d in diags {
        err(&format!("{}\n", d.render_styled(color)));
    }
}
