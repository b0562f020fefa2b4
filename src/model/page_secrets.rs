//! The values of Secret objects on the chapter page: each one a shell
//! variable the reader sets, as the environment's secrets are.
//!
//! A Secret whose `data` or `stringData` is written in a manifest would
//! print its values on the page. [`PageSecrets::rewrite`] writes such a
//! Secret again with every literal value replaced by a variable: the reader
//! exports the value, "Ensure Environment" turns it into base64, and the
//! manifest's `data` refers to that (base64 is safe in YAML whatever the
//! value holds: newlines, quotes, `$(...)`). A `stringData` value goes into
//! `data`, which is what the API server makes of it. A `data` value that is
//! not text (not UTF-8, or with a NUL byte, which a shell variable cannot
//! hold) is exported in base64 as written. Documents without literal secret
//! values are left as they are, byte for byte.

use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexMap;
use serde::Serialize;

use crate::language::secrets::{base64, unbase64};
use crate::language::shell::var_marker;
use crate::language::yaml::{self, Node, Value};

/// Longest name made from a Secret's name and key (before a `_2` suffix).
const MAX_NAME: usize = 48;

/// Names a variable must not take: the shell's own, and what the page's
/// commands rely on.
const RESERVED: &[&str] = &[
    "PATH",
    "HOME",
    "IFS",
    "PWD",
    "OLDPWD",
    "SHELL",
    "SHELLOPTS",
    "ENV",
    "CDPATH",
    "KUBECONFIG",
    "LANG",
    "TERM",
    "USER",
    "UID",
    "EUID",
    "PPID",
    "PS1",
    "PS2",
    "PS4",
    "RANDOM",
    "SECONDS",
    "LINENO",
    "HOSTNAME",
    "OPTARG",
    "OPTIND",
    "REPLY",
    "TMPDIR",
];

/// One variable the reader sets.
#[derive(Debug)]
struct SecretVar {
    name: String,
    /// The variable holding its base64 (set from it on the page), when the
    /// reader gives the text; `None` when the reader gives base64.
    b64: Option<String>,
    /// Where the value is written: its key and its Secret (`NS/NAME`).
    key: String,
    object: String,
}

/// The Secret values of a page, each a variable (unique, shell-safe).
#[derive(Debug, Default)]
pub struct PageSecrets {
    vars: Vec<SecretVar>,
    /// (object, key, value as written) -> index in `vars`: one value written
    /// again (another step, another cluster) is the same variable.
    seen: BTreeMap<(String, String, String), usize>,
    taken: BTreeSet<String>,
}

/// A YAML value that keeps the order of keys (serde_json's maps sort them).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
enum Ordered {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Ordered>),
    Map(IndexMap<String, Ordered>),
}

fn ordered(n: &Node) -> Ordered {
    match &n.value {
        Value::Null => Ordered::Null,
        Value::Bool(b) => Ordered::Bool(*b),
        Value::Int(i) => Ordered::Int(*i),
        Value::UInt(u) => Ordered::UInt(*u),
        Value::Float(f) => Ordered::Float(*f),
        Value::Str(s) => Ordered::Str(s.clone()),
        Value::Seq(items) => Ordered::Seq(items.iter().map(ordered).collect()),
        Value::Map(entries) => Ordered::Map(
            entries
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_json()
                            .as_str()
                            .map_or_else(|| k.to_json().to_string(), str::to_owned),
                        ordered(v),
                    )
                })
                .collect(),
        ),
    }
}

/// Whether `s` holds a page variable already (an environment secret, a capture).
fn has_marker(s: &str) -> bool {
    s.contains(['\u{E000}', '\u{E001}'])
}

/// A shell name from free text: ASCII letters and digits upper-cased, every
/// other run of characters one `_`, cut to [`MAX_NAME`].
fn shell_name(text: &str) -> String {
    let mut s = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_uppercase());
        } else if !s.ends_with('_') {
            s.push('_');
        }
    }
    let mut s: String = s.trim_matches('_').chars().take(MAX_NAME).collect();
    while s.ends_with('_') {
        s.pop();
    }
    if s.is_empty() {
        s.push_str("SECRET");
    } else if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert_str(0, "SECRET_");
    }
    if RESERVED.contains(&s.as_str()) || s.starts_with("BASH") {
        s.push_str("_VALUE");
    }
    s
}

