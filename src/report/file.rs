//! Writing a report file atomically: the text goes to a temporary file in
//! the same directory, is flushed to disk, and replaces the report by a
//! rename. A reader (or a crash, SIGKILL, a full disk) sees the previous
//! report or the new one, never a half-written file.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Test hook: milliseconds to wait between the flushed temporary file and
/// the rename (so that a test can SIGKILL the process inside that window).
const PAUSE_ENV: &str = "SCENARIO_TEST_REPORT_PAUSE_MS";

/// Writes `text` to `path` atomically (temporary file + fsync + rename).
///
/// # Errors
/// The I/O error of any stage; the temporary file is removed on failure.
pub fn write(path: &Path, text: &str) -> std::io::Result<()> {
    write_with(path, |w| w.write_all(text.as_bytes()))
}

/// Writes what `fill` writes to `path` atomically, as [`write`] does, without
/// holding the whole text in memory (a merged report of many shards).
///
/// # Errors
/// The I/O error of any stage (or of `fill`); the temporary file is removed.
pub fn write_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let tmp = temp_path(path)?;
    let result = write_temp_with(&tmp, fill).and_then(|()| {
        pause_for_tests();
        std::fs::rename(&tmp, path)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
        return result;
    }
    // The rename itself is durable once the directory is flushed (best effort:
    // some file systems do not allow opening a directory).
    if let Ok(d) = std::fs::File::open(dir_of(path)) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Writes `text` to `path`, which must not exist yet: the text goes to a
/// temporary file first and is then linked in under its name, which fails
/// (`AlreadyExists`) rather than replace a file another process wrote.
///
/// # Errors
/// `AlreadyExists` when `path` exists; the I/O error of any stage.
pub fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = temp_path(path)?;
    let result = write_temp(&tmp, text).and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    result?;
    if let Ok(d) = std::fs::File::open(dir_of(path)) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// A `fmt::Write` that writes through to an `io::Write` and keeps the first
/// I/O error (the report formatters write text; the file wants bytes).
pub struct FmtIo<'a> {
    inner: &'a mut dyn std::io::Write,
    error: Option<std::io::Error>,
}

impl<'a> FmtIo<'a> {
    pub fn new(inner: &'a mut dyn std::io::Write) -> Self {
        FmtIo { inner, error: None }
    }

    /// The first I/O error, if any.
    ///
    /// # Errors
    /// That error.
    pub fn finish(self) -> std::io::Result<()> {
        self.error.map_or(Ok(()), Err)
    }
}

impl std::fmt::Write for FmtIo<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if self.error.is_some() {
            return Err(std::fmt::Error);
        }
        self.inner.write_all(s.as_bytes()).map_err(|e| {
            self.error = Some(e);
            std::fmt::Error
        })
    }
}

fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// `DIR/.NAME.PID.tmp`: the same directory (a rename never crosses file
/// systems), hidden, and one per process.
fn temp_path(path: &Path) -> std::io::Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path names no file")
    })?;
    Ok(dir_of(path).join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    )))
}

fn write_temp(tmp: &Path, text: &str) -> std::io::Result<()> {
    write_temp_with(tmp, |w| w.write_all(text.as_bytes()))
}

fn write_temp_with(
    tmp: &Path,
    fill: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    // `create_new`: never write through a file or link that is already there
    // (a stale one from a killed process with the same id is removed first).
    let open = || {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(tmp)
    };
    let mut f = match open() {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::remove_file(tmp)?;
            open()?
        }
        other => other?,
    };
    let mut w = std::io::BufWriter::with_capacity(1 << 16, &mut f);
    fill(&mut w)?;
    w.flush()?;
    drop(w);
    f.sync_all()
}

fn pause_for_tests() {
    if let Some(ms) = std::env::var(PAUSE_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms.min(60_000)));
    }
}

#[cfg(test)]
mod tests {
    use super::write;

    #[test]
    fn replaces_the_report_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        std::fs::write(&path, "old").unwrap();
        write(&path, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["r.json"]);
    }

    #[test]
    fn a_failed_write_keeps_the_previous_report() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        std::fs::write(&path, "old").unwrap();
        // A directory where the temporary file would go: the write fails.
        let tmp = dir
            .path()
            .join(format!(".r.json.{}.tmp", std::process::id()));
        std::fs::create_dir(&tmp).unwrap();
        std::fs::write(tmp.join("x"), "").unwrap();
        assert!(write(&path, "new").is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
    }

    #[test]
    fn a_stale_temporary_file_or_link_is_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let tmp = dir
            .path()
            .join(format!(".r.json.{}.tmp", std::process::id()));
        std::os::unix::fs::symlink(&victim, &tmp).unwrap();
        write(&path, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
    }

    #[test]
    fn write_new_never_replaces_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        super::write_new(&path, "first").unwrap();
        let e = super::write_new(&path, "second").unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "first");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["r.json"], "no temporary file left");
    }

    #[test]
    fn a_bare_file_name_is_written_in_the_current_directory_form() {
        assert_eq!(
            super::temp_path(std::path::Path::new("r.xml")).unwrap(),
            std::path::Path::new(".").join(format!(".r.xml.{}.tmp", std::process::id()))
        );
        assert!(super::temp_path(std::path::Path::new("/")).is_err());
    }
}
