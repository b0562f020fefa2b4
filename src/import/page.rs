//! Reading a chapter: its files (bounded, UTF-8, no NUL), front matter, mkdocs
//! snippet includes (`--8<-- "file"`, `---8<--- "file"`) followed under the
//! root, and Hugo `{{< text LANG >}}` blocks turned into fences. The result is
//! one text with a map from each of its lines to the file and line it came from.

use std::path::{Path, PathBuf};

use super::cx::{ImportError, Limits};

/// The chapter as one text, and where each line came from.
pub struct Page {
    pub text: String,
    /// Per line of `text`: (index into `files`, 1-based line).
    pub origin: Vec<(usize, usize)>,
    pub files: Vec<String>,
    pub front: serde_json::Map<String, serde_json::Value>,
}

impl Page {
    /// `file:line:col` of a byte offset of `text`.
    #[must_use]
    pub fn locate(&self, offset: usize) -> String {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count();
        let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        self.at_line(line, col)
    }

    /// `file:line:col` of a 0-based line of `text`.
    #[must_use]
    pub fn at_line(&self, line: usize, col: usize) -> String {
        match self.origin.get(line) {
            Some(&(f, l)) => format!("{}:{l}:{col}", self.files[f]),
            None => format!("{}:{}:{col}", self.files[0], line + 1),
        }
    }
}

/// A file's text: at most `max` bytes, UTF-8 without NUL, else a located error.
pub fn read_text(path: &Path, shown: &str, max: usize) -> Result<String, ImportError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| ImportError::new(shown, format!("cannot read: {e}")))?;
    if !meta.is_file() {
        return Err(ImportError::new(shown, "not a regular file"));
    }
    if meta.len() > max as u64 {
        return Err(ImportError::new(
            format!("{shown}:1:1"),
            format!(
                "the file has {} bytes; a chapter file may have at most {max}",
                meta.len()
            ),
        ));
    }
    let mut bytes = Vec::new();
    use std::io::Read as _;
    std::fs::File::open(path)
        .and_then(|f| f.take(max as u64 + 1).read_to_end(&mut bytes))
        .map_err(|e| ImportError::new(shown, format!("cannot read: {e}")))?;
    if bytes.len() > max {
        return Err(ImportError::new(
            format!("{shown}:1:1"),
            format!("the file grew past {max} bytes while read"),
        ));
    }
    let (at, what) = match (
        bytes.iter().position(|&b| b == 0),
        std::str::from_utf8(&bytes),
    ) {
        (Some(nul), _) => (
            nul,
            "a NUL byte: this is a binary file, not Markdown or shell",
        ),
        (None, Err(e)) => (e.valid_up_to(), "bytes that are not UTF-8 text"),
        (None, Ok(_)) => return Ok(String::from_utf8(bytes).unwrap_or_default()),
    };
    let head = String::from_utf8_lossy(&bytes[..at]);
    let line = head.matches('\n').count() + 1;
    let col = head.len() - head.rfind('\n').map_or(0, |i| i + 1) + 1;
    Err(ImportError::new(format!("{shown}:{line}:{col}"), what))
}

/// `path` (relative to `base`, or absolute) if it is under `root` once
/// symlinks are followed; else a located error.
pub fn under_root(root: &Path, base: &Path, path: &str, at: &str) -> Result<PathBuf, ImportError> {
    let joined = base.join(path);
    let real = std::fs::canonicalize(&joined)
        .map_err(|e| ImportError::new(at, format!("cannot read `{}`: {e}", joined.display())))?;
    if !real.starts_with(root) {
        return Err(ImportError::new(
            at,
            format!(
                "`{path}` is outside the root {}; give a wider --root to follow it",
                root.display()
            ),
        ));
    }
    Ok(real)
}

struct Reader<'a> {
    root: &'a Path,
    limits: &'a Limits,
    page: Page,
    stack: Vec<PathBuf>,
    bytes: usize,
}

/// Reads the chapter at `path` (shown as `shown`) with its includes.
pub fn read(path: &Path, shown: &str, root: &Path, limits: &Limits) -> Result<Page, ImportError> {
    let text = read_text(path, shown, limits.page_bytes)?;
    let real = std::fs::canonicalize(path).map_err(|e| ImportError::new(shown, e.to_string()))?;
    let mut r = Reader {
        root,
        limits,
        page: Page {
            text: String::new(),
            origin: Vec::new(),
            files: vec![shown.to_owned()],
            front: serde_json::Map::new(),
        },
        stack: vec![real],
        bytes: text.len(),
    };
    let body = r.front_matter(&text)?;
    r.add(&body, 0)?;
    Ok(r.page)
}

