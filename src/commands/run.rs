//! `scenario run`: load and check every playbook, then hand them to the
//! runner's scheduler (signals, pre-flight, `--jobs`, `--fail-fast`), print
//! the summaries and write the reports.

use std::path::PathBuf;

use super::args::{Inputs, RunControl};
use super::balance;
use super::chapters::{self, Head};
use super::common::{expand, load_any, load_options};
use super::rerun;
use super::run_checks;
use super::run_reports;
use super::shard;
use crate::model::exit;
use crate::model::playbook::Playbook;
use crate::output::jsonl::JsonLines;
use crate::output::summary::{chapter_table, summary};
use crate::output::terminal::{Plain, Tty};
use crate::runner::{Observer, RunOptions, Schedule, Scheduler};

/// What `scenario run` was asked to do.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub paths: &'a [PathBuf],
    pub inputs: &'a Inputs,
    pub control: &'a RunControl,
    /// `--dry-run`.
    pub dry_run: bool,
    /// `--allow-exec`.
    pub allow_exec: bool,
}

/// How the run shows itself on the terminal.
#[derive(Debug, Clone, Copy)]
pub struct Display {
    /// `-q`: no progress lines.
    pub quiet: bool,
    /// Live spinners (text output, stdout and stderr on a terminal).
    pub progress: bool,
    /// Colors on stdout.
    pub color: bool,
}

/// `scenario run`: loads and checks every playbook, hands them to the
/// runner's [`Scheduler`], prints the summaries and writes the reports.
pub fn run(req: &Request<'_>, display: Display) -> i32 {
    use std::io::IsTerminal as _;
    // Signals are caught from the start: a SIGINT/SIGTERM while playbooks
    // load or during the pre-flight still ends with reports and exit 130.
    let scheduler = match Scheduler::start() {
        Ok(s) => s,
        Err(e) => {
            crate::errln!("error: {e}");
            return exit::STEP_ERROR;
        }
    };
    let started = std::time::SystemTime::now();
    let (books, shard, tutorial) = match load_all(req, display.quiet) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let control = req.control;
    let schedule = Schedule {
        run: RunOptions {
            dry_run: req.dry_run,
            allow_exec: req.allow_exec,
            kubeconfig: req.inputs.kubeconfig.clone(),
            interactive: std::io::stdin().is_terminal(),
            selection: run_checks::selection(control),
            preflight_timeout: control.preflight_timeout,
        },
        jobs: usize::from(control.jobs),
        fail_fast: control.fail_fast,
    };
    let json_lines = control.format() == "json";
    let plain = Plain {
        quiet: display.quiet,
    };
    let tty = Tty::new(display.color);
    let observer: &dyn Observer = if json_lines {
        &JsonLines
    } else if display.progress {
        &tty
    } else {
        &plain
    };
    let finished = match &tutorial {
        Some(_) => scheduler.run_chapters(&books, &schedule, observer, control.keep_going),
        None => scheduler.run(&books, &schedule, observer),
    };
    if finished.ran && !json_lines {
        for r in &finished.results {
            crate::out!("{}", summary(r));
        }
        if let Some(t) = &tutorial {
            crate::out!("{}", chapter_table(&t.name, &t.file, &finished.results));
        }
    }
    let info = run_reports::info(&books, shard, started);
    run_reports::write(control, &finished.results, finished.code, &info)
}

/// A shard: `I` (1-based) of `N`.
type Shard = (usize, usize);

/// What a run loaded: its playbooks (or the chapters of a tutorial), the shard
/// it took, and the tutorial's header.
type Loaded = (Vec<Playbook>, Option<Shard>, Option<Head>);

/// The playbooks of this shard (or the chapters of the tutorial), loaded and
/// checked against the command line (everything before the first request),
/// or the exit code of invalid input.
fn load_all(req: &Request<'_>, quiet: bool) -> Result<Loaded, i32> {
    let opts = load_options(req.inputs);
    let (mut files, mut diags) = expand(req.paths);
    let mut failed = None;
    if let Some(report) = &req.control.rerun_failed {
        let given = files.len();
        let kept =
            rerun::failed(report).and_then(|f| rerun::keep_failed(files, &f).map(|kept| (kept, f)));
        files = match kept {
            Ok((f, which)) => {
                failed = Some(which);
                f
            }
            Err(e) => {
                crate::errln!("error: --rerun-failed {}: {e}", report.display());
                return Err(exit::INVALID);
            }
        };
        if !quiet {
            crate::outln!(
                "rerun: {} of {given} playbook{} failed in {}",
                files.len(),
                if given == 1 { "" } else { "s" },
                report.display()
            );
        }
    }
    let job_index = std::env::var(shard::JOB_INDEX_VAR).ok();
    let chosen = shard::chosen(
        req.control.shard,
        req.control.shard_count,
        job_index.as_deref(),
    );
    let chosen = match chosen {
        Ok(c) => c,
        Err(e) => {
            crate::errln!("error: {e}");
            return Err(exit::INVALID);
        }
    };
    if let Some((i, n)) = chosen {
        files = match &req.control.balance {
            Some(r) => match balance::durations(r) {
                Ok(known) => balance::shard(files, &known, i, n),
                Err(e) => {
                    crate::errln!("error: --balance {}: {e}", r.display());
                    return Err(exit::INVALID);
                }
            },
            None => shard::shard(files, i, n),
        };
        if !quiet {
            crate::outln!(
                "shard {i}/{n}: {} playbook{}{}",
                files.len(),
                if files.len() == 1 { "" } else { "s" },
                if files.is_empty() {
                    " (nothing to run in this shard)"
                } else {
                    ""
                }
            );
        }
    }
    if chosen.is_none() && req.control.balance.is_some() {
        crate::errln!(
            "error: --balance assigns playbooks to shards: give --shard I/N (or --shard-count N with JOB_COMPLETION_INDEX)"
        );
        return Err(exit::INVALID);
    }
    let mut loaded = Vec::new();
    for p in &files {
        match load_any(p, &opts) {
            Ok(l) => loaded.push(l),
            Err(d) => diags.extend(d),
        }
    }
    let mut books = Vec::new();
    let mut tutorial = None;
    if diags.is_empty() {
        match chapters::select(loaded, req.control) {
            Ok((b, t)) => (books, tutorial) = (b, t),
            Err(d) => diags = d,
        }
        if let (Some(f), Some(_)) = (&failed, &tutorial) {
            rerun::from_first_failed(&mut books, f);
        }
    }
    if diags.is_empty() {
        diags = run_checks::check(&books, req.control, req.allow_exec);
    }
    if diags.is_empty() {
        diags = chapters::missing_imports(&books);
    }
    if diags.is_empty() {
        Ok((books, chosen, tutorial))
    } else {
        crate::stdio::diagnostics(&diags);
        Err(exit::INVALID)
    }
}
