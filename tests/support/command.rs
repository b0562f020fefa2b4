//! The one way a test runs the `scenario` binary: a builder that says what to
//! run and what must come out, then runs it and checks every expectation at
//! once.
//!
//! ```ignore
//! let run = Scenario::new()
//!     .args(["validate", "tests/invalid/empty.yaml"])
//!     .expect_status(2)
//!     .expect_stderr("error: ...\n")
//!     .run();
//! assert!(run.stdout.is_empty());
//! ```
//!
//! The child starts in the repository root (as `cargo test` runs test
//! binaries) with stdin closed (no command of scenario reads a pipe: `pause`
//! waits only on a terminal, exec commands get no stdin). A failed expectation
//! panics with the command, each mismatch as a line diff, and the whole
//! stdout and stderr. Output that is not UTF-8 always fails.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The path of the binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_scenario")
}

/// Variables removed from every run's environment.
pub const HERMETIC: &[&str] = &[
    "NO_COLOR",
    "FORCE_COLOR",
    "CLICOLOR_FORCE",
    "MGMT",
    "CLUSTER1",
    "CLUSTER2",
];

/// A run of the binary being set up.
#[must_use = "a Scenario does nothing until .run()"]
pub struct Scenario {
    command: Command,
    shown: Vec<String>,
    status: Option<Option<i32>>,
    stdout: Option<String>,
    stderr: Option<String>,
    timeout: Option<Duration>,
}

/// What a finished run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    /// The exit code (None: ended by a signal).
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The exit code, or -1 when a signal ended the run.
    pub fn code(&self) -> i32 {
        self.status.unwrap_or(-1)
    }

    /// Whether the run exited with 0.
    pub fn success(&self) -> bool {
        self.status == Some(0)
    }

    /// stdout followed by stderr.
    pub fn both(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl Default for Scenario {
    fn default() -> Self {
        Self::new()
    }
}

impl Scenario {
    /// `scenario` with no arguments, in the repository root, stdin closed,
    /// and none of the variables a developer's shell may hold that change
    /// what it prints: the colour switches and the contexts the shipped
    /// chapter reads ([`HERMETIC`]; a test sets them with `.env`).
    pub fn new() -> Self {
        let mut command = Command::new(bin());
        command.current_dir(env!("CARGO_MANIFEST_DIR"));
        for var in HERMETIC {
            command.env_remove(var);
        }
        Scenario {
            command,
            shown: vec!["scenario".to_owned()],
            status: None,
            stdout: None,
            stderr: None,
            timeout: None,
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.shown.push(arg.as_ref().to_string_lossy().into_owned());
        self.command.arg(arg);
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        for a in args {
            self = self.arg(a);
        }
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    pub fn envs<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.command.envs(vars);
        self
    }

    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        self.command.env_remove(key);
        self
    }

    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.command.current_dir(dir);
        self
    }

    /// The exit code the run must end with.
    pub fn expect_status(mut self, code: i32) -> Self {
        self.status = Some(Some(code));
        self
    }

    /// The exact stdout the run must print.
    pub fn expect_stdout(mut self, exact: impl Into<String>) -> Self {
        self.stdout = Some(exact.into());
        self
    }

    /// The exact stderr the run must print.
    pub fn expect_stderr(mut self, exact: impl Into<String>) -> Self {
        self.stderr = Some(exact.into());
        self
    }

    /// A guard against hangs: a run still going after `limit` is killed and
    /// the test fails (not a speed measurement).
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }

    /// The command as set up so far, for a test that must spawn it itself
    /// (signals, timing); expectations are not checked then.
    pub fn command(self) -> Command {
        self.command
    }

    /// Runs to the end and checks every expectation; panics naming each
    /// mismatch with a diff.
    pub fn run(mut self) -> Run {
        self.command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self
            .command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin()));
        let read = |pipe: Option<Box<dyn std::io::Read + Send>>| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                if let Some(mut p) = pipe {
                    let _ = p.read_to_end(&mut buf);
                }
                buf
            })
        };
        let stdout = read(child.stdout.take().map(|p| Box::new(p) as _));
        let stderr = read(child.stderr.take().map(|p| Box::new(p) as _));
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for scenario") {
                break status;
            }
            if self.timeout.is_some_and(|limit| started.elapsed() > limit) {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "`{}`: still running after {:?}",
                    self.shown.join(" "),
                    self.timeout.unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        // Everything scenario prints is UTF-8: anything else fails the test.
        let text = |name: &str, bytes: Vec<u8>| {
            String::from_utf8(bytes).unwrap_or_else(|e| {
                panic!(
                    "`{}`: {name} is not UTF-8 ({e}):\n{}",
                    self.shown.join(" "),
                    String::from_utf8_lossy(e.as_bytes())
                )
            })
        };
        let run = Run {
            status: status.code(),
            stdout: text("stdout", stdout.join().expect("stdout reader")),
            stderr: text("stderr", stderr.join().expect("stderr reader")),
        };
        let mut wrong = Vec::new();
        if let Some(want) = self.status
            && run.status != want
        {
            wrong.push(format!(
                "exit status: expected {want:?}, got {:?}",
                run.status
            ));
        }
        for (name, want, got) in [
            ("stdout", &self.stdout, &run.stdout),
            ("stderr", &self.stderr, &run.stderr),
        ] {
            if let Some(want) = want
                && want != got
            {
                wrong.push(format!(
                    "{name} differs (- expected, + actual):\n{}",
                    diff(want, got)
                ));
            }
        }
        if !wrong.is_empty() {
            panic!(
                "`{}`\n{}\n--- stdout ---\n{}--- stderr ---\n{}",
                self.shown.join(" "),
                wrong.join("\n"),
                run.stdout,
                run.stderr
            );
        }
        run
    }
}

/// A line diff of two texts: common lines with two spaces, lines only in
/// `want` with `-`, lines only in `got` with `+`. A missing final newline is
/// shown as `\ no newline at end`.
pub fn diff(want: &str, got: &str) -> String {
    let a: Vec<&str> = want.split_inclusive('\n').collect();
    let b: Vec<&str> = got.split_inclusive('\n').collect();
    // Longest common subsequence, table of suffixes; outputs in tests are small,
    // and anything bigger is shown whole rather than diffed.
    if a.len().saturating_mul(b.len()) > 4_000_000 {
        return format!("- {want:?}\n+ {got:?}\n");
    }
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let line = |mark: char, l: &str| match l.strip_suffix('\n') {
        Some(l) => format!("{mark} {l}\n"),
        None => format!("{mark} {l}\n\\ no newline at end\n"),
    };
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out += &line(' ', a[i]);
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out += &line('-', a[i]);
            i += 1;
        } else {
            out += &line('+', b[j]);
            j += 1;
        }
    }
    out
}
