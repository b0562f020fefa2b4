//! Diagnostics: one error type for everything a user can get wrong in a
//! playbook, and one renderer (`--> file:line:col`, the line, a caret, a hint).

use std::fmt::Write as _;

use super::source::Source;
use super::yaml::{Loc, YamlError};

/// One problem, located in a source file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub loc: Option<Loc>,
    pub message: String,
    /// The source line, captured when the diagnostic was made.
    pub line_text: Option<String>,
    /// What was expected there.
    pub expected: Option<String>,
    /// A suggestion ("did you mean `wait`?").
    pub help: Option<String>,
    /// A warning: reported, but the playbook still runs.
    pub warning: bool,
}

impl Diagnostic {
    /// Every text of this diagnostic with `secrets` redacted.
    pub fn redact(&mut self, secrets: &super::secrets::Secrets) {
        let r = |s: &mut String| {
            if let std::borrow::Cow::Owned(x) = secrets.redact(s) {
                *s = x;
            }
        };
        r(&mut self.message);
        // In the source line a secret is masked character for character, so
        // that the caret under the line still points at its column.
        if let Some(line) = &mut self.line_text
            && let std::borrow::Cow::Owned(x) =
                secrets.redact_with(line, |v| "*".repeat(v.chars().count()))
        {
            *line = x;
        }
        for s in [&mut self.expected, &mut self.help].into_iter().flatten() {
            r(s);
        }
    }

    #[must_use]
    pub fn new(src: &Source, loc: Option<Loc>, message: impl Into<String>) -> Self {
        Diagnostic {
            file: src.name.clone(),
            loc,
            message: message.into(),
            line_text: loc.and_then(|l| src.line(l.line)).map(str::to_owned),
            expected: None,
            help: None,
            warning: false,
        }
    }

    /// A diagnostic about a file as a whole (unreadable, missing, ...).
    #[must_use]
    pub fn file(name: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            file: name.into(),
            loc: None,
            message: message.into(),
            line_text: None,
            expected: None,
            help: None,
            warning: false,
        }
    }

    #[must_use]
    pub fn with_expected(mut self, e: impl Into<String>) -> Self {
        self.expected = Some(e.into());
        self
    }

    #[must_use]
    pub fn with_help(mut self, h: impl Into<String>) -> Self {
        self.help = Some(h.into());
        self
    }

    /// Sets what was expected (on a diagnostic already recorded).
    pub fn expected(&mut self, e: impl Into<String>) -> &mut Self {
        self.expected = Some(e.into());
        self
    }

    /// Sets the hint (on a diagnostic already recorded).
    pub fn help(&mut self, h: impl Into<String>) -> &mut Self {
        self.help = Some(h.into());
        self
    }

    /// Turns a YAML/deserialization error into a diagnostic, with a
    /// "did you mean" for unknown names.
    #[must_use]
    pub fn from_yaml(src: &Source, e: &YamlError) -> Self {
        let mut message = e.message.clone();
        let mut d_expected = None;
        let mut help = None;
        if let Some(unknown) = &e.unknown {
            let expected: Vec<&str> = e
                .expected
                .iter()
                .copied()
                .filter(|f| !f.starts_with('$'))
                .collect();
            let suggestion = did_you_mean(unknown, expected.iter().copied());
            if let Some(ctx) = e.context.filter(|c| *c != "variant") {
                message = format!("{message} in {}", human_context(ctx));
                d_expected = Some(format!("one of: {}", expected.join(", ")));
            } else if !expected.is_empty() {
                d_expected = Some(format!("one of: {}", expected.join(", ")));
            }
            if let Some(s) = suggestion {
                help = Some(format!("did you mean `{s}`?"));
            }
        }
        // `n: 1` or `on: x` as a key: YAML 1.1 reads the word as a boolean.
        if help.is_none()
            && e.message.contains("found boolean")
            && let Some(word) = e.loc.and_then(|l| token_at(src, l))
            && YAML11_BOOLEANS.contains(&word)
        {
            help = Some(format!(
                "`{word}` is a boolean in YAML 1.1 (y, n, yes, no, on, off); quote it, `\"{word}\"`, to mean the word"
            ));
        }
        let mut d = Diagnostic::new(src, e.loc, message);
        d.expected = d_expected;
        d.help = help;
        d
    }

    /// Renders the diagnostic for a terminal (no colors).
    #[must_use]
    pub fn render(&self) -> String {
        self.render_styled(false)
    }

    /// This diagnostic with every unsafe character made visible: escaped in
    /// the texts, one U+FFFD each in the source line (so that the caret
    /// still points at its column).
    fn shown(&self) -> Diagnostic {
        use super::untrusted::{clean_text, is_unsafe};
        let mut d = self.clone();
        d.message = clean_text(&d.message);
        d.expected = d.expected.as_deref().map(clean_text);
        d.help = d.help.as_deref().map(clean_text);
        d.line_text = d.line_text.as_deref().map(|l| {
            l.chars()
                .map(|c| {
                    if c != '\t' && is_unsafe(c) {
                        '\u{fffd}'
                    } else {
                        c
                    }
                })
                .collect()
        });
        d
    }

    /// Renders the diagnostic, in colour when `color` (like rustc: a red
    /// `error`, a blue gutter and arrow, a red caret).
    #[must_use]
    pub fn render_styled(&self, color: bool) -> String {
        // Nothing in a message or a source line reaches the terminal as a
        // control character (a value may come from a file or a server).
        let d = &self.shown();
        let paint = |code: &str, s: &str| {
            if color {
                format!("\x1b[{code}m{s}\x1b[0m")
            } else {
                s.to_owned()
            }
        };
        let mut out = String::new();
        // A message quoting a huge value is cut: a 1 MB value must not print 1 MB.
        let message = if d.message.chars().count() > MAX_MESSAGE {
            let head: String = d.message.chars().take(MAX_MESSAGE).collect();
            format!("{head}… (message cut at {MAX_MESSAGE} characters)")
        } else {
            d.message.clone()
        };
        let label = if d.warning {
            paint("1;33", "warning")
        } else {
            paint("1;31", "error")
        };
        let _ = writeln!(out, "{label}: {message}");
        match d.loc {
            Some(loc) => {
                let _ = writeln!(
                    out,
                    "  {} {}:{}:{}",
                    paint("1;34", "-->"),
                    d.file,
                    loc.line,
                    loc.col
                );
                if let Some(text) = &d.line_text {
                    let num = loc.line.to_string();
                    let pad = " ".repeat(num.len());
                    let shown = text.replace('\t', " ");
                    let mut col = usize::try_from(loc.col).unwrap_or(1).max(1);
                    // Show a window of very long lines around the column.
                    let shown = if shown.chars().count() > MAX_SHOWN {
                        let len = shown.chars().count();
                        let start = col.saturating_sub(MAX_SHOWN / 2).min(len - MAX_SHOWN);
                        let mut w: String = shown.chars().skip(start).take(MAX_SHOWN).collect();
                        if start > 0 {
                            w = format!("…{w}");
                            col = col - start + 1;
                        }
                        if start + MAX_SHOWN < len {
                            w.push('…');
                        }
                        w
                    } else {
                        shown
                    };
                    let prefix: String = shown.chars().take(col - 1).collect();
                    let width = token_width(&shown, col - 1);
                    let _ = writeln!(out, "{pad} {}", paint("1;34", "|"));
                    let _ = writeln!(out, "{} {shown}", paint("1;34", &format!("{num} |")));
                    let _ = writeln!(
                        out,
                        "{pad} {} {}{}",
                        paint("1;34", "|"),
                        " ".repeat(prefix.chars().count()),
                        paint("1;31", &"^".repeat(width))
                    );
                }
            }
            None => {
                let _ = writeln!(out, "  {} {}", paint("1;34", "-->"), d.file);
            }
        }
        if let Some(e) = &d.expected {
            let _ = writeln!(out, "  {} {e}", paint("1;36", "= expected:"));
        }
        if let Some(h) = &d.help {
            let _ = writeln!(out, "  {} {h}", paint("1;32", "= help:"));
        }
        out
    }
}

