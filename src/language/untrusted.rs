//! Text from outside (a server's answer, a cluster's error, a command's
//! output) made safe to show: every control character is written as a
//! visible escape (`\u{1b}`), code points that XML cannot carry and that
//! reorder or break lines are escaped too, and long values are cut as
//! docs/limits.md says. The result tree goes through [`clean_value`] and
//! [`clean_text`] once, so that every output (terminal, JSON Lines, JUnit,
//! JSON, HTML, the chapter page) gets the same safe text.

use serde_json::Value;

use super::limits::{MAX_LINE_CHARS, MAX_QUOTED_CHARS};

/// Whether `c` is shown as an escape rather than as itself: C0 controls
/// (tab and newline are the caller's choice), DEL, C1 controls, line and
/// paragraph separators, bidirectional overrides and isolates, and
/// Unicode noncharacters (U+FFFE, U+FFFF, U+FDD0..U+FDEF, ...).
#[must_use]
pub fn is_unsafe(c: char) -> bool {
    let u = c as u32;
    u < 0x20
        || (0x7f..=0x9f).contains(&u)
        || matches!(u, 0x2028 | 0x2029 | 0x202a..=0x202e | 0x2066..=0x2069 | 0x200e | 0x200f)
        || (0xfdd0..=0xfdef).contains(&u)
        || u & 0xfffe == 0xfffe
}

fn push_escaped(out: &mut String, c: char) {
    use std::fmt::Write as _;
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// `s` with every unsafe character escaped; `keep` names the ones kept as
/// they are (`"\n\t"` for multi-line text, `""` for one line).
fn escape(s: &str, keep: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_unsafe(c) && !keep.contains(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    out
}

/// `s` cut to `max` characters with a note of the rest (`… (N characters)`).
#[must_use]
pub fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_owned(),
        Some((end, _)) => format!("{}… ({} characters)", &s[..end], s.chars().count()),
    }
}

/// One line of outside text: every unsafe character escaped (newlines too),
/// cut at [`MAX_LINE_CHARS`].
#[must_use]
pub fn clean_line(s: &str) -> String {
    escape(&cut(s, MAX_LINE_CHARS), "")
}

/// Outside text of several lines: newlines and tabs kept, every other
/// unsafe character escaped, each line cut at [`MAX_LINE_CHARS`].
#[must_use]
pub fn clean_text(s: &str) -> String {
    if !s.chars().any(is_unsafe) && s.len() <= MAX_LINE_CHARS {
        return s.to_owned();
    }
    s.split('\n')
        .map(|l| escape(&cut(l, MAX_LINE_CHARS), "\t"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A value quoted in a message: one line, cut at [`MAX_QUOTED_CHARS`].
#[must_use]
pub fn quoted(s: &str) -> String {
    escape(&cut(s, MAX_QUOTED_CHARS), "")
}

/// Every string of a JSON value (keys too) made safe: newlines and tabs
/// kept, other unsafe characters escaped, each string cut at `max`
/// characters in all.
pub fn clean_value(v: &mut Value, max: usize) {
    match v {
        Value::String(s) if s.chars().any(is_unsafe) || s.len() > max => {
            *s = escape(&cut(s, max), "\n\t");
        }
        Value::Array(a) => a.iter_mut().for_each(|x| clean_value(x, max)),
        Value::Object(m) => {
            let bad = m.keys().any(|k| k.chars().any(is_unsafe) || k.len() > max);
            if bad {
                let old = std::mem::take(m);
                for (k, mut x) in old {
                    clean_value(&mut x, max);
                    m.insert(escape(&cut(&k, max), ""), x);
                }
            } else {
                m.values_mut().for_each(|x| clean_value(x, max));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_text_kept() {
        assert_eq!(
            clean_line("a\x1b[31mb\x07\r\nc"),
            "a\\u{1b}[31mb\\u{7}\\r\\nc"
        );
        assert_eq!(clean_text("a\tb\nc\u{9b}d"), "a\tb\nc\\u{9b}d");
        assert_eq!(
            clean_line("x\u{fffe}\u{ffff}\u{2028}\u{202e}y"),
            "x\\u{fffe}\\u{ffff}\\u{2028}\\u{202e}y"
        );
        assert_eq!(clean_line("Namaste 🙏🏽 é"), "Namaste 🙏🏽 é");
    }

    #[test]
    fn long_values_are_cut() {
        let long = "x".repeat(1_000_000);
        let line = clean_line(&long);
        assert!(
            line.ends_with("… (1000000 characters)"),
            "{}",
            &line[line.len() - 40..]
        );
        assert_eq!(
            line.chars().count(),
            MAX_LINE_CHARS + "… (1000000 characters)".chars().count()
        );
        assert_eq!(
            quoted(&long).chars().filter(|c| *c == 'x').count(),
            MAX_QUOTED_CHARS
        );
        let mut v = serde_json::json!({"a\u{7}": [long], "n": 1});
        clean_value(&mut v, 50);
        assert_eq!(
            v["a\\u{7}"][0].as_str().map(|s| s.chars().count()),
            Some(50 + 22)
        );
        assert_eq!(v["n"], 1);
    }
}
