//! `scenario run`: load and check every playbook, then run them (up to
//! `--jobs` at once), print the results and write the reports.

use std::path::PathBuf;

use super::args::{Inputs, RunControl};
use super::common::{expand, load_options};
use super::run_checks;
use crate::load;
use crate::model::exit;
use crate::output::jsonl::JsonLines;
use crate::output::summary::summary;
use crate::output::terminal::{Plain, Tty};
use crate::report;
use crate::runner::preflight;
use crate::runner::{Interrupt, Observer, PlaybookResult, RunOptions, Status, run_playbook_until};

/// `I/N` shards: playbook k (in the given order) belongs to shard (k mod N) + 1.
#[must_use]
pub fn shard<T>(items: Vec<T>, index: usize, total: usize) -> Vec<T> {
    items
        .into_iter()
        .enumerate()
        .filter(|(k, _)| total > 0 && k % total + 1 == index)
        .map(|(_, t)| t)
        .collect()
}

#[allow(
    clippy::too_many_lines,
    clippy::too_many_arguments,
    clippy::fn_params_excessive_bools
)]
pub fn run(
    paths: &[PathBuf],
    inputs: &Inputs,
    dry_run: bool,
    allow_exec: bool,
    control: &RunControl,
    quiet: bool,
    progress: bool,
    color: bool,
) -> i32 {
    use std::io::IsTerminal as _;
    // Signals are caught from the start: a SIGINT/SIGTERM while playbooks
    // load or during the pre-flight still ends with reports and exit 130.
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            crate::errln!("error: cannot start the async runtime: {e}");
            return exit::STEP_ERROR;
        }
    };
    let interrupt = listen(&rt);
    let opts = load_options(inputs);
    let (mut files, mut diags) = expand(paths);
    if let Some((i, n)) = control.shard {
        files = shard(files, i, n);
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
    // Everything is loaded and validated before the first request.
    let mut books = Vec::new();
    for p in &files {
        match load::load(p, &opts) {
            Ok(pb) => books.push(pb),
            Err(d) => diags.extend(d),
        }
    }
    if diags.is_empty() {
        diags = run_checks::check(&books, control, allow_exec);
    }
    if !diags.is_empty() {
        crate::stdio::diagnostics(&diags);
        return exit::INVALID;
    }
    let ropts = RunOptions {
        dry_run,
        allow_exec,
        kubeconfig: inputs.kubeconfig.clone(),
        interactive: std::io::stdin().is_terminal(),
        selection: run_checks::selection(control),
        preflight_timeout: control.preflight_timeout,
    };
    let json_lines = control.format() == "json";
    let plain = Plain { quiet };
    let tty = Tty::new(color);
    let observer: &dyn Observer = if json_lines {
        &JsonLines
    } else if progress {
        &tty
    } else {
        &plain
    };
    let (results, code) = match preflight(&rt, &books, &ropts, &interrupt) {
        Some((results, code)) => {
            if json_lines {
                results.iter().for_each(JsonLines::playbook_finished);
            }
            (results, code)
        }
        None => {
            let results = rt.block_on(run_all(&books, &ropts, control, observer, &interrupt));
            let mut code = exit::OK;
            for r in &results {
                if !json_lines {
                    crate::out!("{}", summary(r));
                }
                code = code.max(r.exit_code());
            }
            if results.iter().any(|r| r.interrupted) {
                code = exit::INTERRUPTED;
            }
            (results, code)
        }
    };
    write_reports(&control.reports, &results, code)
}

/// Installs the SIGINT/SIGTERM handlers (at once, not on first poll) and
/// returns the count the executor watches.
fn listen(rt: &tokio::runtime::Runtime) -> Interrupt {
    use tokio::signal::unix::{SignalKind, signal};
    let (tx, rx) = tokio::sync::watch::channel(0u8);
    let _guard = rt.enter();
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        crate::errln!(
            "warning: cannot catch SIGINT/SIGTERM: they will end the run without reports"
        );
        return Interrupt(rx);
    };
    rt.spawn(async move {
        loop {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            let n = tx.borrow().saturating_add(1);
            crate::errln!(
                "\n{}",
                if n == 1 {
                    "interrupted: stopping the current step, running `finally` (again to skip it)"
                } else {
                    "interrupted again: skipping `finally`"
                }
            );
            let _ = tx.send(n);
        }
    });
    Interrupt(rx)
}

