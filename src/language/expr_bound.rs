//! A bounded pre-pass over template text before the template engine sees it.
//! The engine parses and compiles expressions recursively: a flat chain of
//! thousands of operators (`a or b or c ...`, `x|f|f|f ...`, `a.b.c ...`)
//! nests one level per operator and overflows the stack, in the parser, the
//! compiler or when the tree is dropped. This pass counts the operators of
//! each tag (each `{{ }}` and `{% %}`, or a whole `when:` expression) in one
//! linear scan, and refuses a tag over
//! [`MAX_EXPRESSION_OPERATORS`](super::limits::MAX_EXPRESSION_OPERATORS).

use super::limits::MAX_EXPRESSION_OPERATORS;

/// A tag with too many operators: its byte offset in the text and the count
/// seen (counting stops just past the limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyOperators {
    pub offset: usize,
    pub count: usize,
}

impl TooManyOperators {
    #[must_use]
    pub fn message(&self) -> String {
        format!(
            "this expression has more than {MAX_EXPRESSION_OPERATORS} operators (see docs/limits.md): split it, e.g. into several `vars`"
        )
    }
}

/// Checks every tag of a template.
///
/// # Errors
/// The first tag with too many operators.
pub fn check_template(text: &str) -> Result<(), TooManyOperators> {
    let b = text.as_bytes();
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] != b'{' {
            i += 1;
            continue;
        }
        match b[i + 1] {
            b'{' | b'%' => {
                let close = if b[i + 1] == b'{' { b'}' } else { b'%' };
                let start = i;
                let end = scan(b, i + 2, Some(close)).map_err(|count| TooManyOperators {
                    offset: start,
                    count,
                })?;
                let raw = b[i + 1] == b'%' && is_raw_tag(&text[i + 2..end.min(text.len())]);
                i = end + 2;
                if raw {
                    // `{% raw %}` text is not parsed: skip to its end tag.
                    i = text[i.min(text.len())..]
                        .find("endraw")
                        .map_or(b.len(), |p| i + p);
                }
            }
            b'#' => {
                i = text[i + 2..].find("#}").map_or(b.len(), |p| i + 2 + p + 2);
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// Checks one expression (a `when:` condition).
///
/// # Errors
/// The expression has too many operators.
pub fn check_expression(text: &str) -> Result<(), TooManyOperators> {
    scan(text.as_bytes(), 0, None)
        .map(|_| ())
        .map_err(|count| TooManyOperators { offset: 0, count })
}

fn is_raw_tag(body: &str) -> bool {
    body.trim_matches(|c: char| c == '-' || c == '+' || c.is_whitespace()) == "raw"
}

/// Scans an expression from `i` to the end tag (`close` followed by `}`) or
/// to the end of the text; returns where the end tag starts, or the count of
/// operators once it passes the limit.
fn scan(b: &[u8], mut i: usize, close: Option<u8>) -> Result<usize, usize> {
    let mut count = 0usize;
    let mut bump = |n: usize| {
        count += n;
        if count > MAX_EXPRESSION_OPERATORS {
            Err(count)
        } else {
            Ok(())
        }
    };
    while i < b.len() {
        let c = b[i];
        if let Some(cl) = close
            && c == cl
            && b.get(i + 1) == Some(&b'}')
        {
            return Ok(i);
        }
        match c {
            b'"' | b'\'' => {
                i += 1;
                while i < b.len() && b[i] != c {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'~' | b'+' | b'-' | b'*' | b'/' | b'%' | b'|' | b'.' | b'[' | b'(' | b'{' | b'<'
            | b'>' | b'=' | b'!' => {
                bump(1)?;
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                if matches!(
                    &b[start..i],
                    b"or" | b"and" | b"not" | b"in" | b"is" | b"if" | b"else"
                ) {
                    bump(1)?;
                }
            }
            _ => i += 1,
        }
    }
    Ok(b.len())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::{check_expression, check_template};
    use crate::language::limits::MAX_EXPRESSION_OPERATORS;

    /// `a OP a OP a ...` with `n` operators (also used by the template tests).
    pub(crate) fn chain(op: &str, n: usize) -> String {
        let mut s = "a".to_owned();
        for _ in 0..n {
            s.push_str(op);
            s.push('a');
        }
        s
    }

    #[test]
    fn long_chains_are_refused_and_short_ones_pass() {
        let n = MAX_EXPRESSION_OPERATORS;
        for op in [" or ", " and ", "~", "+", "|a", ".", " if a else "] {
            assert!(check_expression(&chain(op, n / 2)).is_ok(), "{op}");
            assert!(check_expression(&chain(op, n + 1)).is_err(), "{op}");
            let t = format!("x {{{{ {} }}}} y", chain(op, n + 1));
            assert_eq!(check_template(&t).unwrap_err().offset, 2, "{op}");
        }
        // Operators inside string literals, comments and raw blocks do not count.
        let quoted = format!("{{{{ \"{}\" }}}}", chain(" or ", n * 2));
        assert!(check_template(&quoted).is_ok());
        let comment = format!("{{# {} #}}", chain(" or ", n * 2));
        assert!(check_template(&comment).is_ok());
        let raw = format!(
            "{{% raw %}}{{{{ {} }}}}{{% endraw %}}",
            chain(" or ", n * 2)
        );
        assert!(check_template(&raw).is_ok());
        // Many short tags are fine: the count is per tag.
        let many = "{{ a or b }}".repeat(10 * n);
        assert!(check_template(&many).is_ok());
    }
}
