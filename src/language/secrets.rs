//! The one redaction mechanism. A playbook's secrets are collected once,
//! when it is loaded: the values of the environment variables its templates
//! and substitutions refer to, the values of secret headers, and the data of
//! the Secret objects its manifests render. Every output that can carry them
//! (plan, docs, the run's terminal, JSON Lines and reports, error messages)
//! passes its text through [`Secrets::redact`] at the boundary.

use std::borrow::Cow;

use serde_json::Value;

/// What a secret is replaced with.
pub const REDACTED: &str = "<redacted>";

/// Secrets shorter than this are not redacted: they would hide ordinary
/// words and numbers all over the output (docs/secrets in README).
pub const MIN_SECRET_CHARS: usize = 4;

/// The secret strings of a playbook, longest first (so that a secret that
/// contains another is replaced whole).
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    values: Vec<String>,
}

impl Secrets {
    /// Adds a secret (and its base64 form, as a Secret's `data` holds it).
    pub fn add(&mut self, value: &str) {
        for v in [value.to_owned(), base64(value.as_bytes())] {
            let v = v.trim().to_owned();
            if v.chars().count() >= MIN_SECRET_CHARS && !self.values.contains(&v) {
                self.values.push(v);
            }
        }
        self.values
            .sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    }

    /// Adds every secret of `other`.
    pub fn extend(&mut self, other: &Secrets) {
        for v in &other.values {
            self.add(v);
        }
    }

    /// Adds the data of a Kubernetes object when it is a Secret: each value
    /// of `stringData`, and each value of `data` with its decoded text.
    pub fn add_object(&mut self, obj: &Value) {
        if obj["kind"].as_str() != Some("Secret") {
            return;
        }
        if let Some(m) = obj["stringData"].as_object() {
            for v in m.values().filter_map(Value::as_str) {
                self.add(v);
            }
        }
        if let Some(m) = obj["data"].as_object() {
            for v in m.values().filter_map(Value::as_str) {
                self.add(v);
                if let Some(text) = unbase64(v).and_then(|b| String::from_utf8(b).ok()) {
                    self.add(&text);
                }
            }
        }
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Whether `s` holds a secret.
    #[must_use]
    pub fn found_in(&self, s: &str) -> bool {
        self.values.iter().any(|v| s.contains(v.as_str()))
    }

    /// `s` with every secret replaced by [`REDACTED`].
    #[must_use]
    pub fn redact<'a>(&self, s: &'a str) -> Cow<'a, str> {
        self.redact_with(s, |_| REDACTED.to_owned())
    }

    /// `s` with every secret replaced by what `with` makes of it.
    #[must_use]
    pub fn redact_with<'a>(&self, s: &'a str, with: impl Fn(&str) -> String) -> Cow<'a, str> {
        if !self.found_in(s) {
            return Cow::Borrowed(s);
        }
        let mut out = s.to_owned();
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), &with(v));
            }
        }
        Cow::Owned(out)
    }

    /// Every string of a JSON value (keys too) redacted.
    pub fn redact_value(&self, v: &mut Value) {
        if self.is_empty() {
            return;
        }
        match v {
            Value::String(s) => {
                if let Cow::Owned(r) = self.redact(s) {
                    *s = r;
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| self.redact_value(x)),
            Value::Object(m) => {
                let old = std::mem::take(m);
                for (k, mut x) in old {
                    self.redact_value(&mut x);
                    m.insert(self.redact(&k).into_owned(), x);
                }
            }
            _ => {}
        }
    }
}

/// Header names whose values never appear in output.
#[must_use]
pub fn is_secret_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie" | "x-api-key"
    ) || n.contains("token")
        || n.contains("secret")
        || n.contains("password")
        || n.contains("api-key")
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (what a Secret's `data` holds).
#[must_use]
pub fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64 (padding optional); `None` when it is not base64.
#[must_use]
pub fn unbase64(s: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = s
        .trim_end_matches('=')
        .bytes()
        .map(|c| B64.iter().position(|&b| b == c).map(|p| p as u8))
        .collect::<Option<_>>()?;
    if digits.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let mut n = 0u32;
        for (i, d) in chunk.iter().enumerate() {
            n |= u32::from(*d) << (18 - 6 * i);
        }
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        for s in ["", "a", "ab", "abc", "abcd", "s3cr3t-token\n"] {
            assert_eq!(
                unbase64(&base64(s.as_bytes())).as_deref(),
                Some(s.as_bytes())
            );
        }
        assert_eq!(base64(b"hunter2"), "aHVudGVyMg==");
        assert_eq!(unbase64("a$b"), None);
    }

    #[test]
    fn secrets_are_redacted_longest_first() {
        let mut s = Secrets::default();
        s.add("hunter2");
        s.add("hunter2-and-more");
        s.add("ab");
        assert_eq!(
            s.redact("x hunter2-and-more y hunter2 ab"),
            "x <redacted> y <redacted> ab"
        );
        assert_eq!(s.redact("aHVudGVyMg=="), "<redacted>");
        let mut obj = serde_json::json!({"kind": "Secret", "data": {"k": "cGFzc3dvcmQx"}});
        s.add_object(&obj);
        assert_eq!(s.redact("password1"), "<redacted>");
        s.redact_value(&mut obj);
        assert_eq!(obj["data"]["k"], "<redacted>");
    }
}

/// Names of the environment variables a template text refers to
/// (`env.NAME`, `env["NAME"]`, `env['NAME']`).
#[must_use]
pub fn env_refs(text: &str) -> std::collections::BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = std::collections::BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("env") {
        let before = rest[..i].chars().next_back();
        let after = rest[i + 3..].trim_start();
        rest = &rest[i + 3..];
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
            continue;
        }
        let name = if let Some(a) = after.strip_prefix('.') {
            ident(a.trim_start())
        } else if let Some(a) = after.strip_prefix('[') {
            let a = a.trim_start();
            match a.chars().next() {
                Some(q @ ('"' | '\'')) => ident(&a[1..]).chars().take_while(|c| *c != q).collect(),
                _ => String::new(),
            }
        } else {
            String::new()
        };
        if !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

#[cfg(test)]
mod ref_tests {
    #[test]
    fn env_references_are_found() {
        let r = super::env_refs(
            "{{ env.TOKEN }} {{ env [ 'A_B' ] }} {{ env[\"C\"] }} {{ myenv.X }} {{ environment }}",
        );
        assert_eq!(r.into_iter().collect::<Vec<_>>(), ["A_B", "C", "TOKEN"]);
    }
}
