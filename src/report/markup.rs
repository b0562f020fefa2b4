//! Escaping shared by the JUnit and HTML reports.

/// Escapes text for XML and HTML content and attributes alike. Code points
/// that XML 1.0 cannot carry at all are dropped: characters below U+0020
/// other than tab, newline and carriage return, and U+FFFE and U+FFFF
/// (a Rust string holds no lone surrogate).
pub(super) fn escape_markup(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' && c != '\r' => {}
            '\u{fffe}' | '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::report::markup::escape_markup;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape_markup("a<b & \"c\"\u{1}"),
            "a&lt;b &amp; &quot;c&quot;"
        );
        assert_eq!(
            escape_markup("x\u{fffe}\u{ffff}\u{1b}\u{7}y\u{10ffff}"),
            "xy\u{10ffff}"
        );
        assert_eq!(
            escape_markup("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }
}