impl Reader<'_> {
    /// Parses front matter; returns the text with its lines blanked.
    fn front_matter(&mut self, text: &str) -> Result<String, ImportError> {
        let mut lines = text.split('\n');
        if lines.next().map(str::trim_end) != Some("---") {
            return Ok(text.to_owned());
        }
        let Some(end) = text.split('\n').skip(1).position(|l| {
            let l = l.trim_end();
            l == "---" || l == "..."
        }) else {
            return Ok(text.to_owned());
        };
        let yaml: Vec<&str> = text.split('\n').skip(1).take(end).collect();
        let yaml = yaml.join("\n");
        let value: serde_json::Value = serde_saphyr::from_str(&yaml).map_err(|e| {
            ImportError::new(
                format!("{}:2:1", self.page.files[0]),
                format!("the front matter is not a YAML mapping: {e}"),
            )
        })?;
        if let serde_json::Value::Object(m) = value {
            self.page.front = m;
        }
        let blank = "\n".repeat(end + 2);
        let rest: Vec<&str> = text.split('\n').skip(end + 2).collect();
        Ok(format!("{blank}{}", rest.join("\n")))
    }

    fn add(&mut self, text: &str, file: usize) -> Result<(), ImportError> {
        for (i, line) in text.split('\n').enumerate() {
            let at = format!("{}:{}:1", self.page.files[file], i + 1);
            if let Some(target) = include_target(line) {
                self.include(&target, &at)?;
                continue;
            }
            let line = hugo_fence(line).unwrap_or_else(|| line.to_owned());
            self.page.text.push_str(&line);
            self.page.text.push('\n');
            self.page.origin.push((file, i + 1));
        }
        Ok(())
    }

    fn include(&mut self, target: &str, at: &str) -> Result<(), ImportError> {
        if self.stack.len() > self.limits.include_depth {
            return Err(ImportError::new(
                at,
                format!(
                    "includes nest deeper than {} files",
                    self.limits.include_depth
                ),
            ));
        }
        let base = if Path::new(target).is_relative() && self.root.join(target).exists() {
            self.root.to_path_buf()
        } else {
            self.stack
                .last()
                .and_then(|p| p.parent())
                .map_or_else(|| self.root.to_path_buf(), Path::to_path_buf)
        };
        let real = under_root(self.root, &base, target, at)?;
        if self.stack.contains(&real) {
            return Err(ImportError::new(
                at,
                format!(
                    "include loop: `{target}` includes itself (through {} files)",
                    self.stack.len()
                ),
            ));
        }
        let shown = real
            .strip_prefix(self.root)
            .map_or_else(|_| target.to_owned(), |p| p.display().to_string());
        let text = read_text(&real, &shown, self.limits.page_bytes)?;
        self.bytes += text.len();
        if self.bytes > self.limits.page_bytes {
            return Err(ImportError::new(
                at,
                format!(
                    "the chapter and its includes exceed {} bytes",
                    self.limits.page_bytes
                ),
            ));
        }
        self.page.files.push(shown);
        let file = self.page.files.len() - 1;
        self.stack.push(real);
        self.add(&text, file)?;
        self.stack.pop();
        Ok(())
    }
}

/// The file of a snippet include line: `--8<-- "file"` or `---8<--- 'file'`.
fn include_target(line: &str) -> Option<String> {
    let t = line.trim();
    let rest = t
        .strip_prefix("---8<---")
        .or_else(|| t.strip_prefix("--8<--"))?
        .trim();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let inner = rest[1..].strip_suffix(quote)?;
    (!inner.is_empty() && !inner.contains(quote)).then(|| inner.to_owned())
}

/// A Hugo `{{< text LANG >}}` line as a fence opening, `{{< /text >}}` as its close.
fn hugo_fence(line: &str) -> Option<String> {
    let t = line.trim();
    let inner = t.strip_prefix("{{<")?.strip_suffix(">}}")?.trim();
    if inner == "/text" {
        return Some("```".to_owned());
    }
    let args = inner.strip_prefix("text")?;
    if !args.starts_with(' ') && !args.is_empty() {
        return None;
    }
    let lang = args
        .split_whitespace()
        .map(|a| a.strip_prefix("syntax=").unwrap_or(a).trim_matches('"'))
        .find(|a| !a.contains('='))
        .unwrap_or("text");
    Some(format!("```{lang}"))
}

#[cfg(test)]
mod tests {
    use crate::import::page::{hugo_fence, include_target};

    #[test]
    fn include_lines() {
        assert_eq!(
            include_target("---8<--- \"includes/env.md\"").as_deref(),
            Some("includes/env.md")
        );
        assert_eq!(include_target("  --8<-- 'a.md'").as_deref(), Some("a.md"));
        assert_eq!(include_target("--8<-- \"\""), None);
        assert_eq!(include_target("--8<-- a.md"), None);
    }

    #[test]
    fn hugo_blocks() {
        assert_eq!(hugo_fence("{{< text bash >}}").as_deref(), Some("```bash"));
        assert_eq!(
            hugo_fence("{{< text syntax=\"json\" outputis=x >}}").as_deref(),
            Some("```json")
        );
        assert_eq!(hugo_fence("{{< /text >}}").as_deref(), Some("```"));
        assert_eq!(hugo_fence("{{< tip >}}"), None);
    }
}