/// The pre-flight of every playbook, stopped by a signal. `None`: go on
/// with the run; else the results (the pre-flight as an errored step of
/// each playbook) and the exit code of a run that stops here.
fn preflight(
    rt: &tokio::runtime::Runtime,
    books: &[crate::model::playbook::Playbook],
    ropts: &RunOptions,
    interrupt: &Interrupt,
) -> Option<(Vec<PlaybookResult>, i32)> {
    use preflight::NotRun;
    let started = std::time::Instant::now();
    let found: Option<Vec<Vec<preflight::Problem>>> = rt.block_on(async {
        tokio::select! {
            biased;
            () = interrupt.reached(1) => None,
            p = futures::future::join_all(books.iter().map(|pb| preflight::check(pb, ropts))) => Some(p),
        }
    });
    let took = started.elapsed();
    let Some(found) = found else {
        let results = books
            .iter()
            .map(|pb| preflight::not_run(pb, &[], NotRun::Interrupted, took))
            .collect();
        return Some((results, exit::INTERRUPTED));
    };
    if found.iter().all(Vec::is_empty) {
        return None;
    }
    // One kubeconfig problem shows once, not once per cluster.
    let mut seen = std::collections::HashSet::new();
    let problems: Vec<&preflight::Problem> = found
        .iter()
        .flatten()
        .filter(|p| seen.insert(p.message.clone()))
        .collect();
    for p in &problems {
        crate::errln!("error: pre-flight: {}", safe_text(books, &p.message));
    }
    crate::errln!(
        "\n{} problem{} found before the run; nothing was written to any cluster",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    let code = if problems.iter().any(|p| p.config) {
        exit::INVALID
    } else {
        exit::STEP_ERROR
    };
    let results: Vec<PlaybookResult> = books
        .iter()
        .zip(&found)
        .map(|(pb, own)| {
            let why = if own.is_empty() {
                NotRun::Other
            } else {
                NotRun::Problems
            };
            let mut r = preflight::not_run(pb, own, why, took);
            // Pre-flight messages quote the cluster's answers and the playbook's values.
            r.steps.iter_mut().for_each(|s| s.sanitize(&pb.secrets));
            r
        })
        .collect();
    Some((results, code))
}

/// Runs the playbooks, up to `--jobs` at once; `--fail-fast` starts no new
/// one after a failure, and an interrupt none at all.
async fn run_all(
    books: &[crate::model::playbook::Playbook],
    ropts: &RunOptions,
    control: &RunControl,
    observer: &dyn Observer,
    interrupt: &Interrupt,
) -> Vec<PlaybookResult> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let json_lines = control.format() == "json";
    let failed = AtomicBool::new(false);
    let runs: Vec<_> = books
        .iter()
        .map(|pb| {
            let failed = &failed;
            async move {
                if interrupt.count() > 0 || (control.fail_fast && failed.load(Ordering::SeqCst)) {
                    return None;
                }
                let r = run_playbook_until(pb, ropts, observer, interrupt).await;
                if r.status != Status::Passed {
                    failed.store(true, Ordering::SeqCst);
                }
                if json_lines {
                    JsonLines::playbook_finished(&r);
                }
                Some(r)
            }
        })
        .collect();
    let results: Vec<Option<PlaybookResult>> =
        futures::stream::StreamExt::collect(futures::stream::StreamExt::buffered(
            futures::stream::iter(runs),
            usize::from(control.jobs),
        ))
        .await;
    results.into_iter().flatten().collect()
}

/// Writes every `--report`, each atomically (the previous file stays whole
/// until the new one replaces it). A report that cannot be written makes
/// the run an error (exit 3) unless it is already worse.
fn write_reports(reports: &[(String, String)], results: &[PlaybookResult], mut code: i32) -> i32 {
    for (format, path) in reports {
        let text = match format.as_str() {
            "junit" => report::junit(results),
            "html" => report::html(results, code),
            _ => report::json(results, code),
        };
        if let Err(e) = report::file::write(std::path::Path::new(path), &text) {
            crate::errln!("error: cannot write the {format} report {path}: {e}");
            code = code.max(exit::STEP_ERROR);
        }
    }
    code
}

/// A message from outside (a cluster's, the network's) as it may be printed:
/// every playbook's secrets redacted, controls escaped, long lines cut.
fn safe_text(books: &[crate::model::playbook::Playbook], s: &str) -> String {
    let mut text = s.to_owned();
    for pb in books {
        text = pb.secrets.redact(&text).into_owned();
    }
    crate::language::untrusted::clean_text(&text)
}

#[cfg(test)]
mod tests {
    use crate::commands::run::shard;

    #[test]
    fn shards_are_complete_disjoint_and_stable() {
        let items: Vec<usize> = (0..23).collect();
        for n in 1..6 {
            let mut seen: Vec<usize> = Vec::new();
            for i in 1..=n {
                let s = shard(items.clone(), i, n);
                assert_eq!(s, shard(items.clone(), i, n), "stable");
                seen.extend(s);
            }
            seen.sort_unstable();
            assert_eq!(seen, items, "every item in exactly one of {n} shards");
        }
    }
}
