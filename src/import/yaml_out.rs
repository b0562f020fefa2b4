//! The playbook the import writes, as a small YAML tree with comments, and its
//! one writer. Strings are written plain only when YAML reads them back as the
//! same string; otherwise double-quoted (JSON escapes are YAML escapes).

/// A YAML value of the written playbook.
#[derive(Debug, Clone, PartialEq)]
pub enum Y {
    Str(String),
    Int(i64),
    Bool(bool),
    List(Vec<Y>),
    Map(Vec<(String, Y)>),
    /// A short list or map written on one line (`[a, b]`, `{ k: v }`).
    Flow(Box<Y>),
    /// A value with a comment line written before its key (or list item).
    Noted(String, Box<Y>),
}

impl Y {
    #[must_use]
    pub fn s(v: impl Into<String>) -> Y {
        Y::Str(v.into())
    }
    /// A map from pairs.
    #[must_use]
    pub fn map(pairs: Vec<(&str, Y)>) -> Y {
        Y::Map(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }
    /// A one-line map.
    #[must_use]
    pub fn flow(pairs: Vec<(&str, Y)>) -> Y {
        Y::Flow(Box::new(Y::map(pairs)))
    }
    /// `v` with the marker comment of a proposed check.
    #[must_use]
    pub fn proposed(why: &str, v: Y) -> Y {
        Y::Noted(format!("{PROPOSED}: {why}"), Box::new(v))
    }
}

/// The comment that marks every check the import proposes.
pub const PROPOSED: &str = "proposed by scenario import";

/// A string as a YAML scalar: plain when that reads back the same, else quoted.
#[must_use]
pub fn scalar(s: &str) -> String {
    if plain_ok(s) {
        s.to_owned()
    } else {
        serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
    }
}

fn plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    let reserved = [
        "true", "false", "yes", "no", "on", "off", "null", "~", "y", "n",
    ];
    if reserved.contains(&s.to_ascii_lowercase().as_str())
        || s.parse::<f64>().is_ok()
        || s.starts_with("0x")
        || s.starts_with("0o")
    {
        return false;
    }
    (first.is_ascii_alphanumeric() || first == '/' || first == '.' || first == '_')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./ $()".contains(c))
        && !s.ends_with(' ')
        && !s.contains(" #")
}

/// Writes `v` as the value of a key (or list item) at `indent`; `out` ends
/// just after the key's `:` (or the item's `-`).
fn value(out: &mut String, v: &Y, indent: usize) {
    match v {
        Y::Str(s) if s.contains('\n') && block_ok(s) => {
            let chomp = if s.ends_with('\n') { "" } else { "-" };
            out.push_str(&format!(" |{chomp}\n"));
            for line in s.trim_end_matches('\n').split('\n') {
                if !line.is_empty() {
                    out.push_str(&" ".repeat(indent + 2));
                    out.push_str(line);
                }
                out.push('\n');
            }
        }
        Y::Str(_) | Y::Int(_) | Y::Bool(_) | Y::Flow(_) => {
            out.push(' ');
            out.push_str(&inline(v));
            out.push('\n');
        }
        Y::List(items) if items.is_empty() => out.push_str(" []\n"),
        Y::Map(items) if items.is_empty() => out.push_str(" {}\n"),
        Y::List(_) | Y::Map(_) => {
            out.push('\n');
            block(out, v, indent + 2);
        }
        Y::Noted(_, inner) => value(out, inner, indent),
    }
}

/// A block scalar keeps the text only without tabs, carriage returns,
/// control characters, leading blanks on the first line or trailing blanks.
fn block_ok(s: &str) -> bool {
    !s.starts_with([' ', '\n'])
        && !s.chars().any(|c| c.is_control() && c != '\n')
        && s.lines().all(|l| !l.ends_with(' '))
        && !s.ends_with("\n\n")
}

