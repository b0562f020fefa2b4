//! Source files: reading them (with a size limit, refusing binary data) and
//! keeping their text so that diagnostics can show lines.

use std::path::Path;
use std::sync::Arc;

use super::yaml;

/// A source file as loaded, kept so that diagnostics can show its lines.
#[derive(Clone, Debug)]
pub struct Source {
    /// Path as the user wrote it (or relative to the working directory).
    pub name: String,
    pub text: Arc<str>,
    /// Byte offset of each line's start, built on first use (so that finding
    /// a line is not a scan of the file: validation looks up many).
    line_starts: std::sync::OnceLock<Vec<usize>>,
}

impl Source {
    #[must_use]
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> Self {
        Source {
            name: name.into(),
            text: text.into(),
            line_starts: std::sync::OnceLock::new(),
        }
    }

    fn starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .filter(|&i| i < self.text.len())
                .collect()
        })
    }

    /// The text of a 1-based line (without its line break), if it exists.
    #[must_use]
    pub fn line(&self, line: u32) -> Option<&str> {
        let idx = usize::try_from(line).ok()?.checked_sub(1)?;
        let starts = self.starts();
        let start = *starts.get(idx)?;
        let end = starts.get(idx + 1).copied().unwrap_or(self.text.len());
        let text = &self.text[start..end];
        let text = text.strip_suffix('\n').unwrap_or(text);
        Some(text.strip_suffix('\r').unwrap_or(text))
    }
}

/// Path shown in messages: relative to the working directory when possible.
#[must_use]
pub fn display_path(path: &Path) -> String {
    if let Ok(cwd) = std::env::current_dir()
        && let Ok(rel) = path.strip_prefix(&cwd)
    {
        return rel.to_string_lossy().into_owned();
    }
    path.to_string_lossy().into_owned()
}

/// Reads a text file with a size limit; binary content is refused.
///
/// # Errors
/// I/O errors, files over the limit, invalid UTF-8 (with its position).
pub fn read_text(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| io_msg(&e))?;
    if meta.is_dir() {
        return Err("is a directory, not a file".to_owned());
    }
    if meta.len() > yaml::MAX_FILE_BYTES as u64 {
        return Err(format!(
            "file is too large ({} bytes; the limit is {} bytes)",
            meta.len(),
            yaml::MAX_FILE_BYTES
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| io_msg(&e))?;
    match String::from_utf8(bytes) {
        Ok(s) if s.contains('\0') => {
            Err("the file contains NUL bytes: it looks like binary data, not YAML".to_owned())
        }
        Ok(s) => Ok(s),
        Err(e) => {
            let pos = e.utf8_error().valid_up_to();
            let ok = &e.as_bytes()[..pos];
            let line = ok.iter().filter(|b| **b == b'\n').count() + 1;
            Err(format!(
                "the file is not UTF-8 text (invalid byte at line {line}): it looks like binary data, not YAML"
            ))
        }
    }
}

fn io_msg(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => e.to_string(),
    }
}
