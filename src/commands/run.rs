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
    // Pre-flight: every target cluster reachable and every kind known, before any write.
    let problems: Vec<preflight::Problem> = rt.block_on(async {
        futures::future::join_all(books.iter().map(|pb| preflight::check(pb, &ropts)))
            .await
            .into_iter()
            .flatten()
            .collect()
    });
    // One kubeconfig problem shows once, not once per cluster.
    let mut seen = std::collections::HashSet::new();
    let problems: Vec<preflight::Problem> = problems
        .into_iter()
        .filter(|p| seen.insert(p.message.clone()))
        .collect();
    if !problems.is_empty() {
        for p in &problems {
            crate::errln!("error: pre-flight: {}", safe_text(&books, &p.message));
        }
        crate::errln!(
            "\n{} problem{} found before the run; nothing was written to any cluster",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        );
        return if problems.iter().any(|p| p.config) {
            exit::INVALID
        } else {
            exit::STEP_ERROR
        };
    }
    let results = rt.block_on(async {
        let (tx, rx) = tokio::sync::watch::channel(0u8);
        tokio::spawn(async move {
            let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) else { return };
            loop {
                tokio::select! {
                    r = tokio::signal::ctrl_c() => if r.is_err() { return },
                    _ = term.recv() => {}
                }
                let n = *tx.borrow() + 1;
                crate::errln!("\n{}", if n == 1 { "interrupted: stopping the current step, running `finally` (again to skip it)" } else { "interrupted again: skipping `finally`" });
                let _ = tx.send(n);
            }
        });
        let interrupt = Interrupt(rx);
        // Up to --jobs playbooks at once; --fail-fast starts no new one after a failure.
        let failed = std::sync::atomic::AtomicBool::new(false);
        let runs: Vec<_> = books
            .iter()
            .map(|pb| {
                let (interrupt, failed, ropts) = (&interrupt, &failed, &ropts);
                async move {
                    if interrupt.count() > 0 || (control.fail_fast && failed.load(std::sync::atomic::Ordering::SeqCst)) {
                        return None;
                    }
                    let r = run_playbook_until(pb, ropts, observer, interrupt).await;
                    if r.status != Status::Passed {
                        failed.store(true, std::sync::atomic::Ordering::SeqCst);
                    }
                    if json_lines {
                        JsonLines::playbook_finished(&r);
                    }
                    Some(r)
                }
            })
            .collect();
        let results: Vec<Option<PlaybookResult>> =
            futures::stream::StreamExt::collect(futures::stream::StreamExt::buffered(futures::stream::iter(runs), usize::from(control.jobs))).await;
        results.into_iter().flatten().collect::<Vec<_>>()
    });
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
    for (format, path) in &control.reports {
        let text = match format.as_str() {
            "junit" => report::junit(&results),
            "html" => report::html(&results, code),
            _ => report::json(&results, code),
        };
        if let Err(e) = std::fs::write(path, text) {
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
