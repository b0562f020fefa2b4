//! `scenario report merge` (join the JSON reports of a run's shards) and
//! `scenario report history` (many nights on one page). docs/reports.md.

use std::path::{Path, PathBuf};

use super::args::ReportCommand;
use crate::model::exit;
use crate::report;
use crate::report::json::worst;
use crate::runner::result::Status;

/// `scenario report ...`.
#[must_use]
pub fn report(cmd: &ReportCommand, quiet: bool) -> i32 {
    match cmd {
        ReportCommand::Merge {
            reports,
            output,
            junit,
            html,
            expect_shards,
        } => merge(
            reports,
            &Outputs {
                json: output,
                junit: junit.as_deref(),
                html: html.as_deref(),
            },
            *expect_shards,
            quiet,
        ),
        ReportCommand::History {
            reports,
            output,
            format,
        } => history(reports, output, format == "json", quiet),
    }
}

/// Where the merge writes.
struct Outputs<'a> {
    json: &'a Path,
    junit: Option<&'a Path>,
    html: Option<&'a Path>,
}

/// Writes `text` to `path` atomically; false (said on stderr) if it cannot.
fn put(path: &Path, what: &str, text: &str) -> bool {
    match report::file::write(path, text) {
        Ok(()) => true,
        Err(e) => {
            crate::errln!("error: cannot write the {what} {}: {e}", path.display());
            false
        }
    }
}

/// Writes what `fill` writes to `path` atomically, as it is made; false
/// (said on stderr) if it cannot.
fn stream(path: &Path, what: &str, fill: impl FnOnce(&mut dyn std::fmt::Write)) -> bool {
    let written = report::file::write_with(path, |w| {
        let mut f = report::file::FmtIo::new(w);
        fill(&mut f);
        f.finish()
    });
    match written {
        Ok(()) => true,
        Err(e) => {
            crate::errln!("error: cannot write the {what} {}: {e}", path.display());
            false
        }
    }
}

fn merge(paths: &[PathBuf], out: &Outputs<'_>, expect: Option<usize>, quiet: bool) -> i32 {
    let files = match report::read::expand(paths) {
        Ok(f) => f,
        Err(e) => {
            crate::errln!("error: report merge: {e}");
            return exit::INVALID;
        }
    };
    let merged = report::merge::merge(&files, expect);
    let problems = merged.problems();
    for p in problems {
        crate::errln!("error: report merge: {p}");
    }
    let written = report::file::write_with(out.json, |w| {
        report::json::write_json(w, &merged.results, merged.code, &merged.info)
    });
    let mut ok = written.is_ok();
    if let Err(e) = written {
        crate::errln!(
            "error: cannot write the merged JSON report {}: {e}",
            out.json.display()
        );
    }
    if let Some(j) = out.junit {
        ok &= stream(j, "JUnit report", |w| {
            report::junit::write_junit(w, &merged.results, problems);
        });
    }
    if let Some(h) = out.html {
        ok &= stream(h, "HTML report", |w| {
            report::html::write_html(w, &merged.results, merged.code, problems);
        });
    }
    if !quiet {
        let steps = merged.results.iter().flat_map(|r| &r.steps);
        let count = |st: Status| steps.clone().filter(|s| s.status == st).count();
        let used = merged
            .info
            .merged
            .as_ref()
            .map_or(0, |m| m.reports.iter().filter(|r| !r.superseded).count());
        crate::outln!(
            "merged {used} of {} report{}: {} playbook{} ({}), {} steps: {} passed, {} failed, {} errored, {} skipped{}",
            files.len(),
            if files.len() == 1 { "" } else { "s" },
            merged.results.len(),
            if merged.results.len() == 1 { "" } else { "s" },
            worst(&merged.results).word(),
            steps.clone().count(),
            count(Status::Passed),
            count(Status::Failed),
            count(Status::Errored),
            count(Status::Skipped),
            if problems.is_empty() {
                String::new()
            } else {
                format!(
                    "; INCOMPLETE: {} problem{}",
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" }
                )
            }
        );
    }
    if ok {
        merged.code
    } else {
        merged.code.max(exit::STEP_ERROR)
    }
}

fn history(paths: &[PathBuf], output: &Path, json: bool, quiet: bool) -> i32 {
    let files = match report::read::expand(paths) {
        Ok(f) if f.len() > crate::language::limits::MAX_HISTORY_NIGHTS => {
            crate::errln!(
                "error: report history: {} reports; a history reads at most {} (docs/limits.md)",
                f.len(),
                crate::language::limits::MAX_HISTORY_NIGHTS
            );
            return exit::INVALID;
        }
        Ok(f) => f,
        Err(e) => {
            crate::errln!("error: report history: {e}");
            return exit::INVALID;
        }
    };
    let h = report::history::history(&files);
    for p in &h.problems {
        crate::errln!("error: report history: {p}");
    }
    let text = if json {
        let mut s = serde_json::to_string_pretty(&h).unwrap_or_default();
        s.push('\n');
        s
    } else {
        report::history_html::history_html(&h)
    };
    let ok = put(output, "history", &text);
    if !quiet {
        crate::outln!(
            "history of {} night{}: {} playbook{}, {} flaky step{}",
            h.nights.len(),
            if h.nights.len() == 1 { "" } else { "s" },
            h.playbooks.len(),
            if h.playbooks.len() == 1 { "" } else { "s" },
            h.flaky.len(),
            if h.flaky.len() == 1 { "" } else { "s" },
        );
        for f in &h.flaky {
            crate::outln!(
                "flaky: {} step {}",
                crate::language::untrusted::clean_line(&f.playbook),
                crate::language::untrusted::clean_line(&f.step)
            );
        }
    }
    if !ok || !h.problems.is_empty() {
        exit::STEP_ERROR
    } else {
        exit::OK
    }
}
