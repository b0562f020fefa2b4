//! Running several playbooks: one async runtime, the SIGINT/SIGTERM
//! handlers, the pre-flight of every playbook, then the playbooks themselves,
//! up to `jobs` at once (`fail_fast`: no new one after a failure).
//!
//! `scenario run` builds a [`Scheduler`] before it loads anything (so a
//! signal while playbooks load still ends with reports), then calls
//! [`Scheduler::run`] with the validated playbooks and a [`Schedule`].

use std::sync::atomic::{AtomicBool, Ordering};

use super::executor::{run_chapter, run_playbook_until};
use super::interrupt::Interrupt;
use super::observer::Observer;
use super::preflight::{self, NotRun, Problem};
use super::result::{PlaybookResult, Status};
use super::selection::RunOptions;
use crate::model::exit;
use crate::model::playbook::Playbook;

/// How several playbooks are run.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// How each playbook runs.
    pub run: RunOptions,
    /// How many playbooks run at once (`--jobs`; 0 counts as 1).
    pub jobs: usize,
    /// Start no playbook after one did not pass (`--fail-fast`).
    pub fail_fast: bool,
}

/// What a scheduled run gives back.
#[derive(Debug)]
pub struct Finished {
    /// One result per playbook that started (or that the pre-flight stopped).
    pub results: Vec<PlaybookResult>,
    /// The exit code of the run (before reports are written).
    pub code: i32,
    /// The playbooks' steps ran: false when the pre-flight (or a signal
    /// during it) stopped the run before the first step.
    pub ran: bool,
}

impl Finished {
    /// A run whose steps ran: its code is the worst playbook's, or
    /// interrupted when a signal stopped one.
    fn ran(results: Vec<PlaybookResult>) -> Finished {
        let mut code = results
            .iter()
            .map(PlaybookResult::exit_code)
            .fold(exit::OK, i32::max);
        if results.iter().any(|r| r.interrupted) {
            code = exit::INTERRUPTED;
        }
        Finished {
            results,
            code,
            ran: true,
        }
    }
}

/// The runtime and the signal handlers of a run.
pub struct Scheduler {
    rt: tokio::runtime::Runtime,
    interrupt: Interrupt,
}