/// A value on one line.
#[must_use]
pub fn inline(v: &Y) -> String {
    match v {
        Y::Str(s) => scalar(s),
        Y::Int(n) => n.to_string(),
        Y::Bool(b) => b.to_string(),
        Y::Flow(inner) | Y::Noted(_, inner) => inline(inner),
        Y::List(items) => format!(
            "[{}]",
            items.iter().map(inline).collect::<Vec<_>>().join(", ")
        ),
        Y::Map(pairs) => format!(
            "{{ {} }}",
            pairs
                .iter()
                .map(|(k, v)| format!("{}: {}", scalar(k), inline(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn comment(out: &mut String, v: &Y, indent: usize) {
    if let Y::Noted(text, _) = v {
        let clean: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        out.push_str(&format!("{}# {clean}\n", " ".repeat(indent)));
    }
}

/// A list or map in block style at `indent`.
pub fn block(out: &mut String, v: &Y, indent: usize) {
    let pad = " ".repeat(indent);
    match v {
        Y::Map(pairs) => {
            for (k, v) in pairs {
                comment(out, v, indent);
                out.push_str(&format!("{pad}{}:", scalar(k)));
                value(out, v, indent);
            }
        }
        Y::List(items) => {
            for item in items {
                comment(out, item, indent);
                let inner = match item {
                    Y::Noted(_, i) => i.as_ref(),
                    other => other,
                };
                if let Y::Map(pairs) = inner
                    && !pairs.is_empty()
                {
                    // `- key: value` then the other keys under it.
                    let mut sub = String::new();
                    block(&mut sub, inner, indent + 2);
                    out.push_str(&format!("{pad}- {}", &sub[indent + 2..]));
                } else {
                    out.push_str(&format!("{pad}-"));
                    value(out, inner, indent);
                }
            }
        }
        other => {
            out.push_str(&pad);
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

/// A JSON value as YAML.
#[must_use]
pub fn to_y(v: &serde_json::Value) -> Y {
    match v {
        serde_json::Value::Null => Y::s("null"),
        serde_json::Value::Bool(b) => Y::Bool(*b),
        serde_json::Value::Number(n) => n.as_i64().map_or_else(|| Y::s(n.to_string()), Y::Int),
        serde_json::Value::String(s) => Y::s(super::words::escape(s)),
        serde_json::Value::Array(a) => Y::List(a.iter().map(to_y).collect()),
        serde_json::Value::Object(o) => {
            Y::Map(o.iter().map(|(k, v)| (k.clone(), to_y(v))).collect())
        }
    }
}

pub fn set(body: &mut Y, key: &str, value: Y) {
    if let Y::Map(pairs) = body {
        if let Some(p) = pairs.iter_mut().find(|(k, _)| k == key) {
            p.1 = value;
        } else {
            pairs.push((key.to_owned(), value));
        }
    }
}

pub fn get<'a>(body: &'a Y, key: &str) -> Option<&'a Y> {
    match body {
        Y::Map(pairs) => pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::import::yaml_out::{Y, block, scalar};

    #[test]
    fn scalars_read_back_the_same() {
        assert_eq!(scalar("blue"), "blue");
        assert_eq!(scalar("true"), "\"true\"");
        assert_eq!(scalar("80"), "\"80\"");
        assert_eq!(scalar("{{ x }}"), "\"{{ x }}\"");
        assert_eq!(scalar("a: b"), "\"a: b\"");
        assert_eq!(scalar(""), "\"\"");
        assert_eq!(scalar("- x"), "\"- x\"");
    }

    #[test]
    fn lists_of_maps_and_comments() {
        let v = Y::map(vec![(
            "steps",
            Y::List(vec![Y::map(vec![
                ("name", Y::s("a")),
                ("doc", Y::s("one\ntwo\n")),
                ("count", Y::proposed("why", Y::Int(3))),
            ])]),
        )]);
        let mut out = String::new();
        block(&mut out, &v, 0);
        assert_eq!(
            out,
            "steps:\n  - name: a\n    doc: |\n      one\n      two\n    # proposed by scenario import: why\n    count: 3\n"
        );
    }
}
