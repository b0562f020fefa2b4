//! The reports `scenario run` writes: each `--report FORMAT=PATH` (replaced
//! atomically), and with `--report-dir DIR` a JSON and a JUnit report under
//! names no other shard or run uses (never replacing a file). The JSON
//! report records the shard, the start time and each playbook's digests.

use std::hash::{BuildHasher as _, Hasher as _};
use std::path::{Path, PathBuf};

use super::args::RunControl;
use crate::model::exit;
use crate::model::playbook::Playbook;
use crate::report;
use crate::report::json::{RunInfo, Shard};
use crate::runner::PlaybookResult;

/// What a run knows besides its results, for the JSON report.
#[must_use]
pub fn info(
    books: &[Playbook],
    shard: Option<(usize, usize)>,
    started: std::time::SystemTime,
) -> RunInfo {
    RunInfo {
        started_at: started
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .map(|d| d.as_secs_f64()),
        shard: shard.map(|(index, count)| Shard { index, count }),
        files: books
            .iter()
            .map(|b| (b.source.name.clone(), b.files.clone()))
            .collect(),
        merged: None,
    }
}

/// Writes every `--report` and the `--report-dir` reports. A report that
/// cannot be written makes the run an error (exit 3) unless it is already worse.
pub fn write(
    control: &RunControl,
    results: &[PlaybookResult],
    mut code: i32,
    info: &RunInfo,
) -> i32 {
    for (format, path) in &control.reports {
        let text = match format.as_str() {
            "junit" => report::junit(results),
            "html" => report::html(results, code),
            _ => report::json_with(results, code, info),
        };
        if let Err(e) = report::file::write(Path::new(path), &text) {
            crate::errln!("error: cannot write the {format} report {path}: {e}");
            code = code.max(exit::STEP_ERROR);
        }
    }
    if let Some(dir) = &control.report_dir
        && let Err(e) = write_dir(dir, results, code, info)
    {
        crate::errln!(
            "error: cannot write the reports into --report-dir {}: {e}",
            dir.display()
        );
        code = code.max(exit::STEP_ERROR);
    }
    code
}

/// The JSON and JUnit reports under one new name in `dir` (created if
/// missing): `shard-I-of-N-TIME-RANDOM` (`I` zero-padded to the width of
/// `N`, so that a listing is in shard order), or `run-TIME-RANDOM`.
fn write_dir(
    dir: &Path,
    results: &[PlaybookResult],
    code: i32,
    info: &RunInfo,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let json = report::json_with(results, code, info);
    for _ in 0..16 {
        let stem = stem(info);
        match report::file::write_new(&dir.join(format!("{stem}.json")), &json) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
            Ok(()) => {
                let xml: PathBuf = dir.join(format!("{stem}.xml"));
                return report::file::write_new(&xml, &report::junit(results));
            }
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        "no unused report name after 16 tries",
    ))
}

/// A report name: the shard, the time in seconds, and 64 random bits
/// (the standard library's per-process random hash keys, mixed with the
/// process id and the time in nanoseconds: two pods of a Job may both be
/// process 1 and start in the same second).
fn stem(info: &RunInfo) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u128(now.as_nanos());
    let random = h.finish();
    let secs = now.as_secs();
    match info.shard {
        Some(Shard { index, count }) => {
            let width = count.to_string().len();
            format!("shard-{index:0width$}-of-{count}-{secs}-{random:016x}")
        }
        None => format!("run-{secs}-{random:016x}"),
    }
}