impl Scheduler {
    /// Starts the async runtime and catches SIGINT/SIGTERM from now on.
    ///
    /// # Errors
    /// The runtime cannot start (the message says why).
    pub fn start() -> Result<Self, String> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the async runtime: {e}"))?;
        let interrupt = Interrupt::listen(&rt);
        Ok(Scheduler { rt, interrupt })
    }

    /// The pre-flight of every playbook, then the playbooks. The observer
    /// hears every step and the end of every playbook.
    pub fn run(
        &self,
        books: &[Playbook],
        schedule: &Schedule,
        observer: &dyn Observer,
    ) -> Finished {
        if let Some((results, code)) = self.preflight(books, &schedule.run) {
            results.iter().for_each(|r| observer.playbook_finished(r));
            return Finished {
                results,
                code,
                ran: false,
            };
        }
        let results = self
            .rt
            .block_on(run_all(books, schedule, observer, &self.interrupt));
        Finished::ran(results)
    }

    /// The chapters of a tutorial, in order, on the same clusters: each reads
    /// what earlier ones exported; after a chapter that does not pass, the
    /// rest are skipped unless `keep_going`.
    pub fn run_chapters(
        &self,
        books: &[Playbook],
        schedule: &Schedule,
        observer: &dyn Observer,
        keep_going: bool,
    ) -> Finished {
        if let Some((results, code)) = self.preflight(books, &schedule.run) {
            results.iter().for_each(|r| observer.playbook_finished(r));
            return Finished {
                results,
                code,
                ran: false,
            };
        }
        let results = self.rt.block_on(async {
            let mut imports = serde_json::Map::new();
            let mut results = Vec::new();
            let mut stop: Option<String> = None;
            for pb in books {
                if self.interrupt.count() > 0 {
                    stop = Some("interrupted".to_owned());
                }
                if let Some(why) = &stop {
                    let r = preflight::not_run_because(pb, why);
                    observer.playbook_finished(&r);
                    results.push(r);
                    continue;
                }
                let (r, exports) =
                    run_chapter(pb, &schedule.run, observer, &self.interrupt, &imports).await;
                imports.extend(exports);
                if r.status.is_failure() && !keep_going {
                    stop = Some(format!(
                        "chapter `{}` did not pass (--keep-going runs the rest)",
                        pb.name
                    ));
                }
                observer.playbook_finished(&r);
                results.push(r);
            }
            results
        });
        Finished::ran(results)
    }

    /// The pre-flight of every playbook, stopped by a signal. `None`: go on
    /// with the run; else the results (the pre-flight as an errored step of
    /// each playbook) and the exit code of a run that stops here.
    fn preflight(
        &self,
        books: &[Playbook],
        ropts: &RunOptions,
    ) -> Option<(Vec<PlaybookResult>, i32)> {
        let started = std::time::Instant::now();
        let found: Option<Vec<Vec<Problem>>> = self.rt.block_on(async {
            tokio::select! {
                biased;
                () = self.interrupt.reached(1) => None,
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
        let code = print_problems(books, &found);
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
}

/// Prints the pre-flight's problems (one kubeconfig problem once, not once
/// per cluster); returns the exit code of a run they stop.
fn print_problems(books: &[Playbook], found: &[Vec<Problem>]) -> i32 {
    let mut seen = std::collections::HashSet::new();
    let problems: Vec<&Problem> = found
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
    if problems.iter().any(|p| p.config) {
        exit::INVALID
    } else {
        exit::STEP_ERROR
    }
}

/// Runs the playbooks, up to `jobs` at once; `fail_fast` starts no new
/// one after a failure, and an interrupt none at all.
async fn run_all(
    books: &[Playbook],
    schedule: &Schedule,
    observer: &dyn Observer,
    interrupt: &Interrupt,
) -> Vec<PlaybookResult> {
    let failed = AtomicBool::new(false);
    let runs: Vec<_> = books
        .iter()
        .map(|pb| {
            let failed = &failed;
            async move {
                if interrupt.count() > 0 || (schedule.fail_fast && failed.load(Ordering::SeqCst)) {
                    return None;
                }
                let r = run_playbook_until(pb, &schedule.run, observer, interrupt).await;
                if r.status != Status::Passed {
                    failed.store(true, Ordering::SeqCst);
                }
                observer.playbook_finished(&r);
                Some(r)
            }
        })
        .collect();
    let results: Vec<Option<PlaybookResult>> = futures::stream::StreamExt::collect(
        futures::stream::StreamExt::buffered(futures::stream::iter(runs), schedule.jobs.max(1)),
    )
    .await;
    results.into_iter().flatten().collect()
}

/// A message from outside (a cluster's, the network's) as it may be printed:
/// every playbook's secrets redacted, controls escaped, long lines cut.
fn safe_text(books: &[Playbook], s: &str) -> String {
    let mut text = s.to_owned();
    for pb in books {
        text = pb.secrets.redact(&text).into_owned();
    }
    crate::language::untrusted::clean_text(&text)
}

#[cfg(test)]
mod tests {
    use crate::model::exit;
    use crate::model::playbook::Playbook;
    use crate::model::step::Step;
    use crate::runner::observer::Observer;
    use crate::runner::result::{PlaybookResult, Status, StepResult};
    use crate::runner::schedule::{Schedule, Scheduler};
    use crate::runner::selection::RunOptions;

    /// Counts the playbooks it hears end.
    #[derive(Default)]
    struct Ends(std::sync::Mutex<Vec<String>>);

    impl Observer for Ends {
        fn step_started(&self, _: &str, _: usize, _: usize, _: &Step) {}
        fn step_finished(&self, _: &str, _: &StepResult) {}
        fn playbook_finished(&self, r: &PlaybookResult) {
            self.0.lock().expect("lock").push(r.name.clone());
        }
    }

    /// Three cluster-free playbooks: `a` fails (its command exits 1 after
    /// 300 ms, so that playbooks started beside it have surely started however
    /// loaded the machine), `b` and `c` pass.
    fn books(dir: &std::path::Path) -> Vec<Playbook> {
        [("a", "sleep 0.3; exit 1"), ("b", "true"), ("c", "true")]
            .iter()
            .map(|(name, cmd)| {
                let path = dir.join(format!("{name}.yaml"));
                let text = format!(
                    "name: {name}\nsteps:\n  - name: s\n    exec:\n      command: [sh, -c, \"{cmd}\"]\n"
                );
                std::fs::write(&path, text).expect("write");
                crate::load::load(&path, &crate::load::inputs::LoadOptions::default())
                    .expect("valid")
            })
            .collect()
    }

    fn schedule(jobs: usize, fail_fast: bool) -> Schedule {
        Schedule {
            run: RunOptions {
                allow_exec: true,
                ..RunOptions::default()
            },
            jobs,
            fail_fast,
        }
    }

    #[test]
    fn fail_fast_starts_no_playbook_after_a_failure() {
        let dir = tempfile::tempdir().expect("dir");
        let books = books(dir.path());
        let scheduler = Scheduler::start().expect("runtime");
        let ends = Ends::default();
        let all = scheduler.run(&books, &schedule(1, false), &ends);
        assert!(all.ran);
        assert_eq!(all.code, exit::ASSERTION_FAILED);
        let names: Vec<&str> = all.results.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(all.results[0].status, Status::Failed);
        let ends_all = ends.0.lock().expect("lock").clone();
        assert_eq!(ends_all, ["a", "b", "c"], "the observer hears every end");

        let ends = Ends::default();
        let fast = scheduler.run(&books, &schedule(1, true), &ends);
        let names: Vec<&str> = fast.results.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["a"], "nothing starts after `a` failed");
        assert_eq!(fast.code, exit::ASSERTION_FAILED);
        assert_eq!(*ends.0.lock().expect("lock"), ["a"]);

        // With three at once, all have started before `a` fails.
        let wide = scheduler.run(&books, &schedule(3, true), &Ends::default());
        assert_eq!(wide.results.len(), 3);
        // `jobs: 0` is one at a time, not a stall.
        let zero = scheduler.run(&books, &schedule(0, true), &Ends::default());
        assert_eq!(zero.results.len(), 1);
    }
}