impl PageSecrets {
    /// A registry whose variables never take one of `taken` (the page's other
    /// variables: contexts, environment secrets, captures).
    #[must_use]
    pub fn new(taken: impl IntoIterator<Item = String>) -> Self {
        PageSecrets {
            taken: taken.into_iter().collect(),
            ..PageSecrets::default()
        }
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }

    /// The variable for `value` of `key` in `object`, made on first use.
    fn var(&mut self, object: &str, key: &str, value: &str, text: bool) -> &SecretVar {
        let id = (object.to_owned(), key.to_owned(), value.to_owned());
        if let Some(&i) = self.seen.get(&id) {
            return &self.vars[i];
        }
        let base = shell_name(&format!(
            "{}_{key}",
            object.rsplit('/').next().unwrap_or(object)
        ));
        let base = if text { base } else { format!("{base}_B64") };
        let free = |n: &str, taken: &BTreeSet<String>| {
            !taken.contains(n) && (!text || !taken.contains(&format!("{n}_B64")))
        };
        let mut name = base.clone();
        let mut k = 1;
        while !free(&name, &self.taken) {
            k += 1;
            name = format!("{base}_{k}");
        }
        self.taken.insert(name.clone());
        let b64 = text.then(|| format!("{name}_B64"));
        if let Some(b) = &b64 {
            self.taken.insert(b.clone());
        }
        self.vars.push(SecretVar {
            name,
            b64,
            key: key.to_owned(),
            object: object.to_owned(),
        });
        self.seen.insert(id, self.vars.len() - 1);
        &self.vars[self.vars.len() - 1]
    }

    /// `text` (rendered YAML documents) with every literal value of a
    /// Secret's `data` and `stringData` a variable; as it is when it has none
    /// (or is not YAML: the page's redaction still hides its values).
    pub fn rewrite(&mut self, text: &str) -> String {
        let Ok(docs) = yaml::parse_multi(text) else {
            return text.to_owned();
        };
        if !docs.iter().any(has_literal_secret) {
            return text.to_owned();
        }
        let mut token = "scenariosecretvalue".to_owned();
        while text.contains(&token) {
            token.push('x');
        }
        let mut refs: Vec<String> = Vec::new();
        let mut out = Vec::new();
        for doc in &docs {
            let mut o = ordered(doc);
            if has_literal_secret(doc) {
                self.secret_vars(&mut o, &token, &mut refs);
                hold_markers(&mut o, &token, &mut refs);
            }
            out.push(serde_saphyr::to_string(&o).unwrap_or_default());
        }
        let mut text = out
            .iter()
            .map(|d| d.trim_end().to_owned())
            .collect::<Vec<_>>()
            .join("\n---\n");
        // Each placeholder (a plain scalar) becomes its text, double-quoted
        // (JSON's escapes are YAML's; the heredoc turns markers into variables).
        for (i, held) in refs.iter().enumerate().rev() {
            let quoted = serde_json::to_string(held).unwrap_or_default();
            text = text.replace(&format!("{token}{i}z"), &quoted);
        }
        text.push('\n');
        text
    }

