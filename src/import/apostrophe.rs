//! An apostrophe in the word of a parameter expansion inside double quotes,
//! `"${CLUSTER1:?Set CLUSTER1 to your first cluster's context}"`: POSIX sh
//! (dash, `bash --posix`) reads it as text, bash 5 in its default mode and
//! the shell parser look for the closing quote and fail. In a `?`/`:?`
//! expansion the word is only the message printed when the variable is unset,
//! so the import reads it with the apostrophe as `’` (and says so); in any
//! other expansion (`:-`, `:=`, `:+`) the word is a value, and the import
//! stops with a located error rather than guess which shell's reading the
//! author meant.

/// An apostrophe found in the word of `${NAME<op>word}` inside double quotes.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// Byte offset of the apostrophe in the text.
    pub at: usize,
    pub name: String,
    pub op: String,
}

impl Found {
    /// Whether the word is only a message (`?`, `:?`).
    #[must_use]
    pub fn is_message(&self) -> bool {
        self.op.ends_with('?')
    }
}

/// Every such apostrophe of `text` (at most 64).
#[must_use]
pub fn find(text: &str) -> Vec<Found> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut double) = (0usize, false);
    while i < b.len() && out.len() < 64 {
        match b[i] {
            b'\\' => i += 2,
            b'\'' if !double => {
                // A single-quoted string: to its end.
                i += 1;
                while i < b.len() && b[i] != b'\'' {
                    i += 1;
                }
                i += 1;
            }
            b'#' if !double && (i == 0 || b[i - 1].is_ascii_whitespace()) => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                double = !double;
                i += 1;
            }
            b'$' if double && b.get(i + 1) == Some(&b'{') => {
                i = expansion(text, i + 2, &mut out);
            }
            _ => i += 1,
        }
    }
    out
}

/// Reads `NAME<op>word}` from `start` (after `${`); records the word's
/// apostrophes; returns where reading goes on.
fn expansion(text: &str, start: usize, out: &mut Vec<Found>) -> usize {
    let b = text.as_bytes();
    let mut j = start;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
        j += 1;
    }
    if j == start || b[start].is_ascii_digit() {
        return start;
    }
    let name = &text[start..j];
    let op_len = match (b.get(j), b.get(j + 1)) {
        (Some(b':'), Some(b'?' | b'-' | b'=' | b'+')) => 2,
        (Some(b'?' | b'-' | b'=' | b'+'), _) => 1,
        _ => return j,
    };
    let op = &text[j..j + op_len];
    let mut k = j + op_len;
    let mut found = Vec::new();
    let mut depth = 0usize;
    while k < b.len() {
        match b[k] {
            b'\\' => k += 1,
            b'"' | b'\n' => return k, // not the simple case: left to the parser
            b'$' if b.get(k + 1) == Some(&b'{') => depth += 1,
            b'}' if depth == 0 => {
                out.extend(found);
                return k + 1;
            }
            b'}' => depth -= 1,
            b'\'' => found.push(Found {
                at: k,
                name: name.to_owned(),
                op: op.to_owned(),
            }),
            _ => {}
        }
        k += 1;
    }
    k
}

/// `text` with the apostrophes of message words (`found`) written `’`.
#[must_use]
pub fn rewrite(text: &str, found: &[Found]) -> String {
    let mut out = String::with_capacity(text.len() + 2 * found.len());
    let mut last = 0;
    for f in found.iter().filter(|f| f.is_message()) {
        out.push_str(&text[last..f.at]);
        out.push('’');
        last = f.at + 1;
    }
    out.push_str(&text[last..]);
    out
}

/// The 1-based line and column of byte `at` in `text`.
#[must_use]
pub fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use crate::import::apostrophe::{find, line_col, rewrite};

    #[test]
    fn apostrophes_in_message_words_only_inside_double_quotes() {
        let t = r#"kubectl --context="${CLUSTER1:?Set CLUSTER1 to your first cluster's context}" get pods"#;
        let f = find(t);
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].name.as_str(), f[0].op.as_str()), ("CLUSTER1", ":?"));
        assert_eq!(&t[f[0].at..=f[0].at], "'");
        assert!(rewrite(t, &f).contains("cluster’s context}"));
        // Outside double quotes, in single quotes, escaped, or in a comment: not this case.
        for t in [
            "echo ${X:?it's}",
            "echo '\"${X:?it}\"' # \"${Y:?it's}\"",
            r#"echo "${X:?it\'s}""#,
        ] {
            assert!(find(t).is_empty(), "{t}");
        }
        let d = find(r#"echo "${X:-the cluster's}""#);
        assert_eq!(d.len(), 1);
        assert!(!d[0].is_message());
        assert_eq!(line_col("a\nbc'", 4), (2, 3));
    }
}