/// Longest message shown in full.
const MAX_MESSAGE: usize = 600;

/// Longest source line shown in full.
const MAX_SHOWN: usize = 120;

fn human_context(ctx: &str) -> String {
    // Raw struct names are CamelCase ("WaitAction"); show them as words.
    let mut s = String::new();
    for (i, c) in ctx.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            s.push(' ');
        }
        s.extend(c.to_lowercase());
    }
    s.trim_start_matches("raw ").to_owned()
}

/// Width of the caret under the token starting at char index `start`.
fn token_width(line: &str, start: usize) -> usize {
    let rest: String = line.chars().skip(start).collect();
    if let Some(q) = rest.chars().next().filter(|c| *c == '"' || *c == '\'')
        && let Some(end) = rest[1..].find(q)
    {
        return (rest[..end + 2].chars().count()).clamp(1, 60);
    }
    let w = rest
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != ':' && *c != ',' && *c != '}' && *c != ']')
        .count();
    w.clamp(1, 60)
}

/// The closest valid name to `unknown`, if it is close enough.
#[must_use]
pub fn did_you_mean<'a>(
    unknown: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = unknown.to_lowercase();
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(&lower, &c.to_lowercase());
        if best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.filter(|(s, _)| *s >= 0.8).map(|(_, c)| c)
}

/// An error and its sources on one line (`a: b: c`), without repeats.
#[must_use]
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let t = s.to_string();
        if !msg.contains(&t) {
            msg = format!("{msg}: {t}");
        }
        src = s.source();
    }
    msg
}

/// All diagnostics of one validation, rendered together.
#[must_use]
pub fn render_all(diags: &[Diagnostic]) -> String {
    render_all_styled(diags, false)
}

/// [`render_all`], in colour when `color`.
#[must_use]
pub fn render_all_styled(diags: &[Diagnostic], color: bool) -> String {
    let mut out = String::new();
    for d in diags {
        out.push_str(&d.render_styled(color));
        out.push('\n');
    }
    let n = diags.len();
    let _ = writeln!(
        out,
        "{n} error{} found; nothing was run",
        if n == 1 { "" } else { "s" }
    );
    out
}

/// Words YAML 1.1 reads as booleans (serde-saphyr follows it, in keys too).
const YAML11_BOOLEANS: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
    "OFF",
];

/// The plain scalar written at `loc` (up to `:`, `,`, a bracket or a space).
fn token_at(src: &Source, loc: Loc) -> Option<&str> {
    let line = src.line(loc.line)?;
    let start = line
        .char_indices()
        .nth(usize::try_from(loc.col).ok()?.checked_sub(1)?)?
        .0;
    let rest = &line[start..];
    let end = rest
        .find(|c: char| c == ':' || c == ',' || c == '}' || c == ']' || c.is_whitespace())
        .unwrap_or(rest.len());
    Some(&rest[..end])
}