    /// Replaces the literal values of a Secret (as [`Ordered`]) by
    /// placeholders `{token}{i}z`, `refs[i]` holding the variable's marker.
    fn secret_vars(&mut self, o: &mut Ordered, token: &str, refs: &mut Vec<String>) {
        let Ordered::Map(m) = o else { return };
        let meta = |k: &str| match m.get("metadata") {
            Some(Ordered::Map(md)) => match md.get(k) {
                Some(Ordered::Str(s)) => Some(s.clone()),
                _ => None,
            },
            _ => None,
        };
        let object = match (meta("namespace"), meta("name")) {
            (Some(ns), Some(n)) => format!("{ns}/{n}"),
            (None, Some(n)) => n,
            _ => "secret".to_owned(),
        };
        let mut data = match m.shift_remove("data") {
            Some(Ordered::Map(d)) => d,
            Some(other) => {
                m.insert("data".to_owned(), other);
                return;
            }
            None => IndexMap::new(),
        };
        let mut placeholder = |name: String| {
            refs.push(var_marker(&name));
            Ordered::Str(format!("{token}{}z", refs.len() - 1))
        };
        for (key, v) in &mut data {
            let Ordered::Str(written) = v else { continue };
            if written.is_empty() || has_marker(written) {
                continue;
            }
            let text = unbase64(written)
                .and_then(|b| String::from_utf8(b).ok())
                .filter(|t| !t.contains('\0') && !has_marker(t));
            let var = self.var(&object, key, written, text.is_some());
            let name = var.b64.clone().unwrap_or_else(|| var.name.clone());
            *v = placeholder(name);
        }
        if let Some(Ordered::Map(sd)) = m.get_mut("stringData") {
            let keys: Vec<String> = sd.keys().cloned().collect();
            for key in keys {
                let Some(Ordered::Str(value)) = sd.get(&key) else {
                    continue;
                };
                if value.is_empty() || has_marker(value) {
                    continue;
                }
                // What the API server stores: `data`, in base64.
                let written = base64(value.as_bytes());
                let var = self.var(&object, &key, &written, true);
                let name = var.b64.clone().unwrap_or_default();
                sd.shift_remove(&key);
                data.insert(key, placeholder(name));
            }
            if sd.is_empty() {
                m.shift_remove("stringData");
            }
        }
        if !data.is_empty() {
            m.insert("data".to_owned(), Ordered::Map(data));
        }
    }

    /// "Ensure Environment"'s lines for the variables: an export the reader
    /// fills in, and the base64 the manifests use.
    #[must_use]
    pub fn exports(&self) -> String {
        let mut out = String::new();
        for v in &self.vars {
            let n = &v.name;
            let shown = |s: &str| {
                crate::language::untrusted::clean_line(&crate::language::limits::excerpt(s))
            };
            out.push_str(&format!(
                "# key {} of Secret {}{}\nexport {n}=\"${{{n}:?set {n} first}}\"\n",
                shown(&v.key),
                shown(&v.object),
                if v.b64.is_some() { "" } else { " (in base64)" }
            ));
            if let Some(b) = &v.b64 {
                out.push_str(&format!(
                    "{b}=$(printf '%s' \"${{{n}}}\" | base64 | tr -d '\\n')\n"
                ));
            }
        }
        out
    }
}

/// Replaces every string that holds a variable (an environment secret, a
/// capture) by a placeholder, so that it is written double-quoted.
fn hold_markers(o: &mut Ordered, token: &str, refs: &mut Vec<String>) {
    match o {
        Ordered::Str(s) if has_marker(s) => {
            refs.push(std::mem::take(s));
            *s = format!("{token}{}z", refs.len() - 1);
        }
        Ordered::Seq(items) => items.iter_mut().for_each(|x| hold_markers(x, token, refs)),
        Ordered::Map(m) => m.values_mut().for_each(|x| hold_markers(x, token, refs)),
        _ => {}
    }
}

/// Whether a document is a Secret with a literal value in `data` or `stringData`.
fn has_literal_secret(doc: &Node) -> bool {
    if doc.get("kind").map(|k| &k.value) != Some(&Value::Str("Secret".into())) {
        return false;
    }
    ["data", "stringData"]
        .iter()
        .any(|f| match doc.get(f).map(|n| &n.value) {
            Some(Value::Map(entries)) => entries
                .iter()
                .any(|(_, v)| matches!(&v.value, Value::Str(s) if !s.is_empty() && !has_marker(s))),
            _ => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_shell_safe_and_unique() {
        assert_eq!(shell_name("app-creds_db.password"), "APP_CREDS_DB_PASSWORD");
        assert_eq!(shell_name("пароль_ключ"), "SECRET");
        assert_eq!(shell_name("1a_b"), "SECRET_1A_B");
        assert_eq!(shell_name("bash_env"), "BASH_ENV_VALUE");
        assert_eq!(shell_name(&"x-".repeat(500)).len(), MAX_NAME - 1);
        let mut p = PageSecrets::new(["A_B".to_owned()]);
        let one = p.var("ns/a", "b", "v1", true).name.clone();
        let two = p.var("other/a", "b", "v1", true).name.clone();
        let again = p.var("ns/a", "b", "v1", true).name.clone();
        assert_eq!(
            (one.as_str(), two.as_str(), again.as_str()),
            ("A_B_2", "A_B_3", "A_B_2")
        );
    }
}
