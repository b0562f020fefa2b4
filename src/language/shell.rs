//! Shell text for the chapter page: words quoted so that bash reads them back
//! as they were, and references to shell variables that hold captured values.
//!
//! A captured value is unknown until the run, so the page's commands refer
//! to a shell variable that an earlier command set (`INGRESS_IP_CLUSTER1`).
//! Templates render a capture as [`var_marker`] (two private-use characters
//! around the variable's name); [`word`] and [`heredoc`] turn markers into
//! `${NAME}` in a context where bash expands them, and quote the rest.

const OPEN: char = '\u{E000}';
const CLOSE: char = '\u{E001}';

/// The text a template renders for a captured value held in shell variable `name`.
#[must_use]
pub fn var_marker(name: &str) -> String {
    format!("{OPEN}{name}{CLOSE}")
}

/// A shell variable name for a capture (`ingress_ip` on `cluster-1` gives
/// `INGRESS_IP_CLUSTER_1`).
#[must_use]
pub fn var_name(capture: &str, cluster: Option<&str>) -> String {
    let mut s: String = capture
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if let Some(c) = cluster {
        s.push('_');
        s.extend(c.chars().map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        }));
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    s
}

/// Splits text into literal pieces and variable names.
fn pieces(s: &str) -> Vec<(bool, &str)> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find(OPEN) {
        if i > 0 {
            out.push((false, &rest[..i]));
        }
        let after = &rest[i + OPEN.len_utf8()..];
        match after.find(CLOSE) {
            Some(j) => {
                out.push((true, &after[..j]));
                rest = &after[j + CLOSE.len_utf8()..];
            }
            // A part of a marker (a template took `[0]` of a captured
            // value): kept as it is, so that it shows rather than vanish.
            None => {
                out.push((false, &rest[i..]));
                rest = "";
            }
        }
    }
    if !rest.is_empty() {
        out.push((false, rest));
    }
    out
}

fn is_plain(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:=,@%+".contains(c))
}

/// One shell word: as it is when it needs no quoting, else quoted; markers
/// become `${NAME}` inside double quotes.
#[must_use]
pub fn word(s: &str) -> String {
    let parts = pieces(s);
    if parts.iter().all(|(var, _)| !var) {
        return if is_plain(s) {
            s.to_owned()
        } else {
            format!("'{}'", s.replace('\'', r"'\''"))
        };
    }
    // Double quotes keep it one word and expand the variables; literal text
    // that double quotes would change goes in single quotes next to them.
    if parts
        .iter()
        .all(|(var, t)| *var || !t.contains(['"', '$', '`', '\\', '!']))
    {
        return format!(
            "\"{}\"",
            parts
                .iter()
                .map(|(var, t)| if *var {
                    format!("${{{t}}}")
                } else {
                    (*t).to_owned()
                })
                .collect::<String>()
        );
    }
    let mut out = String::new();
    for (var, text) in parts {
        if var {
            out.push_str(&format!("\"${{{text}}}\""));
        } else if is_plain(text) {
            out.push_str(text);
        } else {
            out.push_str(&format!("'{}'", text.replace('\'', r"'\''")));
        }
    }
    out
}

/// `s` as one double-quoted word: `"`, `$`, `` ` `` and `\` escaped, markers as
/// `${NAME}`. `None` when literal text holds `!`, which an interactive bash
/// expands inside double quotes (`word` single-quotes it instead).
#[must_use]
pub fn double_quoted(s: &str) -> Option<String> {
    let mut out = String::from("\"");
    for (var, text) in pieces(s) {
        if var {
            out.push_str(&format!("${{{text}}}"));
        } else if text.contains('!') {
            return None;
        } else {
            for c in text.chars() {
                if matches!(c, '"' | '$' | '`' | '\\') {
                    out.push('\\');
                }
                out.push(c);
            }
        }
    }
    out.push('"');
    Some(out)
}

/// A command that reads `text` on its standard input: `command <<'EOF'` with
/// the text as it is, or, when it holds captured values, `<<EOF` with `$`,
/// `` ` `` and `\` escaped and the markers as `${NAME}`.
#[must_use]
pub fn heredoc(command: &str, text: &str) -> String {
    let mut tag = "EOF".to_owned();
    let mut k = 0;
    while text.lines().any(|l| l.trim() == tag) {
        k += 1;
        tag = format!("EOF{k}");
    }
    let parts = pieces(text);
    if parts.iter().any(|(var, _)| *var) {
        let mut b = String::new();
        for (var, t) in parts {
            if var {
                b.push_str(&format!("${{{t}}}"));
            } else {
                b.push_str(
                    &t.replace('\\', r"\\")
                        .replace('$', r"\$")
                        .replace('`', r"\`"),
                );
            }
        }
        format!("{command} <<{tag}\n{}\n{tag}", b.trim_end())
    } else {
        format!("{command} <<'{tag}'\n{}\n{tag}", text.trim_end())
    }
}

/// Markers left in text shown as it is (a table, a check box): `$NAME`.
#[must_use]
pub fn show(s: &str) -> String {
    pieces(s)
        .into_iter()
        .map(|(var, t)| if var { format!("${t}") } else { t.to_owned() })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::language::shell::{heredoc, var_marker, var_name, word};

    #[test]
    fn words_are_quoted_only_when_needed_and_variables_expand() {
        assert_eq!(word("get"), "get");
        assert_eq!(word("a b"), "'a b'");
        assert_eq!(word("it's"), r"'it'\''s'");
        assert_eq!(word("{.status}"), "'{.status}'");
        let url = format!("http://{}:80/api", var_marker("INGRESS_IP_CLUSTER1"));
        assert_eq!(word(&url), "\"http://${INGRESS_IP_CLUSTER1}:80/api\"");
        let odd = format!("a$b{}", var_marker("X"));
        assert_eq!(word(&odd), "'a$b'\"${X}\"");
        assert_eq!(
            var_name("ingress_ip", Some("cluster-1")),
            "INGRESS_IP_CLUSTER_1"
        );
    }

    #[test]
    fn heredocs_quote_unless_a_capture_must_expand() {
        assert_eq!(
            heredoc("kubectl apply -f -", "a: $x\n"),
            "kubectl apply -f - <<'EOF'\na: $x\nEOF"
        );
        let t = format!("name: {}\ncost: $5\nEOF\n", var_marker("GW"));
        assert_eq!(
            heredoc("cat", &t),
            "cat <<EOF1\nname: ${GW}\ncost: \\$5\nEOF\nEOF1"
        );
    }
}
