//! Markdown for the pages: fenced blocks nothing can close, indented blocks,
//! text escaped for Markdown outside code.

/// A fenced code block that nothing in `body` can close: its fence is one
/// backtick longer than the longest run of backticks in the body.
#[must_use]
pub fn fence(lang: &str, body: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in body.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let f = "`".repeat((longest + 1).max(3));
    format!("{f}{lang}\n{}\n{f}\n", body.trim_end())
}

/// Each non-empty line indented by four spaces (inside an admonition).
#[must_use]
pub fn indent(s: &str) -> String {
    s.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("    {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Text for Markdown outside code (public for the site's index and links):
/// `<` as an entity, so that no browser takes
/// `<ingress_ip>` for a tag; `*`, `_`, `[` and `]` escaped, so that a check's
/// regex (`/a.*b.*/`) is not set in italics.
#[must_use]
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '*' | '_' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A title inside an admonition's quotes.
#[must_use]
pub fn title_text(s: &str) -> String {
    s.replace('"', "&quot;")
}
